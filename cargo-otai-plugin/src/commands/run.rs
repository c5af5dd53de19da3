//! `cargo otai-plugin run`: one event (or one panel render) through the reference host.
//!
//! No request leaves the machine unless `--allow-network` is given: HTTP is answered
//! by the `--http-mock` rules, and a request no rule matches gets a network error (the
//! plugin sees status 0) whose message says that `--allow-network` was not given. With
//! `--allow-network`, unmatched requests go out for real, still only to the manifest's
//! `allowed_hosts`.
//!
//! Exit status: 0 when the delivery (or panel) ended `ok`, 1 otherwise; the report says
//! why.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use serde_json::{Value, json};

use crate::cargo::PackageOptions;
use crate::commands::build;
use crate::harness::{self, Transport};
use crate::term::{BOLD, DIM, GREEN, RED, Shell, YELLOW};
use crate::{CommonOptions, Exit};

/// Deliver one event to a plugin with the reference host (production limits, no
/// network unless allowed) and print what it did.
#[derive(Debug, Args)]
pub struct RunCommand {
    /// A `.wasm` file, or a plugin package of the workspace to build first
    /// [default: the current package, built].
    #[arg(value_name = "WASM|PACKAGE")]
    pub target: Option<String>,
    /// The event: a name (`ticket.created`, a realistic payload) or a JSON payload file.
    #[arg(
        long,
        value_name = "KIND|FILE",
        required_unless_present = "panel",
        conflicts_with = "panel"
    )]
    pub event: Option<String>,
    /// Call `render_panel` for this ticket id instead of delivering an event.
    #[arg(long, value_name = "TICKET_ID")]
    pub panel: Option<String>,
    /// The installation's config values (`.json` or `.toml`) [default: none].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// HTTP mocks: `[[http]]` entries as in fixtures (`.toml`, or the same as `.json`).
    #[arg(long, value_name = "FILE")]
    pub http_mock: Option<PathBuf>,
    /// Send requests no mock matches for real (only to the manifest's `allowed_hosts`).
    #[arg(long)]
    pub allow_network: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = RunFormat::Human)]
    pub format: RunFormat,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub package: PackageOptions,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub common: CommonOptions,
}

/// `run --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RunFormat {
    /// A summary for people.
    Human,
    /// The report as JSON (timings included).
    Json,
}

impl RunCommand {
    /// Runs the command.
    ///
    /// # Errors
    /// The module cannot be built or loaded, the event or config is invalid; [`Exit`]`(1)`
    /// when the plugin failed.
    pub fn exec(self) -> Result<()> {
        let shell = self.common.shell();
        let wasm_path = self.wasm_path(&shell)?;
        let wasm = std::fs::read(&wasm_path)
            .with_context(|| format!("failed to read `{}`", wasm_path.display()))?;
        crate::wasm::ensure_core_module(&wasm)
            .with_context(|| format!("`{}` cannot be run", wasm_path.display()))?;
        let config = match &self.config {
            Some(path) => harness::read_values(path)?,
            None => json!({}),
        };
        let mocks = match &self.http_mock {
            Some(path) => harness::read_mocks(path)?,
            None => Vec::new(),
        };
        let transport = if self.allow_network {
            Transport::with_network(mocks)
        } else {
            Transport::mocks(
                mocks,
                "real requests are not sent because `--allow-network` was not given",
            )
        };
        let (host, plugin) = harness::host_with(&wasm, transport, config)
            .with_context(|| format!("cannot run `{}`", wasm_path.display()))?;

        let (report, ok) = if let Some(ticket_id) = &self.panel {
            shell.status(
                "Rendering",
                format!("the panel of `{}` for ticket `{ticket_id}`", plugin.id()),
            );
            let report = host.render_panel(plugin.id(), ticket_id)?;
            let ok = report.outcome.is_ok() && report.url.is_some();
            (
                serde_json::to_value(&report).context("failed to encode the report")?,
                ok,
            )
        } else {
            let spec = self.event.as_deref().unwrap_or("ticket.created");
            let event = harness::event_from(spec, Path::new("."))?;
            shell.status(
                "Delivering",
                format!("`{}` to `{}`", event.kind(), plugin.id()),
            );
            let report = host.deliver_to(plugin.id(), &event)?;
            let ok = report.outcome.is_ok();
            (
                serde_json::to_value(&report).context("failed to encode the report")?,
                ok,
            )
        };
        let mut out = shell.out();
        match self.format {
            RunFormat::Json => {
                let text =
                    serde_json::to_string_pretty(&report).context("failed to encode the report")?;
                writeln!(out, "{text}")?;
            }
            RunFormat::Human => print_report(&mut out, &report)?,
        }
        if ok { Ok(()) } else { Err(Exit(1).into()) }
    }

    fn wasm_path(&self, shell: &Shell) -> Result<PathBuf> {
        if let Some(target) = &self.target {
            let path = PathBuf::from(target);
            if target.ends_with(".wasm") || path.is_file() {
                return Ok(path);
            }
        }
        let mut options = self.package.clone();
        if let Some(package) = &self.target {
            options.packages = vec![package.clone()];
        }
        let built = build::build(shell, &options, None)?;
        match built.as_slice() {
            [one] => Ok(one.wasm.clone().into_std_path_buf()),
            _ => anyhow::bail!("`run` runs one plugin; choose it with `-p`"),
        }
    }
}

/// Prints a delivery or panel report (as JSON) for people.
///
/// # Errors
/// Writing fails.
pub fn print_report(out: &mut impl Write, report: &Value) -> std::io::Result<()> {
    let outcome = &report["outcome"];
    let status = outcome["status"].as_str().unwrap_or("?");
    let style = if status == "ok" { GREEN } else { RED };
    write!(out, "{BOLD}outcome{BOLD:#}: {style}{status}{style:#}")?;
    if let Some(reason) = outcome["reason"].as_str() {
        write!(out, ": {reason}")?;
    }
    match outcome["message"].as_str() {
        // wasmtime puts the trap after a backtrace: lead with the trap, then the frames.
        Some(message) if message.contains('\n') => {
            let trap = message
                .rfind("wasm trap: ")
                .map_or(message.lines().next().unwrap_or(""), |at| &message[at..]);
            writeln!(out, ": {trap}")?;
            for line in message.lines() {
                writeln!(out, "    {DIM}{}{DIM:#}", line.trim_end())?;
            }
        }
        Some(message) => writeln!(out, ": {message}")?,
        None => writeln!(out)?,
    }
    if let Some(panic) = outcome["panic"].as_str() {
        writeln!(out, "  {RED}panic{RED:#}: {panic}")?;
    }
    if let Some(url) = report["url"].as_str() {
        writeln!(out, "{BOLD}panel url{BOLD:#}: {url}")?;
    }
    if let Some(refused) = report["refused"].as_str() {
        writeln!(out, "{BOLD}panel url refused{BOLD:#}: {refused}")?;
    }

    let logs = report["logs"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    writeln!(out, "{BOLD}logs{BOLD:#} ({})", logs.len())?;
    for line in logs {
        let level = line["level"].as_str().unwrap_or("?");
        let style = match level {
            "error" => RED,
            "warn" => YELLOW,
            _ => DIM,
        };
        writeln!(
            out,
            "  {style}{level:<5}{style:#} {}",
            line["message"].as_str().unwrap_or("")
        )?;
    }

    let http = report["http"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    writeln!(out, "{BOLD}http{BOLD:#} ({})", http.len())?;
    for exchange in http {
        let request = &exchange["request"];
        let status = exchange["status"].as_u64().unwrap_or(0);
        write!(
            out,
            "  {} {} -> {status}",
            request["method"].as_str().unwrap_or("?"),
            request["url"].as_str().unwrap_or("?")
        )?;
        if exchange["blocked"].as_bool() == Some(true) {
            write!(out, " {RED}(blocked: host not in allowed_hosts){RED:#}")?;
        }
        if let Some(message) = exchange["error"]["message"].as_str() {
            write!(
                out,
                " ({}: {message})",
                exchange["error"]["kind"].as_str().unwrap_or("error")
            )?;
        }
        writeln!(out)?;
        if let Some(body) = request["body"].as_str() {
            writeln!(out, "    {DIM}body:{DIM:#} {body}")?;
        }
    }

    if let Some(replies) = report["replies"].as_array() {
        writeln!(out, "{BOLD}replies{BOLD:#} ({})", replies.len())?;
        for reply in replies {
            let kind = if reply["is_internal"].as_bool() == Some(true) {
                "internal note"
            } else {
                "reply"
            };
            writeln!(
                out,
                "  {kind} on {}: {}",
                reply["ticket_id"].as_str().unwrap_or("?"),
                reply["body"].as_str().unwrap_or("")
            )?;
        }
    }
    if let Some(fields) = report["custom_fields"].as_array() {
        writeln!(out, "{BOLD}custom fields{BOLD:#} ({})", fields.len())?;
        for field in fields {
            writeln!(
                out,
                "  {} on {} = {}",
                field["key"].as_str().unwrap_or("?"),
                field["ticket_id"].as_str().unwrap_or("?"),
                field["value"].as_str().unwrap_or("")
            )?;
        }
    }
    let timings = &report["timings"];
    if let Some(total) = timings["total_us"].as_u64() {
        writeln!(
            out,
            "{DIM}time: {:.2} ms (instantiate {:.2} ms, call {:.2} ms){DIM:#}",
            total as f64 / 1000.0,
            timings["instantiate_us"].as_u64().unwrap_or(0) as f64 / 1000.0,
            timings["call_us"].as_u64().unwrap_or(0) as f64 / 1000.0
        )?;
    }
    Ok(())
}
