//! `cargo otai-plugin run`: one event (or one panel render) through the reference host.
//!
//! No request leaves the machine unless `--allow-network` is given: HTTP is answered
//! by the `--http-mock` rules, and a request no rule matches gets a network error (the
//! plugin sees status 0) whose message says that `--allow-network` was not given. With
//! `--allow-network`, unmatched requests go out for real, still only to the manifest's
//! `allowed_hosts`, and, as on the help desk, not to a name that resolves only to
//! internal addresses (loopback, private networks, …) unless `--allow-private-network`
//! is given too.
//!
//! `--fixture NAME` takes the event (or panel), the config and the mocks from one of the
//! package's `tests/fixtures/NAME.toml`, so that a plugin with required config runs
//! without writing them again; `--event`, `--panel`, `--config` and `--http-mock` override
//! its parts. Its expectations are for `cargo otai-plugin test`, not checked here.
//!
//! The host counts the fuel of the run (`HostBuilder::count_fuel`): the report prints
//! the cost beside the time, and `--format json` has it as `fuel`.
//!
//! Exit status: 0 when the delivery (or panel) ended `ok`, 1 otherwise; the report says
//! why.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use otai_plugin_abi::calls::HostErrorKind;
use otai_plugin_abi::status::LogLevel;
use otai_plugin_host::{InstallError, Outcome};
use serde_json::json;

use crate::cargo::PackageOptions;
use crate::commands::build;
use crate::event;
use crate::failure::or_json;
use crate::fixture::{self, LoadedFixture, OutcomeName};
use crate::flamegraph;
use crate::harness::{self, Report};
use crate::mock;
use crate::term::{BOLD, DIM, GREEN, RED, Shell, Verbosity, YELLOW};
use crate::values;
use crate::{CommonOptions, Exit};

/// Deliver one event to a plugin with the reference host (production limits, no
/// network unless allowed) and print what it did.
#[derive(Debug, Args)]
pub struct RunCommand {
    /// A `.wasm` file, or a plugin package of the workspace to build first
    /// [default: the current package, built].
    #[arg(value_name = "WASM|PACKAGE")]
    pub target: Option<String>,
    /// The event: a name (`ticket.created`, a realistic payload) or a JSON payload file,
    /// which may give only some fields (`event` at least; the rest come from the sample).
    #[arg(
        long,
        value_name = "KIND|FILE",
        required_unless_present_any = ["panel", "fixture"],
        conflicts_with = "panel"
    )]
    pub event: Option<String>,
    /// Take the event (or panel), config and HTTP mocks from a fixture: the package's
    /// `tests/fixtures/NAME.toml`, or a fixture file.
    #[arg(long, value_name = "NAME|FILE")]
    pub fixture: Option<String>,
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
    /// With `--allow-network`, let requests reach internal addresses too: loopback,
    /// private networks, link-local, … (for a server on this machine or network).
    /// Without it, a host name that resolves only to such addresses is refused with
    /// `address_not_allowed`, as on the help desk; an IP address written in the URL (and
    /// in `allowed_hosts`) is reached either way.
    #[arg(long, requires = "allow_network")]
    pub allow_private_network: bool,
    /// Record where the delivery's time went: an SVG flame graph to FILE, and beside it
    /// (FILE with `.json`) the profile for the Firefox Profiler. The plugin runs slower
    /// while recorded; its fuel is the same.
    #[arg(long, value_name = "FILE.svg")]
    pub flamegraph: Option<PathBuf>,
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
    /// The report as JSON (timings and fuel included).
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
        let report = or_json(self.format == RunFormat::Json, &shell, self.report(&shell))?;
        if let Some(svg) = &self.flamegraph {
            let written = report.profile().map(|profile| {
                let title = format!("{} ({})", report.title(), or_outcome(&report));
                flamegraph::write(&shell, profile, svg, &title)
            });
            let written = written
                .unwrap_or_else(|| Err(anyhow::anyhow!("the host recorded no profile of the run")));
            or_json(self.format == RunFormat::Json, &shell, written)?;
        }
        let mut out = shell.out();
        match self.format {
            RunFormat::Json => {
                let text = serde_json::to_string_pretty(&report.to_json()?)
                    .context("failed to encode the report")?;
                writeln!(out, "{text}")?;
            }
            RunFormat::Human => {
                print_report(&mut out, &report, shell.verbosity() == Verbosity::Verbose)?
            }
        }
        if report.succeeded() {
            Ok(())
        } else {
            Err(Exit(1).into())
        }
    }

    /// Builds or reads the module, runs it, and returns what it did.
    fn report(&self, shell: &Shell) -> Result<Report> {
        let (wasm_path, package_root) = self.wasm_path(shell)?;
        let wasm = std::fs::read(&wasm_path)
            .with_context(|| format!("failed to read `{}`", wasm_path.display()))?;
        otai_plugin_abi::module::ensure_wasm(&wasm)
            .with_context(|| format!("`{}` cannot be run", wasm_path.display()))?;
        let fixtures_dir = package_root.unwrap_or_default().join("tests/fixtures");
        let fixture = match &self.fixture {
            Some(spec) => Some(find_fixture(spec, &fixtures_dir)?),
            None => None,
        };
        let config = match (&self.config, &fixture) {
            (Some(path), _) => values::read_values(path)?,
            (None, Some(fixture)) => fixture.config(),
            (None, None) => json!({}),
        };
        let mocks = match (&self.http_mock, &fixture) {
            (Some(path), _) => mock::read_mocks(path)?,
            (None, Some(fixture)) => fixture.fixture.http.clone(),
            (None, None) => Vec::new(),
        };
        let transport = harness::transport(
            &mocks,
            "no `--http-mock` (or `--fixture`) rule matches it, and real requests are not \
             sent because `--allow-network` was not given",
            self.allow_network
                .then(|| harness::real_network(shell, self.allow_private_network)),
        );
        let given_config = self.config.is_some() || fixture.is_some();
        let profile = self.flamegraph.is_some();
        let (host, plugin) = harness::host_with(&wasm, transport, config, profile)
            .map_err(|err| config_hint(err, given_config, &fixtures_dir))
            .with_context(|| format!("cannot run `{}`", wasm_path.display()))?;

        let panel = match (&self.panel, &fixture) {
            (Some(ticket_id), _) => Some(ticket_id.clone()),
            (None, Some(f)) if self.event.is_none() => {
                f.fixture.panel.as_ref().map(|p| p.ticket_id.clone())
            }
            _ => None,
        };
        let report = if let Some(ticket_id) = panel {
            shell.status(
                "Rendering",
                format!("the panel of `{}` for ticket `{ticket_id}`", plugin.id()),
            );
            Report::Panel(host.render_panel(plugin.id(), &ticket_id)?)
        } else {
            let event = match (&self.event, &fixture) {
                (Some(spec), _) => event::event_from(spec, Path::new("."))?,
                (None, Some(f)) => f.event()?.context("the fixture has no `[event]`")?,
                (None, None) => event::event_from_kind("ticket.created")?,
            };
            shell.status(
                "Delivering",
                format!("`{}` to `{}`", event.kind(), plugin.id()),
            );
            Report::Delivery(host.deliver_to(plugin.id(), &event)?)
        };
        Ok(report)
    }

    /// The module to run and, when it was built from a package, the package's folder.
    fn wasm_path(&self, shell: &Shell) -> Result<(PathBuf, Option<PathBuf>)> {
        if let Some(target) = &self.target {
            let path = PathBuf::from(target);
            if target.ends_with(".wasm") || path.is_file() {
                return Ok((path, None));
            }
        }
        let mut options = self.package.clone();
        if let Some(package) = &self.target {
            options.packages = vec![package.clone()];
        }
        let built = build::build(shell, &options, build::Output::default())?;
        match built.as_slice() {
            [one] => Ok((
                one.wasm.clone().into_std_path_buf(),
                Some(one.package.root().to_path_buf().into_std_path_buf()),
            )),
            _ => anyhow::bail!("`run` runs one plugin; choose it with `-p`"),
        }
    }
}

/// `ok`, `trapped`, …: the outcome in a flame graph's title.
fn or_outcome(report: &Report) -> &'static str {
    OutcomeName::of(report.outcome()).as_str()
}

/// The fixture `spec` names: a file, or `NAME` in the package's `tests/fixtures`.
fn find_fixture(spec: &str, dir: &Path) -> Result<LoadedFixture> {
    let as_file = Path::new(spec);
    if spec.ends_with(".toml") || as_file.is_file() {
        return fixture::load(as_file);
    }
    let path = dir.join(format!("{spec}.toml"));
    if !path.is_file() {
        anyhow::bail!(
            "no fixture `{spec}`: `{}` does not exist{}",
            path.display(),
            fixture_list(dir)
        );
    }
    fixture::load(&path)
}

/// `; the fixtures are a, b` (or nothing when there are none).
fn fixture_list(dir: &Path) -> String {
    let names: Vec<String> = fixture::discover(dir)
        .unwrap_or_default()
        .iter()
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect();
    if names.is_empty() {
        String::new()
    } else {
        format!("; the fixtures are {}", names.join(", "))
    }
}

/// Says how to give config values when the plugin needs some and none were given.
fn config_hint(err: anyhow::Error, given: bool, fixtures_dir: &Path) -> anyhow::Error {
    let refused_config = err.chain().any(|cause| {
        matches!(
            cause.downcast_ref(),
            Some(InstallError::InvalidConfig { .. })
        )
    });
    if given || !refused_config {
        return err;
    }
    let fixtures = fixture_list(fixtures_dir);
    err.context(format!(
        "the plugin needs config values: give them with `--config FILE` (JSON or TOML), or \
         take a fixture's with `--fixture NAME`{fixtures}"
    ))
}

/// Prints a delivery or panel report for people; the wasm backtrace of a trap only when
/// `verbose`.
fn print_report(out: &mut impl Write, report: &Report, verbose: bool) -> std::io::Result<()> {
    let outcome = report.outcome();
    let status = OutcomeName::of(outcome).as_str();
    let style = if outcome.is_ok() { GREEN } else { RED };
    write!(out, "{BOLD}outcome{BOLD:#}: {style}{status}{style:#}")?;
    match outcome {
        Outcome::Rejected { reason } => writeln!(out, ": {reason}")?,
        // The plugin's own words first; the trap under them.
        Outcome::Trapped {
            message,
            reason,
            backtrace,
        } => {
            match reason {
                Some(reason) => {
                    writeln!(out, ": {reason}")?;
                    writeln!(out, "  {DIM}trap: {message}{DIM:#}")?;
                }
                None => writeln!(out, ": {message}")?,
            }
            match backtrace {
                Some(frames) if verbose => {
                    writeln!(out, "  {DIM}wasm backtrace:{DIM:#}")?;
                    for frame in frames.lines() {
                        writeln!(out, "    {DIM}{frame}{DIM:#}")?;
                    }
                }
                Some(_) => writeln!(out, "  {DIM}(run with -v to see the wasm backtrace){DIM:#}")?,
                None => {}
            }
        }
        Outcome::Ok | Outcome::TimedOut => writeln!(out)?,
    }
    if let Report::Panel(panel) = report {
        if let Some(url) = &panel.url {
            writeln!(out, "{BOLD}panel url{BOLD:#}: {url}")?;
        }
        if let Some(refused) = &panel.refused {
            writeln!(out, "{BOLD}panel url refused{BOLD:#}: {refused}")?;
        }
        if panel.outcome.is_ok() && panel.url.is_none() && panel.refused.is_none() {
            writeln!(
                out,
                "{BOLD}panel{BOLD:#}: none for this ticket (render_panel returned (0, 0))"
            )?;
        }
    }

    // Beside the outcome, whatever it is: a plugin may end `ok` on a network error.
    for warning in harness::unmatched_warnings(report.http()) {
        writeln!(out, "{YELLOW}warning{YELLOW:#}: {warning}")?;
    }

    let logs = report.logs();
    writeln!(out, "{BOLD}logs{BOLD:#} ({})", logs.len())?;
    for line in logs {
        let style = match line.level {
            LogLevel::Error => RED,
            LogLevel::Warn => YELLOW,
            LogLevel::Debug | LogLevel::Info => DIM,
        };
        let level = line.level.as_str();
        writeln!(out, "  {style}{level:<5}{style:#} {}", line.message)?;
    }

    let http = report.http();
    writeln!(out, "{BOLD}http{BOLD:#} ({})", http.len())?;
    for exchange in http {
        let request = &exchange.request;
        write!(
            out,
            "  {} {} -> {}",
            request.method, request.url, exchange.status
        )?;
        if exchange.blocked {
            write!(out, " {RED}(blocked: host not in allowed_hosts){RED:#}")?;
        }
        if let Some(error) = &exchange.error {
            write!(out, " ({}: {})", error.kind.as_str(), error.message)?;
        }
        writeln!(out)?;
        if exchange
            .error
            .as_ref()
            .is_some_and(|e| e.kind == HostErrorKind::AddressNotAllowed)
        {
            writeln!(
                out,
                "    {DIM}hint:{DIM:#} `--allow-private-network` lets `run` reach internal \
                 addresses, for a server on this machine or network"
            )?;
        }
        if let Some(body) = &request.body {
            writeln!(out, "    {DIM}body:{DIM:#} {body}")?;
        }
    }

    if let Report::Delivery(delivery) = report {
        writeln!(out, "{BOLD}replies{BOLD:#} ({})", delivery.replies.len())?;
        for reply in &delivery.replies {
            let kind = if reply.is_internal {
                "internal note"
            } else {
                "reply"
            };
            writeln!(out, "  {kind} on {}: {}", reply.ticket_id, reply.body)?;
        }
        writeln!(
            out,
            "{BOLD}custom fields{BOLD:#} ({})",
            delivery.custom_fields.len()
        )?;
        for field in &delivery.custom_fields {
            writeln!(
                out,
                "  {} on {} = {}",
                field.key, field.ticket_id, field.value
            )?;
        }
    }
    let timings = match report {
        Report::Delivery(r) => r.timings,
        Report::Panel(r) => r.timings,
    };
    // The cost beside the time: the one a machine's load changes, the other not.
    let cost = report
        .fuel()
        .map(|fuel| format!(", cost: {} fuel", thousands(fuel)))
        .unwrap_or_default();
    writeln!(
        out,
        "{DIM}time: {:.2} ms (instantiate {:.2} ms, call {:.2} ms){cost}{DIM:#}",
        timings.total_us as f64 / 1000.0,
        timings.instantiate_us as f64 / 1000.0,
        timings.call_us as f64 / 1000.0
    )
}

/// `48,213`: a count for people, grouped in thousands as `cargo bench` prints them.
pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::thousands;

    #[test]
    fn counts_are_grouped_in_thousands() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(48_213), "48,213");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
