//! Ticket-ops shape: a custom field and an internal note, with their typed errors.

use otai_plugin_sdk::prelude::*;

#[derive(Deserialize, Config)]
struct Config {
    #[serde(default = "default_key")]
    field_key: String,
}

fn default_key() -> String {
    "triage".to_owned()
}

#[derive(Default)]
struct Triage;

#[plugin]
impl Plugin for Triage {
    type Config = Config;

    fn on_event(&mut self, event: Event<'_, Config>) -> Result<()> {
        let ticket = &event.ticket;
        if ticket.custom_fields.contains_key(&event.config.field_key) {
            debug!("ticket already triaged");
            return Ok(());
        }
        let queue = match &*ticket.priority {
            "Critical" | "High" => "urgent",
            _ => "standard",
        };
        ticket::set_custom_field(&ticket.id, &event.config.field_key, queue)?;
        match ticket::add_reply(&ticket.id, "Triaged automatically.", true) {
            Ok(()) => Ok(()),
            Err(TicketError::TooLarge) => {
                warn!("note too large, skipped");
                Ok(())
            }
            Err(err) => Err(err.into()),
        }
    }
}
