//! The desk's tickets as its users read and change them.

use std::sync::Arc;

use otai_plugin_abi::event::EventKind;
use otai_plugin_abi::event::sample;
use otai_plugin_host::Event;
use serde_json::{Map, Value};

use crate::database::Database;
use crate::error::DeskError;
use crate::ticket_list::{self, TicketSummary};
use crate::ticket_records::{
    Ticket, apply, replies, stored_ticket, ticket_as_delivered, write_ticket,
};

/// The desk's tickets.
#[derive(Clone)]
pub(crate) struct Tickets {
    db: Arc<Database>,
}

impl Tickets {
    pub(crate) fn new(db: Arc<Database>) -> Tickets {
        Tickets { db }
    }

    /// See [`Desk::ticket`](crate::Desk::ticket).
    pub(crate) fn ticket(&self, id: &str) -> Result<Ticket, DeskError> {
        let store = self.db.store()?;
        Ok(Ticket {
            ticket: ticket_as_delivered(&store, id)?,
            replies: replies(&store, id)?,
        })
    }

    /// See [`Desk::tickets`](crate::Desk::tickets).
    pub(crate) fn list(&self) -> Result<Vec<TicketSummary>, DeskError> {
        ticket_list::list(&*self.db.store()?)
    }

    /// See [`Desk::create_ticket`](crate::Desk::create_ticket): the id, and the ticket
    /// stored under it, in one hold of the database, so two new tickets get two ids.
    pub(crate) fn create(&self, changes: Map<String, Value>) -> Result<String, DeskError> {
        let store = self.db.store()?;
        let id = ticket_list::next_id(&store)?;
        let mut ticket = stored_ticket(&store, &id)?;
        apply(&mut ticket, changes);
        let mut payload = sample::payload(&EventKind::TicketCreated);
        payload["ticket"] = ticket.clone();
        Event::from_json(payload)?;
        write_ticket(&store, &id, &ticket)?;
        Ok(id)
    }

    /// See [`Desk::update_ticket`](crate::Desk::update_ticket).
    pub(crate) fn update_ticket(
        &self,
        id: &str,
        changes: Map<String, Value>,
    ) -> Result<Ticket, DeskError> {
        {
            let store = self.db.store()?;
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

    /// The ticket as the next delivery about it carries it: as the deliveries that wait
    /// left it, or as stored.
    pub(crate) fn ticket_now(&self, ticket_id: &str) -> Result<Value, DeskError> {
        // Not kept when read here: only deliveries to a plugin keep a ticket, and they
        // are committed (which drops it) after at most a batch.
        let store = self.db.as_is();
        match store.pending.ticket(ticket_id) {
            Some(ticket) => Ok(ticket.clone()),
            None => ticket_as_delivered(&store, ticket_id),
        }
    }
}
