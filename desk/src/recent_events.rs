//! The events the desk delivered lately, kept to deliver the same again without
//! building it anew.

use std::collections::HashMap;
use std::sync::Arc;

use otai_plugin_host::Event;
use serde_json::Value;

use crate::error::DeskError;

/// The last event delivered about each ticket, for as long as the ticket does not
/// change: the same event again is then the same payload, already checked and
/// serialized (building an event costs as much as delivering it).
#[derive(Default)]
pub(crate) struct RecentEvents(HashMap<String, (String, Value, Arc<Event>)>);

impl RecentEvents {
    /// How many tickets it remembers; past that it starts again.
    const TICKETS: usize = 256;

    /// The event `name` about `ticket` (as delivered, custom fields included).
    pub(crate) fn event(
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
