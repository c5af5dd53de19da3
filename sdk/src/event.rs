//! The events a plugin receives: typed ([`Event`]) or as raw JSON ([`RawEvent`]).

use core::fmt;

use otai_plugin_abi::event::EventPayload;
pub use otai_plugin_abi::event::{
    Actor, Assignee, AssigneeKind, EventData, EventKind, Person, Reply, Ticket,
};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::Error;

/// One event delivery, decoded: what happened, to which ticket, by whom, with the
/// plugin's configuration `C` (secrets decrypted) and the event's own data.
///
/// `C` is the plugin's config struct, deserialized from the installation's values;
/// use [`NoConfig`] for a plugin without configuration. Unknown payload fields are
/// ignored, so a newer host does not break a plugin.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Event<C> {
    /// Which event this is (`ticket.created`, …, or [`EventKind::Other`] for an event
    /// newer than this SDK).
    pub kind: EventKind,
    /// When it happened, RFC 3339.
    pub occurred_at: String,
    /// The ticket after the event, including `custom_fields`.
    pub ticket: Ticket,
    /// Who caused the event.
    pub actor: Actor,
    /// The plugin's configuration.
    pub config: C,
    /// The event's own data (`data` in the payload).
    pub data: EventData,
}

impl<C: DeserializeOwned> Event<C> {
    /// Decodes an event payload.
    ///
    /// # Errors
    /// When the payload is not an event of ABI v1, or `config` does not fit `C` (the
    /// message names the field, e.g. ``missing field `webhook_url` ``).
    pub fn from_json(payload: &[u8]) -> Result<Self, Error> {
        let payload: EventPayload<C> = serde_json::from_slice(payload)
            .map_err(|err| Error::msg(format_args!("invalid event payload: {err}")))?;
        Ok(payload.into())
    }
}

impl<C> Event<C> {
    /// The event's wire name, e.g. `ticket.created`.
    pub fn name(&self) -> &str {
        self.kind.as_str()
    }
}

impl<C> From<EventPayload<C>> for Event<C> {
    fn from(p: EventPayload<C>) -> Self {
        Event {
            kind: p.event,
            occurred_at: p.occurred_at,
            ticket: p.ticket,
            actor: p.actor,
            config: p.config,
            data: p.data,
        }
    }
}

impl<C> From<Event<C>> for EventPayload<C> {
    fn from(e: Event<C>) -> Self {
        EventPayload {
            event: e.kind,
            occurred_at: e.occurred_at,
            ticket: e.ticket,
            actor: e.actor,
            config: e.config,
            data: e.data,
        }
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
    pub fn decode<C: DeserializeOwned>(&self) -> Result<Event<C>, Error> {
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

/// A lenient scanner for one top-level string member, so that a raw plugin can learn
/// the event name without linking a JSON decoder.
mod scan {
    struct Cursor<'a> {
        s: &'a [u8],
        i: usize,
    }

    impl<'a> Cursor<'a> {
        fn peek(&self) -> Option<u8> {
            self.s.get(self.i).copied()
        }

        fn bump(&mut self) -> Option<u8> {
            let b = self.peek()?;
            self.i += 1;
            Some(b)
        }

        fn ws(&mut self) {
            while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
                self.i += 1;
            }
        }

        /// A string starting at `"`: its raw contents and whether they hold escapes.
        fn string(&mut self) -> Option<(&'a [u8], bool)> {
            if self.bump()? != b'"' {
                return None;
            }
            let start = self.i;
            let mut escaped = false;
            loop {
                match self.bump()? {
                    b'"' => return Some((self.s.get(start..self.i - 1)?, escaped)),
                    b'\\' => {
                        escaped = true;
                        self.bump()?;
                    }
                    _ => {}
                }
            }
        }

        /// Skips one value of any kind.
        fn skip_value(&mut self) -> Option<()> {
            match self.peek()? {
                b'"' => self.string().map(drop),
                b'{' | b'[' => {
                    let mut depth = 0usize;
                    loop {
                        match self.peek()? {
                            b'"' => {
                                self.string()?;
                                continue;
                            }
                            b'{' | b'[' => depth += 1,
                            b'}' | b']' => {
                                depth -= 1;
                                if depth == 0 {
                                    self.i += 1;
                                    return Some(());
                                }
                            }
                            _ => {}
                        }
                        self.i += 1;
                    }
                }
                _ => {
                    while !matches!(
                        self.peek()?,
                        b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r'
                    ) {
                        self.i += 1;
                    }
                    Some(())
                }
            }
        }
    }

    /// The bytes as a `&str` if they are ASCII, as every event name is. Cheaper in
    /// code size than `core::str::from_utf8`, which a raw plugin may not link otherwise.
    fn ascii_str(bytes: &[u8]) -> Option<&str> {
        if bytes.is_ascii() {
            // SAFETY: ASCII is valid UTF-8.
            Some(unsafe { core::str::from_utf8_unchecked(bytes) })
        } else {
            None
        }
    }

    pub(super) fn top_level_string<'a>(json: &'a [u8], key: &[u8]) -> Option<&'a str> {
        let mut c = Cursor { s: json, i: 0 };
        c.ws();
        if c.bump()? != b'{' {
            return None;
        }
        loop {
            c.ws();
            if c.peek()? == b'}' {
                return None;
            }
            let (name, name_escaped) = c.string()?;
            c.ws();
            if c.bump()? != b':' {
                return None;
            }
            c.ws();
            if !name_escaped && name == key && c.peek()? == b'"' {
                let (value, escaped) = c.string()?;
                return if escaped { None } else { ascii_str(value) };
            }
            c.skip_value()?;
            c.ws();
            match c.bump()? {
                b',' => {}
                _ => return None,
            }
        }
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
        assert_eq!(e.ticket.custom_fields["jira"], "OPS-1");
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
                .starts_with("invalid event payload: missing field `webhook_url`"),
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
