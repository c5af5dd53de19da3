//! {{display_name}}: logs every new ticket.
//!
//! A `RawPlugin` reads the members it uses from the payload when it asks for them, so the
//! plugin carries no decoder of the whole event and builds to under 20 KB. For the event
//! decoded into types (`Event`, with config), implement `Plugin` instead, as
//! `cargo otai-plugin new --template http` does.

use otai_plugin_sdk::prelude::*;

#[derive(Default)]
struct {{type_name}};

#[plugin]
impl RawPlugin for {{type_name}} {
    fn on_event(&mut self, event: RawEvent<'_>) -> Result<()> {
        if event.kind()? == EventKind::TicketCreated {
            let ticket = event.ticket();
            info!(
                "new ticket {}: {} (priority {})",
                ticket.id()?,
                ticket.subject()?,
                ticket.priority()?
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use otai_plugin_sdk::testing;

    #[test]
    fn logs_the_new_ticket() {
        let payload = testing::payload(EventKind::TicketCreated, otai_plugin_sdk::serde_json::json!({}));
        let delivery = testing::deliver_raw::<{{type_name}}>(&payload);
        assert!(delivery.result.is_ok(), "{:?}", delivery.result);
        assert_eq!(delivery.logs.len(), 1);
        let expected = format!("new ticket {}: ", testing::TICKET_ID);
        assert!(delivery.logs[0].message.starts_with(&expected), "{:?}", delivery.logs);
    }

    #[test]
    fn other_events_are_not_delivered() {
        // `events` in Cargo.toml lists only `ticket.created`: the host does not run the
        // plugin on any other event, and neither does `testing::deliver`.
        let payload = testing::payload(EventKind::TicketClosed, otai_plugin_sdk::serde_json::json!({}));
        let delivery = testing::deliver_raw::<{{type_name}}>(&payload);
        let refusal = delivery.result.expect_err("not subscribed");
        assert!(refusal.message().contains("does not subscribe to `ticket.closed`"), "{}", refusal.message());
        assert!(delivery.logs.is_empty(), "{:?}", delivery.logs);
    }
}
