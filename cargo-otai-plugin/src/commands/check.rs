//! `cargo otai-plugin check <wasm>`: what a module is and every ABI problem in it.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use otai_plugin_abi::wasm as abi;
use serde::Serialize;

use otai_plugin_abi::module::{
    AcceptOptions, Acceptance, Export, Import, ModuleInfo, Problem, SectionSize, Severity,
    accept_module,
};

use crate::failure::or_json;
use crate::term::{BOLD, DIM, GREEN, RED, YELLOW, human_size};
use crate::{CommonOptions, Exit};

/// Inspect a `.wasm` built by any toolchain: its manifest, imports, exports, ABI marker
/// and section sizes, and every problem a host would refuse it for. Exits with 1 when
/// there is an error (warnings alone exit with 0).
#[derive(Debug, Args)]
pub struct CheckCommand {
    /// The module to check.
    #[arg(value_name = "WASM")]
    pub wasm: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = CheckFormat::Human)]
    pub format: CheckFormat,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub common: CommonOptions,
}

/// `check --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    /// A listing for people.
    Human,
    /// One JSON object on stdout.
    Json,
}

#[derive(Serialize)]
struct JsonReport<'a> {
    file: String,
    size: u64,
    ok: bool,
    errors: usize,
    warnings: usize,
    manifest: Option<serde_json::Value>,
    abi_marker: Option<&'a otai_plugin_abi::marker::AbiMarker>,
    imports: &'a [Import],
    exports: &'a [Export],
    sections: &'a [SectionSize],
    problems: &'a [Problem],
}

impl CheckCommand {
    /// Runs the command.
    ///
    /// # Errors
    /// The file cannot be read or is not a core module; [`Exit`]`(1)` when the lint
    /// found errors.
    pub fn exec(self) -> Result<()> {
        let shell = self.common.shell();
        let json = self.format == CheckFormat::Json;
        let read = std::fs::read(&self.wasm)
            .with_context(|| format!("failed to read `{}`", self.wasm.display()));
        let bytes = or_json(json, &shell, read)?;
        let parsed = ModuleInfo::parse(&bytes)
            .with_context(|| format!("`{}` cannot be checked", self.wasm.display()));
        let info = or_json(json, &shell, parsed)?;
        // The help desk's default settings: what the reference host's `load` decides.
        let lint = accept_module(&info, &AcceptOptions::default());
        match self.format {
            CheckFormat::Json => {
                let report = JsonReport {
                    file: self.wasm.display().to_string(),
                    size: info.size(),
                    ok: !lint.has_errors(),
                    errors: lint.errors().count(),
                    warnings: lint.warnings().count(),
                    manifest: lint
                        .manifest
                        .as_ref()
                        .and_then(|m| serde_json::to_value(m).ok()),
                    abi_marker: lint.marker.as_ref(),
                    imports: &info.imports,
                    exports: &info.exports,
                    sections: &info.sections,
                    problems: &lint.problems,
                };
                let json =
                    serde_json::to_string_pretty(&report).context("failed to encode the report")?;
                writeln!(shell.out(), "{json}").context("failed to write to stdout")?;
            }
            CheckFormat::Human => {
                print_human(
                    &mut shell.out(),
                    &self.wasm.display().to_string(),
                    &info,
                    &lint,
                )
                .context("failed to write to stdout")?;
            }
        }
        if lint.has_errors() {
            Err(Exit(1).into())
        } else {
            Ok(())
        }
    }
}

fn print_human(
    out: &mut impl Write,
    file: &str,
    info: &ModuleInfo<'_>,
    lint: &Acceptance,
) -> std::io::Result<()> {
    writeln!(
        out,
        "{BOLD}{file}{BOLD:#}: core WebAssembly module, {} ({} bytes)",
        human_size(info.size()),
        info.size()
    )?;

    writeln!(out, "\n{BOLD}Manifest{BOLD:#} ({})", abi::MANIFEST_SECTION)?;
    match &lint.manifest {
        Some(manifest) => {
            let pretty = serde_json::to_string_pretty(manifest).unwrap_or_default();
            for line in pretty.lines() {
                writeln!(out, "  {line}")?;
            }
        }
        None => writeln!(out, "  {DIM}(none readable; see the problems below){DIM:#}")?,
    }

    write!(
        out,
        "\n{BOLD}ABI marker{BOLD:#} ({}): ",
        abi::ABI_MARKER_SECTION
    )?;
    match &lint.marker {
        Some(m) => writeln!(
            out,
            "ABI {}{}",
            m.abi,
            m.sdk
                .as_ref()
                .map(|s| format!(", built by {s}"))
                .unwrap_or_default()
        )?,
        None if info.custom(abi::ABI_MARKER_SECTION).is_empty() => {
            writeln!(out, "none (ABI 1 assumed)")?
        }
        None => writeln!(out, "unreadable")?,
    }

    writeln!(out, "\n{BOLD}Imports{BOLD:#} ({})", info.imports.len())?;
    let width = info
        .imports
        .iter()
        .map(|i| i.module.len() + i.name.len() + 1)
        .max()
        .unwrap_or(0);
    for import in &info.imports {
        let name = format!("{}.{}", import.module, import.name);
        writeln!(out, "  {name:width$}  {}", import.item.describe())?;
    }

    writeln!(out, "\n{BOLD}Exports{BOLD:#} ({})", info.exports.len())?;
    let width = info.exports.iter().map(|e| e.name.len()).max().unwrap_or(0);
    for export in &info.exports {
        writeln!(out, "  {:width$}  {}", export.name, export.item.describe())?;
    }

    writeln!(out, "\n{BOLD}Sections{BOLD:#}")?;
    let width = info
        .sections
        .iter()
        .map(|s| s.name.len())
        .max()
        .unwrap_or(0);
    for section in &info.sections {
        writeln!(
            out,
            "  {:width$}  {:>10}",
            section.name,
            human_size(section.bytes)
        )?;
    }

    let errors = lint.errors().count();
    let warnings = lint.warnings().count();
    writeln!(out, "\n{BOLD}Problems{BOLD:#}")?;
    if lint.problems.is_empty() {
        writeln!(out, "  {GREEN}none{GREEN:#}: the module follows ABI v1")?;
    }
    // The kind is the name docs/ABI.md (section 10) explains it under.
    for problem in &lint.problems {
        let kind = problem.kind;
        match problem.severity {
            Severity::Error => writeln!(out, "  {RED}error[{kind}]{RED:#}: {problem}")?,
            Severity::Warning => writeln!(out, "  {YELLOW}warning[{kind}]{YELLOW:#}: {problem}")?,
        }
    }
    writeln!(
        out,
        "\n{errors} error{}, {warnings} warning{}",
        plural(errors),
        plural(warnings)
    )
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
