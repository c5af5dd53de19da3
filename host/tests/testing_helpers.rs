//! The `testing` module, as a plugin author's `cargo test` uses it.

mod common;

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
