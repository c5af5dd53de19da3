//! `module::accept`: every reason a host refuses a module, each with its kind, all at
//! once; and `ModuleInfo`, what a module declares.

use otai_plugin_abi::module::{
    AcceptOptions, Acceptance, ModuleInfo, ProblemKind, ReadError, Severity, accept,
};

const MANIFEST: &str = r#"{"id":"com.example.t","name":"T","version":"1.0.0","description":"d","events":["ticket.created"]}"#;

fn escaped(json: &str) -> String {
    json.replace('\\', "\\\\").replace('"', "\\\"")
}

/// A module with memory, an allocator, the manifest and `extra`.
fn module(extra: &str) -> String {
    module_with_manifest(extra, MANIFEST)
}

fn module_with_manifest(extra: &str, manifest: &str) -> String {
    format!(
        r#"(module
            {extra}
            (memory (export "memory") 1)
            (func (export "ohd_alloc") (param i32) (result i32) i32.const 16)
            (func (export "ohd_free") (param i32 i32))
            (@custom "ohd_manifest" "{}"))"#,
        escaped(manifest)
    )
}

fn verdict(wat: &str) -> Acceptance {
    accept(&wat::parse_str(wat).unwrap(), &AcceptOptions::default())
}

fn kinds(v: &Acceptance, severity: Severity) -> Vec<ProblemKind> {
    v.problems
        .iter()
        .filter(|p| p.severity == severity)
        .map(|p| p.kind)
        .collect()
}

fn messages(v: &Acceptance) -> String {
    v.problems
        .iter()
        .map(|p| p.message.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

const ON_EVENT: &str = r#"(func (export "on_event") (param i32 i32))"#;

#[test]
fn a_complete_module_is_clean() {
    let v = verdict(&module(ON_EVENT));
    assert!(v.problems.is_empty(), "{:?}", v.problems);
    assert_eq!(v.manifest.unwrap().id, "com.example.t");
    assert_eq!(v.allocator, Some(otai_plugin_abi::wasm::AllocatorKind::Ohd));
    assert!(!v.has_render_panel && !v.has_initialize);
}

#[test]
fn every_problem_is_reported_at_once_with_its_kind() {
    let v = verdict(&module(
        r#"(import "env" "abort" (func))
           (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
           (import "ohd" "ohd_log" (func (param i32 i32)))
           (import "ohd" "ohd_sleep" (func (param i32)))
           (import "ohd" "table" (table 1 funcref))
           (func (export "on_event") (param i32))"#,
    ));
    use ProblemKind::*;
    assert_eq!(
        kinds(&v, Severity::Error),
        [
            ForeignImport,
            ForeignImport,
            ImportSignature,
            UnknownImport,
            ImportKind,
            ExportSignature
        ]
    );
    let all = messages(&v);
    for needle in [
        "import `env.abort` is not provided: plugins may import only from module `ohd`",
        "WASI is not available",
        "import `ohd.ohd_log` has type `(i32, i32) -> ()`, expected `(i32, i32, i32) -> ()`",
        "import `ohd.ohd_sleep` is not a host function of ABI v1 (up to 1.0, the version this \
         host implements); the `ohd` module provides `ohd_log`",
        "imported table `ohd.table` is not supported",
        "export `on_event` has type `(i32) -> ()`, expected `(i32, i32) -> ()`",
    ] {
        assert!(all.contains(needle), "{needle:?} in\n{all}");
    }
}

#[test]
fn exports_memory_and_allocators() {
    use ProblemKind::*;
    let v = verdict(
        r#"(module (memory 1) (func (export "malloc") (param i32) (result i32) i32.const 0)
           (@custom "ohd_manifest" "{}"))"#,
    );
    // `{}` misses every required field, each named; the exports are judged all the same.
    assert_eq!(
        kinds(&v, Severity::Error),
        [
            Manifest,
            Manifest,
            Manifest,
            Manifest,
            Manifest,
            MissingExport,
            MissingExport,
            NoAllocator
        ]
    );
    assert!(messages(&v).contains("manifest: `events`: the required field `events` is missing"));
    assert!(messages(&v).contains("found only `malloc`, without its other half"));

    let v = verdict(&module_with_manifest(
        r#"(func (export "on_event") (param i32 i32))
           (func (export "malloc") (param i32) (result i32) i32.const 0)
           (func (export "free") (param i32))
           (global (export "render_panel") i32 (i32.const 0))"#,
        MANIFEST,
    ));
    assert_eq!(kinds(&v, Severity::Error), [ExportSignature]);
    assert!(messages(&v).contains("export `render_panel` is a global, expected a function"));
    // Both pairs: `ohd_alloc`/`ohd_free` win.
    assert_eq!(v.allocator, Some(otai_plugin_abi::wasm::AllocatorKind::Ohd));

    // The libc pair alone is a complete allocator: no warning.
    let libc = verdict(&format!(
        r#"(module (memory (export "memory") 1)
               (func (export "on_event") (param i32 i32))
               (func (export "malloc") (param i32) (result i32) i32.const 0)
               (func (export "free") (param i32))
               (@custom "ohd_manifest" "{}"))"#,
        escaped(MANIFEST)
    ));
    assert!(libc.problems.is_empty(), "{:?}", libc.problems);
    assert_eq!(
        libc.allocator,
        Some(otai_plugin_abi::wasm::AllocatorKind::Libc)
    );

    let v = verdict(&format!(
        r#"(module (memory (export "memory") 1)
               (func (export "on_event") (param i32 i32))
               (func (export "ohd_alloc") (param i32) (result i32) i32.const 0)
               (func (export "malloc") (param i32) (result i32) i32.const 0)
               (func (export "free") (param i32))
               (@custom "ohd_manifest" "{}"))"#,
        escaped(MANIFEST)
    ));
    assert_eq!(kinds(&v, Severity::Warning), [AllocatorFallback]);
    assert_eq!(
        v.allocator,
        Some(otai_plugin_abi::wasm::AllocatorKind::Libc)
    );

    let reexport = verdict(&module(
        r#"(import "ohd" "ohd_log" (func $log (param i32 i32 i32)))
           (import "ohd" "ohd_alloc" (func $a (param i32) (result i32)))
           (export "_initialize" (func $a))
           (func (export "on_event") (param i32 i32))"#,
    ));
    // `_initialize` has another signature; re-exporting with the right one:
    assert_eq!(kinds(&reexport, Severity::Error), [ExportSignature]);
    let reexport = wat::parse_str(
        r#"(module (import "ohd" "ohd_alloc" (func $a (param i32) (result i32)))
           (memory (export "memory") 1) (export "ohd_alloc" (func $a))
           (func (export "ohd_free") (param i32 i32)) (func (export "on_event") (param i32 i32)))"#,
    )
    .unwrap();
    let v = accept(&reexport, &AcceptOptions::default());
    assert!(
        kinds(&v, Severity::Error).contains(&ReexportedImport),
        "{:?}",
        v.problems
    );
}

#[test]
fn memories_are_32_bit_unshared_and_within_the_limit() {
    use ProblemKind::*;
    let at = |pages: u32, limit: u64| {
        let wat = module(ON_EVENT).replace(
            r#"(memory (export "memory") 1)"#,
            &format!(r#"(memory (export "memory") {pages})"#),
        );
        let v = accept(
            &wat::parse_str(&wat).unwrap(),
            &AcceptOptions {
                memory_limit: limit,
                ..AcceptOptions::default()
            },
        );
        kinds(&v, Severity::Error)
    };
    // 1024 pages are exactly 64 MiB: the limit is inclusive.
    assert_eq!(at(1024, 64 << 20), []);
    assert_eq!(at(1025, 64 << 20), [MemoryLimit]);
    assert_eq!(at(2, 65536), [MemoryLimit]);
    assert_eq!(at(1, 65536), []);

    let over = verdict(&module(ON_EVENT).replace(
        r#"(memory (export "memory") 1)"#,
        r#"(memory (export "memory") 1025)"#,
    ));
    assert_eq!(
        messages(&over),
        "the memory starts at 67174400 bytes (64.1 MiB), over the host's memory limit of \
         67108864 bytes (64.0 MiB) per instance: lower its initial size (with Rust or clang, the \
         linker's `--initial-memory`)"
    );

    let memory64 = verdict(&module(ON_EVENT).replace(
        r#"(memory (export "memory") 1)"#,
        r#"(memory (export "memory") i64 1)"#,
    ));
    assert_eq!(kinds(&memory64, Severity::Error), [Memory]);
    let shared = verdict(&module(ON_EVENT).replace(
        r#"(memory (export "memory") 1)"#,
        r#"(memory (export "memory") 1 1 shared)"#,
    ));
    assert_eq!(kinds(&shared, Severity::Error), [Memory]);
    let global = verdict(&module(ON_EVENT).replace(
        r#"(memory (export "memory") 1)"#,
        r#"(memory 1) (global (export "memory") i32 (i32.const 0))"#,
    ));
    assert_eq!(kinds(&global, Severity::Error), [Memory]);
}

/// Each instance gets one memory and one table: a module with more could never be
/// instantiated, so it is refused at load rather than at every delivery.
#[test]
fn one_memory_and_at_most_one_table_of_at_most_20_000_elements() {
    use ProblemKind::*;
    let with = |extra: &str| verdict(&module(&format!("{ON_EVENT} {extra}")));

    let two_memories = with("(memory 1)");
    assert_eq!(kinds(&two_memories, Severity::Error), [Memory]);
    assert_eq!(
        messages(&two_memories),
        "the module defines 2 memories; a plugin has exactly one, exported as `memory`"
    );

    assert_eq!(kinds(&with("(table 20000 funcref)"), Severity::Error), []);
    let large = with("(table 20001 funcref)");
    assert_eq!(kinds(&large, Severity::Error), [Table]);
    assert_eq!(
        messages(&large),
        "a table starts with 20001 elements, over the host's limit of 20000 per table"
    );
    let two_tables = with("(table 1 funcref) (table 1 funcref)");
    assert_eq!(kinds(&two_tables, Severity::Error), [Table]);
    assert_eq!(
        messages(&two_tables),
        "the module defines 2 tables; a plugin has at most one"
    );
}

#[test]
fn manifest_sections() {
    use ProblemKind::*;
    let none = verdict(&module(ON_EVENT).replace(
        &format!(r#"(@custom "ohd_manifest" "{}")"#, escaped(MANIFEST)),
        "",
    ));
    assert_eq!(kinds(&none, Severity::Error), [ManifestMissing]);
    let twice = verdict(&module(&format!(
        r#"{ON_EVENT} (@custom "ohd_manifest" "{}")"#,
        escaped(MANIFEST)
    )));
    assert_eq!(kinds(&twice, Severity::Error), [ManifestDuplicate]);
    assert!(messages(&twice).contains("2 `ohd_manifest` sections"));
    let doubled = verdict(&module_with_manifest(
        ON_EVENT,
        &format!("{MANIFEST}{MANIFEST}"),
    ));
    assert!(messages(&doubled).contains("holds 2 JSON documents back to back"));
    let empty = verdict(&module_with_manifest(ON_EVENT, ""));
    assert_eq!(kinds(&empty, Severity::Error), [ManifestSyntax]);
    let invalid = verdict(&module_with_manifest(
        ON_EVENT,
        r#"{"id":"Bad","name":"T","version":"1","description":"d","events":["ticket.create"],"colour":1}"#,
    ));
    assert_eq!(
        kinds(&invalid, Severity::Error),
        [Manifest, Manifest, Manifest]
    );
    assert_eq!(kinds(&invalid, Severity::Warning), [Manifest]);
    assert!(messages(&invalid).contains("manifest: `events[0]`"));
}

#[test]
fn abi_marker() {
    use ProblemKind::*;
    let marked = |marker: &str| {
        verdict(&module(&format!(
            r#"{ON_EVENT} (@custom "ohd_abi" "{}")"#,
            escaped(marker)
        )))
    };
    let v1 = marked(r#"{"abi":1,"sdk":"otai-plugin-sdk 0.1.0"}"#);
    assert!(v1.problems.is_empty());
    assert_eq!(
        v1.marker.unwrap().sdk.as_deref(),
        Some("otai-plugin-sdk 0.1.0")
    );
    let v2 = marked(r#"{"abi":2}"#);
    assert_eq!(kinds(&v2, Severity::Error), [AbiVersion]);
    assert!(messages(&v2).contains("built for plugin ABI 2"));
    assert_eq!(kinds(&marked("abi=1"), Severity::Error), [AbiMarker]);
}

#[test]
fn render_panel_and_ui_panel() {
    use ProblemKind::*;
    let with_ui = MANIFEST.replace('}', r#","ui_panel":{"title":"P","height":100}}"#);
    let missing = verdict(&module_with_manifest(ON_EVENT, &with_ui));
    assert_eq!(kinds(&missing, Severity::Error), [RenderPanelMissing]);
    assert_eq!(
        messages(&missing),
        "manifest declares `ui_panel` but the module exports no `render_panel`: export \
         `render_panel(ticket_id_ptr: i32, ticket_id_len: i32) -> (url_ptr: i32, url_len: i32)`"
    );
    let indirect =
        r#"(func (export "__ohd_render_panel_indirect") (param i32 i32) (result i32) i32.const 0)"#;
    let sdk = verdict(&module_with_manifest(
        &format!("{ON_EVENT} {indirect}"),
        &with_ui,
    ));
    assert!(messages(&sdk).contains("run `cargo otai-plugin build`"));
    let no_ui = verdict(&module(&format!("{ON_EVENT} {indirect}")));
    assert_eq!(kinds(&no_ui, Severity::Warning), [RenderPanelIndirect]);
    assert!(messages(&no_ui).contains("run `cargo otai-plugin build`"));

    let render = r#"(func (export "render_panel") (param i32 i32) (result i32 i32) i32.const 0 i32.const 0)"#;
    let unused = verdict(&module(&format!("{ON_EVENT} {render}")));
    assert_eq!(kinds(&unused, Severity::Warning), [RenderPanelUnused]);
    assert!(messages(&unused).contains("never called"));
    let good = verdict(&module_with_manifest(
        &format!("{ON_EVENT} {render}"),
        &with_ui,
    ));
    assert!(good.problems.is_empty(), "{:?}", good.problems);
    assert!(good.has_render_panel);
}

#[test]
fn unreadable_bytes_get_one_problem() {
    use ProblemKind::*;
    let one = |bytes: &[u8]| kinds(&accept(bytes, &AcceptOptions::default()), Severity::Error);
    assert_eq!(one(b"not wasm"), [NotWasm]);
    assert_eq!(one(b"(module)"), [NotWasm]);
    // A component is judged as the component flavour: an empty one lacks a manifest
    // and `on-event`.
    assert_eq!(
        one(&wat::parse_str("(component)").unwrap()),
        [ManifestMissing, MissingExport]
    );
    assert_eq!(one(b"\0asm\x01\x00\x00\x00\x01\xff"), [InvalidWasm]);
    assert_eq!(one(b"\0asm\x0d\x00\x01\x00\x07\xff"), [InvalidWasm]);
    // Readable, but not valid: a function whose body does not type-check.
    let invalid = module(r#"(func (export "on_event") (param i32 i32) (result i32))"#);
    let v = verdict(&invalid);
    assert_eq!(kinds(&v, Severity::Error), [InvalidWasm, ExportSignature]);
}

#[test]
fn module_info_reads_signatures_and_sections() {
    let wasm = wat::parse_str(
        r#"(module
            (import "ohd" "ohd_log" (func (param i32 i32 i32)))
            (memory (export "memory") 1)
            (func (export "on_event") (param i32 i32))
            (func (export "pair") (param i32 i32) (result i32 i32) local.get 0 local.get 1)
            (@custom "ohd_manifest" "{}"))"#,
    )
    .unwrap();
    let info = ModuleInfo::parse(&wasm).unwrap();
    assert_eq!(
        info.imports[0].item.describe(),
        "func (i32, i32, i32) -> ()"
    );
    assert_eq!(
        info.export("on_event").unwrap().item.describe(),
        "func (i32, i32) -> ()"
    );
    assert_eq!(
        info.export("pair").unwrap().item.describe(),
        "func (i32, i32) -> (i32, i32)"
    );
    assert_eq!(
        info.export("memory").unwrap().item.describe(),
        "memory 1 pages"
    );
    assert_eq!(info.custom("ohd_manifest").len(), 1);
    assert!(
        info.sections
            .iter()
            .any(|s| s.name == "custom \"ohd_manifest\"" && s.bytes > 2)
    );
    assert_eq!(info.size(), wasm.len() as u64);
}

#[test]
fn read_errors_name_what_the_bytes_are() {
    let err = ModuleInfo::parse(b"hello").unwrap_err();
    assert!(matches!(err, ReadError::NotWasm(_)));
    assert!(err.to_string().contains("`\\0asm`"), "{err}");
    let component = wat::parse_str("(component)").unwrap();
    let err = ModuleInfo::parse(&component).unwrap_err().to_string();
    assert!(err.contains("component, not a core module"), "{err}");
}

#[test]
fn size_limits_of_the_module_and_the_manifest_are_inclusive() {
    use ProblemKind::*;
    use otai_plugin_abi::limits::MAX_MANIFEST;
    // A manifest padded with spaces (valid JSON) to an exact size.
    let padded = |len: usize| format!("{MANIFEST}{}", " ".repeat(len - MANIFEST.len()));
    let at_limit = verdict(&module_with_manifest(ON_EVENT, &padded(MAX_MANIFEST)));
    assert_eq!(kinds(&at_limit, Severity::Error), []);
    let over = verdict(&module_with_manifest(ON_EVENT, &padded(MAX_MANIFEST + 1)));
    assert_eq!(kinds(&over, Severity::Error), [ManifestTooLarge]);
    assert!(messages(&over).contains(&format!(
        "{} bytes, over the limit of {MAX_MANIFEST}",
        MAX_MANIFEST + 1
    )));

    let wasm = wat::parse_str(module(ON_EVENT)).unwrap();
    let size = wasm.len() as u64;
    let with_limit = |max_module_size| {
        let options = AcceptOptions {
            max_module_size,
            ..AcceptOptions::default()
        };
        kinds(&accept(&wasm, &options), Severity::Error)
    };
    assert_eq!(with_limit(size), []);
    assert_eq!(with_limit(size - 1), [ModuleTooLarge]);
}

/// A component importing `host` with the given instance type, with a manifest and no
/// exports.
fn component_importing(instance: &str) -> Vec<u8> {
    let manifest = r#"{"id":"com.example.c","name":"C","version":"1.0.0","description":"C.","events":["ticket.created"]}"#;
    let mut wasm = wat::parse_str(format!(
        r#"(component (import "ohd:plugin/host@1.0.0" (instance {instance})))"#
    ))
    .unwrap();
    // A custom section: id 0, size, name, contents.
    let mut body = vec![b"ohd_manifest".len() as u8];
    body.extend_from_slice(b"ohd_manifest");
    body.extend_from_slice(manifest.as_bytes());
    wasm.push(0);
    wasm.push(body.len() as u8);
    wasm.extend_from_slice(&body);
    wasm
}

#[test]
fn a_components_host_functions_are_checked_by_name_and_structural_type() {
    use ProblemKind::*;
    let wrong = accept(
        &component_importing(r#"(export "log" (func (param "message" string)))"#),
        &AcceptOptions::default(),
    );
    assert_eq!(wrong.flavour, otai_plugin_abi::module::Flavour::Component);
    assert_eq!(
        kinds(&wrong, Severity::Error),
        [ImportSignature, MissingExport]
    );
    assert!(
        messages(&wrong).contains(
            "import `ohd:plugin/host@1.0.0#log` has type `func(message: string)`, expected \
             `func(level: enum{debug, info, warn, error}, message: string)`"
        ),
        "{}",
        messages(&wrong)
    );
    let unknown = accept(
        &component_importing(r#"(export "sleep" (func (param "ms" u32)))"#),
        &AcceptOptions::default(),
    );
    assert_eq!(
        kinds(&unknown, Severity::Error),
        [UnknownImport, MissingExport]
    );
    assert!(messages(&unknown).contains("`log`, `http-request`, `add-reply`, `set-custom-field`"));
}
