//! The custom fields plugins set, kept with the desk's tickets: the host's
//! [`TicketStore`]. The host asks it for a ticket's fields before each delivery and
//! gives it the fields each delivery set; the `ticket_fields` table is the record, and
//! the deliveries that wait ([`crate::batch`]) hold what the table does not have yet.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use otai_plugin_host::{CustomFieldSet, TicketStore};
use serde_json::Value;

use crate::error::DeskError;
use crate::store::{Store, lock, now_ms};
use crate::ticket_records::ticket_as_delivered;

/// The desk's [`TicketStore`], over its database.
pub(crate) struct DeskTickets {
    store: Arc<Mutex<Store>>,
}

impl DeskTickets {
    pub(crate) fn new(store: Arc<Mutex<Store>>) -> DeskTickets {
        DeskTickets { store }
    }
}

/// Ticket `id` as the next delivery about it carries it, custom fields included: as
/// the deliveries that wait left it, or read from the database and kept until the
/// next commit, so that the deliveries until then read it from memory. Every other
/// operation of the desk drops the kept tickets first (`Database::store`), so a copy
/// cannot go stale; only deliveries to a plugin keep one, so the commit that follows
/// them within a batch bounds how many are kept.
pub(crate) fn ticket_now<'a>(store: &'a mut Store, id: &str) -> Result<&'a Value, DeskError> {
    if store.pending.ticket(id).is_none() {
        let ticket = ticket_as_delivered(store, id)?;
        store.pending.keep_ticket(id, ticket);
    }
    store
        .pending
        .ticket(id)
        .ok_or_else(|| store.error(format!("ticket `{id}` was not kept")))
}

fn fields_of(ticket: &Value) -> BTreeMap<String, String> {
    ticket
        .get("custom_fields")
        .and_then(Value::as_object)
        .map(|fields| {
            fields
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

impl TicketStore for DeskTickets {
    fn fields_for_delivery(&self, ticket_id: &str) -> Option<BTreeMap<String, String>> {
        let mut store = lock(&self.store);
        match ticket_now(&mut store, ticket_id) {
            Ok(ticket) => Some(fields_of(ticket)),
            Err(e) => {
                store.defer(e);
                None
            }
        }
    }

    fn record_sets(&self, plugin_id: &str, sets: &[CustomFieldSet]) {
        let mut store = lock(&self.store);
        let at = now_ms();
        for set in sets {
            // Read first, so that the kept ticket has every field; the row is recorded
            // whether or not it could be read.
            if let Err(e) = ticket_now(&mut store, &set.ticket_id) {
                store.defer(e);
            }
            store
                .pending
                .push_field(&set.ticket_id, &set.key, &set.value, plugin_id, at);
        }
    }

    fn fields(&self, ticket_id: &str) -> BTreeMap<String, String> {
        self.fields_for_delivery(ticket_id).unwrap_or_default()
    }

    fn clear(&self) {
        let mut store = lock(&self.store);
        store.pending.clear_fields();
        if let Err(e) = store.conn.execute("DELETE FROM ticket_fields", []) {
            store.defer(e);
        }
    }
}

#[cfg(test)]
mod tests {
    use otai_plugin_test_support::{FIELD, LOG, Module, data};
    use serde_json::json;

    use crate::test_desk::open;

    fn plugin(id: &str, on_event: &str) -> Vec<u8> {
        Module::new()
            .imports(&[LOG, FIELD])
            .body(on_event)
            .manifest(
                &json!({"id": id, "name": "Fields", "version": "1.0.0",
                        "description": "Fields.", "events": ["ticket.created"]})
                .to_string(),
            )
            .wasm()
    }

    /// The host reads and writes custom fields through the desk's store: the next
    /// plugin of the same event sees a field the first one set, the host answers from
    /// the database after a restart, and forgetting the fields forgets the desk's.
    #[test]
    fn custom_fields_go_through_the_desks_store_and_survive_reopening() {
        let set = r#"{"ticket_id":"T-1","key":"jira","value":"OPS-7"}"#;
        let setter = plugin(
            "com.example.a-setter",
            &format!(
                r#"(func (export "on_event") (param i32 i32)
    (drop (call $field (i32.const 100) (i32.const {}))))
  {}"#,
                set.len(),
                data(100, set)
            ),
        );
        let reader = plugin(
            "com.example.b-reader",
            r#"(func (export "on_event") (param $p i32) (param $n i32)
    (call $log (local.get $p) (local.get $n) (i32.const 1)))"#,
        );
        let dir = tempfile::tempdir().unwrap();
        let desk = open(dir.path());
        desk.install(&setter).unwrap();
        desk.install(&reader).unwrap();
        let reports = desk.deliver("ticket.created", "T-1").unwrap();
        assert_eq!(reports[1].plugin_id, "com.example.b-reader");
        assert!(
            reports[1].logs[0]
                .message
                .contains(r#""custom_fields":{"jira":"OPS-7"}"#),
            "{}",
            reports[1].logs[0].message
        );
        // Before the deliveries are committed, and after a restart.
        assert_eq!(desk.host().custom_fields("T-1")["jira"], "OPS-7");
        drop(desk);
        let desk = open(dir.path());
        assert_eq!(desk.host().custom_fields("T-1")["jira"], "OPS-7");
        assert_eq!(
            desk.ticket("T-1").unwrap().ticket["custom_fields"]["jira"],
            "OPS-7"
        );

        desk.host().forget_custom_fields();
        assert!(desk.host().custom_fields("T-1").is_empty());
        assert_eq!(
            desk.ticket("T-1").unwrap().ticket["custom_fields"],
            json!({})
        );
    }

    /// The copy of a ticket a delivery read is not used after the ticket changed, also
    /// when that delivery reached no plugin (and so left nothing to commit).
    #[test]
    fn a_ticket_changed_after_a_delivery_is_delivered_as_changed() {
        let dir = tempfile::tempdir().unwrap();
        let desk = open(dir.path());
        assert!(desk.deliver("ticket.created", "T-1").unwrap().is_empty());
        let mut changes = serde_json::Map::new();
        changes.insert("subject".into(), json!("Changed"));
        desk.update_ticket("T-1", changes).unwrap();
        desk.install(&plugin(
            "com.example.reader",
            r#"(func (export "on_event") (param $p i32) (param $n i32)
    (call $log (local.get $p) (local.get $n) (i32.const 1)))"#,
        ))
        .unwrap();
        let reports = desk.deliver("ticket.created", "T-1").unwrap();
        assert!(
            reports[0].logs[0]
                .message
                .contains(r#""subject":"Changed""#),
            "{}",
            reports[0].logs[0].message
        );
    }
}
