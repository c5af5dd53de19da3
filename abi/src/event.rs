//! The event payload handed to `on_event`.
//!
//! ```json
//! {
//!   "event": "ticket.status_changed",
//!   "occurred_at": "2026-04-05T14:00:00Z",
//!   "ticket": { "id": "01JQXYZ", "subject": "…", "custom_fields": {} , "…": "…" },
//!   "actor": { "id": "01JQABC", "name": "Sam Ortiz", "role": "agent" },
//!   "config": { "channel": "#support" },
//!   "data": { "from_status": "New", "to_status": "In Progress" }
//! }
//! ```
//!
//! Decoding tolerates fields it does not know (a newer host may add some) and event
//! names it does not know ([`EventKind::Other`]).
//!
//! `sample` (feature `sample`) holds a payload of every kind: what a host fills the
//! members a partial event leaves out from, and the payloads tests and `docs/ABI.md`
//! show.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

#[cfg(feature = "sample")]
pub mod sample;

/// The kind of a ticket event.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventKind {
    /// `ticket.created`
    TicketCreated,
    /// `ticket.assigned`
    TicketAssigned,
    /// `ticket.status_changed`
    TicketStatusChanged,
    /// `ticket.reply_added`
    TicketReplyAdded,
    /// `ticket.note_added`
    TicketNoteAdded,
    /// `ticket.resolved`
    TicketResolved,
    /// `ticket.closed`
    TicketClosed,
    /// `ticket.reopened`
    TicketReopened,
    /// An event this ABI version does not know, from a newer host.
    Other(String),
}

impl EventKind {
    /// The eight events of ABI v1, in the order of the reference documentation.
    pub const ALL: [EventKind; 8] = [
        EventKind::TicketCreated,
        EventKind::TicketAssigned,
        EventKind::TicketStatusChanged,
        EventKind::TicketReplyAdded,
        EventKind::TicketNoteAdded,
        EventKind::TicketResolved,
        EventKind::TicketClosed,
        EventKind::TicketReopened,
    ];

    /// The wire name, e.g. `ticket.created`.
    pub fn as_str(&self) -> &str {
        match self {
            EventKind::TicketCreated => "ticket.created",
            EventKind::TicketAssigned => "ticket.assigned",
            EventKind::TicketStatusChanged => "ticket.status_changed",
            EventKind::TicketReplyAdded => "ticket.reply_added",
            EventKind::TicketNoteAdded => "ticket.note_added",
            EventKind::TicketResolved => "ticket.resolved",
            EventKind::TicketClosed => "ticket.closed",
            EventKind::TicketReopened => "ticket.reopened",
            EventKind::Other(name) => name,
        }
    }

    /// The kind for a wire name; unknown names become [`EventKind::Other`].
    pub fn from_name(name: &str) -> Self {
        Self::ALL
            .iter()
            .find(|k| k.as_str() == name)
            .cloned()
            .unwrap_or_else(|| EventKind::Other(name.to_owned()))
    }

    /// Whether this is one of the eight events of ABI v1.
    pub fn is_known(&self) -> bool {
        !matches!(self, EventKind::Other(_))
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for EventKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for EventKind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = EventKind;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an event name such as \"ticket.created\"")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<EventKind, E> {
                Ok(EventKind::from_name(v))
            }
        }
        d.deserialize_str(Visitor)
    }
}

/// A user: the ticket's submitter, a reply's author.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    /// User id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Email address, where the help desk has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// Whether an assignee is a user or a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AssigneeKind {
    /// A single agent.
    User,
    /// A group of agents.
    Group,
}

/// A ticket's assignee: a user or a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignee {
    /// `"user"` or `"group"`.
    #[serde(rename = "type")]
    pub kind: AssigneeKind,
    /// User or group id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Email address (users only, where known).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// Who caused the event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// User id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// `user`, `agent`, `admin` or `system`.
    pub role: String,
}

/// The ticket an event is about, as it is after the event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    /// Ticket id.
    pub id: String,
    /// Subject line.
    pub subject: String,
    /// Description (the first message).
    pub description: String,
    /// Status, e.g. `New`, `In Progress`, `Resolved`.
    pub status: String,
    /// Priority, e.g. `Low`, `Medium`, `High`, `Critical`.
    pub priority: String,
    /// Category, if set.
    #[serde(default)]
    pub category: Option<String>,
    /// Type within the category, if set.
    #[serde(default, rename = "type")]
    pub ty: Option<String>,
    /// Item within the type, if set.
    #[serde(default)]
    pub item: Option<String>,
    /// Who opened the ticket.
    pub submitter: Person,
    /// The current assignee, if any.
    #[serde(default)]
    pub assignee: Option<Assignee>,
    /// Creation time, RFC 3339.
    pub created_at: String,
    /// Link to the ticket in the help desk.
    pub url: String,
    /// Custom fields set on the ticket by plugins (`ohd_set_custom_field`).
    #[serde(default)]
    pub custom_fields: BTreeMap<String, String>,
}

/// A reply or note, the data of `ticket.reply_added` and `ticket.note_added`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    /// Reply id.
    pub reply_id: String,
    /// Reply text.
    pub body: String,
    /// Whether it is an internal note (always `true` for `ticket.note_added`).
    pub is_internal: bool,
    /// Who wrote it.
    pub author: Person,
}

/// What an event adds to the ticket and actor: the payload's `data` object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventData {
    /// `ticket.created`, `ticket.closed` and unknown events: `data` is `{}`.
    None,
    /// `ticket.assigned`: `data.assignee`.
    Assigned {
        /// The new assignee.
        assignee: Assignee,
    },
    /// `ticket.status_changed`: `data.from_status`, `data.to_status`.
    StatusChanged {
        /// The status before.
        from_status: String,
        /// The status after.
        to_status: String,
    },
    /// `ticket.reply_added`.
    ReplyAdded(Reply),
    /// `ticket.note_added`.
    NoteAdded(Reply),
    /// `ticket.resolved`: `data.resolution_notes` (may be empty).
    Resolved {
        /// Resolution notes; may be empty.
        resolution_notes: String,
    },
    /// `ticket.reopened`: `data.reason` (may be empty).
    Reopened {
        /// Why the ticket was reopened; may be empty.
        reason: String,
    },
}

/// The JSON payload of one event delivery. `C` is the type of the plugin's config.
#[derive(Debug, Clone, PartialEq)]
pub struct EventPayload<C> {
    /// Which event this is.
    pub event: EventKind,
    /// When it happened, RFC 3339.
    pub occurred_at: String,
    /// The ticket, after the event.
    pub ticket: Ticket,
    /// Who caused it.
    pub actor: Actor,
    /// The plugin's configuration, secrets decrypted.
    pub config: C,
    /// The event's own data.
    pub data: EventData,
}

/// The wire form of `data`: every field any event has, all optional. Decoding goes
/// through it so that a payload costs one pass and no buffering.
#[derive(Default, Serialize, Deserialize)]
struct RawData {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    assignee: Option<Assignee>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    from_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    to_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reply_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    body: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    is_internal: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    author: Option<Person>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    resolution_notes: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

fn missing<E: serde::de::Error>(event: &EventKind, field: &str) -> E {
    E::custom(format_args!("`{event}` event without `data.{field}`"))
}

impl RawData {
    fn into_data<E: serde::de::Error>(self, kind: &EventKind) -> Result<EventData, E> {
        let reply = |raw: RawData| -> Result<Reply, E> {
            Ok(Reply {
                reply_id: raw.reply_id.ok_or_else(|| missing(kind, "reply_id"))?,
                body: raw.body.ok_or_else(|| missing(kind, "body"))?,
                is_internal: raw
                    .is_internal
                    .ok_or_else(|| missing(kind, "is_internal"))?,
                author: raw.author.ok_or_else(|| missing(kind, "author"))?,
            })
        };
        Ok(match kind {
            EventKind::TicketCreated | EventKind::TicketClosed | EventKind::Other(_) => {
                EventData::None
            }
            EventKind::TicketAssigned => EventData::Assigned {
                assignee: self.assignee.ok_or_else(|| missing(kind, "assignee"))?,
            },
            EventKind::TicketStatusChanged => EventData::StatusChanged {
                from_status: self
                    .from_status
                    .ok_or_else(|| missing(kind, "from_status"))?,
                to_status: self.to_status.ok_or_else(|| missing(kind, "to_status"))?,
            },
            EventKind::TicketReplyAdded => EventData::ReplyAdded(reply(self)?),
            EventKind::TicketNoteAdded => EventData::NoteAdded(reply(self)?),
            EventKind::TicketResolved => EventData::Resolved {
                resolution_notes: self.resolution_notes.unwrap_or_default(),
            },
            EventKind::TicketReopened => EventData::Reopened {
                reason: self.reason.unwrap_or_default(),
            },
        })
    }

    fn from_data(data: &EventData) -> RawData {
        let mut raw = RawData::default();
        match data.clone() {
            EventData::None => {}
            EventData::Assigned { assignee } => raw.assignee = Some(assignee),
            EventData::StatusChanged {
                from_status,
                to_status,
            } => {
                raw.from_status = Some(from_status);
                raw.to_status = Some(to_status);
            }
            EventData::ReplyAdded(reply) | EventData::NoteAdded(reply) => {
                raw.reply_id = Some(reply.reply_id);
                raw.body = Some(reply.body);
                raw.is_internal = Some(reply.is_internal);
                raw.author = Some(reply.author);
            }
            EventData::Resolved { resolution_notes } => {
                raw.resolution_notes = Some(resolution_notes)
            }
            EventData::Reopened { reason } => raw.reason = Some(reason),
        }
        raw
    }
}

#[derive(Deserialize)]
struct RawPayload<C> {
    event: EventKind,
    occurred_at: String,
    ticket: Ticket,
    actor: Actor,
    config: C,
    #[serde(default)]
    data: RawData,
}

#[derive(Serialize)]
struct RawPayloadRef<'a, C> {
    event: &'a EventKind,
    occurred_at: &'a str,
    ticket: &'a Ticket,
    actor: &'a Actor,
    config: &'a C,
    data: RawData,
}

impl<'de, C: Deserialize<'de>> Deserialize<'de> for EventPayload<C> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = RawPayload::<C>::deserialize(d)?;
        let data = raw.data.into_data(&raw.event)?;
        Ok(EventPayload {
            event: raw.event,
            occurred_at: raw.occurred_at,
            ticket: raw.ticket,
            actor: raw.actor,
            config: raw.config,
            data,
        })
    }
}

impl<C: Serialize> Serialize for EventPayload<C> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        RawPayloadRef {
            event: &self.event,
            occurred_at: &self.occurred_at,
            ticket: &self.ticket,
            actor: &self.actor,
            config: &self.config,
            data: RawData::from_data(&self.data),
        }
        .serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REFERENCE: &str = r##"{
      "event": "ticket.created",
      "occurred_at": "2026-04-05T14:00:00Z",
      "ticket": {
        "id": "01JQXYZ", "subject": "New laptop request",
        "description": "I need a replacement for the one that was stolen.",
        "status": "New", "priority": "Medium", "category": "Hardware", "type": "Laptop",
        "item": null, "submitter": { "id": "u1", "name": "Sam Ortiz", "email": "sam@example.com" },
        "assignee": null, "created_at": "2026-04-05T14:00:00Z",
        "url": "https://helpdesk.example.com/tickets/01JQXYZ"
      },
      "actor": { "id": "01JQABC", "name": "Sam Ortiz", "role": "user" },
      "config": { "channel": "#support" }
    }"##;

    #[test]
    fn decodes_the_reference_payload() {
        let p: EventPayload<serde_json::Value> = serde_json::from_str(REFERENCE).unwrap();
        assert_eq!(p.event, EventKind::TicketCreated);
        assert_eq!(p.ticket.ty.as_deref(), Some("Laptop"));
        assert!(p.ticket.custom_fields.is_empty());
        assert_eq!(p.data, EventData::None);
        assert_eq!(p.config["channel"], "#support");
    }

    #[test]
    fn round_trips_each_kind_of_data() {
        let base: EventPayload<serde_json::Value> = serde_json::from_str(REFERENCE).unwrap();
        let person = Person {
            id: "u2".into(),
            name: "Ana".into(),
            email: None,
        };
        let cases = [
            (
                EventKind::TicketStatusChanged,
                EventData::StatusChanged {
                    from_status: "New".into(),
                    to_status: "Open".into(),
                },
            ),
            (
                EventKind::TicketNoteAdded,
                EventData::NoteAdded(Reply {
                    reply_id: "r1".into(),
                    body: "hi".into(),
                    is_internal: true,
                    author: person,
                }),
            ),
            (
                EventKind::TicketReopened,
                EventData::Reopened {
                    reason: String::new(),
                },
            ),
        ];
        for (event, data) in cases {
            let p = EventPayload {
                event,
                data,
                ..base.clone()
            };
            let json = serde_json::to_string(&p).unwrap();
            let back: EventPayload<serde_json::Value> = serde_json::from_str(&json).unwrap();
            assert_eq!(back, p);
        }
    }

    #[test]
    fn missing_data_names_the_field_and_unknown_events_decode() {
        let json = REFERENCE.replace("ticket.created", "ticket.status_changed");
        let err = serde_json::from_str::<EventPayload<serde_json::Value>>(&json).unwrap_err();
        assert!(
            err.to_string()
                .contains("`ticket.status_changed` event without `data.from_status`"),
            "{err}"
        );

        let json = REFERENCE.replace("ticket.created", "ticket.merged");
        let p: EventPayload<serde_json::Value> = serde_json::from_str(&json).unwrap();
        assert_eq!(p.event, EventKind::Other("ticket.merged".into()));
    }
}
