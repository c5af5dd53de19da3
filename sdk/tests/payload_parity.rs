//! The SDK decodes event payloads with its own reader (borrowed strings, no JSON library
//! in the plugin); hosts and the contract use `otai_plugin_abi::event`'s serde types.
//! These tests hold the two to the same answers: the same parts for every payload the
//! contract accepts, a refusal for every payload it refuses.

use otai_plugin_abi::event::sample;
use otai_plugin_abi::event::{EventKind, EventPayload};
use otai_plugin_sdk::serde_json::{self, Value, json};
use otai_plugin_sdk::{Event, NoConfig};

mod support;

/// Decodes `payload` both ways and compares every part.
fn assert_same(payload: &Value) {
    let text = payload.to_string();
    let contract: EventPayload<Value> =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("contract refused {text}: {e}"));
    let sdk = Event::<Value>::from_json(text.as_bytes())
        .unwrap_or_else(|e| panic!("SDK refused {text}: {e}"));
    assert_eq!(sdk.kind, contract.event, "{text}");
    assert_eq!(sdk.occurred_at, contract.occurred_at, "{text}");
    assert_eq!(sdk.config, contract.config, "{text}");
    assert_eq!(sdk.ticket.into_owned(), contract.ticket, "{text}");
    assert_eq!(sdk.actor.into_owned(), contract.actor, "{text}");
    assert_eq!(sdk.data.into_owned(), contract.data, "{text}");
}

fn assert_both_refuse(payload: &str) -> String {
    assert!(
        serde_json::from_str::<EventPayload<Value>>(payload).is_err(),
        "the contract accepts {payload}"
    );
    match Event::<Value>::from_json(payload.as_bytes()) {
        Ok(e) => panic!("the SDK accepts {payload}: {e:?}"),
        Err(e) => e.message().to_owned(),
    }
}

fn sample(kind: EventKind) -> Value {
    sample::payload_with_config(&kind, json!({ "channel": "#support", "n": [1, 2.5, null] }))
}

#[test]
fn every_sample_payload_decodes_to_the_contract_types() {
    for kind in EventKind::ALL {
        assert_same(&sample(kind));
    }
    assert_same(&sample(EventKind::Other("ticket.merged".into())));
}

#[test]
fn optional_members_escapes_and_unknown_members_decode_alike() {
    let mut p = sample(EventKind::TicketAssigned);
    let t = &mut p["ticket"];
    t["subject"] = json!("Quote \" backslash \\ tab \t newline \n é 😀 \u{1}");
    t["category"] = Value::Null;
    t.as_object_mut().unwrap().remove("type");
    t["assignee"] = json!({ "type": "group", "id": "g1", "name": "Ops", "email": null });
    t["submitter"]["email"] = Value::Null;
    t["custom_fields"] = json!({ "jira": "OPS-1", "escaped\"name": "v\\w" });
    t["added_by_a_newer_host"] = json!({ "nested": [true, false, null, -1.5e3] });
    p["added_too"] = json!([]);
    assert_same(&p);

    // Members a newer host may add, inside every object the event has.
    let extra = json!({ "x": [1, {"y": "z"}] });
    for kind in EventKind::ALL {
        let mut p = sample(kind);
        p["actor"]["added"] = extra.clone();
        p["ticket"]["submitter"]["added"] = extra.clone();
        p["ticket"]["assignee"] = json!({ "type": "user", "id": "u", "name": "U", "added": 1 });
        p["data"]["added"] = extra.clone();
        for nested in ["assignee", "author"] {
            if let Some(object) = p["data"].get_mut(nested).and_then(Value::as_object_mut) {
                object.insert("added".into(), extra.clone());
            }
        }
        assert_same(&p);
    }

    // `data` may be absent for events without data, and members may come in any order.
    let mut p = sample(EventKind::TicketClosed);
    p.as_object_mut().unwrap().remove("data");
    let reordered: serde_json::Map<String, Value> =
        p.as_object().unwrap().clone().into_iter().rev().collect();
    assert_same(&Value::Object(reordered));
}

/// Both decoders accept the payload, or both refuse it.
fn assert_same_verdict(payload: &Value) {
    let text = payload.to_string();
    let contract = serde_json::from_str::<EventPayload<Value>>(&text);
    match Event::<Value>::from_json(text.as_bytes()) {
        Ok(_) => {
            assert!(contract.is_ok(), "only the SDK accepts {text}");
            assert_same(payload);
        }
        Err(e) => assert!(contract.is_err(), "only the contract accepts {text}: {e}"),
    }
}

#[test]
fn each_member_removed_or_replaced_gets_the_same_verdict() {
    // Every member of every sample payload, at every depth, removed or replaced by a
    // value of each JSON type: which members an event needs (per kind, for `data`),
    // which may be `null`, and which types each takes are decided alike.
    for kind in EventKind::ALL {
        for change in support::changes(&sample(kind)) {
            // The one known difference (`Change::object_to_array`).
            if !change.object_to_array() {
                assert_same_verdict(&change.payload);
            }
        }
    }
}

#[test]
fn custom_fields_are_read_when_asked_for() {
    let mut p = sample(EventKind::TicketCreated);
    // Built as text: `serde_json::Value` would sort the names.
    p["ticket"]["custom_fields"] = json!("FIELDS");
    let text = p
        .to_string()
        .replace(r#""FIELDS""#, r#"{"b": "2", "a": "1\u00e9\""}"#);
    let event = Event::<NoConfig>::from_json(text.as_bytes()).unwrap();
    let fields = &event.ticket.custom_fields;
    assert_eq!(fields.len(), 2);
    assert_eq!(fields.get("a").as_deref(), Some("1é\""));
    assert_eq!(fields.get("c"), None);
    let names: Vec<_> = fields.iter().map(|(k, _)| k.into_owned()).collect();
    assert_eq!(names, ["b", "a"], "the payload's order");
    assert_eq!(format!("{fields:?}"), r#"{"b": "2", "a": "1é\""}"#);

    p["ticket"].as_object_mut().unwrap().remove("custom_fields");
    let text = p.to_string();
    let event = Event::<NoConfig>::from_json(text.as_bytes()).unwrap();
    assert!(event.ticket.custom_fields.is_empty());
    assert_eq!(event.ticket.custom_fields.iter().count(), 0);
}

#[test]
fn strings_without_escapes_borrow_from_the_payload() {
    let text = sample(EventKind::TicketCreated).to_string();
    let event = Event::<NoConfig>::from_json(text.as_bytes()).unwrap();
    let inside = |s: &str| text.as_bytes().as_ptr_range().contains(&s.as_ptr());
    assert!(inside(&event.ticket.description));
    assert!(inside(&event.ticket.submitter.name));
    assert!(inside(&event.actor.role));
}

#[test]
fn payloads_the_contract_refuses_are_refused_with_the_member_named() {
    let base = sample(EventKind::TicketStatusChanged);
    let with = |edit: &dyn Fn(&mut Value)| {
        let mut p = base.clone();
        edit(&mut p);
        p.to_string()
    };
    let cases: [(String, &str); 10] = [
        (
            with(&|p| drop(p["ticket"].as_object_mut().unwrap().remove("subject"))),
            "missing field `ticket.subject`",
        ),
        (
            with(&|p| p["ticket"]["subject"] = Value::Null),
            "ticket: expected a string",
        ),
        (
            with(&|p| p["ticket"]["submitter"]["id"] = json!(7)),
            "ticket.submitter: expected a string",
        ),
        (
            with(&|p| drop(p["actor"].as_object_mut().unwrap().remove("role"))),
            "missing field `actor.role`",
        ),
        (
            with(&|p| drop(p.as_object_mut().unwrap().remove("config"))),
            "missing field `config`",
        ),
        (
            with(&|p| drop(p["data"].as_object_mut().unwrap().remove("to_status"))),
            "`ticket.status_changed` event without `data.to_status`",
        ),
        (
            with(&|p| p["ticket"]["custom_fields"] = json!({ "n": 1 })),
            "ticket.custom_fields: expected a string",
        ),
        (
            with(&|p| p["ticket"]["assignee"] = json!({ "type": "team", "id": "1", "name": "x" })),
            "ticket.assignee.type: unknown assignee type `team`, expected `user` or `group`",
        ),
        (
            with(&|p| p["data"]["is_internal"] = json!("yes")),
            "data.is_internal: expected a boolean",
        ),
        (
            r#"["not", "an", "object"]"#.to_owned(),
            "invalid event payload: expected an object at byte 0",
        ),
    ];
    for (payload, expected) in cases {
        let message = assert_both_refuse(&payload);
        assert!(
            message.starts_with("invalid event payload: ") && message.contains(expected),
            "{message}\n  expected it to contain: {expected}"
        );
        assert!(message.contains(" at byte "), "{message}");
    }
    for broken in [
        r#"{"event": "ticket.created""#,
        r#"{"event": "ticket.created"} trailing"#,
        r#"{"event": "ticket.created",}"#,
    ] {
        assert_both_refuse(broken);
    }
}

#[test]
fn a_member_written_twice_is_refused_as_the_contract_refuses_it() {
    // serde_json writes an object's members once: the second one is spliced into the
    // text, right after the first member of the object that holds it.
    let base = sample(EventKind::TicketReplyAdded).to_string();
    let twice = |open: &str, member: &str| base.replacen(open, &format!("{open}{member},"), 1);
    let cases = [
        (
            twice("{", r#""event":"ticket.closed""#),
            "duplicate field `event`",
        ),
        (
            twice(r#""ticket":{"#, r#""subject":"again""#),
            "duplicate field `ticket.subject`",
        ),
        (
            twice(r#""ticket":{"#, r#""category":null"#),
            "duplicate field `ticket.category`",
        ),
        (
            twice(r#""submitter":{"#, r#""email":"x@example.com""#),
            "duplicate field `ticket.submitter.email`",
        ),
        (
            twice(r#""data":{"#, r#""author":null"#),
            "duplicate field `data.author`",
        ),
        (twice("{", r#""config":{}"#), "duplicate field `config`"),
        (
            twice(r#""ticket":{"#, r#""assignee":null"#),
            "duplicate field `ticket.assignee`",
        ),
        (
            twice(r#""data":{"#, r#""is_internal":false"#),
            "duplicate field `data.is_internal`",
        ),
    ];
    for (payload, expected) in cases {
        let message = assert_both_refuse(&payload);
        assert!(
            message.contains(expected),
            "{message}\n  expected: {expected}"
        );
    }
    // Unknown members may repeat: neither side reads them; nor may a custom field's
    // name, which the contract's map keeps the last value of.
    let repeated = twice("{", r#""later":1,"later":2"#);
    assert!(serde_json::from_str::<EventPayload<Value>>(&repeated).is_ok());
    assert!(Event::<Value>::from_json(repeated.as_bytes()).is_ok());
    let mut p = sample(EventKind::TicketCreated);
    p["ticket"]["custom_fields"] = json!("FIELDS");
    let text = p
        .to_string()
        .replace(r#""FIELDS""#, r#"{"k": "1", "j": "x", "k": "2"}"#);
    let contract: EventPayload<Value> = serde_json::from_str(&text).unwrap();
    let sdk = Event::<Value>::from_json(text.as_bytes()).unwrap();
    assert_eq!(sdk.ticket.custom_fields.get("k").as_deref(), Some("2"));
    assert_eq!(sdk.ticket.into_owned(), contract.ticket);
}

#[test]
fn config_errors_name_the_field_and_config_strings_may_borrow() {
    #[derive(Debug, otai_plugin_sdk::serde::Deserialize)]
    #[serde(crate = "otai_plugin_sdk::serde")]
    struct Config<'a> {
        webhook_url: &'a str,
        #[serde(default)]
        retries: u8,
        #[serde(default)]
        mode: Option<Mode>,
    }
    #[derive(Debug, PartialEq, otai_plugin_sdk::serde::Deserialize)]
    #[serde(crate = "otai_plugin_sdk::serde", rename_all = "lowercase")]
    enum Mode {
        Quiet,
        Loud,
    }
    let payload =
        |config: Value| sample::payload_with_config(&EventKind::TicketCreated, config).to_string();

    let ok = payload(json!({ "webhook_url": "https://h/x", "retries": 3, "mode": "loud" }));
    let event = Event::<Config<'_>>::from_json(ok.as_bytes()).unwrap();
    assert_eq!(event.config.webhook_url, "https://h/x");
    assert_eq!(
        (event.config.retries, event.config.mode),
        (3, Some(Mode::Loud))
    );

    for (config, expected) in [
        (json!({}), "config: missing field `webhook_url`"),
        (
            json!({ "webhook_url": 5 }),
            "config: webhook_url: invalid type: integer `5`, expected a borrowed string",
        ),
        (
            json!({ "webhook_url": "u", "retries": 300 }),
            "config: retries: invalid value: integer `300`, expected u8",
        ),
        (
            json!({ "webhook_url": "u", "retries": 1.5 }),
            "config: retries: invalid type: floating point number, expected u8",
        ),
        (
            json!({ "webhook_url": "u", "mode": "silent" }),
            "config: mode: unknown variant `silent`, expected `quiet` or `loud`",
        ),
        (
            json!([1]),
            "config: invalid type: sequence, expected struct Config",
        ),
    ] {
        let text = payload(config);
        let err = Event::<Config<'_>>::from_json(text.as_bytes()).unwrap_err();
        assert!(
            err.message()
                .starts_with(&format!("invalid event payload: {expected} at byte ")),
            "{err}\n  expected: {expected}"
        );
    }
}
