//! `--format json` prints one JSON object on stdout even when the command fails before
//! it has a result: the error, its causes, and a refused module's problems.

mod support;

use serde_json::Value;
use support::{Project, cli, stderr_of};

fn json_of(output: &std::process::Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&output.stdout),
            stderr_of(output)
        )
    })
}

#[test]
fn check_of_bytes_that_are_no_module() {
    let project = Project::empty();
    let path = project.write("notes.wasm", "not a module");
    let output = cli()
        .args(["check", "--format", "json"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let json = json_of(&output);
    assert_eq!(json["ok"], false);
    assert!(
        json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("cannot be checked")
    );
    assert_eq!(json["error"]["problems"][0]["kind"], "not_wasm");
    // People still read the error on stderr.
    assert!(stderr_of(&output).contains("cannot be checked"));

    let output = cli()
        .args(["check", "--format", "json", "missing.wasm"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let json = json_of(&output);
    assert!(
        json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("failed to read `missing.wasm`")
    );
    assert_eq!(json["error"]["problems"], serde_json::json!([]));
}

#[test]
fn run_of_a_module_the_host_refuses() {
    let project = Project::empty();
    let wasm = wat::parse_str(
        r#"(module (import "env" "abort" (func)) (memory (export "memory") 1)
            (func (export "on_event") (param i32)))"#,
    )
    .unwrap();
    let path = project.write("bad.wasm", wasm);
    let output = cli()
        .args(["run", "--event", "ticket.created", "--format", "json"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let json = json_of(&output);
    assert_eq!(json["ok"], false);
    let kinds: Vec<&str> = json["error"]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "manifest_missing",
            "foreign_import",
            "export_signature",
            "no_allocator"
        ]
    );
}

#[test]
fn test_with_a_fixture_that_does_not_parse() {
    let project = Project::plugin("json-failure", "minimal");
    project.write("tests/fixtures/broken.toml", "[event]\nkind = \n");
    let output = project.cmd(&["test", "--format", "json"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let json = json_of(&output);
    assert_eq!(json["ok"], false);
    let all = format!("{} {}", json["error"]["message"], json["error"]["causes"]);
    assert!(all.contains("broken.toml:2:"), "{all}");
}
