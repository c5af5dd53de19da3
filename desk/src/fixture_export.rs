//! A logged delivery written as a fixture TOML, in the format `cargo otai-plugin test`
//! reads (docs/FIXTURES.md): the payload as delivered, the config with every secret a
//! placeholder, each response as an `[[http]]` mock, and `[expect]` from what happened.
//!
//! Here rather than in the CLI so that the web UI's download and `desk log --as-fixture`
//! write the same file; the CLI's tests hold what this writes to its fixture parser.
//!
//! The fixture is written from the log's report, in which every secret is already
//! `[redacted]`: no secret value is ever read into it. A secret field's placeholder keeps
//! only what the report shows of the secret anyway (`https://hooks.slack.com/` of a
//! webhook on an allowed host), so that the plugin run with it makes the same requests
//! to the same hosts, and its report redacts the placeholder where the original showed
//! `[redacted]`: expectations taken from the report hold for it.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use otai_plugin_abi::calls::HostErrorKind;
use otai_plugin_abi::event::EventKind;
use otai_plugin_host::{DeliveryReport, Event, Outcome, REDACTED};
use serde_json::{Map, Value};

use crate::replay_record::KeptBody;

/// A secret config field's stand-in in a fixture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placeholder {
    /// The value the fixture gives the field.
    pub value: String,
    /// The start of the secret that reports show (`https://hooks.slack.com/`), which the
    /// placeholder starts with too; `None` when reports hide the secret whole.
    pub public_prefix: Option<String>,
}

impl Placeholder {
    /// The placeholder of secret field `key` whose stored value is `secret`, for a plugin
    /// whose `allowed_hosts` are these. The value keeps what a report shows of the secret:
    /// `http(s)://HOST/` when the secret is a URL on an allowed host, written as the
    /// allow-list has it (the rule of the host's redaction), and nothing else of it.
    pub fn for_secret(key: &str, secret: &str, allowed_hosts: &[String]) -> Placeholder {
        let fill = format!("FILL-IN-{key}");
        let public_prefix = ["https://", "http://"].iter().find_map(|scheme| {
            let rest = secret.strip_prefix(scheme)?;
            let host_len = rest.find(['/', '?', '#', '\\']).unwrap_or(rest.len());
            let host = &rest[..host_len];
            let allowed = allowed_hosts
                .iter()
                .any(|h| h.trim_end_matches('.').eq(host) && !host.is_empty());
            // Only `scheme://host/` followed by more is shown, as the redaction shows it.
            (allowed && rest[host_len..].starts_with('/') && rest.len() > host_len + 1)
                .then(|| format!("{scheme}{host}/"))
        });
        let value = match &public_prefix {
            Some(prefix) => format!("{prefix}{fill}"),
            None => fill,
        };
        Placeholder {
            value,
            public_prefix,
        }
    }
}

/// A config value as a fixture writes it.
#[derive(Debug, Clone, PartialEq)]
pub enum FixtureValue {
    /// A field that is not secret: its stored value.
    Plain(Value),
    /// A secret field that has a value: its placeholder.
    Secret(Placeholder),
}

/// A logged delivery to write as a fixture.
#[derive(Debug, Clone)]
pub struct FixtureInput<'a> {
    /// The plugin.
    pub plugin_id: &'a str,
    /// The delivery's number in the log.
    pub seq: i64,
    /// The plugin's version that received it.
    pub version: &'a str,
    /// The payload as delivered, without `config`.
    pub payload: &'a Value,
    /// The report, secrets redacted.
    pub report: &'a DeliveryReport,
    /// Each exchange's response body, in the order of `report.http`.
    pub bodies: &'a [KeptBody],
    /// The installation's config, in the order of the manifest's fields.
    pub config: &'a [(String, FixtureValue)],
}

/// Why a delivery cannot be written as a fixture.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FixtureError(String);

/// The fixture TOML of `input`.
///
/// # Errors
/// A payload the fixture format cannot say: a `null` in an array, a member whose name
/// has a dot and must be removed or set to `null`, a top-level member a fixture has no
/// key for, a number TOML has no type for.
pub fn fixture_toml(input: &FixtureInput<'_>) -> Result<String, FixtureError> {
    let mut out = String::new();
    let report = input.report;
    let _ = writeln!(
        out,
        "# Delivery #{} of `{}` {} (`{}`), from the desk's log: `cargo otai-plugin test` runs\n\
         # it again against the mocks below, and `[expect]` is what it did then.",
        input.seq, input.plugin_id, input.version, report.event
    );
    let _ = writeln!(
        out,
        "description = {}\n",
        string(&format!(
            "{} to {} {}, delivery #{} in the desk's log",
            report.event, input.plugin_id, input.version, input.seq
        ))
    );
    write_event(&mut out, input.payload, &report.event)?;
    let placeholders = write_config(&mut out, input.config)?;
    write_mocks(&mut out, report, input.bodies, &placeholders);
    write_expect(&mut out, report);
    Ok(out)
}

/// The `[expect]` section (with its `[expect.…]` tables) of a fixture of `report`: what
/// the delivery did, as [`fixture_toml`] writes it; `replay --accept` puts it in place
/// of a fixture's.
pub fn expect_toml(report: &DeliveryReport) -> String {
    let mut out = String::new();
    write_expect(&mut out, report);
    out
}

fn err(message: impl Into<String>) -> FixtureError {
    FixtureError(message.into())
}

/// `[event]`: the sample of its kind with every member of the payload merged in, and
/// the sample's members the payload does not have removed: the result is the payload.
fn write_event(out: &mut String, payload: &Value, kind: &str) -> Result<(), FixtureError> {
    let Some(payload) = payload.as_object() else {
        return Err(err("the logged payload is not a JSON object"));
    };
    let kind = payload.get("event").and_then(Value::as_str).unwrap_or(kind);
    let event_kind = EventKind::from_name(kind);
    if !event_kind.is_known() {
        return Err(err(format!(
            "the event `{kind}` has no sample for a fixture to start from"
        )));
    }
    let sample = Event::from_kind(event_kind).payload().clone();
    let empty = Map::new();
    let sample = sample.as_object().unwrap_or(&empty);
    let mut nulls = Vec::new();
    let mut removes = Vec::new();
    let mut top = String::new();
    let mut tables = String::new();
    for (name, value) in payload {
        match name.as_str() {
            "event" | "config" => {}
            "occurred_at" | "ticket" | "actor" | "data" => {
                let before = sample.get(name);
                match value {
                    Value::Object(map) => {
                        let mut table = String::new();
                        let before = before.and_then(Value::as_object);
                        for (key, member) in map {
                            let path = format!("{name}.{key}");
                            let had = before.and_then(|b| b.get(key));
                            if member.is_null() {
                                null_member(&path, key, had, &mut nulls)?;
                                continue;
                            }
                            let written = inline(member, &path, had, &mut nulls, &mut removes)?;
                            let _ = writeln!(table, "{} = {written}", toml_key(key));
                        }
                        if let Some(before) = before {
                            for key in before.keys().filter(|k| !map.contains_key(*k)) {
                                removes.push(member_path(name, key)?);
                            }
                        }
                        if !table.is_empty() {
                            let _ = write!(tables, "\n[event.{name}]\n{table}");
                        }
                    }
                    Value::Null => null_member(name, name, before, &mut nulls)?,
                    other => {
                        let written = inline(other, name, None, &mut nulls, &mut removes)?;
                        let _ = writeln!(top, "{name} = {written}");
                    }
                }
            }
            other => {
                return Err(err(format!(
                    "its payload has a member `{other}`, which a fixture's `[event]` cannot give"
                )));
            }
        }
    }
    for name in sample.keys() {
        if !payload.contains_key(name) && name != "config" {
            removes.push(name.clone());
        }
    }
    let _ = writeln!(out, "[event]\nkind = {}", string(kind));
    out.push_str(&top);
    if !nulls.is_empty() {
        let _ = writeln!(out, "null = {}", string_array(&nulls));
    }
    if !removes.is_empty() {
        let _ = writeln!(out, "remove = {}", string_array(&removes));
    }
    out.push_str(&tables);
    out.push('\n');
    Ok(())
}

/// Records that `path` is `null` in the payload: nothing to do when the sample has it
/// `null` already (it stays), a `null` entry when the sample has a value there.
fn null_member(
    path: &str,
    key: &str,
    had: Option<&Value>,
    nulls: &mut Vec<String>,
) -> Result<(), FixtureError> {
    match had {
        Some(Value::Null) => Ok(()),
        Some(_) if !key.contains('.') => {
            nulls.push(path.to_owned());
            Ok(())
        }
        Some(_) => Err(err(format!(
            "`{path}` is null, and a fixture's `null` cannot name a member with a dot"
        ))),
        None => Err(err(format!(
            "`{path}` is null, and the sample payload has no such member for a fixture's \
             `null` to set"
        ))),
    }
}

fn member_path(parent: &str, key: &str) -> Result<String, FixtureError> {
    if key.contains('.') || key.is_empty() {
        return Err(err(format!(
            "the sample's `{parent}` has a member `{key}` the payload does not have, which a \
             fixture's `remove` cannot name"
        )));
    }
    Ok(format!("{parent}.{key}"))
}

/// `value` as a TOML inline value. Its `null` members are left out and listed in `nulls`
/// (the sample's object `before` tells whether they must be), as are the sample's
/// members that it lacks in `removes`.
fn inline(
    value: &Value,
    path: &str,
    before: Option<&Value>,
    nulls: &mut Vec<String>,
    removes: &mut Vec<String>,
) -> Result<String, FixtureError> {
    Ok(match value {
        Value::Null => return Err(err(format!("`{path}` holds a null, which TOML cannot"))),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) if n.is_i64() || n.is_f64() => n.to_string(),
        Value::Number(n) => {
            return Err(err(format!(
                "`{path}` is {n}, larger than the integers TOML has"
            )));
        }
        Value::String(s) => string(s),
        Value::Array(items) => {
            let mut parts = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let at = format!("{path}[{i}]");
                if item.is_null() {
                    return Err(err(format!("`{at}` is null, which a fixture cannot write")));
                }
                // An array replaces the sample's whole: nothing to remove inside it.
                parts.push(inline(item, &at, None, nulls, &mut Vec::new())?);
            }
            format!("[{}]", parts.join(", "))
        }
        Value::Object(map) => {
            let before = before.and_then(Value::as_object);
            let mut parts = Vec::with_capacity(map.len());
            for (key, member) in map {
                let at = format!("{path}.{key}");
                let had = before.and_then(|b| b.get(key));
                if member.is_null() {
                    null_member(&at, key, had, nulls)?;
                    continue;
                }
                parts.push(format!(
                    "{} = {}",
                    toml_key(key),
                    inline(member, &at, had, nulls, removes)?
                ));
            }
            if let Some(before) = before {
                for key in before.keys().filter(|k| !map.contains_key(*k)) {
                    removes.push(member_path(path, key)?);
                }
            }
            if parts.is_empty() {
                "{}".to_owned()
            } else {
                format!("{{ {} }}", parts.join(", "))
            }
        }
    })
}

/// `[config]`; returns the secrets' placeholders.
fn write_config<'a>(
    out: &mut String,
    config: &'a [(String, FixtureValue)],
) -> Result<Vec<&'a Placeholder>, FixtureError> {
    let mut placeholders = Vec::new();
    if config.is_empty() {
        return Ok(placeholders);
    }
    let has_secret = config
        .iter()
        .any(|(_, v)| matches!(v, FixtureValue::Secret(_)));
    if has_secret {
        out.push_str(
            "# Secret values are not in the desk's log: each `FILL-IN-…` is a placeholder. Put a\n\
             # value there that behaves as the real one does (a test account's), never the real\n\
             # secret in a file you commit. Reports show a secret as `[redacted]`, so the\n\
             # expectations below hold for whatever value you give.\n",
        );
    }
    out.push_str("[config]\n");
    for (key, value) in config {
        match value {
            FixtureValue::Plain(Value::Null) => {}
            FixtureValue::Plain(value) => {
                let written = inline(value, key, None, &mut Vec::new(), &mut Vec::new())?;
                let _ = writeln!(out, "{} = {written}", toml_key(key));
            }
            FixtureValue::Secret(placeholder) => {
                let _ = writeln!(
                    out,
                    "{} = {}  # secret: a placeholder, fill it in",
                    toml_key(key),
                    string(&placeholder.value)
                );
                placeholders.push(placeholder);
            }
        }
    }
    out.push('\n');
    Ok(placeholders)
}

/// The mock URL for a request the report shows as `url`: as is, or, where a secret
/// was in it, the placeholder that makes the same URL, or the URL up to the secret as a
/// prefix. `None` when nothing of the URL is left to match.
fn mock_url(url: &str, placeholders: &[&Placeholder]) -> Option<(String, bool)> {
    let Some(at) = url.find(REDACTED) else {
        return Some((url.to_owned(), false));
    };
    let whole: Vec<&&Placeholder> = placeholders
        .iter()
        .filter(|p| {
            p.public_prefix
                .as_ref()
                .is_some_and(|prefix| url.strip_prefix(prefix.as_str()) == Some(REDACTED))
        })
        .collect();
    if let [one] = whole.as_slice() {
        return Some((one.value.clone(), false));
    }
    (at > 0).then(|| (format!("{}*", &url[..at]), true))
}

fn write_mocks(
    out: &mut String,
    report: &DeliveryReport,
    bodies: &[KeptBody],
    placeholders: &[&Placeholder],
) {
    let mut mocked: Vec<(String, String)> = Vec::new();
    for (i, exchange) in report.http.iter().enumerate() {
        let n = i + 1;
        let request = &exchange.request;
        if exchange.blocked {
            let _ = writeln!(
                out,
                "# Request {n} ({} {}) was refused by the host: its host is not in \
                 `allowed_hosts`, no mock needed.\n",
                request.method, request.url
            );
            continue;
        }
        let error = match &exchange.error {
            None => None,
            Some(e) if e.kind == HostErrorKind::Network => Some("network"),
            Some(e) if e.kind == HostErrorKind::Timeout => Some("timeout"),
            Some(e) => {
                let _ = writeln!(
                    out,
                    "# Request {n} ({} {}) got `{}` from the host ({}), which a mock cannot \
                     answer: without one it fails with `network`.\n",
                    request.method,
                    request.url,
                    e.kind.as_str(),
                    e.message.replace('\n', " ")
                );
                continue;
            }
        };
        let Some((url, prefix)) = mock_url(&request.url, placeholders) else {
            let _ = writeln!(
                out,
                "# Request {n} ({}) went to a secret URL that the report hides whole: add \
                 its mock with the URL your placeholder makes.\n",
                request.method
            );
            continue;
        };
        let method = request.method.to_ascii_uppercase();
        if mocked.iter().any(|(m, u)| *m == method && *u == url) {
            let _ = writeln!(
                out,
                "# Request {n} ({method} {url}) is answered by the mock of an earlier one: the \
                 first mock that matches answers (it got HTTP {}).\n",
                exchange.status
            );
            continue;
        }
        if prefix {
            let _ = writeln!(
                out,
                "# Request {n}'s URL held a secret (`{}`): any URL that starts so.",
                request.url
            );
        }
        let _ = writeln!(
            out,
            "[[http]]\nmethod = {}\nurl = {}",
            string(&method),
            string(&url)
        );
        match error {
            Some(kind) => {
                let _ = writeln!(out, "error = {}", string(kind));
            }
            None => {
                let _ = writeln!(out, "status = {}", exchange.status);
                match bodies.get(i) {
                    Some(KeptBody::Whole(body)) if !body.is_empty() => {
                        let _ = writeln!(out, "body = {}", string(body));
                    }
                    Some(KeptBody::Digest { sha256, bytes }) => {
                        let _ = writeln!(
                            out,
                            "# The body was {bytes} bytes (SHA-256 {sha256}), more than the \
                             desk's log keeps: put it here.\nbody = \"\""
                        );
                    }
                    _ => {}
                }
            }
        }
        out.push('\n');
        mocked.push((method, url));
    }
}

fn write_expect(out: &mut String, report: &DeliveryReport) {
    out.push_str("[expect]\n");
    let _ = writeln!(out, "outcome = {}", string(report.outcome.status()));
    let message = match &report.outcome {
        Outcome::Trapped {
            reason: Some(reason),
            ..
        } => Some(reason),
        Outcome::Trapped { message, .. } => Some(message),
        Outcome::Rejected { reason } => Some(reason),
        Outcome::Ok | Outcome::TimedOut => None,
    };
    if let Some(message) = message {
        let _ = writeln!(out, "message_contains = {}", string(message));
    }
    if report.http.is_empty() {
        out.push_str("http = []\n");
    }
    if report.replies.is_empty() {
        out.push_str("replies = []\n");
    }
    out.push_str("custom_fields_exact = true\n");
    let mut fields = BTreeMap::new();
    for field in &report.custom_fields {
        fields.insert(field.key.as_str(), field.value.as_str());
    }
    if !fields.is_empty() {
        out.push_str("\n[expect.custom_fields]\n");
        for (key, value) in fields {
            let _ = writeln!(out, "{} = {}", toml_key(key), string(value));
        }
    }
    for exchange in &report.http {
        let request = &exchange.request;
        let _ = writeln!(
            out,
            "\n[[expect.http]]\nmethod = {}\nurl = {}",
            string(&request.method),
            string(&request.url)
        );
        if let Some(body) = &request.body {
            let _ = writeln!(out, "body = {}", string(body));
        }
        if exchange.blocked {
            out.push_str("blocked = true\n");
        }
    }
    for reply in &report.replies {
        let _ = writeln!(
            out,
            "\n[[expect.replies]]\nbody = {}\nis_internal = {}",
            string(&reply.body),
            reply.is_internal
        );
    }
    for line in &report.logs {
        let level = serde_json::to_value(line.level)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "\n[[expect.logs]]\nlevel = {}\ncontains = {}",
            string(&level),
            string(&line.message)
        );
    }
}

/// A TOML basic string: JSON's escapes are TOML's, but for DEL, which TOML wants
/// escaped and JSON does not.
fn string(s: &str) -> String {
    let json = serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_owned());
    json.replace('\u{7f}', "\\u007F")
}

fn string_array(items: &[String]) -> String {
    let items: Vec<String> = items.iter().map(|s| string(s)).collect();
    format!("[{}]", items.join(", "))
}

/// A bare key when it can be one, a quoted key otherwise.
fn toml_key(key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if bare { key.to_owned() } else { string(key) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_webhook_on_an_allowed_host_keeps_its_host_and_nothing_else() {
        let hosts = ["hooks.slack.com".to_owned()];
        let p = Placeholder::for_secret("webhook_url", "https://hooks.slack.com/T0/B0/x", &hosts);
        assert_eq!(p.value, "https://hooks.slack.com/FILL-IN-webhook_url");
        assert_eq!(p.public_prefix.as_deref(), Some("https://hooks.slack.com/"));
        for hidden in [
            "https://evil.example/T0/B0/x",
            "https://hooks.slack.com/",
            "https://HOOKS.slack.com/x",
            "xoxb-secret",
        ] {
            let p = Placeholder::for_secret("k", hidden, &hosts);
            assert_eq!(p.value, "FILL-IN-k", "{hidden}");
            assert_eq!(p.public_prefix, None);
        }
    }

    #[test]
    fn a_url_with_a_secret_becomes_its_placeholder_or_a_prefix() {
        let hook = Placeholder::for_secret(
            "hook",
            "https://hooks.slack.com/T0/B0/x",
            &["hooks.slack.com".to_owned()],
        );
        let token = Placeholder::for_secret("token", "t0k3n", &[]);
        let ps = [&hook, &token];
        assert_eq!(
            mock_url("https://hooks.slack.com/[redacted]", &ps),
            Some((hook.value.clone(), false))
        );
        assert_eq!(
            mock_url("https://api.example.com/v1?token=[redacted]&x=1", &ps),
            Some(("https://api.example.com/v1?token=*".to_owned(), true))
        );
        assert_eq!(mock_url("[redacted]", &ps), None);
        assert_eq!(
            mock_url("https://a.example/", &ps),
            Some(("https://a.example/".to_owned(), false))
        );
    }

    #[test]
    fn strings_and_keys_are_toml() {
        assert_eq!(string("a\"b\\c\n\u{7f}é"), r#""a\"b\\c\n\u007Fé""#);
        assert_eq!(toml_key("team_map-2"), "team_map-2");
        assert_eq!(toml_key("a.b"), r#""a.b""#);
        assert_eq!(toml_key(""), r#""""#);
    }
}
