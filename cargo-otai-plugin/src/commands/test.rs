//! `cargo otai-plugin test`: build, run each declarative fixture against the reference
//! host, compare snapshots, then run the crate's own `cargo test`.
//!
//! Each fixture gets a fresh host (so custom fields set by one fixture never leak into
//! the next) with the help desk's production policy: 5 s deadline, 64 MiB memory,
//! `allowed_hosts` enforced, no network (requests are answered by the fixture's mocks
//! or fail with a network error naming the request).
//!
//! Cost: the host counts each fixture's fuel (`HostBuilder::count_fuel`), printed in a
//! table after the package's fixtures and in `--format json`; a fixture's
//! `[expect] max_fuel` fails it when it consumes more, and `--bless` rewrites that budget
//! to the current cost plus `budget::MARGIN_PERCENT` (with `--add-budgets`, also where
//! there is none).
//!
//! `--flamegraph DIR`: the fixtures' host records a profile of each run
//! (`HostBuilder::profile`), written as `DIR/FIXTURE.svg` and `DIR/FIXTURE.json`.
//!
//! Snapshots: `tests/snapshots/<fixture>.json` holds the fixture's full report without
//! `timings` and `fuel`. A fixture with a snapshot fails when the report differs (a unified diff
//! shows how); `--bless` writes or overwrites the snapshot of every fixture run. A
//! fixture without a snapshot is checked against its `[expect]` only.
//!
//! The crate's own tests run natively with `OTAI_PLUGIN_WASM` set to the built module,
//! so integration tests can load it with `otai_plugin_host::testing`.
//!
//! The module tested is the selected profile's (debug by default, as `cargo test`'s),
//! and the status line says which. A release build that is newer than that module was
//! before this run (`build --release` since the last `test`) gets a note: what ships is
//! the release build, and `test --release` tests it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use otai_plugin_host::http::MockHttp;
use otai_plugin_host::{Host, Plugin};

use crate::cargo::{self, PackageOptions};
use crate::commands::build::{self, BuiltPlugin, Plan};
use crate::commands::run::thousands;
use crate::failure::or_json;
use crate::fixture::{self, LoadedFixture, budget};
use crate::flamegraph;
use crate::harness::{self, Report};
use crate::results::{self, Status, Summary, TestKind, TestResult};
use crate::term::{BOLD, DIM, RED, Shell};
use crate::{CommonOptions, Exit};

/// Build the plugin, run its fixtures (`tests/fixtures/*.toml`) with the reference
/// host, compare snapshots, and run its `cargo test`. Ends with `N passed, N failed`.
#[derive(Debug, Args)]
pub struct TestCommand {
    /// Run only tests whose name contains this: a fixture is `fixtures/NAME` (so
    /// `fixtures/` selects them all), a `cargo test` test has libtest's name
    /// (`tests::formats_message`), as the `test NAME ... ok` lines print them.
    #[arg(value_name = "FILTER")]
    pub filter: Option<String>,
    /// Write (or accept changed) snapshots in `tests/snapshots/`, and record the current
    /// cost (plus 10%) as the `max_fuel` of the fixtures that have one.
    #[arg(long)]
    pub bless: bool,
    /// With `--bless`: give a `max_fuel` budget to the fixtures run that have none, too.
    #[arg(long, requires = "bless")]
    pub add_budgets: bool,
    /// Record where each fixture's time went: `DIR/FIXTURE.svg`, a flame graph, and
    /// beside it `DIR/FIXTURE.json` for the Firefox Profiler (`DIR/PACKAGE/FIXTURE.*`
    /// when several packages are tested). Fixtures run slower; their fuel is the same.
    #[arg(long, value_name = "DIR")]
    pub flamegraph: Option<PathBuf>,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value_t = TestFormat::Human)]
    pub format: TestFormat,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub package: PackageOptions,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub common: CommonOptions,
}

/// `test --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TestFormat {
    /// `test NAME ... ok` lines, failures, and the closing count.
    Human,
    /// One JSON object.
    Json,
    /// JUnit XML.
    Junit,
}

impl TestCommand {
    /// Runs the command.
    ///
    /// # Errors
    /// The build fails, a fixture does not parse (the message names file:line:column);
    /// [`Exit`]`(1)` when a test failed.
    pub fn exec(self) -> Result<()> {
        let shell = self.common.shell();
        let prepared = (|| {
            let plan = build::plan(&shell, &self.package)?;
            // Fixtures are read before compiling, so a typo in one is reported at once.
            let fixtures = plan
                .packages
                .iter()
                .map(|p| load_fixtures(p.root().as_std_path()))
                .collect::<Result<Vec<_>>>()?;
            // Before the build, which may write the module this compares with.
            let newer_release = newer_release_builds(&plan, &self.package);
            let plugins =
                build::build_planned(&shell, &self.package, plan, build::Output::default())?;
            anyhow::Ok((fixtures, newer_release, plugins))
        })();
        let (fixtures, newer_release, plugins) =
            or_json(self.format == TestFormat::Json, &shell, prepared)?;
        let mut summary = Summary::default();
        let mut out = shell.out();
        for ((plugin, fixtures), newer_release) in plugins.iter().zip(&fixtures).zip(&newer_release)
        {
            if let Some(release) = newer_release {
                shell.note(format_args!(
                    "`{}` is a newer release build than the {} tested here; the help desk \
                     runs the release build: `cargo otai-plugin test --release` tests it",
                    display_relative(release).display(),
                    build_name(plugin.wasm.as_std_path())
                ));
            }
            let flamegraphs = self.flamegraph.as_ref().map(|dir| match plugins.len() {
                1 => dir.clone(),
                _ => dir.join(flamegraph::file_name(&plugin.package.name).trim_end_matches(".svg")),
            });
            self.run_fixtures(
                &shell,
                plugin,
                fixtures,
                flamegraphs.as_deref(),
                &mut summary,
            )?;
            self.run_cargo_test(&shell, plugin, &mut summary)?;
        }
        match self.format {
            TestFormat::Human => {
                let failed: Vec<&TestResult> = summary
                    .tests
                    .iter()
                    .filter(|t| t.status == Status::Failed)
                    .collect();
                if !failed.is_empty() {
                    writeln!(out, "\nfailures:")?;
                    for test in failed {
                        writeln!(out, "\n{RED}---- {} ----{RED:#}", test.name)?;
                        writeln!(out, "{}", test.message.as_deref().unwrap_or("").trim_end())?;
                    }
                }
                writeln!(out, "\n{BOLD}{}{BOLD:#}", summary.closing_line())?;
            }
            TestFormat::Json => {
                writeln!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(&summary)
                        .context("failed to encode the results")?
                )?;
            }
            TestFormat::Junit => write!(out, "{}", summary.junit())?,
        }
        if summary.failed > 0 {
            Err(Exit(1).into())
        } else {
            Ok(())
        }
    }

    fn selected(&self, name: &str) -> bool {
        self.filter.as_deref().is_none_or(|f| name.contains(f))
    }

    fn report(&self, shell: &Shell, summary: &mut Summary, result: TestResult) -> Result<()> {
        if self.format == TestFormat::Human {
            results::print_line(&mut shell.out(), &result)?;
        }
        summary.push(result);
        Ok(())
    }

    fn run_fixtures(
        &self,
        shell: &Shell,
        plugin: &BuiltPlugin,
        fixtures: &[LoadedFixture],
        flamegraphs: Option<&Path>,
        summary: &mut Summary,
    ) -> Result<()> {
        let selected: Vec<&LoadedFixture> = fixtures
            .iter()
            .filter(|f| self.selected(&fixture_test_name(f)))
            .collect();
        if selected.is_empty() {
            return Ok(());
        }
        let wasm = std::fs::read(&plugin.wasm)
            .with_context(|| format!("failed to read `{}`", plugin.wasm))?;
        shell.status(
            "Testing",
            format!(
                "`{}`: {} fixture{} on the {}",
                plugin.package.name,
                selected.len(),
                if selected.len() == 1 { "" } else { "s" },
                build_name(plugin.wasm.as_std_path())
            ),
        );
        let snapshots = plugin.package.root().as_std_path().join("tests/snapshots");
        // One host for every fixture, so that the module is compiled once (a debug
        // build takes about a second); each fixture gets its own mocks, config and
        // tickets on it.
        let mut shared = None;
        let mut costs = Vec::new();
        for loaded in selected {
            let started = Instant::now();
            // A budget `--bless` rewrites is not held against this run.
            let blessing_budget =
                self.bless && (self.add_budgets || loaded.fixture.expect.max_fuel.is_some());
            let mut fuel = None;
            let mut total_us = 0;
            let mut max_fuel = loaded.fixture.expect.max_fuel;
            let profile = flamegraphs.is_some();
            let run = run_fixture(
                &mut shared,
                &wasm,
                loaded,
                !blessing_budget,
                profile,
                crate::expect::Style::Line,
            );
            let failures = match run {
                Ok(report) => {
                    for warning in &report.warnings {
                        shell.warn(format!("{}: {warning}", loaded.path.display()));
                    }
                    let mut failures = report.failures;
                    if let (Some(dir), Some(recorded)) = (flamegraphs, &report.profile) {
                        let svg = dir.join(flamegraph::file_name(&loaded.name));
                        let title =
                            format!("{} ({})", fixture_test_name(loaded), plugin.package.name);
                        if let Err(err) = flamegraph::write(shell, recorded, &svg, &title) {
                            failures.push(format!("{err:#}"));
                        }
                    }
                    if let Some(problem) =
                        self.snapshot(shell, &snapshots, &loaded.name, &report.snapshot)?
                    {
                        failures.push(problem);
                    }
                    fuel = report.fuel;
                    total_us = report.total_us;
                    if let (true, Some(fuel)) = (blessing_budget, fuel) {
                        match bless_budget(shell, loaded, fuel) {
                            Ok(budget) => max_fuel = Some(budget),
                            Err(err) => failures.push(format!("{err:#}")),
                        }
                    }
                    failures
                }
                Err(err) => vec![format!("{err:#}")],
            };
            if let Some(fuel) = fuel {
                costs.push(Cost {
                    name: fixture_test_name(loaded),
                    fuel,
                    max_fuel,
                    total_us,
                });
            }
            let status = if failures.is_empty() {
                Status::Passed
            } else {
                Status::Failed
            };
            let message = (!failures.is_empty()).then(|| {
                let mut text = match &loaded.fixture.description {
                    Some(description) => format!("{} ({description}):", loaded.path.display()),
                    None => format!("{}:", loaded.path.display()),
                };
                for failure in &failures {
                    text.push_str("\n  ");
                    text.push_str(&failure.replace('\n', "\n  "));
                }
                text
            });
            self.report(
                shell,
                summary,
                TestResult {
                    package: plugin.package.name.clone(),
                    name: fixture_test_name(loaded),
                    kind: TestKind::Fixture,
                    status,
                    message,
                    duration_ms: Some(started.elapsed().as_secs_f64() * 1000.0),
                    fuel,
                    max_fuel,
                },
            )?;
        }
        if self.format == TestFormat::Human {
            print_costs(&mut shell.out(), &plugin.package.name, &costs)?;
        }
        Ok(())
    }

    /// Compares (or with `--bless` writes) a snapshot; `Some(problem)` on a mismatch.
    fn snapshot(
        &self,
        shell: &Shell,
        dir: &Path,
        name: &str,
        actual: &str,
    ) -> Result<Option<String>> {
        let path = dir.join(format!("{name}.json"));
        let expected = std::fs::read_to_string(&path).ok();
        if self.bless {
            if expected.as_deref() != Some(actual) {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("failed to create `{}`", dir.display()))?;
                std::fs::write(&path, actual)
                    .with_context(|| format!("failed to write `{}`", path.display()))?;
                shell.status("Blessed", path.display());
            }
            return Ok(None);
        }
        let Some(expected) = expected else {
            return Ok(None);
        };
        if expected == actual {
            return Ok(None);
        }
        let diff = similar::TextDiff::from_lines(expected.as_str(), actual)
            .unified_diff()
            .context_radius(3)
            .header(
                &format!("{} (snapshot)", display_relative(&path).display()),
                "actual report",
            )
            .to_string();
        Ok(Some(format!(
            "the report differs from the snapshot (run with `--bless` to accept it):\n{}",
            diff.trim_end()
        )))
    }

    fn run_cargo_test(
        &self,
        shell: &Shell,
        plugin: &BuiltPlugin,
        summary: &mut Summary,
    ) -> Result<()> {
        shell.status(
            "Testing",
            format!(
                "`{}`: cargo test, with `OTAI_PLUGIN_WASM` the {}",
                plugin.package.name,
                build_name(plugin.wasm.as_std_path())
            ),
        );
        let mut command = Command::new(cargo::cargo_bin());
        command
            .arg("test")
            .args(self.package.cargo_args())
            .args(["--package", &plugin.package.name])
            .args(["--color", shell.color().as_cargo_arg()])
            .env("OTAI_PLUGIN_WASM", plugin.wasm.as_std_path());
        if shell.verbosity() == crate::term::Verbosity::Quiet {
            command.arg("--quiet");
        }
        if let Some(filter) = &self.filter {
            command.args(["--", filter]);
        }
        command.stdout(Stdio::piped()).stderr(Stdio::inherit());
        shell.verbose_status("Running", format!("{command:?}"));
        let output = command.output().context("failed to run `cargo test`")?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let (lines, outputs) = results::parse_libtest(&stdout);
        let package = plugin.package.name.clone();
        let any_failed = lines.iter().any(|l| l.status == Status::Failed);
        for line in lines {
            let name = line.name.clone();
            let message = (line.status == Status::Failed).then(|| {
                outputs.iter().find(|(n, _)| *n == line.name).map_or_else(
                    || "the test failed (no output captured)".to_owned(),
                    |(_, text)| text.trim_end().to_owned(),
                )
            });
            self.report(
                shell,
                summary,
                TestResult {
                    package: package.clone(),
                    name,
                    kind: TestKind::Rust,
                    status: line.status,
                    message,
                    duration_ms: None,
                    fuel: None,
                    max_fuel: None,
                },
            )?;
        }
        if !output.status.success() && !any_failed {
            // Nothing ran: the tests did not compile (cargo printed why on stderr).
            self.report(
                shell,
                summary,
                TestResult {
                    package,
                    name: "(cargo test)".to_owned(),
                    kind: TestKind::Rust,
                    status: Status::Failed,
                    message: Some(format!(
                        "`cargo test` failed ({}) before running tests; see its output above",
                        output.status
                    )),
                    duration_ms: None,
                    fuel: None,
                    max_fuel: None,
                },
            )?;
        }
        Ok(())
    }
}

/// `debug build`, `release build`, or `` `ci` profile's build ``: the build a module
/// at `wasm` is, by its profile's folder.
fn build_name(wasm: &Path) -> String {
    let profile = wasm
        .parent()
        .and_then(Path::file_name)
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    match profile.as_str() {
        "debug" | "release" => format!("{profile} build"),
        _ => format!("`{profile}` profile's build"),
    }
}

/// For each package, its release module when that is newer than the module of the
/// profile `test` builds is now (or that one does not exist): the author built for
/// release since testing, and the tests are about to run on another build.
fn newer_release_builds(plan: &Plan, options: &PackageOptions) -> Vec<Option<PathBuf>> {
    let profile_dir = match (options.release, options.profile.as_deref()) {
        (true, _) | (false, Some("release" | "bench")) => return vec![None; plan.packages.len()],
        (false, None | Some("dev" | "test")) => "debug",
        (false, Some(profile)) => profile,
    };
    let modules = plan.target_directory.join(cargo::WASM_TARGET);
    let modified = |path: &Path| std::fs::metadata(path).and_then(|m| m.modified()).ok();
    plan.packages
        .iter()
        .map(|package| {
            let file = format!("{}.wasm", package.lib_name);
            let release = modules.join("release").join(&file).into_std_path_buf();
            let released = modified(&release)?;
            match modified(modules.join(profile_dir).join(&file).as_std_path()) {
                Some(tested) if tested >= released => None,
                _ => Some(release),
            }
        })
        .collect()
}

/// `fixtures/NAME`: what `test` prints and a filter matches. No libtest name has a
/// `/` (they are Rust paths), so fixtures and the crate's tests never share a name and
/// `fixtures/` selects only fixtures.
fn fixture_test_name(fixture: &LoadedFixture) -> String {
    format!("fixtures/{}", fixture.name)
}

fn load_fixtures(root: &Path) -> Result<Vec<LoadedFixture>> {
    let dir = root.join("tests/fixtures");
    fixture::discover(&dir)?
        .iter()
        .map(|path| fixture::load(&display_relative(path)))
        .collect()
}

/// Paths relative to the current directory when below it, so messages read
/// `tests/fixtures/x.toml:3:1`.
fn display_relative(path: &Path) -> PathBuf {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| path.to_path_buf())
}

/// What a fixture run produced.
pub(crate) struct FixtureRun {
    pub(crate) failures: Vec<String>,
    /// Requests no mock answered, in a fixture that may pass all the same.
    pub(crate) warnings: Vec<String>,
    /// The report as JSON, timings and fuel left out.
    pub(crate) snapshot: String,
    fuel: Option<u64>,
    /// The delivery's wall time, in microseconds.
    total_us: u64,
    /// Its profile, with `--flamegraph`.
    profile: Option<otai_plugin_host::Profile>,
}

/// A fixture's cost, for the table after its package's fixtures.
struct Cost {
    name: String,
    fuel: u64,
    max_fuel: Option<u64>,
    /// The delivery's wall time, in microseconds.
    total_us: u64,
}

/// The cost of each fixture run, its budget and its time: after the `test NAME ... ok`
/// lines rather than on them, which scripts and libtest's readers take as they are.
fn print_costs(out: &mut impl Write, package: &str, costs: &[Cost]) -> std::io::Result<()> {
    if costs.is_empty() {
        return Ok(());
    }
    let width = costs.iter().map(|c| c.name.len()).max().unwrap_or(0);
    let fuel_width = costs
        .iter()
        .map(|c| thousands(c.fuel).len())
        .max()
        .unwrap_or(0);
    writeln!(
        out,
        "\n{DIM}cost of `{package}`'s fixtures (fuel, the same on every machine):{DIM:#}"
    )?;
    for cost in costs {
        let budget = cost.max_fuel.map_or_else(String::new, |max| {
            let style = if cost.fuel > max { RED } else { DIM };
            format!("  {style}of max_fuel {}{style:#}", thousands(max))
        });
        writeln!(
            out,
            "    {:<width$}  {:>fuel_width$} fuel{budget}  {DIM}{:.2} ms{DIM:#}",
            cost.name,
            thousands(cost.fuel),
            cost.total_us as f64 / 1000.0,
        )?;
    }
    writeln!(out)
}

/// Writes the budget `--bless` gives a fixture that consumed `fuel`, and returns it.
fn bless_budget(shell: &Shell, loaded: &LoadedFixture, fuel: u64) -> Result<u64> {
    let budget = budget::with_margin(fuel);
    if loaded.fixture.expect.max_fuel != Some(budget) {
        budget::write(&loaded.path, budget)?;
        shell.status(
            "Blessed",
            format!(
                "{}: max_fuel = {budget} ({fuel} fuel + {}%)",
                loaded.path.display(),
                budget::MARGIN_PERCENT
            ),
        );
    }
    Ok(budget)
}

/// The host fixtures run on, its plugin and the mock all fixtures' HTTP goes to.
pub(crate) type FixtureHost = (Host, Plugin, MockHttp);

/// Runs one fixture; `check_budget` false leaves its `max_fuel` unchecked, `style` says
/// how a changed text is written in its failures.
pub(crate) fn run_fixture(
    shared: &mut Option<FixtureHost>,
    wasm: &[u8],
    loaded: &LoadedFixture,
    check_budget: bool,
    profile: bool,
    style: crate::expect::Style,
) -> Result<FixtureRun> {
    let f = &loaded.fixture;
    let config = loaded.config();
    let transport =
        harness::transport(&f.http, "add a `[[http]]` mock for it to the fixture", None);
    let (host, plugin) = match shared {
        Some((host, plugin, mock)) => {
            mock.replace_rules(&transport);
            host.forget_custom_fields();
            host.install(plugin, config)
                .context("the host refused the config")?;
            (&*host, &*plugin)
        }
        None => {
            let (host, plugin) = harness::host_with(wasm, transport.clone(), config, profile)?;
            let (host, plugin, _) = shared.insert((host, plugin, transport));
            (&*host, &*plugin)
        }
    };
    let redact = harness::redactor(host, plugin);
    let report = match (&f.panel, loaded.event()?) {
        (Some(panel), _) => Report::Panel(host.render_panel(plugin.id(), &panel.ticket_id)?),
        (None, Some(event)) => Report::Delivery(host.deliver_to(plugin.id(), &event)?),
        (None, None) => anyhow::bail!("the fixture has neither `[event]` nor `[panel]`"),
    };
    let mut expect = f.expect.clone();
    if !check_budget {
        expect.max_fuel = None;
    }
    let failures = crate::expect::check(&expect, &report, &redact, style);
    let warnings = harness::unmatched_warnings(report.http());
    let fuel = report.fuel();
    let total_us = report.total_us();
    let profile = report.profile().cloned();
    let mut report = report.to_json()?;
    if let Some(map) = report.as_object_mut() {
        // Fuel has its own check, `max_fuel`, and differs between a debug and a release
        // build of the same code, which one snapshot serves.
        map.remove("timings");
        map.remove("fuel");
    }
    let snapshot = serde_json::to_string_pretty(&report)? + "\n";
    Ok(FixtureRun {
        failures,
        warnings,
        snapshot,
        fuel,
        total_us,
        profile,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_build_is_named_by_its_profile_folder() {
        let name = |path: &str| build_name(Path::new(path));
        assert_eq!(
            name("target/wasm32-unknown-unknown/debug/a.wasm"),
            "debug build"
        );
        assert_eq!(
            name("target/wasm32-unknown-unknown/release/a.wasm"),
            "release build"
        );
        assert_eq!(
            name("target/wasm32-unknown-unknown/ci/a.wasm"),
            "`ci` profile's build"
        );
    }
}
