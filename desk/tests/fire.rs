//! Firing an event from the ticket page (`Desk::fire`): the change and the delivery in
//! one step, which shows the ticket as a later read finds it.

use otai_plugin_desk::{Desk, DeskError, DeskOptions};
use otai_plugin_test_support::{FIELD, LOG, Module, REPLY};
use serde_json::{Map, Value, json};

/// Logs the payload, sets `jira` and adds an internal note on T-9.
fn plugin() -> Vec<u8> {
    Module::new()
        .imports(&[LOG, REPLY, FIELD])
        .pages(4)
        .body(
            r#"
  (func (export "on_event") (param $p i32) (param $n i32)
    (call $log (local.get $p) (local.get $n) (i32.const 1))
    (drop (call $field (i32.const 0) (i32.const 48)))
    (drop (call $reply (i32.const 100) (i32.const 54))))
  (data (i32.const 0) "{\"ticket_id\":\"T-9\",\"key\":\"jira\",\"value\":\"OPS-1\"}")
  (data (i32.const 100) "{\"ticket_id\":\"T-9\",\"body\":\"Linked\",\"is_internal\":true}")"#,
        )
        .manifest(
            &json!({
                "id": "com.example.fire", "name": "Fire", "version": "1.0.0",
                "description": "Writes on the ticket.", "events": ["ticket.created"]
            })
            .to_string(),
        )
        .wasm()
}

fn open(dir: &std::path::Path) -> Desk {
    let options = DeskOptions {
        key: Some("cd".repeat(32)),
        ..DeskOptions::default()
    };
    Desk::open_with(dir, options).unwrap()
}

fn changes(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

#[test]
fn firing_shows_the_ticket_as_the_next_read_finds_it() {
    let dir = tempfile::tempdir().unwrap();
    let desk = open(dir.path());
    desk.install(&plugin()).unwrap();
    // A reply and a field stored before, which the fired ticket must keep.
    desk.deliver("ticket.created", "T-9").unwrap();
    desk.flush().unwrap();

    let fired = desk
        .fire(
            "T-9",
            "ticket.created",
            changes(json!({"subject": "Printer on fire", "id": "T-1"})),
        )
        .unwrap();
    let payload: Value = serde_json::from_str(&fired.reports[0].logs[0].message).unwrap();
    assert_eq!(payload["ticket"]["subject"], "Printer on fire");
    assert_eq!(payload["ticket"]["id"], "T-9", "the id is not editable");
    assert_eq!(payload["ticket"]["custom_fields"], json!({"jira": "OPS-1"}));
    assert_eq!(fired.ticket.replies.len(), 2);

    let shown = serde_json::to_value(&fired.ticket).unwrap();
    assert_eq!(
        shown,
        serde_json::to_value(desk.ticket("T-9").unwrap()).unwrap()
    );
    drop(desk);
    let desk = open(dir.path());
    assert_eq!(
        shown,
        serde_json::to_value(desk.ticket("T-9").unwrap()).unwrap()
    );
}

#[test]
fn firing_an_unknown_event_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let desk = open(dir.path());
    desk.install(&plugin()).unwrap();
    let before = serde_json::to_value(desk.ticket("T-9").unwrap()).unwrap();
    let refused = desk
        .fire(
            "T-9",
            "ticket.exploded",
            changes(json!({"subject": "Lost"})),
        )
        .unwrap_err();
    assert!(
        matches!(&refused, DeskError::Event(_))
            && refused
                .to_string()
                .contains("unknown event `ticket.exploded`"),
        "{refused}"
    );
    assert_eq!(
        serde_json::to_value(desk.ticket("T-9").unwrap()).unwrap(),
        before
    );
    assert!(desk.deliveries("com.example.fire", 10).unwrap().is_empty());
}
