//! The component flavour on the reference host: components made from WAT and the WIT
//! world (as `cargo otai-plugin build --component` encodes a module) load, run under the
//! same limits as core modules, and report what a core module's delivery reports. The
//! examples built both ways are compared in `tests/tests/flavours.rs`.

use crate::common;

use std::time::Duration;

use common::*;
use otai_plugin_host::abi::module::{Flavour, ProblemKind};
use otai_plugin_host::http::{HostErrorKind, MockHttp, RealHttp};
use otai_plugin_host::{Event, Host, LoadError, Outcome};
use serde_json::{Value, json};

const ID: &str = "com.example.component";

fn m(hosts: &[&str]) -> Value {
    manifest(ID, &["ticket.created"], hosts)
}

fn host(deadline: Duration, mock: MockHttp) -> Host {
    Host::builder()
        .deadline(deadline)
        .memory_limit(4 << 20)
        .max_instances(4)
        .http(mock)
        .build()
        .unwrap()
}

fn deliver(host: &Host, wasm: &[u8]) -> otai_plugin_host::DeliveryReport {
    install(host, wasm, json!({}));
    host.deliver_to(ID, &Event::ticket_created()).unwrap()
}

fn load_problems(wasm: &[u8]) -> Vec<(ProblemKind, String)> {
    match host(Duration::from_secs(5), MockHttp::new()).load(wasm) {
        Err(LoadError::Rejected(r)) => r.errors().map(|p| (p.kind, p.message.clone())).collect(),
        other => panic!("expected a rejection, got {other:?}"),
    }
}

#[test]
fn a_component_loads_as_the_component_flavour_and_gets_the_payload() {
    let wasm = component("plugin", Some(&m(&[])), COMPONENT_ECHO);
    let host = host(Duration::from_secs(5), MockHttp::new());
    let plugin = host.load(&wasm).unwrap();
    assert_eq!(plugin.flavour(), Flavour::Component);
    assert_eq!(plugin.allocator(), None);
    assert_eq!(plugin.id(), ID);
    host.install(&plugin, json!({})).unwrap();
    let report = host.deliver_to(ID, &Event::ticket_created()).unwrap();
    report.assert_ok();
    assert_eq!(report.logs.len(), 1);
    let payload: Value = serde_json::from_str(&report.logs[0].message).unwrap();
    assert_eq!(payload["event"], "ticket.created");
    assert_eq!(payload["ticket"]["id"], otai_plugin_host::DEFAULT_TICKET_ID);
}

#[test]
fn a_trap_takes_the_last_error_line_as_its_reason() {
    let body = format!(
        r#"(func (export "on-event") (param i32 i32)
             (call $log (i32.const 3) (i32.const 1024) (i32.const 14))
             unreachable)
           {}"#,
        data(1024, b"on_event: boom")
    );
    let report = deliver(
        &host(Duration::from_secs(5), MockHttp::new()),
        &component("plugin", Some(&m(&[])), &body),
    );
    match &report.outcome {
        Outcome::Trapped {
            message, reason, ..
        } => {
            assert!(message.contains("unreachable"), "{message}");
            assert_eq!(reason.as_deref(), Some("on_event: boom"));
        }
        other => panic!("expected a trap, got {other:?}"),
    }
}

#[test]
fn an_infinite_loop_times_out() {
    let report = deliver(
        &host(Duration::from_millis(200), MockHttp::new()),
        &component(
            "plugin",
            Some(&m(&[])),
            r#"(func (export "on-event") (param i32 i32) (loop (br 0)))"#,
        ),
    );
    report.assert_timed_out();
}

#[test]
fn growing_past_the_memory_limit_fails_the_growth_and_reports_running_out() {
    let body = r#"(func (export "on-event") (param i32 i32)
        (loop (br_if 0 (i32.ne (memory.grow (i32.const 16)) (i32.const -1))))
        unreachable)"#;
    let report = deliver(
        &host(Duration::from_secs(5), MockHttp::new()),
        &component("plugin", Some(&m(&[])), body),
    );
    match &report.outcome {
        Outcome::Trapped { message, .. } => {
            assert!(
                message.contains("ran out of memory") && message.contains("4 MiB"),
                "{message}"
            )
        }
        other => panic!("expected a trap, got {other:?}"),
    }
}

/// An `on-event` sending a request (`method` as the WIT enum's index, `url` at 1024,
/// no headers, no body), then logging at info the response body (status at 2048+4 is
/// not logged) or, for an error, the case's string at warn.
fn http_call(method: u32, url: &str) -> String {
    format!(
        r#"(func (export "on-event") (param i32 i32)
             (call $http (i32.const {method}) (i32.const 1024) (i32.const {len})
               (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)
               (i32.const 2048))
             (if (i32.eqz (i32.load8_u (i32.const 2048)))
               (then (call $log (i32.const 1) (i32.load (i32.const 2056)) (i32.load (i32.const 2060))))
               (else
                 ;; request-error: the case at 2052, its payload at 2056. `host-not-allowed`
                 ;; (0) carries a record whose second string is the message.
                 (if (i32.eqz (i32.load8_u (i32.const 2052)))
                   (then (call $log (i32.const 2) (i32.load (i32.const 2064)) (i32.load (i32.const 2068))))
                   (else (call $log (i32.const 2) (i32.load (i32.const 2056)) (i32.load (i32.const 2060))))))))
           {data}"#,
        len = url.len(),
        data = data(1024, url.as_bytes())
    )
}

#[test]
fn http_requests_follow_the_allow_list_and_report_as_the_core_flavours_do() {
    let mock = MockHttp::new()
        .on("POST", "https://hooks.slack.com/x")
        .respond(201, "created");
    let host = host(Duration::from_secs(5), mock.clone());
    let allowed = deliver(
        &host,
        &component(
            "plugin",
            Some(&m(&["hooks.slack.com"])),
            &http_call(2, "https://hooks.slack.com/x"),
        ),
    );
    allowed.assert_ok();
    assert_eq!(allowed.http.len(), 1);
    assert_eq!(allowed.http[0].status, 201);
    assert_eq!(allowed.http[0].request.method, "POST");
    assert_eq!(allowed.logs[0].message, "created");
    assert_eq!(mock.requests().len(), 1);

    let host = otai_plugin_host::Host::builder()
        .http(MockHttp::new())
        .build()
        .unwrap();
    let refused = deliver(
        &host,
        &component(
            "plugin",
            Some(&m(&["hooks.slack.com"])),
            &http_call(0, "https://evil.example/steal"),
        ),
    );
    refused.assert_ok();
    let exchange = &refused.http[0];
    assert!(exchange.blocked);
    assert_eq!(exchange.status, 403);
    let error = exchange.error.as_ref().unwrap();
    assert_eq!(error.host.as_deref(), Some("evil.example"));
    // The plugin saw the same message as the core flavour's error body carries.
    assert_eq!(refused.logs[0].message, error.message);
}

#[test]
fn a_slow_server_times_the_delivery_out_during_the_host_call() {
    let (port, server) = serve_once(None);
    let host = Host::builder()
        .deadline(Duration::from_millis(300))
        .max_instances(4)
        .http(RealHttp::new())
        .build()
        .unwrap();
    let report = deliver(
        &host,
        &component(
            "plugin",
            Some(&m(&["127.0.0.1"])),
            &http_call(0, &format!("http://127.0.0.1:{port}/")),
        ),
    );
    assert_eq!(
        report.outcome,
        Outcome::TimedOut,
        "{}",
        report.to_snapshot()
    );
    assert_eq!(
        report.http[0].error.as_ref().map(|e| e.kind),
        Some(HostErrorKind::Timeout)
    );
    server.join().unwrap();
}

/// An `on-event` adding a reply (`ticket` at 1024, body "Done." at 1100) and logging
/// the result: `ok`, or the call error's case index as one byte.
fn reply_call(ticket: &str) -> String {
    format!(
        r#"(func (export "on-event") (param i32 i32)
             (call $reply (i32.const 1024) (i32.const {len}) (i32.const 1100) (i32.const 5)
               (i32.const 1) (i32.const 2048))
             (if (i32.eqz (i32.load8_u (i32.const 2048)))
               (then (call $log (i32.const 1) (i32.const 1200) (i32.const 2)))
               (else
                 (i32.store8 (i32.const 1300) (i32.add (i32.const 48) (i32.load8_u (i32.const 2049))))
                 (call $log (i32.const 1) (i32.const 1300) (i32.const 1)))))
           {ticket} {body} {ok}"#,
        len = ticket.len(),
        ticket = data(1024, ticket.as_bytes()),
        body = data(1100, b"Done."),
        ok = data(1200, b"ok"),
    )
}

#[test]
fn ticket_operations_answer_with_the_core_statuses() {
    let host = host(Duration::from_secs(5), MockHttp::new());
    let ours = deliver(
        &host,
        &component(
            "plugin",
            Some(&m(&[])),
            &reply_call(otai_plugin_host::DEFAULT_TICKET_ID),
        ),
    );
    ours.assert_ok();
    assert_eq!(ours.logs[0].message, "ok");
    assert_eq!(ours.replies.len(), 1);
    assert_eq!(ours.replies[0].body, "Done.");
    assert!(ours.replies[0].is_internal);

    let other = deliver(
        &host,
        &component("plugin", Some(&m(&[])), &reply_call("01OTHERTICKET")),
    );
    // `wrong-ticket` is case 1, status 2.
    assert_eq!(other.logs[0].message, "1");
    assert!(other.replies.is_empty());
}

fn panel_component(url: &str) -> Vec<u8> {
    let mut manifest = m(&["panel.example"]);
    manifest["ui_panel"] = json!({"title": "Panel", "height": 100});
    let body = format!(
        r#"(func (export "on-event") (param i32 i32))
           (func (export "render-panel") (param i32 i32) (result i32)
             (i32.store (i32.const 2048) (i32.const 1024))
             (i32.store (i32.const 2052) (i32.const {len}))
             (i32.const 2048))
           {data}"#,
        len = url.len(),
        data = data(1024, url.as_bytes())
    );
    component("plugin-with-panel", Some(&manifest), &body)
}

#[test]
fn render_panel_returns_a_url_checked_as_for_core_modules() {
    let host = host(Duration::from_secs(5), MockHttp::new());
    install(
        &host,
        &panel_component("https://panel.example/t/1"),
        json!({}),
    );
    let report = host.render_panel(ID, "T-1").unwrap();
    assert_eq!(report.outcome, Outcome::Ok);
    assert_eq!(report.url.as_deref(), Some("https://panel.example/t/1"));

    install(&host, &panel_component("https://evil.example/"), json!({}));
    let report = host.render_panel(ID, "T-1").unwrap();
    assert_eq!(report.url, None);
    assert!(
        report.refused.as_deref().unwrap().contains("evil.example"),
        "{report:?}"
    );

    install(&host, &panel_component(""), json!({}));
    let report = host.render_panel(ID, "T-1").unwrap();
    assert_eq!((report.url, report.refused), (None, None));
}

#[test]
fn ui_panel_needs_render_panel() {
    let mut manifest = m(&[]);
    manifest["ui_panel"] = json!({"title": "Panel", "height": 100});
    let problems = load_problems(&component("plugin", Some(&manifest), COMPONENT_ECHO));
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].0, ProblemKind::RenderPanelMissing);
    assert!(problems[0].1.contains("plugin-with-panel"), "{problems:?}");
}

#[test]
fn a_component_without_a_manifest_of_its_own_is_refused_with_a_hint() {
    let problems = load_problems(&component("plugin", None, COMPONENT_ECHO));
    assert_eq!(problems[0].0, ProblemKind::ManifestMissing);
}

#[test]
fn imports_outside_the_world_are_refused_by_name() {
    let wasi = with_custom(
        wat::parse_str(
            r#"(component
                 (import "wasi:cli/environment@0.2.0" (instance))
                 (import "ohd:plugin/host@2.0.0" (instance)))"#,
        )
        .unwrap(),
        "ohd_manifest",
        m(&[]).to_string().as_bytes(),
    );
    let problems = load_problems(&wasi);
    let foreign: Vec<&String> = problems
        .iter()
        .filter(|(k, _)| *k == ProblemKind::ForeignImport)
        .map(|(_, m)| m)
        .collect();
    assert_eq!(foreign.len(), 2, "{problems:?}");
    assert!(
        foreign[0].contains("`wasi:cli/environment@0.2.0`") && foreign[0].contains("WASI"),
        "{}",
        foreign[0]
    );
    assert!(foreign[1].contains("version 1.0.0"), "{}", foreign[1]);
    // Nor does it export `on-event`.
    assert!(
        problems
            .iter()
            .any(|(k, _)| *k == ProblemKind::MissingExport)
    );
}

#[test]
fn an_export_of_another_type_is_refused_with_both_types() {
    let wasm = with_custom(
        wat::parse_str(
            r#"(component
                 (core module $m (func (export "f") (param i32)))
                 (core instance $i (instantiate $m))
                 (func (export "on-event") (param "n" u32) (canon lift (core func $i "f"))))"#,
        )
        .unwrap(),
        "ohd_manifest",
        m(&[]).to_string().as_bytes(),
    );
    let problems = load_problems(&wasm);
    assert_eq!(
        problems,
        [(
            ProblemKind::ExportSignature,
            "export `on-event` has type `func(n: u32)`, expected `func(payload: string)`".into()
        )]
    );
}

#[test]
fn an_empty_component_is_refused_for_what_it_lacks() {
    let problems = load_problems(b"\0asm\x0d\x00\x01\x00");
    let kinds: Vec<ProblemKind> = problems.iter().map(|(k, _)| *k).collect();
    assert_eq!(
        kinds,
        [ProblemKind::ManifestMissing, ProblemKind::MissingExport]
    );
}
