//! A raw event's accessors (`RawEvent::kind`, `RawEvent::ticket().subject()`, …) read
//! one member each from the payload, with their own walk over the JSON. These tests hold
//! them to the contract's types (`otai_plugin_abi::event`) and to `Event::from_json`:
//! the same value for every payload the contract accepts, the same error as `Event` for
//! a fault on the way to the member, and no opinion on members they do not read.

use std::borrow::Cow;

use otai_plugin_abi::event::sample;
use otai_plugin_abi::event::{EventKind, EventPayload};
use otai_plugin_sdk::serde_json::{self, Value, json};
use otai_plugin_sdk::{Event, RawEvent, Result};

mod support;

type Contract = EventPayload<Value>;

/// One accessor: the member it reads, how the view reads it, and the contract's answer.
struct Accessor {
    path: &'static [&'static str],
    view: fn(&RawEvent<'_>) -> Result<Option<String>>,
    contract: fn(&Contract) -> Option<String>,
}

fn some(value: Result<Cow<'_, str>>) -> Result<Option<String>> {
    value.map(|v| Some(v.into_owned()))
}

fn maybe(value: Result<Option<Cow<'_, str>>>) -> Result<Option<String>> {
    value.map(|v| v.map(Cow::into_owned))
}

/// Every accessor a raw event has, and `jira` and `absent` through `custom_field`.
const ACCESSORS: &[Accessor] = &[
    Accessor {
        path: &["event"],
        view: |e| e.kind().map(|k| Some(k.as_str().to_owned())),
        contract: |c| Some(c.event.as_str().to_owned()),
    },
    Accessor {
        path: &["occurred_at"],
        view: |e| some(e.occurred_at()),
        contract: |c| Some(c.occurred_at.clone()),
    },
    Accessor {
        path: &["ticket", "id"],
        view: |e| some(e.ticket().id()),
        contract: |c| Some(c.ticket.id.clone()),
    },
    Accessor {
        path: &["ticket", "subject"],
        view: |e| some(e.ticket().subject()),
        contract: |c| Some(c.ticket.subject.clone()),
    },
    Accessor {
        path: &["ticket", "description"],
        view: |e| some(e.ticket().description()),
        contract: |c| Some(c.ticket.description.clone()),
    },
    Accessor {
        path: &["ticket", "status"],
        view: |e| some(e.ticket().status()),
        contract: |c| Some(c.ticket.status.clone()),
    },
    Accessor {
        path: &["ticket", "priority"],
        view: |e| some(e.ticket().priority()),
        contract: |c| Some(c.ticket.priority.clone()),
    },
    Accessor {
        path: &["ticket", "category"],
        view: |e| maybe(e.ticket().category()),
        contract: |c| c.ticket.category.clone(),
    },
    Accessor {
        path: &["ticket", "type"],
        view: |e| maybe(e.ticket().ty()),
        contract: |c| c.ticket.ty.clone(),
    },
    Accessor {
        path: &["ticket", "item"],
        view: |e| maybe(e.ticket().item()),
        contract: |c| c.ticket.item.clone(),
    },
    Accessor {
        path: &["ticket", "created_at"],
        view: |e| some(e.ticket().created_at()),
        contract: |c| Some(c.ticket.created_at.clone()),
    },
    Accessor {
        path: &["ticket", "url"],
        view: |e| some(e.ticket().url()),
        contract: |c| Some(c.ticket.url.clone()),
    },
    Accessor {
        path: &["ticket", "submitter", "id"],
        view: |e| some(e.ticket().submitter().id()),
        contract: |c| Some(c.ticket.submitter.id.clone()),
    },
    Accessor {
        path: &["ticket", "submitter", "name"],
        view: |e| some(e.ticket().submitter().name()),
        contract: |c| Some(c.ticket.submitter.name.clone()),
    },
    Accessor {
        path: &["ticket", "submitter", "email"],
        view: |e| maybe(e.ticket().submitter().email()),
        contract: |c| c.ticket.submitter.email.clone(),
    },
    Accessor {
        path: &["ticket", "custom_fields", "jira"],
        view: |e| maybe(e.ticket().custom_field("jira")),
        contract: |c| c.ticket.custom_fields.get("jira").cloned(),
    },
    Accessor {
        path: &["ticket", "custom_fields", "absent"],
        view: |e| maybe(e.ticket().custom_field("absent")),
        contract: |c| c.ticket.custom_fields.get("absent").cloned(),
    },
    Accessor {
        path: &["actor", "id"],
        view: |e| some(e.actor().id()),
        contract: |c| Some(c.actor.id.clone()),
    },
    Accessor {
        path: &["actor", "name"],
        view: |e| some(e.actor().name()),
        contract: |c| Some(c.actor.name.clone()),
    },
    Accessor {
        path: &["actor", "role"],
        view: |e| some(e.actor().role()),
        contract: |c| Some(c.actor.role.clone()),
    },
];

fn sample(kind: EventKind) -> Value {
    let mut p = sample::payload_with_config(&kind, json!({ "channel": "#support" }));
    p["ticket"]["custom_fields"] = json!({ "jira": "OPS-1", "other": "x" });
    p
}

/// Every accessor answers what the contract decodes from `payload`.
fn assert_answers(payload: &Value) {
    let text = payload.to_string();
    let contract: Contract =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("contract refused {text}: {e}"));
    let event = RawEvent::new(text.as_bytes());
    for a in ACCESSORS {
        let view = (a.view)(&event).unwrap_or_else(|e| panic!("{:?} refused {text}: {e}", a.path));
        assert_eq!(view, (a.contract)(&contract), "{:?} of {text}", a.path);
    }
}

#[test]
fn every_sample_payload_answers_as_the_contract_decodes_it() {
    for kind in EventKind::ALL {
        assert_answers(&sample(kind));
    }
    assert_answers(&sample(EventKind::Other("ticket.merged".into())));

    let mut p = sample(EventKind::TicketAssigned);
    let t = &mut p["ticket"];
    t["subject"] = json!("Quote \" backslash \\ tab \t newline \n é 😀 \u{1}");
    t["category"] = Value::Null;
    t.as_object_mut().unwrap().remove("type");
    t["submitter"]["email"] = Value::Null;
    t["custom_fields"] = json!({ "jira": "OPS-\"1\"", "escaped\"name": "v\\w" });
    t["added_by_a_newer_host"] = json!({ "subject": [true, false, null, -1.5e3] });
    p["added_too"] = json!([{ "ticket": 1 }]);
    assert_answers(&p);

    let mut p = sample(EventKind::TicketCreated);
    p["ticket"].as_object_mut().unwrap().remove("custom_fields");
    assert_answers(&p);
}

#[test]
fn a_fault_on_the_way_to_a_member_is_events_error_and_others_are_not_read() {
    // Every member of every sample payload, at every depth, removed or replaced by a
    // value of each JSON type. An accessor whose path goes through the member answers
    // as the contract does if the contract accepts the change, and otherwise refuses
    // with `Event::from_json`'s very message; every other accessor still answers.
    let mut checked = 0;
    for kind in EventKind::ALL {
        let base = sample(kind);
        let base_contract: Contract = serde_json::from_value(base.clone()).unwrap();
        for change in support::changes(&base) {
            let (path, changed) = (&change.path, &change.payload);
            let text = changed.to_string();
            let contract = serde_json::from_str::<Contract>(&text);
            let decoded = Event::<Value>::from_json(text.as_bytes());
            let event = RawEvent::new(text.as_bytes());
            for a in ACCESSORS {
                let view = (a.view)(&event);
                let on_the_way = reads(a.path, path);
                match (&contract, on_the_way) {
                    (_, false) => {
                        let view = view.unwrap_or_else(|e| {
                            panic!("{:?} refused {text} for another member: {e}", a.path)
                        });
                        assert_eq!(view, (a.contract)(&base_contract), "{:?} of {text}", a.path);
                    }
                    (Ok(contract), true) => {
                        let view =
                            view.unwrap_or_else(|e| panic!("{:?} refused {text}: {e}", a.path));
                        assert_eq!(view, (a.contract)(contract), "{:?} of {text}", a.path);
                    }
                    // serde's derive also reads a struct from an array of its fields;
                    // no host writes one, and the SDK reads objects only.
                    (Err(_), true) if change.object_to_array() => {}
                    (Err(_), true) => {
                        let decoded = decoded.as_ref().expect_err("Event accepts it");
                        if path.len() < a.path.len()
                            && changed.pointer(&change.pointer()) == Some(&json!({}))
                        {
                            // An object emptied on the way: `Event` names the first of
                            // its members it misses; an accessor names the one it reads,
                            // or answers `None` for a member that may be absent.
                            let wanted = a.path[..=path.len()].join(".");
                            match view {
                                Ok(None) => {}
                                Ok(Some(v)) => panic!("{:?} found {v:?} in {text}", a.path),
                                Err(view) => assert!(
                                    view.message()
                                        .contains(&format!("missing field `{wanted}`")),
                                    "{view}"
                                ),
                            }
                        } else {
                            let view = view.expect_err(&format!("{:?} accepts {text}", a.path));
                            assert_eq!(view.message(), decoded.message(), "{:?} of {text}", a.path);
                        }
                        checked += 1;
                    }
                }
            }
        }
    }
    assert!(checked > 100, "only {checked} refusals compared");
}

/// Whether the accessor of `accessor` reads the member at `member`: a member on its
/// way, or (for a custom field) any value of `custom_fields`, which are all checked to be
/// strings as `Event` checks them.
fn reads(accessor: &[&str], member: &[String]) -> bool {
    let member: Vec<&str> = member.iter().map(String::as_str).collect();
    accessor.starts_with(&member)
        || (accessor.starts_with(&["ticket", "custom_fields"])
            && member.starts_with(&["ticket", "custom_fields"]))
}

#[test]
fn of_a_member_given_twice_the_first_is_read_and_of_a_custom_field_the_last() {
    let base = sample(EventKind::TicketCreated).to_string();
    let twice = |open: &str, member: &str| base.replacen(open, &format!("{open}{member},"), 1);
    // `Event` refuses these; an accessor stops at the first (docs of `RawEvent::kind`).
    let subject_twice = twice(r#""ticket":{"#, r#""subject":"first""#);
    assert!(Event::<Value>::from_json(subject_twice.as_bytes()).is_err());
    let event = RawEvent::new(subject_twice.as_bytes());
    assert_eq!(event.ticket().subject().unwrap(), "first");
    let ticket_twice = twice("{", r#""ticket":{"id":"first"}"#);
    assert!(Event::<Value>::from_json(ticket_twice.as_bytes()).is_err());
    let event = RawEvent::new(ticket_twice.as_bytes());
    assert_eq!(event.ticket().id().unwrap(), "first");
    assert_eq!(
        event.ticket().subject().unwrap_err().message(),
        "invalid event payload: missing field `ticket.subject` at byte 24"
    );

    // A custom field's name may repeat; the last value is the one, as in the contract.
    let mut p = sample(EventKind::TicketCreated);
    p["ticket"]["custom_fields"] = json!("FIELDS");
    let text = p
        .to_string()
        .replace(r#""FIELDS""#, r#"{"k": "1", "j": "x", "k": "2"}"#);
    let contract: Contract = serde_json::from_str(&text).unwrap();
    let view = RawEvent::new(text.as_bytes())
        .ticket()
        .custom_field("k")
        .unwrap();
    assert_eq!(
        view.as_deref(),
        contract.ticket.custom_fields.get("k").map(String::as_str)
    );
    assert_eq!(view.as_deref(), Some("2"));
}

/// Where the member at `path` is in `text` (a sample with sorted keys and no
/// assignee, so that the first key of each name on the way is the one): the byte its key
/// starts at and the byte after its value. For a custom field, the inside of the whole
/// `custom_fields` object, all of which its accessor reads.
fn span(text: &str, path: &[&str]) -> (usize, usize) {
    let key = |path: &[&str]| {
        let mut at = 0;
        for name in path {
            at += text[at..]
                .find(&format!("\"{name}\":"))
                .expect("the member is in the text");
        }
        at + path.last().unwrap().len() + 3
    };
    if path.starts_with(&["ticket", "custom_fields"]) {
        let map = key(&path[..2]);
        return (map + 1, map + text[map..].find('}').unwrap() + 1);
    }
    let value = key(path);
    let start = value - path.last().unwrap().len() - 3;
    let end = if text[value..].starts_with("null") {
        value + 4
    } else {
        value + 1 + text[value + 1..].find('"').unwrap() + 1
    };
    (start, end)
}

#[test]
fn the_json_before_a_member_is_checked_and_after_it_is_not_read() {
    let good = sample(EventKind::TicketCreated).to_string();
    let contract: Contract = serde_json::from_str(&good).unwrap();
    assert!(contract.ticket.assignee.is_none());
    let mut compared = 0;
    for a in ACCESSORS {
        let (start, end) = span(&good, a.path);
        // A broken member just before the accessor's: `Event`'s error, at the same byte.
        let before = format!("{}\"x\":tru,{}", &good[..start], &good[start..]);
        let view = (a.view)(&RawEvent::new(before.as_bytes()))
            .expect_err(&format!("{:?} accepts {before}", a.path));
        let decoded = Event::<Value>::from_json(before.as_bytes()).unwrap_err();
        assert_eq!(
            view.message(),
            decoded.message(),
            "{:?} of {before}",
            a.path
        );
        // Broken just after it, or cut off there: not read.
        for after in [
            format!("{},\"x\":tru{}", &good[..end], &good[end..]),
            good[..end].to_owned(),
        ] {
            assert!(Event::<Value>::from_json(after.as_bytes()).is_err());
            let view = (a.view)(&RawEvent::new(after.as_bytes()))
                .unwrap_or_else(|e| panic!("{:?} refused {after}: {e}", a.path));
            assert_eq!(view, (a.contract)(&contract), "{:?} of {after}", a.path);
        }
        compared += 1;
    }
    assert_eq!(compared, ACCESSORS.len());

    let mut latin1 = good.into_bytes();
    let at = latin1.len() - 10;
    latin1[at] = 0xE9;
    let message = RawEvent::new(&latin1).ticket().id().unwrap_err();
    assert_eq!(
        message.message(),
        format!("invalid event payload: not UTF-8 at byte {at}")
    );
    assert_eq!(
        message.message(),
        Event::<Value>::from_json(&latin1).unwrap_err().message()
    );
}

#[test]
fn strings_without_escapes_borrow_from_the_payload() {
    let text = sample(EventKind::TicketCreated).to_string();
    let event = RawEvent::new(text.as_bytes());
    let inside = |s: &Cow<'_, str>| {
        matches!(s, Cow::Borrowed(_)) && text.as_bytes().as_ptr_range().contains(&s.as_ptr())
    };
    assert!(inside(&event.ticket().description().unwrap()));
    assert!(inside(&event.ticket().submitter().name().unwrap()));
    assert!(inside(&event.actor().role().unwrap()));
}
