//! Events to deliver: builders with realistic defaults, fixtures from JSON.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use otai_plugin_abi::event::sample;
use otai_plugin_abi::event::{EventKind, EventPayload};
use otai_plugin_abi::rules::status::status_change_events;
use serde_json::{Map, Value, json};

use crate::error::EventError;

/// An event to deliver: the payload a plugin receives, minus its `config` (which
/// the host adds per plugin) and plus the ticket's `custom_fields` as the host knows
/// them.
///
/// The builders start from the reference payload (a `New laptop request` ticket
/// opened by Sam Ortiz) and add the event's `data` with realistic values; setters
/// change common ticket fields. The payload is kept as JSON, so a fixture may carry
/// fields this ABI version does not know (a newer host might send them).
///
/// ```
/// use otai_plugin_host::Event;
/// use serde_json::json;
///
/// let event = Event::ticket_status_changed()
///     .priority("Critical")
///     .custom_field("jira_issue", "OPS-12")
///     .merge_json(json!({"data": {"to_status": "Waiting on customer"}}))?;
/// let payload = event.to_payload(&json!({"channel": "#support"}));
/// assert_eq!(payload["event"], "ticket.status_changed");
/// assert_eq!(payload["ticket"]["priority"], "Critical");
/// assert_eq!(payload["ticket"]["custom_fields"]["jira_issue"], "OPS-12");
/// assert_eq!(payload["data"], json!({"from_status": "New", "to_status": "Waiting on customer"}));
/// assert_eq!(payload["config"]["channel"], "#support");
/// # Ok::<(), otai_plugin_host::EventError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    payload: Value,
    kind: EventKind,
    /// The payload as JSON, written the first time it is delivered and shared by
    /// every plugin and every later delivery of this event (and its clones).
    serialized: Serialized,
}

/// The default ticket id of built events: the sample ticket of
/// `otai_plugin_abi::event::sample`.
pub const DEFAULT_TICKET_ID: &str = sample::TICKET_ID;

impl Event {
    /// An event of `kind` with the defaults of its builder (`Other` kinds get empty
    /// `data`): the sample payloads of `otai_plugin_abi::event::sample`, which the
    /// SDK's native `testing::payload` and docs/ABI.md show too.
    pub fn from_kind(kind: EventKind) -> Event {
        Event {
            payload: sample::payload(&kind),
            kind,
            serialized: Serialized::default(),
        }
    }

    /// `ticket.created`: the reference payload.
    pub fn ticket_created() -> Event {
        Event::from_kind(EventKind::TicketCreated)
    }

    /// `ticket.assigned` to the agent Riley Chen.
    pub fn ticket_assigned() -> Event {
        Event::from_kind(EventKind::TicketAssigned)
    }

    /// `ticket.status_changed` from `New` to `In Progress`.
    pub fn ticket_status_changed() -> Event {
        Event::from_kind(EventKind::TicketStatusChanged)
    }

    /// `ticket.reply_added`: a public reply by Riley Chen.
    pub fn ticket_reply_added() -> Event {
        Event::from_kind(EventKind::TicketReplyAdded)
    }

    /// `ticket.note_added`: an internal note by Riley Chen.
    pub fn ticket_note_added() -> Event {
        Event::from_kind(EventKind::TicketNoteAdded)
    }

    /// `ticket.resolved` with resolution notes.
    pub fn ticket_resolved() -> Event {
        Event::from_kind(EventKind::TicketResolved)
    }

    /// `ticket.closed`.
    pub fn ticket_closed() -> Event {
        Event::from_kind(EventKind::TicketClosed)
    }

    /// `ticket.reopened` with a reason.
    pub fn ticket_reopened() -> Event {
        Event::from_kind(EventKind::TicketReopened)
    }

    /// An event from a full payload (for example a fixture file). A `config` in it is
    /// ignored (each plugin gets its own); `ticket.custom_fields` is kept.
    ///
    /// # Errors
    /// [`EventError`] when the JSON is not an ABI v1 payload (missing fields, wrong
    /// types, `data` missing what the event requires).
    pub fn from_json(mut payload: Value) -> Result<Event, EventError> {
        if let Some(map) = payload.as_object_mut() {
            map.remove("config");
            if !map.contains_key("data") {
                map.insert("data".into(), json!({}));
            }
        }
        let kind = check(&payload)?;
        Ok(Event {
            payload,
            kind,
            serialized: Serialized::default(),
        })
    }

    /// An event from a payload that may give only the fields it cares about: `event`
    /// names the kind, and every field it leaves out is taken from that kind's sample
    /// payload ([`Event::from_kind`]), at any depth. Unlike a merge patch, a `null` in
    /// it stays `null`, so a complete payload reads as [`Event::from_json`] reads it.
    ///
    /// ```
    /// use otai_plugin_host::Event;
    /// use serde_json::json;
    ///
    /// let event = Event::from_partial_json(json!({
    ///     "event": "ticket.created",
    ///     "ticket": { "priority": "Critical", "assignee": null }
    /// }))?;
    /// assert_eq!(event.payload()["ticket"]["priority"], "Critical");
    /// assert_eq!(event.payload()["ticket"]["subject"], "New laptop request");
    /// assert!(event.payload()["ticket"]["assignee"].is_null());
    /// # Ok::<(), otai_plugin_host::EventError>(())
    /// ```
    ///
    /// # Errors
    /// [`EventError`] when `event` is missing or not an ABI v1 event, or when a field
    /// given has the wrong type.
    pub fn from_partial_json(mut payload: Value) -> Result<Event, EventError> {
        let names = || {
            let names: Vec<&str> = EventKind::ALL.iter().map(EventKind::as_str).collect();
            names.join(", ")
        };
        let kind = match payload.get("event") {
            Some(Value::String(name)) => EventKind::from_name(name),
            Some(other) => {
                return Err(EventError {
                    message: format!(
                        "`event` must be an event name such as \"ticket.created\", found {other}"
                    ),
                });
            }
            None => {
                return Err(EventError {
                    message: format!(
                        "the payload has no `event` field: name the event (one of {}), the \
                         fields left out are taken from its sample payload",
                        names()
                    ),
                });
            }
        };
        if !kind.is_known() {
            return Err(EventError {
                message: format!(
                    "unknown event `{}`; the events are {}",
                    kind.as_str(),
                    names()
                ),
            });
        }
        fill_missing(&mut payload, &sample::payload(&kind));
        Event::from_json(payload)
    }

    /// Applies a JSON merge patch (RFC 7396) to the payload: objects merge, `null`
    /// removes a field, anything else replaces.
    ///
    /// # Errors
    /// [`EventError`] when the result is not an ABI v1 payload.
    pub fn merge_json(mut self, patch: Value) -> Result<Event, EventError> {
        merge_patch(&mut self.payload, patch);
        Event::from_json(self.payload)
    }

    /// The event kind.
    pub fn kind(&self) -> &EventKind {
        &self.kind
    }

    /// The ticket id (`ticket.id`).
    pub fn ticket_id(&self) -> &str {
        self.payload["ticket"]["id"].as_str().unwrap_or_default()
    }

    /// The payload without `config`.
    pub fn payload(&self) -> &Value {
        &self.payload
    }

    fn set_ticket(mut self, key: &str, value: Value) -> Event {
        self.serialized = Serialized::default();
        if let Some(ticket) = self
            .payload
            .get_mut("ticket")
            .and_then(Value::as_object_mut)
        {
            ticket.insert(key.to_owned(), value);
        }
        self
    }

    /// Sets `ticket.id` (and the ticket URL to match). Default `01JQXYZ8K2M4N6P8R0T2V4W6Y8`.
    pub fn with_ticket_id(self, id: &str) -> Event {
        let url = format!("https://helpdesk.example.com/tickets/{id}");
        self.set_ticket("id", json!(id))
            .set_ticket("url", json!(url))
    }

    /// Sets `ticket.subject`. Default `New laptop request`.
    pub fn subject(self, subject: &str) -> Event {
        self.set_ticket("subject", json!(subject))
    }

    /// Sets `ticket.description`. Default `I need a replacement for the one that was stolen.`
    pub fn description(self, description: &str) -> Event {
        self.set_ticket("description", json!(description))
    }

    /// Sets `ticket.status`. Default `New` (`In Progress`, `Resolved` or `Closed`
    /// after the corresponding events).
    pub fn status(self, status: &str) -> Event {
        self.set_ticket("status", json!(status))
    }

    /// Sets `ticket.priority`. Default `Medium`.
    pub fn priority(self, priority: &str) -> Event {
        self.set_ticket("priority", json!(priority))
    }

    /// Sets `ticket.category`. Default `Hardware`.
    pub fn category(self, category: &str) -> Event {
        self.set_ticket("category", json!(category))
    }

    /// Sets a custom field already on the ticket. Default: none. Fields the host's
    /// store holds for this ticket (set by earlier deliveries) take precedence.
    pub fn custom_field(mut self, key: &str, value: &str) -> Event {
        self.serialized = Serialized::default();
        if let Some(ticket) = self
            .payload
            .get_mut("ticket")
            .and_then(Value::as_object_mut)
        {
            let fields = ticket.entry("custom_fields").or_insert_with(|| json!({}));
            if let Some(map) = fields.as_object_mut() {
                map.insert(key.to_owned(), json!(value));
            }
        }
        self
    }

    /// The events that changing the status of this event's ticket to `to` sends, in the
    /// order a host delivers them (docs/ABI.md section 6, "One change, several events";
    /// the rule is `otai_plugin_abi::rules::status`): `ticket.status_changed`, then
    /// `ticket.resolved`, `ticket.closed` or `ticket.reopened` when the change means one;
    /// none when the ticket's `status` already is `to`.
    ///
    /// Each carries this event's ticket with `status` set to `to`, its `occurred_at` and
    /// its `actor`. `ticket.status_changed` has the old and the new status;
    /// `ticket.resolved` and `ticket.reopened` have `notes` as their `resolution_notes` or
    /// `reason`. Deliver them one after the other, each to the plugins that subscribe to
    /// it: the fields the host keeps from a delivery reach the next one.
    ///
    /// ```
    /// use otai_plugin_host::Event;
    /// use serde_json::json;
    ///
    /// let before = Event::ticket_status_changed().status("In Progress");
    /// let events = before.status_change("Resolved", "Replaced the battery.")?;
    /// let names: Vec<&str> = events.iter().map(|e| e.kind().as_str()).collect();
    /// assert_eq!(names, ["ticket.status_changed", "ticket.resolved"]);
    /// assert_eq!(events[0].payload()["data"], json!({"from_status": "In Progress", "to_status": "Resolved"}));
    /// assert_eq!(events[1].payload()["data"], json!({"resolution_notes": "Replaced the battery."}));
    /// assert!(events.iter().all(|e| e.payload()["ticket"]["status"] == "Resolved"));
    /// # Ok::<(), otai_plugin_host::EventError>(())
    /// ```
    ///
    /// # Errors
    /// [`EventError`] if an event built is not a valid payload; every constructor of
    /// `Event` checks its payload, so the events built from one are valid too.
    pub fn status_change(&self, to: &str, notes: &str) -> Result<Vec<Event>, EventError> {
        let from = self.payload["ticket"]["status"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        status_change_events(&from, to)
            .into_iter()
            .map(|kind| {
                let data = match kind {
                    EventKind::TicketStatusChanged => {
                        json!({ "from_status": from, "to_status": to })
                    }
                    EventKind::TicketResolved => json!({ "resolution_notes": notes }),
                    EventKind::TicketReopened => json!({ "reason": notes }),
                    _ => json!({}),
                };
                let mut payload = self.payload.clone();
                if let Some(map) = payload.as_object_mut() {
                    map.insert("event".into(), json!(kind.as_str()));
                    map.insert("data".into(), data);
                }
                if let Some(ticket) = payload.get_mut("ticket").and_then(Value::as_object_mut) {
                    ticket.insert("status".into(), json!(to));
                }
                Event::from_json(payload)
            })
            .collect()
    }

    /// The payload a plugin with `config` receives.
    pub fn to_payload(&self, config: &Value) -> Value {
        let mut payload = self.payload.clone();
        if let Some(map) = payload.as_object_mut() {
            map.insert("config".into(), config.clone());
        }
        payload
    }

    /// The payload as a plugin installed with `config` receives it, byte for byte:
    /// compact JSON, its members in the ABI's order (`event`, `occurred_at`, `ticket`,
    /// `actor`, `config`, `data`). Custom fields that earlier deliveries set on the
    /// ticket are merged in by the host at delivery; this is the event before any.
    ///
    /// ```
    /// use otai_plugin_host::Event;
    /// use serde_json::json;
    ///
    /// let json = Event::ticket_closed().to_payload_json(&json!({}));
    /// assert!(json.starts_with(r#"{"event":"ticket.closed","occurred_at":"#));
    /// assert!(json.ends_with(r#","config":{},"data":{}}"#));
    /// ```
    pub fn to_payload_json(&self, config: &Value) -> String {
        let config = serde_json::to_vec(config).unwrap_or_else(|_| b"{}".to_vec());
        // Written by serde_json from strings: UTF-8.
        String::from_utf8_lossy(&self.payload_bytes(&config, None)).into_owned()
    }

    /// The payload bytes for one plugin: `config` (its JSON, written once at install)
    /// added and the host's custom fields merged over the ticket's. The event's own
    /// fields are serialized once per event, not once per plugin and delivery; top-level
    /// fields come in the order of the ABI (`event`, `occurred_at`, `ticket`, `actor`,
    /// `config`, `data`, then any others) so that the JSON a plugin sees reads like the
    /// documentation.
    pub(crate) fn payload_bytes(
        &self,
        config: &[u8],
        stored: Option<&BTreeMap<String, String>>,
    ) -> Vec<u8> {
        let parts = self.serialized.get_or_init(&self.payload);
        // A ticket that already carries every stored value (an embedder that writes the
        // fields into its events, as the local desk does) is written as serialized.
        let stored = stored.filter(|s| !s.is_empty() && !carries(self.payload.get("ticket"), s));
        let merged = match (stored, &parts.ticket) {
            (Some(stored), Some(_)) => self.payload.get("ticket").map(|t| {
                let mut out = Vec::with_capacity(1024);
                write_ticket(&mut out, t, stored);
                out
            }),
            _ => None,
        };
        let ticket = merged
            .as_deref()
            .or(parts.ticket.as_deref())
            .unwrap_or_default();
        fn pick<'a>(part: &'a Part, ticket: &'a [u8], config: &'a [u8]) -> &'a [u8] {
            match part {
                Part::Bytes(b) => b,
                Part::Ticket => ticket,
                Part::Config => config,
            }
        }
        let bytes = |part| pick(part, ticket, config);
        let mut out = Vec::with_capacity(parts.parts.iter().map(|p| bytes(p).len()).sum());
        for part in &parts.parts {
            out.extend_from_slice(bytes(part));
        }
        out
    }
}

/// The event's payload as JSON, cut where each plugin's payload differs: its `config`,
/// and the ticket when the host holds custom fields for it.
#[derive(Debug, Clone, Default)]
struct Serialized(OnceLock<Arc<Parts>>);

impl Serialized {
    fn get_or_init(&self, payload: &Value) -> &Parts {
        self.0.get_or_init(|| Arc::new(Parts::new(payload)))
    }
}

/// A cache of what `payload` already says: two events are equal by their payload.
impl PartialEq for Serialized {
    fn eq(&self, _: &Serialized) -> bool {
        true
    }
}

#[derive(Debug)]
struct Parts {
    parts: Vec<Part>,
    /// The ticket as the event has it.
    ticket: Option<Vec<u8>>,
}

#[derive(Debug)]
enum Part {
    Bytes(Vec<u8>),
    Ticket,
    Config,
}

impl Parts {
    fn new(payload: &Value) -> Parts {
        const ORDER: [&str; 6] = ["event", "occurred_at", "ticket", "actor", "config", "data"];
        let empty = Map::new();
        // Events are built from objects (`check` reads the payload as one).
        let map = payload.as_object().unwrap_or(&empty);
        let ordered = ORDER.iter().map(|k| (*k, map.get(*k)));
        let rest = map
            .iter()
            .filter(|(k, _)| !ORDER.contains(&k.as_str()))
            .map(|(k, v)| (k.as_str(), Some(v)));
        let mut parts = Vec::new();
        let mut ticket = None;
        let mut bytes = Vec::with_capacity(4096);
        bytes.push(b'{');
        let mut first = true;
        for (key, value) in ordered.chain(rest) {
            let value = match (key, value) {
                ("config", _) => None,
                (_, Some(value)) => Some(value),
                (_, None) => continue,
            };
            if !first {
                bytes.push(b',');
            }
            first = false;
            // Writing JSON to a Vec cannot fail.
            let _ = serde_json::to_writer(&mut bytes, key);
            bytes.push(b':');
            match (key, value) {
                ("ticket", Some(value)) => {
                    ticket = serde_json::to_vec(value).ok();
                    parts.push(Part::Bytes(std::mem::take(&mut bytes)));
                    parts.push(Part::Ticket);
                }
                (_, None) => {
                    parts.push(Part::Bytes(std::mem::take(&mut bytes)));
                    parts.push(Part::Config);
                }
                (_, Some(value)) => {
                    let _ = serde_json::to_writer(&mut bytes, value);
                }
            }
        }
        bytes.push(b'}');
        parts.push(Part::Bytes(bytes));
        Parts { parts, ticket }
    }
}

/// Whether `ticket`'s `custom_fields` already hold each of `stored` with its value.
fn carries(ticket: Option<&Value>, stored: &BTreeMap<String, String>) -> bool {
    let Some(fields) = ticket
        .and_then(|t| t.get("custom_fields"))
        .and_then(Value::as_object)
    else {
        return false;
    };
    stored
        .iter()
        .all(|(k, v)| fields.get(k).and_then(Value::as_str) == Some(v.as_str()))
}

/// Writes the ticket with the host's custom fields merged over its own.
fn write_ticket(out: &mut Vec<u8>, ticket: &Value, stored: &BTreeMap<String, String>) {
    let mut ticket = ticket.clone();
    if let Some(t) = ticket.as_object_mut() {
        let fields = t
            .entry("custom_fields")
            .or_insert_with(|| Value::Object(Map::new()));
        if !fields.is_object() {
            *fields = Value::Object(Map::new());
        }
        if let Some(fields) = fields.as_object_mut() {
            for (k, v) in stored {
                fields.insert(k.clone(), Value::String(v.clone()));
            }
        }
    }
    let _ = serde_json::to_writer(out, &ticket);
}

fn check(payload: &Value) -> Result<EventKind, EventError> {
    let mut with_config = payload.clone();
    if let Some(map) = with_config.as_object_mut() {
        map.insert("config".into(), json!({}));
    }
    // The path says which field: `ticket.priority: invalid type: integer `5`, …`.
    let typed: EventPayload<Value> =
        serde_path_to_error::deserialize(&with_config).map_err(|e| {
            let path = e.path().to_string();
            let message = e.into_inner().to_string();
            EventError {
                message: if path == "." {
                    message
                } else {
                    format!("{path}: {message}")
                },
            }
        })?;
    Ok(typed.event)
}

/// Adds to `target` every field of `defaults` it does not have, object by object.
fn fill_missing(target: &mut Value, defaults: &Value) {
    if let (Some(target), Some(defaults)) = (target.as_object_mut(), defaults.as_object()) {
        for (key, default) in defaults {
            match target.get_mut(key) {
                Some(given) => fill_missing(given, default),
                None => {
                    target.insert(key.clone(), default.clone());
                }
            }
        }
    }
}

/// RFC 7396 JSON merge patch.
fn merge_patch(target: &mut Value, patch: Value) {
    match patch {
        Value::Object(patch) => {
            if !target.is_object() {
                *target = Value::Object(Map::new());
            }
            if let Some(map) = target.as_object_mut() {
                for (key, value) in patch {
                    if value.is_null() {
                        map.remove(&key);
                    } else {
                        merge_patch(map.entry(key).or_insert(Value::Null), value);
                    }
                }
            }
        }
        other => *target = other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builder_decodes_as_an_abi_payload() {
        for kind in EventKind::ALL {
            let event = Event::from_kind(kind.clone());
            let payload = event.to_payload(&json!({}));
            let typed: EventPayload<Value> = serde_json::from_value(payload).unwrap();
            assert_eq!(typed.event, kind);
        }
    }

    #[test]
    fn merge_patch_follows_rfc_7396() {
        let mut target = json!({"a": "b", "c": {"d": "e", "f": "g"}});
        merge_patch(&mut target, json!({"a": "z", "c": {"f": null}}));
        assert_eq!(target, json!({"a": "z", "c": {"d": "e"}}));
        merge_patch(&mut target, json!(["x"]));
        assert_eq!(target, json!(["x"]));
    }

    #[test]
    fn a_patch_that_breaks_the_payload_is_an_error() {
        let err = Event::ticket_status_changed()
            .merge_json(json!({"data": {"from_status": null}}))
            .unwrap_err();
        assert!(err.to_string().contains("data.from_status"), "{err}");
    }

    #[test]
    fn stored_fields_override_the_fixture() {
        let event = Event::ticket_created()
            .custom_field("a", "1")
            .custom_field("b", "2");
        let stored = BTreeMap::from([("b".to_string(), "3".to_string())]);
        let bytes = event.payload_bytes(b"{}", Some(&stored));
        let payload: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(
            payload["ticket"]["custom_fields"],
            json!({"a": "1", "b": "3"})
        );
        // The event's own serialization is not changed by one plugin's stored fields.
        let again: Value = serde_json::from_slice(&event.payload_bytes(b"{}", None)).unwrap();
        assert_eq!(
            again["ticket"]["custom_fields"],
            json!({"a": "1", "b": "2"})
        );
    }

    #[test]
    fn stored_fields_the_event_carries_are_not_merged_again() {
        let event = Event::ticket_created()
            .custom_field("a", "1")
            .custom_field("b", "2");
        let plain = event.payload_bytes(b"{}", None);
        let same = BTreeMap::from([("b".to_string(), "2".to_string())]);
        assert!(carries(event.payload.get("ticket"), &same));
        assert_eq!(event.payload_bytes(b"{}", Some(&same)), plain);
        // One value that differs, or a key the event lacks, is merged.
        for (k, v) in [("b", "3"), ("c", "2")] {
            let differs = BTreeMap::from([(k.to_string(), v.to_string())]);
            assert!(!carries(event.payload.get("ticket"), &differs));
            let payload: Value =
                serde_json::from_slice(&event.payload_bytes(b"{}", Some(&differs))).unwrap();
            assert_eq!(payload["ticket"]["custom_fields"][k], v);
        }
    }

    /// The bytes a plugin gets are the payload `to_payload` describes, fields in the
    /// ABI's order, whatever plugin asked first.
    #[test]
    fn payload_bytes_are_the_payload_in_the_abis_order() {
        let config = json!({"channel": "#support", "token": "x\"y"});
        let config_bytes = serde_json::to_vec(&config).unwrap();
        for kind in EventKind::ALL {
            let event = Event::from_kind(kind.clone())
                .merge_json(json!({"extra": {"n": 1}}))
                .unwrap();
            for _ in 0..2 {
                let bytes = event.payload_bytes(&config_bytes, None);
                let payload: Value = serde_json::from_slice(&bytes).unwrap();
                assert_eq!(payload, event.to_payload(&config), "{kind}");
                let text = String::from_utf8(bytes).unwrap();
                let at = |key: &str| text.find(&format!("\"{key}\":")).unwrap();
                let order = [
                    "event",
                    "occurred_at",
                    "ticket",
                    "actor",
                    "config",
                    "data",
                    "extra",
                ]
                .map(at);
                assert!(order.is_sorted(), "{kind}: {text}");
            }
            assert_eq!(
                serde_json::from_slice::<Value>(&event.payload_bytes(b"{}", None)).unwrap()["config"],
                json!({})
            );
        }
    }

    #[test]
    fn a_partial_payload_takes_what_it_leaves_out_from_the_sample() {
        let event = Event::from_partial_json(json!({
            "event": "ticket.created",
            "ticket": {"priority": "Critical", "assignee": null}
        }))
        .unwrap();
        let sample = Event::ticket_created();
        assert_eq!(event.payload()["ticket"]["priority"], "Critical");
        assert!(event.payload()["ticket"]["assignee"].is_null());
        assert_eq!(
            event.payload()["ticket"]["subject"],
            sample.payload()["ticket"]["subject"]
        );
        assert_eq!(event.payload()["actor"], sample.payload()["actor"]);

        let message = |payload: Value| Event::from_partial_json(payload).unwrap_err().to_string();
        assert!(
            message(json!({"event": "ticket.exploded"}))
                .contains("unknown event `ticket.exploded`; the events are ticket.created, "),
        );
        assert!(message(json!({})).contains("the payload has no `event` field"));
        assert!(message(json!({"event": 5})).contains("`event` must be an event name"));
    }

    /// A type error names its field; an error of the whole document has no path.
    #[test]
    fn errors_name_the_field_that_is_wrong() {
        let err = Event::ticket_created()
            .merge_json(json!({"ticket": {"priority": 5}}))
            .unwrap_err();
        assert!(
            err.to_string()
                .ends_with(": ticket.priority: invalid type: integer `5`, expected a string"),
            "{err}"
        );
        let err = Event::from_json(json!(5)).unwrap_err().to_string();
        assert!(
            err.starts_with("not an ABI v1 event payload: invalid type: integer `5`"),
            "{err}"
        );
    }

    /// A setter after a delivery changes what the next delivery sends.
    #[test]
    fn a_setter_discards_the_serialized_payload() {
        let event = Event::ticket_created();
        let read =
            |e: &Event| -> Value { serde_json::from_slice(&e.payload_bytes(b"{}", None)).unwrap() };
        assert_eq!(read(&event)["ticket"]["priority"], "Medium");
        let changed = event.clone().priority("Critical").custom_field("k", "v");
        assert_eq!(read(&changed)["ticket"]["priority"], "Critical");
        assert_eq!(read(&changed)["ticket"]["custom_fields"]["k"], "v");
        assert_eq!(read(&event)["ticket"]["priority"], "Medium");
        assert_eq!(
            changed,
            event.clone().priority("Critical").custom_field("k", "v")
        );
    }
}
