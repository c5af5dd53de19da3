//! Sample event payloads: one reference ticket, every event kind with realistic `data`.
//!
//! Hosts fill the members a partial event leaves out from these (the reference host's
//! `Event` builders and `Event::from_partial_json`, the desk's tickets before their
//! first edit), the SDK's `testing::payload` hands them to handlers under test, and the
//! payload examples of `docs/ABI.md` are held to them.
//!
//! The ticket is the reference documentation's example, a `New laptop request` opened by
//! Sam Ortiz. `ticket.created` is his own action; every other event is by the agent
//! Riley Chen, an hour and a half later, with the ticket's status moved on to match.
//!
//! ```
//! use otai_plugin_abi::event::{EventKind, EventPayload};
//! use otai_plugin_abi::event::sample;
//!
//! let payload = sample::payload_with_config(&EventKind::TicketAssigned, serde_json::json!({}));
//! let typed: EventPayload<serde_json::Value> = serde_json::from_value(payload).unwrap();
//! assert_eq!(typed.ticket.id, sample::TICKET_ID);
//! assert_eq!(typed.ticket.assignee.unwrap().name, "Riley Chen");
//! ```

use serde_json::{Value, json};

use crate::event::EventKind;

/// The id of the sample ticket.
pub const TICKET_ID: &str = "01JQXYZ8K2M4N6P8R0T2V4W6Y8";

/// The agent as a reply's author.
fn agent() -> Value {
    json!({ "id": "01JQAGENT7K3", "name": "Riley Chen", "email": "riley@example.com" })
}

/// The agent Riley Chen as a payload's `actor`: who acts in every event but
/// `ticket.created`, and who a host's own pages say is signed in.
pub fn agent_actor() -> Value {
    json!({ "id": "01JQAGENT7K3", "name": "Riley Chen", "role": "agent" })
}

/// The `data` object of `kind` (`{}` for events without data and for unknown events).
pub fn data(kind: &EventKind) -> Value {
    match kind {
        EventKind::TicketAssigned => json!({
            "assignee": { "type": "user", "id": "01JQAGENT7K3", "name": "Riley Chen", "email": "riley@example.com" }
        }),
        EventKind::TicketStatusChanged => {
            json!({ "from_status": "New", "to_status": "In Progress" })
        }
        EventKind::TicketReplyAdded => json!({
            "reply_id": "01JQREPLY1A2", "body": "Thanks Sam, a replacement is on its way.",
            "is_internal": false, "author": agent()
        }),
        EventKind::TicketNoteAdded => json!({
            "reply_id": "01JQNOTE3B4C", "body": "Asset tag 4471 reported stolen; check insurance.",
            "is_internal": true, "author": agent()
        }),
        EventKind::TicketResolved => json!({ "resolution_notes": "Replacement laptop delivered." }),
        EventKind::TicketReopened => json!({ "reason": "The replacement does not boot." }),
        EventKind::TicketCreated | EventKind::TicketClosed | EventKind::Other(_) => json!({}),
    }
}

/// The payload of `kind` without `config` (which a host adds per installation).
pub fn payload(kind: &EventKind) -> Value {
    let status = match kind {
        EventKind::TicketStatusChanged
        | EventKind::TicketAssigned
        | EventKind::TicketReplyAdded
        | EventKind::TicketNoteAdded
        | EventKind::TicketReopened => "In Progress",
        EventKind::TicketResolved => "Resolved",
        EventKind::TicketClosed => "Closed",
        EventKind::TicketCreated | EventKind::Other(_) => "New",
    };
    let by_agent = *kind != EventKind::TicketCreated && kind.is_known();
    let (actor, occurred_at) = if by_agent {
        (agent_actor(), "2026-04-05T15:30:00Z")
    } else {
        (
            json!({ "id": "01JQSAM0RT1Z", "name": "Sam Ortiz", "role": "user" }),
            "2026-04-05T14:00:00Z",
        )
    };
    let data = data(kind);
    let assignee = match kind {
        EventKind::TicketAssigned => data["assignee"].clone(),
        _ => Value::Null,
    };
    json!({
        "event": kind.as_str(),
        "occurred_at": occurred_at,
        "ticket": {
            "id": TICKET_ID,
            "subject": "New laptop request",
            "description": "I need a replacement for the one that was stolen.",
            "status": status,
            "priority": "Medium",
            "category": "Hardware",
            "type": "Laptop",
            "item": null,
            "submitter": { "id": "01JQSAM0RT1Z", "name": "Sam Ortiz", "email": "sam@example.com" },
            "assignee": assignee,
            "created_at": "2026-04-05T14:00:00Z",
            "url": format!("https://helpdesk.example.com/tickets/{TICKET_ID}"),
            "custom_fields": {}
        },
        "actor": actor,
        "data": data
    })
}

/// The payload of `kind` as a plugin with `config` receives it.
pub fn payload_with_config(kind: &EventKind, config: Value) -> Value {
    let mut payload = payload(kind);
    if let Some(map) = payload.as_object_mut() {
        map.insert("config".into(), config);
    }
    payload
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{EventData, EventPayload};

    #[test]
    fn every_kind_decodes_with_its_data() {
        for kind in EventKind::ALL {
            let payload = payload_with_config(&kind, json!({}));
            let typed: EventPayload<Value> = serde_json::from_value(payload).unwrap();
            assert_eq!(typed.event, kind);
            assert_eq!(typed.ticket.id, TICKET_ID);
            let has_data = !matches!(typed.data, EventData::None);
            let expects_data = !matches!(kind, EventKind::TicketCreated | EventKind::TicketClosed);
            assert_eq!(has_data, expects_data, "{kind}");
        }
        let other = payload(&EventKind::Other("ticket.merged".into()));
        assert_eq!(other["data"], json!({}));
        assert_eq!(other["actor"]["role"], "user");
    }
}
