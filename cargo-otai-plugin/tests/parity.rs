//! Parity: `cargo otai-plugin check` and the reference host's `load` give every module
//! the same verdict: accepted by both, or refused by both for the same problems (kinds,
//! in order), and the same warnings. One module per kind of problem, plus good ones.

mod support;

use otai_plugin_host::Host;
use otai_plugin_host::abi::module::{ProblemKind, Severity};
use otai_plugin_host::http::MockHttp;
use serde_json::Value;
use support::{Project, cli, stderr_of, wat_string};

const MANIFEST: &str = r#"{"id":"com.example.parity","name":"P","version":"1.0.0","description":"d","events":["ticket.created"]}"#;
const PANEL_MANIFEST: &str = r#"{"id":"com.example.parity","name":"P","version":"1.0.0","description":"d","events":["ticket.created"],"ui_panel":{"title":"P","height":100}}"#;
const ON_EVENT: &str = r#"(func (export "on_event") (param i32 i32))"#;
const ALLOCATOR: &str = r#"(func (export "ohd_alloc") (param i32) (result i32) i32.const 16)
    (func (export "ohd_free") (param i32 i32))"#;

/// A module: `body`, then the manifest section (none when `manifest` is empty).
fn module(body: &str, manifest: &str) -> Vec<u8> {
    let section = if manifest.is_empty() {
        String::new()
    } else {
        format!(r#"(@custom "ohd_manifest" "{}")"#, wat_string(manifest))
    };
    wat::parse_str(format!("(module {body} {section})")).expect("the case assembles")
}

/// A complete plugin but for `extra` (imports first), and with `memory` in place of the
/// memory export.
fn plugin(extra: &str, memory: &str, manifest: &str) -> Vec<u8> {
    module(&format!("{extra} {memory} {ALLOCATOR}"), manifest)
}

const MEMORY: &str = r#"(memory (export "memory") 1)"#;

/// A component from `wat`, with `manifest` as its own `ohd_manifest` section (none when
/// empty).
fn component(wat: &str, manifest: &str) -> Vec<u8> {
    let mut wasm = wat::parse_str(wat).expect("the case assembles");
    if !manifest.is_empty() {
        let mut payload = vec![b"ohd_manifest".len() as u8];
        payload.extend_from_slice(b"ohd_manifest");
        payload.extend_from_slice(manifest.as_bytes());
        let mut len = payload.len();
        wasm.push(0);
        // The section size as unsigned LEB128.
        loop {
            let byte = (len & 0x7f) as u8;
            len >>= 7;
            wasm.push(if len == 0 { byte } else { byte | 0x80 });
            if len == 0 {
                break;
            }
        }
        wasm.extend_from_slice(&payload);
    }
    wasm
}

/// A component exporting `on-event: func(payload: string)` (and anything in `extra`).
fn on_event_component(extra: &str) -> String {
    format!(
        r#"(component
             {extra}
             (core module $m
               (memory (export "memory") 1)
               (func (export "realloc") (param i32 i32 i32 i32) (result i32) i32.const 16)
               (func (export "on-event") (param i32 i32)))
             (core instance $i (instantiate $m))
             (func (export "on-event") (param "payload" string)
               (canon lift (core func $i "on-event") (memory $i "memory")
                 (realloc (func $i "realloc")))))"#
    )
}

/// Each case: a name, the module, and the error kinds both must give (none: accepted).
fn cases() -> Vec<(&'static str, Vec<u8>, Vec<ProblemKind>)> {
    use ProblemKind::*;
    let marker = |json: &str| format!(r#"{ON_EVENT} (@custom "ohd_abi" "{}")"#, wat_string(json));
    vec![
        ("complete", plugin(ON_EVENT, MEMORY, MANIFEST), vec![]),
        (
            "complete component",
            component(&on_event_component(""), MANIFEST),
            vec![],
        ),
        (
            "component importing WASI",
            component(
                &on_event_component(r#"(import "wasi:cli/environment@0.2.0" (instance))"#),
                MANIFEST,
            ),
            vec![ForeignImport],
        ),
        (
            "component without a manifest of its own",
            component(&on_event_component(""), ""),
            vec![ManifestMissing],
        ),
        (
            "component with a panel manifest and no render-panel",
            component(&on_event_component(""), PANEL_MANIFEST),
            vec![RenderPanelMissing],
        ),
        (
            "empty component",
            component("(component)", MANIFEST),
            vec![MissingExport],
        ),
        (
            "complete, libc allocator",
            module(
                &format!(
                    r#"{MEMORY} {ON_EVENT} (func (export "malloc") (param i32) (result i32) i32.const 16) (func (export "free") (param i32))"#
                ),
                MANIFEST,
            ),
            vec![],
        ),
        (
            "complete, with a panel",
            plugin(
                &format!(
                    r#"{ON_EVENT} (func (export "render_panel") (param i32 i32) (result i32 i32) i32.const 0 i32.const 0)"#
                ),
                MEMORY,
                PANEL_MANIFEST,
            ),
            vec![],
        ),
        (
            "warnings only",
            module(
                &format!(
                    r#"{MEMORY} {ON_EVENT} (func (export "ohd_alloc") (param i32) (result i32) i32.const 0)
                    (func (export "malloc") (param i32) (result i32) i32.const 16) (func (export "free") (param i32))
                    (func (export "render_panel") (param i32 i32) (result i32 i32) i32.const 0 i32.const 0)"#
                ),
                &MANIFEST.replace("\"d\"", "\"d\",\"colour\":\"red\""),
            ),
            vec![],
        ),
        (
            "invalid wasm",
            plugin(
                r#"(func (export "on_event") (param i32 i32) (result i32))"#,
                MEMORY,
                MANIFEST,
            ),
            vec![InvalidWasm, ExportSignature],
        ),
        (
            "no manifest",
            plugin(ON_EVENT, MEMORY, ""),
            vec![ManifestMissing],
        ),
        (
            "two manifests",
            plugin(
                &format!(
                    r#"{ON_EVENT} (@custom "ohd_manifest" "{}")"#,
                    wat_string(MANIFEST)
                ),
                MEMORY,
                MANIFEST,
            ),
            vec![ManifestDuplicate],
        ),
        (
            "manifest not JSON",
            plugin(ON_EVENT, MEMORY, "{\"id\":"),
            vec![ManifestSyntax],
        ),
        (
            "manifest breaking its rules",
            plugin(
                ON_EVENT,
                MEMORY,
                &MANIFEST.replace("ticket.created", "ticket.create"),
            ),
            vec![Manifest],
        ),
        (
            "ABI marker unreadable",
            plugin(&marker("abi=1"), MEMORY, MANIFEST),
            vec![AbiMarker],
        ),
        (
            "ABI 2",
            plugin(&marker(r#"{"abi":2}"#), MEMORY, MANIFEST),
            vec![AbiVersion],
        ),
        (
            "foreign and WASI imports",
            plugin(
                &format!(
                    r#"(import "env" "abort" (func)) (import "wasi_snapshot_preview1" "proc_exit" (func (param i32))) {ON_EVENT}"#
                ),
                MEMORY,
                MANIFEST,
            ),
            vec![ForeignImport, ForeignImport],
        ),
        (
            "unknown host function",
            plugin(
                &format!(r#"(import "ohd" "ohd_sleep" (func (param i32))) {ON_EVENT}"#),
                MEMORY,
                MANIFEST,
            ),
            vec![UnknownImport],
        ),
        (
            "host function with the wrong signature",
            plugin(
                &format!(r#"(import "ohd" "ohd_log" (func (param i32 i32))) {ON_EVENT}"#),
                MEMORY,
                MANIFEST,
            ),
            vec![ImportSignature],
        ),
        (
            "imported memory",
            module(
                &format!(
                    r#"(import "ohd" "memory" (memory 1)) (export "memory" (memory 0)) {ALLOCATOR} {ON_EVENT}"#
                ),
                MANIFEST,
            ),
            vec![ImportKind],
        ),
        (
            "no memory export",
            plugin(ON_EVENT, "(memory 1)", MANIFEST),
            vec![MissingExport],
        ),
        (
            "no on_event",
            plugin("", MEMORY, MANIFEST),
            vec![MissingExport],
        ),
        (
            "on_event of the wrong type",
            plugin(
                r#"(func (export "on_event") (param i32))"#,
                MEMORY,
                MANIFEST,
            ),
            vec![ExportSignature],
        ),
        (
            "re-exported import",
            module(
                &format!(
                    r#"(import "ohd" "ohd_alloc" (func $a (param i32) (result i32))) {MEMORY}
                    (export "ohd_alloc" (func $a)) (func (export "ohd_free") (param i32 i32))
                    (func (export "malloc") (param i32) (result i32) i32.const 16) (func (export "free") (param i32)) {ON_EVENT}"#
                ),
                MANIFEST,
            ),
            vec![ReexportedImport],
        ),
        (
            "64-bit memory",
            plugin(ON_EVENT, r#"(memory (export "memory") i64 1)"#, MANIFEST),
            vec![Memory],
        ),
        (
            "memory over the default limit",
            plugin(ON_EVENT, r#"(memory (export "memory") 1025)"#, MANIFEST),
            vec![MemoryLimit],
        ),
        (
            "no allocator",
            module(&format!("{MEMORY} {ON_EVENT}"), MANIFEST),
            vec![NoAllocator],
        ),
        (
            "ui_panel without render_panel",
            plugin(
                &format!(
                    r#"{ON_EVENT} (func (export "__ohd_render_panel_indirect") (param i32 i32) (result i32) i32.const 0)"#
                ),
                MEMORY,
                PANEL_MANIFEST,
            ),
            vec![RenderPanelMissing],
        ),
        (
            "everything at once",
            module(
                r#"(import "env" "abort" (func)) (memory 1) (func (export "on_event") (param i32))"#,
                PANEL_MANIFEST,
            ),
            vec![
                ForeignImport,
                MissingExport,
                ExportSignature,
                NoAllocator,
                RenderPanelMissing,
            ],
        ),
    ]
}

/// `(error kinds, warning kinds)` as `check --format json` lists them.
fn check_verdict(project: &Project, name: &str, wasm: &[u8]) -> (Vec<String>, Vec<String>) {
    let path = project.write(&format!("{}.wasm", name.replace([' ', ','], "_")), wasm);
    let output = cli()
        .args(["check", "--format", "json"])
        .arg(&path)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "{name}: check printed no JSON ({e}): {}",
            stderr_of(&output)
        )
    });
    let kinds = |severity: &str| -> Vec<String> {
        report["problems"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["severity"] == severity)
            .map(|p| p["kind"].as_str().unwrap().to_owned())
            .collect()
    };
    let (errors, warnings) = (kinds("error"), kinds("warning"));
    assert_eq!(
        output.status.code(),
        Some(if errors.is_empty() { 0 } else { 1 }),
        "{name}: check's exit status"
    );
    (errors, warnings)
}

/// `(error kinds, warning kinds)` of the host's `load`.
fn host_verdict(host: &Host, wasm: &[u8]) -> (Vec<String>, Vec<String>) {
    let names = |severity: Severity, problems: &[otai_plugin_host::abi::module::Problem]| {
        problems
            .iter()
            .filter(|p| p.severity == severity)
            .map(|p| p.kind.as_str().to_owned())
            .collect::<Vec<_>>()
    };
    match host.load(wasm) {
        Ok(plugin) => (Vec::new(), names(Severity::Warning, plugin.warnings())),
        Err(err) => (
            names(Severity::Error, err.problems()),
            names(Severity::Warning, err.problems()),
        ),
    }
}

#[test]
fn check_and_the_host_give_every_module_the_same_verdict() {
    let project = Project::empty();
    let host = Host::builder().http(MockHttp::new()).build().unwrap();
    let mut mismatches = Vec::new();
    for (name, wasm, expected) in cases() {
        let expected: Vec<String> = expected.iter().map(|k| k.as_str().to_owned()).collect();
        let check = check_verdict(&project, name, &wasm);
        let host = host_verdict(&host, &wasm);
        if check != host || check.0 != expected {
            mismatches.push(format!(
                "{name}: expected errors {expected:?}\n  check: {check:?}\n  host:  {host:?}"
            ));
        }
        if name == "warnings only" && check.1.len() < 3 {
            mismatches.push(format!(
                "{name}: expected three warnings, check gave {:?}",
                check.1
            ));
        }
    }
    assert!(mismatches.is_empty(), "\n{}", mismatches.join("\n"));
}

#[test]
fn bytes_that_are_no_module_get_the_same_message_from_check_and_the_host() {
    let project = Project::empty();
    let host = Host::builder().http(MockHttp::new()).build().unwrap();
    let cases: [(&str, Vec<u8>, ProblemKind); 3] = [
        ("text", b"(module)".to_vec(), ProblemKind::NotWasm),
        (
            "truncated component",
            b"\0asm\x0d\x00\x01\x00\x07\xff".to_vec(),
            ProblemKind::InvalidWasm,
        ),
        (
            "truncated",
            b"\0asm\x01\x00\x00\x00\x01\xff".to_vec(),
            ProblemKind::InvalidWasm,
        ),
    ];
    for (name, bytes, kind) in cases {
        let err = host.load(&bytes).unwrap_err();
        assert_eq!(err.problems().len(), 1, "{name}: {err}");
        assert_eq!(err.problems()[0].kind, kind, "{name}");
        let path = project.write(&format!("{name}.wasm"), &bytes);
        let output = cli().arg("check").arg(&path).output().unwrap();
        assert_eq!(output.status.code(), Some(1), "{name}");
        let stderr = stderr_of(&output);
        assert!(
            stderr.contains(&err.problems()[0].message),
            "{name}: check said\n{stderr}\nthe host said\n{err}"
        );
    }
}
