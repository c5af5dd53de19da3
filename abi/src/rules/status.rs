//! Which events one change of a ticket's status sends, and in which order (docs/ABI.md
//! section 6, "One change, several events").
//!
//! Every change is a `ticket.status_changed`; a change that resolves, closes or reopens
//! the ticket is followed by the event that says so. Hosts that build events from a
//! status change (the reference host's `Event::status_change`, the local desk, the
//! conformance drivers) all send what this function says.

use crate::event::EventKind;

/// The status of a resolved ticket, as the help desk writes it.
pub const RESOLVED: &str = "Resolved";

/// The status of a closed ticket, as the help desk writes it.
pub const CLOSED: &str = "Closed";

/// The events a change of a ticket's status from `from` to `to` sends, in the order a
/// host delivers them: none when the status stays what it was; otherwise
/// `ticket.status_changed`, followed by `ticket.resolved` (to `Resolved`),
/// `ticket.closed` (to `Closed`) or `ticket.reopened` (from `Resolved` or `Closed` to
/// another status). Statuses are compared as written.
///
/// ```
/// use otai_plugin_abi::event::EventKind;
/// use otai_plugin_abi::rules::status::status_change_events;
///
/// assert_eq!(
///     status_change_events("In Progress", "Resolved"),
///     [EventKind::TicketStatusChanged, EventKind::TicketResolved]
/// );
/// assert_eq!(status_change_events("New", "In Progress"), [EventKind::TicketStatusChanged]);
/// assert!(status_change_events("New", "New").is_empty());
/// ```
pub fn status_change_events(from: &str, to: &str) -> Vec<EventKind> {
    if from == to {
        return Vec::new();
    }
    let done = |status: &str| status == RESOLVED || status == CLOSED;
    let meaning = match to {
        RESOLVED => Some(EventKind::TicketResolved),
        CLOSED => Some(EventKind::TicketClosed),
        _ if done(from) => Some(EventKind::TicketReopened),
        _ => None,
    };
    std::iter::once(EventKind::TicketStatusChanged)
        .chain(meaning)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use EventKind::{TicketClosed, TicketReopened, TicketResolved, TicketStatusChanged};

    #[test]
    fn every_change_is_a_status_change_and_its_meaning_follows() {
        for (from, to, expected) in [
            ("New", "In Progress", vec![TicketStatusChanged]),
            (
                "In Progress",
                "Resolved",
                vec![TicketStatusChanged, TicketResolved],
            ),
            ("New", "Resolved", vec![TicketStatusChanged, TicketResolved]),
            (
                "In Progress",
                "Closed",
                vec![TicketStatusChanged, TicketClosed],
            ),
            // Closing a resolved ticket closes it; it does not reopen it.
            (
                "Resolved",
                "Closed",
                vec![TicketStatusChanged, TicketClosed],
            ),
            (
                "Closed",
                "Resolved",
                vec![TicketStatusChanged, TicketResolved],
            ),
            (
                "Resolved",
                "In Progress",
                vec![TicketStatusChanged, TicketReopened],
            ),
            ("Closed", "New", vec![TicketStatusChanged, TicketReopened]),
            (
                "Waiting on customer",
                "In Progress",
                vec![TicketStatusChanged],
            ),
        ] {
            assert_eq!(status_change_events(from, to), expected, "{from} -> {to}");
        }
    }

    #[test]
    fn the_same_status_is_no_change_and_statuses_compare_as_written() {
        for status in ["New", "Resolved", "Closed", ""] {
            assert!(status_change_events(status, status).is_empty(), "{status}");
        }
        // A help desk's own spelling is its own status, not `Resolved`.
        assert_eq!(
            status_change_events("In Progress", "resolved"),
            [TicketStatusChanged]
        );
    }
}
