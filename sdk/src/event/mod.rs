//! The events a plugin receives: typed ([`Event`]) or as raw JSON ([`RawEvent`]).

mod decode;
mod parts;
mod scan;

use core::fmt;
use std::borrow::Cow;

pub use otai_plugin_abi::event::EventKind;
use serde::Deserialize;

pub use self::parts::{
    Actor, Assignee, AssigneeKind, CustomFields, CustomFieldsIter, EventData, Person, Reply, Ticket,
};
use crate::Error;

/// One event delivery, decoded: what happened, to which ticket, by whom, with the
/// plugin's configuration `C` (secrets decrypted) and the event's own data.
///
/// `C` is the plugin's config struct, deserialized from the installation's values;
/// use [`NoConfig`] for a plugin without configuration. Unknown payload fields are
/// ignored, so a newer host does not break a plugin.
///
/// Strings borrow from the payload (`'a`, the call) unless the JSON escaped them, so
/// decoding copies almost nothing; the ticket's `custom_fields` are read only when asked
/// for. A [`Cow<str>`](Cow) reads like a `&str` (`&event.ticket.id`,
/// `format!("{}", event.ticket.subject)`); call `into_owned` to keep a string or a part
/// beyond the call.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Event<'a, C> {
    /// Which event this is (`ticket.created`, …, or [`EventKind::Other`] for an event
    /// newer than this SDK).
    pub kind: EventKind,
    /// When it happened, RFC 3339.
    pub occurred_at: Cow<'a, str>,
    /// The ticket after the event, including `custom_fields`.
    pub ticket: Ticket<'a>,
    /// Who caused the event.
    pub actor: Actor<'a>,
    /// The plugin's configuration.
    pub config: C,
    /// The event's own data (`data` in the payload).
    pub data: EventData<'a>,
}

impl<'a, C: Deserialize<'a>> Event<'a, C> {
    /// Decodes an event payload.
    ///
    /// # Errors
    /// When the payload is not an event of ABI v1, or `config` does not fit `C`. The
    /// message names the member and the byte where decoding stopped, e.g.
    /// ``invalid event payload: config: missing field `webhook_url` at byte 740``.
    pub fn from_json(payload: &'a [u8]) -> Result<Self, Error> {
        let text = core::str::from_utf8(payload).map_err(|e| {
            Error::msg(format_args!(
                "invalid event payload: not UTF-8 at byte {}",
                e.valid_up_to()
            ))
        })?;
        decode::event(text).map_err(|err| Error::msg(format_args!("invalid event payload: {err}")))
    }
}

impl<C> Event<'_, C> {
    /// The event's wire name, e.g. `ticket.created`.
    pub fn name(&self) -> &str {
        self.kind.as_str()
    }
}

/// The config type of a plugin that has no configuration: accepts any `config`
/// object and keeps nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoConfig;

impl<'de> Deserialize<'de> for NoConfig {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        serde::de::IgnoredAny::deserialize(d)?;
        Ok(NoConfig)
    }
}

/// An event delivery as the JSON bytes the host sent, for plugins that do not want to
/// pay for JSON decoding (see [`RawPlugin`](crate::RawPlugin)).
///
/// The bytes are valid only during the call; copy what you keep.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct RawEvent<'a> {
    json: &'a [u8],
}

impl<'a> RawEvent<'a> {
    /// Wraps payload bytes.
    pub fn new(json: &'a [u8]) -> Self {
        RawEvent { json }
    }

    /// The payload JSON.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.json
    }

    /// The payload JSON as text.
    ///
    /// # Errors
    /// When the bytes are not UTF-8 (a host that follows the ABI always sends UTF-8).
    pub fn as_str(&self) -> Result<&'a str, core::str::Utf8Error> {
        core::str::from_utf8(self.json)
    }

    /// The payload length in bytes.
    pub fn len(&self) -> usize {
        self.json.len()
    }

    /// Whether the payload is empty (never, from a host that follows the ABI).
    pub fn is_empty(&self) -> bool {
        self.json.is_empty()
    }

    /// The event name (`ticket.created`, …), found by a small scan of the top-level
    /// object rather than a JSON decoder. `None` if there is no top-level `"event"`
    /// string, or it contains escapes or non-ASCII characters, which no event name
    /// does. The scan does not validate the rest of the JSON.
    ///
    /// ```
    /// use otai_plugin_sdk::RawEvent;
    /// let json = br#"{"ticket":{"event":"not this"},"event":"ticket.created"}"#;
    /// assert_eq!(RawEvent::new(json).name(), Some("ticket.created"));
    /// ```
    pub fn name(&self) -> Option<&'a str> {
        scan::top_level_string(self.json, b"event")
    }

    /// Decodes the payload into a typed [`Event`], for a raw plugin that decides per
    /// event whether decoding is worth it.
    ///
    /// # Errors
    /// As [`Event::from_json`].
    pub fn decode<C: Deserialize<'a>>(&self) -> Result<Event<'a, C>, Error> {
        Event::from_json(self.json)
    }
}

impl fmt::Debug for RawEvent<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The payload holds decrypted secrets (`config`): never print it.
        f.debug_struct("RawEvent")
            .field("len", &self.json.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) const CREATED: &str = r##"{
      "event": "ticket.created",
      "occurred_at": "2026-04-05T14:00:00Z",
      "ticket": {
        "id": "01JQXYZ", "subject": "New laptop request",
        "description": "I need a \"replacement\" {for} [the] one that was stolen.",
        "status": "New", "priority": "Medium", "category": "Hardware", "type": "Laptop",
        "item": null, "submitter": { "id": "u1", "name": "Sam Ortiz", "email": "sam@example.com" },
        "assignee": null, "created_at": "2026-04-05T14:00:00Z",
        "url": "https://helpdesk.example.com/tickets/01JQXYZ",
        "custom_fields": { "jira": "OPS-1" }
      },
      "actor": { "id": "01JQABC", "name": "Sam Ortiz", "role": "user" },
      "config": { "webhook_url": "https://hooks.slack.com/services/x", "extra": [1, {"a": "}"}] },
      "data": {}
    }"##;

    #[derive(Debug, Deserialize)]
    struct SlackConfig {
        webhook_url: String,
        #[serde(default)]
        channel: Option<String>,
    }

    #[test]
    fn typed_event_carries_every_part() {
        let e = Event::<SlackConfig>::from_json(CREATED.as_bytes()).unwrap();
        assert_eq!(e.kind, EventKind::TicketCreated);
        assert_eq!(e.name(), "ticket.created");
        assert_eq!(e.ticket.custom_fields.get("jira").as_deref(), Some("OPS-1"));
        assert_eq!(e.actor.role, "user");
        assert_eq!(e.config.webhook_url, "https://hooks.slack.com/services/x");
        assert_eq!(e.config.channel, None);
        assert_eq!(e.data, EventData::None);
    }

    #[test]
    fn config_mismatch_names_the_field() {
        let json = CREATED.replace("webhook_url", "hook");
        let err = Event::<SlackConfig>::from_json(json.as_bytes()).unwrap_err();
        assert!(
            err.message()
                .starts_with("invalid event payload: config: missing field `webhook_url` at byte "),
            "{err}"
        );
        assert!(Event::<NoConfig>::from_json(json.as_bytes()).is_ok());
    }

    #[test]
    fn raw_name_skips_nested_values_and_strings() {
        let json = r#"{"ticket":{"event":"nested"},"s":"\"event\": \"x\"","n":-1.5e3,"a":[true,null,{}],"event":"ticket.closed"}"#;
        assert_eq!(RawEvent::new(json.as_bytes()).name(), Some("ticket.closed"));
        assert_eq!(
            RawEvent::new(CREATED.as_bytes()).name(),
            Some("ticket.created")
        );
        assert_eq!(
            RawEvent::new(br#"{"ticket":{"event":"nested"}}"#).name(),
            None
        );
        assert_eq!(RawEvent::new(br#"{"event":"tick\"et"}"#).name(), None);
        assert_eq!(RawEvent::new(br#"{"event":3}"#).name(), None);
        assert_eq!(
            RawEvent::new("{\"event\":\"tické\"}".as_bytes()).name(),
            None
        );
        assert_eq!(RawEvent::new(b"[1,2]").name(), None);
        assert_eq!(RawEvent::new(br#"{"a":[1,2"#).name(), None);
        assert_eq!(RawEvent::new(b"").name(), None);
    }

    #[test]
    fn raw_debug_hides_the_payload() {
        let dbg = format!("{:?}", RawEvent::new(CREATED.as_bytes()));
        assert!(!dbg.contains("hooks.slack.com"), "{dbg}");
    }
}
