//! The ABI v1 conformance kit's runner: reads the cases of `conformance/v1`, runs each
//! through a driver (or the reference host), and judges the transcripts. The format is
//! `conformance/README.md`'s.

mod case;
mod compare;
mod component;
mod driver;
mod reference;
mod version;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
use serde::Serialize;
use serde_json::Value;

pub(crate) use case::CASES_DIR;
use case::Case;
pub(crate) use version::ImportVersions;

/// How a case ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub(crate) enum Verdict {
    Passed,
    Failed {
        reason: String,
        /// For a transcript that differs: the members that differ, as
        /// [`compare::differing_members`] names them (empty for any other failure).
        #[serde(skip_serializing_if = "Vec::is_empty")]
        differs_in: Vec<String>,
    },
    Skipped {
        reason: String,
    },
}

impl Verdict {
    /// A failure with no transcript to compare.
    fn failed(reason: String) -> Verdict {
        Verdict::Failed {
            reason,
            differs_in: Vec::new(),
        }
    }
}

/// Failed cases grouped by what makes them fail: the same members differ
/// ([`compare::differing_members`]), so that one deviation of a host that fails many
/// cases reads as one cause. Largest group first; the failures with no transcript to
/// compare (a driver that crashed, a case that took too long) are left out.
pub(crate) fn failure_groups(results: &[CaseResult]) -> Vec<(Vec<String>, Vec<String>)> {
    let mut groups: std::collections::BTreeMap<Vec<String>, Vec<String>> = Default::default();
    for result in results {
        if let Verdict::Failed { differs_in, .. } = &result.verdict
            && !differs_in.is_empty()
        {
            groups
                .entry(differs_in.clone())
                .or_default()
                .push(result.name.clone());
        }
    }
    let mut groups: Vec<_> = groups.into_iter().collect();
    groups.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then_with(|| a.0.cmp(&b.0)));
    groups
}

/// One case's result.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct CaseResult {
    pub(crate) name: String,
    pub(crate) section: String,
    pub(crate) description: String,
    #[serde(flatten)]
    pub(crate) verdict: Verdict,
    pub(crate) time_ms: u64,
}

/// Where the cases are: `dir` when given, else `conformance/v1` in the current
/// directory or the nearest parent that has one.
pub(crate) fn find_cases(dir: Option<&Path>) -> Result<PathBuf> {
    if let Some(dir) = dir {
        if dir.join("sample-event.json").is_file() {
            return Ok(dir.to_owned());
        }
        return Err(anyhow!(
            "`{}` is not a folder of conformance cases: it has no `sample-event.json`",
            dir.display()
        ));
    }
    let cwd = std::env::current_dir().context("failed to read the current directory")?;
    cwd.ancestors()
        .map(|a| a.join(CASES_DIR))
        .find(|d| d.join("sample-event.json").is_file())
        .ok_or_else(|| {
            anyhow!(
                "found no `{CASES_DIR}` in `{}` or its parents; run this in a checkout of \
                 the otai-plugin repository, or name the cases with `--cases DIR`",
                cwd.display()
            )
        })
}

/// The case folders under `root` whose name contains `filter`.
pub(crate) fn list(root: &Path, filter: Option<&str>) -> Result<Vec<PathBuf>> {
    Ok(case::case_dirs(root)?
        .into_iter()
        .filter(|d| {
            filter.is_none_or(|f| {
                d.file_name()
                    .is_some_and(|n| n.to_string_lossy().contains(f))
            })
        })
        .collect())
}

/// Runs every case of `dirs`, `jobs` at a time, calling `done` as each one ends (in
/// the order they end). `versions` says which version of the import table added each
/// import, so what each case needs.
pub(crate) fn run_all(
    root: &Path,
    dirs: &[PathBuf],
    driver: Option<&str>,
    versions: &ImportVersions,
    jobs: usize,
    done: impl Fn(&CaseResult) + Sync,
) -> Vec<CaseResult> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results = std::sync::Mutex::new(Vec::with_capacity(dirs.len()));
    std::thread::scope(|scope| {
        for _ in 0..jobs.min(dirs.len()) {
            scope.spawn(|| {
                while let Some(dir) =
                    dirs.get(next.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
                {
                    let result = run_case(root, dir, driver, versions);
                    let mut results = results
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    done(&result);
                    results.push(result);
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Runs one case: through `driver` (a shell command line), or in process on the
/// reference host when there is none.
pub(crate) fn run_case(
    root: &Path,
    dir: &Path,
    driver: Option<&str>,
    versions: &ImportVersions,
) -> CaseResult {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let start = Instant::now();
    let sample = read_sample(root);
    let case = sample.and_then(|sample| Case::read(dir, &sample));
    let (section, description, verdict) = match case {
        Err(e) => (
            String::new(),
            String::new(),
            Verdict::Failed {
                reason: format!("the case is not valid: {e:#}"),
                differs_in: Vec::new(),
            },
        ),
        Ok(case) => {
            let verdict = judge(&case, driver, versions);
            (case.settings.section, case.settings.description, verdict)
        }
    };
    CaseResult {
        name,
        section,
        description,
        verdict,
        time_ms: u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX),
    }
}

/// A driver's skip of a case that needs `needs`: a host older than that version may skip
/// it, and says which version it implements (`"implements": "1.0"`) so that the runner
/// can tell a host of that version's own failure from the version it lacks.
fn version_skip(needs: &version::Needs, transcript: &Value, reason: String) -> Verdict {
    let implements = transcript.get("implements");
    match implements
        .and_then(Value::as_str)
        .and_then(version::Version::parse)
    {
        Some(implements) if implements < needs.version => Verdict::Skipped {
            reason: format!("needs {needs}; the host implements ABI {implements}: {reason}"),
        },
        Some(implements) => Verdict::failed(format!(
            "the driver skipped a case that needs {needs}, though its host implements ABI \
             {implements}: {reason}"
        )),
        None => Verdict::failed(format!(
            "the driver skipped a case that needs {needs} without saying which version its \
             host implements (`\"implements\": \"1.0\"` beside `skipped`; found {}): {reason}",
            implements.map_or_else(|| "none".to_owned(), Value::to_string)
        )),
    }
}

fn read_sample(root: &Path) -> Result<Value> {
    let path = root.join("sample-event.json");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("failed to read `{}`", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("`{}` is not valid JSON", path.display()))
}

fn judge(case: &Case, driver: Option<&str>, versions: &ImportVersions) -> Verdict {
    let needs = versions.needs(&case.wasm);
    // The reference host implements the table it is built with: only a signature file
    // newer than the runner (`--signatures`) gives it cases to skip.
    if driver.is_none() {
        let implements = ImportVersions::of_the_contract().newest();
        if let Some(needs) = needs.as_ref().filter(|n| n.version > implements) {
            return Verdict::Skipped {
                reason: format!("needs {needs}; the reference host implements ABI {implements}"),
            };
        }
    }
    let ran = match driver {
        None => {
            let start = Instant::now();
            reference::transcript(case).map(|t| (t, start.elapsed()))
        }
        Some(command) => tempfile::Builder::new()
            .prefix("ohd-conformance-")
            .tempdir()
            .context("failed to create a folder for the driver")
            .and_then(|folder| {
                case.prepare(folder.path())?;
                driver::run(command, folder.path())
            }),
    };
    let (transcript, elapsed) = match ran {
        Ok(ran) => ran,
        Err(e) => {
            return Verdict::failed(format!("{e:#}"));
        }
    };
    if let Some(reason) = transcript.get("skipped") {
        let reason = reason.as_str().unwrap_or_default().to_owned();
        return if !case.settings.requires.is_empty() {
            Verdict::Skipped {
                reason: format!("requires {}: {reason}", case.settings.requires.join(", ")),
            }
        } else if let Some(needs) = needs {
            version_skip(&needs, &transcript, reason)
        } else {
            Verdict::failed(format!(
                "the driver skipped a case that requires nothing a host may lack \
                 (it may skip only cases with `requires`, or whose imports are newer \
                 than ABI {}): {reason}",
                version::BASE
            ))
        };
    }
    if let Some(tolerance) = case.settings.tolerance_ms {
        let limit = Duration::from_millis(case.deadline_ms().saturating_add(tolerance));
        if elapsed > limit {
            return Verdict::failed(format!(
                "took {} ms, over the deadline of {} ms and the case's tolerance of {tolerance} ms",
                elapsed.as_millis(),
                case.deadline_ms()
            ));
        }
    }
    if compare::matches(&case.expected, &transcript) {
        Verdict::Passed
    } else {
        Verdict::Failed {
            reason: format!(
                "the transcript differs from expected.json:\n{}",
                compare::diff(&case.expected, &transcript)
            ),
            differs_in: compare::differing_members(&case.expected, &transcript),
        }
    }
}
