//! The events a plugin receives: decoded into types ([`Event`]), or as the JSON the
//! host sent ([`RawEvent`]) with its members read when asked.

mod decode;
mod parts;
mod raw;
mod scan;

use std::borrow::Cow;

pub use otai_plugin_abi::event::EventKind;
use serde::Deserialize;

pub use self::parts::{
    Actor, Assignee, AssigneeKind, CustomFields, CustomFieldsIter, EventData, Person, Reply, Ticket,
};
pub use self::raw::{RawActor, RawEvent, RawSubmitter, RawTicket};
use crate::Error;
use crate::json::JsonError;

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
        core::str::from_utf8(payload)
            .map_err(JsonError::not_utf8)
            .and_then(decode::event)
            .map_err(|err| Error::msg(format_args!("invalid event payload: {err}")))
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
}
