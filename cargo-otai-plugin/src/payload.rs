//! Changes to an event's payload by member path (`ticket.category`), which fixtures
//! (`[event] null` and `remove`) and `sample` (`--set`, `--null`, `--remove`) share, so
//! that what `sample` prints is what a fixture with the same changes delivers.
//!
//! The result is checked as the host checks any payload: a change that breaks the
//! ABI v1 shape (a required member removed, a string set to a number) is refused with
//! the host's message, which names the member.

use std::fmt;

use anyhow::{Context, Result, bail};
use otai_plugin_host::Event;
use serde_json::{Map, Value};

/// A member of the payload: its keys from the top, e.g. `["ticket", "category"]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MemberPath(Vec<String>);

impl MemberPath {
    /// Reads `ticket.category`: keys separated by dots, from the top of the payload.
    ///
    /// # Errors
    /// An empty key, or a path into `event` or `config`, which a fixture and `sample`
    /// give otherwise.
    pub(crate) fn parse(text: &str) -> Result<MemberPath> {
        let keys: Vec<String> = text.split('.').map(str::to_owned).collect();
        if keys.iter().any(String::is_empty) {
            bail!("`{text}` is not a member path: keys separated by dots, e.g. `ticket.category`");
        }
        match keys[0].as_str() {
            "event" => bail!("`{text}`: `event` is the event's name, given as its kind"),
            "config" => bail!(
                "`{text}`: `config` is the installation's config, which the host adds for each \
                 plugin (a fixture's `[config]`)"
            ),
            _ => Ok(MemberPath(keys)),
        }
    }

    /// A JSON merge patch that sets this member to `value`, making the objects above it.
    fn patch(&self, value: Value) -> Value {
        self.0.iter().rev().fold(value, |inner, key| {
            let mut object = Map::new();
            object.insert(key.clone(), inner);
            Value::Object(object)
        })
    }

    /// The object holding this member, which must exist, and the member's key.
    fn parent<'a>(&self, payload: &'a mut Value) -> Result<(&'a mut Map<String, Value>, &str)> {
        self.find(payload)?;
        let Some((last, above)) = self.0.split_last() else {
            bail!("an empty member path");
        };
        let mut at = payload;
        for key in above {
            at = at
                .get_mut(key.as_str())
                .with_context(|| format!("the payload has no `{self}`"))?;
        }
        match at {
            Value::Object(map) => Ok((map, last)),
            _ => bail!("the payload has no `{self}`"),
        }
    }

    /// Whether the payload has this member; if not, says where the path leaves it.
    fn find(&self, payload: &Value) -> Result<()> {
        let mut at = payload;
        for (depth, key) in self.0.iter().enumerate() {
            at = match at {
                Value::Object(map) => match map.get(key) {
                    Some(next) => next,
                    None => bail!(
                        "the payload has no `{}`{}",
                        self.0[..=depth].join("."),
                        members(map)
                    ),
                },
                _ => bail!(
                    "`{}` is not an object, it has no `{key}`",
                    self.0[..depth].join(".")
                ),
            };
        }
        Ok(())
    }
}

impl fmt::Display for MemberPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join("."))
    }
}

/// ` (it has a, b, c)`: the members a wrong key could have meant.
fn members(map: &Map<String, Value>) -> String {
    if map.is_empty() {
        " (it has no members)".to_owned()
    } else {
        let keys: Vec<&str> = map.keys().map(String::as_str).collect();
        format!(" (it has {})", keys.join(", "))
    }
}

/// One change to a payload.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Change {
    /// Sets the member, making the objects above it (a merge patch, as a fixture's
    /// `[event.ticket]` is).
    Set(MemberPath, Value),
    /// Sets an existing member to `null`, as the help desk sends a ticket without a
    /// category.
    Null(MemberPath),
    /// Removes an existing member.
    Remove(MemberPath),
}

/// `event` with `changes` made in order; the result must still be an ABI v1 payload.
///
/// # Errors
/// `null` or `remove` of a member the payload does not have (the message lists what
/// its object has), or a result the host would refuse (its message names the member).
pub(crate) fn apply(event: Event, changes: &[Change]) -> Result<Event> {
    if changes.is_empty() {
        return Ok(event);
    }
    let mut payload = event.payload().clone();
    for change in changes {
        match change {
            Change::Set(path, value) => {
                merge_patch(&mut payload, path.patch(value.clone()));
            }
            Change::Null(path) => {
                let (map, key) = path.parent(&mut payload)?;
                map.insert(key.to_owned(), Value::Null);
            }
            Change::Remove(path) => {
                let (map, key) = path.parent(&mut payload)?;
                map.remove(key);
            }
        }
    }
    // The host's message says what is wrong and where: `not an ABI v1 event payload:
    // ticket: missing field `subject``.
    Ok(Event::from_json(payload)?)
}

/// RFC 7396, as the host's `Event::merge_json` applies it. Values set from TOML or the
/// command line are never `null`, so nothing is removed by it.
fn merge_patch(target: &mut Value, patch: Value) {
    match patch {
        Value::Object(patch) => {
            if !target.is_object() {
                *target = Value::Object(Map::new());
            }
            if let Value::Object(map) = target {
                for (key, value) in patch {
                    merge_patch(map.entry(key).or_insert(Value::Null), value);
                }
            }
        }
        other => *target = other,
    }
}

/// A value given on the command line or in a fixture's list: a TOML value when it reads
/// as one (`3`, `true`, `"quoted"`, `{ team = "ops" }`), the text as a string otherwise
/// (`Critical`, `VPN drops`).
pub(crate) fn value_from_text(text: &str) -> Value {
    let parsed = toml::from_str::<toml::Table>(&format!("value = {text}"))
        .ok()
        .and_then(|mut table| table.remove("value"));
    match parsed {
        // JSON has no `inf` or `nan`: those are words.
        Some(toml::Value::Float(f)) if !f.is_finite() => Value::String(text.to_owned()),
        Some(value) => crate::values::toml_to_json(&value),
        None => Value::String(text.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn path(text: &str) -> MemberPath {
        MemberPath::parse(text).unwrap()
    }

    fn error(changes: &[Change]) -> String {
        format!("{:#}", apply(Event::ticket_created(), changes).unwrap_err())
    }

    #[test]
    fn members_are_set_nulled_and_removed_in_order() {
        let event = apply(
            Event::ticket_created(),
            &[
                Change::Set(path("ticket.priority"), json!("Critical")),
                Change::Set(path("ticket.custom_fields.team"), json!("ops")),
                Change::Null(path("ticket.category")),
                Change::Remove(path("ticket.submitter.email")),
            ],
        )
        .unwrap();
        let ticket = &event.payload()["ticket"];
        assert_eq!(ticket["priority"], "Critical");
        assert_eq!(ticket["custom_fields"], json!({"team": "ops"}));
        assert!(ticket["category"].is_null());
        assert!(ticket.as_object().unwrap().contains_key("category"));
        assert!(
            !ticket["submitter"]
                .as_object()
                .unwrap()
                .contains_key("email")
        );
        assert_eq!(ticket["subject"], "New laptop request");
    }

    #[test]
    fn a_member_that_is_not_there_is_named_with_those_that_are() {
        let message = error(&[Change::Remove(path("ticket.catgory"))]);
        assert!(
            message.starts_with("the payload has no `ticket.catgory` (it has ")
                && message.contains("category"),
            "{message}"
        );
        let message = error(&[Change::Null(path("tickte.category"))]);
        assert!(
            message.starts_with("the payload has no `tickte` (it has "),
            "{message}"
        );
        let message = error(&[Change::Null(path("ticket.subject.x"))]);
        assert_eq!(message, "`ticket.subject` is not an object, it has no `x`");
    }

    #[test]
    fn a_change_the_host_would_refuse_names_the_member() {
        let message = error(&[Change::Remove(path("ticket.subject"))]);
        assert!(
            message.starts_with("not an ABI v1 event payload: ticket")
                && message.contains("subject"),
            "{message}"
        );
        let message = error(&[Change::Set(path("ticket.priority"), json!(3))]);
        assert!(message.contains("ticket.priority"), "{message}");
    }

    #[test]
    fn paths_into_event_or_config_and_empty_keys_are_refused() {
        for (text, expected) in [
            ("event", "`event` is the event's name"),
            (
                "config.webhook_url",
                "`config` is the installation's config",
            ),
            ("ticket..category", "is not a member path"),
            ("", "is not a member path"),
        ] {
            let message = MemberPath::parse(text).unwrap_err().to_string();
            assert!(message.contains(expected), "{text:?}: {message}");
        }
    }

    #[test]
    fn values_read_as_toml_when_they_can() {
        assert_eq!(value_from_text("Critical"), json!("Critical"));
        assert_eq!(
            value_from_text("VPN drops hourly"),
            json!("VPN drops hourly")
        );
        assert_eq!(value_from_text("\"3\""), json!("3"));
        assert_eq!(value_from_text("3"), json!(3));
        assert_eq!(value_from_text("true"), json!(true));
        assert_eq!(
            value_from_text("{ team = \"ops\" }"),
            json!({"team": "ops"})
        );
        assert_eq!(value_from_text(""), json!(""));
        assert_eq!(value_from_text("nan"), json!("nan"));
    }
}
