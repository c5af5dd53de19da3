//! The two flavours of a plugin give the same reports: every example and every template
//! of `new`, built as a core module and as a component (`--component`) from the same
//! source, passes `cargo otai-plugin test` both ways, and each of its fixtures, run
//! through the reference host, reports the same in both flavours: outcome, logs, HTTP
//! exchanges, replies, custom fields, panel URL. Only `timings` and `fuel` differ, and the frames
//! of a trap's wasm backtrace, which name the code of each flavour.

mod support;

use std::path::{Path, PathBuf};

use serde_json::Value;
use support::{Project, cli, offline, shared_target_dir, stderr_of, stdout_of};

/// The workspace's examples folder.
fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples")
}

/// Where a plugin in `dir` builds: the examples share `target/e2e` with
/// `tests/tests/examples.rs`, which builds and tests them the same way (release), so
/// that each is compiled once in the test run; a scaffolded template, the target
/// directory of the other scaffolds.
fn target_dir(dir: &Path) -> PathBuf {
    if dir.starts_with(examples()) {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/e2e")
    } else {
        shared_target_dir()
    }
}

/// `cargo-otai-plugin ARGS` in `dir`, with its target directory, offline.
fn cmd(dir: &Path, args: &[&str]) -> assert_cmd::Command {
    let mut cmd = cli();
    cmd.current_dir(dir)
        .env("CARGO_TARGET_DIR", target_dir(dir));
    offline(&mut cmd);
    cmd.args(args);
    cmd
}

/// Runs `args` in `dir`, which must succeed, and returns the module it reports on the
/// last `Finished … plugin…: PATH (SIZE)` line of stderr, copied to `copy` (the next
/// build of the other flavour writes the same path).
fn built(dir: &Path, args: &[&str], copy: &Path) -> String {
    let output = cmd(dir, args).output().unwrap();
    let stdout = stdout_of(&output);
    let stderr = stderr_of(&output);
    assert!(
        output.status.success(),
        "`{}` failed in {}:\nstdout:\n{stdout}\nstderr:\n{stderr}",
        args.join(" "),
        dir.display()
    );
    let line = stderr
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with("Finished `") && l.contains(" plugin"))
        .unwrap_or_else(|| panic!("no `Finished` line:\n{stderr}"));
    let path = line
        .split_once(": ")
        .and_then(|(_, rest)| rest.rsplit_once(" ("))
        .map(|(path, _)| dir.join(path))
        .unwrap_or_else(|| panic!("no path in {line:?}"));
    std::fs::copy(&path, copy).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    stdout
}

/// The report of one fixture run on `wasm`, without `timings`, `fuel` (a component
/// runs the canonical ABI's adapter code too) and backtrace frames.
fn report(dir: &Path, wasm: &Path, fixture: &Path) -> Value {
    let output = cmd(dir, &["run", "--format", "json", "--fixture"])
        .arg(fixture)
        .arg(wasm)
        .output()
        .unwrap();
    let mut report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "`run --fixture {}` on {} printed no report ({e}):\n{}\n{}",
            fixture.display(),
            wasm.display(),
            stdout_of(&output),
            stderr_of(&output)
        )
    });
    if let Some(map) = report.as_object_mut() {
        map.remove("timings");
        map.remove("fuel");
        if let Some(outcome) = map.get_mut("outcome").and_then(Value::as_object_mut) {
            outcome.remove("backtrace");
        }
    }
    report
}

/// Both flavours of the plugin in `dir` (a package folder), tested and compared on
/// every fixture of `dir/tests/fixtures`.
fn both_flavours_report_the_same(dir: &Path, name: &str) {
    let out = tempfile::tempdir().unwrap();
    let core = out.path().join(format!("{name}.core.wasm"));
    let component = out.path().join(format!("{name}.component.wasm"));

    // The examples as `tests/tests/examples.rs` builds them (see `target_dir`).
    let release: &[&str] = if dir.starts_with(examples()) {
        &["--release"]
    } else {
        &[]
    };
    let core_test = built(dir, &[&["test"][..], release].concat(), &core);
    let component_test = built(
        dir,
        &[&["test", "--component"][..], release].concat(),
        &component,
    );
    for (flavour, stdout) in [("core", &core_test), ("component", &component_test)] {
        let closing = stdout.trim_end().lines().last().unwrap_or_default();
        assert!(
            closing.ends_with(" passed, 0 failed") && !closing.starts_with("0 passed"),
            "{name} ({flavour}): {stdout}"
        );
    }
    // The same tests ran, and passed, in both.
    assert_eq!(
        test_names(&core_test),
        test_names(&component_test),
        "{name}"
    );

    assert!(
        wasmparser::Parser::is_core_wasm(&std::fs::read(&core).unwrap()),
        "{name}: `test` built no core module"
    );
    let check = cli()
        .args(["check", "--format", "json"])
        .arg(&component)
        .output()
        .unwrap();
    let checked: Value = serde_json::from_slice(&check.stdout).unwrap();
    assert_eq!(checked["flavour"], "component", "{checked:#}");
    assert_eq!(checked["ok"], true, "{checked:#}");

    let mut fixtures: Vec<PathBuf> = std::fs::read_dir(dir.join("tests/fixtures"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    fixtures.sort();
    assert!(!fixtures.is_empty(), "{name} has no fixtures");
    for fixture in &fixtures {
        let from_core = report(dir, &core, fixture);
        let from_component = report(dir, &component, fixture);
        assert_eq!(
            from_core,
            from_component,
            "{name}: the flavours report `{}` differently\ncore:\n{from_core:#}\ncomponent:\n{from_component:#}",
            fixture.display()
        );
    }
}

/// The `test NAME ... ok` names of a `test` run.
fn test_names(stdout: &str) -> Vec<&str> {
    // The crate's own tests run in parallel, in no fixed order.
    let mut names: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("test "))
        .filter_map(|l| l.strip_suffix(" ... ok"))
        .collect();
    names.sort_unstable();
    names
}

#[test]
fn minimal_example() {
    both_flavours_report_the_same(&examples().join("minimal"), "minimal");
}

#[test]
fn slack_notifications_example() {
    both_flavours_report_the_same(&examples().join("slack-notifications"), "slack");
}

#[test]
fn pagerduty_example() {
    both_flavours_report_the_same(&examples().join("pagerduty"), "pagerduty");
}

#[test]
fn jira_linker_example() {
    both_flavours_report_the_same(&examples().join("jira-linker"), "jira");
}

#[test]
fn every_template() {
    for template in ["minimal", "http", "panel", "triage"] {
        let name = format!("flavours-{template}");
        let project = Project::plugin(&name, template);
        both_flavours_report_the_same(&project.root, &name);
    }
}
