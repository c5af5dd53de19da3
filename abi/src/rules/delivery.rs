//! Which events a plugin is given: only those its manifest subscribes to.

use core::fmt;

use crate::event::EventKind;

/// The host's refusal to deliver an event the plugin's manifest does not list in
/// `events`: the plugin is not run at all, so nothing it would have done happens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotSubscribed {
    /// The plugin.
    pub plugin_id: String,
    /// The event that was not delivered.
    pub event: EventKind,
    /// The events the manifest lists, in its order.
    pub subscribed: Vec<EventKind>,
}

impl NotSubscribed {
    /// The manifest's events as the message lists them: `` `ticket.created`, `ticket.closed` ``.
    pub fn subscribed_list(&self) -> String {
        self.subscribed
            .iter()
            .map(|e| format!("`{e}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl fmt::Display for NotSubscribed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "plugin `{}` does not subscribe to `{}`; its manifest lists {}",
            self.plugin_id,
            self.event,
            self.subscribed_list()
        )
    }
}

impl std::error::Error for NotSubscribed {}

/// Whether `event` may be delivered to the plugin `plugin_id`, whose manifest lists
/// `subscribed`.
///
/// # Errors
/// [`NotSubscribed`] when the manifest does not list the event.
pub fn check_subscribed(
    plugin_id: &str,
    subscribed: &[EventKind],
    event: &EventKind,
) -> Result<(), NotSubscribed> {
    if subscribed.contains(event) {
        return Ok(());
    }
    Err(NotSubscribed {
        plugin_id: plugin_id.to_owned(),
        event: event.clone(),
        subscribed: subscribed.to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_listed_event_is_delivered_and_the_refusal_names_the_list() {
        let events = [EventKind::TicketCreated, EventKind::TicketClosed];
        assert!(check_subscribed("com.example.p", &events, &EventKind::TicketClosed).is_ok());
        let refusal =
            check_subscribed("com.example.p", &events, &EventKind::TicketResolved).unwrap_err();
        assert_eq!(
            refusal.to_string(),
            "plugin `com.example.p` does not subscribe to `ticket.resolved`; its manifest lists `ticket.created`, `ticket.closed`"
        );
        // An event of a newer host is not one the plugin asked for.
        let other = EventKind::Other("ticket.merged".into());
        assert!(check_subscribed("com.example.p", &events, &other).is_err());
    }
}
