//! Fixture expectations checked against a report: every mismatch, each one line (or a
//! short list) naming the field, what was expected and what the plugin did; for
//! `replay`, a changed text (a request's body, a reply, a log line) as a line diff.

use std::collections::BTreeMap;

use otai_plugin_host::{CustomFieldSet, HttpExchange, LogLine, Outcome, Reply};
use serde_json::Value;
use similar::{ChangeTag, TextDiff};

use crate::fixture::{Expect, ExpectHttp, ExpectLog, ExpectReply, OutcomeName};
use crate::harness::Report;
use crate::values::toml_to_json;

/// How a changed text is said.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Style {
    /// `test`'s: one line, both texts quoted.
    Line,
    /// `replay`'s: the lines that changed, `-` recorded and `+` now (JSON pretty-printed
    /// first, so that a changed member is a line of its own), with the lines around them.
    Diff,
}

/// Checks `report` (secrets already redacted) against the expectations. `redact`
/// applies the report's redaction to an expected string, so a fixture can name a secret
/// webhook URL as it is; a changed text is said in `style`. Returns one message per
/// mismatch.
pub(crate) fn check(
    expect: &Expect,
    report: &Report,
    redact: &dyn Fn(&str) -> String,
    style: Style,
) -> Vec<String> {
    let mut failures = Vec::new();
    outcome(&mut failures, expect.outcome, report.outcome());
    if let Some(text) = &expect.message_contains {
        message_contains(&mut failures, text, report.outcome());
    }
    if let Some(expected) = &expect.http {
        http(&mut failures, expected, report.http(), redact, style);
    }
    if let Some(expected) = &expect.replies {
        replies(&mut failures, expected, report.replies(), redact, style);
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
        log(&mut failures, want, report.logs(), redact, style);
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
    style: Style,
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
        request(failures, i, want, got, redact, style);
    }
}

/// One `[[expect.http]]`, against the `i`th request.
fn request(
    failures: &mut Vec<String>,
    i: usize,
    want: &ExpectHttp,
    got: &HttpExchange,
    redact: &dyn Fn(&str) -> String,
    style: Style,
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
        text(
            failures,
            style,
            format!("http[{i}].body"),
            &redact(want_body),
            body,
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
            Ok(got_json) if style == Style::Diff => failures.push(diff(
                &format!("http[{i}].body"),
                &pretty(&want_json),
                &pretty(&got_json),
            )),
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
    style: Style,
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
        reply(failures, i, want, got, redact, style);
    }
}

/// One `[[expect.replies]]`, against the `i`th reply.
fn reply(
    failures: &mut Vec<String>,
    i: usize,
    want: &ExpectReply,
    got: &Reply,
    redact: &dyn Fn(&str) -> String,
    style: Style,
) {
    if let Some(exact) = &want.body {
        text(
            failures,
            style,
            format!("replies[{i}].body"),
            &redact(exact),
            &got.body,
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
    style: Style,
) {
    let wanted = redact(&want.contains);
    let found = logs.iter().any(|line| {
        want.level.is_none_or(|l| line.level == l) && line.message.contains(wanted.as_str())
    });
    if found {
        return;
    }
    let level = want
        .level
        .map(|l| format!(" at level `{l}`"))
        .unwrap_or_default();
    if style == Style::Diff
        && let Some(nearest) = nearest_line(&wanted, logs)
    {
        // A recorded line is the whole message: the line logged now most like it is
        // the one it became.
        let recorded = match want.level {
            Some(l) => format!("{l}: {wanted}"),
            None => format!("{}: {wanted}", nearest.level),
        };
        failures.push(diff(
            &format!("logs: a line{level}"),
            &recorded,
            &format!("{}: {}", nearest.level, nearest.message),
        ));
        return;
    }
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

/// The logged line most like `wanted`, if one is like it at all (half its characters
/// the same): a line that is merely there is no "what it became".
fn nearest_line<'l>(wanted: &str, logs: &'l [LogLine]) -> Option<&'l LogLine> {
    logs.iter()
        .map(|line| {
            let ratio = TextDiff::from_chars(wanted, line.message.as_str()).ratio();
            (ratio, line)
        })
        .filter(|(ratio, _)| *ratio >= 0.5)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, line)| line)
}

/// An exact text: `field`'s line, or in [`Style::Diff`] a line diff.
fn text(failures: &mut Vec<String>, style: Style, what: String, want: &str, got: &str) {
    if want == got {
        return;
    }
    match style {
        Style::Diff => {
            let (want, got) = match (json_text(want), json_text(got)) {
                (Some(want), Some(got)) => (pretty(&want), pretty(&got)),
                _ => (want.to_owned(), got.to_owned()),
            };
            failures.push(diff(&what, &want, &got));
        }
        Style::Line => field(failures, what, Some(want), Some(got)),
    }
}

/// A JSON object or array, which a line diff says better pretty-printed; a string or a
/// number is said as written.
fn json_text(text: &str) -> Option<Value> {
    serde_json::from_str::<Value>(text)
        .ok()
        .filter(|v| v.is_object() || v.is_array())
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

/// `what changed (- recorded, + now):` and the lines that changed, three lines of
/// context around each change. Texts that differ only in their last newline, which a
/// line diff cannot show, are quoted whole.
fn diff(what: &str, recorded: &str, now: &str) -> String {
    let ends = |s: &str| {
        if s.ends_with('\n') {
            s.to_owned()
        } else {
            format!("{s}\n")
        }
    };
    let (recorded_lines, now_lines) = (ends(recorded), ends(now));
    if recorded_lines == now_lines {
        return format!("{what} changed: recorded {recorded:?}, now {now:?}");
    }
    let diff = TextDiff::from_lines(recorded_lines.as_str(), now_lines.as_str());
    let mut out = format!("{what} changed (- recorded, + now):");
    for (n, group) in diff.grouped_ops(3).iter().enumerate() {
        if n > 0 {
            out.push_str("\n      ...");
        }
        for op in group {
            for change in diff.iter_changes(op) {
                let sign = match change.tag() {
                    ChangeTag::Delete => '-',
                    ChangeTag::Insert => '+',
                    ChangeTag::Equal => ' ',
                };
                out.push_str(&format!(
                    "\n    {sign} {}",
                    change.value().trim_end_matches('\n')
                ));
            }
        }
    }
    out
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
        let failures = check(&expect, &report, &redact, Style::Line);
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
            check(
                &expect,
                &delivery_setting(fields),
                &|s: &str| s.to_owned(),
                Style::Line,
            )
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
        let check_fuel = |fuel| {
            check(
                &expect,
                &with_fuel(fuel),
                &|s: &str| s.to_owned(),
                Style::Line,
            )
        };
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

    #[test]
    fn replay_says_a_changed_text_as_a_line_diff() {
        let expect: Expect = toml::from_str(
            "[[http]]\nbody = '{\"channel\":\"ops\",\"text\":\"New ticket\"}'\n\
             [[replies]]\nbody = \"Posted to Slack.\\nThanks.\"\n\
             [[logs]]\nlevel = \"info\"\ncontains = \"posted ticket T-1 to Slack\"\n",
        )
        .unwrap();
        let Report::Delivery(mut report) = delivery_setting(&[]) else {
            unreachable!()
        };
        report.http.push(HttpExchange {
            request: HttpRequest {
                method: "POST".into(),
                url: "https://h.example/".into(),
                headers: Default::default(),
                body: Some("{\"channel\":\"ops\",\"text\":\"New Critical ticket\"}".into()),
            },
            status: 200,
            blocked: false,
            error: None,
            response_body: None,
        });
        report.replies.push(otai_plugin_host::Reply {
            ticket_id: "T-1".into(),
            body: "Sent to Slack.\nThanks.".into(),
            is_internal: true,
        });
        report.logs.push(LogLine {
            level: LogLevel::Info,
            message: "posted ticket T-1 to Teams".into(),
        });
        let report = Report::Delivery(report);
        let failures = check(&expect, &report, &|s: &str| s.to_owned(), Style::Diff);
        assert_eq!(
            failures,
            [
                "http[0].body changed (- recorded, + now):\n      {\n        \"channel\": \"ops\",\n\
                 \x20   -   \"text\": \"New ticket\"\n    +   \"text\": \"New Critical ticket\"\n      }",
                "replies[0].body changed (- recorded, + now):\n    - Posted to Slack.\n    \
                 + Sent to Slack.\n      Thanks.",
                "logs: a line at level `info` changed (- recorded, + now):\n    \
                 - info: posted ticket T-1 to Slack\n    + info: posted ticket T-1 to Teams",
            ]
        );
        // A line that went, with nothing like it logged now, is not diffed against
        // another.
        let Report::Delivery(mut other) = report.clone() else {
            unreachable!()
        };
        other.logs[0].message = "rate limited".into();
        let failures = check(
            &expect,
            &Report::Delivery(other),
            &|s: &str| s.to_owned(),
            Style::Diff,
        );
        assert!(
            failures[2].starts_with("logs: expected a line at level `info` containing"),
            "{failures:#?}"
        );
        // `test` keeps its one line for each.
        let lines = check(&expect, &report, &|s: &str| s.to_owned(), Style::Line);
        assert_eq!(lines.len(), 3, "{lines:#?}");
        assert!(lines[1].starts_with("replies[0].body: expected \"Posted to Slack.\\nThanks.\""));
    }
}
