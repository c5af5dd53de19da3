//! The payload decoder: one pass over the JSON, strings borrowed, unknown members
//! walked over, `custom_fields` checked but not built, `config` through `serde` for the
//! plugin's own type.
//!
//! It decodes the shape of `otai_plugin_abi::event::EventPayload` (the types hosts
//! serialize); `tests/payload_parity.rs` holds the two to the same answers.

use std::borrow::Cow;

use otai_plugin_abi::event::{AssigneeKind, EventKind};
use serde::Deserialize;

use super::Event;
use super::parts::{Actor, Assignee, CustomFields, EventData, Person, Reply, Ticket};
use crate::json::{JsonError, Reader, deserialize};

type Result<T> = core::result::Result<T, JsonError>;

type Text<'a> = Option<Cow<'a, str>>;

// Error paths are out of line and not generic: a plugin carries one copy of each, and
// the decoding loop stays small (every byte of it is in every typed plugin).

/// Prefixes an error with the member it happened in, e.g. `ticket.submitter: …`.
#[cold]
#[inline(never)]
fn within(e: JsonError, path: &str) -> JsonError {
    if path.is_empty() {
        return e;
    }
    JsonError {
        message: format!("{path}: {}", e.message),
        at: e.at,
    }
}

#[cold]
#[inline(never)]
fn missing(r: &Reader<'_>, path: &str, name: &str) -> JsonError {
    let dot = if path.is_empty() { "" } else { "." };
    r.error(format_args!("missing field `{path}{dot}{name}`"))
}

#[cold]
#[inline(never)]
fn duplicate(r: &Reader<'_>, path: &str, name: &str) -> JsonError {
    let dot = if path.is_empty() { "" } else { "." };
    r.error(format_args!("duplicate field `{path}{dot}{name}`"))
}

/// Fails for the first member of `fields` that is not nullable and was not read, in
/// the table's order. Checked before a part is built, so that building it cannot fail:
/// a failure halfway would drop the strings already moved, once per member.
fn check_required(
    slots: &[Text<'_>],
    fields: &[(&str, bool)],
    r: &Reader<'_>,
    path: &str,
) -> Result<()> {
    for (slot, (name, nullable)) in slots.iter().zip(fields) {
        if slot.is_none() && !nullable {
            return Err(missing(r, path, name));
        }
    }
    Ok(())
}

/// A member [`check_required`] has found.
fn take<'a>(slot: &mut Text<'a>) -> Cow<'a, str> {
    slot.take().unwrap_or_default()
}

/// A member read by hand: `Ok(Some(bit))` if `other` read the member's value, where
/// `bit` is the member's own (one of `OTHER_1`, …), or 0 for a map entry, which may
/// repeat.
type Other<'o, 'a> = &'o mut dyn FnMut(&mut Reader<'a>, &str) -> Result<Option<u32>>;

/// The bits `other` members mark in [`object`]'s record of the members read (the
/// strings use the low bits).
const OTHER_1: u32 = 1 << 16;
const OTHER_2: u32 = 1 << 17;
const OTHER_3: u32 = 1 << 18;
const OTHER_4: u32 = 1 << 19;

/// Reads an object. Members named in `strings` are strings (or, where marked nullable,
/// `null`, which leaves the slot empty) and land in the slot of the same index; other
/// members go to `other`, and what it does not read is walked over. A member written
/// twice is refused, as serde's derive (the contract's types) refuses it, rather than
/// one of its values dropped.
fn object<'a>(
    r: &mut Reader<'a>,
    path: &str,
    strings: &[(&str, bool)],
    slots: &mut [Text<'a>],
    other: Other<'_, 'a>,
) -> Result<()> {
    r.begin_object().map_err(|e| within(e, path))?;
    let mut first = true;
    // Hosts write the members in the contract's order, which the tables follow: the
    // string after the last one found is tried first, and is usually the one. (Only
    // the speed depends on it: a wrong guess falls back to the search.)
    let mut next = 0;
    let mut read = 0u32;
    while let Some(key) = r.next_key(first).map_err(|e| within(e, path))? {
        first = false;
        let found = match strings.get(next) {
            Some((name, _)) if *name == key => Some(next),
            _ => strings.iter().position(|(name, _)| *name == key),
        };
        let bit = if let Some(i) = found {
            next = i + 1;
            let nullable = strings[i].1;
            slots[i] = if nullable && r.null().map_err(|e| within(e, path))? {
                None
            } else {
                Some(r.string().map_err(|e| within(e, path))?)
            };
            1 << i
        } else if let Some(bit) = other(r, &key)? {
            bit
        } else {
            r.skip().map_err(|e| within(e, path))?;
            0
        };
        if read & bit != 0 {
            return Err(duplicate(r, path, &key));
        }
        read |= bit;
    }
    Ok(())
}

fn no_other<'a>(_: &mut Reader<'a>, _: &str) -> Result<Option<u32>> {
    Ok(None)
}

/// `null` or what `read` reads.
fn nullable<'a, T>(
    r: &mut Reader<'a>,
    path: &str,
    read: impl FnOnce(&mut Reader<'a>) -> Result<T>,
) -> Result<Option<T>> {
    if r.null().map_err(|e| within(e, path))? {
        Ok(None)
    } else {
        read(r).map(Some)
    }
}

const EVENT_STRINGS: [(&str, bool); 2] = [("event", false), ("occurred_at", false)];

pub(super) fn event<'a, C: Deserialize<'a>>(text: &'a str) -> Result<Event<'a, C>> {
    let r = &mut Reader::new(text);
    let mut s: [Text<'a>; 2] = Default::default();
    let (mut ticket, mut actor, mut config, mut data) = (None, None, None, RawData::default());
    object(r, "", &EVENT_STRINGS, &mut s, &mut |r, key| {
        Ok(Some(match key {
            "ticket" => {
                ticket = Some(decode_ticket(r)?);
                OTHER_1
            }
            "actor" => {
                actor = Some(decode_actor(r)?);
                OTHER_2
            }
            "config" => {
                config = Some(deserialize::<C>(r).map_err(|e| within(e, "config"))?);
                OTHER_3
            }
            "data" => {
                data = RawData::decode(r)?;
                OTHER_4
            }
            _ => return Ok(None),
        }))
    })?;
    r.end()?;
    check_required(&s, &EVENT_STRINGS, r, "")?;
    let kind = EventKind::from_name(&take(&mut s[0]));
    Ok(Event {
        occurred_at: take(&mut s[1]),
        ticket: ticket.ok_or_else(|| missing(r, "", "ticket"))?,
        actor: actor.ok_or_else(|| missing(r, "", "actor"))?,
        config: config.ok_or_else(|| missing(r, "", "config"))?,
        data: data.into_data(&kind, r)?,
        kind,
    })
}

fn decode_person<'a>(r: &mut Reader<'a>, path: &str) -> Result<Person<'a>> {
    const FIELDS: [(&str, bool); 3] = [("id", false), ("name", false), ("email", true)];
    let mut s: [Text<'a>; 3] = Default::default();
    object(r, path, &FIELDS, &mut s, &mut no_other)?;
    check_required(&s, &FIELDS, r, path)?;
    Ok(Person {
        id: take(&mut s[0]),
        name: take(&mut s[1]),
        email: s[2].take(),
    })
}

fn decode_assignee<'a>(r: &mut Reader<'a>, path: &str) -> Result<Assignee<'a>> {
    let mut s: [Text<'a>; 4] = Default::default();
    let fields = [
        ("type", false),
        ("id", false),
        ("name", false),
        ("email", true),
    ];
    object(r, path, &fields, &mut s, &mut no_other)?;
    // The type first: an unknown type is reported before a missing `id` or `name`.
    check_required(&s[..1], &fields[..1], r, path)?;
    let kind = match &*take(&mut s[0]) {
        "user" => AssigneeKind::User,
        "group" => AssigneeKind::Group,
        other => return Err(unknown_assignee_kind(r, path, other)),
    };
    check_required(&s[1..], &fields[1..], r, path)?;
    Ok(Assignee {
        kind,
        id: take(&mut s[1]),
        name: take(&mut s[2]),
        email: s[3].take(),
    })
}

#[cold]
#[inline(never)]
fn unknown_assignee_kind(r: &Reader<'_>, path: &str, found: &str) -> JsonError {
    r.error(format_args!(
        "{path}.type: unknown assignee type `{found}`, expected `user` or `group`"
    ))
}

fn decode_actor<'a>(r: &mut Reader<'a>) -> Result<Actor<'a>> {
    const PATH: &str = "actor";
    const FIELDS: [(&str, bool); 3] = [("id", false), ("name", false), ("role", false)];
    let mut s: [Text<'a>; 3] = Default::default();
    object(r, PATH, &FIELDS, &mut s, &mut no_other)?;
    check_required(&s, &FIELDS, r, PATH)?;
    let [id, name, role] = s.map(|slot| slot.unwrap_or_default());
    Ok(Actor { id, name, role })
}

const TICKET_STRINGS: [(&str, bool); 10] = [
    ("id", false),
    ("subject", false),
    ("description", false),
    ("status", false),
    ("priority", false),
    ("category", true),
    ("type", true),
    ("item", true),
    ("created_at", false),
    ("url", false),
];

fn decode_ticket<'a>(r: &mut Reader<'a>) -> Result<Ticket<'a>> {
    const PATH: &str = "ticket";
    let mut s: [Text<'a>; 10] = Default::default();
    let (mut submitter, mut assignee, mut custom_fields) = (None, None, CustomFields::default());
    object(r, PATH, &TICKET_STRINGS, &mut s, &mut |r, key| {
        Ok(Some(match key {
            "submitter" => {
                submitter = Some(decode_person(r, "ticket.submitter")?);
                OTHER_1
            }
            "assignee" => {
                assignee = nullable(r, "ticket.assignee", |r| {
                    decode_assignee(r, "ticket.assignee")
                })?;
                OTHER_2
            }
            "custom_fields" => {
                custom_fields = decode_custom_fields(r)?;
                OTHER_3
            }
            _ => return Ok(None),
        }))
    })?;
    check_required(&s, &TICKET_STRINGS, r, PATH)?;
    let submitter = submitter.ok_or_else(|| missing(r, PATH, "submitter"))?;
    Ok(Ticket {
        id: take(&mut s[0]),
        subject: take(&mut s[1]),
        description: take(&mut s[2]),
        status: take(&mut s[3]),
        priority: take(&mut s[4]),
        created_at: take(&mut s[8]),
        url: take(&mut s[9]),
        category: s[5].take(),
        ty: s[6].take(),
        item: s[7].take(),
        submitter,
        assignee,
        custom_fields,
    })
}

/// Checks that `custom_fields` maps names to strings, and keeps its text for later.
fn decode_custom_fields<'a>(r: &mut Reader<'a>) -> Result<CustomFields<'a>> {
    const PATH: &str = "ticket.custom_fields";
    r.peek().map_err(|e| within(e, PATH))?;
    let start = r.position();
    let mut len = 0;
    object(r, PATH, &[], &mut [], &mut |r, _| {
        r.skip_string().map_err(|e| within(e, PATH))?;
        len += 1;
        // A name given twice: the contract's map keeps the last value, so may this.
        Ok(Some(0))
    })?;
    Ok(CustomFields::checked(r.slice(start, r.position()), len))
}

/// `data`, every member any event has, before the event's kind says which it needs.
#[derive(Default)]
struct RawData<'a> {
    assignee: Option<Assignee<'a>>,
    from_status: Option<Cow<'a, str>>,
    to_status: Option<Cow<'a, str>>,
    reply_id: Option<Cow<'a, str>>,
    body: Option<Cow<'a, str>>,
    is_internal: Option<bool>,
    author: Option<Person<'a>>,
    resolution_notes: Option<Cow<'a, str>>,
    reason: Option<Cow<'a, str>>,
}

const DATA_STRINGS: [(&str, bool); 6] = [
    ("from_status", true),
    ("to_status", true),
    ("reply_id", true),
    ("body", true),
    ("resolution_notes", true),
    ("reason", true),
];

impl<'a> RawData<'a> {
    fn decode(r: &mut Reader<'a>) -> Result<Self> {
        const PATH: &str = "data";
        let mut s: [Text<'a>; 6] = Default::default();
        let (mut assignee, mut is_internal, mut author) = (None, None, None);
        object(r, PATH, &DATA_STRINGS, &mut s, &mut |r, key| {
            Ok(Some(match key {
                "assignee" => {
                    assignee =
                        nullable(r, "data.assignee", |r| decode_assignee(r, "data.assignee"))?;
                    OTHER_1
                }
                "is_internal" => {
                    is_internal = nullable(r, "data.is_internal", |r| {
                        r.bool().map_err(|e| within(e, "data.is_internal"))
                    })?;
                    OTHER_2
                }
                "author" => {
                    author = nullable(r, "data.author", |r| decode_person(r, "data.author"))?;
                    OTHER_3
                }
                _ => return Ok(None),
            }))
        })?;
        let [
            from_status,
            to_status,
            reply_id,
            body,
            resolution_notes,
            reason,
        ] = s;
        Ok(RawData {
            assignee,
            from_status,
            to_status,
            reply_id,
            body,
            is_internal,
            author,
            resolution_notes,
            reason,
        })
    }

    /// The event's data, or which member its kind needs and lacks (the same message as
    /// `otai_plugin_abi::event`'s decoder).
    fn into_data(self, kind: &EventKind, r: &Reader<'_>) -> Result<EventData<'a>> {
        let missing = |field: &str| data_missing(r, kind, field);
        let reply = |d: RawData<'a>| -> Result<Reply<'a>> {
            Ok(Reply {
                reply_id: d.reply_id.ok_or_else(|| missing("reply_id"))?,
                body: d.body.ok_or_else(|| missing("body"))?,
                is_internal: d.is_internal.ok_or_else(|| missing("is_internal"))?,
                author: d.author.ok_or_else(|| missing("author"))?,
            })
        };
        Ok(match kind {
            EventKind::TicketCreated | EventKind::TicketClosed | EventKind::Other(_) => {
                EventData::None
            }
            EventKind::TicketAssigned => EventData::Assigned {
                assignee: self.assignee.ok_or_else(|| missing("assignee"))?,
            },
            EventKind::TicketStatusChanged => EventData::StatusChanged {
                from_status: self.from_status.ok_or_else(|| missing("from_status"))?,
                to_status: self.to_status.ok_or_else(|| missing("to_status"))?,
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
}

#[cold]
#[inline(never)]
fn data_missing(r: &Reader<'_>, kind: &EventKind, field: &str) -> JsonError {
    r.error(format_args!("`{kind}` event without `data.{field}`"))
}
