//! Tickets, delivering events to the installed plugins, and the delivery log.

use std::collections::HashMap;
use std::sync::Arc;

use otai_plugin_abi::event::EventKind;
use otai_plugin_abi::event::sample;
use otai_plugin_host::{DeliveryReport, Event};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::batch::BATCH;
use crate::desk::{Desk, lock};
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

/// What [`Desk::fire`] did.
#[derive(Debug, Clone)]
pub struct Fired {
    /// Each plugin's delivery, in order.
    pub reports: Vec<DeliveryReport>,
    /// The ticket as the deliveries left it.
    pub ticket: Ticket,
}

/// One delivery in the log.
#[derive(Debug, Clone, Serialize)]
pub struct Delivery {
    /// Its number, increasing.
    pub seq: i64,
    /// The plugin's version then.
    pub version: String,
    /// The ticket.
    pub ticket_id: String,
    /// When, in milliseconds since the Unix epoch.
    pub at_ms: i64,
    /// What the host reported, secrets redacted.
    pub report: DeliveryReport,
}

impl Desk {
    /// A ticket; a ticket the desk has not seen yet starts as the sample ticket with
    /// this id.
    ///
    /// # Errors
    /// [`DeskError::Database`].
    pub fn ticket(&self, id: &str) -> Result<Ticket, DeskError> {
        let store = self.store()?;
        Ok(Ticket {
            ticket: ticket_as_delivered(&store, id)?,
            replies: replies(&store, id)?,
        })
    }

    /// Changes a ticket's fields (a JSON merge: the members given replace theirs;
    /// `custom_fields` and `id` are not editable here).
    ///
    /// # Errors
    /// [`DeskError::Event`] when the result is not a valid ticket.
    pub fn update_ticket(
        &self,
        id: &str,
        changes: Map<String, Value>,
    ) -> Result<Ticket, DeskError> {
        {
            let store = self.store()?;
            let mut ticket = stored_ticket(&store, id)?;
            apply(&mut ticket, changes);
            // Checked the way a delivery will read it.
            let mut payload = sample::payload(&EventKind::TicketCreated);
            payload["ticket"] = ticket.clone();
            Event::from_json(payload)?;
            write_ticket(&store, id, &ticket)?;
        }
        self.ticket(id)
    }

    /// Delivers an event about a ticket to every enabled plugin that subscribes to it,
    /// and records what happened: each report in the log (the last
    /// [`keep_deliveries`](crate::DeskOptions::keep_deliveries) per plugin), the replies
    /// and custom fields on the ticket (later events carry them), the plugin's health
    /// (a plugin failing too often is disabled, and stays so after a restart).
    ///
    /// Deliveries are committed in groups (a commit costs many deliveries): when 64
    /// wait, when one disables a plugin, before any other operation of the desk, and by
    /// [`Desk::flush`] or dropping the desk. Everything the desk shows includes them; a
    /// process killed before then loses the waiting ones.
    ///
    /// # Errors
    /// [`DeskError::Event`] for an unknown event; [`DeskError::Database`].
    pub fn deliver(&self, event: &str, ticket_id: &str) -> Result<Vec<DeliveryReport>, DeskError> {
        let ticket = self.ticket_now(ticket_id)?;
        let event = lock(&self.recent).event(event, ticket_id, &ticket)?;
        Ok(self.deliver_event(&event, ticket_id)?.0)
    }

    /// Changes a ticket's fields and delivers an event about it, as an agent does from
    /// the ticket page: [`Desk::update_ticket`] then [`Desk::deliver`], with the ticket
    /// read once and the event built once. The event is built (which checks the
    /// changed ticket) before the change is saved: an unknown event changes nothing.
    /// Returns the reports and the ticket as the deliveries left it, which is what
    /// [`Desk::ticket`] reads next.
    ///
    /// # Errors
    /// [`DeskError::Event`] for an unknown event or a ticket that does not make a valid
    /// one; [`DeskError::Database`].
    pub fn fire(
        &self,
        ticket_id: &str,
        event: &str,
        changes: Map<String, Value>,
    ) -> Result<Fired, DeskError> {
        let (event, mut ticket) = {
            let store = self.store()?;
            let mut fields = stored_ticket(&store, ticket_id)?;
            apply(&mut fields, changes);
            let mut ticket = Ticket {
                ticket: fields.clone(),
                replies: replies(&store, ticket_id)?,
            };
            ticket.ticket["custom_fields"] = Value::Object(custom_fields(&store, ticket_id)?);
            let event = lock(&self.recent).event(event, ticket_id, &ticket.ticket)?;
            write_ticket(&store, ticket_id, &fields)?;
            (event, ticket)
        };
        let (reports, at_ms) = self.deliver_event(&event, ticket_id)?;
        // What the deliveries wrote on this ticket, as the database records it (see
        // `Pending::write`): the page shows it without reading the ticket again.
        for report in &reports {
            if let Some(fields) = ticket.ticket["custom_fields"].as_object_mut() {
                for field in report
                    .custom_fields
                    .iter()
                    .filter(|f| f.ticket_id == ticket_id)
                {
                    fields.insert(field.key.clone(), Value::String(field.value.clone()));
                }
            }
            let replies = report.replies.iter().filter(|r| r.ticket_id == ticket_id);
            ticket.replies.extend(replies.map(|r| TicketReply {
                plugin_id: report.plugin_id.clone(),
                body: r.body.clone(),
                is_internal: r.is_internal,
                at_ms,
            }));
        }
        Ok(Fired { reports, ticket })
    }

    /// Changes a ticket's status as the help desk does: saves the new status, then
    /// delivers the events the change sends, one after the other (docs/ABI.md section 6,
    /// "One change, several events"): `ticket.status_changed`, then `ticket.resolved`,
    /// `ticket.closed` or `ticket.reopened` when the change means one, with `notes` as
    /// their resolution notes or reason. Each event carries the ticket as the
    /// deliveries before it left it, custom fields included, and each is recorded as
    /// [`Desk::deliver`] records one. Returns every report, in the order of delivery;
    /// none when the ticket already has this status.
    ///
    /// # Errors
    /// [`DeskError::BlankStatus`]; [`DeskError::Event`] when the ticket does not make a
    /// valid event; [`DeskError::Database`].
    pub fn change_status(
        &self,
        ticket_id: &str,
        to: &str,
        notes: &str,
    ) -> Result<Vec<DeliveryReport>, DeskError> {
        if to.trim().is_empty() {
            return Err(DeskError::BlankStatus {
                ticket_id: ticket_id.to_owned(),
            });
        }
        let before = self.ticket_now(ticket_id)?;
        let events = Event::from_partial_json(serde_json::json!({
            "event": EventKind::TicketStatusChanged.as_str(),
            "ticket": before,
        }))?
        .status_change(to, notes)?;
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let mut status = Map::new();
        status.insert("status".into(), Value::String(to.to_owned()));
        self.update_ticket(ticket_id, status)?;
        let mut reports = Vec::new();
        for event in events {
            // The deliveries of the events before this one may have set fields.
            let ticket = self.ticket_now(ticket_id)?;
            let event = event.merge_json(serde_json::json!({
                "ticket": { "custom_fields": ticket["custom_fields"].clone() }
            }))?;
            reports.extend(self.deliver_event(&event, ticket_id)?.0);
        }
        Ok(reports)
    }

    /// The ticket as the next delivery about it carries it: as the deliveries that wait
    /// left it, or as stored.
    fn ticket_now(&self, ticket_id: &str) -> Result<Value, DeskError> {
        // Not kept when read here: only deliveries to a plugin keep a ticket, and they
        // are committed (which drops it) after at most a batch.
        let store = lock(&self.store);
        match store.pending.ticket(ticket_id) {
            Some(ticket) => Ok(ticket.clone()),
            None => ticket_as_delivered(&store, ticket_id),
        }
    }

    /// Delivers `event`, about ticket `ticket_id`, and records what happened (the
    /// host records the outcomes and the custom fields in the desk's stores); returns
    /// the reports and the time they are recorded at.
    fn deliver_event(
        &self,
        event: &Event,
        ticket_id: &str,
    ) -> Result<(Vec<DeliveryReport>, i64), DeskError> {
        let reports = self.host.deliver(event);

        let mut store = lock(&self.store);
        let store = &mut *store;
        if let Some(e) = store.host_error.take() {
            return Err(e);
        }
        let now = now_ms();
        for report in &reports {
            let version: String = store
                .conn
                .prepare_cached(
                    "SELECT v.version FROM plugins p
                     JOIN versions v ON v.seq = p.current_seq WHERE p.id = ?1",
                )
                .and_then(|mut s| s.query_row([&report.plugin_id], |r| r.get(0)))
                .map_err(|e| store.error(e))?;
            store.pending.push(report, version, ticket_id, now);
        }
        // A plugin the health policy disabled is recorded at once, with the deliveries
        // that led to it.
        if !store.pending.disable.is_empty() || store.pending.len() >= BATCH {
            self.commit_pending(store)?;
        }
        Ok((reports, now))
    }

    /// A plugin's deliveries, newest first, at most `limit`.
    ///
    /// # Errors
    /// [`DeskError::NotInstalled`].
    pub fn deliveries(&self, id: &str, limit: u32) -> Result<Vec<Delivery>, DeskError> {
        let store = self.store()?;
        self.row(&store, id)?;
        let mut stmt = store
            .conn
            .prepare(
                "SELECT seq, version, ticket_id, at, report FROM deliveries
                 WHERE plugin_id = ?1 ORDER BY seq DESC LIMIT ?2",
            )
            .map_err(|e| store.error(e))?;
        let rows: Vec<(i64, String, String, i64, String)> = stmt
            .query_map(params![id, limit], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .and_then(Iterator::collect)
            .map_err(|e| store.error(e))?;
        rows.into_iter()
            .map(|(seq, version, ticket_id, at_ms, report)| {
                let report = serde_json::from_str(&report)
                    .map_err(|e| store.error(format!("delivery {seq}'s report: {e}")))?;
                Ok(Delivery {
                    seq,
                    version,
                    ticket_id,
                    at_ms,
                    report,
                })
            })
            .collect()
    }
}

/// The last event delivered about each ticket, for as long as the ticket does not
/// change: the same event again is then the same payload, already checked and
/// serialized (building an event costs as much as delivering it).
#[derive(Default)]
pub(crate) struct RecentEvents(HashMap<String, (String, Value, Arc<Event>)>);

impl RecentEvents {
    /// How many tickets it remembers; past that it starts again.
    const TICKETS: usize = 256;

    /// The event `name` about `ticket` (as delivered, custom fields included).
    fn event(
        &mut self,
        name: &str,
        ticket_id: &str,
        ticket: &Value,
    ) -> Result<Arc<Event>, DeskError> {
        if let Some((last_name, last_ticket, event)) = self.0.get(ticket_id)
            && last_name == name
            && last_ticket == ticket
        {
            return Ok(event.clone());
        }
        // The rest of the payload (actor, `data`) is the event's sample; an unknown
        // event name is refused there, with the list of events.
        let event = Arc::new(Event::from_partial_json(
            serde_json::json!({ "event": name, "ticket": ticket.clone() }),
        )?);
        if self.0.len() >= Self::TICKETS {
            self.0.clear();
        }
        self.0.insert(
            ticket_id.to_owned(),
            (name.to_owned(), ticket.clone(), event.clone()),
        );
        Ok(event)
    }
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
fn stored_ticket(store: &Store, id: &str) -> Result<Value, DeskError> {
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
fn apply(ticket: &mut Value, changes: Map<String, Value>) {
    for (key, value) in changes {
        if key != "id" && key != "custom_fields" {
            ticket[key] = value;
        }
    }
}

/// Stores a ticket's fields (without custom fields, which have their own table).
fn write_ticket(store: &Store, id: &str, ticket: &Value) -> Result<(), DeskError> {
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
fn replies(store: &Store, id: &str) -> Result<Vec<TicketReply>, DeskError> {
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

fn custom_fields(store: &Store, id: &str) -> Result<Map<String, Value>, DeskError> {
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
