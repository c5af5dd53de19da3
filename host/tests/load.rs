//! Loading: every rejection names what is wrong.

use crate::common;

use common::*;
use otai_plugin_host::abi::module::ProblemKind;
use otai_plugin_host::http::MockHttp;
use otai_plugin_host::{Event, LoadError};
use otai_plugin_test_support::{LOG, Module};
use serde_json::json;

fn m() -> serde_json::Value {
    manifest("com.example.load", &["ticket.created"], &[])
}

fn load_err(wasm: &[u8]) -> String {
    let host = test_host(MockHttp::new());
    match host.load(wasm) {
        Ok(_) => panic!("expected a load error"),
        Err(e) => e.to_string(),
    }
}

fn assert_contains(haystack: &str, needle: &str) {
    assert!(
        haystack.contains(needle),
        "expected {needle:?} in:\n{haystack}"
    );
}

#[test]
fn a_valid_plugin_loads_and_identical_bytes_compile_once() {
    let host = test_host(MockHttp::new());
    let wasm = plugin(&m(), NOOP);
    let a = host.load(&wasm).unwrap();
    let b = host.load(&wasm).unwrap();
    assert!(a.same_module(&b));
    assert_eq!(host.compiled_modules(), 1);
    assert_eq!(a.id(), "com.example.load");
    assert_eq!(a.manifest().version, "1.0.0");
    let other = host
        .load(&plugin(
            &manifest("com.example.other", &["ticket.created"], &[]),
            NOOP,
        ))
        .unwrap();
    assert!(!other.same_module(&a));
    assert_eq!(host.compiled_modules(), 2);
}

#[test]
fn manifest_section_count_and_syntax() {
    assert_contains(
        &load_err(&module_without_manifest(NOOP)),
        "no `ohd_manifest` custom section",
    );
    let twice = with_custom(
        plugin(&m(), NOOP),
        "ohd_manifest",
        m().to_string().as_bytes(),
    );
    assert_contains(&load_err(&twice), "2 `ohd_manifest` sections");
    let bad_utf8 = with_custom(
        module_without_manifest(NOOP),
        "ohd_manifest",
        b"{\"id\":\"\xff\"}",
    );
    assert_contains(&load_err(&bad_utf8), "not valid UTF-8");
    let bad_json = with_custom(module_without_manifest(NOOP), "ohd_manifest", b"{\"id\":");
    assert_contains(
        &load_err(&bad_json),
        "`ohd_manifest` section is not a valid manifest",
    );
    let trailing = with_custom(
        module_without_manifest(NOOP),
        "ohd_manifest",
        format!("{} x", m()).as_bytes(),
    );
    assert_contains(
        &load_err(&trailing),
        "`ohd_manifest` section is not a valid manifest",
    );
    let missing_field = with_custom(
        module_without_manifest(NOOP),
        "ohd_manifest",
        br#"{"id":"a.b"}"#,
    );
    // Every missing field is named, not only the first.
    let err = load_err(&missing_field);
    for field in ["name", "version", "description", "events"] {
        assert_contains(
            &err,
            &format!("manifest: `{field}`: the required field `{field}` is missing"),
        );
    }
}

#[test]
fn abi_marker() {
    let v1 = with_custom(
        plugin(&m(), NOOP),
        "ohd_abi",
        br#"{"abi":1,"sdk":"otai-plugin-sdk 0.1.0"}"#,
    );
    let host = test_host(MockHttp::new());
    let p = host.load(&v1).unwrap();
    assert_eq!(
        p.abi_marker().unwrap().sdk.as_deref(),
        Some("otai-plugin-sdk 0.1.0")
    );
    let v2 = with_custom(plugin(&m(), NOOP), "ohd_abi", br#"{"abi":2}"#);
    assert_contains(&load_err(&v2), "built for plugin ABI 2");
    let junk = with_custom(plugin(&m(), NOOP), "ohd_abi", b"abi=1");
    assert_contains(&load_err(&junk), "the `ohd_abi` section is invalid");
}

#[test]
fn non_wasm_is_rejected_and_a_component_is_judged_as_one() {
    assert_contains(&load_err(b"not wasm"), "WebAssembly header");
    // An empty component is read as the component flavour (tests/component.rs), and
    // refused for what it lacks, not for being a component.
    let component = b"\0asm\x0d\x00\x01\x00".to_vec();
    let host = test_host(MockHttp::new());
    let err = host.load(&component).unwrap_err();
    assert!(matches!(err, LoadError::Rejected(_)));
    assert_eq!(err.problems()[0].kind, ProblemKind::ManifestMissing);
}

#[test]
fn imports_only_from_ohd_with_abi_signatures() {
    let env = raw_plugin(
        &m(),
        r#"(module
        (import "env" "abort" (func))
        (memory (export "memory") 1)
        (func (export "ohd_alloc") (param i32) (result i32) (i32.const 8))
        (func (export "ohd_free") (param i32 i32))
        (func (export "on_event") (param i32 i32)))"#,
    );
    assert_eq!(
        load_err(&env),
        "import `env.abort` is not provided: plugins may import only from module `ohd`"
    );
    let wasi = raw_plugin(
        &m(),
        r#"(module
        (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
        (memory (export "memory") 1)
        (func (export "on_event") (param i32 i32)))"#,
    );
    assert_contains(
        &load_err(&wasi),
        "import `wasi_snapshot_preview1.fd_write` is not provided",
    );

    let unknown = raw_plugin(
        &m(),
        r#"(module
        (import "ohd" "ohd_sleep" (func (param i32)))
        (memory (export "memory") 1)
        (func (export "on_event") (param i32 i32)))"#,
    );
    let e = load_err(&unknown);
    assert_contains(
        &e,
        "import `ohd.ohd_sleep` is not a host function of ABI v1",
    );
    assert_contains(&e, "`ohd_log`");

    let wrong = raw_plugin(
        &m(),
        r#"(module
        (import "ohd" "ohd_log" (func (param i32 i32)))
        (memory (export "memory") 1)
        (func (export "ohd_alloc") (param i32) (result i32) (i32.const 8))
        (func (export "ohd_free") (param i32 i32))
        (func (export "on_event") (param i32 i32)))"#,
    );
    assert_eq!(
        load_err(&wrong),
        "import `ohd.ohd_log` has type `(i32, i32) -> ()`, expected `(i32, i32, i32) -> ()`"
    );

    let memory = raw_plugin(
        &m(),
        r#"(module
        (import "ohd" "memory" (memory 1))
        (func (export "on_event") (param i32 i32)))"#,
    );
    assert_contains(
        &load_err(&memory),
        "imported memory `ohd.memory` is not supported: the plugin must define and export its own memory",
    );
}

#[test]
fn every_problem_is_reported_at_once_as_check_lists_them() {
    // Three unrelated mistakes: the host names all three, not just the first.
    let wasm = raw_plugin(
        &m(),
        r#"(module
        (import "env" "abort" (func))
        (memory (export "memory") 1)
        (func (export "malloc") (param i32) (result i32) (i32.const 8))
        (func (export "on_event") (param i32)))"#,
    );
    let host = test_host(MockHttp::new());
    let err = host.load(&wasm).unwrap_err();
    let LoadError::Rejected(rejection) = &err else {
        panic!("expected a rejection, got {err:?}");
    };
    assert_eq!(
        rejection.kinds(),
        [
            ProblemKind::ForeignImport,
            ProblemKind::ExportSignature,
            ProblemKind::NoAllocator
        ]
    );
    let text = err.to_string();
    assert!(
        text.starts_with("3 problems:\n  - import `env.abort` is not provided"),
        "{text}"
    );
    assert_contains(&text, "\n  - export `on_event` has type `(i32) -> ()`");
    assert_contains(&text, "\n  - no allocator export");
}

#[test]
fn exports_are_checked() {
    let wrong_on_event = raw_plugin(
        &m(),
        r#"(module
        (memory (export "memory") 1)
        (func (export "ohd_alloc") (param i32) (result i32) (i32.const 8))
        (func (export "ohd_free") (param i32 i32))
        (func (export "on_event") (param i32)))"#,
    );
    assert_eq!(
        load_err(&wrong_on_event),
        "export `on_event` has type `(i32) -> ()`, expected `(i32, i32) -> ()`"
    );

    let no_on_event = raw_plugin(
        &m(),
        r#"(module
        (memory (export "memory") 1)
        (func (export "ohd_alloc") (param i32) (result i32) (i32.const 8))
        (func (export "ohd_free") (param i32 i32)))"#,
    );
    assert_contains(&load_err(&no_on_event), "no `on_event` export");

    let no_memory = raw_plugin(
        &m(),
        r#"(module
        (memory 1)
        (func (export "ohd_alloc") (param i32) (result i32) (i32.const 8))
        (func (export "ohd_free") (param i32 i32))
        (func (export "on_event") (param i32 i32)))"#,
    );
    assert_contains(&load_err(&no_memory), "no `memory` export");

    let no_alloc = raw_plugin(
        &m(),
        r#"(module
        (memory (export "memory") 1)
        (func (export "on_event") (param i32 i32)))"#,
    );
    assert_contains(
        &load_err(&no_alloc),
        "no allocator export: export `ohd_alloc`/`ohd_free` or `malloc`/`free`",
    );

    let half = raw_plugin(
        &m(),
        r#"(module
        (memory (export "memory") 1)
        (func (export "malloc") (param i32) (result i32) (i32.const 8))
        (func (export "on_event") (param i32 i32)))"#,
    );
    assert_contains(&load_err(&half), "found only `malloc`");

    let reexport = raw_plugin(
        &m(),
        r#"(module
        (import "ohd" "ohd_alloc" (func $a (param i32) (result i32)))
        (memory (export "memory") 1)
        (export "ohd_alloc" (func $a))
        (func (export "ohd_free") (param i32 i32))
        (func (export "on_event") (param i32 i32)))"#,
    );
    assert_contains(
        &load_err(&reexport),
        "export `ohd_alloc` re-exports an imported host function",
    );

    let huge = raw_plugin(
        &m(),
        r#"(module
        (memory (export "memory") 2000)
        (func (export "ohd_alloc") (param i32) (result i32) (i32.const 8))
        (func (export "ohd_free") (param i32 i32))
        (func (export "on_event") (param i32 i32)))"#,
    );
    assert_contains(&load_err(&huge), "over the host's memory limit");
}

#[test]
fn ui_panel_needs_a_true_render_panel() {
    let mut with_panel = m();
    with_panel["ui_panel"] = json!({"title": "JIRA Issue", "height": 140});
    assert_eq!(
        load_err(&plugin(&with_panel, NOOP)),
        "manifest declares `ui_panel` but the module exports no `render_panel`: export `render_panel(ticket_id_ptr: i32, ticket_id_len: i32) -> (url_ptr: i32, url_len: i32)`"
    );
    let indirect = plugin(
        &with_panel,
        r#"(func (export "on_event") (param i32 i32))
           (func (export "__ohd_render_panel_indirect") (param i32 i32) (result i32) (i32.const 0))"#,
    );
    let e = load_err(&indirect);
    assert_contains(
        &e,
        "manifest declares `ui_panel` but the module exports no `render_panel`",
    );
    assert_contains(
        &e,
        "run `cargo otai-plugin build`, which adds the multi-value `render_panel` adapter",
    );

    let panel_without_ui = plugin(
        &m(),
        r#"(func (export "on_event") (param i32 i32))
           (func (export "render_panel") (param i32 i32) (result i32 i32) (i32.const 0) (i32.const 0))"#,
    );
    let host = test_host(MockHttp::new());
    let p = host.load(&panel_without_ui).unwrap();
    assert!(
        p.warnings()
            .iter()
            .any(|w| w.kind == ProblemKind::RenderPanelUnused && w.message.contains("never called")),
        "{:?}",
        p.warnings()
    );
}

#[test]
fn a_libc_allocator_pair_works() {
    // `free(ptr)` takes one parameter; the host must call it that way.
    let libc = raw_plugin(
        &m(),
        r#"(module
        (import "ohd" "ohd_log" (func $log (param i32 i32 i32)))
        (memory (export "memory") 1)
        (global $freed (mut i32) (i32.const 0))
        (func (export "malloc") (param i32) (result i32) (i32.const 4096))
        (func (export "free") (param $p i32) (global.set $freed (local.get $p)))
        (func (export "on_event") (param i32 i32) (call $log (local.get 0) (i32.const 16) (i32.const 1))))"#,
    );
    let host = test_host(MockHttp::new());
    let p = host.load(&libc).unwrap();
    assert_eq!(
        p.allocator(),
        Some(otai_plugin_host::abi::wasm::AllocatorKind::Libc)
    );
    host.install(&p, json!({})).unwrap();
    let r = host
        .deliver_to("com.example.load", &Event::ticket_created())
        .unwrap();
    r.assert_ok().assert_logged("{\"event\":\"ticket");
}

#[test]
fn the_ohd_alloc_import_forwards_to_the_exported_allocator() {
    // Code written against the reference table imports ohd_alloc/ohd_free.
    let wasm = Module::new()
        .imports(&[
            r#"(import "ohd" "ohd_alloc" (func $ialloc (param i32) (result i32)))"#,
            r#"(import "ohd" "ohd_free" (func $ifree (param i32 i32)))"#,
            LOG,
        ])
        .pages(1)
        .heap(4096)
        .body(
            r#"(func (export "on_event") (param i32 i32)
          (local $p i32)
          (local.set $p (call $ialloc (i32.const 2)))
          (i32.store8 (local.get $p) (i32.const 111))
          (i32.store8 offset=1 (local.get $p) (i32.const 107))
          (call $log (local.get $p) (i32.const 2) (i32.const 1))
          (call $ifree (local.get $p) (i32.const 2)))"#,
        )
        .manifest(&m().to_string())
        .wasm();
    let host = test_host(MockHttp::new());
    install(&host, &wasm, json!({}));
    let r = host
        .deliver_to("com.example.load", &Event::ticket_created())
        .unwrap();
    r.assert_ok();
    assert_eq!(r.logs[0].message, "ok");
}

#[test]
fn initialize_runs_once_before_the_allocator() {
    let body = r#"
        (import "ohd" "ohd_log" (func $log (param i32 i32 i32)))
        (memory (export "memory") 1)
        (global $ready (mut i32) (i32.const 0))
        (global $count (mut i32) (i32.const 0))
        (func (export "_initialize") (global.set $ready (i32.const 1)) (global.set $count (i32.add (global.get $count) (i32.const 1))))
        (func (export "ohd_alloc") (param i32) (result i32)
          (if (i32.eqz (global.get $ready)) (then unreachable)) (i32.const 4096))
        (func (export "ohd_free") (param i32 i32))
        (func (export "on_event") (param i32 i32)
          (if (i32.ne (global.get $count) (i32.const 1)) (then unreachable)))"#;
    let wasm = raw_plugin(&m(), &format!("(module {body})"));
    let host = test_host(MockHttp::new());
    install(&host, &wasm, json!({}));
    host.deliver_to("com.example.load", &Event::ticket_created())
        .unwrap()
        .assert_ok();
    // A fresh instance per delivery: `_initialize` runs again and the count is 1 again.
    host.deliver_to("com.example.load", &Event::ticket_created())
        .unwrap()
        .assert_ok();
}

#[test]
fn load_file_names_the_path() {
    let host = test_host(MockHttp::new());
    let e = host.load_file("/nonexistent/plugin.wasm").unwrap_err();
    assert_contains(&e.to_string(), "failed to read `/nonexistent/plugin.wasm`");
}

#[test]
fn modules_over_the_size_limit_are_refused_before_compiling() {
    let wasm = plugin(&m(), NOOP);
    let host = otai_plugin_host::Host::builder()
        .http(MockHttp::new())
        .max_module_size(wasm.len() as u64 - 1)
        .build()
        .unwrap();
    let err = host.load(&wasm).unwrap_err();
    assert_eq!(err.problems()[0].kind, ProblemKind::ModuleTooLarge);
    assert_contains(&err.to_string(), "over the host's limit");
    assert_eq!(host.compiled_modules(), 0);
    // The default (32 MiB) loads it.
    test_host(MockHttp::new()).load(&wasm).unwrap();
}

#[test]
fn host_functions_work_from_the_start_function_and_initialize() {
    // Before the host has looked up `memory` itself: the import finds it on its own.
    let body = r#"
        (import "ohd" "ohd_log" (func $log (param i32 i32 i32)))
        (memory (export "memory") 1)
        (func $start (call $log (i32.const 0) (i32.const 5) (i32.const 1)))
        (start $start)
        (func (export "_initialize") (call $log (i32.const 8) (i32.const 4) (i32.const 1)))
        (func (export "ohd_alloc") (param i32) (result i32) (i32.const 4096))
        (func (export "ohd_free") (param i32 i32))
        (func (export "on_event") (param i32 i32))
        (data (i32.const 0) "start")
        (data (i32.const 8) "init")"#;
    let wasm = raw_plugin(&m(), &format!("(module {body})"));
    let host = test_host(MockHttp::new());
    install(&host, &wasm, json!({}));
    let r = host
        .deliver_to("com.example.load", &Event::ticket_created())
        .unwrap();
    r.assert_ok();
    let lines: Vec<&str> = r.logs.iter().map(|l| l.message.as_str()).collect();
    assert_eq!(lines, ["start", "init"]);
}

#[test]
fn a_plugin_debugs_as_its_id_version_flavour_and_allocator() {
    let host = test_host(MockHttp::new());
    let p = host.load(&plugin(&m(), NOOP)).unwrap();
    let debug = format!("{p:?}");
    assert!(
        debug.starts_with(
            "Plugin { id: \"com.example.load\", version: \"1.0.0\", flavour: Core, allocator: Some("
        ),
        "{debug}"
    );
}

#[test]
fn with_incremental_compilation_a_changed_function_runs_its_new_code() {
    // Two builds of one plugin: the same helper function, an `on_event` that differs
    // in one constant. The second load reuses the helper's code, never `on_event`'s.
    let build = |level: u32| {
        plugin(
            &m(),
            &format!(
                r#"(func $twice (param i32) (result i32) (i32.mul (local.get 0) (i32.const 2)))
                   (func (export "on_event") (param i32 i32)
                     (call $log (i32.const 2048) (call $twice (i32.const 1)) (i32.const {level})))
                   {data}"#,
                data = data(2048, b"ok")
            ),
        )
    };
    let host = otai_plugin_host::Host::builder()
        .incremental_compilation(true)
        .http(MockHttp::new())
        .build()
        .unwrap();
    for (level, expected) in [(1, "info"), (2, "warn"), (1, "info")] {
        install(&host, &build(level), json!({}));
        let reports = host.deliver(&Event::ticket_created());
        let line = &reports[0].logs[0];
        assert_eq!(
            (line.level.to_string().as_str(), line.message.as_str()),
            (expected, "ok")
        );
    }
}
