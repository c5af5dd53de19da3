//! The desk's tickets as its database holds them: their fields as events carry them (a
//! ticket the desk has not stored starts as the sample ticket), and the custom fields
//! and replies plugins wrote on them. Below the desk: the host's ticket store
//! ([`crate::ticket_fields`]) reads them too.

use otai_plugin_abi::event::EventKind;
use otai_plugin_abi::event::sample;
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::DeskError;
use crate::store::{Store, now_ms};

/// A ticket of the desk: its fields as events carry them, and what plugins wrote on it.
#[derive(Debug, Clone, Serialize)]
pub struct Ticket {
    /// The payload's `ticket` object, `custom_fields` included.
    pub ticket: Value,
    /// Replies and notes plugins added, oldest first.
    pub replies: Vec<TicketReply>,
}

/// A reply a plugin added to a ticket.
#[derive(Debug, Clone, Serialize)]
pub struct TicketReply {
    /// The plugin.
    pub plugin_id: String,
    /// The text.
    pub body: String,
    /// Whether it is an internal note.
    pub is_internal: bool,
    /// When, in milliseconds since the Unix epoch.
    pub at_ms: i64,
}

/// The ticket as a payload carries it: the stored fields and the custom fields.
pub(crate) fn ticket_as_delivered(store: &Store, id: &str) -> Result<Value, DeskError> {
    let mut ticket = stored_ticket(store, id)?;
    ticket["custom_fields"] = Value::Object(custom_fields(store, id)?);
    Ok(ticket)
}

/// The sample payload's ticket, which a ticket the desk has not stored starts as: built
/// once, not for every delivery.
static SAMPLE_TICKET: std::sync::LazyLock<Value> =
    std::sync::LazyLock::new(|| sample::payload(&EventKind::TicketCreated)["ticket"].clone());

/// The stored ticket without custom fields; the sample ticket with `id` if none.
pub(crate) fn stored_ticket(store: &Store, id: &str) -> Result<Value, DeskError> {
    let stored: Option<String> = store
        .conn
        .prepare_cached("SELECT ticket FROM tickets WHERE id = ?1")
        .and_then(|mut s| s.query_row([id], |r| r.get(0)).optional())
        .map_err(|e| store.error(e))?;
    let mut ticket = match stored {
        Some(text) => {
            serde_json::from_str(&text).map_err(|e| store.error(format!("ticket `{id}`: {e}")))?
        }
        None => {
            let mut t = SAMPLE_TICKET.clone();
            t["id"] = Value::String(id.to_owned());
            t["url"] = Value::String(format!("https://helpdesk.example.com/tickets/{id}"));
            t
        }
    };
    // A row is an object unless the file was edited by hand: refused here, since every
    // writer after this indexes into it as an object.
    let Some(map) = ticket.as_object_mut() else {
        return Err(store.error(format!(
            "ticket `{id}`: the stored ticket is not a JSON object (found `{}`)",
            short(&ticket.to_string())
        )));
    };
    map.remove("custom_fields");
    Ok(ticket)
}

/// `text` cut to 40 characters for an error message.
fn short(text: &str) -> String {
    match text.char_indices().nth(40) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

/// `changes` applied to a stored ticket: `id` and `custom_fields` are not editable.
pub(crate) fn apply(ticket: &mut Value, changes: Map<String, Value>) {
    for (key, value) in changes {
        if key != "id" && key != "custom_fields" {
            ticket[key] = value;
        }
    }
}

/// Stores a ticket's fields (without custom fields, which have their own table).
pub(crate) fn write_ticket(store: &Store, id: &str, ticket: &Value) -> Result<(), DeskError> {
    store
        .conn
        .prepare_cached(
            "INSERT INTO tickets (id, ticket, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (id) DO UPDATE SET ticket = excluded.ticket, updated_at = excluded.updated_at",
        )
        .and_then(|mut s| s.execute(params![id, ticket.to_string(), now_ms()]))
        .map_err(|e| store.error(e))?;
    Ok(())
}

/// The replies plugins added to a ticket, oldest first.
pub(crate) fn replies(store: &Store, id: &str) -> Result<Vec<TicketReply>, DeskError> {
    let mut stmt = store
        .conn
        .prepare_cached(
            "SELECT plugin_id, body, is_internal, at FROM ticket_replies
             WHERE ticket_id = ?1 ORDER BY seq",
        )
        .map_err(|e| store.error(e))?;
    stmt.query_map([id], |r| {
        Ok(TicketReply {
            plugin_id: r.get(0)?,
            body: r.get(1)?,
            is_internal: r.get(2)?,
            at_ms: r.get(3)?,
        })
    })
    .and_then(Iterator::collect)
    .map_err(|e| store.error(e))
}

/// The custom fields plugins set on a ticket, by key.
pub(crate) fn custom_fields(store: &Store, id: &str) -> Result<Map<String, Value>, DeskError> {
    let mut stmt = store
        .conn
        .prepare_cached("SELECT key, value FROM ticket_fields WHERE ticket_id = ?1 ORDER BY key")
        .map_err(|e| store.error(e))?;
    let fields: Vec<(String, String)> = stmt
        .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))
        .and_then(Iterator::collect)
        .map_err(|e| store.error(e))?;
    Ok(fields
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect())
}
