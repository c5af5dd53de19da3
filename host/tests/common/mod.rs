//! Hand-written WAT plugins for the host's tests.
#![allow(dead_code, unreachable_pub)]

use otai_plugin_test_support::{Allocator, FIELD, HTTP, LOG, Module, REPLY, assemble};
pub use otai_plugin_test_support::{Loopback, data, with_custom};
use serde_json::{Value, json};

/// A manifest with the required fields.
pub fn manifest(id: &str, events: &[&str], allowed_hosts: &[&str]) -> Value {
    json!({
        "id": id,
        "name": "Test plugin",
        "version": "1.0.0",
        "description": "A plugin for the host's tests.",
        "events": events,
        "permissions": { "http": { "allowed_hosts": allowed_hosts } }
    })
}

/// The core modules of the host's tests: the four host imports, memory (2 pages), a
/// growing bump allocator at 64 KiB and a no-op `ohd_free`; `body` adds `on_event` and
/// anything else.
fn core_module(body: &str) -> Module {
    Module::new()
        .imports(&[LOG, HTTP, REPLY, FIELD])
        .allocator(Allocator::Growing)
        .body(body)
}

/// A module from the standard parts and `body`, without a manifest.
pub fn module_without_manifest(body: &str) -> Vec<u8> {
    core_module(body).wasm()
}

/// A plugin: the standard parts + `body` + the manifest section.
pub fn plugin(manifest: &Value, body: &str) -> Vec<u8> {
    core_module(body).manifest(&manifest.to_string()).wasm()
}

/// A plugin from a full module text (no standard parts) + the manifest section.
pub fn raw_plugin(manifest: &Value, module: &str) -> Vec<u8> {
    with_custom(
        assemble(module),
        "ohd_manifest",
        manifest.to_string().as_bytes(),
    )
}

/// `on_event` that logs the whole payload at info.
pub const ECHO: &str = r#"(func (export "on_event") (param i32 i32) (call $log (local.get 0) (local.get 1) (i32.const 1)))"#;

/// `on_event` that does nothing.
pub const NOOP: &str = r#"(func (export "on_event") (param i32 i32))"#;

/// An `on_event` calling `func` with the bytes of `json` (at offset 1024) and trapping
/// unless it returns `expected`.
pub fn expect_status(func: &str, json: &[u8], expected: u32) -> String {
    format!(
        r#"(func (export "on_event") (param i32 i32)
             (if (i32.ne (call ${func} (i32.const 1024) (i32.const {len})) (i32.const {expected}))
               (then unreachable)))
           {data}"#,
        len = json.len(),
        data = data(1024, json)
    )
}

/// An `on_event` sending the HTTP request `json` (offset 1024), storing the response
/// pointer/length at 512/516 and logging the response body, then logging the status
/// as a decimal-free marker: the body is logged at warn when the status is 0 or 403.
pub fn http_call(json: &[u8]) -> String {
    format!(
        r#"(func (export "on_event") (param i32 i32)
             (local $status i32)
             (local.set $status (call $http (i32.const 1024) (i32.const {len}) (i32.const 512) (i32.const 516)))
             (call $log (i32.load (i32.const 512)) (i32.load (i32.const 516))
               (select (i32.const 2) (i32.const 1)
                 (i32.or (i32.eqz (local.get $status)) (i32.eq (local.get $status) (i32.const 403))))))
           {data}"#,
        len = json.len(),
        data = data(1024, json)
    )
}

/// A host with a short deadline and a mock transport.
pub fn test_host(mock: otai_plugin_host::http::MockHttp) -> otai_plugin_host::Host {
    otai_plugin_host::Host::builder()
        .deadline(std::time::Duration::from_secs(5))
        .max_instances(8)
        .http(mock)
        .build()
        .expect("host builds")
}

/// Loads and installs a plugin with `config`; returns its id.
pub fn install(host: &otai_plugin_host::Host, wasm: &[u8], config: Value) -> String {
    let plugin = host
        .load(wasm)
        .unwrap_or_else(|e| panic!("load failed: {e}"));
    host.install(&plugin, config)
        .unwrap_or_else(|e| panic!("install failed: {e}"));
    plugin.id().to_owned()
}

/// The host functions as a component's core module imports them (the canonical ABI's
/// lowered signatures: `log(level, ptr, len)`, and a return pointer last for the results
/// that do not fit in one value), memory (2 pages), and `cabi_realloc` as a bump
/// allocator at 64 KiB; `body` adds `on-event` and anything else.
pub const COMPONENT_PRELUDE: &str = r#"
  (import "ohd:plugin/host@1.0.0" "log" (func $log (param i32 i32 i32)))
  (import "ohd:plugin/host@1.0.0" "http-request" (func $http (param i32 i32 i32 i32 i32 i32 i32 i32 i32)))
  (import "ohd:plugin/host@1.0.0" "add-reply" (func $reply (param i32 i32 i32 i32 i32 i32)))
  (import "ohd:plugin/host@1.0.0" "set-custom-field" (func $field (param i32 i32 i32 i32 i32 i32 i32)))
  (memory (export "memory") 2)
  (global $next (mut i32) (i32.const 65536))
  (func (export "cabi_realloc") (param i32 i32) (param $align i32) (param $n i32) (result i32)
    (local $p i32)
    (if (i32.gt_u (i32.add (global.get $next) (local.get $n)) (i32.mul (memory.size) (i32.const 65536)))
      (then
        (if (i32.eq (memory.grow (i32.add (i32.shr_u (local.get $n) (i32.const 16)) (i32.const 1))) (i32.const -1))
          (then unreachable))))
    (local.set $p (global.get $next))
    (global.set $next (i32.add (global.get $next) (local.get $n)))
    (local.get $p))
"#;

/// `wit/ohd-plugin.wit`, as the component builders embed it.
pub const WIT: &str = include_str!("../../../wit/ohd-plugin.wit");

/// A component of `world` (`plugin` or `plugin-with-panel`) from the component prelude
/// and `body`, encoded as `cargo otai-plugin build --component` encodes a module, with
/// `manifest` as its own `ohd_manifest` section when given.
pub fn component(world: &str, manifest: Option<&Value>, body: &str) -> Vec<u8> {
    let text = format!("(module {COMPONENT_PRELUDE} {body})");
    let mut core = assemble(&text);
    let mut resolve = wit_parser::Resolve::new();
    let package = resolve
        .push_str("ohd-plugin.wit", WIT)
        .expect("the WIT parses");
    let world = resolve
        .select_world(&[package], Some(world))
        .expect("the world exists");
    wit_component::embed_component_metadata(
        &mut core,
        &resolve,
        world,
        wit_component::StringEncoding::UTF8,
    )
    .expect("the world embeds");
    let bytes = wit_component::ComponentEncoder::default()
        .module(&core)
        .and_then(|e| e.validate(true).encode())
        .unwrap_or_else(|e| panic!("the test component does not encode: {e:#}\n{text}"));
    match manifest {
        Some(m) => with_custom(bytes, "ohd_manifest", m.to_string().as_bytes()),
        None => bytes,
    }
}

/// A component's `on-event` that logs the whole payload at info.
pub const COMPONENT_ECHO: &str = r#"(func (export "on-event") (param i32 i32) (call $log (i32.const 1) (local.get 0) (local.get 1)))"#;

/// Serves one connection on a free loopback port: reads the request head, writes
/// `response`, then waits for the client to close (so a "slow" server is one that never
/// writes). Returns the port and the thread, which returns the request head.
pub fn serve_once(response: Option<Vec<u8>>) -> (u16, std::thread::JoinHandle<Vec<u8>>) {
    let listener = Loopback::new();
    (listener.port(), listener.serve_once(response))
}
