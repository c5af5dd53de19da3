//! The defaults docs/ABI.md promises, with a host built with no settings at all: 64 MiB
//! of memory per instance and a 5 s deadline per delivery; and the one the host's API
//! docs state: 32 MiB of modules kept compiled.

use crate::common;

use std::time::{Duration, Instant};

use common::*;
use otai_plugin_host::http::MockHttp;
use otai_plugin_host::{Event, Host, Outcome};
use serde_json::json;

fn default_host() -> Host {
    Host::builder().http(MockHttp::new()).build().unwrap()
}

#[test]
fn memory_grows_to_exactly_64_mib_and_not_one_page_more() {
    // The prelude's memory has 2 pages; 1022 more make 1024 pages = 64 MiB. The plugin
    // traps unless the first growth succeeds and the next one is refused.
    let body = r#"(func (export "on_event") (param i32 i32)
        (if (i32.ne (memory.grow (i32.const 1022)) (i32.const 2)) (then unreachable))
        (if (i32.ne (memory.grow (i32.const 1)) (i32.const -1)) (then unreachable)))"#;
    let host = default_host();
    let id = install(
        &host,
        &plugin(
            &manifest("com.example.grow", &["ticket.created"], &[]),
            body,
        ),
        json!({}),
    );
    host.deliver_to(&id, &Event::ticket_created())
        .unwrap()
        .assert_ok();
}

#[test]
fn the_deadline_is_5_seconds() {
    let host = default_host();
    let id = install(
        &host,
        &plugin(
            &manifest("com.example.spin", &["ticket.created"], &[]),
            r#"(func (export "on_event") (param i32 i32) (loop (br 0)))"#,
        ),
        json!({}),
    );
    let start = Instant::now();
    let r = host.deliver_to(&id, &Event::ticket_created()).unwrap();
    let elapsed = start.elapsed();
    assert_eq!(r.outcome, Outcome::TimedOut);
    // Never before the deadline; the upper bound only catches a deadline far too long
    // (a loaded machine may be late by a few epoch ticks, not by another 5 s).
    assert!(
        elapsed >= Duration::from_secs(5),
        "stopped after {elapsed:?}"
    );
    assert!(
        elapsed < Duration::from_secs(10),
        "stopped after {elapsed:?}"
    );
}

#[test]
fn the_compile_cache_keeps_32_mib_of_modules() {
    // Two modules of 16 MiB each (a custom section makes up the size) fill it exactly:
    // both stay compiled. Any module more makes it forget the least recently loaded.
    let sized = |id: &str, len: usize| {
        let wasm = plugin(&manifest(id, &["ticket.created"], &[]), NOOP);
        // The section's id, its size in 4 LEB128 bytes, the name's length and name.
        let header = 1 + 4 + 1 + "pad".len();
        let padded = with_custom(wasm.clone(), "pad", &vec![0; len - wasm.len() - header]);
        assert_eq!(padded.len(), len);
        padded
    };
    let (a, b) = (
        sized("com.example.a", 16 << 20),
        sized("com.example.b", 16 << 20),
    );
    let host = default_host();
    let first_a = host.load(&a).unwrap();
    let first_b = host.load(&b).unwrap();
    assert!(host.load(&a).unwrap().same_module(&first_a));
    assert!(host.load(&b).unwrap().same_module(&first_b));
    assert_eq!(host.compiled_modules(), 2);

    host.load(&plugin(
        &manifest("com.example.small", &["ticket.created"], &[]),
        NOOP,
    ))
    .unwrap();
    assert_eq!(host.compiled_modules(), 2);
    assert!(host.load(&b).unwrap().same_module(&first_b));
    assert!(!host.load(&a).unwrap().same_module(&first_a));
}
