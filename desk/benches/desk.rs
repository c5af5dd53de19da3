//! What the desk adds: `cargo bench -p otai-plugin-desk --bench desk`.
//!
//! Prints figures; asserts nothing. Issue 13's targets: installing a plugin whose
//! module is already compiled ≤ 50 ms; a delivery through the desk (ticket read,
//! delivery, report and ticket writes, health judged) ≤ 3× a bare host delivery of
//! the same plugin and event.

use std::time::{Duration, Instant};

use otai_plugin_desk::{Desk, DeskOptions};
use otai_plugin_host::http::MockHttp;
use otai_plugin_host::{Event, Host};
use serde_json::json;

/// Logs the payload and sets a custom field: a delivery with something to persist.
fn plugin() -> Vec<u8> {
    let manifest = json!({
        "id": "com.example.bench", "name": "Bench", "version": "1.0.0",
        "description": "Logs and sets a field.", "events": ["ticket.created"]
    })
    .to_string()
    .replace('"', "\\\"");
    wat::parse_str(format!(
        r#"(module
  (import "ohd" "ohd_log" (func $log (param i32 i32 i32)))
  (memory (export "memory") 2)
  (global $next (mut i32) (i32.const 65536))
  (func (export "ohd_alloc") (param $n i32) (result i32)
    (local $p i32) (local.set $p (global.get $next))
    (global.set $next (i32.add (global.get $next) (local.get $n))) (local.get $p))
  (func (export "ohd_free") (param i32 i32))
  (func (export "on_event") (param $p i32) (param $n i32)
    (call $log (i32.const 0) (i32.const 20) (i32.const 1)))
  (data (i32.const 0) "delivered, all good.")
  (@custom "ohd_manifest" "{manifest}"))"#
    ))
    .expect("valid WAT")
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    let wasm = plugin();
    let dir = tempfile::tempdir().expect("a temp dir");
    let options = || DeskOptions {
        http: std::sync::Arc::new(MockHttp::new()),
        key: Some("ab".repeat(32)),
        ..DeskOptions::default()
    };
    let desk = Desk::open_with(dir.path(), options()).expect("the desk opens");

    // Install / remove: the module is compiled once, then found in the host's cache.
    desk.install(&wasm).expect("installs");
    let mut installs = Vec::new();
    for _ in 0..50 {
        desk.remove("com.example.bench").expect("removes");
        let start = Instant::now();
        desk.install(&wasm).expect("installs");
        installs.push(start.elapsed());
    }

    let runs = 2_000;
    let mut through_desk = Vec::new();
    for i in 0..runs {
        let start = Instant::now();
        desk.deliver("ticket.created", &format!("T-{}", i % 20))
            .expect("delivers");
        through_desk.push(start.elapsed());
    }

    let host = Host::builder()
        .http(MockHttp::new())
        .build()
        .expect("a host");
    let plugin = host.load(&wasm).expect("loads");
    host.install(&plugin, json!({})).expect("installs");
    let event = Event::ticket_created();
    let mut bare = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        let reports = host.deliver(&event);
        bare.push(start.elapsed());
        assert_eq!(reports.len(), 1);
    }

    let (install, desk_delivery, host_delivery) =
        (median(installs), median(through_desk), median(bare));
    println!(
        "install, module already compiled: median {:>9.1} µs (target ≤ 50 ms)",
        install.as_secs_f64() * 1e6
    );
    println!(
        "delivery through the desk:        median {:>9.1} µs",
        desk_delivery.as_secs_f64() * 1e6
    );
    println!(
        "delivery on a bare host:          median {:>9.1} µs",
        host_delivery.as_secs_f64() * 1e6
    );
    println!(
        "desk ÷ bare host:                  {:>9.2}× (target ≤ 3×)",
        desk_delivery.as_secs_f64() / host_delivery.as_secs_f64()
    );
}
