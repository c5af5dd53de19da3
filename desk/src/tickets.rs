//! The desk's tickets as its users read and change them.

use otai_plugin_abi::event::EventKind;
use otai_plugin_abi::event::sample;
use otai_plugin_host::Event;
use serde_json::{Map, Value};

use crate::desk::Desk;
use crate::error::DeskError;
use crate::store::lock;
use crate::ticket_records::{
    Ticket, apply, replies, stored_ticket, ticket_as_delivered, write_ticket,
};

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

    /// The ticket as the next delivery about it carries it: as the deliveries that wait
    /// left it, or as stored.
    pub(crate) fn ticket_now(&self, ticket_id: &str) -> Result<Value, DeskError> {
        // Not kept when read here: only deliveries to a plugin keep a ticket, and they
        // are committed (which drops it) after at most a batch.
        let store = lock(&self.store);
        match store.pending.ticket(ticket_id) {
            Some(ticket) => Ok(ticket.clone()),
            None => ticket_as_delivered(&store, ticket_id),
        }
    }
}
