//! {{display_name}}: logs every new ticket.

use otai_plugin_sdk::prelude::*;

#[derive(Default)]
struct {{type_name}};

#[plugin]
impl Plugin for {{type_name}} {
    type Config = NoConfig;

    fn on_event(&mut self, event: Event<'_, NoConfig>) -> Result<()> {
        if event.kind == EventKind::TicketCreated {
            info!("{}", summary(&event.ticket));
        }
        Ok(())
    }
}

/// The log line for a new ticket.
fn summary(ticket: &otai_plugin_sdk::Ticket<'_>) -> String {
    format!("new ticket {}: {} (priority {})", ticket.id, ticket.subject, ticket.priority)
}

#[cfg(test)]
mod tests {
    use super::*;
    use otai_plugin_sdk::testing;

    #[test]
    fn logs_the_new_ticket() {
        let payload = testing::payload(EventKind::TicketCreated, otai_plugin_sdk::serde_json::json!({}));
        let delivery = testing::deliver::<{{type_name}}>(&payload);
        assert!(delivery.result.is_ok());
        assert_eq!(delivery.logs.len(), 1);
        let expected = format!("new ticket {}: ", testing::TICKET_ID);
        assert!(delivery.logs[0].message.starts_with(&expected), "{:?}", delivery.logs);
    }
}
