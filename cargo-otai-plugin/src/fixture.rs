//! Declarative fixtures: `tests/fixtures/*.toml`, one event (or one panel render) each,
//! with the config, the HTTP mocks and what to expect.
//!
//! ```toml
//! description = "critical tickets page the on-call team"   # optional
//!
//! [event]
//! kind = "ticket.created"        # a realistic payload of this kind…
//! # file = "events/created.json" # …or a whole payload from a JSON file
//! [event.ticket]                 # merged into the payload (JSON merge patch);
//! priority = "Critical"          # also `occurred_at`, `actor`, `data`
//!
//! [config]                       # the installation's config values
//! webhook_url = "https://hooks.slack.com/services/T0/B0/X"
//!
//! [[http]]                       # what the mock server answers (first match wins)
//! method = "POST"
//! url = "https://hooks.slack.com/services/T0/B0/X"
//! status = 200                   # default 200
//! body = "ok"                    # or `json = { … }`, or `error = "timeout" | "network"`
//!
//! [expect]
//! outcome = "ok"                 # ok (default) | trapped | timed_out | rejected
//! message_contains = "…"         # in the trap message or panic
//! http = []                      # exactly these requests, in order ([[expect.http]])
//! [[expect.http]]
//! method = "POST"
//! url = "https://hooks.slack.com/services/T0/B0/X"
//! body_contains = "Critical"     # or body_json = { … } (equal as JSON), body = "…" (exact)
//! [[expect.replies]]             # exactly these replies, in order
//! body_contains = "paged"
//! is_internal = true
//! [expect.custom_fields]         # these fields set to these values (others allowed)
//! incident = "P123"
//! [[expect.logs]]                # each matches some log line
//! level = "warn"
//! contains = "retrying"
//! ```
//!
//! A panel fixture has `[panel] ticket_id = "…"` instead of `[event]`, and may expect
//! `panel_url = "…"`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use serde_json::Value;

/// One fixture file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fixture {
    /// What the fixture shows, for people.
    #[serde(default)]
    pub description: Option<String>,
    /// The event to deliver.
    #[serde(default)]
    pub event: Option<EventSpec>,
    /// Render the panel instead.
    #[serde(default)]
    pub panel: Option<PanelSpec>,
    /// Config values for the installation.
    #[serde(default)]
    pub config: Option<toml::Table>,
    /// HTTP mocks.
    #[serde(default)]
    pub http: Vec<HttpMock>,
    /// Expectations.
    #[serde(default)]
    pub expect: Expect,
}

/// `[event]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventSpec {
    /// The event name, e.g. `ticket.created`.
    #[serde(default)]
    pub kind: Option<String>,
    /// A JSON file with a full payload, relative to the fixture.
    #[serde(default)]
    pub file: Option<PathBuf>,
    /// Patch for `occurred_at`.
    #[serde(default)]
    pub occurred_at: Option<toml::Value>,
    /// Patch for `ticket`.
    #[serde(default)]
    pub ticket: Option<toml::Value>,
    /// Patch for `actor`.
    #[serde(default)]
    pub actor: Option<toml::Value>,
    /// Patch for `data`.
    #[serde(default)]
    pub data: Option<toml::Value>,
}

impl EventSpec {
    /// The merge patch made of `occurred_at`, `ticket`, `actor` and `data`.
    pub fn patch(&self) -> Value {
        let mut patch = serde_json::Map::new();
        for (key, value) in [
            ("occurred_at", &self.occurred_at),
            ("ticket", &self.ticket),
            ("actor", &self.actor),
            ("data", &self.data),
        ] {
            if let Some(value) = value {
                patch.insert(key.to_owned(), toml_to_json(value));
            }
        }
        Value::Object(patch)
    }
}

/// `[panel]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PanelSpec {
    /// The ticket whose panel is rendered.
    pub ticket_id: String,
}

/// One `[[http]]` mock.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpMock {
    /// The request method, e.g. `POST`.
    pub method: String,
    /// The exact request URL.
    pub url: String,
    /// The response status (default 200).
    #[serde(default)]
    pub status: Option<u16>,
    /// The response body.
    #[serde(default)]
    pub body: Option<String>,
    /// The response body, as JSON.
    #[serde(default)]
    pub json: Option<toml::Value>,
    /// A failure instead of a response.
    #[serde(default)]
    pub error: Option<MockError>,
}

impl HttpMock {
    /// The response body: `body`, or `json` encoded, or empty.
    pub fn response_body(&self) -> String {
        match (&self.body, &self.json) {
            (Some(body), _) => body.clone(),
            (None, Some(json)) => toml_to_json(json).to_string(),
            (None, None) => String::new(),
        }
    }
}

/// `error = …` of a mock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MockError {
    /// The delivery deadline passes while waiting.
    Timeout,
    /// Connecting or reading fails.
    Network,
}

/// `[expect]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// The outcome (default `ok`).
    #[serde(default)]
    pub outcome: Option<OutcomeName>,
    /// Text in the trap message, panic or rejection reason.
    #[serde(default)]
    pub message_contains: Option<String>,
    /// Exactly these requests, in order.
    #[serde(default)]
    pub http: Option<Vec<ExpectHttp>>,
    /// Exactly these replies, in order.
    #[serde(default)]
    pub replies: Option<Vec<ExpectReply>>,
    /// These custom fields with these values.
    #[serde(default)]
    pub custom_fields: Option<BTreeMap<String, String>>,
    /// Each matches some log line.
    #[serde(default)]
    pub logs: Vec<ExpectLog>,
    /// For panel fixtures: the URL returned.
    #[serde(default)]
    pub panel_url: Option<String>,
}

/// The outcomes a fixture can expect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeName {
    /// Returned normally.
    Ok,
    /// Trapped (panic, `Err`, out-of-bounds, allocation failure).
    Trapped,
    /// Ran past the deadline.
    TimedOut,
    /// Refused before running.
    Rejected,
}

impl OutcomeName {
    /// The `status` of the report's outcome.
    pub fn as_str(self) -> &'static str {
        match self {
            OutcomeName::Ok => "ok",
            OutcomeName::Trapped => "trapped",
            OutcomeName::TimedOut => "timed_out",
            OutcomeName::Rejected => "rejected",
        }
    }
}

/// One `[[expect.http]]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectHttp {
    /// The method.
    #[serde(default)]
    pub method: Option<String>,
    /// The exact URL.
    #[serde(default)]
    pub url: Option<String>,
    /// The exact body.
    #[serde(default)]
    pub body: Option<String>,
    /// Text in the body.
    #[serde(default)]
    pub body_contains: Option<String>,
    /// The body, equal as JSON.
    #[serde(default)]
    pub body_json: Option<toml::Value>,
    /// Whether the host refused it (host not in `allowed_hosts`).
    #[serde(default)]
    pub blocked: Option<bool>,
}

/// One `[[expect.replies]]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectReply {
    /// The exact body.
    #[serde(default)]
    pub body: Option<String>,
    /// Text in the body.
    #[serde(default)]
    pub body_contains: Option<String>,
    /// Internal note or public reply.
    #[serde(default)]
    pub is_internal: Option<bool>,
}

/// One `[[expect.logs]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectLog {
    /// `debug`, `info`, `warn` or `error` (any when absent).
    #[serde(default)]
    pub level: Option<String>,
    /// Text in the line.
    pub contains: String,
}

/// A fixture file, read and parsed.
#[derive(Debug, Clone)]
pub struct LoadedFixture {
    /// The file name without `.toml`.
    pub name: String,
    /// The file.
    pub path: PathBuf,
    /// Its contents.
    pub fixture: Fixture,
}

/// Reads and parses a fixture file; a syntax or shape error names `file:line:column`.
///
/// # Errors
/// The file cannot be read or parsed, or has neither or both of `[event]` and `[panel]`.
pub fn load(path: &Path) -> Result<LoadedFixture> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("failed to read `{}`", path.display()))?;
    let fixture: Fixture = toml::from_str(&text).map_err(|err| {
        let (line, column) = err
            .span()
            .map_or((1, 1), |span| line_column(&text, span.start));
        anyhow::anyhow!(
            "{}:{line}:{column}: {}",
            path.display(),
            err.message().trim_end()
        )
    })?;
    match (&fixture.event, &fixture.panel) {
        (None, None) => bail!(
            "{}: a fixture needs `[event]` (or `[panel]` to render the panel)",
            path.display()
        ),
        (Some(_), Some(_)) => bail!(
            "{}: a fixture has `[event]` or `[panel]`, not both",
            path.display()
        ),
        (Some(event), None) if event.kind.is_none() && event.file.is_none() => {
            bail!(
                "{}: `[event]` needs `kind = \"ticket.created\"` (or another event) or `file = \"payload.json\"`",
                path.display()
            )
        }
        _ => {}
    }
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(LoadedFixture {
        name,
        path: path.to_path_buf(),
        fixture,
    })
}

/// Every `*.toml` in `dir`, sorted by name; none when `dir` does not exist.
///
/// # Errors
/// `dir` cannot be listed.
pub fn discover(dir: &Path) -> Result<Vec<PathBuf>> {
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("failed to list `{}`", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    Ok(files)
}

fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rfind('\n')
        .map_or(before.len(), |nl| before.len() - nl - 1)
        + 1;
    (line, column)
}

/// TOML to JSON (dates become strings).
pub fn toml_to_json(value: &toml::Value) -> Value {
    match value {
        toml::Value::String(s) => Value::String(s.clone()),
        toml::Value::Integer(i) => Value::from(*i),
        toml::Value::Float(f) => {
            serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number)
        }
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(a) => Value::Array(a.iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => Value::Object(
            t.iter()
                .map(|(k, v)| (k.clone(), toml_to_json(v)))
                .collect(),
        ),
    }
}

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
                .map(|l| format!("{l} "))
                .unwrap_or_default();
            failures.push(format!(
                "logs: expected a {level}line containing {:?}{}",
                want.contains,
                list(logs.iter().map(|l| format!(
                    "{}: {}",
                    l["level"].as_str().unwrap_or("?"),
                    l["message"].as_str().unwrap_or("")
                )))
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

    fn parse(text: &str) -> Result<LoadedFixture> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.toml");
        std::fs::write(&path, text).unwrap();
        load(&path).map_err(|e| {
            anyhow::anyhow!(
                e.to_string()
                    .replace(&dir.path().display().to_string(), "DIR")
            )
        })
    }

    #[test]
    fn a_typo_names_file_line_and_column() {
        let err = parse("[event]\nkind = \"ticket.created\"\n\n[expect]\noutcom = \"ok\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("DIR/f.toml:5:1: unknown field `outcom`"),
            "{err}"
        );
    }

    #[test]
    fn patches_and_mocks_read_as_json() {
        let f = parse(
            "[event]\nkind = \"ticket.created\"\n[event.ticket]\npriority = \"Critical\"\n\
             [[http]]\nmethod = \"GET\"\nurl = \"https://a.example/\"\njson = { ok = true }\n",
        )
        .unwrap()
        .fixture;
        assert_eq!(
            f.event.unwrap().patch(),
            json!({ "ticket": { "priority": "Critical" } })
        );
        assert_eq!(f.http[0].response_body(), r#"{"ok":true}"#);
    }

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
        assert!(failures[2].contains("expected a info line containing \"posted\""));
    }
}
