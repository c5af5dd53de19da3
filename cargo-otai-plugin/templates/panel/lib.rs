//! {{display_name}}: shows a panel from the team's dashboard on every ticket, and
//! records the panel's address on new tickets.
//!
//! Build with `cargo otai-plugin build`: stable Rust cannot export the two-value
//! `render_panel` function the help desk calls, so the SDK exports a stand-in and the
//! CLI adds the real export.

use otai_plugin_sdk::prelude::*;

const PANEL_BASE: &str = "https://panel.example.com/tickets/";

#[derive(Default)]
struct {{type_name}};

#[plugin]
impl Plugin for {{type_name}} {
    type Config = NoConfig;

    fn on_event(&mut self, event: Event<'_, NoConfig>) -> Result<()> {
        if event.kind == EventKind::TicketCreated {
            ticket::set_custom_field(&event.ticket.id, "panel_url", &panel_url(&event.ticket.id))?;
        }
        Ok(())
    }

    fn render_panel(&mut self, ticket_id: &str) -> Result<String> {
        Ok(panel_url(ticket_id))
    }
}

/// The dashboard page for a ticket. Ticket ids are ULIDs, safe in a URL path.
fn panel_url(ticket_id: &str) -> String {
    format!("{PANEL_BASE}{ticket_id}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use otai_plugin_sdk::testing;

    #[test]
    fn the_panel_shows_the_ticket() {
        let panel = testing::render_panel::<{{type_name}}>("01JQXYZ");
        assert_eq!(panel.result.unwrap(), "https://panel.example.com/tickets/01JQXYZ");
    }
}
