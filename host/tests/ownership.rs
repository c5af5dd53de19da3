//! Buffer ownership (docs/ABI.md, "Memory and ownership"): the host allocates what it
//! hands the plugin with the plugin's own allocator and frees it with the matching
//! free, with the size it allocated; it frees the panel URL after copying it, and
//! nothing for `(0, 0)`. The plugin's allocator here logs every call, from inside the
//! instance, so the report shows the whole conversation in order.

use crate::common;

use common::*;
use otai_plugin_host::http::MockHttp;
use otai_plugin_host::{Event, Outcome};
use serde_json::json;

const ID: &str = "com.example.ownership";

/// `$record(tag, a, b)` logs `"<tag> <a as 8 hex digits> <b as 8 hex digits>"` at debug.
const RECORDER: &str = r#"
  (import "ohd" "ohd_log" (func $log (param i32 i32 i32)))
  (memory (export "memory") 2)
  (global $next (mut i32) (i32.const 8192))
  (func $hex (param $at i32) (param $v i32)
    (local $i i32) (local $d i32)
    (loop $digits
      (local.set $d (i32.and (i32.shr_u (local.get $v)
        (i32.sub (i32.const 28) (i32.mul (local.get $i) (i32.const 4)))) (i32.const 15)))
      (i32.store8 (i32.add (local.get $at) (local.get $i))
        (i32.add (local.get $d)
          (select (i32.const 48) (i32.const 87) (i32.lt_u (local.get $d) (i32.const 10)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $digits (i32.lt_u (local.get $i) (i32.const 8)))))
  (func $record (param $tag i32) (param $a i32) (param $b i32)
    (i32.store8 (i32.const 512) (local.get $tag))
    (i32.store8 (i32.const 513) (i32.const 32))
    (call $hex (i32.const 514) (local.get $a))
    (i32.store8 (i32.const 522) (i32.const 32))
    (call $hex (i32.const 523) (local.get $b))
    (call $log (i32.const 512) (i32.const 19) (i32.const 0)))
  (func $bump (param $n i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $next))
    (global.set $next (i32.add (global.get $next) (i32.add (local.get $n) (i32.const 8))))
    (local.get $p))
"#;

/// `ohd_alloc` (`A ptr size`) and `ohd_free` (`F ptr size`).
const OHD_PAIR: &str = r#"
  (func $alloc (export "ohd_alloc") (param $n i32) (result i32)
    (local $p i32)
    (local.set $p (call $bump (local.get $n)))
    (call $record (i32.const 65) (local.get $p) (local.get $n))
    (local.get $p))
  (func (export "ohd_free") (param $p i32) (param $n i32)
    (call $record (i32.const 70) (local.get $p) (local.get $n)))
"#;

/// `malloc` (`M ptr size`) and one-argument `free` (`f ptr 0`).
const LIBC_PAIR: &str = r#"
  (func (export "malloc") (param $n i32) (result i32)
    (local $p i32)
    (local.set $p (call $bump (local.get $n)))
    (call $record (i32.const 77) (local.get $p) (local.get $n))
    (local.get $p))
  (func (export "free") (param $p i32)
    (call $record (i32.const 102) (local.get $p) (i32.const 0)))
"#;

/// `on_event` records `E ptr len`.
const ON_EVENT: &str = r#"
  (func (export "on_event") (param $p i32) (param $n i32)
    (call $record (i32.const 69) (local.get $p) (local.get $n)))
"#;

fn module(parts: &[&str], ui_panel: bool) -> Vec<u8> {
    let mut m = manifest(ID, &["ticket.created"], &["panel.example.com"]);
    if ui_panel {
        m["ui_panel"] = json!({"title": "P", "height": 100});
    }
    raw_plugin(&m, &format!("(module {RECORDER} {})", parts.concat()))
}

/// The recorded calls: `(tag, a, b)`.
fn calls(logs: &[otai_plugin_host::LogLine]) -> Vec<(char, u32, u32)> {
    logs.iter()
        .filter_map(|l| {
            let mut parts = l.message.split(' ');
            let tag = parts.next()?.chars().next()?;
            let a = u32::from_str_radix(parts.next()?, 16).ok()?;
            let b = u32::from_str_radix(parts.next()?, 16).ok()?;
            Some((tag, a, b))
        })
        .collect()
}

fn deliver(wasm: &[u8]) -> (Vec<(char, u32, u32)>, usize) {
    let host = test_host(MockHttp::new());
    install(&host, wasm, json!({}));
    let event = Event::ticket_created();
    let r = host.deliver_to(ID, &event).unwrap();
    r.assert_ok();
    (
        calls(&r.logs),
        event.to_payload(&json!({})).to_string().len(),
    )
}

#[test]
fn the_payload_is_allocated_by_the_plugin_and_freed_with_its_size_after_on_event() {
    let (calls, payload_len) = deliver(&module(&[OHD_PAIR, ON_EVENT], false));
    let [('A', ptr, size), ('E', p, n), ('F', fp, fsize)] = calls[..] else {
        panic!("expected alloc, on_event, free: {calls:x?}");
    };
    assert_eq!(size as usize, payload_len, "the whole payload, exactly");
    assert_eq!(
        (p, n),
        (ptr, size),
        "on_event gets the buffer allocated for it"
    );
    assert_eq!((fp, fsize), (ptr, size), "and it is freed with its size");
}

#[test]
fn the_libc_pair_is_used_with_one_argument_free() {
    let (calls, _) = deliver(&module(&[LIBC_PAIR, ON_EVENT], false));
    let [('M', ptr, size), ('E', p, n), ('f', fp, 0)] = calls[..] else {
        panic!("expected malloc, on_event, free: {calls:x?}");
    };
    assert_eq!((p, n, fp), (ptr, size, ptr));
}

#[test]
fn ohd_alloc_and_ohd_free_win_over_malloc_and_free() {
    let (calls, _) = deliver(&module(&[OHD_PAIR, LIBC_PAIR, ON_EVENT], false));
    let tags: String = calls.iter().map(|c| c.0).collect();
    assert_eq!(tags, "AEF", "{calls:x?}");
}

/// A `render_panel` that records `R ptr len`, then returns `url` (copied into a buffer
/// of its allocator), or `(0, 0)` when `url` is empty.
fn panel_module(url: &str) -> Vec<u8> {
    let render = if url.is_empty() {
        r#"(func (export "render_panel") (param $p i32) (param $n i32) (result i32 i32)
             (call $record (i32.const 82) (local.get $p) (local.get $n))
             (i32.const 0) (i32.const 0))"#
            .to_owned()
    } else {
        format!(
            r#"(func (export "render_panel") (param $p i32) (param $n i32) (result i32 i32)
                 (local $u i32)
                 (call $record (i32.const 82) (local.get $p) (local.get $n))
                 (local.set $u (call $alloc (i32.const {len})))
                 (memory.copy (local.get $u) (i32.const 1024) (i32.const {len}))
                 (local.get $u) (i32.const {len}))
               {data}"#,
            len = url.len(),
            data = data(1024, url.as_bytes())
        )
    };
    module(&[OHD_PAIR, ON_EVENT, &render], true)
}

#[test]
fn the_ticket_id_and_the_panel_url_are_freed_after_the_host_copied_them() {
    let host = test_host(MockHttp::new());
    let url = "https://panel.example.com/t/T-7";
    install(&host, &panel_module(url), json!({}));
    let r = host.render_panel(ID, "T-7").unwrap();
    assert_eq!(r.url.as_deref(), Some(url));
    let calls = calls(&r.logs);
    // The id in a buffer of the plugin's, freed once render_panel returned; the URL,
    // allocated by render_panel, freed with its size once the host copied it.
    let [
        ('A', id, 3),
        ('R', rp, 3),
        ('A', u, ulen),
        ('F', freed_id, 3),
        ('F', freed_url, freed_len),
    ] = calls[..]
    else {
        panic!("expected alloc id, render_panel, alloc url, free id, free url: {calls:x?}");
    };
    assert_eq!((rp, freed_id), (id, id));
    assert_eq!(ulen as usize, url.len());
    assert_eq!((freed_url, freed_len), (u, ulen));
}

#[test]
fn zero_zero_is_no_panel_and_nothing_to_free() {
    let host = test_host(MockHttp::new());
    install(&host, &panel_module(""), json!({}));
    let r = host.render_panel(ID, "T-7").unwrap();
    assert_eq!(r.outcome, Outcome::Ok);
    assert_eq!(
        (r.url.as_deref(), r.refused.as_deref()),
        (None, None),
        "no panel, no refusal"
    );
    let tags: String = calls(&r.logs).iter().map(|c| c.0).collect();
    assert_eq!(tags, "ARF", "only the ticket id is freed");
}

#[test]
fn an_allocator_may_answer_0_for_0_bytes() {
    // A panel for an empty ticket id: the host asks for 0 bytes; `0` is no failure then.
    let mut m = manifest(ID, &["ticket.created"], &["panel.example.com"]);
    m["ui_panel"] = json!({"title": "P", "height": 100});
    let wasm = raw_plugin(
        &m,
        r#"(module
          (memory (export "memory") 1)
          (func (export "ohd_alloc") (param $n i32) (result i32)
            (select (i32.const 4096) (i32.const 0) (local.get $n)))
          (func (export "ohd_free") (param i32 i32))
          (func (export "on_event") (param i32 i32))
          (func (export "render_panel") (param i32 i32) (result i32 i32) (i32.const 0) (i32.const 0)))"#,
    );
    let host = test_host(MockHttp::new());
    install(&host, &wasm, json!({}));
    let r = host.render_panel(ID, "").unwrap();
    assert_eq!(r.outcome, Outcome::Ok);
}

#[test]
fn the_ohd_free_import_reaches_the_plugins_own_free_with_the_size() {
    // Code written against the reference table frees through the import (imports
    // come first in a module, before the recorder's functions).
    let imports = r#"
      (import "ohd" "ohd_alloc" (func $import_alloc (param i32) (result i32)))
      (import "ohd" "ohd_free" (func $import_free (param i32 i32)))"#;
    let on_event = r#"
      (func (export "on_event") (param i32 i32)
        (local $p i32)
        (local.set $p (call $import_alloc (i32.const 77)))
        (call $import_free (local.get $p) (i32.const 77)))"#;
    let wasm = raw_plugin(
        &manifest(ID, &["ticket.created"], &[]),
        &format!("(module {imports} {RECORDER} {OHD_PAIR} {on_event})"),
    );
    let (calls, _) = deliver(&wasm);
    // The payload's alloc, the plugin's alloc and free through the imports, the
    // payload's free.
    let [('A', _, _), ('A', p, 77), ('F', fp, 77), ('F', _, _)] = calls[..] else {
        panic!("expected the import calls to reach the exports: {calls:x?}");
    };
    assert_eq!(fp, p);
}
