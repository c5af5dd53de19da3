//! Parity: the reference host and the SDK's native stand-in answer every host call the
//! same way. Each row is one call with exact bytes; the host answers it through a WAT
//! plugin (from `on_event`, or from `render_panel` where ticket operations are not
//! available), the stand-in through `testing::host_calls`. Both must give the row's
//! status, and the same body for HTTP refusals.
//!
//! A plugin's native `cargo test` runs on the stand-in; these rows are why its statuses
//! can be trusted to be the help desk's.

use otai_plugin_host::http::MockHttp;
use otai_plugin_host::{Event, Host, Outcome};
use otai_plugin_sdk::EventKind;
use otai_plugin_sdk::testing::{self, host_calls};
use otai_plugin_test_support::{LOG, Module, data};
use serde_json::json;

const TICKET: &str = testing::TICKET_ID;
const ALLOWED: &str = "hooks.slack.com";

/// Where the call happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    OnEvent,
    Panel,
}

fn manifest() -> String {
    json!({
        "id": "com.example.parity", "name": "Parity", "version": "1.0.0",
        "description": "Calls one host function.", "events": ["ticket.created"],
        "permissions": { "http": { "allowed_hosts": [ALLOWED] } },
        "ui_panel": { "title": "Parity", "height": 100 }
    })
    .to_string()
}

/// A plugin whose `on_event` and `render_panel` both run `body`, with the row's payload
/// at address 16 and its length in `$len`. The allocator hands out memory above 2 MiB,
/// clear of payloads up to that size.
fn plugin(imports: &str, body: &str, payload: &[u8]) -> Vec<u8> {
    Module::new()
        .imports(&[imports, LOG])
        .pages(64)
        .heap(2 * 1024 * 1024)
        .body(&format!(
            r#"(func $run (local $len i32) (local.set $len (i32.const {len})) {body})
          (func (export "on_event") (param i32 i32) (call $run))
          (func (export "render_panel") (param i32 i32) (result i32 i32)
            (call $run) (i32.const 0) (i32.const 0))
          {data}"#,
            len = payload.len(),
            data = data(16, payload),
        ))
        .manifest(&manifest())
        .wasm()
}

/// Runs the plugin in `scope` on a fresh host; returns its log lines.
fn on_host(wasm: &[u8], scope: Scope) -> (Host, Vec<String>) {
    let host = Host::builder()
        .http(MockHttp::new())
        .build()
        .expect("a host with default settings");
    let plugin = host.load(wasm).expect("the parity plugin loads");
    host.install(&plugin, json!({})).expect("no config needed");
    let (outcome, logs) = match scope {
        Scope::OnEvent => {
            let r = host
                .deliver_to(plugin.id(), &Event::ticket_created())
                .expect("subscribed");
            (r.outcome, r.logs)
        }
        Scope::Panel => {
            let r = host.render_panel(plugin.id(), TICKET).expect("has a panel");
            (r.outcome, r.logs)
        }
    };
    assert_eq!(outcome, Outcome::Ok, "the parity plugin itself failed");
    (host, logs.into_iter().map(|l| l.message).collect())
}

/// The status the host returns for a ticket operation: the plugin logs it as a digit.
fn host_ticket_status(function: &str, payload: &[u8], scope: Scope) -> u32 {
    let imports =
        format!(r#"(import "ohd" "{function}" (func $call (param i32 i32) (result i32)))"#);
    let body = r#"(i32.store8 (i32.const 0)
                    (i32.add (i32.const 48) (call $call (i32.const 16) (local.get $len))))
                  (call $log (i32.const 0) (i32.const 1) (i32.const 1))"#;
    let (_, logs) = on_host(&plugin(&imports, body, payload), scope);
    assert_eq!(logs.len(), 1, "{logs:?}");
    logs[0].parse().expect("a one-digit status")
}

fn stand_in_ticket_status(function: &str, payload: &[u8], scope: Scope) -> u32 {
    testing::reset();
    testing::set_current_ticket((scope == Scope::OnEvent).then_some(TICKET));
    match function {
        "ohd_add_reply" => host_calls::add_reply(payload),
        "ohd_set_custom_field" => host_calls::set_custom_field(payload),
        other => panic!("not a ticket operation: {other}"),
    }
}

fn reply(ticket_id: &str, body: &str) -> Vec<u8> {
    json!({ "ticket_id": ticket_id, "body": body })
        .to_string()
        .into_bytes()
}

fn field(ticket_id: &str, key: &str, value: &str) -> Vec<u8> {
    json!({ "ticket_id": ticket_id, "key": key, "value": value })
        .to_string()
        .into_bytes()
}

#[test]
fn ticket_operations_get_the_same_status_from_host_and_stand_in() {
    use Scope::*;
    const OK: u32 = 0;
    const INVALID: u32 = 1;
    const WRONG_TICKET: u32 = 2;
    const TOO_LARGE: u32 = 3;
    const NOT_AVAILABLE: u32 = 4;
    let max_reply = otai_plugin_host::abi::limits::MAX_REPLY;
    // A reply JSON of exactly `len` bytes.
    let reply_of_len = |len: usize| {
        let shell = reply(TICKET, "").len();
        reply(TICKET, &"x".repeat(len - shell))
    };
    let rows: Vec<(&str, &str, Vec<u8>, Scope, u32)> = vec![
        (
            "reply",
            "ohd_add_reply",
            reply(TICKET, "Done."),
            OnEvent,
            OK,
        ),
        (
            "internal note",
            "ohd_add_reply",
            br#"{"ticket_id":"01JQXYZ8K2M4N6P8R0T2V4W6Y8","body":"n","is_internal":true}"#.to_vec(),
            OnEvent,
            OK,
        ),
        (
            "empty body",
            "ohd_add_reply",
            reply(TICKET, ""),
            OnEvent,
            INVALID,
        ),
        (
            "whitespace-only body",
            "ohd_add_reply",
            reply(TICKET, " \n\t "),
            OnEvent,
            INVALID,
        ),
        (
            "body padded with spaces",
            "ohd_add_reply",
            reply(TICKET, "  ok  "),
            OnEvent,
            OK,
        ),
        (
            "exactly 64 KiB",
            "ohd_add_reply",
            reply_of_len(max_reply),
            OnEvent,
            OK,
        ),
        (
            "one byte over 64 KiB",
            "ohd_add_reply",
            reply_of_len(max_reply + 1),
            OnEvent,
            TOO_LARGE,
        ),
        (
            "oversized, from render_panel",
            "ohd_add_reply",
            reply_of_len(max_reply + 1),
            Panel,
            NOT_AVAILABLE,
        ),
        (
            "valid, from render_panel",
            "ohd_add_reply",
            reply(TICKET, "Done."),
            Panel,
            NOT_AVAILABLE,
        ),
        (
            "wrong ticket",
            "ohd_add_reply",
            reply("01JQOTHER", "Done."),
            OnEvent,
            WRONG_TICKET,
        ),
        (
            "wrong ticket and empty body",
            "ohd_add_reply",
            reply("01JQOTHER", ""),
            OnEvent,
            WRONG_TICKET,
        ),
        (
            "malformed JSON",
            "ohd_add_reply",
            br#"{"ticket_id":"#.to_vec(),
            OnEvent,
            INVALID,
        ),
        (
            "empty payload",
            "ohd_add_reply",
            Vec::new(),
            OnEvent,
            INVALID,
        ),
        (
            "unknown field",
            "ohd_add_reply",
            br#"{"ticket_id":"01JQXYZ8K2M4N6P8R0T2V4W6Y8","body":"a","colour":"red"}"#.to_vec(),
            OnEvent,
            INVALID,
        ),
        (
            "duplicate field",
            "ohd_add_reply",
            br#"{"ticket_id":"01JQXYZ8K2M4N6P8R0T2V4W6Y8","body":"a","body":"b"}"#.to_vec(),
            OnEvent,
            INVALID,
        ),
        (
            "wrong type",
            "ohd_add_reply",
            br#"{"ticket_id":"01JQXYZ8K2M4N6P8R0T2V4W6Y8","body":"a","is_internal":1}"#.to_vec(),
            OnEvent,
            INVALID,
        ),
        (
            "invalid UTF-8",
            "ohd_add_reply",
            b"{\"ticket_id\":\"01JQXYZ8K2M4N6P8R0T2V4W6Y8\",\"body\":\"\xff\"}".to_vec(),
            OnEvent,
            INVALID,
        ),
        (
            "field",
            "ohd_set_custom_field",
            field(TICKET, "k", "v"),
            OnEvent,
            OK,
        ),
        (
            "empty value",
            "ohd_set_custom_field",
            field(TICKET, "k", ""),
            OnEvent,
            OK,
        ),
        (
            "empty key",
            "ohd_set_custom_field",
            field(TICKET, "", "v"),
            OnEvent,
            INVALID,
        ),
        (
            "key of 128 bytes",
            "ohd_set_custom_field",
            field(TICKET, &"k".repeat(128), "v"),
            OnEvent,
            OK,
        ),
        (
            "key of 129 bytes",
            "ohd_set_custom_field",
            field(TICKET, &"k".repeat(129), "v"),
            OnEvent,
            TOO_LARGE,
        ),
        (
            "value of 4 KiB",
            "ohd_set_custom_field",
            field(TICKET, "k", &"v".repeat(4096)),
            OnEvent,
            OK,
        ),
        (
            "value of 4 KiB + 1",
            "ohd_set_custom_field",
            field(TICKET, "k", &"v".repeat(4097)),
            OnEvent,
            TOO_LARGE,
        ),
        (
            "field payload over 64 KiB",
            "ohd_set_custom_field",
            field(TICKET, "k", &"v".repeat(max_reply)),
            OnEvent,
            TOO_LARGE,
        ),
        (
            "field, wrong ticket",
            "ohd_set_custom_field",
            field("01JQOTHER", "", "v"),
            OnEvent,
            WRONG_TICKET,
        ),
        (
            "field, from render_panel",
            "ohd_set_custom_field",
            field(TICKET, "k", "v"),
            Panel,
            NOT_AVAILABLE,
        ),
        (
            "field, malformed JSON",
            "ohd_set_custom_field",
            b"[]".to_vec(),
            OnEvent,
            INVALID,
        ),
    ];
    let mut mismatches = Vec::new();
    for (name, function, payload, scope, expected) in &rows {
        let host = host_ticket_status(function, payload, *scope);
        let stand_in = stand_in_ticket_status(function, payload, *scope);
        if (host, stand_in) != (*expected, *expected) {
            mismatches.push(format!(
                "{name} ({function}, {scope:?}): expected {expected}, host {host}, stand-in {stand_in}"
            ));
        }
    }
    assert!(mismatches.is_empty(), "\n{}", mismatches.join("\n"));
}

/// `ohd_http_request` on the host: the status and the body the plugin received (it logs
/// the body).
fn host_http(request: &[u8]) -> (u32, String) {
    host_http_with(MockHttp::new(), request)
}

fn host_http_with(
    transport: impl otai_plugin_host::http::HttpTransport + 'static,
    request: &[u8],
) -> (u32, String) {
    let imports =
        r#"(import "ohd" "ohd_http_request" (func $http (param i32 i32 i32 i32) (result i32)))"#;
    let body = r#"(drop (call $http (i32.const 16) (local.get $len) (i32.const 0) (i32.const 4)))
                  (call $log (i32.load (i32.const 0)) (i32.load (i32.const 4)) (i32.const 1))"#;
    let wasm = plugin(imports, body, request);
    let host = Host::builder().http(transport).build().unwrap();
    let plugin = host.load(&wasm).unwrap();
    host.install(&plugin, json!({})).unwrap();
    let report = host
        .deliver_to(plugin.id(), &Event::ticket_created())
        .unwrap();
    assert_eq!(report.outcome, Outcome::Ok);
    (report.http[0].status, report.logs[0].message.clone())
}

fn stand_in_http(request: &[u8]) -> (u32, String) {
    testing::reset();
    testing::set_allowed_hosts(Some(&[ALLOWED]));
    let (status, body) = host_calls::http_request(request);
    (status, String::from_utf8(body).unwrap())
}

/// The stand-in resolves no name; its scripted refusal of an internal address is the
/// one the host's real transport answers (a resolution the test controls, to loopback).
#[test]
fn the_stand_ins_scripted_address_refusal_is_the_hosts() {
    let url = "https://hooks.slack.com/x";
    let request = json!({ "method": "GET", "url": url }).to_string();
    let loopback = std::net::IpAddr::from(std::net::Ipv4Addr::LOCALHOST);
    let real = otai_plugin_host::http::RealHttp::new().resolver(move |_| Ok(vec![loopback]));
    let host = host_http_with(real, request.as_bytes());

    testing::reset();
    testing::set_allowed_hosts(Some(&[ALLOWED]));
    testing::mock_http(
        "GET",
        url,
        testing::MockResponse::address_not_allowed(ALLOWED, loopback),
    );
    let (status, body) = host_calls::http_request(request.as_bytes());
    let stand_in = (status, String::from_utf8(body).unwrap());
    assert_eq!(host, stand_in);
    let body: serde_json::Value = serde_json::from_str(&host.1).unwrap();
    assert_eq!(
        (host.0, &body["ohd_error"]["kind"]),
        (0, &json!("address_not_allowed"))
    );
}

#[test]
fn http_refusals_get_the_same_status_and_body_from_host_and_stand_in() {
    let big = format!(
        r#"{{"method":"POST","url":"https://hooks.slack.com/x","body":"{}"}}"#,
        "x".repeat(1024 * 1024)
    );
    let rows: Vec<(&str, Vec<u8>, u32, &str)> = vec![
        (
            "malformed JSON",
            b"{\"method\":".to_vec(),
            0,
            "invalid_request",
        ),
        (
            "unknown field",
            br#"{"method":"GET","url":"https://hooks.slack.com/","colour":1}"#.to_vec(),
            0,
            "invalid_request",
        ),
        (
            "header twice",
            br#"{"method":"GET","url":"https://hooks.slack.com/","headers":{"A":"1","a":"2"}}"#
                .to_vec(),
            0,
            "invalid_request",
        ),
        (
            "lower-case method",
            br#"{"method":"get","url":"https://hooks.slack.com/"}"#.to_vec(),
            0,
            "invalid_request",
        ),
        (
            "ftp scheme",
            br#"{"method":"GET","url":"ftp://hooks.slack.com/"}"#.to_vec(),
            0,
            "invalid_request",
        ),
        (
            "credentials",
            br#"{"method":"GET","url":"https://u:p@hooks.slack.com/"}"#.to_vec(),
            0,
            "invalid_request",
        ),
        (
            "CRLF in a header",
            br#"{"method":"GET","url":"https://hooks.slack.com/","headers":{"X":"a\r\nB: c"}}"#
                .to_vec(),
            0,
            "invalid_request",
        ),
        ("over 1 MiB", big.into_bytes(), 0, "invalid_request"),
        (
            "host not allowed",
            br#"{"method":"GET","url":"https://hooks.slack.com.evil.example/"}"#.to_vec(),
            403,
            "host_not_allowed",
        ),
        (
            "IP literal not listed",
            br#"{"method":"GET","url":"http://127.0.0.1:8080/"}"#.to_vec(),
            403,
            "host_not_allowed",
        ),
    ];
    let mut mismatches = Vec::new();
    for (name, request, status, kind) in &rows {
        let host = host_http(request);
        let stand_in = stand_in_http(request);
        let body: serde_json::Value = serde_json::from_str(&host.1).unwrap_or_default();
        if host != stand_in || host.0 != *status || body["ohd_error"]["kind"] != *kind {
            mismatches.push(format!(
                "{name}: expected {status} {kind}\n  host:     {host:?}\n  stand-in: {stand_in:?}"
            ));
        }
    }
    assert!(mismatches.is_empty(), "\n{}", mismatches.join("\n"));
}

#[test]
fn host_and_stand_in_send_the_url_that_was_judged() {
    let imports =
        r#"(import "ohd" "ohd_http_request" (func $http (param i32 i32 i32 i32) (result i32)))"#;
    let body = r#"(drop (call $http (i32.const 16) (local.get $len) (i32.const 0) (i32.const 4)))"#;
    for url in [
        r"https://hooks.slack.com\@evil.example/x",
        "HTTPS://Hooks.Slack.com",
        "https://hooks%2eslack.com/x?q=a b",
    ] {
        let request = json!({ "method": "POST", "url": url }).to_string();
        let wasm = plugin(imports, body, request.as_bytes());
        let host = Host::builder()
            .http(MockHttp::new().on("*", "*").respond(200, "ok"))
            .build()
            .unwrap();
        let plugin = host.load(&wasm).unwrap();
        host.install(&plugin, json!({})).unwrap();
        let report = host
            .deliver_to(plugin.id(), &Event::ticket_created())
            .unwrap();

        testing::reset();
        testing::set_allowed_hosts(Some(&[ALLOWED]));
        testing::mock_http("*", "*", testing::MockResponse::ok("ok"));
        let (status, _) = host_calls::http_request(request.as_bytes());
        let recorded = testing::recorded().http;

        assert_eq!((report.http[0].status, status), (200, 200), "{url}");
        assert_eq!(report.http[0].request.url, recorded[0].url, "{url}");
        assert!(
            recorded[0].url.starts_with("https://hooks.slack.com/"),
            "{url}"
        );
    }
}

/// The plugin of [`manifest`] under `#[plugin]`, for the stand-in's `testing::deliver`:
/// it logs the event it was given.
#[derive(Default)]
struct Subscriber;

#[otai_plugin_sdk::plugin(cargo_toml = "fixtures/parity.toml")]
impl otai_plugin_sdk::Plugin for Subscriber {
    type Config = otai_plugin_sdk::NoConfig;

    fn on_event(
        &mut self,
        event: otai_plugin_sdk::Event<'_, otai_plugin_sdk::NoConfig>,
    ) -> otai_plugin_sdk::Result<()> {
        otai_plugin_sdk::info!("given {}", event.kind);
        Ok(())
    }
}

/// An event the manifest does not subscribe to is not delivered: the host refuses it
/// and so does the stand-in, with the same message, and the plugin does not run on
/// either. A subscribed event runs on both.
#[test]
fn an_event_the_manifest_does_not_subscribe_to_is_refused_by_host_and_stand_in() {
    let body = r#"(i32.store8 (i32.const 0) (i32.const 120))
                  (call $log (i32.const 0) (i32.const 1) (i32.const 1))"#;
    let wasm = plugin("", body, b"");
    let host = Host::builder().http(MockHttp::new()).build().unwrap();
    let loaded = host.load(&wasm).unwrap();
    host.install(&loaded, json!({})).unwrap();
    let refused = host
        .deliver_to(loaded.id(), &Event::ticket_resolved())
        .expect_err("the manifest lists only ticket.created");
    assert!(host.deliver(&Event::ticket_resolved()).is_empty());

    testing::reset();
    let payload = |kind| testing::payload(kind, json!({}));
    let stand_in = testing::deliver::<Subscriber>(&payload(EventKind::TicketResolved));
    let message = stand_in.result.expect_err("the stand-in refuses it too");
    assert_eq!(message.message(), refused.to_string());
    assert!(stand_in.logs.is_empty(), "{:?}", stand_in.logs);

    let delivered = host
        .deliver_to(loaded.id(), &Event::ticket_created())
        .unwrap();
    assert_eq!(delivered.outcome, Outcome::Ok);
    let stand_in = testing::deliver::<Subscriber>(&payload(EventKind::TicketCreated));
    stand_in.result.unwrap();
    assert_eq!(stand_in.logs[0].message, "given ticket.created");
}
