//! `check` on modules from "another toolchain" (hand-written WAT) and on files that are
//! not plugins.

mod support;

use predicates::prelude::*;
use support::{Project, cli, stdout_of, wat_plugin};

#[test]
fn check_lists_a_wat_plugin_and_finds_no_problem() {
    let project = Project::empty();
    let wasm = project.write("plugin.wasm", wat_plugin());
    let output = cli().arg("check").arg(&wasm).output().unwrap();
    let stdout = stdout_of(&output);
    assert!(output.status.success(), "{stdout}");
    for expected in [
        "\"id\": \"com.example.wat\"",
        "ohd.ohd_http_request  func (i32, i32, i32, i32) -> i32",
        "on_event  func (i32, i32) -> ()",
        "malloc    func (i32) -> i32",
        "ABI marker (ohd_abi): none (ABI 1 assumed)",
        "custom \"ohd_manifest\"",
        "none: the module follows ABI v1",
        "0 errors, 0 warnings",
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in:\n{stdout}"
        );
    }
}

#[test]
fn check_reports_every_problem_and_exits_with_1() {
    let project = Project::empty();
    let wasm = wat::parse_str(
        r#"(module
            (import "env" "abort" (func))
            (import "ohd" "ohd_log" (func (param i32 i32)))
            (memory (export "mem") 1)
            (func (export "on_event") (param i32))
            (@custom "ohd_manifest" "{\"id\":\"x\"}"))"#,
    )
    .unwrap();
    let path = project.write("bad.wasm", wasm);
    let output = cli()
        .args(["check", "--format", "json"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["ok"], false);
    assert_eq!(report["flavour"], "core");
    let messages: Vec<&str> = report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["message"].as_str().unwrap())
        .collect();
    let all = messages.join("\n");
    for expected in [
        "import `env.abort` is not provided: plugins may import only from module `ohd`",
        "import `ohd.ohd_log` has type `(i32, i32) -> ()`, expected `(i32, i32, i32) -> ()`",
        "no `memory` export",
        "export `on_event` has type `(i32) -> ()`, expected `(i32, i32) -> ()`",
        "no allocator",
        // A manifest missing fields is judged all the same: each gap and each broken rule.
        "manifest: `name`: the required field `name` is missing",
        "manifest: `id`: \"x\" is not a valid id",
    ] {
        assert!(all.contains(expected), "missing {expected:?} in:\n{all}");
    }
    assert_eq!(report["errors"].as_u64().unwrap() as usize, messages.len());
    // Each problem says its kind, the name docs/ABI.md lists it under.
    let kinds: Vec<&str> = report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["kind"].as_str().unwrap())
        .collect();
    for kind in [
        "foreign_import",
        "import_signature",
        "missing_export",
        "export_signature",
        "no_allocator",
        "manifest",
    ] {
        assert!(kinds.contains(&kind), "no {kind} in {kinds:?}");
    }

    let human = cli().arg("check").arg(&path).output().unwrap();
    assert!(
        stdout_of(&human).contains("error[foreign_import]: import `env.abort` is not provided"),
        "{}",
        stdout_of(&human)
    );
}

#[test]
fn check_refuses_a_file_that_is_not_wasm() {
    let project = Project::empty();
    let path = project.write("notes.wasm", "these are not the bytes you are looking for");
    cli()
        .arg("check")
        .arg(&path)
        .assert()
        .failure()
        .code(1)
        .stderr(
            predicate::str::contains("error: `")
                .and(predicate::str::contains("notes.wasm` cannot be checked")),
        )
        .stderr(predicate::str::contains(
            "not a WebAssembly module: it does not start with the WebAssembly header (`\\0asm`, version 1)",
        ));
}

#[test]
fn check_reads_a_component_as_the_component_flavour() {
    let project = Project::empty();
    let path = project.write("component.wasm", wat::parse_str("(component)").unwrap());
    let output = cli().arg("check").arg(&path).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stdout = stdout_of(&output);
    for expected in [
        "WebAssembly component (the component flavour, world `plugin`)",
        "error[manifest_missing]",
        "error[missing_export]: no `on-event` export",
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in:\n{stdout}"
        );
    }
    let json = cli()
        .args(["check", "--format", "json"])
        .arg(&path)
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(report["flavour"], "component");
}

#[test]
fn check_refuses_a_missing_file_naming_it() {
    cli()
        .args(["check", "does-not-exist.wasm"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "failed to read `does-not-exist.wasm`",
        ));
}

#[test]
fn cargo_style_invocation_parses_too() {
    let project = Project::empty();
    let wasm = project.write("plugin.wasm", wat_plugin());
    cli()
        .args(["otai-plugin", "check", "--format", "json"])
        .arg(&wasm)
        .assert()
        .success();
}

#[test]
fn color_follows_the_flag_and_no_color() {
    let project = Project::empty();
    let wasm = project.write("plugin.wasm", wat_plugin());
    let plain = cli().arg("check").arg(&wasm).output().unwrap();
    assert!(
        !stdout_of(&plain).contains('\u{1b}'),
        "NO_COLOR is set: no escapes"
    );
    let colored = cli()
        .args(["check", "--color", "always"])
        .arg(&wasm)
        .output()
        .unwrap();
    assert!(
        stdout_of(&colored).contains("\u{1b}[1m"),
        "--color always colours even a pipe"
    );
}
