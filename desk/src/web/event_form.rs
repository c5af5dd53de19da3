//! The ticket page's "Fire an event" form, read and checked: the ticket's fields, and
//! the inputs of each event kind's `data` (docs/ABI.md section 6), as the desk delivers
//! them. Every problem is reported at once, each naming its input, what was found and
//! what is expected.

use std::collections::BTreeMap;

use otai_plugin_abi::event::EventKind;
use serde_json::{Map, Value, json};

/// The statuses the contract names (docs/ABI.md section 6).
pub(crate) const STATUSES: [&str; 4] = ["New", "In Progress", "Resolved", "Closed"];

/// The priorities the contract names (the `priority` of a ticket in `otai-plugin-abi`).
pub(crate) const PRIORITIES: [&str; 4] = ["Low", "Medium", "High", "Critical"];

/// The longest text quoted back in an error.
const QUOTED: usize = 64;

/// What the form asks for: the event, the ticket's changes, the event's `data`.
pub(crate) struct FireForm {
    pub(crate) event: String,
    pub(crate) changes: Map<String, Value>,
    pub(crate) data: Map<String, Value>,
}

fn quoted(text: &str) -> String {
    let cut: String = text.chars().take(QUOTED).collect();
    if cut.len() < text.len() {
        format!("{cut:?}… ({} bytes)", text.len())
    } else {
        format!("{cut:?}")
    }
}

/// The problem of a status the contract does not name, at `input`.
pub(crate) fn not_a_status(input: &str, found: &str) -> String {
    format!(
        "{input}: found {}, expected one of {}",
        quoted(found),
        STATUSES.join(", ")
    )
}

/// Reads the form `submitted` about `ticket` (as stored).
///
/// # Errors
/// Each problem, as `input: what was found, what is expected`.
pub(crate) fn read(
    submitted: &BTreeMap<String, String>,
    ticket: &Value,
) -> Result<FireForm, Vec<String>> {
    let mut problems = Vec::new();
    let text = |key: &str| submitted.get(key).map(|v| v.replace("\r\n", "\n"));
    let event = submitted.get("event").cloned().unwrap_or_default();
    let kind = EventKind::from_name(&event);
    if !kind.is_known() {
        let names: Vec<&str> = EventKind::ALL.iter().map(EventKind::as_str).collect();
        problems.push(format!(
            "event: found {}, an unknown event; expected one of {}",
            quoted(&event),
            names.join(", ")
        ));
    }

    let mut changes = Map::new();
    for key in ["subject", "description", "category"] {
        if let Some(value) = text(key) {
            // A ticket without a category has `null` (docs/ABI.md section 6).
            let value = if key == "category" && value.trim().is_empty() {
                Value::Null
            } else {
                Value::String(value)
            };
            changes.insert(key.to_owned(), value);
        }
    }
    if changes
        .get("subject")
        .is_some_and(|s| s.as_str().is_some_and(|s| s.trim().is_empty()))
    {
        problems.push("subject: is blank; a ticket has a subject".into());
    }
    let current = |key: &str| ticket[key].as_str().unwrap_or_default().to_owned();
    // One of the contract's values, or the ticket's own (a ticket the command line gave
    // another status keeps it).
    let mut chosen = |input: &str, field: &str, allowed: &[&str]| -> Option<String> {
        let value = submitted.get(input)?;
        if allowed.contains(&value.as_str()) || (!value.is_empty() && *value == current(field)) {
            Some(value.clone())
        } else {
            problems.push(format!(
                "{input}: found {}, expected one of {}",
                quoted(value),
                allowed.join(", ")
            ));
            None
        }
    };
    for (key, allowed) in [("status", &STATUSES[..]), ("priority", &PRIORITIES[..])] {
        if let Some(value) = chosen(key, key, allowed) {
            changes.insert(key.to_owned(), Value::String(value));
        }
    }

    let mut data = Map::new();
    match kind {
        EventKind::TicketReplyAdded | EventKind::TicketNoteAdded => {
            match text("data_body") {
                Some(body) if body.trim().is_empty() => {
                    problems.push("data_body: is blank; a reply or a note has a body".into())
                }
                Some(body) => {
                    data.insert("body".into(), Value::String(body));
                }
                None => {}
            }
            let internal = if kind == EventKind::TicketNoteAdded {
                // A note is internal, always (docs/ABI.md).
                Some(true)
            } else {
                match submitted.get("data_is_internal").map(String::as_str) {
                    None => None,
                    Some("true") => Some(true),
                    Some("false") => Some(false),
                    Some(other) => {
                        problems.push(format!(
                            "data_is_internal: found {}, expected `true` or `false`",
                            quoted(other)
                        ));
                        None
                    }
                }
            };
            if let Some(internal) = internal {
                data.insert("is_internal".into(), Value::Bool(internal));
            }
            if let Some(author) = person(submitted, "data_author", true, &mut problems) {
                data.insert("author".into(), author);
            }
        }
        EventKind::TicketStatusChanged => {
            let from = chosen("data_from_status", "status", &STATUSES);
            let to = chosen("data_to_status", "status", &STATUSES);
            if let (Some(from), Some(to)) = (&from, &to)
                && from == to
            {
                problems.push(format!(
                    "data_to_status: the same as data_from_status ({from:?}); a change of status \
                     has two different statuses"
                ));
            }
            if let Some(from) = from {
                data.insert("from_status".into(), Value::String(from));
            }
            if let Some(to) = to {
                // The ticket as it is after the event: its status is the new one.
                changes.insert("status".into(), Value::String(to.clone()));
                data.insert("to_status".into(), Value::String(to));
            }
        }
        EventKind::TicketAssigned => {
            let ty = submitted.get("data_assignee_type").map(String::as_str);
            let group = match ty {
                None | Some("user") => false,
                Some("group") => true,
                Some(other) => {
                    problems.push(format!(
                        "data_assignee_type: found {}, expected `user` or `group`",
                        quoted(other)
                    ));
                    false
                }
            };
            if let Some(mut assignee) = person(submitted, "data_assignee", !group, &mut problems) {
                assignee["type"] = json!(if group { "group" } else { "user" });
                // The ticket's assignee is the one the event assigns.
                changes.insert("assignee".into(), assignee.clone());
                data.insert("assignee".into(), assignee);
            }
        }
        EventKind::TicketResolved => {
            if let Some(notes) = text("data_resolution_notes") {
                data.insert("resolution_notes".into(), Value::String(notes));
            }
        }
        EventKind::TicketReopened => {
            if let Some(reason) = text("data_reason") {
                data.insert("reason".into(), Value::String(reason));
            }
        }
        EventKind::TicketCreated | EventKind::TicketClosed | EventKind::Other(_) => {}
    }
    if problems.is_empty() {
        Ok(FireForm {
            event,
            changes,
            data,
        })
    } else {
        Err(problems)
    }
}

/// A person (a reply's author, an assignee) from the inputs `PREFIX_name` and
/// `PREFIX_email`: `None` when the form has neither. The id is made from the name, so
/// the same name is the same person from one delivery to the next.
fn person(
    submitted: &BTreeMap<String, String>,
    prefix: &str,
    email_allowed: bool,
    problems: &mut Vec<String>,
) -> Option<Value> {
    let (name_key, email_key) = (format!("{prefix}_name"), format!("{prefix}_email"));
    let name = submitted.get(&name_key).map(|n| n.trim().to_owned());
    let email = submitted
        .get(&email_key)
        .map(|e| e.trim().to_owned())
        .filter(|e| !e.is_empty());
    let name = name?;
    let before = problems.len();
    if name.is_empty() {
        problems.push(format!("{name_key}: is blank; a person has a name"));
    }
    if let Some(email) = &email {
        if !email_allowed {
            problems.push(format!(
                "{email_key}: found {}, but a group has no email; leave it empty",
                quoted(email)
            ));
        } else if !plausible_email(email) {
            problems.push(format!(
                "{email_key}: found {}, expected an address such as riley@example.com",
                quoted(email)
            ));
        }
    }
    if problems.len() > before {
        return None;
    }
    let slug: String = name
        .to_lowercase()
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { '-' })
        .collect();
    let mut person = json!({ "id": format!("desk-{slug}"), "name": name });
    if let Some(email) = email {
        person["email"] = Value::String(email);
    }
    Some(person)
}

/// One `@` between a local part and a domain with a dot, no spaces or controls: enough
/// to catch a typo; the help desk checks addresses itself.
fn plausible_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn every_problem_is_named_at_once() {
        let ticket = json!({"status": "Waiting", "priority": "Medium"});
        let problems = read(
            &form(&[
                ("event", "ticket.assigned"),
                ("status", "Done"),
                ("priority", "Huge"),
                ("data_assignee_type", "robot"),
                ("data_assignee_name", " "),
                ("data_assignee_email", "no at sign"),
            ]),
            &ticket,
        )
        .err()
        .unwrap();
        assert_eq!(
            problems,
            [
                "status: found \"Done\", expected one of New, In Progress, Resolved, Closed",
                "priority: found \"Huge\", expected one of Low, Medium, High, Critical",
                "data_assignee_type: found \"robot\", expected `user` or `group`",
                "data_assignee_name: is blank; a person has a name",
                "data_assignee_email: found \"no at sign\", expected an address such as riley@example.com",
            ]
        );
        // The ticket's own status is kept though the contract does not name it.
        let ok = read(
            &form(&[("event", "ticket.created"), ("status", "Waiting")]),
            &ticket,
        )
        .ok()
        .unwrap();
        assert_eq!(ok.changes["status"], "Waiting");
    }

    #[test]
    fn emails() {
        for good in ["a@b.co", "riley.chen+x@example.com"] {
            assert!(plausible_email(good), "{good}");
        }
        for bad in [
            "a@b", "@b.co", "a@.co", "a@b.co.", "a b@c.de", "a@b@c.de", "a@b.c\n",
        ] {
            assert!(!plausible_email(bad), "{bad:?}");
        }
    }
}
