//! Compares a driver's transcript with a case's expected result.

use serde_json::Value;

/// Whether `actual` matches `expected`: equal member for member, with the `$json` and
/// `$any` matchers of `conformance/README.md`, and a refusal's kinds compared as a set.
pub(crate) fn matches(expected: &Value, actual: &Value) -> bool {
    value_matches(&normalize(expected), &normalize(actual))
}

/// The form in which transcripts are compared and shown: a refusal's kinds sorted
/// and each listed once (the README lets a host list them in any order).
pub(crate) fn normalize(transcript: &Value) -> Value {
    let mut out = transcript.clone();
    if let Some(Value::Array(kinds)) = out.pointer_mut("/load/refused") {
        kinds.sort_by_key(Value::to_string);
        kinds.dedup();
    }
    out
}

fn value_matches(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        // What a host words in its own way (an error body's `message`): any value of
        // the type named.
        (Value::Object(e), actual) if e.len() == 1 && e.contains_key("$any") => {
            e["$any"].as_str() == Some(json_type(actual))
        }
        (Value::Object(e), Value::String(text)) if e.len() == 1 && e.contains_key("$json") => {
            serde_json::from_str::<Value>(text)
                .is_ok_and(|parsed| value_matches(&e["$json"], &parsed))
        }
        (Value::Object(e), Value::Object(a)) => {
            e.len() == a.len()
                && e.iter()
                    .all(|(k, ev)| a.get(k).is_some_and(|av| value_matches(ev, av)))
        }
        (Value::Array(e), Value::Array(a)) => {
            e.len() == a.len() && e.iter().zip(a).all(|(ev, av)| value_matches(ev, av))
        }
        _ => expected == actual,
    }
}

/// Where `actual` departs from `expected`: the paths of the members that differ, with
/// array indices left out (`calls[].error`), so that failures of many cases can be
/// grouped by the rule they share rather than by where in the transcript it shows. A
/// member only one side has is named by itself; a list of another length by the list;
/// a `$json` string that parses is followed inside (`calls[].message.ohd_error.kind`).
pub(crate) fn differing_members(expected: &Value, actual: &Value) -> Vec<String> {
    let mut out = std::collections::BTreeSet::new();
    differ(&normalize(expected), &normalize(actual), "", &mut out);
    out.into_iter().collect()
}

fn differ(
    expected: &Value,
    actual: &Value,
    path: &str,
    out: &mut std::collections::BTreeSet<String>,
) {
    let here = || {
        if path.is_empty() {
            "the transcript".to_owned()
        } else {
            path.to_owned()
        }
    };
    let member = |k: &str| {
        if path.is_empty() {
            k.to_owned()
        } else {
            format!("{path}.{k}")
        }
    };
    match (expected, actual) {
        (Value::Object(e), Value::String(text)) if e.len() == 1 && e.contains_key("$json") => {
            match serde_json::from_str::<Value>(text) {
                Ok(parsed) => differ(&e["$json"], &parsed, path, out),
                Err(_) => {
                    out.insert(here());
                }
            }
        }
        (Value::Object(e), Value::Object(a)) if !(e.len() == 1 && e.contains_key("$any")) => {
            for (k, ev) in e {
                match a.get(k) {
                    Some(av) => differ(ev, av, &member(k), out),
                    None => {
                        out.insert(member(k));
                    }
                }
            }
            for k in a.keys().filter(|k| !e.contains_key(*k)) {
                out.insert(member(k));
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            let items = format!("{path}[]");
            if e.len() == a.len() {
                for (ev, av) in e.iter().zip(a) {
                    differ(ev, av, &items, out);
                }
            } else {
                // Calls added or missing shift every call after them: one cause.
                out.insert(format!("{} (its length)", here()));
            }
        }
        _ => {
            if !value_matches(expected, actual) {
                out.insert(here());
            }
        }
    }
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// A line diff of the two, pretty-printed, for a failed case. Long strings are
/// shortened so that a 16 KiB log line does not fill the terminal.
pub(crate) fn diff(expected: &Value, actual: &Value) -> String {
    let show =
        |v: &Value| serde_json::to_string_pretty(&shorten(&normalize(v))).unwrap_or_default();
    let (expected, actual) = (show(expected), show(actual));
    let diff = similar::TextDiff::from_lines(&expected, &actual);
    diff.unified_diff()
        .context_radius(3)
        .header("expected", "actual")
        .to_string()
}

fn shorten(value: &Value) -> Value {
    const KEEP: usize = 200;
    match value {
        Value::String(s) if s.len() > KEEP * 2 => {
            let mut head = KEEP;
            while !s.is_char_boundary(head) {
                head -= 1;
            }
            let mut tail = s.len() - KEEP;
            while !s.is_char_boundary(tail) {
                tail += 1;
            }
            Value::String(format!(
                "{}…[{} bytes in all, a digest {:016x}]…{}",
                &s[..head],
                s.len(),
                fnv1a(s.as_bytes()),
                &s[tail..]
            ))
        }
        Value::Array(items) => Value::Array(items.iter().map(shorten).collect()),
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), shorten(v))).collect())
        }
        other => other.clone(),
    }
}

/// A digest that tells two long strings apart in a diff.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn equal_transcripts_match_and_any_difference_does_not() {
        let expected = json!({"outcome": "ok", "calls": [{"fn": "ohd_log", "level": "info", "message": "hi"}]});
        assert!(matches(&expected, &expected.clone()));
        for actual in [
            json!({"outcome": "trapped", "calls": [{"fn": "ohd_log", "level": "info", "message": "hi"}]}),
            json!({"outcome": "ok", "calls": []}),
            json!({"outcome": "ok", "calls": [{"fn": "ohd_log", "level": "info", "message": "hi", "x": 1}]}),
            json!({"outcome": "ok", "calls": [{"fn": "ohd_log", "level": "info"}]}),
            json!({"outcome": "ok"}),
        ] {
            assert!(!matches(&expected, &actual), "{actual}");
        }
    }

    #[test]
    fn json_matches_a_string_holding_equal_json_only() {
        let expected = json!({"message": {"$json": {"a": 1, "b": [true]}}});
        assert!(matches(
            &expected,
            &json!({"message": "{\"b\":[true], \"a\":1}"})
        ));
        assert!(!matches(&expected, &json!({"message": "{\"a\":1}"})));
        assert!(!matches(&expected, &json!({"message": "not json"})));
        assert!(!matches(
            &expected,
            &json!({"message": {"a": 1, "b": [true]}})
        ));
    }

    #[test]
    fn any_matches_every_value_of_its_type_only() {
        let expected = json!({"message": {"$json": {"ohd_error": {"kind": "network", "message": {"$any": "string"}}}}});
        for message in ["", "connection refused"] {
            let body = json!({"ohd_error": {"kind": "network", "message": message}}).to_string();
            assert!(
                matches(&expected, &json!({ "message": body })),
                "{message:?}"
            );
        }
        for body in [
            r#"{"ohd_error":{"kind":"network","message":7}}"#,
            r#"{"ohd_error":{"kind":"network"}}"#,
            r#"{"ohd_error":{"kind":"timeout","message":"x"}}"#,
        ] {
            assert!(!matches(&expected, &json!({ "message": body })), "{body}");
        }
        assert!(matches(&json!({"$any": "number"}), &json!(3)));
        assert!(!matches(&json!({"$any": "number"}), &json!("3")));
    }

    #[test]
    fn differing_members_name_the_rule_not_the_index() {
        let expected = json!({"outcome": "ok", "calls": [
            {"fn": "ohd_http_request", "status": 403, "error": {"kind": "host_not_allowed", "host": "a"}},
            {"fn": "ohd_log", "level": "warn", "message": {"$json": {"ohd_error": {"kind": "host_not_allowed", "message": {"$any": "string"}}}}},
            {"fn": "ohd_http_request", "status": 403, "error": {"kind": "host_not_allowed", "host": "b"}}
        ]});
        let actual = json!({"outcome": "ok", "calls": [
            {"fn": "ohd_http_request", "status": 403, "error": {"kind": "network", "host": "a"}},
            {"fn": "ohd_log", "level": "warn", "message": "{\"ohd_error\":{\"kind\":\"network\",\"message\":\"m\"}}"},
            {"fn": "ohd_http_request", "status": 403, "error": {"kind": "network", "host": "b"}, "sent": {}}
        ]});
        assert_eq!(
            differing_members(&expected, &actual),
            [
                "calls[].error.kind",
                "calls[].message.ohd_error.kind",
                "calls[].sent"
            ]
        );
        assert_eq!(
            differing_members(&json!({"calls": [1]}), &json!({"calls": [1, 2]})),
            ["calls (its length)"]
        );
        assert_eq!(
            differing_members(
                &json!({"load": "loaded"}),
                &json!({"load": {"refused": []}})
            ),
            ["load"]
        );
        let right = json!({"outcome": "ok", "calls": [
            {"fn": "ohd_http_request", "status": 403, "error": {"kind": "host_not_allowed", "host": "a"}},
            {"fn": "ohd_log", "level": "warn", "message": "{\"ohd_error\":{\"kind\":\"host_not_allowed\",\"message\":\"m\"}}"},
            {"fn": "ohd_http_request", "status": 403, "error": {"kind": "host_not_allowed", "host": "b"}}
        ]});
        assert!(matches(&expected, &right));
        assert!(differing_members(&expected, &right).is_empty());
    }

    #[test]
    fn refused_kinds_are_a_set() {
        let expected = json!({"load": {"refused": ["manifest", "foreign_import"]}});
        assert!(matches(
            &expected,
            &json!({"load": {"refused": ["foreign_import", "manifest", "manifest"]}})
        ));
        assert!(!matches(
            &expected,
            &json!({"load": {"refused": ["manifest"]}})
        ));
    }

    #[test]
    fn a_diff_shows_what_differs_and_shortens_long_strings() {
        let long = "x".repeat(20_000);
        let diff = diff(&json!({"a": long, "b": 1}), &json!({"a": long, "b": 2}));
        assert!(
            diff.contains("-  \"b\": 1") && diff.contains("+  \"b\": 2"),
            "{diff}"
        );
        assert!(diff.len() < 2_000, "{}", diff.len());
    }
}
