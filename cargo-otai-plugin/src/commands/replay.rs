//! `cargo otai-plugin replay FIXTURE|desk:PLUGIN/N`: a recorded delivery run again
//! against the current build (or `--against` a module), with what changed.
//!
//! A recorded delivery is a fixture, written by `desk log --as-fixture` or by hand: its
//! `[expect]` says what the plugin did then. The run is `test`'s (the same host, mocks
//! and checks), so what changed is said as `test` says a failed expectation, but a
//! changed text (a request's body, a reply, a log line) as a line diff; `--accept`
//! writes what the plugin does now as the fixture's `[expect]`.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;
use otai_plugin_desk::{Desk, DeskOptions};
use otai_plugin_host::DeliveryReport;

use crate::commands::build;
use crate::commands::test::run_fixture;
use crate::expect::Style;
use crate::fixture;
use crate::term::{BOLD, GREEN, RED, Shell};
use crate::{CommonOptions, Exit, PackageOptions};

/// Run a recorded delivery against the current build: a fixture file, or a delivery of
/// the desk's log (`desk:PLUGIN/N`, N its `#seq`), written as `desk log --as-fixture`
/// writes it. Prints what changed (outcome, replies, custom fields, requests, log
/// lines) and exits with 1 when anything did.
#[derive(Debug, Args)]
pub struct ReplayCommand {
    /// A fixture file, or `desk:PLUGIN/N`.
    #[arg(value_name = "FIXTURE|desk:PLUGIN/N")]
    pub recorded: String,
    /// Run this module instead of building the package.
    #[arg(long, value_name = "WASM")]
    pub against: Option<PathBuf>,
    /// Write what the plugin does now as the fixture's `[expect]` (a fixture file only).
    #[arg(long)]
    pub accept: bool,
    /// For `desk:`: the desk's data directory [default: `target/otai-desk` of the
    /// package in the current directory or a parent].
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub package: PackageOptions,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub common: CommonOptions,
}

impl ReplayCommand {
    /// Runs the command.
    ///
    /// # Errors
    /// The fixture or the desk's delivery cannot be read, the build fails or the module
    /// is refused; [`Exit`]`(1)` when the delivery did not do what was recorded.
    pub fn exec(self) -> Result<()> {
        let shell = self.common.shell();
        // A desk's delivery is written to a file of its own, read as any fixture.
        let from_desk = tempfile::tempdir().context("failed to create a temporary directory")?;
        let (loaded, file) = match self.recorded.strip_prefix("desk:") {
            Some(which) => {
                if self.accept {
                    bail!(
                        "`--accept` rewrites a fixture file; write the desk's delivery as one \
                         first (`desk log PLUGIN --as-fixture N -o FILE`)"
                    );
                }
                let (plugin, seq) = parse_desk(which)?;
                let dir = match &self.data_dir {
                    Some(dir) => dir.clone(),
                    None => crate::commands::desk::default_data_dir()?,
                };
                let desk = Desk::open_with(&dir, DeskOptions::default())?;
                let text = desk.fixture(plugin, Some(seq))?;
                let path = from_desk.path().join(format!("desk-{seq}.toml"));
                std::fs::write(&path, text)
                    .with_context(|| format!("failed to write `{}`", path.display()))?;
                (fixture::load(&path)?, None)
            }
            None => {
                let path = PathBuf::from(&self.recorded);
                (fixture::load(&path)?, Some(path))
            }
        };
        let wasm = match &self.against {
            Some(path) => std::fs::read(path)
                .with_context(|| format!("failed to read `{}`", path.display()))?,
            None => {
                let plan = build::plan(&shell, &self.package)?;
                let built =
                    build::build_planned(&shell, &self.package, plan, build::Output::default())?;
                let Some(plugin) = built.first() else {
                    bail!("no plugin package to build here; give the module with `--against`");
                };
                std::fs::read(&plugin.wasm)
                    .with_context(|| format!("failed to read `{}`", plugin.wasm))?
            }
        };
        // A changed text as a line diff: a recorded body or reply is often long, and
        // which line changed is what the author looks for.
        let run = run_fixture(&mut None, &wasm, &loaded, false, false, Style::Diff)?;
        for warning in &run.warnings {
            shell.warn(warning);
        }
        let mut out = shell.out();
        if run.failures.is_empty() {
            writeln!(out, "replay {} ... {GREEN}the same{GREEN:#}", self.recorded)?;
            return Ok(());
        }
        writeln!(out, "replay {} ... {RED}changed{RED:#}", self.recorded)?;
        writeln!(out, "\n{BOLD}what changed:{BOLD:#}")?;
        for failure in &run.failures {
            writeln!(out, "{}", failure.trim_end())?;
        }
        if self.accept
            && let Some(path) = &file
        {
            accept(&shell, path, &run.snapshot)?;
            return Ok(());
        }
        Err(Exit(1).into())
    }
}

/// `PLUGIN/N` of `desk:PLUGIN/N`.
fn parse_desk(which: &str) -> Result<(&str, i64)> {
    let parsed = which
        .rsplit_once('/')
        .and_then(|(plugin, n)| Some((plugin, n.trim_start_matches('#').parse().ok()?)));
    match parsed {
        Some((plugin, seq)) if !plugin.is_empty() => Ok((plugin, seq)),
        _ => bail!(
            "`desk:{which}`: expected `desk:PLUGIN/N`, N a delivery's number in `desk log PLUGIN`"
        ),
    }
}

/// Replaces the fixture's `[expect]` (the last section of the file, with its
/// `[expect.…]` tables) by what the delivery did now.
fn accept(shell: &Shell, path: &Path, snapshot: &str) -> Result<()> {
    let report: DeliveryReport = serde_json::from_str(snapshot)
        .context("`--accept` writes the `[expect]` of an event's delivery, not of a panel")?;
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("failed to read `{}`", path.display()))?;
    let mut start = None;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let header = line.trim();
        if header == "[expect]" {
            start = Some(offset);
        } else if start.is_some()
            && header.starts_with('[')
            && !header.starts_with("[expect.")
            && !header.starts_with("[[expect.")
        {
            bail!(
                "{}: `--accept` replaces `[expect]` when it is the last section of the file, and \
                 `{header}` follows it",
                path.display()
            );
        }
        offset += line.len();
    }
    let kept = match start {
        Some(start) => &text[..start],
        None if text.lines().any(|l| {
            l.trim_start().starts_with("expect")
                || l.trim_start().starts_with("[expect.")
                || l.trim_start().starts_with("[[expect.")
        }) =>
        {
            bail!(
                "{}: `--accept` replaces an `[expect]` table written as `[expect]`; this one is \
             written otherwise",
                path.display()
            )
        }
        None => text.as_str(),
    };
    let mut accepted = kept.trim_end().to_owned();
    accepted.push_str("\n\n");
    accepted.push_str(&otai_plugin_desk::fixture_export::expect_toml(&report));
    // Written only if it reads back as a fixture.
    let check = path.with_extension("toml.accepting");
    std::fs::write(&check, &accepted)
        .with_context(|| format!("failed to write `{}`", check.display()))?;
    let parsed = fixture::load(&check);
    let _ = std::fs::remove_file(&check);
    parsed.context("the accepted fixture does not read back (a bug: please report it)")?;
    std::fs::write(path, accepted)
        .with_context(|| format!("failed to write `{}`", path.display()))?;
    shell.note(format!(
        "accepted: `{}`'s `[expect]` is what the plugin does now",
        path.display()
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_desk_delivery_is_plugin_slash_number() {
        assert_eq!(
            parse_desk("com.example.a/12").unwrap(),
            ("com.example.a", 12)
        );
        assert_eq!(
            parse_desk("com.example.a/#3").unwrap(),
            ("com.example.a", 3)
        );
        for wrong in ["com.example.a", "com.example.a/x", "/3"] {
            let err = parse_desk(wrong).unwrap_err().to_string();
            assert!(err.contains("expected `desk:PLUGIN/N`"), "{err}");
        }
    }
}
