//! `cargo otai-plugin sample`: the payload a plugin receives for an event, as the
//! reference host writes it: the sample a fixture's `[event] kind` starts from, with
//! the same changes a fixture can make (`--set` as `[event.ticket]` and the other
//! patches, `--null` and `--remove` as `[event] null` and `remove`).
//!
//! Nothing is built or run: the payload is the host's, before any plugin's config is
//! added (`config` is `{}`, where the host puts the installation's values).

use std::io::Write;

use anyhow::{Context, Result, anyhow};
use clap::Args;
use serde_json::json;

use crate::CommonOptions;
use crate::event;
use crate::payload::{self, Change, MemberPath};

/// Print the JSON payload a plugin receives for EVENT: the sample that fixtures and
/// `run --event` start from, with changes. `config` is `{}`; the host puts the
/// installation's values there.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  cargo otai-plugin sample ticket.status_changed --set data.to_status=Resolved
  cargo otai-plugin sample ticket.created --set ticket.priority=Critical --null ticket.category

The changes are made as a fixture makes them: every --set, then every --null, then every
--remove; docs/FIXTURES.md has the fixture keys that do the same.")]
pub struct SampleCommand {
    /// The event: `ticket.created`, `ticket.status_changed`, `ticket.resolved`, …
    #[arg(value_name = "EVENT")]
    pub event: String,
    /// Set a member, e.g. `ticket.priority=Critical` (repeatable). VALUE is read as TOML
    /// when it is TOML (`3`, `true`, `"quoted"`, `{ team = "ops" }`), as text otherwise.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<String>,
    /// Set a member to `null` (repeatable), as the help desk sends a ticket without a
    /// category: `ticket.category`.
    #[arg(long = "null", value_name = "PATH")]
    pub null: Vec<String>,
    /// Remove a member (repeatable), e.g. `ticket.submitter.email`.
    #[arg(long = "remove", value_name = "PATH")]
    pub remove: Vec<String>,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub common: CommonOptions,
}

impl SampleCommand {
    /// Runs the command.
    ///
    /// # Errors
    /// An unknown event, a malformed `--set`, a member `--null` or `--remove` cannot
    /// find, or changes that make a payload no host delivers.
    pub fn exec(self) -> Result<()> {
        let event = event::event_from_kind(&self.event)?;
        let sets = self
            .set
            .iter()
            .map(|arg| {
                let (path, value) = arg.split_once('=').with_context(|| {
                    format!("`--set {arg}`: expected PATH=VALUE, e.g. `ticket.priority=Critical`")
                })?;
                let path = MemberPath::parse(path).map_err(|e| anyhow!("`--set {arg}`: {e:#}"))?;
                Ok(Change::Set(path, payload::value_from_text(value)))
            })
            .collect::<Result<Vec<_>>>()?;
        let paths = |flag: &str, paths: &[String], change: fn(MemberPath) -> Change| {
            paths
                .iter()
                .map(|p| {
                    MemberPath::parse(p)
                        .map(change)
                        .map_err(|e| anyhow!("`--{flag} {p}`: {e:#}"))
                })
                .collect::<Result<Vec<_>>>()
        };
        let nulls = paths("null", &self.null, Change::Null)?;
        let removes = paths("remove", &self.remove, Change::Remove)?;
        // One line that names the option: `--remove`: the payload has no `ticket.x` (…).
        let named = |flag: &'static str| move |err: anyhow::Error| anyhow!("`--{flag}`: {err:#}");
        let event = payload::apply(event, &sets).map_err(named("set"))?;
        let event = payload::apply(event, &nulls).map_err(named("null"))?;
        let event = payload::apply(event, &removes).map_err(named("remove"))?;
        let compact = event.to_payload_json(&json!({}));
        let mut out = self.common.shell().out();
        writeln!(out, "{}", indent(&compact))?;
        Ok(())
    }
}

/// Compact JSON laid out as `serde_json::to_string_pretty` lays it out, members kept in
/// their order (the ABI's, which a `serde_json::Value` would sort).
fn indent(compact: &str) -> String {
    let mut out = String::with_capacity(compact.len() * 2);
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut chars = compact.chars().peekable();
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        out.push_str(&"  ".repeat(depth));
    };
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                out.push(c);
                let close = if c == '{' { '}' } else { ']' };
                if chars.peek() == Some(&close) {
                    out.push(close);
                    chars.next();
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c if c.is_whitespace() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    #[test]
    fn indenting_keeps_the_order_and_lays_out_as_serde_json_does() {
        // Sorted keys, so that serde_json's own layout is comparable.
        let value = json!({
            "a": {"b": [1, {"c": "x,\"y\":{[z]}\\"}], "d": {}, "e": []},
            "f": null, "g": "é \u{1}"
        });
        let compact = serde_json::to_string(&value).unwrap();
        assert_eq!(
            indent(&compact),
            serde_json::to_string_pretty(&value).unwrap()
        );
        // The order is the text's, not sorted.
        let text = indent(r#"{"z":1,"a":{"y":true,"b":[]}}"#);
        assert_eq!(
            text,
            "{\n  \"z\": 1,\n  \"a\": {\n    \"y\": true,\n    \"b\": []\n  }\n}"
        );
        assert_eq!(
            serde_json::from_str::<Value>(&text).unwrap(),
            json!({"z": 1, "a": {"y": true, "b": []}})
        );
    }
}
