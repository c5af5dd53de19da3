//! Shared by the desk's tests: a desk opened on a directory as most tests open it, the
//! plugins several use, and (feature `web`) the desk's web UI started for a test: a desk
//! with one plugin that has a config field of each kind and a panel, served on a free
//! loopback port.
#![allow(dead_code, unreachable_pub)]

use std::path::Path;
use std::sync::Arc;

#[cfg(feature = "web")]
mod server;
#[cfg(feature = "web")]
pub mod webdriver;

use otai_plugin_desk::{Desk, DeskOptions};
use otai_plugin_host::http::MockHttp;
use otai_plugin_test_support::{FIELD, LOG, Module};
use serde_json::json;
#[cfg(feature = "web")]
pub use server::{Running, Server, agent, header, spawn, start, start_with};

/// The key of [`open_desk`]'s desks, for a test that opens one with other options.
pub const KEY: &str = "abababababababababababababababababababababababababababababababab";

/// The desk in `dir` with the default options, the key [`KEY`] and a transport that
/// answers nothing (a test that gives it rules opens its own).
pub fn open_desk(dir: &Path) -> Desk {
    Desk::open_with(
        dir,
        DeskOptions {
            http: Arc::new(MockHttp::new()),
            key: Some(KEY.into()),
            ..DeskOptions::default()
        },
    )
    .unwrap()
}

/// A plugin with one config field of each kind, logging `config.channel`, setting a
/// custom field and, with a `ui_panel`, a panel URL on panel.example.com.
pub fn module(version: &str, hosts: &[&str]) -> Vec<u8> {
    let manifest = json!({
        "id": "com.example.web", "name": "Web test", "version": version,
        "description": "d", "events": ["ticket.created", "ticket.closed"],
        "permissions": {"http": {"allowed_hosts": hosts}},
        "ui_panel": {"title": "Web panel", "height": 180},
        "config_schema": {
            "token": {"type": "string", "required": true, "secret": true, "label": "API token"},
            "channel": {"type": "string", "default": "#support"},
            "retries": {"type": "integer", "label": "Retries"},
            "loud": {"type": "boolean"},
            "region": {"type": "select", "options": ["eu", "us"], "default": "eu"}
        }
    });
    module_with(&manifest)
}

/// The plugin of [`module`] with another manifest.
pub fn module_with(manifest: &serde_json::Value) -> Vec<u8> {
    Module::new()
        .imports(&[LOG, FIELD])
        .body(
            r#"(func (export "on_event") (param $p i32) (param $n i32)
    (call $log (i32.const 0) (i32.const 12) (i32.const 1))
    (drop (call $field (i32.const 100) (i32.const 71))))
  (func (export "render_panel") (param $p i32) (param $n i32) (result i32 i32)
    (i32.const 300) (i32.const 31))
  (data (i32.const 0) "hello, desk!")
  (data (i32.const 100) "{\"ticket_id\":\"01JQXYZ8K2M4N6P8R0T2V4W6Y8\",\"key\":\"jira\",\"value\":\"OPS-7\"}")
  (data (i32.const 300) "https://panel.example.com/p?t=1")"#,
        )
        .manifest(&manifest.to_string())
        .wasm()
}

/// A plugin whose every delivery traps.
pub fn failing_module() -> Vec<u8> {
    failing_module_as("com.example.failing", "Always failing")
}

/// A plugin whose every delivery traps, under another id and name.
pub fn failing_module_as(id: &str, name: &str) -> Vec<u8> {
    let manifest = json!({
        "id": id, "name": name, "version": "1.0.0",
        "description": "d", "events": ["ticket.created"]
    })
    .to_string()
    .replace('"', "\\\"");
    wat::parse_str(format!(
        r#"(module
  (memory (export "memory") 1)
  (func (export "ohd_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "ohd_free") (param i32 i32))
  (func (export "on_event") (param i32 i32) unreachable)
  (@custom "ohd_manifest" "{manifest}"))"#
    ))
    .unwrap()
}
