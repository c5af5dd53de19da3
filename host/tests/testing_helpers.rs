//! The `testing` module, as a plugin author's `cargo test` uses it.

use crate::common;

use common::*;
use otai_plugin_host::http::MockHttp;
use otai_plugin_host::testing::TestHost;
use otai_plugin_host::{Event, Outcome};
use serde_json::json;

fn poster() -> Vec<u8> {
    let req = br#"{"method":"POST","url":"https://hooks.slack.com/services/x","body":"{\"text\":\"hi\"}"}"#;
    plugin(
        &manifest(
            "com.example.poster",
            &["ticket.created"],
            &["hooks.slack.com"],
        ),
        &http_call(req),
    )
}

#[test]
fn a_test_host_scripts_http_and_records_requests() {
    let mock = MockHttp::new()
        .on("POST", "https://hooks.slack.com/*")
        .respond(200, "ok");
    let t = TestHost::load(&poster())
        .unwrap()
        .config(json!({}))
        .http(mock.clone());
    let report = t.deliver(Event::ticket_created());
    report
        .assert_ok()
        .assert_requested("POST", "https://hooks.slack.com/*")
        .assert_logged("ok");
    assert_eq!(mock.requests().len(), 1);
    // Without a rule, requests fail (nothing leaves the process).
    let t = TestHost::load(&poster()).unwrap();
    let event = Event::ticket_created();
    let report = t.deliver(&event);
    t.deliver(event).assert_ok();
    report.assert_ok().assert_logged("no mock matched");
    assert_eq!(report.http[0].status, 0);
}

#[test]
#[should_panic(expected = "expected outcome `ok`, got Trapped")]
fn failed_assertions_panic_with_the_report() {
    let wasm = plugin(
        &manifest("com.example.trap", &["ticket.created"], &[]),
        r#"(func (export "on_event") (param i32 i32) unreachable)"#,
    );
    let report = TestHost::load(&wasm)
        .unwrap()
        .deliver(Event::ticket_created());
    assert!(matches!(report.outcome, Outcome::Trapped { .. }));
    report.assert_trapped("unreachable");
    report.assert_ok();
}

#[test]
#[should_panic(expected = "does not subscribe to `ticket.closed`")]
fn delivering_an_unsubscribed_event_panics_in_tests() {
    TestHost::load(&poster())
        .unwrap()
        .deliver(Event::ticket_closed());
}

/// A report with one of everything, as a plugin author's test would get it.
fn full_report() -> otai_plugin_host::DeliveryReport {
    serde_json::from_value(json!({
        "plugin_id": "com.example.all",
        "event": "ticket.created",
        "outcome": {"status": "ok"},
        "logs": [{"level": "info", "message": "posted ticket T-1"}],
        "http": [{
            "request": {"method": "POST", "url": "https://hooks.slack.com/services/x", "headers": {}},
            "status": 200,
            "blocked": false
        }],
        "replies": [{"ticket_id": "T-1", "body": "Paged the on-call team", "is_internal": true}],
        "custom_fields": [{"ticket_id": "T-1", "key": "incident", "value": "P-42"}]
    }))
    .unwrap()
}

/// Whether `check` panics, with the report in the message as every assertion promises.
fn fails(check: impl FnOnce() + std::panic::UnwindSafe) -> bool {
    match std::panic::catch_unwind(check) {
        Ok(()) => false,
        Err(payload) => {
            let message = payload
                .downcast_ref::<String>()
                .cloned()
                .unwrap_or_default();
            assert!(message.contains("--- report ---"), "{message}");
            true
        }
    }
}

#[test]
fn every_assertion_passes_on_a_matching_report_and_fails_on_any_other() {
    let r = full_report();
    r.assert_ok()
        .assert_logged("posted ticket")
        .assert_requested("POST", "https://hooks.slack.com/services/x")
        .assert_requested("post", "https://hooks.slack.com/*")
        .assert_reply("on-call")
        .assert_custom_field("incident", "P-42");

    let r = &full_report();
    for (what, failed) in [
        (
            "a log line it did not log",
            fails(|| {
                let _ = r.assert_logged("retrying");
            }),
        ),
        (
            "another method",
            fails(|| {
                let _ = r.assert_requested("GET", "https://hooks.slack.com/services/x");
            }),
        ),
        (
            "another URL",
            fails(|| {
                let _ = r.assert_requested("POST", "https://hooks.slack.com/services/y");
            }),
        ),
        (
            "a longer URL than sent",
            fails(|| {
                let _ = r.assert_requested("POST", "https://hooks.slack.com/services/x/y");
            }),
        ),
        (
            "another prefix",
            fails(|| {
                let _ = r.assert_requested("POST", "https://api.slack.com/*");
            }),
        ),
        (
            "a reply it did not add",
            fails(|| {
                let _ = r.assert_reply("resolved");
            }),
        ),
        (
            "another field value",
            fails(|| {
                let _ = r.assert_custom_field("incident", "P-43");
            }),
        ),
        (
            "another field key",
            fails(|| {
                let _ = r.assert_custom_field("incident_id", "P-42");
            }),
        ),
        (
            "a trap when it returned",
            fails(|| {
                let _ = r.assert_trapped("");
            }),
        ),
        (
            "a timeout when it returned",
            fails(|| {
                let _ = r.assert_timed_out();
            }),
        ),
    ] {
        assert!(failed, "asserting {what} passed");
    }

    let mut trapped = full_report();
    trapped.outcome = Outcome::Trapped {
        message: "wasm trap: wasm `unreachable` instruction executed".into(),
        reason: Some("on_event failed: Slack answered HTTP 503".into()),
        backtrace: None,
    };
    trapped
        .assert_trapped("HTTP 503")
        .assert_trapped("unreachable");
    let t = &trapped;
    assert!(fails(|| {
        let _ = t.assert_ok();
    }));
    assert!(fails(|| {
        let _ = t.assert_trapped("HTTP 500");
    }));
}

#[test]
fn panel_assertions_fail_on_the_other_answer() {
    let shown: otai_plugin_host::PanelReport = serde_json::from_value(json!({
        "plugin_id": "com.example.p", "ticket_id": "T-1", "outcome": {"status": "ok"},
        "url": "https://p.example.com/T-1", "logs": [], "http": []
    }))
    .unwrap();
    let refused: otai_plugin_host::PanelReport = serde_json::from_value(json!({
        "plugin_id": "com.example.p", "ticket_id": "T-1", "outcome": {"status": "ok"},
        "refused": "host `evil.example` is not in allowed_hosts", "logs": [], "http": []
    }))
    .unwrap();
    assert_eq!(shown.assert_url(), "https://p.example.com/T-1");
    refused.assert_refused("evil.example");
    assert!(fails(|| {
        let _ = refused.assert_url();
    }));
    assert!(fails(|| {
        let _ = shown.assert_refused("evil.example");
    }));
    assert!(fails(|| {
        let _ = refused.assert_refused("another reason");
    }));
}
