//! The list of the desk's tickets, as an agent's ticket list shows them, and the id of
//! the next new one.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use crate::error::DeskError;
use crate::store::Store;
use crate::ticket_records::stored_ticket;

/// A ticket as the desk lists it.
#[derive(Debug, Clone, Serialize)]
pub struct TicketSummary {
    /// Its id.
    pub id: String,
    /// Its subject.
    pub subject: String,
    /// Its status.
    pub status: String,
    /// The event of its latest recorded delivery (to any plugin), and when, in
    /// milliseconds since the Unix epoch; `None` when no delivery about it is in the log.
    pub last_event: Option<(String, i64)>,
    /// The plugins that wrote on it (a custom field, a reply or a note), by id.
    pub written_by: Vec<String>,
}

/// Every ticket the desk knows: stored, or named by a delivery, a custom field or a
/// reply; newest activity first, then by id.
pub(crate) fn list(store: &Store) -> Result<Vec<TicketSummary>, DeskError> {
    let query = |sql: &str| -> Result<Vec<(String, String, i64)>, DeskError> {
        let mut stmt = store.conn.prepare(sql).map_err(|e| store.error(e))?;
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .and_then(Iterator::collect)
            .map_err(|e| store.error(e))
    };
    let mut ids: BTreeMap<String, i64> = BTreeMap::new();
    for (id, _, at) in query("SELECT id, '', updated_at FROM tickets")? {
        ids.insert(id, at);
    }
    // SQLite gives the other columns of the row with the largest `seq`.
    let mut last_event = BTreeMap::new();
    for (id, event, at) in query(
        "SELECT ticket_id, event, at FROM (SELECT ticket_id, event, at, MAX(seq) FROM deliveries GROUP BY ticket_id)",
    )? {
        let newest = ids.entry(id.clone()).or_insert(at);
        *newest = (*newest).max(at);
        last_event.insert(id, (event, at));
    }
    let mut written_by: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (id, plugin, at) in query(
        "SELECT ticket_id, plugin_id, MAX(at) FROM ticket_fields GROUP BY ticket_id, plugin_id
         UNION ALL
         SELECT ticket_id, plugin_id, MAX(at) FROM ticket_replies GROUP BY ticket_id, plugin_id",
    )? {
        let newest = ids.entry(id.clone()).or_insert(at);
        *newest = (*newest).max(at);
        written_by.entry(id).or_default().insert(plugin);
    }
    let mut tickets = Vec::with_capacity(ids.len());
    for id in ids.keys() {
        let ticket = stored_ticket(store, id)?;
        let text = |key: &str| match &ticket[key] {
            Value::String(s) => s.clone(),
            _ => String::new(),
        };
        tickets.push(TicketSummary {
            subject: text("subject"),
            status: text("status"),
            last_event: last_event.remove(id),
            written_by: written_by
                .remove(id)
                .unwrap_or_default()
                .into_iter()
                .collect(),
            id: id.clone(),
        });
    }
    tickets.sort_by(|a, b| ids[&b.id].cmp(&ids[&a.id]).then_with(|| a.id.cmp(&b.id)));
    Ok(tickets)
}

/// The id for a new ticket: `T-N`, N one past the largest of the `T-` numbers in use
/// (stored or named anywhere), so it starts no existing ticket's history.
pub(crate) fn next_id(store: &Store) -> Result<String, DeskError> {
    let mut stmt = store
        .conn
        .prepare(
            "SELECT id FROM tickets UNION SELECT ticket_id FROM deliveries
             UNION SELECT ticket_id FROM ticket_fields UNION SELECT ticket_id FROM ticket_replies",
        )
        .map_err(|e| store.error(e))?;
    let ids: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .and_then(Iterator::collect)
        .map_err(|e| store.error(e))?;
    let largest = ids
        .iter()
        .filter_map(|id| id.strip_prefix("T-")?.parse::<u64>().ok())
        .max()
        .unwrap_or(0);
    Ok(format!("T-{}", largest.saturating_add(1)))
}
