//! Declarative fixtures: `tests/fixtures/*.toml`, one event (or one panel render) each,
//! with the config, the HTTP mocks and what to expect.
//!
//! The format is documented for plugin authors in `docs/FIXTURES.md`, every key with an
//! example; the test in `fixture/reference.rs` holds that page to the types below and
//! to `mock::HttpMock` (a key added here and not there, a key there and not here, a key
//! without an example, or an example that no longer loads, fails it).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use otai_plugin_abi::status::LogLevel;
use otai_plugin_host::{Event, Outcome};
use serde::Deserialize;
use serde_json::Value;

use crate::event::{event_from_file, event_from_kind};
use crate::mock::HttpMock;
use crate::payload::{self, Change, MemberPath};
use crate::values::toml_to_json;

/// One fixture file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Fixture {
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
pub(crate) struct EventSpec {
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
    /// Members set to `null` (`ticket.category`), after the patches.
    #[serde(default)]
    pub null: Vec<String>,
    /// Members removed (`ticket.submitter.email`), after the patches and `null`.
    #[serde(default)]
    pub remove: Vec<String>,
}

impl EventSpec {
    /// The merge patch made of `occurred_at`, `ticket`, `actor` and `data`.
    pub(crate) fn patch(&self) -> Value {
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

    /// `null` and `remove` as changes, each list with its key for messages.
    ///
    /// # Errors
    /// A path that is not one (an empty key, or into `event` or `config`).
    pub(crate) fn member_changes(&self) -> Result<[(&'static str, Vec<Change>); 2]> {
        let paths = |key: &'static str, paths: &[String], change: fn(MemberPath) -> Change| {
            paths
                .iter()
                .map(|p| MemberPath::parse(p).map(change))
                .collect::<Result<Vec<_>>>()
                .with_context(|| format!("`[event] {key}`"))
                .map(|changes| (key, changes))
        };
        Ok([
            paths("null", &self.null, Change::Null)?,
            paths("remove", &self.remove, Change::Remove)?,
        ])
    }
}

/// `[panel]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PanelSpec {
    /// The ticket whose panel is rendered.
    pub ticket_id: String,
}

/// `[expect]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Expect {
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
    /// No custom field but those of `custom_fields` (none without it).
    #[serde(default)]
    pub custom_fields_exact: bool,
    /// Each matches some log line.
    #[serde(default)]
    pub logs: Vec<ExpectLog>,
    /// For panel fixtures: the URL returned.
    #[serde(default)]
    pub panel_url: Option<String>,
    /// The most fuel the delivery (or panel) may consume.
    #[serde(default)]
    pub max_fuel: Option<u64>,
}

/// The outcomes a fixture can expect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum OutcomeName {
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
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            OutcomeName::Ok => "ok",
            OutcomeName::Trapped => "trapped",
            OutcomeName::TimedOut => "timed_out",
            OutcomeName::Rejected => "rejected",
        }
    }

    /// The name of a report's outcome.
    pub(crate) fn of(outcome: &Outcome) -> OutcomeName {
        match outcome {
            Outcome::Ok => OutcomeName::Ok,
            Outcome::Trapped { .. } => OutcomeName::Trapped,
            Outcome::TimedOut => OutcomeName::TimedOut,
            Outcome::Rejected { .. } => OutcomeName::Rejected,
        }
    }
}

/// One `[[expect.http]]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExpectHttp {
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
pub(crate) struct ExpectReply {
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
pub(crate) struct ExpectLog {
    /// `debug`, `info`, `warn` or `error` (any when absent).
    #[serde(default)]
    pub level: Option<LogLevel>,
    /// Text in the line.
    pub contains: String,
}

/// A fixture file, read and parsed.
#[derive(Debug, Clone)]
pub(crate) struct LoadedFixture {
    /// The file name without `.toml`.
    pub name: String,
    /// The file.
    pub path: PathBuf,
    /// Its contents.
    pub fixture: Fixture,
}

impl LoadedFixture {
    /// The installation's config values (`{}` when the fixture has no `[config]`).
    pub(crate) fn config(&self) -> Value {
        self.fixture.config.as_ref().map_or_else(
            || Value::Object(serde_json::Map::new()),
            |t| toml_to_json(&toml::Value::Table(t.clone())),
        )
    }

    /// The event of `[event]`: its kind's sample payload or its file, with its
    /// overrides merged in; `None` for a panel fixture.
    ///
    /// # Errors
    /// The file cannot be read, or the result is not an ABI v1 payload.
    pub(crate) fn event(&self) -> Result<Option<Event>> {
        let Some(spec) = &self.fixture.event else {
            return Ok(None);
        };
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let event = match (&spec.kind, &spec.file) {
            (None, Some(file)) => event_from_file(&dir.join(file))?,
            (Some(kind), None) => event_from_kind(kind)?,
            _ => bail!("`[event]` needs `kind` or `file`, one of them"),
        };
        let patch = spec.patch();
        let mut event = if patch.as_object().is_some_and(|p| p.is_empty()) {
            event
        } else {
            event
                .merge_json(patch)
                .context("the `[event]` overrides do not make a valid payload")?
        };
        for (key, changes) in spec.member_changes()? {
            event = payload::apply(event, &changes).with_context(|| format!("`[event] {key}`"))?;
        }
        Ok(Some(event))
    }
}

/// Reads and parses a fixture file; a syntax or shape error names `file:line:column`.
///
/// # Errors
/// The file cannot be read or parsed, or has neither or both of `[event]` and `[panel]`.
pub(crate) fn load(path: &Path) -> Result<LoadedFixture> {
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
        (Some(event), None) if event.kind.is_some() && event.file.is_some() => bail!(
            "{}: `[event]` has `kind` and `file`: give one (a file's payload names its event)",
            path.display()
        ),
        (Some(event), None) if event.kind.is_none() && event.file.is_none() => {
            bail!(
                "{}: `[event]` needs `kind = \"ticket.created\"` (or another event) or `file = \"payload.json\"`",
                path.display()
            )
        }
        (Some(event), None) => {
            event
                .member_changes()
                .with_context(|| path.display().to_string())?;
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
pub(crate) fn discover(dir: &Path) -> Result<Vec<PathBuf>> {
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

pub(crate) mod budget;

#[cfg(test)]
mod from_desk;
#[cfg(test)]
mod reference;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(text: &str) -> Result<LoadedFixture> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.toml");
        std::fs::write(&path, text).unwrap();
        load(&path).map_err(|e| {
            anyhow::anyhow!(format!("{e:#}").replace(&dir.path().display().to_string(), "DIR"))
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
    fn an_event_has_a_kind_or_a_file_and_paths_are_checked_at_load() {
        let err = parse("[event]\nkind = \"ticket.created\"\nfile = \"p.json\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("`[event]` has `kind` and `file`"), "{err}");
        let err = parse("[event]\nkind = \"ticket.created\"\nremove = [\"ticket..x\"]\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("DIR/f.toml: `[event] remove`: `ticket..x` is not a member path"),
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
}
