//! Fixture expectations checked against a report: every mismatch, each one line (or a
//! short list) naming the field, what was expected and what the plugin did.

use std::collections::BTreeMap;

use otai_plugin_host::{CustomFieldSet, HttpExchange, LogLine, Outcome, Reply};
use serde_json::Value;

use crate::fixture::{Expect, ExpectHttp, ExpectLog, ExpectReply, OutcomeName};
use crate::harness::Report;
use crate::values::toml_to_json;

/// Checks `report` (secrets already redacted) against the expectations. `redact`
/// applies the report's redaction to an expected string, so a fixture can name a secret
/// webhook URL as it is. Returns one message per mismatch.
pub(crate) fn check(
    expect: &Expect,
    report: &Report,
    redact: &dyn Fn(&str) -> String,
) -> Vec<String> {
    let mut failures = Vec::new();
    outcome(&mut failures, expect.outcome, report.outcome());
    if let Some(text) = &expect.message_contains {
        message_contains(&mut failures, text, report.outcome());
    }
    if let Some(expected) = &expect.http {
        http(&mut failures, expected, report.http(), redact);
    }
    if let Some(expected) = &expect.replies {
        replies(&mut failures, expected, report.replies(), redact);
    }
    if let Some(fields) = &expect.custom_fields {
        custom_fields(&mut failures, fields, report.custom_fields(), redact);
    }
    if expect.custom_fields_exact {
        custom_fields_exact(
            &mut failures,
            expect.custom_fields.as_ref(),
            report.custom_fields(),
        );
    }
    for want in &expect.logs {
        log(&mut failures, want, report.logs(), redact);
    }
    if let Some(budget) = expect.max_fuel {
        fuel(&mut failures, budget, report.fuel());
    }
    if let Some(url) = &expect.panel_url {
        field(
            &mut failures,
            "panel_url".to_owned(),
            Some(&redact(url)),
            report.panel_url(),
        );
    }
    failures
}

/// `outcome` (default `ok`).
fn outcome(failures: &mut Vec<String>, wanted: Option<OutcomeName>, outcome: &Outcome) {
    let got = OutcomeName::of(outcome);
    let wanted = wanted.unwrap_or(OutcomeName::Ok);
    if got != wanted {
        failures.push(format!(
            "outcome: expected `{}`, got `{}`{}",
            wanted.as_str(),
            got.as_str(),
            outcome_text(outcome)
        ));
    }
}

/// `max_fuel`: the cost of the delivery within its budget.
fn fuel(failures: &mut Vec<String>, budget: u64, fuel: Option<u64>) {
    match fuel {
        Some(fuel) if fuel > budget => failures.push(format!(
            "max_fuel: the delivery consumed {fuel} fuel, over its budget of {budget} (by {}%); \
             `cargo otai-plugin test --bless` records the new cost with a margin of {}%",
            (fuel - budget).saturating_mul(100).div_ceil(budget.max(1)),
            crate::fixture::budget::MARGIN_PERCENT
        )),
        Some(_) => {}
        None => failures.push(format!(
            "max_fuel: the host did not count the fuel, so the budget of {budget} cannot be checked"
        )),
    }
}

/// `message_contains`: in the trap message, the panic or the rejection reason.
fn message_contains(failures: &mut Vec<String>, text: &str, outcome: &Outcome) {
    let all = outcome_text(outcome);
    if !all.contains(text) {
        failures.push(format!(
            "outcome: expected a message containing {text:?}, got `{}`{all}",
            OutcomeName::of(outcome).as_str()
        ));
    }
}

/// `[[expect.http]]`: exactly these requests, in order.
fn http(
    failures: &mut Vec<String>,
    expected: &[ExpectHttp],
    requests: &[HttpExchange],
    redact: &dyn Fn(&str) -> String,
) {
    if expected.len() != requests.len() {
        failures.push(format!(
            "http: expected {} request(s), the plugin made {}{}",
            expected.len(),
            requests.len(),
            list(
                requests
                    .iter()
                    .map(|r| format!("{} {}", r.request.method, r.request.url))
            )
        ));
    }
    for (i, (want, got)) in expected.iter().zip(requests).enumerate() {
        request(failures, i, want, got, redact);
    }
}

/// One `[[expect.http]]`, against the `i`th request.
fn request(
    failures: &mut Vec<String>,
    i: usize,
    want: &ExpectHttp,
    got: &HttpExchange,
    redact: &dyn Fn(&str) -> String,
) {
    let request = &got.request;
    let body = request.body.as_deref().unwrap_or("");
    field(
        failures,
        format!("http[{i}].method"),
        want.method.as_deref(),
        Some(&request.method),
    );
    if let Some(url) = &want.url {
        field(
            failures,
            format!("http[{i}].url"),
            Some(&redact(url)),
            Some(&request.url),
        );
    }
    if let Some(want_body) = &want.body {
        field(
            failures,
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
        && got.blocked != blocked
    {
        failures.push(format!(
            "http[{i}].blocked: expected {blocked}, got {}",
            got.blocked
        ));
    }
}

/// `[[expect.replies]]`: exactly these replies, in order.
fn replies(
    failures: &mut Vec<String>,
    expected: &[ExpectReply],
    replies: &[Reply],
    redact: &dyn Fn(&str) -> String,
) {
    if expected.len() != replies.len() {
        failures.push(format!(
            "replies: expected {}, the plugin added {}{}",
            expected.len(),
            replies.len(),
            list(replies.iter().map(|r| format!("{:?}", r.body)))
        ));
    }
    for (i, (want, got)) in expected.iter().zip(replies).enumerate() {
        reply(failures, i, want, got, redact);
    }
}

/// One `[[expect.replies]]`, against the `i`th reply.
fn reply(
    failures: &mut Vec<String>,
    i: usize,
    want: &ExpectReply,
    got: &Reply,
    redact: &dyn Fn(&str) -> String,
) {
    if let Some(exact) = &want.body {
        field(
            failures,
            format!("replies[{i}].body"),
            Some(&redact(exact)),
            Some(&got.body),
        );
    }
    if let Some(text) = &want.body_contains
        && !got.body.contains(redact(text).as_str())
    {
        failures.push(format!(
            "replies[{i}].body: expected it to contain {text:?}, got {:?}",
            got.body
        ));
    }
    if let Some(internal) = want.is_internal
        && got.is_internal != internal
    {
        failures.push(format!(
            "replies[{i}].is_internal: expected {internal}, got {}",
            got.is_internal
        ));
    }
}

/// `[expect.custom_fields]`: each key with its value, the last the plugin set.
fn custom_fields(
    failures: &mut Vec<String>,
    fields: &BTreeMap<String, String>,
    set: &[CustomFieldSet],
    redact: &dyn Fn(&str) -> String,
) {
    for (key, value) in fields {
        match set.iter().rev().find(|f| f.key == *key) {
            Some(got) if got.value == redact(value) => {}
            Some(got) => failures.push(format!(
                "custom_fields.{key}: expected {value:?}, got {:?}",
                got.value
            )),
            None => failures.push(format!(
                "custom_fields.{key}: expected {value:?}, the plugin did not set it"
            )),
        }
    }
}

/// `custom_fields_exact = true`: no key but those of `expected`.
fn custom_fields_exact(
    failures: &mut Vec<String>,
    expected: Option<&BTreeMap<String, String>>,
    set: &[CustomFieldSet],
) {
    // Each other key once, with the value the plugin left it at.
    let mut others: Vec<&CustomFieldSet> = Vec::new();
    for field in set.iter().rev() {
        let wanted = expected.is_some_and(|e| e.contains_key(&field.key));
        if !wanted && !others.iter().any(|o| o.key == field.key) {
            others.insert(0, field);
        }
    }
    if others.is_empty() {
        return;
    }
    let set_text = list(others.iter().map(|f| format!("{} = {:?}", f.key, f.value)));
    failures.push(match expected.filter(|e| !e.is_empty()) {
        Some(e) => format!(
            "custom_fields: expected only {} (`custom_fields_exact = true`), the plugin also set{set_text}",
            e.keys().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
        ),
        None => format!(
            "custom_fields: expected none (`custom_fields_exact = true`), the plugin set{set_text}"
        ),
    });
}

/// One `[[expect.logs]]`: some line matches it.
fn log(
    failures: &mut Vec<String>,
    want: &ExpectLog,
    logs: &[LogLine],
    redact: &dyn Fn(&str) -> String,
) {
    let found = logs.iter().any(|line| {
        want.level.is_none_or(|l| line.level == l)
            && line.message.contains(redact(&want.contains).as_str())
    });
    if found {
        return;
    }
    let level = want
        .level
        .map(|l| format!(" at level `{l}`"))
        .unwrap_or_default();
    let logged = list(logs.iter().map(|l| format!("{}: {}", l.level, l.message)));
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

/// ` (reason; trap)` of a trap (the plugin's own words first), ` (reason)` of a
/// rejection, nothing otherwise.
fn outcome_text(outcome: &Outcome) -> String {
    let parts: Vec<&str> = match outcome {
        Outcome::Trapped {
            message, reason, ..
        } => reason
            .as_deref()
            .into_iter()
            .chain(std::iter::once(message.as_str()))
            .collect(),
        Outcome::Rejected { reason } => vec![reason.as_str()],
        Outcome::Ok | Outcome::TimedOut => Vec::new(),
    };
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
    use otai_plugin_abi::calls::HttpRequest;
    use otai_plugin_abi::status::LogLevel;
    use otai_plugin_host::{CustomFieldSet, DeliveryReport, HttpExchange, LogLine, Timings};

    use super::*;

    #[test]
    fn mismatches_are_each_reported() {
        let expect: Expect = toml::from_str(
            "outcome = \"ok\"\n[[http]]\nmethod = \"POST\"\nurl = \"https://h.example/secret\"\n\
             body_json = { text = \"hi\" }\n[[logs]]\nlevel = \"info\"\ncontains = \"posted\"\n",
        )
        .unwrap();
        let report = Report::Delivery(DeliveryReport {
            plugin_id: "com.example.t".into(),
            event: "ticket.created".into(),
            outcome: Outcome::Trapped {
                message: "unreachable".into(),
                reason: Some("boom at src/lib.rs:3:5".into()),
                backtrace: Some("0: 0x1 - <unknown>!f".into()),
            },
            logs: vec![LogLine {
                level: LogLevel::Error,
                message: "boom".into(),
            }],
            http: vec![HttpExchange {
                request: HttpRequest {
                    method: "POST".into(),
                    url: "[redacted]".into(),
                    headers: Default::default(),
                    body: Some("{\"text\":\"hello\"}".into()),
                },
                status: 200,
                blocked: false,
                error: None,
                response_body: None,
            }],
            replies: Vec::new(),
            custom_fields: Vec::new(),
            calls: Vec::new(),
            fuel: None,
            timings: Timings::default(),
            profile: None,
        });
        let redact = |s: &str| s.replace("https://h.example/secret", "[redacted]");
        let failures = check(&expect, &report, &redact);
        assert_eq!(failures.len(), 3, "{failures:#?}");
        assert!(failures[0].starts_with(
            "outcome: expected `ok`, got `trapped` (boom at src/lib.rs:3:5; unreachable)"
        ));
        assert!(failures[1].contains("expected JSON {\"text\":\"hi\"}, got {\"text\":\"hello\"}"));
        assert!(failures[2].contains("expected a line at level `info` containing \"posted\""));
    }

    fn delivery_setting(fields: &[(&str, &str)]) -> Report {
        Report::Delivery(DeliveryReport {
            plugin_id: "com.example.t".into(),
            event: "ticket.created".into(),
            outcome: Outcome::Ok,
            logs: Vec::new(),
            http: Vec::new(),
            replies: Vec::new(),
            custom_fields: fields
                .iter()
                .map(|(key, value)| CustomFieldSet {
                    ticket_id: "T-1".into(),
                    key: (*key).into(),
                    value: (*value).into(),
                })
                .collect(),
            calls: Vec::new(),
            fuel: None,
            timings: Timings::default(),
            profile: None,
        })
    }

    #[test]
    fn custom_fields_exact_allows_no_other_field() {
        let check_toml = |expect: &str, fields: &[(&str, &str)]| {
            let expect: Expect = toml::from_str(expect).unwrap();
            check(&expect, &delivery_setting(fields), &|s: &str| s.to_owned())
        };
        // Without it, other fields are allowed.
        assert!(
            check_toml(
                "[custom_fields]\nteam = \"ops\"\n",
                &[("team", "ops"), ("x", "1")]
            )
            .is_empty()
        );
        // With it and no table: none at all.
        assert!(check_toml("custom_fields_exact = true\n", &[]).is_empty());
        assert_eq!(
            check_toml(
                "custom_fields_exact = true\n",
                &[("team", "ops"), ("team", "it")]
            ),
            [
                "custom_fields: expected none (`custom_fields_exact = true`), the plugin set:\n      team = \"it\""
            ]
        );
        // With the table: those, and no other.
        let exact = "custom_fields_exact = true\n[custom_fields]\nteam = \"ops\"\n";
        assert!(check_toml(exact, &[("team", "ops")]).is_empty());
        assert_eq!(
            check_toml(exact, &[("x", "1"), ("team", "ops"), ("y", "2")]),
            [
                "custom_fields: expected only `team` (`custom_fields_exact = true`), the plugin also set:\n      x = \"1\"\n      y = \"2\""
            ]
        );
    }

    #[test]
    fn a_delivery_over_its_budget_fails_naming_both_numbers() {
        let with_fuel = |fuel: Option<u64>| {
            let Report::Delivery(mut report) = delivery_setting(&[]) else {
                unreachable!()
            };
            report.fuel = fuel;
            Report::Delivery(report)
        };
        let expect: Expect = toml::from_str(
            "max_fuel = 50000
",
        )
        .unwrap();
        let check_fuel = |fuel| check(&expect, &with_fuel(fuel), &|s: &str| s.to_owned());
        assert!(check_fuel(Some(50_000)).is_empty());
        assert_eq!(
            check_fuel(Some(61_234)),
            [
                "max_fuel: the delivery consumed 61234 fuel, over its budget of 50000 (by 23%); \
                 `cargo otai-plugin test --bless` records the new cost with a margin of 10%"
            ]
        );
        assert_eq!(
            check_fuel(None),
            ["max_fuel: the host did not count the fuel, so the budget of 50000 cannot be checked"]
        );
    }
}
