//! The parts of a decoded event: the ticket, people, replies and the event's own data.
//!
//! Every string borrows from the payload ([`Cow::Borrowed`]) unless the JSON wrote it
//! with escapes, so decoding copies almost nothing; `into_owned` gives the owned types of
//! `otai_plugin_abi::event` (the ones hosts use) for keeping a part beyond the call.
//! `custom_fields` is read only when asked for.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use otai_plugin_abi::event as owned;
pub use otai_plugin_abi::event::AssigneeKind;
use serde::Serialize;

use crate::json::Reader;

fn own(s: Cow<'_, str>) -> String {
    s.into_owned()
}

/// A user: the ticket's submitter, a reply's author.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Person<'a> {
    /// User id.
    pub id: Cow<'a, str>,
    /// Display name.
    pub name: Cow<'a, str>,
    /// Email address, where the help desk has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<Cow<'a, str>>,
}

impl Person<'_> {
    /// The owned form, as hosts use it.
    pub fn into_owned(self) -> owned::Person {
        owned::Person {
            id: own(self.id),
            name: own(self.name),
            email: self.email.map(own),
        }
    }
}

/// A ticket's assignee: a user or a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assignee<'a> {
    /// `"user"` or `"group"`.
    #[serde(rename = "type")]
    pub kind: AssigneeKind,
    /// User or group id.
    pub id: Cow<'a, str>,
    /// Display name.
    pub name: Cow<'a, str>,
    /// Email address (users only, where known).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<Cow<'a, str>>,
}

impl Assignee<'_> {
    /// The owned form, as hosts use it.
    pub fn into_owned(self) -> owned::Assignee {
        owned::Assignee {
            kind: self.kind,
            id: own(self.id),
            name: own(self.name),
            email: self.email.map(own),
        }
    }
}

/// Who caused the event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Actor<'a> {
    /// User id.
    pub id: Cow<'a, str>,
    /// Display name.
    pub name: Cow<'a, str>,
    /// `user`, `agent`, `admin` or `system`.
    pub role: Cow<'a, str>,
}

impl Actor<'_> {
    /// The owned form, as hosts use it.
    pub fn into_owned(self) -> owned::Actor {
        owned::Actor {
            id: own(self.id),
            name: own(self.name),
            role: own(self.role),
        }
    }
}

/// The ticket an event is about, as it is after the event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ticket<'a> {
    /// Ticket id.
    pub id: Cow<'a, str>,
    /// Subject line.
    pub subject: Cow<'a, str>,
    /// Description (the first message).
    pub description: Cow<'a, str>,
    /// Status, e.g. `New`, `In Progress`, `Resolved`.
    pub status: Cow<'a, str>,
    /// Priority, e.g. `Low`, `Medium`, `High`, `Critical`.
    pub priority: Cow<'a, str>,
    /// Category, if set.
    pub category: Option<Cow<'a, str>>,
    /// Type within the category, if set.
    #[serde(rename = "type")]
    pub ty: Option<Cow<'a, str>>,
    /// Item within the type, if set.
    pub item: Option<Cow<'a, str>>,
    /// Who opened the ticket.
    pub submitter: Person<'a>,
    /// The current assignee, if any.
    pub assignee: Option<Assignee<'a>>,
    /// Creation time, RFC 3339.
    pub created_at: Cow<'a, str>,
    /// Link to the ticket in the help desk.
    pub url: Cow<'a, str>,
    /// Custom fields set on the ticket by plugins (`ohd_set_custom_field`).
    pub custom_fields: CustomFields<'a>,
}

impl Ticket<'_> {
    /// The owned form, as hosts use it.
    pub fn into_owned(self) -> owned::Ticket {
        owned::Ticket {
            id: own(self.id),
            subject: own(self.subject),
            description: own(self.description),
            status: own(self.status),
            priority: own(self.priority),
            category: self.category.map(own),
            ty: self.ty.map(own),
            item: self.item.map(own),
            submitter: self.submitter.into_owned(),
            assignee: self.assignee.map(Assignee::into_owned),
            created_at: own(self.created_at),
            url: own(self.url),
            custom_fields: self.custom_fields.to_map(),
        }
    }
}

/// A reply or note, the data of `ticket.reply_added` and `ticket.note_added`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reply<'a> {
    /// Reply id.
    pub reply_id: Cow<'a, str>,
    /// Reply text.
    pub body: Cow<'a, str>,
    /// Whether it is an internal note (always `true` for `ticket.note_added`).
    pub is_internal: bool,
    /// Who wrote it.
    pub author: Person<'a>,
}

impl Reply<'_> {
    /// The owned form, as hosts use it.
    pub fn into_owned(self) -> owned::Reply {
        owned::Reply {
            reply_id: own(self.reply_id),
            body: own(self.body),
            is_internal: self.is_internal,
            author: self.author.into_owned(),
        }
    }
}

/// What an event adds to the ticket and actor: the payload's `data` object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventData<'a> {
    /// `ticket.created`, `ticket.closed` and unknown events: `data` is `{}`.
    None,
    /// `ticket.assigned`: `data.assignee`.
    Assigned {
        /// The new assignee.
        assignee: Assignee<'a>,
    },
    /// `ticket.status_changed`: `data.from_status`, `data.to_status`.
    StatusChanged {
        /// The status before.
        from_status: Cow<'a, str>,
        /// The status after.
        to_status: Cow<'a, str>,
    },
    /// `ticket.reply_added`.
    ReplyAdded(Reply<'a>),
    /// `ticket.note_added`.
    NoteAdded(Reply<'a>),
    /// `ticket.resolved`: `data.resolution_notes` (may be empty).
    Resolved {
        /// Resolution notes; may be empty.
        resolution_notes: Cow<'a, str>,
    },
    /// `ticket.reopened`: `data.reason` (may be empty).
    Reopened {
        /// Why the ticket was reopened; may be empty.
        reason: Cow<'a, str>,
    },
}

impl EventData<'_> {
    /// The owned form, as hosts use it.
    pub fn into_owned(self) -> owned::EventData {
        match self {
            EventData::None => owned::EventData::None,
            EventData::Assigned { assignee } => owned::EventData::Assigned {
                assignee: assignee.into_owned(),
            },
            EventData::StatusChanged {
                from_status,
                to_status,
            } => owned::EventData::StatusChanged {
                from_status: own(from_status),
                to_status: own(to_status),
            },
            EventData::ReplyAdded(r) => owned::EventData::ReplyAdded(r.into_owned()),
            EventData::NoteAdded(r) => owned::EventData::NoteAdded(r.into_owned()),
            EventData::Resolved { resolution_notes } => owned::EventData::Resolved {
                resolution_notes: own(resolution_notes),
            },
            EventData::Reopened { reason } => owned::EventData::Reopened {
                reason: own(reason),
            },
        }
    }
}

/// The ticket's custom fields (`ticket.custom_fields`, name → value), read from the
/// payload only when asked for: a handler that never looks at them does not pay for them.
///
/// The decoder has already checked that every value is a string. The help desk sends
/// each name once; should a name come twice, [`get`](Self::get) answers with the last
/// value, as a map built from the object would.
///
/// ```
/// # use otai_plugin_sdk::{Event, NoConfig};
/// let json = br#"{"event":"ticket.created","occurred_at":"t","config":{},
///   "actor":{"id":"a","name":"A","role":"user"},
///   "ticket":{"id":"T-1","subject":"s","description":"d","status":"New","priority":"Low",
///     "submitter":{"id":"u","name":"U"},"created_at":"t","url":"u",
///     "custom_fields":{"jira_key":"OPS-1"}}}"#;
/// let event = Event::<NoConfig>::from_json(json).unwrap();
/// assert_eq!(event.ticket.custom_fields.get("jira_key").as_deref(), Some("OPS-1"));
/// assert_eq!(event.ticket.custom_fields.get("other"), None);
/// assert_eq!(event.ticket.custom_fields.len(), 1);
/// ```
#[derive(Clone, Copy, Default)]
pub struct CustomFields<'a> {
    /// The object's JSON text, checked when the event was decoded; empty for none.
    json: &'a str,
    len: usize,
}

impl<'a> CustomFields<'a> {
    /// Fields from an object's JSON text that the decoder has checked.
    pub(crate) fn checked(json: &'a str, len: usize) -> Self {
        CustomFields { json, len }
    }

    /// The value of the field `name`, if the ticket has it.
    pub fn get(&self, name: &str) -> Option<Cow<'a, str>> {
        self.iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v)
            .last()
    }

    /// Whether the ticket has the field `name`.
    pub fn contains_key(&self, name: &str) -> bool {
        self.iter().any(|(k, _)| k == name)
    }

    /// How many fields the ticket has: the members of the payload's object (a name the
    /// payload gave twice, which no host writes, counts twice; [`CustomFields::get`]
    /// and [`CustomFields::to_map`] keep its last value, as the contract's map does).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the ticket has no custom field.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The fields as `(name, value)`, in the payload's order.
    pub fn iter(&self) -> CustomFieldsIter<'a> {
        let mut reader = Reader::new(self.json);
        let started = !self.json.is_empty() && reader.begin_object().is_ok();
        CustomFieldsIter {
            reader,
            first: true,
            done: !started,
        }
    }

    /// The fields as an owned map.
    pub fn to_map(&self) -> BTreeMap<String, String> {
        self.iter()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }
}

impl<'a> IntoIterator for &CustomFields<'a> {
    type Item = (Cow<'a, str>, Cow<'a, str>);
    type IntoIter = CustomFieldsIter<'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// The iterator of [`CustomFields::iter`].
pub struct CustomFieldsIter<'a> {
    reader: Reader<'a>,
    first: bool,
    done: bool,
}

impl<'a> Iterator for CustomFieldsIter<'a> {
    type Item = (Cow<'a, str>, Cow<'a, str>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        // The text was checked at decoding, so these reads succeed; `None` ends the
        // iteration should they not.
        let item = match self.reader.next_key(self.first) {
            Ok(Some(key)) => self.reader.string().ok().map(|value| (key, value)),
            _ => None,
        };
        self.first = false;
        self.done = item.is_none();
        item
    }
}

impl fmt::Debug for CustomFields<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl PartialEq for CustomFields<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.to_map() == other.to_map()
    }
}

impl Eq for CustomFields<'_> {}

impl Serialize for CustomFields<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}
