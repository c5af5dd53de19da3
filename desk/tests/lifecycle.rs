//! The desk's lifecycle, as an administrator and a plugin author rely on it: every
//! state survives closing and reopening the data directory.

use std::sync::Arc;

use otai_plugin_desk::{Desk, DeskError, DeskOptions, DisabledReason};
use otai_plugin_host::Outcome;
use otai_plugin_host::http::MockHttp;
use otai_plugin_test_support::{FIELD, HTTP, LOG, Module, REPLY};
use serde_json::{Map, Value, json};

const KEY: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// A module with `manifest` and an `on_event` made of `body` (the imports are `$log`,
/// `$http`, `$reply`, `$field`; a bump allocator at 64 KiB).
fn module(manifest: &Value, body: &str) -> Vec<u8> {
    Module::new()
        .imports(&[LOG, HTTP, REPLY, FIELD])
        .pages(4)
        .body(body)
        .manifest(&manifest.to_string())
        .wasm()
}

fn manifest(version: &str, hosts: &[&str], schema: Value) -> Value {
    json!({
        "id": "com.example.desk", "name": "Desk test", "version": version,
        "description": "A plugin for the desk's tests.", "events": ["ticket.created", "ticket.closed"],
        "permissions": {"http": {"allowed_hosts": hosts}},
        "config_schema": schema
    })
}

/// Logs the payload.
const ECHO: &str = r#"
  (func (export "on_event") (param $p i32) (param $n i32)
    (call $log (local.get $p) (local.get $n) (i32.const 1)))"#;

fn options(mock: &MockHttp) -> DeskOptions {
    DeskOptions {
        http: Arc::new(mock.clone()),
        key: Some(KEY.into()),
        ..DeskOptions::default()
    }
}

fn open(dir: &std::path::Path) -> Desk {
    Desk::open_with(dir, options(&MockHttp::new())).unwrap()
}

fn values(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

#[test]
fn install_deliver_and_reopen_keep_everything() {
    let dir = tempfile::tempdir().unwrap();
    let desk = open(dir.path());
    let info = desk
        .install(&module(&manifest("1.0.0", &[], json!({})), ECHO))
        .unwrap();
    assert!(info.enabled && info.disabled.is_none(), "{info:?}");
    let reports = desk.deliver("ticket.created", "T-1").unwrap();
    assert_eq!(reports.len(), 1);
    let payload: Value = serde_json::from_str(&reports[0].logs[0].message).unwrap();
    assert_eq!(payload["ticket"]["id"], "T-1");
    let e = desk
        .install(&module(&manifest("1.0.0", &[], json!({})), ECHO))
        .unwrap_err();
    assert!(matches!(e, DeskError::AlreadyInstalled { .. }), "{e}");
    drop(desk);

    let desk = open(dir.path());
    let list = desk.list().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!((list[0].deliveries, list[0].failures), (1, 0));
    assert!(list[0].last_delivery_ms.is_some());
    assert_eq!(desk.deliveries("com.example.desk", 10).unwrap().len(), 1);
    // The plugin still runs after the restart.
    assert_eq!(desk.deliver("ticket.closed", "T-1").unwrap().len(), 1);
    desk.remove("com.example.desk").unwrap();
    assert!(desk.list().unwrap().is_empty());
    assert!(desk.deliver("ticket.created", "T-1").unwrap().is_empty());
}

#[test]
fn secrets_are_sealed_write_only_and_reach_the_plugin_decrypted() {
    let schema = json!({
        "token": {"type": "string", "required": true, "secret": true},
        "channel": {"type": "string", "default": "#support"},
        "retries": {"type": "integer"}
    });
    let dir = tempfile::tempdir().unwrap();
    let mock = MockHttp::new()
        .on("POST", "https://hooks.example.com/x")
        .respond(200, "ok");
    let desk = Desk::open_with(dir.path(), options(&mock)).unwrap();
    let info = desk
        .install(&module(
            &manifest("1.0.0", &["hooks.example.com"], schema),
            ECHO,
        ))
        .unwrap();
    assert_eq!(info.missing_config, ["token"]);
    assert_eq!(
        info.disabled.as_ref().unwrap().reason,
        DisabledReason::NeedsConfig
    );
    assert!(
        desk.deliver("ticket.created", "T-1").unwrap().is_empty(),
        "not configured yet"
    );
    let e = desk.enable("com.example.desk").unwrap_err();
    assert_eq!(
        e.to_string(),
        "plugin `com.example.desk` cannot be enabled: `token` must be configured first"
    );

    // Every problem at once, none quoting a value.
    let e = desk
        .configure(
            "com.example.desk",
            values(json!({"retries": "three", "chanel": "#ops"})),
        )
        .unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("token")
            && text.contains("retries")
            && text.contains("did you mean \"channel\""),
        "{text}"
    );

    let secret = "xoxb-very-secret-4711";
    let info = desk
        .configure(
            "com.example.desk",
            values(json!({"token": secret, "retries": 3})),
        )
        .unwrap();
    assert!(info.enabled && info.missing_config.is_empty(), "{info:?}");
    let form = desk.config_form("com.example.desk").unwrap();
    let token = form.iter().find(|f| f.key == "token").unwrap();
    assert!(token.secret && token.is_set && token.value.is_none());
    let channel = form.iter().find(|f| f.key == "channel").unwrap();
    assert_eq!(
        (channel.is_set, channel.default.clone()),
        (false, Some(json!("#support")))
    );
    assert_eq!(
        form.iter().find(|f| f.key == "retries").unwrap().value,
        Some(json!(3))
    );
    assert!(!serde_json::to_string(&form).unwrap().contains(secret));

    let reports = desk.deliver("ticket.created", "T-1").unwrap();
    // The plugin got the value itself, decrypted: its log of the payload has it where
    // the token goes, and the report shows people `[redacted]` in its place.
    let logged = &reports[0].logs[0].message;
    assert!(
        logged.contains(r#""token":"[redacted]""#) && !logged.contains(secret),
        "{logged}"
    );
    assert!(
        logged.contains(r##""channel":"#support""##) && logged.contains(r#""retries":3"#),
        "{logged}"
    );

    // A changed value replaces the old; the other values stay.
    desk.configure(
        "com.example.desk",
        values(json!({"token": "xoxb-second-0815"})),
    )
    .unwrap();
    drop(desk);
    // The data directory's files and those of its `compiled/` directory.
    let files = std::fs::read_dir(dir.path())
        .unwrap()
        .chain(std::fs::read_dir(dir.path().join(otai_plugin_desk::COMPILED_DIR)).unwrap());
    for entry in files {
        let path = entry.unwrap().path();
        if path.is_dir() {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        for plain in [secret.as_bytes(), b"xoxb-second-0815"] {
            assert!(
                !bytes.windows(plain.len()).any(|w| w == plain),
                "{} holds a secret in plain text",
                path.display()
            );
        }
    }
    let desk = Desk::open_with(dir.path(), options(&mock)).unwrap();
    // Loaded into the host at its first delivery, not when the desk opens.
    desk.deliver("ticket.created", "T-1").unwrap();
    assert_eq!(
        desk.host().redact("com.example.desk", "xoxb-second-0815"),
        "[redacted]"
    );
    assert_eq!(
        desk.host().redact("com.example.desk", secret),
        secret,
        "the old value is gone"
    );
}

#[test]
fn an_upgrade_that_asks_for_more_needs_approval_and_a_rollback_undoes_it() {
    let dir = tempfile::tempdir().unwrap();
    let desk = open(dir.path());
    let v1 = module(
        &manifest(
            "1.0.0",
            &["a.example.com"],
            json!({"channel": {"type": "string"}}),
        ),
        ECHO,
    );
    desk.install(&v1).unwrap();
    desk.configure("com.example.desk", values(json!({"channel": "#one"})))
        .unwrap();

    let v2_manifest = manifest(
        "1.1.0",
        &["a.example.com", "b.example.com"],
        json!({"channel": {"type": "string"}, "project": {"type": "string", "required": true}}),
    );
    let v2 = module(&v2_manifest, ECHO);
    let review = desk.review(&v2).unwrap();
    assert_eq!(review.installed_version.as_deref(), Some("1.0.0"));
    assert_eq!(review.diff.as_ref().unwrap().hosts_added, ["b.example.com"]);
    let e = desk.upgrade(&v2, false).unwrap_err();
    assert_eq!(
        e.to_string(),
        "upgrading `com.example.desk` needs approval, it asks for more permissions:\n  + may send requests to b.example.com"
    );
    assert_eq!(
        desk.plugin("com.example.desk").unwrap().manifest.version,
        "1.0.0",
        "nothing changed"
    );

    let upgraded = desk.upgrade(&v2, true).unwrap();
    assert_eq!(
        (upgraded.from.as_str(), upgraded.to.as_str()),
        ("1.0.0", "1.1.0")
    );
    assert_eq!(upgraded.plugin.missing_config, ["project"]);
    assert_eq!(
        upgraded.plugin.disabled.as_ref().unwrap().reason,
        DisabledReason::NeedsConfig
    );
    let form = desk.config_form("com.example.desk").unwrap();
    assert_eq!(form[0].value, Some(json!("#one")), "carried over");
    desk.configure("com.example.desk", values(json!({"project": "OPS"})))
        .unwrap();
    assert!(desk.plugin("com.example.desk").unwrap().enabled);

    let e = desk.upgrade(&v1, true).unwrap_err();
    assert!(matches!(e, DeskError::Downgrade { .. }), "{e}");
    let other = module(
        &json!({"id": "com.example.other", "name": "O", "version": "2.0.0", "description": "d", "events": ["ticket.created"]}),
        ECHO,
    );
    assert!(matches!(
        desk.upgrade(&other, true).unwrap_err(),
        DeskError::NotInstalled { .. }
    ));

    drop(desk);
    let desk = open(dir.path());
    let back = desk.rollback("com.example.desk").unwrap();
    assert_eq!(back.manifest.version, "1.0.0");
    assert_eq!(back.previous_version.as_deref(), Some("1.1.0"));
    assert!(back.enabled);
    assert_eq!(desk.config_form("com.example.desk").unwrap().len(), 1);
    let forward = desk.rollback("com.example.desk").unwrap();
    assert_eq!(forward.manifest.version, "1.1.0");
    assert_eq!(
        desk.config_form("com.example.desk").unwrap()[1].value,
        Some(json!("OPS"))
    );
}

#[test]
fn a_failing_plugin_is_disabled_and_stays_disabled_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let desk = open(dir.path());
    let failing = r#"(func (export "on_event") (param i32 i32) unreachable)"#;
    desk.install(&module(&manifest("1.0.0", &[], json!({})), failing))
        .unwrap();
    for i in 0..10 {
        let reports = desk.deliver("ticket.created", "T-1").unwrap();
        assert!(
            matches!(reports[0].outcome, Outcome::Trapped { .. }),
            "delivery {i}"
        );
    }
    let info = desk.plugin("com.example.desk").unwrap();
    let disabled = info.disabled.expect("disabled after 10 failures of 10");
    assert_eq!(disabled.reason, DisabledReason::Failures);
    assert_eq!(
        disabled.detail,
        "10 of 10 deliveries failed within 10 minutes"
    );
    assert!(desk.deliver("ticket.created", "T-1").unwrap().is_empty());
    drop(desk);

    let desk = open(dir.path());
    let info = desk.plugin("com.example.desk").unwrap();
    assert!(!info.enabled && info.error_rate() == 1.0, "{info:?}");
    assert!(
        desk.deliver("ticket.created", "T-1").unwrap().is_empty(),
        "still disabled"
    );
    let info = desk.enable("com.example.desk").unwrap();
    assert_eq!((info.deliveries, info.failures), (0, 0), "a new window");
    assert_eq!(desk.deliver("ticket.created", "T-1").unwrap().len(), 1);
    desk.flush().unwrap();
    drop(desk);
    // The outcomes of the window that ended with the enable are not kept.
    let db = rusqlite::Connection::open(dir.path().join(otai_plugin_desk::DATABASE_FILE)).unwrap();
    let rows: i64 = db
        .query_row("SELECT count(*) FROM outcomes", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 1);
    drop(db);
    let desk = open(dir.path());
    desk.disable("com.example.desk").unwrap();
    assert!(desk.deliver("ticket.created", "T-1").unwrap().is_empty());
}

#[test]
fn the_health_window_counts_more_than_the_log_keeps_and_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    // The log keeps 3 reports, fewer than the 10 deliveries the policy needs to judge.
    let open_small = || {
        Desk::open_with(
            dir.path(),
            DeskOptions {
                keep_deliveries: 3,
                ..options(&MockHttp::new())
            },
        )
        .unwrap()
    };
    let desk = open_small();
    let failing = r#"(func (export "on_event") (param i32 i32) unreachable)"#;
    desk.install(&module(&manifest("1.0.0", &[], json!({})), failing))
        .unwrap();
    for _ in 0..6 {
        desk.deliver("ticket.created", "T-1").unwrap();
    }
    drop(desk);

    // Six failures before the restart, four after: ten in the window.
    let desk = open_small();
    let info = desk.plugin("com.example.desk").unwrap();
    assert_eq!((info.deliveries, info.failures), (6, 6), "{info:?}");
    for i in 0..3 {
        desk.deliver("ticket.created", "T-1").unwrap();
        assert!(
            desk.plugin("com.example.desk").unwrap().enabled,
            "delivery {i}"
        );
    }
    desk.deliver("ticket.created", "T-1").unwrap();
    let info = desk.plugin("com.example.desk").unwrap();
    let disabled = info.disabled.expect("disabled after 10 failures of 10");
    assert_eq!(
        disabled.detail,
        "10 of 10 deliveries failed within 10 minutes"
    );
    assert_eq!(desk.deliveries("com.example.desk", 50).unwrap().len(), 3);

    // A removed plugin's window goes with it: installed again, it starts clean.
    desk.remove("com.example.desk").unwrap();
    desk.install(&module(&manifest("1.0.0", &[], json!({})), failing))
        .unwrap();
    for _ in 0..9 {
        desk.deliver("ticket.created", "T-1").unwrap();
    }
    let info = desk.plugin("com.example.desk").unwrap();
    assert!(info.enabled, "9 deliveries are too few to judge: {info:?}");
    assert_eq!((info.deliveries, info.failures), (9, 9));
}

#[test]
fn a_database_of_schema_1_gets_its_health_window_from_the_delivery_log() {
    let dir = tempfile::tempdir().unwrap();
    let desk = open(dir.path());
    let failing = r#"(func (export "on_event") (param i32 i32) unreachable)"#;
    desk.install(&module(&manifest("1.0.0", &[], json!({})), failing))
        .unwrap();
    for _ in 0..4 {
        desk.deliver("ticket.created", "T-1").unwrap();
    }
    drop(desk);
    // Back to what the first release wrote: no outcomes table.
    let db = rusqlite::Connection::open(dir.path().join(otai_plugin_desk::DATABASE_FILE)).unwrap();
    db.execute_batch(
        "ALTER TABLE deliveries DROP COLUMN replay; DROP TABLE health_settings; \
             DROP TABLE notices; ALTER TABLE versions DROP COLUMN source; \
             ALTER TABLE versions ADD COLUMN wasm BLOB NOT NULL DEFAULT x''; \
             UPDATE versions SET wasm = (SELECT wasm FROM modules WHERE version_seq = seq); \
             DROP TABLE modules; \
             DROP TABLE outcomes; DROP TABLE trusted_keys; \
             ALTER TABLE versions DROP COLUMN signers; PRAGMA user_version = 1;",
    )
    .unwrap();
    drop(db);

    let desk = open(dir.path());
    let info = desk.plugin("com.example.desk").unwrap();
    assert_eq!((info.deliveries, info.failures), (4, 4), "{info:?}");
    // Its module, moved to its own table by migration 4, still runs.
    desk.enable("com.example.desk").unwrap();
    let reports = desk.deliver("ticket.created", "T-1").unwrap();
    assert_eq!(reports[0].outcome.status(), "trapped", "{reports:?}");
}

#[test]
fn what_plugins_write_on_a_ticket_stays_there_and_reaches_later_events() {
    let body = r#"
  (func (export "on_event") (param $p i32) (param $n i32)
    (call $log (local.get $p) (local.get $n) (i32.const 1))
    (drop (call $field (i32.const 0) (i32.const 48)))
    (drop (call $reply (i32.const 100) (i32.const 54))))
  (data (i32.const 0) "{\"ticket_id\":\"T-9\",\"key\":\"jira\",\"value\":\"OPS-1\"}")
  (data (i32.const 100) "{\"ticket_id\":\"T-9\",\"body\":\"Linked\",\"is_internal\":true}")"#;
    let dir = tempfile::tempdir().unwrap();
    let desk = open(dir.path());
    desk.install(&module(&manifest("1.0.0", &[], json!({})), body))
        .unwrap();
    desk.update_ticket(
        "T-9",
        values(json!({"subject": "Printer on fire", "priority": "Critical"})),
    )
    .unwrap();
    let first = desk.deliver("ticket.created", "T-9").unwrap();
    assert!(first[0].outcome.is_ok(), "{:?}", first[0]);
    assert_eq!(first[0].custom_fields.len(), 1, "{:?}", first[0]);
    drop(desk);

    let desk = open(dir.path());
    let ticket = desk.ticket("T-9").unwrap();
    assert_eq!(ticket.ticket["subject"], "Printer on fire");
    assert_eq!(ticket.ticket["custom_fields"], json!({"jira": "OPS-1"}));
    assert_eq!(ticket.replies.len(), 1);
    assert!(ticket.replies[0].is_internal);
    let second = desk.deliver("ticket.closed", "T-9").unwrap();
    let payload: Value = serde_json::from_str(&second[0].logs[0].message).unwrap();
    assert_eq!(payload["ticket"]["custom_fields"]["jira"], "OPS-1");
    assert_eq!(payload["ticket"]["priority"], "Critical");
    assert!(
        desk.update_ticket("T-9", values(json!({"subject": 7})))
            .is_err()
    );
    assert!(
        desk.deliver("ticket.exploded", "T-9")
            .unwrap_err()
            .to_string()
            .contains("unknown event")
    );
}

/// docs/ABI.md section 6, "One change, several events", and section 9, "What a failed
/// delivery keeps": resolving a ticket delivers `ticket.status_changed`, then
/// `ticket.resolved`; what the first delivery wrote before it failed stays on the ticket
/// and reaches the second.
#[test]
fn changing_the_status_delivers_every_event_of_the_change_and_a_failure_keeps_its_writes() {
    // Logs its payload, sets `seen` on T-9, adds a note, then traps.
    let body = r#"
  (func (export "on_event") (param $p i32) (param $n i32)
    (call $log (local.get $p) (local.get $n) (i32.const 1))
    (drop (call $field (i32.const 0) (i32.const 46)))
    (drop (call $reply (i32.const 100) (i32.const 53)))
    unreachable)
  (data (i32.const 0) "{\"ticket_id\":\"T-9\",\"key\":\"seen\",\"value\":\"yes\"}")
  (data (i32.const 100) "{\"ticket_id\":\"T-9\",\"body\":\"Noted\",\"is_internal\":true}")"#;
    let dir = tempfile::tempdir().unwrap();
    let desk = open(dir.path());
    let mut m = manifest("1.0.0", &[], json!({}));
    m["events"] = json!([
        "ticket.status_changed",
        "ticket.resolved",
        "ticket.reopened"
    ]);
    desk.install(&module(&m, body)).unwrap();
    desk.update_ticket("T-9", values(json!({"status": "In Progress"})))
        .unwrap();

    let reports = desk
        .change_status("T-9", "Resolved", "Toner replaced.")
        .unwrap();
    let events: Vec<&str> = reports.iter().map(|r| r.event.as_str()).collect();
    assert_eq!(events, ["ticket.status_changed", "ticket.resolved"]);
    assert!(
        reports
            .iter()
            .all(|r| matches!(r.outcome, Outcome::Trapped { .. }))
    );
    let payload =
        |i: usize| -> Value { serde_json::from_str(&reports[i].logs[0].message).unwrap() };
    assert_eq!(
        payload(0)["data"],
        json!({"from_status": "In Progress", "to_status": "Resolved"})
    );
    assert_eq!(payload(0)["ticket"]["custom_fields"], json!({}));
    assert_eq!(
        payload(1)["data"],
        json!({"resolution_notes": "Toner replaced."})
    );
    // The first delivery failed after setting the field: the second carries it.
    assert_eq!(
        payload(1)["ticket"]["custom_fields"],
        json!({"seen": "yes"})
    );
    assert!((0..2).all(|i| payload(i)["ticket"]["status"] == "Resolved"));
    drop(desk);

    let desk = open(dir.path());
    let ticket = desk.ticket("T-9").unwrap();
    assert_eq!(ticket.ticket["status"], "Resolved");
    assert_eq!(ticket.ticket["custom_fields"], json!({"seen": "yes"}));
    assert_eq!(ticket.replies.len(), 2, "{:?}", ticket.replies);
    assert_eq!(desk.deliveries("com.example.desk", 10).unwrap().len(), 2);

    assert!(
        desk.change_status("T-9", "Resolved", "")
            .unwrap()
            .is_empty()
    );
    let reopened = desk
        .change_status("T-9", "In Progress", "Still jams.")
        .unwrap();
    let events: Vec<&str> = reopened.iter().map(|r| r.event.as_str()).collect();
    assert_eq!(events, ["ticket.status_changed", "ticket.reopened"]);
    let last: Value = serde_json::from_str(&reopened[1].logs[0].message).unwrap();
    assert_eq!(last["data"], json!({"reason": "Still jams."}));
}

#[test]
fn deliveries_committed_in_groups_are_seen_by_the_next_delivery_and_every_read() {
    // Logs its payload and sets `jira` on T-9.
    let body = r#"
  (func (export "on_event") (param $p i32) (param $n i32)
    (call $log (local.get $p) (local.get $n) (i32.const 1))
    (drop (call $field (i32.const 0) (i32.const 48))))
  (data (i32.const 0) "{\"ticket_id\":\"T-9\",\"key\":\"jira\",\"value\":\"OPS-1\"}")"#;
    let payload = |report: &otai_plugin_host::DeliveryReport| -> Value {
        serde_json::from_str(&report.logs[0].message).unwrap()
    };
    let dir = tempfile::tempdir().unwrap();
    let desk = open(dir.path());
    desk.install(&module(&manifest("1.0.0", &[], json!({})), body))
        .unwrap();
    let first = desk.deliver("ticket.created", "T-9").unwrap();
    assert_eq!(payload(&first[0])["ticket"]["custom_fields"], json!({}));
    // Not committed yet, and still on the ticket the next event carries.
    let second = desk.deliver("ticket.created", "T-9").unwrap();
    assert_eq!(
        payload(&second[0])["ticket"]["custom_fields"],
        json!({"jira": "OPS-1"})
    );
    // A changed ticket is a new event, not the one delivered last.
    desk.update_ticket("T-9", values(json!({"subject": "Printer on fire"})))
        .unwrap();
    let third = desk.deliver("ticket.created", "T-9").unwrap();
    assert_eq!(payload(&third[0])["ticket"]["subject"], "Printer on fire");
    assert_eq!(
        payload(&third[0])["ticket"]["custom_fields"]["jira"],
        "OPS-1"
    );

    // More than a group (64): the reads see all, and so does the desk reopened.
    for _ in 0..100 {
        desk.deliver("ticket.created", "T-9").unwrap();
    }
    let info = desk.plugin("com.example.desk").unwrap();
    assert_eq!(info.deliveries, 103, "{info:?}");
    assert_eq!(desk.deliveries("com.example.desk", 100).unwrap().len(), 50);
    for _ in 0..10 {
        desk.deliver("ticket.created", "T-9").unwrap();
    }
    drop(desk);
    let desk = open(dir.path());
    assert_eq!(desk.plugin("com.example.desk").unwrap().deliveries, 113);
    let ticket = desk.ticket("T-9").unwrap();
    assert_eq!(ticket.ticket["custom_fields"], json!({"jira": "OPS-1"}));
}

#[test]
fn the_delivery_log_keeps_the_last_n() {
    let dir = tempfile::tempdir().unwrap();
    let desk = Desk::open_with(
        dir.path(),
        DeskOptions {
            keep_deliveries: 3,
            ..options(&MockHttp::new())
        },
    )
    .unwrap();
    desk.install(&module(&manifest("1.0.0", &[], json!({})), ECHO))
        .unwrap();
    for ticket in ["T-1", "T-2", "T-3", "T-4", "T-5"] {
        desk.deliver("ticket.created", ticket).unwrap();
    }
    let log = desk.deliveries("com.example.desk", 10).unwrap();
    let tickets: Vec<&str> = log.iter().map(|d| d.ticket_id.as_str()).collect();
    assert_eq!(tickets, ["T-5", "T-4", "T-3"]);
}

#[test]
fn bad_directories_keys_and_modules_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let desk = open(dir.path());
    let e = Desk::open_with(dir.path(), options(&MockHttp::new())).unwrap_err();
    assert!(matches!(e, DeskError::Locked { .. }), "{e}");
    assert!(e.to_string().contains("is in use by another desk"), "{e}");
    let e = desk.install(b"not wasm").unwrap_err();
    assert!(e.to_string().contains("not a WebAssembly"), "{e}");
    assert!(matches!(
        desk.rollback("com.example.none").unwrap_err(),
        DeskError::NotInstalled { .. }
    ));
    drop(desk);

    let wrong = DeskOptions {
        key: Some("ff".repeat(32)),
        ..DeskOptions::default()
    };
    let e = Desk::open_with(dir.path(), wrong).unwrap_err();
    assert!(
        e.to_string()
            .contains("is not the key this desk's database was made with"),
        "{e}"
    );

    // A key file, made for a desk without `OTAI_DESK_KEY`, then lost.
    let other = tempfile::tempdir().unwrap();
    let no_env = || DeskOptions {
        key: None,
        ..DeskOptions::default()
    };
    drop(Desk::open_with(other.path(), no_env()).unwrap());
    std::fs::remove_file(other.path().join(otai_plugin_desk::KEY_FILE)).unwrap();
    let e = Desk::open_with(other.path(), no_env()).unwrap_err();
    assert!(e.to_string().contains("desk.key` is missing"), "{e}");

    let corrupt = tempfile::tempdir().unwrap();
    std::fs::write(
        corrupt.path().join(otai_plugin_desk::DATABASE_FILE),
        vec![7u8; 8192],
    )
    .unwrap();
    let e = Desk::open_with(corrupt.path(), options(&MockHttp::new())).unwrap_err();
    assert!(matches!(e, DeskError::Database { .. }), "{e}");
    assert!(e.to_string().contains("desk.sqlite3"), "{e}");
}

#[test]
fn a_stored_module_this_host_refuses_is_listed_and_can_be_removed() {
    let dir = tempfile::tempdir().unwrap();
    let desk = open(dir.path());
    desk.install(&module(&manifest("1.0.0", &[], json!({})), ECHO))
        .unwrap();
    drop(desk);
    // As if an earlier host had accepted what this one refuses.
    let db = rusqlite::Connection::open(dir.path().join(otai_plugin_desk::DATABASE_FILE)).unwrap();
    db.execute("UPDATE modules SET wasm = x'0061736d01000000'", [])
        .unwrap();
    drop(db);

    // Found at its first use, not at opening (which compiles nothing); every delivery
    // to it says why it did not run, naming it, its version and the database.
    let desk = open(dir.path());
    assert!(
        desk.plugin("com.example.desk")
            .unwrap()
            .load_error
            .is_none()
    );
    for _ in 0..2 {
        let reports = desk.deliver("ticket.created", "T-1").unwrap();
        let [report] = &reports[..] else {
            panic!("one report: {reports:?}")
        };
        let Outcome::Rejected { reason } = &report.outcome else {
            panic!("{report:?}")
        };
        assert!(
            reason.starts_with("plugin `com.example.desk` cannot run: this host does not load its module (version 1.0.0, stored in `")
                && reason.contains(otai_plugin_desk::DATABASE_FILE)
                && reason.contains("manifest"),
            "{reason}"
        );
    }
    let info = desk.plugin("com.example.desk").unwrap();
    let error = info.load_error.expect("the module does not load");
    assert!(error.contains("manifest"), "{error}");
    // Recorded in the log, and not against its health (it did not run).
    assert_eq!(desk.deliveries("com.example.desk", 10).unwrap().len(), 2);
    assert_eq!(desk.plugin("com.example.desk").unwrap().failures, 0);
    // An upgrade to a module that loads brings it back.
    desk.upgrade(&module(&manifest("1.0.1", &[], json!({})), ECHO), false)
        .unwrap();
    assert!(
        desk.plugin("com.example.desk")
            .unwrap()
            .load_error
            .is_none()
    );
    assert_eq!(desk.deliver("ticket.created", "T-1").unwrap().len(), 1);
    desk.remove("com.example.desk").unwrap();
}
