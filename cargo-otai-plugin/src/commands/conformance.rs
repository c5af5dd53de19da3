//! `cargo otai-plugin conformance`: runs the ABI v1 conformance kit (`conformance/`)
//! against the reference host or any host's driver.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};

use crate::conformance::{self, CaseResult, Verdict};
use crate::results::{Status, Summary, TestKind, TestResult};
use crate::term::{BOLD, GREEN, RED, YELLOW};
use crate::{CommonOptions, Exit};

/// Run the ABI v1 conformance cases against a host: the reference host, or yours
/// through a driver (see `conformance/README.md`). Prints each case's result and
/// `N passed, N failed` at the end; exits with 1 when a case failed.
#[derive(Debug, Args)]
pub struct ConformanceCommand {
    /// The driver of the host under test: a command line, run as `<DRIVER> <case folder>`,
    /// that prints the case's transcript. Without it, the reference host runs the cases
    /// in process.
    #[arg(long, value_name = "DRIVER")]
    pub driver: Option<String>,
    /// Run only the cases whose name contains this (e.g. `http-`, `load-`).
    #[arg(long, value_name = "TEXT")]
    pub filter: Option<String>,
    /// The folder of cases (default: `conformance/v1` in this directory or a parent).
    #[arg(long, value_name = "DIR")]
    pub cases: Option<PathBuf>,
    /// The signature file (`docs/abi-signatures.json`'s shape) that says which version
    /// of the import table added each import, hence what each case needs (default: the
    /// table this command is built with). Give a newer kit's file to run its cases: a
    /// host older than a case's imports skips it.
    #[arg(long, value_name = "FILE")]
    pub signatures: Option<PathBuf>,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value_t = ConformanceFormat::Human)]
    pub format: ConformanceFormat,
    /// How many cases run at once [default: the number of CPUs]. Each case gets its
    /// own driver process and folder; deadline cases allow for the load.
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub common: CommonOptions,
}

/// `conformance --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ConformanceFormat {
    /// `case NAME ... ok` lines, failures with diffs, and the closing count.
    Human,
    /// One JSON object: the counts and every case.
    Json,
    /// JUnit XML, for CI dashboards.
    Junit,
}

impl ConformanceCommand {
    /// Runs the command.
    ///
    /// # Errors
    /// The cases cannot be found or read; [`Exit`]`(1)` when a case failed.
    pub fn exec(self) -> Result<()> {
        let shell = self.common.shell();
        let root = conformance::find_cases(self.cases.as_deref())?;
        let dirs = conformance::list(&root, self.filter.as_deref())?;
        let versions = match &self.signatures {
            Some(file) => conformance::ImportVersions::read(file)?,
            None => conformance::ImportVersions::of_the_contract(),
        };
        let host = self.driver.as_deref().unwrap_or("the reference host");
        let human = self.format == ConformanceFormat::Human;
        if human {
            writeln!(
                shell.out(),
                "\nrunning {} conformance case{} of ABI v1 against {host}",
                dirs.len(),
                if dirs.len() == 1 { "" } else { "s" }
            )?;
        }
        let jobs = self
            .jobs
            .or_else(|| std::thread::available_parallelism().ok().map(usize::from))
            .unwrap_or(1)
            .max(1);
        let mut results = conformance::run_all(
            &root,
            &dirs,
            self.driver.as_deref(),
            &versions,
            jobs,
            |result| {
                if human {
                    let _ = print_line(&mut shell.out(), result);
                }
            },
        );
        results.sort_by(|a, b| a.name.cmp(&b.name));
        let summary = summarize(&results);
        let mut out = shell.out();
        match self.format {
            ConformanceFormat::Human => {
                let failed: Vec<&CaseResult> = results
                    .iter()
                    .filter(|r| matches!(r.verdict, Verdict::Failed { .. }))
                    .collect();
                if !failed.is_empty() {
                    writeln!(out, "\nfailures:")?;
                    for result in &failed {
                        if let Verdict::Failed { reason, .. } = &result.verdict {
                            writeln!(out, "\n---- {} ----", result.name)?;
                            if !result.section.is_empty() {
                                writeln!(
                                    out,
                                    "{} (docs/ABI.md: {})",
                                    result.description, result.section
                                )?;
                            }
                            writeln!(out, "{reason}")?;
                        }
                    }
                }
                print_groups(&mut out, &conformance::failure_groups(&results))?;
                let status = if summary.failed == 0 {
                    format!("{GREEN}ok{GREEN:#}")
                } else {
                    format!("{RED}FAILED{RED:#}")
                };
                writeln!(
                    out,
                    "\n{BOLD}conformance result:{BOLD:#} {status}. {}",
                    summary.closing_line()
                )?;
            }
            ConformanceFormat::Json => {
                let json = serde_json::json!({
                    "host": host,
                    "passed": summary.passed,
                    "failed": summary.failed,
                    "skipped": summary.skipped,
                    "cases": results,
                });
                let text =
                    serde_json::to_string_pretty(&json).context("failed to encode the results")?;
                writeln!(out, "{text}")?;
            }
            ConformanceFormat::Junit => write!(out, "{}", summary.junit())?,
        }
        if summary.failed > 0 {
            Err(Exit(1).into())
        } else {
            Ok(())
        }
    }
}

/// The failures grouped by the members that differ: `8 cases differ only in
/// `calls[].error``, with their names, so that one deviation reads as one cause.
fn print_groups(out: &mut impl Write, groups: &[(Vec<String>, Vec<String>)]) -> Result<()> {
    if groups.is_empty() {
        return Ok(());
    }
    writeln!(out, "\nfailures by what differs:")?;
    for (members, cases) in groups {
        let members: Vec<String> = members.iter().map(|m| format!("`{m}`")).collect();
        let members = match members.as_slice() {
            [one] => format!("only in {one}"),
            [init @ .., last] => format!("in {} and {last}", init.join(", ")),
            [] => continue,
        };
        let count = match cases.len() {
            1 => "1 case differs".to_owned(),
            n => format!("{n} cases differ"),
        };
        writeln!(out, "  {count} {members}: {}", cases.join(", "))?;
    }
    Ok(())
}

fn print_line(out: &mut impl Write, result: &CaseResult) -> std::io::Result<()> {
    match &result.verdict {
        Verdict::Passed => writeln!(out, "case {} ... {GREEN}ok{GREEN:#}", result.name),
        Verdict::Failed { .. } => writeln!(out, "case {} ... {RED}FAILED{RED:#}", result.name),
        Verdict::Skipped { reason } => writeln!(
            out,
            "case {} ... {YELLOW}skipped{YELLOW:#} ({reason})",
            result.name
        ),
    }
}

fn summarize(results: &[CaseResult]) -> Summary {
    let mut summary = Summary::default();
    for r in results {
        let (status, message) = match &r.verdict {
            Verdict::Passed => (Status::Passed, None),
            Verdict::Failed { reason, .. } => (Status::Failed, Some(reason.clone())),
            Verdict::Skipped { reason } => (Status::Skipped, Some(reason.clone())),
        };
        summary.push(TestResult {
            package: "ohd-abi-v1-conformance".into(),
            name: r.name.clone(),
            kind: TestKind::Conformance,
            status,
            message,
            duration_ms: Some(r.time_ms as f64),
            fuel: None,
            max_fuel: None,
        });
    }
    summary
}
