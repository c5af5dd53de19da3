//! Hostile and broken modules: each fails only its own delivery, with a documented
//! outcome, and the host keeps serving other plugins with nothing carried over.

use crate::common;

use std::time::Duration;

use common::*;
use otai_plugin_host::abi::module::ProblemKind;
use otai_plugin_host::http::MockHttp;
use otai_plugin_host::{Event, Host, Outcome};
use serde_json::json;

const GOOD: &str = "com.example.good";

fn host_with_good_plugin(deadline: Duration) -> Host {
    let host = Host::builder()
        .deadline(deadline)
        .memory_limit(4 << 20)
        .max_instances(4)
        .http(MockHttp::new())
        .build()
        .unwrap();
    install(
        &host,
        &plugin(&manifest(GOOD, &["ticket.closed"], &[]), ECHO),
        json!({}),
    );
    host
}

/// Runs a hostile `on_event` body, returns its report, and checks that the good
/// plugin still works and sees a clean payload afterwards.
fn hostile(body: &str) -> otai_plugin_host::DeliveryReport {
    hostile_with(Duration::from_secs(5), body)
}

fn hostile_with(deadline: Duration, body: &str) -> otai_plugin_host::DeliveryReport {
    let host = host_with_good_plugin(deadline);
    install(
        &host,
        &plugin(&manifest("com.example.bad", &["ticket.created"], &[]), body),
        json!({}),
    );
    let report = host
        .deliver_to("com.example.bad", &Event::ticket_created())
        .unwrap();
    let good = host.deliver_to(GOOD, &Event::ticket_closed()).unwrap();
    good.assert_ok();
    assert_eq!(good.logs.len(), 1, "nothing leaks into the next delivery");
    assert!(good.http.is_empty() && good.replies.is_empty() && good.custom_fields.is_empty());
    // And the hostile plugin runs again from a fresh instance.
    let again = host
        .deliver_to("com.example.bad", &Event::ticket_created())
        .unwrap();
    assert_eq!(again.outcome, report.outcome);
    report
}

fn trapped_message(report: &otai_plugin_host::DeliveryReport) -> String {
    match &report.outcome {
        Outcome::Trapped { message, .. } => message.clone(),
        other => panic!("expected a trap, got {other:?}\n{}", report.to_snapshot()),
    }
}

#[test]
fn an_infinite_loop_times_out() {
    let r = hostile_with(
        Duration::from_millis(200),
        r#"(func (export "on_event") (param i32 i32) (loop (br 0)))"#,
    );
    r.assert_timed_out();
}

#[test]
fn an_infinite_loop_in_the_start_function_times_out() {
    let r = hostile_with(
        Duration::from_millis(200),
        r#"(func $spin (loop (br 0))) (start $spin) (func (export "on_event") (param i32 i32))"#,
    );
    r.assert_timed_out();
}

#[test]
fn memory_growth_stops_at_the_limit() {
    // Grows one page at a time until `memory.grow` fails, then logs the pages it got
    // as a string of that many bytes at offset 0 (so the log length is the count).
    let r = hostile(
        r#"(func (export "on_event") (param i32 i32)
             (local $pages i32)
             (block $done (loop $grow
               (br_if $done (i32.eq (memory.grow (i32.const 1)) (i32.const -1)))
               (br $grow)))
             (call $log (i32.const 0) (memory.size) (i32.const 1)))"#,
    );
    r.assert_ok();
    // 4 MiB limit = 64 pages; the log line is `memory.size` bytes long.
    assert_eq!(r.logs[0].message.len(), 64);
}

#[test]
fn a_trap_is_reported_without_its_backtrace_which_comes_apart() {
    let r = hostile(
        r#"(func (export "on_event") (param i32 i32) call $inner)
           (func $inner unreachable)"#,
    );
    match &r.outcome {
        Outcome::Trapped {
            message,
            reason,
            backtrace: Some(backtrace),
        } => {
            assert_eq!(
                message,
                "wasm trap: wasm `unreachable` instruction executed"
            );
            assert_eq!(reason, &None);
            // Innermost frame first, named from the module's `name` section.
            let frames: Vec<&str> = backtrace.lines().collect();
            assert_eq!(frames.len(), 2, "{backtrace}");
            assert!(
                frames[0].starts_with("0:") && frames[0].ends_with("!inner"),
                "{backtrace}"
            );
            assert!(frames[1].starts_with("1:"), "{backtrace}");
        }
        other => panic!("expected a trap with a backtrace, got {other:?}"),
    }
}

#[test]
fn the_error_line_logged_just_before_a_trap_is_its_reason() {
    let msg = "panicked at src/lib.rs:12:5:\nwebhook_url is not set";
    let r = hostile(&format!(
        r#"(func (export "on_event") (param i32 i32)
             (call $log (i32.const 2048) (i32.const {len}) (i32.const 3))
             unreachable)
           {data}"#,
        len = msg.len(),
        data = data(2048, msg.as_bytes())
    ));
    match &r.outcome {
        Outcome::Trapped {
            reason: Some(reason),
            message,
            ..
        } => {
            assert_eq!(reason, msg);
            assert_eq!(
                message,
                "wasm trap: wasm `unreachable` instruction executed"
            );
        }
        other => panic!("expected a trap with a reason, got {other:?}"),
    }
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["outcome"]["status"], "trapped");
    assert_eq!(json["outcome"]["reason"], msg);
    // Reports written when the field was called `panic` still read.
    let mut old = json;
    let reason = old["outcome"]
        .as_object_mut()
        .unwrap()
        .remove("reason")
        .unwrap();
    old["outcome"]["panic"] = reason;
    let read: otai_plugin_host::DeliveryReport = serde_json::from_value(old).unwrap();
    assert_eq!(read.outcome, r.outcome);
}

#[test]
fn an_error_line_is_no_reason_when_other_calls_or_levels_came_after_it() {
    let msg = "upstream answered 500";
    let line = |level: u32| {
        format!(
            "(call $log (i32.const 2048) (i32.const {}) (i32.const {level}))",
            msg.len()
        )
    };
    for (case, body) in [
        ("a warning after it", format!("{} {}", line(3), line(2))),
        (
            "a reply after it",
            format!(
                "{} (drop (call $reply (i32.const 0) (i32.const 0)))",
                line(3)
            ),
        ),
        ("only a warning", line(2)),
    ] {
        let r = hostile(&format!(
            r#"(func (export "on_event") (param i32 i32) {body} unreachable)
               {data}"#,
            data = data(2048, msg.as_bytes())
        ));
        match &r.outcome {
            Outcome::Trapped { reason: None, .. } => {}
            other => panic!("{case}: expected a trap without a reason, got {other:?}"),
        }
    }
}

#[test]
fn stack_overflow_traps() {
    let r = hostile(
        r#"(func $f (export "on_event") (param i32 i32) (call $f (local.get 0) (local.get 1)))"#,
    );
    assert!(
        trapped_message(&r).contains("stack"),
        "{}",
        trapped_message(&r)
    );
}

/// Every host function with an out-of-bounds pointer or a huge length traps, naming
/// itself and the range.
#[test]
fn out_of_bounds_buffers_trap_for_each_host_function() {
    let cases = [
        (
            "(call $log (i32.const -16) (i32.const 64) (i32.const 1))",
            "ohd_log: buffer 0xfffffff0+64 is outside linear memory (131072 bytes)",
        ),
        (
            "(call $log (i32.const 16) (i32.const -1) (i32.const 1))",
            "ohd_log: buffer 0x10+4294967295 is outside linear memory",
        ),
        (
            "(call $log (i32.const 131072) (i32.const 1) (i32.const 1))",
            "ohd_log: buffer 0x20000+1 is outside",
        ),
        (
            "(drop (call $reply (i32.const -1) (i32.const 2)))",
            "ohd_add_reply: buffer 0xffffffff+2 is outside",
        ),
        (
            "(drop (call $reply (i32.const 0) (i32.const -1)))",
            "ohd_add_reply: buffer 0x0+4294967295 is outside",
        ),
        (
            "(drop (call $field (i32.const 8) (i32.const -8)))",
            "ohd_set_custom_field: buffer 0x8+4294967288 is outside",
        ),
        (
            "(drop (call $field (i32.const 131000) (i32.const 100)))",
            "ohd_set_custom_field: buffer 0x1ffb8+100 is outside",
        ),
        (
            "(drop (call $http (i32.const -8) (i32.const 16) (i32.const 0) (i32.const 4)))",
            "ohd_http_request: buffer 0xfffffff8+16 is outside",
        ),
        (
            "(drop (call $http (i32.const 0) (i32.const 2) (i32.const 131070) (i32.const 0)))",
            "ohd_http_request: resp_ptr_out 0x1fffe+4 is outside",
        ),
        (
            "(drop (call $http (i32.const 0) (i32.const 2) (i32.const 0) (i32.const -4)))",
            "ohd_http_request: resp_len_out 0xfffffffc+4 is outside",
        ),
    ];
    for (call, expected) in cases {
        let r = hostile(&format!(
            r#"(func (export "on_event") (param i32 i32) {call})"#
        ));
        let message = trapped_message(&r);
        assert!(message.contains(expected), "{call}: {message}");
    }
}

#[test]
fn an_allocator_returning_zero_or_garbage_fails_the_delivery() {
    let zero = raw_plugin(
        &manifest("com.example.bad", &["ticket.created"], &[]),
        r#"(module
        (memory (export "memory") 1)
        (func (export "ohd_alloc") (param i32) (result i32) (i32.const 0))
        (func (export "ohd_free") (param i32 i32))
        (func (export "on_event") (param i32 i32)))"#,
    );
    let host = host_with_good_plugin(Duration::from_secs(5));
    install(&host, &zero, json!({}));
    let r = host
        .deliver_to("com.example.bad", &Event::ticket_created())
        .unwrap();
    assert!(
        trapped_message(&r).contains("allocation failed"),
        "{}",
        trapped_message(&r)
    );

    let outside = raw_plugin(
        &manifest("com.example.bad2", &["ticket.created"], &[]),
        r#"(module
        (memory (export "memory") 1)
        (func (export "ohd_alloc") (param i32) (result i32) (i32.const 65530))
        (func (export "ohd_free") (param i32 i32))
        (func (export "on_event") (param i32 i32)))"#,
    );
    install(&host, &outside, json!({}));
    let r = host
        .deliver_to("com.example.bad2", &Event::ticket_created())
        .unwrap();
    assert!(
        trapped_message(&r).contains("block from the allocator 0xfffa+"),
        "{}",
        trapped_message(&r)
    );
    host.deliver_to(GOOD, &Event::ticket_closed())
        .unwrap()
        .assert_ok();
}

#[test]
fn invalid_utf8_is_logged_lossily_and_levels_are_kept() {
    let r = hostile(&format!(
        r#"(func (export "on_event") (param i32 i32)
             (call $log (i32.const 2048) (i32.const 4) (i32.const 0))
             (call $log (i32.const 2048) (i32.const 4) (i32.const 2))
             (call $log (i32.const 2048) (i32.const 4) (i32.const 99))
             (call $log (i32.const 2048) (i32.const 0) (i32.const 1)))
           {}"#,
        data(2048, b"ok\xff\xfe")
    ));
    r.assert_ok();
    let levels: Vec<String> = r.logs.iter().map(|l| l.level.to_string()).collect();
    assert_eq!(levels, ["debug", "warn", "error", "info"]);
    assert_eq!(r.logs[0].message, "ok\u{fffd}\u{fffd}");
    assert_eq!(r.logs[3].message, "");
}

#[test]
fn log_flooding_is_capped_with_one_warning() {
    // 200 lines of 16 KiB + 100 bytes each: every line is truncated, and past 1 MiB
    // the rest are counted.
    let r = hostile(
        r#"(func (export "on_event") (param i32 i32)
             (local $i i32)
             (loop $again
               (call $log (i32.const 0) (i32.const 16484) (i32.const 1))
               (local.set $i (i32.add (local.get $i) (i32.const 1)))
               (br_if $again (i32.lt_u (local.get $i) (i32.const 200)))))"#,
    );
    r.assert_ok();
    let last = r.logs.last().unwrap();
    assert!(last.message.contains("dropped"), "{}", last.message);
    assert_eq!(
        r.logs
            .iter()
            .filter(|l| l.message.contains("dropped"))
            .count(),
        1
    );
    assert!(r.logs[0].message.ends_with(" …[truncated]"));
    let kept: usize = r.logs.iter().map(|l| l.message.len()).sum();
    assert!(kept <= 1024 * 1024 + 200, "{kept}");
}

#[test]
fn malformed_json_to_each_host_function_is_a_status_not_a_trap() {
    for func in ["reply", "field"] {
        for junk in [&b"{"[..], b"\xff\xfe", b"", b"null", b"{\"ticket_id\":1}"] {
            let r = hostile(&expect_status(func, junk, 1));
            r.assert_ok();
        }
    }
    for junk in [
        &b"{"[..],
        b"\xff",
        b"",
        b"{\"method\":\"GET\"}",
        b"{\"method\":\"GET\",\"url\":\"https://a.example/\",\"verb\":1}",
    ] {
        let r = hostile(&http_call(junk));
        r.assert_ok();
        assert_eq!(r.http[0].status, 0);
        assert_eq!(
            r.http[0].error.as_ref().unwrap().kind,
            otai_plugin_host::http::HostErrorKind::InvalidRequest
        );
        // The plugin got the error body and logged it.
        assert!(
            r.logs[0]
                .message
                .starts_with(r#"{"ohd_error":{"kind":"invalid_request""#),
            "{}",
            r.logs[0].message
        );
    }
}

#[test]
fn an_allocator_calling_the_alloc_import_back_is_stopped() {
    let m = manifest("com.example.bad", &["ticket.created"], &[]);
    let wasm = raw_plugin(
        &m,
        r#"(module
        (import "ohd" "ohd_alloc" (func $ialloc (param i32) (result i32)))
        (memory (export "memory") 1)
        (func (export "ohd_alloc") (param $n i32) (result i32) (call $ialloc (local.get $n)))
        (func (export "ohd_free") (param i32 i32))
        (func (export "on_event") (param i32 i32)))"#,
    );
    let host = host_with_good_plugin(Duration::from_secs(5));
    install(&host, &wasm, json!({}));
    let r = host
        .deliver_to("com.example.bad", &Event::ticket_created())
        .unwrap();
    assert!(
        trapped_message(&r).contains("endless recursion"),
        "{}",
        trapped_message(&r)
    );
    host.deliver_to(GOOD, &Event::ticket_closed())
        .unwrap()
        .assert_ok();
}

#[test]
fn fuel_bounds_work_when_enabled() {
    let host = Host::builder()
        .fuel(10_000)
        .max_instances(2)
        .http(MockHttp::new())
        .build()
        .unwrap();
    install(
        &host,
        &plugin(
            &manifest("com.example.spin", &["ticket.created"], &[]),
            r#"(func (export "on_event") (param i32 i32) (loop (br 0)))"#,
        ),
        json!({}),
    );
    let r = host
        .deliver_to("com.example.spin", &Event::ticket_created())
        .unwrap();
    assert!(trapped_message(&r).contains("fuel"));
}

/// A transport that blocks until the test releases it, so that a delivery can be held
/// in flight without sleeping.
struct Gate {
    started: std::sync::Mutex<std::sync::mpsc::Sender<()>>,
    release: std::sync::Mutex<std::sync::mpsc::Receiver<()>>,
}

impl otai_plugin_host::http::HttpTransport for Gate {
    fn send(
        &self,
        _request: &otai_plugin_host::http::HttpRequest,
        _timeout: Duration,
    ) -> Result<otai_plugin_host::http::HttpResponse, otai_plugin_host::http::TransportError> {
        let _ = self.started.lock().unwrap().send(());
        let _ = self.release.lock().unwrap().recv();
        Ok(otai_plugin_host::http::HttpResponse {
            status: 200,
            body: b"ok".to_vec(),
        })
    }
}

#[test]
fn no_free_instance_slot_is_rejected_and_does_not_count_against_health() {
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel();
    let gate = Gate {
        started: std::sync::Mutex::new(started_tx),
        release: std::sync::Mutex::new(release_rx),
    };
    let host = Host::builder().max_instances(1).http(gate).build().unwrap();
    let req = br#"{"method":"GET","url":"https://a.example/"}"#;
    install(
        &host,
        &plugin(
            &manifest("com.example.slow", &["ticket.created"], &["a.example"]),
            &http_call(req),
        ),
        json!({}),
    );
    install(
        &host,
        &plugin(&manifest(GOOD, &["ticket.closed"], &[]), ECHO),
        json!({}),
    );
    std::thread::scope(|s| {
        let slow = s.spawn(|| {
            host.deliver_to("com.example.slow", &Event::ticket_created())
                .unwrap()
        });
        started_rx.recv().unwrap();
        let r = host.deliver_to(GOOD, &Event::ticket_closed()).unwrap();
        assert!(
            matches!(&r.outcome, Outcome::Rejected { reason } if reason.contains("no free instance slot")),
            "{:?}",
            r.outcome
        );
        release_tx.send(()).unwrap();
        slow.join().unwrap().assert_ok();
    });
    assert_eq!(host.health(GOOD).unwrap().deliveries, 0);
    host.deliver_to(GOOD, &Event::ticket_closed())
        .unwrap()
        .assert_ok();
}

#[test]
fn a_trap_after_memory_ran_out_says_so_in_words() {
    // What a Rust plugin does when its allocator gets no more memory: `memory.grow`
    // fails, the allocator aborts with `unreachable`.
    let r = hostile(
        r#"(func (export "on_event") (param i32 i32)
             (if (i32.eq (memory.grow (i32.const 1000)) (i32.const -1)) (then unreachable)))"#,
    );
    let message = trapped_message(&r);
    // The module has 2 pages and asks for 1000 more.
    assert!(
        message.starts_with(
            "the plugin ran out of memory: it asked for 65667072 bytes of linear memory, over \
             its limit of 4 MiB (4194304 bytes), and trapped: "
        ),
        "{message}"
    );
    assert!(message.contains("unreachable"), "{message}");
    // A refused growth the plugin copes with is no failure, and a trap without one
    // says nothing about memory.
    hostile(r#"(func (export "on_event") (param i32 i32) (drop (memory.grow (i32.const 1000))))"#)
        .assert_ok();
    let plain = hostile(r#"(func (export "on_event") (param i32 i32) unreachable)"#);
    assert!(
        !trapped_message(&plain).contains("memory"),
        "{}",
        trapped_message(&plain)
    );
}

#[test]
fn a_log_line_of_exactly_16_kib_is_kept_whole() {
    use otai_plugin_host::abi::limits::MAX_LOG_LINE;
    let line = "€".repeat(MAX_LOG_LINE / 3) + &"x".repeat(MAX_LOG_LINE % 3);
    assert_eq!(line.len(), MAX_LOG_LINE);
    let r = hostile(&format!(
        r#"(func (export "on_event") (param i32 i32)
             (call $log (i32.const 2048) (i32.const {len}) (i32.const 1)))
           {data}"#,
        len = line.len(),
        data = data(2048, line.as_bytes())
    ));
    r.assert_ok();
    assert_eq!(r.logs[0].message, line, "no cut, no marker");
}

#[test]
fn tables_grow_within_their_limit_and_no_further_with_or_without_pooling() {
    // Growing by 10 works; by ten million elements (80 MB of host memory) is refused
    // with -1.
    let body = r#"(table $t 1 funcref)
        (func (export "on_event") (param i32 i32)
          (if (i32.ne (table.grow $t (ref.null func) (i32.const 10)) (i32.const 1)) (then unreachable))
          (if (i32.ne (table.grow $t (ref.null func) (i32.const 10000000)) (i32.const -1)) (then unreachable)))"#;
    for pooling in [true, false] {
        let host = Host::builder()
            .pooling(pooling)
            .http(MockHttp::new())
            .build()
            .unwrap();
        install(
            &host,
            &plugin(
                &manifest("com.example.tables", &["ticket.created"], &[]),
                body,
            ),
            json!({}),
        );
        host.deliver_to("com.example.tables", &Event::ticket_created())
            .unwrap()
            .assert_ok();
    }
}

#[test]
fn a_second_memory_is_refused_at_load_with_or_without_pooling() {
    // Each memory would get the whole memory limit: one is all a plugin may have.
    let wasm = raw_plugin(
        &manifest("com.example.twomem", &["ticket.created"], &[]),
        r#"(module
          (memory (export "memory") 1)
          (memory $second 1)
          (func (export "ohd_alloc") (param i32) (result i32) (i32.const 1024))
          (func (export "ohd_free") (param i32 i32))
          (func (export "on_event") (param i32 i32)))"#,
    );
    for pooling in [true, false] {
        let host = Host::builder()
            .pooling(pooling)
            .http(MockHttp::new())
            .build()
            .unwrap();
        let err = host.load(&wasm).unwrap_err();
        let kinds: Vec<ProblemKind> = err.problems().iter().map(|p| p.kind).collect();
        assert_eq!(kinds, [ProblemKind::Memory], "pooling {pooling}: {err}");
    }
}
