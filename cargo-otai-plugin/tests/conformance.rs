//! `cargo otai-plugin conformance`: the kit's cases pass on the reference host and on
//! the independent Node host, and the runner fails what it must fail.

mod support;

use std::path::{Path, PathBuf};

use support::cli;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the CLI crate sits in the workspace")
        .to_owned()
}

fn cases_dir() -> PathBuf {
    workspace_root().join("conformance/v1")
}

fn case_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(cases_dir())
        .expect("conformance/v1 exists")
        .map(|e| e.expect("a readable entry").path())
        .filter(|p| p.join("case.json").is_file())
        .collect();
    dirs.sort();
    dirs
}

#[test]
fn every_case_passes_on_the_reference_host() {
    let output = cli()
        .current_dir(workspace_root())
        .args(["conformance"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let count = case_dirs().len();
    assert!(count >= 100, "the kit has only {count} cases");
    assert!(
        stdout.contains(&format!("{count} passed, 0 failed")),
        "{stdout}"
    );
}

/// The second host: JavaScript on Node's WebAssembly, sharing no code with ours. It
/// cannot stop synchronous wasm, so the deadline cases are skipped there (and only
/// those: the runner fails any other skip).
#[test]
fn every_applicable_case_passes_on_the_node_host() {
    if std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_err()
    {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the Node host: `node` is not on PATH"
        );
        eprintln!("skipped: `node` is not on PATH (CI installs it)");
        return;
    }
    let output = cli()
        .current_dir(workspace_root())
        .args([
            "conformance",
            "--driver",
            "node conformance/hosts/node/driver.mjs",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let results: serde_json::Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{e}: {stdout}{}", String::from_utf8_lossy(&output.stderr)));
    let failed: Vec<String> = results["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "failed")
        .map(|c| {
            format!(
                "{}: {}",
                c["name"],
                c["reason"].as_str().unwrap_or_default()
            )
        })
        .collect();
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
    assert!(output.status.success());
    assert_eq!(
        results["passed"].as_u64().unwrap() as usize
            + results["skipped"].as_u64().unwrap() as usize,
        case_dirs().len()
    );
}

#[test]
fn every_case_names_a_section_of_the_abi_document() {
    let abi = std::fs::read_to_string(workspace_root().join("docs/ABI.md")).unwrap();
    let headings: Vec<&str> = abi
        .lines()
        .filter_map(|l| l.strip_prefix('#'))
        .map(|l| l.trim_start_matches('#').trim())
        .collect();
    for dir in case_dirs() {
        let case: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("case.json")).unwrap()).unwrap();
        let section = case["section"].as_str().unwrap_or_default();
        assert!(
            headings.contains(&section),
            "{}: `section` is {section:?}, not a heading of docs/ABI.md",
            dir.display()
        );
    }
}

/// A kit of one case, and a driver that prints `transcript` whatever it is given.
fn kit(case: &str, expected: &str, transcript: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        cases_dir().join("sample-event.json"),
        dir.path().join("sample-event.json"),
    )
    .unwrap();
    let case_dir = dir.path().join("one");
    std::fs::create_dir(&case_dir).unwrap();
    std::fs::write(case_dir.join("case.json"), case).unwrap();
    std::fs::write(case_dir.join("expected.json"), expected).unwrap();
    std::fs::write(
        case_dir.join("plugin.wat"),
        r#"(module (memory (export "memory") 1) (func (export "on_event") (param i32 i32)))"#,
    )
    .unwrap();
    let transcript_file = dir.path().join("transcript.json");
    std::fs::write(&transcript_file, transcript).unwrap();
    // The runner appends the folder: the driver fails unless it holds the built plugin.
    let driver = format!(
        "cat '{}'; has_plugin() {{ test -f \"$1/plugin.wasm\"; }}; has_plugin",
        transcript_file.display()
    );
    (dir, driver)
}

/// `cargo otai-plugin conformance --cases DIR --driver DRIVER ARGS…`, and its exit code
/// and stdout.
fn run_kit(dir: &tempfile::TempDir, driver: &str, args: &[&str]) -> (Option<i32>, String) {
    let output = cli()
        .args(["conformance", "--cases"])
        .arg(dir.path())
        .args(["--driver", driver])
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

const PLAIN_CASE: &str = r#"{"description": "d", "section": "4. Memory and buffer ownership"}"#;

#[test]
fn a_transcript_that_differs_fails_with_a_diff() {
    let expected = r#"{"load": "loaded", "install": "installed", "outcome": "ok", "calls": []}"#;
    let (dir, driver) = kit(
        PLAIN_CASE,
        expected,
        r#"{"load": "loaded", "install": "installed", "outcome": "trapped", "calls": []}"#,
    );
    let (code, stdout) = run_kit(&dir, &driver, &[]);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("case one ... FAILED"), "{stdout}");
    assert!(
        stdout.contains("-  \"outcome\": \"ok\"") && stdout.contains("+  \"outcome\": \"trapped\""),
        "{stdout}"
    );
    assert!(stdout.contains("0 passed, 1 failed"), "{stdout}");
    assert!(
        stdout.contains("1 case differs only in `outcome`: one"),
        "{stdout}"
    );

    // The same driver, right this time: the case passes.
    let (dir, driver) = kit(PLAIN_CASE, expected, expected);
    let (code, stdout) = run_kit(&dir, &driver, &[]);
    assert_eq!(code, Some(0), "{stdout}");
    assert!(stdout.contains("1 passed, 0 failed"), "{stdout}");
}

#[test]
fn a_driver_may_skip_only_a_case_that_requires_something() {
    let skip = r#"{"skipped": "cannot interrupt wasm"}"#;
    let (dir, driver) = kit(PLAIN_CASE, "{}", skip);
    let (code, stdout) = run_kit(&dir, &driver, &[]);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains("may skip only cases with `requires`"),
        "{stdout}"
    );

    let case =
        r#"{"description": "d", "section": "9. Lifecycle and limits", "requires": ["interrupt"]}"#;
    let (dir, driver) = kit(case, "{}", skip);
    let (code, stdout) = run_kit(&dir, &driver, &["--format", "junit"]);
    assert_eq!(code, Some(0), "{stdout}");
    assert!(stdout.contains("<skipped/>"), "{stdout}");
}

#[test]
fn a_broken_driver_or_case_fails_with_the_reason() {
    let (dir, _) = kit(PLAIN_CASE, "{}", "{}");
    let (code, stdout) = run_kit(&dir, "echo oops >&2; exit 3", &[]);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains("the driver exited with exit status: 3") && stdout.contains("oops"),
        "{stdout}"
    );

    let (dir, driver) = kit(
        r#"{"description": "d", "section": "x", "requires": ["telepathy"]}"#,
        "{}",
        "{}",
    );
    let (code, stdout) = run_kit(&dir, &driver, &[]);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains("`requires` names `telepathy`; expected one of interrupt, memory_limit"),
        "{stdout}"
    );
}

#[test]
fn a_status_change_case_needs_the_status_it_changes_to() {
    let (dir, driver) = kit(
        r#"{"description": "d", "section": "One change, several events", "call": "status_change"}"#,
        "{}",
        "{}",
    );
    let (code, stdout) = run_kit(&dir, &driver, &[]);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains(
            "`\"call\": \"status_change\"` and a `status_change` member (`{\"to\": STATUS}`) go together"
        ),
        "{stdout}"
    );
}

/// A driver's transcript can be several MiB (three 4 MiB response bodies): the runner
/// reads it whole, and a transcript cut short (a driver that exits before its standard
/// output is flushed) fails with what the runner did get, not as a differing case.
#[test]
fn a_transcript_of_several_mib_is_read_whole_and_a_cut_one_fails() {
    let body = "é".repeat(3 << 20);
    let call = serde_json::json!({"fn": "ohd_log", "level": "info", "message": body});
    let transcript = serde_json::json!({
        "load": "loaded", "install": "installed", "outcome": "ok", "calls": [call, call]
    })
    .to_string();
    assert!(transcript.len() > 12 << 20);
    let repeat = r#"{"fn": "ohd_log", "level": "info", "message": {"$repeat": ["é", 3145728]}}"#;
    let expected = format!(
        r#"{{"load": "loaded", "install": "installed", "outcome": "ok", "calls": [{repeat}, {repeat}]}}"#
    );
    let (dir, driver) = kit(PLAIN_CASE, &expected, &transcript);
    let (code, stdout) = run_kit(&dir, &driver, &[]);
    assert_eq!(code, Some(0), "{stdout}");
    assert!(stdout.contains("1 passed, 0 failed"), "{stdout}");

    let mut end = 8 << 20;
    while !transcript.is_char_boundary(end) {
        end -= 1;
    }
    let cut = &transcript[..end];
    let (dir, driver) = kit(PLAIN_CASE, &expected, cut);
    let (code, stdout) = run_kit(&dir, &driver, &[]);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains("the driver's standard output is not one JSON object"),
        "{stdout}"
    );
}

/// A component case runs only where the host may skip it: the runner refuses one whose
/// `requires` does not name `component`, and a core-only driver's skip of one that does
/// is a skip, not a failure.
#[test]
fn a_component_case_must_require_component_and_may_then_be_skipped() {
    let with = |requires: &str| {
        let case = format!(
            r#"{{"description": "d", "section": "14. The component flavour", "component": "plugin", "requires": [{requires}]}}"#
        );
        let (dir, driver) = kit(&case, "{}", r#"{"skipped": "core modules only"}"#);
        std::fs::write(
            dir.path().join("one/plugin.wat"),
            r#"(module (memory (export "memory") 1)
                 (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) i32.const 1024)
                 (func (export "on-event") (param i32 i32)))"#,
        )
        .unwrap();
        run_kit(&dir, &driver, &[])
    };
    let (code, stdout) = with("");
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains("the plugin is a component, so `requires` must name `component`"),
        "{stdout}"
    );
    let (code, stdout) = with(r#""component""#);
    assert_eq!(code, Some(0), "{stdout}");
    assert!(stdout.contains("0 passed, 0 failed, 1 skipped"), "{stdout}");
}

/// Whether `node` runs here; on CI, where it must, its absence fails the test.
fn node_available() -> bool {
    let found = std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_ok();
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the Node host: `node` is not on PATH"
        );
        eprintln!("skipped: `node` is not on PATH (CI installs it)");
    }
    found
}

/// A kit of two cases, `plain` (a real case that imports `ohd_log`) and `future` (the
/// same, importing also `ohd_future`), and a signature file: docs/abi-signatures.json
/// with the row `ohd_future` of version `since`. Nothing is added to the real table.
fn kit_with_a_future_import(since: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let cases = dir.path().join("cases");
    std::fs::create_dir(&cases).unwrap();
    std::fs::copy(
        cases_dir().join("sample-event.json"),
        cases.join("sample-event.json"),
    )
    .unwrap();
    let source = cases_dir().join("log-level-1-info");
    for name in ["plain", "future"] {
        std::fs::create_dir(cases.join(name)).unwrap();
        for file in ["case.json", "expected.json", "manifest.json", "plugin.wat"] {
            std::fs::copy(source.join(file), cases.join(name).join(file)).unwrap();
        }
    }
    let wat = std::fs::read_to_string(source.join("plugin.wat")).unwrap();
    let future = r#"(import "ohd" "ohd_future" (func (param i32 i32) (result i32)))"#;
    let wat = wat.replacen("(module", &format!("(module\n  {future}"), 1);
    assert!(wat.contains("ohd_future"));
    std::fs::write(cases.join("future/plugin.wat"), wat).unwrap();

    let signatures: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(workspace_root().join("docs/abi-signatures.json")).unwrap(),
    )
    .unwrap();
    let mut signatures = signatures;
    signatures["imports"]["ohd_future"] =
        serde_json::json!({"params": ["i32", "i32"], "results": ["i32"], "since": since});
    let file = dir.path().join("signatures.json");
    std::fs::write(&file, signatures.to_string()).unwrap();
    (dir, file)
}

/// `cargo otai-plugin conformance --format json` on the kit of
/// [`kit_with_a_future_import`], with `args`; its exit code and the results by case.
fn run_versioned_kit(
    dir: &tempfile::TempDir,
    args: &[&str],
) -> (Option<i32>, serde_json::Value, String) {
    let output = cli()
        .args(["conformance", "--format", "json", "--jobs", "1", "--cases"])
        .arg(dir.path().join("cases"))
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let results: serde_json::Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{e}: {stdout}{}", String::from_utf8_lossy(&output.stderr)));
    (output.status.code(), results, stdout)
}

fn case_result<'a>(results: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    results["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no case {name} in {results}"))
}

/// docs/ABI.md section 3, "Versions of the import table", on the Node host (ABI 1.0)
/// given a signature file with a 1.1 import: it refuses a module importing it, naming the
/// import and both versions; the kit skips that case there, apart from the passed and
/// the failed, and still runs the other; and without the file that says the case needs
/// 1.1, the same skip is a failure, never a pass.
#[test]
fn a_case_newer_than_the_node_host_is_skipped_there() {
    if !node_available() {
        return;
    }
    let (dir, signatures) = kit_with_a_future_import("1.1");
    let signatures = signatures.to_str().unwrap();
    let driver = format!(
        "node '{}' --signatures '{signatures}'",
        workspace_root()
            .join("conformance/hosts/node/driver.mjs")
            .display()
    );

    // The Node host itself, on the module: refused, the versions named.
    let folder = dir.path().join("folder");
    std::fs::create_dir(&folder).unwrap();
    let wat = std::fs::read_to_string(dir.path().join("cases/future/plugin.wat")).unwrap();
    std::fs::write(folder.join("plugin.wasm"), wat::parse_str(&wat).unwrap()).unwrap();
    std::fs::copy(
        dir.path().join("cases/future/case.json"),
        folder.join("case.json"),
    )
    .unwrap();
    std::fs::copy(
        cases_dir().join("sample-event.json"),
        folder.join("event.json"),
    )
    .unwrap();
    let output = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{driver} \"$1\""))
        .arg("driver")
        .arg(&folder)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains(
            "error[unknown_import]: `ohd.ohd_future` was added in ABI 1.1; this host \
             implements ABI 1.0"
        ),
        "{stderr}"
    );
    let transcript: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(transcript["implements"], "1.0", "{transcript}");

    // The kit: `future` skipped, with both versions in the reason, `plain` passed.
    let (code, results, stdout) =
        run_versioned_kit(&dir, &["--signatures", signatures, "--driver", &driver]);
    assert_eq!(code, Some(0), "{stdout}");
    assert_eq!(
        (&results["passed"], &results["failed"], &results["skipped"]),
        (&1.into(), &0.into(), &1.into()),
        "{stdout}"
    );
    let future = case_result(&results, "future");
    assert_eq!(future["status"], "skipped", "{stdout}");
    assert_eq!(
        future["reason"],
        "needs ABI 1.1 (`ohd.ohd_future`); the host implements ABI 1.0: `ohd.ohd_future` was \
         added in ABI 1.1; this host implements ABI 1.0",
        "{stdout}"
    );

    // Without the runner's `--signatures`, nothing says `future` needs 1.1: the skip fails.
    let (code, results, stdout) = run_versioned_kit(&dir, &["--driver", &driver]);
    assert_eq!(code, Some(1), "{stdout}");
    let future = case_result(&results, "future");
    assert_eq!(future["status"], "failed", "{stdout}");
    assert!(
        future["reason"]
            .as_str()
            .unwrap()
            .contains("the driver skipped a case that requires nothing a host may lack"),
        "{stdout}"
    );
    assert_eq!(case_result(&results, "plain")["status"], "passed");
}

/// The Node host implements every import of the signature file up to its version, and
/// only those: a 1.0 row it lacks stops every run (even of a plugin that does not
/// import it), a 1.1 row does not.
#[test]
fn the_node_host_must_implement_the_imports_of_its_version_only() {
    if !node_available() {
        return;
    }
    let driver = |signatures: &Path| {
        format!(
            "node '{}' --signatures '{}'",
            workspace_root()
                .join("conformance/hosts/node/driver.mjs")
                .display(),
            signatures.display()
        )
    };
    let (dir, signatures) = kit_with_a_future_import("1.0");
    let (code, results, stdout) = run_versioned_kit(
        &dir,
        &["--filter", "plain", "--driver", &driver(&signatures)],
    );
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        case_result(&results, "plain")["reason"]
            .as_str()
            .unwrap()
            .contains(
                "host.mjs implements no `ohd.ohd_future`, which the signature file says ABI \
                 1.0 added: this host implements ABI 1.0"
            ),
        "{stdout}"
    );

    let (dir, signatures) = kit_with_a_future_import("1.1");
    let (code, _, stdout) = run_versioned_kit(
        &dir,
        &["--filter", "plain", "--driver", &driver(&signatures)],
    );
    assert_eq!(code, Some(0), "{stdout}");
}

/// The reference host implements the table it is built with: a signature file with a
/// newer import makes it skip that case too, saying so; and a driver that skips such a
/// case must say it implements an older version.
#[test]
fn a_case_newer_than_the_reference_host_is_skipped_and_a_driver_must_say_its_version() {
    // One minor version past the table this CLI is built with, whatever that is.
    let current = otai_plugin_abi::wasm::HOST_FUNCTIONS
        .iter()
        .map(|f| f.since)
        .max_by_key(|v| {
            v.split_once('.')
                .map(|(_, minor)| minor.parse::<u32>().unwrap())
        })
        .unwrap();
    let (major, minor) = current.split_once('.').unwrap();
    let next = format!("{major}.{}", minor.parse::<u32>().unwrap() + 1);
    let (dir, signatures) = kit_with_a_future_import(&next);
    let signatures = signatures.to_str().unwrap();
    let (code, results, stdout) = run_versioned_kit(&dir, &["--signatures", signatures]);
    assert_eq!(code, Some(0), "{stdout}");
    assert_eq!(case_result(&results, "plain")["status"], "passed");
    assert_eq!(
        case_result(&results, "future")["reason"],
        format!("needs ABI {next} (`ohd.ohd_future`); the reference host implements ABI {current}"),
        "{stdout}"
    );

    // A driver that prints a fixed skip: accepted only with an older `implements`.
    for (skip, verdict, reason) in [
        (
            format!(r#"{{"skipped": "too new", "implements": "{current}"}}"#),
            "skipped",
            format!(
                "needs ABI {next} (`ohd.ohd_future`); the host implements ABI {current}: too new"
            ),
        ),
        (
            format!(r#"{{"skipped": "too new", "implements": "{next}"}}"#),
            "failed",
            format!(
                "the driver skipped a case that needs ABI {next} (`ohd.ohd_future`), though its \
                 host implements ABI {next}: too new"
            ),
        ),
        (
            r#"{"skipped": "too new"}"#.to_owned(),
            "failed",
            format!(
                "the driver skipped a case that needs ABI {next} (`ohd.ohd_future`) without \
                 saying which version its host implements"
            ),
        ),
    ] {
        let transcript = dir.path().join("skip.json");
        std::fs::write(&transcript, &skip).unwrap();
        let driver = format!("cat '{}'; true", transcript.display());
        let (_, results, stdout) = run_versioned_kit(
            &dir,
            &[
                "--filter",
                "future",
                "--signatures",
                signatures,
                "--driver",
                &driver,
            ],
        );
        let future = case_result(&results, "future");
        assert_eq!(future["status"], verdict, "{skip}: {stdout}");
        assert!(
            future["reason"].as_str().unwrap().starts_with(&reason),
            "{skip}: {stdout}"
        );
    }
}
