//! Deliveries: payload, subscriptions, ticket operations and their statuses.

use crate::common;

use common::*;
use otai_plugin_host::http::MockHttp;
use otai_plugin_host::{DeliverError, Event, Outcome};
use serde_json::{Value, json};

fn payload_of(report: &otai_plugin_host::DeliveryReport) -> Value {
    serde_json::from_str(&report.logs[0].message).expect("the echo plugin logs the payload")
}

#[test]
fn only_subscribed_plugins_get_an_event() {
    let host = test_host(MockHttp::new());
    install(
        &host,
        &plugin(&manifest("com.example.a", &["ticket.created"], &[]), ECHO),
        json!({}),
    );
    install(
        &host,
        &plugin(
            &manifest("com.example.b", &["ticket.closed", "ticket.created"], &[]),
            ECHO,
        ),
        json!({}),
    );
    let created = host.deliver(&Event::ticket_created());
    assert_eq!(
        created
            .iter()
            .map(|r| r.plugin_id.as_str())
            .collect::<Vec<_>>(),
        ["com.example.a", "com.example.b"]
    );
    let closed = host.deliver(&Event::ticket_closed());
    assert_eq!(closed.len(), 1);
    assert_eq!(closed[0].plugin_id, "com.example.b");
    assert!(host.deliver(&Event::ticket_reopened()).is_empty());

    let e = host
        .deliver_to("com.example.a", &Event::ticket_closed())
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "plugin `com.example.a` does not subscribe to `ticket.closed`; its manifest lists `ticket.created`"
    );
    assert!(matches!(
        host.deliver_to("com.example.zzz", &Event::ticket_created()),
        Err(DeliverError::NotInstalled { .. })
    ));
}

/// `Host::deliver` finds the subscribed through an index by event kind: a reinstall
/// with other events, a disable, an enable and an uninstall each show in the next
/// delivery.
#[test]
fn the_subscriptions_follow_reinstall_disable_and_uninstall() {
    let host = test_host(MockHttp::new());
    let ids = |event: &Event| -> Vec<String> {
        host.deliver(event)
            .into_iter()
            .map(|r| r.plugin_id)
            .collect()
    };
    install(
        &host,
        &plugin(
            &manifest("com.example.a", &["ticket.created", "ticket.closed"], &[]),
            ECHO,
        ),
        json!({}),
    );
    install(
        &host,
        &plugin(&manifest("com.example.b", &["ticket.created"], &[]), ECHO),
        json!({}),
    );
    assert_eq!(ids(&Event::ticket_closed()), ["com.example.a"]);
    // A new version that no longer subscribes to `ticket.closed`, and now to
    // `ticket.reopened`.
    install(
        &host,
        &plugin(
            &manifest("com.example.a", &["ticket.created", "ticket.reopened"], &[]),
            ECHO,
        ),
        json!({}),
    );
    assert!(ids(&Event::ticket_closed()).is_empty());
    assert_eq!(ids(&Event::ticket_reopened()), ["com.example.a"]);
    assert_eq!(
        ids(&Event::ticket_created()),
        ["com.example.a", "com.example.b"]
    );
    host.disable("com.example.a").unwrap();
    assert_eq!(ids(&Event::ticket_created()), ["com.example.b"]);
    host.enable("com.example.a").unwrap();
    assert_eq!(
        ids(&Event::ticket_created()),
        ["com.example.a", "com.example.b"]
    );
    assert!(host.uninstall("com.example.a"));
    assert_eq!(ids(&Event::ticket_created()), ["com.example.b"]);
    assert!(ids(&Event::ticket_reopened()).is_empty());
    assert_eq!(host.installed(), ["com.example.b"]);
}

#[test]
fn the_payload_is_the_abi_payload_with_the_event_data() {
    let host = test_host(MockHttp::new());
    install(
        &host,
        &plugin(
            &manifest("com.example.echo", &["ticket.status_changed"], &[]),
            ECHO,
        ),
        json!({}),
    );
    let event = Event::ticket_status_changed()
        .priority("Critical")
        .subject("Printer on fire");
    let report = host.deliver_to("com.example.echo", &event).unwrap();
    report.assert_ok();
    assert!(
        report.logs[0]
            .message
            .starts_with(r#"{"event":"ticket.status_changed","occurred_at":"#)
    );
    let payload = payload_of(&report);
    assert_eq!(payload["ticket"]["priority"], "Critical");
    assert_eq!(payload["ticket"]["subject"], "Printer on fire");
    assert_eq!(
        payload["data"],
        json!({"from_status": "New", "to_status": "In Progress"})
    );
    assert!(payload["config"].is_object());
    let typed: otai_plugin_host::abi::event::EventPayload<Value> =
        serde_json::from_value(payload).unwrap();
    assert_eq!(
        typed.event,
        otai_plugin_host::abi::event::EventKind::TicketStatusChanged
    );
    assert!(report.timings.total_us >= report.timings.call_us);
}

/// Depends on `Manifest::validate_config` / `Config::to_payload_json` (abi crate).
#[test]
fn the_payload_carries_the_config_with_defaults() {
    let mut m = manifest("com.example.cfg", &["ticket.created"], &[]);
    m["config_schema"] = json!({
        "channel": {"type": "string", "label": "Channel", "default": "#support"},
        "mention_on_critical": {"type": "boolean", "label": "Mention", "default": false}
    });
    let host = test_host(MockHttp::new());
    install(
        &host,
        &plugin(&m, ECHO),
        json!({"mention_on_critical": true}),
    );
    let report = host
        .deliver_to("com.example.cfg", &Event::ticket_created())
        .unwrap();
    assert_eq!(
        payload_of(&report)["config"],
        json!({"channel": "#support", "mention_on_critical": true})
    );
}

#[test]
fn custom_fields_set_in_one_delivery_are_in_the_next_payload() {
    let host = test_host(MockHttp::new());
    let wasm = field_setter(
        "fields",
        &["ticket.created", "ticket.closed"],
        otai_plugin_host::DEFAULT_TICKET_ID,
        ("jira_issue", "OPS-12"),
    );
    install(&host, &wasm, json!({}));
    let first = host
        .deliver_to("com.example.fields", &Event::ticket_created())
        .unwrap();
    first
        .assert_ok()
        .assert_custom_field("jira_issue", "OPS-12");
    assert_eq!(payload_of(&first)["ticket"]["custom_fields"], json!({}));
    assert_eq!(
        host.custom_fields(otai_plugin_host::DEFAULT_TICKET_ID)["jira_issue"],
        "OPS-12"
    );
    let second = host
        .deliver_to("com.example.fields", &Event::ticket_closed())
        .unwrap();
    assert_eq!(
        payload_of(&second)["ticket"]["custom_fields"],
        json!({"jira_issue": "OPS-12"})
    );
    // Another ticket has its own fields.
    let other = host
        .deliver_to(
            "com.example.fields",
            &Event::ticket_closed().with_ticket_id("T-2"),
        )
        .unwrap();
    assert_eq!(payload_of(&other)["ticket"]["custom_fields"], json!({}));

    // The same event delivered again carries what the host now holds: an event's
    // payload is serialized once, but the ticket's stored fields are merged each time.
    let event = Event::ticket_created();
    let before = host.deliver_to("com.example.fields", &event).unwrap();
    assert_eq!(
        payload_of(&before)["ticket"]["custom_fields"],
        json!({"jira_issue": "OPS-12"})
    );
    host.forget_custom_fields();
    assert!(
        host.custom_fields(otai_plugin_host::DEFAULT_TICKET_ID)
            .is_empty()
    );
    let after = host.deliver_to("com.example.fields", &event).unwrap();
    assert_eq!(payload_of(&after)["ticket"]["custom_fields"], json!({}));
}

/// docs/ABI.md section 9, "What a failed delivery keeps": a reply and a field the host
/// accepted stay when the delivery then fails, and the next delivery carries the field.
#[test]
fn a_failed_delivery_keeps_the_replies_and_custom_fields_it_wrote() {
    let host = test_host(MockHttp::new());
    let ticket = otai_plugin_host::DEFAULT_TICKET_ID;
    let field = format!(r#"{{"ticket_id":"{ticket}","key":"incident","value":"PD-7"}}"#);
    let reply = format!(r#"{{"ticket_id":"{ticket}","body":"Paged.","is_internal":true}}"#);
    let body = format!(
        r#"(func (export "on_event") (param i32 i32)
             (call $log (local.get 0) (local.get 1) (i32.const 1))
             (drop (call $field (i32.const 1024) (i32.const {field_len})))
             (drop (call $reply (i32.const 2048) (i32.const {reply_len})))
             unreachable)
           {field_data}
           {reply_data}"#,
        field_len = field.len(),
        reply_len = reply.len(),
        field_data = data(1024, field.as_bytes()),
        reply_data = data(2048, reply.as_bytes()),
    );
    let id = install(
        &host,
        &plugin(
            &manifest(
                "com.example.fails",
                &["ticket.created", "ticket.closed"],
                &[],
            ),
            &body,
        ),
        json!({}),
    );
    let first = host.deliver_to(&id, &Event::ticket_created()).unwrap();
    assert!(
        matches!(first.outcome, Outcome::Trapped { .. }),
        "{:?}",
        first.outcome
    );
    assert_eq!(first.replies.len(), 1, "{first:?}");
    assert_eq!(
        (first.replies[0].body.as_str(), first.replies[0].is_internal),
        ("Paged.", true)
    );
    assert_eq!(first.custom_fields.len(), 1, "{first:?}");
    assert_eq!(host.custom_fields(ticket)["incident"], "PD-7");
    let second = host.deliver_to(&id, &Event::ticket_closed()).unwrap();
    assert_eq!(
        payload_of(&second)["ticket"]["custom_fields"],
        json!({"incident": "PD-7"})
    );
}

/// docs/ABI.md section 6, "One change, several events": resolving a ticket delivers
/// `ticket.status_changed`, then `ticket.resolved`, each to the plugins that subscribe to
/// it, and the second carries what the first set.
#[test]
fn resolving_a_ticket_delivers_status_changed_then_resolved() {
    let host = test_host(MockHttp::new());
    let both = install(
        &host,
        &field_setter(
            "both",
            &["ticket.status_changed", "ticket.resolved"],
            otai_plugin_host::DEFAULT_TICKET_ID,
            ("seen", "yes"),
        ),
        json!({}),
    );
    let only_resolved = install(
        &host,
        &plugin(
            &manifest("com.example.resolved", &["ticket.resolved"], &[]),
            ECHO,
        ),
        json!({}),
    );
    let before = Event::ticket_status_changed().status("In Progress");
    let events = before
        .status_change("Resolved", "Battery replaced.")
        .unwrap();
    let delivered: Vec<(String, String, Value)> = events
        .iter()
        .flat_map(|event| host.deliver(event))
        .map(|report| {
            let payload = payload_of(&report);
            (report.plugin_id, report.event, payload)
        })
        .collect();
    let order: Vec<(&str, &str)> = delivered
        .iter()
        .map(|(plugin, event, _)| (plugin.as_str(), event.as_str()))
        .collect();
    assert_eq!(
        order,
        [
            (both.as_str(), "ticket.status_changed"),
            (both.as_str(), "ticket.resolved"),
            (only_resolved.as_str(), "ticket.resolved"),
        ]
    );
    let (changed, resolved) = (&delivered[0].2, &delivered[1].2);
    assert_eq!(
        changed["data"],
        json!({"from_status": "In Progress", "to_status": "Resolved"})
    );
    assert_eq!(changed["ticket"]["custom_fields"], json!({}));
    assert_eq!(
        resolved["data"],
        json!({"resolution_notes": "Battery replaced."})
    );
    assert_eq!(resolved["ticket"]["custom_fields"], json!({"seen": "yes"}));
    for (_, _, payload) in &delivered {
        assert_eq!(payload["ticket"]["status"], "Resolved");
        assert_eq!(payload["occurred_at"], changed["occurred_at"]);
        assert_eq!(payload["actor"], changed["actor"]);
    }
    // Setting the status it has is no change.
    assert!(
        Event::ticket_resolved()
            .status_change("Resolved", "")
            .unwrap()
            .is_empty()
    );
}

/// A plugin `com.example.<name>` that logs its payload and sets a field on `ticket`.
fn field_setter(name: &str, events: &[&str], ticket: &str, (key, value): (&str, &str)) -> Vec<u8> {
    let m = manifest(&format!("com.example.{name}"), events, &[]);
    let set = format!(r#"{{"ticket_id":"{ticket}","key":"{key}","value":"{value}"}}"#);
    let body = format!(
        r#"(func (export "on_event") (param i32 i32)
             (call $log (local.get 0) (local.get 1) (i32.const 1))
             (if (i32.ne (call $field (i32.const 1024) (i32.const {len})) (i32.const 0)) (then unreachable)))
           {data}"#,
        len = set.len(),
        data = data(1024, set.as_bytes())
    );
    plugin(&m, &body)
}

#[test]
fn the_host_keeps_the_fields_of_the_tickets_used_most_recently() {
    let host = otai_plugin_host::Host::builder()
        .custom_field_tickets(2)
        .max_instances(8)
        .http(MockHttp::new())
        .build()
        .unwrap();
    for n in 1..=3 {
        install(
            &host,
            &field_setter(
                &format!("set{n}"),
                &["ticket.assigned"],
                &format!("T-{n}"),
                ("n", &n.to_string()),
            ),
            json!({}),
        );
    }
    let reader = install(
        &host,
        &plugin(
            &manifest("com.example.reader", &["ticket.closed"], &[]),
            ECHO,
        ),
        json!({}),
    );
    let set = |n: u32| {
        host.deliver_to(
            &format!("com.example.set{n}"),
            &Event::ticket_assigned().with_ticket_id(&format!("T-{n}")),
        )
        .unwrap()
        .assert_ok();
    };
    let read = |ticket: &str| {
        let report = host
            .deliver_to(&reader, &Event::ticket_closed().with_ticket_id(ticket))
            .unwrap();
        payload_of(&report)["ticket"]["custom_fields"].clone()
    };

    set(1);
    set(2);
    // A delivery to T-1 makes T-2 the ticket used least recently.
    assert_eq!(read("T-1"), json!({"n": "1"}));
    set(3);
    assert_eq!(read("T-1"), json!({"n": "1"}));
    assert_eq!(read("T-2"), json!({}));
    assert!(host.custom_fields("T-2").is_empty());
    assert_eq!(read("T-3"), json!({"n": "3"}));
    // T-2 comes back with only what is set from now on; T-1 is now the oldest.
    set(2);
    assert_eq!(host.custom_fields("T-2")["n"], "2");
    assert!(host.custom_fields("T-1").is_empty());
    assert_eq!(host.custom_fields("T-3")["n"], "3");
}

#[test]
fn a_host_told_to_keep_no_tickets_delivers_only_the_events_own_fields() {
    let host = otai_plugin_host::Host::builder()
        .custom_field_tickets(0)
        .http(MockHttp::new())
        .build()
        .unwrap();
    let id = install(
        &host,
        &field_setter("set", &["ticket.assigned"], "T-1", ("n", "1")),
        json!({}),
    );
    let event = Event::ticket_assigned()
        .with_ticket_id("T-1")
        .merge_json(json!({"ticket": {"custom_fields": {"from_desk": "yes"}}}))
        .unwrap();
    for _ in 0..2 {
        let report = host.deliver_to(&id, &event).unwrap();
        report.assert_ok().assert_custom_field("n", "1");
        assert_eq!(
            payload_of(&report)["ticket"]["custom_fields"],
            json!({"from_desk": "yes"})
        );
    }
    assert!(host.custom_fields("T-1").is_empty());
}

fn status_case(func: &str, json: &str, expected: u32) {
    let host = test_host(MockHttp::new());
    let m = manifest("com.example.status", &["ticket.created"], &[]);
    install(
        &host,
        &plugin(&m, &expect_status(func, json.as_bytes(), expected)),
        json!({}),
    );
    let r = host
        .deliver_to("com.example.status", &Event::ticket_created())
        .unwrap();
    assert_eq!(
        r.outcome,
        Outcome::Ok,
        "{func} {json} should return {expected}:\n{}",
        r.to_snapshot()
    );
}

#[test]
fn add_reply_statuses() {
    let t = otai_plugin_host::DEFAULT_TICKET_ID;
    status_case(
        "reply",
        &format!(r#"{{"ticket_id":"{t}","body":"Thanks!","is_internal":true}}"#),
        0,
    );
    status_case(
        "reply",
        &format!(r#"{{"ticket_id":"{t}","body":"Thanks!"}}"#),
        0,
    );
    status_case("reply", r#"{"ticket_id":"OTHER","body":"Thanks!"}"#, 2);
    status_case("reply", &format!(r#"{{"ticket_id":"{t}","body":""}}"#), 1);
    status_case(
        "reply",
        &format!(r#"{{"ticket_id":"{t}","body":"a","body":"b"}}"#),
        1,
    );
    status_case(
        "reply",
        &format!(r#"{{"ticket_id":"{t}","body":"a","colour":"red"}}"#),
        1,
    );
    status_case("reply", r#"{"ticket_id":"#, 1);
    status_case("reply", "[1,2]", 1);
    status_case("reply", "\u{0}\u{1}garbage", 1);
    let big = "x".repeat(70 * 1024);
    status_case(
        "reply",
        &format!(r#"{{"ticket_id":"{t}","body":"{big}"}}"#),
        3,
    );
}

#[test]
fn set_custom_field_statuses() {
    let t = otai_plugin_host::DEFAULT_TICKET_ID;
    status_case(
        "field",
        &format!(r#"{{"ticket_id":"{t}","key":"k","value":"v"}}"#),
        0,
    );
    status_case(
        "field",
        &format!(r#"{{"ticket_id":"{t}","key":"","value":"v"}}"#),
        1,
    );
    status_case("field", &format!(r#"{{"ticket_id":"{t}","key":"k"}}"#), 1);
    status_case("field", r#"{"ticket_id":"OTHER","key":"k","value":"v"}"#, 2);
    status_case(
        "field",
        &format!(
            r#"{{"ticket_id":"{t}","key":"{}","value":"v"}}"#,
            "k".repeat(129)
        ),
        3,
    );
    status_case(
        "field",
        &format!(
            r#"{{"ticket_id":"{t}","key":"k","value":"{}"}}"#,
            "v".repeat(4097)
        ),
        3,
    );
    status_case("field", "not json", 1);
}

#[test]
fn replies_are_reported() {
    let t = otai_plugin_host::DEFAULT_TICKET_ID;
    let host = test_host(MockHttp::new());
    let m = manifest("com.example.reply", &["ticket.created"], &[]);
    let json = format!(
        r#"{{"ticket_id":"{t}","body":"PagerDuty incident #12345 created","is_internal":true}}"#
    );
    install(
        &host,
        &plugin(&m, &expect_status("reply", json.as_bytes(), 0)),
        json!({}),
    );
    let r = host
        .deliver_to("com.example.reply", &Event::ticket_created())
        .unwrap();
    r.assert_ok().assert_reply("incident #12345");
    assert!(r.replies[0].is_internal);
    assert_eq!(r.replies[0].ticket_id, t);
}

#[test]
fn the_report_round_trips_through_json_and_snapshots_drop_timings() {
    let host = test_host(MockHttp::new());
    install(
        &host,
        &plugin(&manifest("com.example.rt", &["ticket.created"], &[]), ECHO),
        json!({}),
    );
    let r = host
        .deliver_to("com.example.rt", &Event::ticket_created())
        .unwrap();
    let json = serde_json::to_value(&r).unwrap();
    let keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys.len(), 8);
    assert_eq!(json["outcome"], json!({"status": "ok"}));
    assert_eq!(json["logs"][0]["level"], "info");
    let back: otai_plugin_host::DeliveryReport = serde_json::from_value(json).unwrap();
    assert_eq!(back, r);
    let snapshot: Value = serde_json::from_str(&r.to_snapshot()).unwrap();
    assert!(snapshot.get("timings").is_none());
    let without: otai_plugin_host::DeliveryReport = serde_json::from_value(snapshot).unwrap();
    assert_eq!(without.timings, Default::default());
}

#[test]
fn hosts_are_send_and_sync_and_deliver_from_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<otai_plugin_host::Host>();
    assert_send_sync::<otai_plugin_host::Plugin>();
    let host = test_host(MockHttp::new());
    install(
        &host,
        &plugin(&manifest("com.example.mt", &["ticket.created"], &[]), ECHO),
        json!({}),
    );
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                for _ in 0..20 {
                    host.deliver_to("com.example.mt", &Event::ticket_created())
                        .unwrap()
                        .assert_ok();
                }
            });
        }
    });
}

#[test]
fn recorded_calls_give_the_order_and_the_status_of_refused_ticket_operations() {
    let body = r#"
  (func (export "on_event") (param i32 i32)
    (call $log (i32.const 0) (i32.const 5) (i32.const 1))
    (drop (call $reply (i32.const 16) (i32.const 5)))
    (drop (call $field (i32.const 32) (i32.const 64)))
    (call $log (i32.const 8) (i32.const 4) (i32.const 9)))
  (data (i32.const 0) "first")
  (data (i32.const 8) "last")
  (data (i32.const 16) "{bad}")
  (data (i32.const 32) "{\"ticket_id\":\"01JQXYZ8K2M4N6P8R0T2V4W6Y8\",\"key\":\"k\",\"value\":\"v\"}")
"#;
    let wasm = plugin(
        &manifest("com.example.calls", &["ticket.created"], &[]),
        body,
    );
    let recording = otai_plugin_host::Host::builder()
        .http(MockHttp::new())
        .record_calls(true)
        .build()
        .unwrap();
    install(&recording, &wasm, json!({}));
    let report = recording
        .deliver_to("com.example.calls", &Event::ticket_created())
        .unwrap();
    use otai_plugin_host::HostCall;
    use otai_plugin_host::host_call::{OhdAddReply, OhdLog, OhdSetCustomField};
    assert_eq!(
        report.calls,
        [
            HostCall::OhdLog(OhdLog { line: Some(0) }),
            HostCall::OhdAddReply(OhdAddReply {
                status: 1,
                reply: None
            }),
            HostCall::OhdSetCustomField(OhdSetCustomField {
                status: 0,
                field: Some(0)
            }),
            HostCall::OhdLog(OhdLog { line: Some(1) }),
        ]
    );
    assert_eq!(report.logs[1].message, "last");
    assert_eq!(report.custom_fields[0].key, "k");

    // Off by default: the report is what it always was.
    let host = test_host(MockHttp::new());
    install(&host, &wasm, json!({}));
    let report = host
        .deliver_to("com.example.calls", &Event::ticket_created())
        .unwrap();
    assert!(report.calls.is_empty());
    assert!(!report.to_snapshot().contains("\"calls\""));
}
