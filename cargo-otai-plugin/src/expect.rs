//! Fixture expectations checked against a report: every mismatch, each one line (or a
//! short list) naming the field, what was expected and what the plugin did.

use serde_json::Value;

use crate::fixture::{Expect, OutcomeName, toml_to_json};

/// Checks `report` (a delivery report as JSON, secrets already redacted) against the
/// expectations. `redact` applies the report's redaction to an expected string, so a
/// fixture can name a secret webhook URL as it is. Returns one message per mismatch.
pub fn check(expect: &Expect, report: &Value, redact: &dyn Fn(&str) -> String) -> Vec<String> {
    let mut failures = Vec::new();
    let outcome = &report["outcome"];
    let status = outcome["status"].as_str().unwrap_or("?");
    let wanted = expect.outcome.unwrap_or(OutcomeName::Ok);
    if status != wanted.as_str() {
        let detail = outcome_text(outcome);
        failures.push(format!(
            "outcome: expected `{}`, got `{status}`{detail}",
            wanted.as_str()
        ));
    }
    if let Some(text) = &expect.message_contains {
        let all = outcome_text(outcome);
        if !all.contains(text.as_str()) {
            failures.push(format!(
                "outcome: expected a message containing {text:?}, got `{status}`{all}"
            ));
        }
    }

    let requests = report["http"].as_array().cloned().unwrap_or_default();
    if let Some(expected) = &expect.http {
        if expected.len() != requests.len() {
            failures.push(format!(
                "http: expected {} request(s), the plugin made {}{}",
                expected.len(),
                requests.len(),
                list(requests.iter().map(|r| format!(
                    "{} {}",
                    r["request"]["method"].as_str().unwrap_or("?"),
                    r["request"]["url"].as_str().unwrap_or("?")
                )))
            ));
        }
        for (i, (want, got)) in expected.iter().zip(&requests).enumerate() {
            let request = &got["request"];
            let body = request["body"].as_str().unwrap_or("");
            field(
                &mut failures,
                format!("http[{i}].method"),
                want.method.as_deref(),
                request["method"].as_str(),
            );
            if let Some(url) = &want.url {
                let url = redact(url);
                field(
                    &mut failures,
                    format!("http[{i}].url"),
                    Some(&url),
                    request["url"].as_str(),
                );
            }
            if let Some(want_body) = &want.body {
                field(
                    &mut failures,
                    format!("http[{i}].body"),
                    Some(&redact(want_body)),
                    Some(body),
                );
            }
            if let Some(text) = &want.body_contains
                && !body.contains(redact(text).as_str())
            {
                failures.push(format!(
                    "http[{i}].body: expected it to contain {text:?}, got {body:?}"
                ));
            }
            if let Some(json) = &want.body_json {
                let want_json = redact_json(&toml_to_json(json), redact);
                match serde_json::from_str::<Value>(body) {
                    Ok(got_json) if got_json == want_json => {}
                    Ok(got_json) => failures.push(format!(
                        "http[{i}].body: expected JSON {want_json}, got {got_json}"
                    )),
                    Err(_) => failures.push(format!(
                        "http[{i}].body: expected JSON {want_json}, got non-JSON {body:?}"
                    )),
                }
            }
            if let Some(blocked) = want.blocked
                && got["blocked"].as_bool() != Some(blocked)
            {
                failures.push(format!(
                    "http[{i}].blocked: expected {blocked}, got {}",
                    got["blocked"]
                ));
            }
        }
    }

    let replies = report["replies"].as_array().cloned().unwrap_or_default();
    if let Some(expected) = &expect.replies {
        if expected.len() != replies.len() {
            failures.push(format!(
                "replies: expected {}, the plugin added {}{}",
                expected.len(),
                replies.len(),
                list(
                    replies
                        .iter()
                        .map(|r| format!("{:?}", r["body"].as_str().unwrap_or("")))
                )
            ));
        }
        for (i, (want, got)) in expected.iter().zip(&replies).enumerate() {
            let body = got["body"].as_str().unwrap_or("");
            if let Some(exact) = &want.body {
                field(
                    &mut failures,
                    format!("replies[{i}].body"),
                    Some(&redact(exact)),
                    Some(body),
                );
            }
            if let Some(text) = &want.body_contains
                && !body.contains(redact(text).as_str())
            {
                failures.push(format!(
                    "replies[{i}].body: expected it to contain {text:?}, got {body:?}"
                ));
            }
            if let Some(internal) = want.is_internal
                && got["is_internal"].as_bool() != Some(internal)
            {
                failures.push(format!(
                    "replies[{i}].is_internal: expected {internal}, got {}",
                    got["is_internal"]
                ));
            }
        }
    }

    if let Some(fields) = &expect.custom_fields {
        let set = report["custom_fields"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for (key, value) in fields {
            let last = set
                .iter()
                .rev()
                .find(|f| f["key"].as_str() == Some(key.as_str()));
            match last.and_then(|f| f["value"].as_str()) {
                Some(got) if got == redact(value) => {}
                Some(got) => failures.push(format!(
                    "custom_fields.{key}: expected {value:?}, got {got:?}"
                )),
                None => failures.push(format!(
                    "custom_fields.{key}: expected {value:?}, the plugin did not set it"
                )),
            }
        }
    }

    let logs = report["logs"].as_array().cloned().unwrap_or_default();
    for want in &expect.logs {
        let found = logs.iter().any(|line| {
            want.level
                .as_deref()
                .is_none_or(|l| line["level"].as_str() == Some(l))
                && line["message"]
                    .as_str()
                    .is_some_and(|m| m.contains(redact(&want.contains).as_str()))
        });
        if !found {
            let level = want
                .level
                .as_deref()
                .map(|l| format!(" at level `{l}`"))
                .unwrap_or_default();
            let logged = list(logs.iter().map(|l| {
                format!(
                    "{}: {}",
                    l["level"].as_str().unwrap_or("?"),
                    l["message"].as_str().unwrap_or("")
                )
            }));
            let logged = if logged.is_empty() {
                " nothing".to_owned()
            } else {
                logged
            };
            failures.push(format!(
                "logs: expected a line{level} containing {:?}; the plugin logged{logged}",
                want.contains
            ));
        }
    }

    if let Some(url) = &expect.panel_url {
        field(
            &mut failures,
            "panel_url".to_owned(),
            Some(&redact(url)),
            report["url"].as_str(),
        );
    }
    failures
}

fn field(failures: &mut Vec<String>, what: String, want: Option<&str>, got: Option<&str>) {
    if let Some(want) = want
        && got != Some(want)
    {
        failures.push(format!(
            "{what}: expected {want:?}, got {}",
            got.map_or("nothing".to_owned(), |g| format!("{g:?}"))
        ));
    }
}

fn list(items: impl Iterator<Item = String>) -> String {
    let items: Vec<String> = items.collect();
    if items.is_empty() {
        String::new()
    } else {
        format!(":\n      {}", items.join("\n      "))
    }
}

fn outcome_text(outcome: &Value) -> String {
    let parts: Vec<&str> = ["message", "panic", "reason"]
        .iter()
        .filter_map(|k| outcome[*k].as_str())
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join("; "))
    }
}

fn redact_json(value: &Value, redact: &dyn Fn(&str) -> String) -> Value {
    match value {
        Value::String(s) => Value::String(redact(s)),
        Value::Array(a) => Value::Array(a.iter().map(|v| redact_json(v, redact)).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| (k.clone(), redact_json(v, redact)))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn mismatches_are_each_reported() {
        let expect: Expect = toml::from_str(
            "outcome = \"ok\"\n[[http]]\nmethod = \"POST\"\nurl = \"https://h.example/secret\"\n\
             body_json = { text = \"hi\" }\n[[logs]]\nlevel = \"info\"\ncontains = \"posted\"\n",
        )
        .unwrap();
        let report = json!({
            "outcome": { "status": "trapped", "message": "unreachable", "panic": "boom at src/lib.rs:3:5" },
            "logs": [{ "level": "error", "message": "boom" }],
            "http": [{ "request": { "method": "POST", "url": "[redacted]", "body": "{\"text\":\"hello\"}" } }],
        });
        let redact = |s: &str| s.replace("https://h.example/secret", "[redacted]");
        let failures = check(&expect, &report, &redact);
        assert_eq!(failures.len(), 3, "{failures:#?}");
        assert!(failures[0].starts_with(
            "outcome: expected `ok`, got `trapped` (unreachable; boom at src/lib.rs:3:5)"
        ));
        assert!(failures[1].contains("expected JSON {\"text\":\"hi\"}, got {\"text\":\"hello\"}"));
        assert!(failures[2].contains("expected a line at level `info` containing \"posted\""));
    }
}
