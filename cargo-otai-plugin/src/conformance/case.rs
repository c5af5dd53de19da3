//! A conformance case: its folder as `conformance/README.md` describes it, read and
//! checked, its plugin built, and the folder a driver is given.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use serde_json::Value;

/// The folder of the ABI v1 cases, relative to the kit's root.
pub(crate) const CASES_DIR: &str = "conformance/v1";

/// What a host may be unable to do; only cases that require one of these may be
/// skipped by a driver.
pub(crate) const CAPABILITIES: &[&str] = &["interrupt", "memory_limit", "component"];

/// `case.json`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Settings {
    pub(crate) description: String,
    pub(crate) section: String,
    #[serde(default)]
    pub(crate) call: Call,
    #[serde(default)]
    pub(crate) ticket_id: Option<String>,
    #[serde(default)]
    pub(crate) status_change: Option<StatusChange>,
    #[serde(default)]
    pub(crate) host: HostSettings,
    #[serde(default)]
    pub(crate) requires: Vec<String>,
    #[serde(default)]
    pub(crate) tolerance_ms: Option<u64>,
    /// The world `plugin.wat`'s core module is encoded for, as a component.
    #[serde(default)]
    pub(crate) component: Option<String>,
}

/// Which export a case calls.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Call {
    #[default]
    OnEvent,
    RenderPanel,
    /// `on_event` for every event of a change of the ticket's status.
    StatusChange,
}

/// `case.json`'s `status_change`: the status the ticket of `event.json` changes to.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StatusChange {
    pub(crate) to: String,
    /// The resolution notes or the reason entered with the change.
    #[serde(default)]
    pub(crate) notes: String,
}

/// `case.json`'s `host`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HostSettings {
    pub(crate) deadline_ms: Option<u64>,
    pub(crate) memory_limit_bytes: Option<u64>,
}

/// One scripted answer of `http.json`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Answer {
    pub(crate) method: String,
    pub(crate) url: String,
    #[serde(default)]
    pub(crate) status: Option<u16>,
    #[serde(default)]
    pub(crate) body: Option<String>,
    #[serde(default)]
    pub(crate) error: Option<AnswerError>,
}

/// A scripted failure: no response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum AnswerError {
    Network,
    Timeout,
}

/// A case, read from its folder, with its JSON files' constructors expanded and the
/// defaults filled in.
#[derive(Debug, Clone)]
pub(crate) struct Case {
    pub(crate) dir: PathBuf,
    pub(crate) settings: Settings,
    pub(crate) wasm: Vec<u8>,
    pub(crate) event: Value,
    pub(crate) config: Value,
    pub(crate) http: Vec<Answer>,
    /// Kept as JSON: `http.json` as the driver gets it.
    pub(crate) http_json: Value,
    pub(crate) expected: Value,
}

impl Case {
    /// Reads the case in `dir`; `sample_event` is the kit's default event.
    pub(crate) fn read(dir: &Path, sample_event: &Value) -> Result<Case> {
        let settings: Settings = serde_json::from_value(read_json(dir, "case.json")?)
            .with_context(|| {
                format!(
                    "`{}` is not a valid case.json",
                    dir.join("case.json").display()
                )
            })?;
        if (settings.call == Call::StatusChange) != settings.status_change.is_some() {
            bail!(
                "`{}`: `\"call\": \"status_change\"` and a `status_change` member (`{{\"to\": STATUS}}`) \
                 go together",
                dir.join("case.json").display()
            );
        }
        for required in &settings.requires {
            if !CAPABILITIES.contains(&required.as_str()) {
                bail!(
                    "`{}`: `requires` names `{required}`; expected one of {}",
                    dir.join("case.json").display(),
                    CAPABILITIES.join(", ")
                );
            }
        }
        let wat_path = dir.join("plugin.wat");
        let wat = std::fs::read_to_string(&wat_path)
            .with_context(|| format!("failed to read `{}`", wat_path.display()))?;
        let mut wasm = wat::parse_str(&wat)
            .map_err(|e| anyhow::anyhow!("{e}"))
            .with_context(|| format!("`{}` is not valid WebAssembly text", wat_path.display()))?;
        if let Some(world) = &settings.component {
            wasm = super::component::encode(wasm, world).with_context(|| {
                format!(
                    "`{}` does not make a component of the world `{world}`",
                    wat_path.display()
                )
            })?;
        }
        // A host may run core modules only (docs/ABI.md section 14): a case that gives it a
        // component must let it skip.
        if wasmparser::Parser::is_component(&wasm)
            && !settings.requires.iter().any(|r| r == "component")
        {
            bail!(
                "`{}`: the plugin is a component, so `requires` must name `component`",
                dir.join("case.json").display()
            );
        }
        let manifest_path = dir.join("manifest.json");
        if manifest_path.exists() {
            let manifest = std::fs::read(&manifest_path)
                .with_context(|| format!("failed to read `{}`", manifest_path.display()))?;
            append_custom_section(&mut wasm, "ohd_manifest", &manifest);
        }
        let event = optional_json(dir, "event.json")?.unwrap_or_else(|| sample_event.clone());
        let config =
            optional_json(dir, "config.json")?.unwrap_or_else(|| Value::Object(Default::default()));
        let http_json =
            optional_json(dir, "http.json")?.unwrap_or_else(|| Value::Array(Vec::new()));
        let http: Vec<Answer> = serde_json::from_value(http_json.clone()).with_context(|| {
            format!(
                "`{}` is not a list of answers",
                dir.join("http.json").display()
            )
        })?;
        for answer in &http {
            if answer.error.is_some() == answer.status.is_some() {
                bail!(
                    "`{}`: the answer to {} {} needs either `status` or `error`",
                    dir.join("http.json").display(),
                    answer.method,
                    answer.url
                );
            }
        }
        let expected = read_json(dir, "expected.json")?;
        Ok(Case {
            dir: dir.to_owned(),
            settings,
            wasm,
            event,
            config,
            http,
            http_json,
            expected,
        })
    }

    /// The deadline the driver's host runs with.
    pub(crate) fn deadline_ms(&self) -> u64 {
        self.settings.host.deadline_ms.unwrap_or(5000)
    }

    /// The ticket id `render_panel` is called with.
    pub(crate) fn ticket_id(&self) -> String {
        self.settings.ticket_id.clone().unwrap_or_else(|| {
            self.event["ticket"]["id"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
    }

    /// Writes the folder a driver gets: everything but `expected.json`.
    pub(crate) fn prepare(&self, into: &Path) -> Result<()> {
        let write = |name: &str, bytes: &[u8]| {
            let path = into.join(name);
            std::fs::write(&path, bytes)
                .with_context(|| format!("failed to write `{}`", path.display()))
        };
        let json = |value: &Value| serde_json::to_vec_pretty(value).unwrap_or_default();
        write("plugin.wasm", &self.wasm)?;
        write("case.json", &json(&read_json(&self.dir, "case.json")?))?;
        write("event.json", &json(&self.event))?;
        write("config.json", &json(&self.config))?;
        write("http.json", &json(&self.http_json))?;
        Ok(())
    }
}

/// Every case folder under `root`, sorted by name.
pub(crate) fn case_dirs(root: &Path) -> Result<Vec<PathBuf>> {
    let entries =
        std::fs::read_dir(root).with_context(|| format!("failed to read `{}`", root.display()))?;
    let mut dirs = Vec::new();
    for entry in entries {
        let path = entry
            .with_context(|| format!("failed to read `{}`", root.display()))?
            .path();
        if path.join("case.json").is_file() {
            dirs.push(path);
        }
    }
    dirs.sort();
    Ok(dirs)
}

fn optional_json(dir: &Path, name: &str) -> Result<Option<Value>> {
    if dir.join(name).exists() {
        read_json(dir, name).map(Some)
    } else {
        Ok(None)
    }
}

/// Reads a JSON file of a case, with `$repeat` and `$concat` expanded.
fn read_json(dir: &Path, name: &str) -> Result<Value> {
    let path = dir.join(name);
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("failed to read `{}`", path.display()))?;
    let value: Value = serde_json::from_str(&text)
        .with_context(|| format!("`{}` is not valid JSON", path.display()))?;
    expand(value).with_context(|| format!("in `{}`", path.display()))
}

/// Expands the string constructors of `conformance/README.md`: `{"$repeat": [s, n]}`
/// and `{"$concat": [parts…]}`. `$json` is a matcher and is left for the comparison.
pub(crate) fn expand(value: Value) -> Result<Value> {
    Ok(match value {
        Value::Object(map) if map.len() == 1 && map.contains_key("$repeat") => {
            let args = &map["$repeat"];
            match (
                args.get(0).and_then(Value::as_str),
                args.get(1).and_then(Value::as_u64),
            ) {
                (Some(text), Some(times)) if args.as_array().is_some_and(|a| a.len() == 2) => {
                    let times = usize::try_from(times).unwrap_or(usize::MAX);
                    if text.len().saturating_mul(times) > 64 << 20 {
                        bail!("`$repeat` would make a string over 64 MiB");
                    }
                    Value::String(text.repeat(times))
                }
                _ => bail!("`$repeat` takes [string, count], found {args}"),
            }
        }
        Value::Object(map) if map.len() == 1 && map.contains_key("$concat") => {
            let Some(parts) = map["$concat"].as_array() else {
                bail!(
                    "`$concat` takes a list of strings, found {}",
                    map["$concat"]
                );
            };
            let mut out = String::new();
            for part in parts.clone() {
                match expand(part)? {
                    Value::String(s) => out.push_str(&s),
                    other => bail!("`$concat` takes strings, found {other}"),
                }
            }
            Value::String(out)
        }
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| Ok((k, expand(v)?)))
                .collect::<Result<_>>()?,
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(expand).collect::<Result<_>>()?),
        other => other,
    })
}

/// Appends a custom section, as docs/ABI.md section 7 shows.
fn append_custom_section(wasm: &mut Vec<u8>, name: &str, payload: &[u8]) {
    use wasm_encoder::Section;
    wasm_encoder::CustomSection {
        name: name.into(),
        data: payload.into(),
    }
    .append_to(wasm);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn constructors_build_strings_and_leave_matchers() {
        let value = json!({
            "a": {"$repeat": ["ab", 3]},
            "b": [{"$concat": ["x", {"$repeat": ["y", 2]}]}],
            "c": {"$json": {"k": 1}}
        });
        assert_eq!(
            expand(value).unwrap(),
            json!({"a": "ababab", "b": ["xyy"], "c": {"$json": {"k": 1}}})
        );
        assert!(expand(json!({"$repeat": ["a"]})).is_err());
        assert!(expand(json!({"$concat": [1]})).is_err());
    }

    #[test]
    fn an_appended_section_is_read_back_as_the_manifest() {
        let mut wasm = wat::parse_str("(module)").unwrap();
        append_custom_section(&mut wasm, "ohd_manifest", b"{\"id\":\"x\"}");
        let sections: Vec<(String, Vec<u8>)> = wasmparser::Parser::new(0)
            .parse_all(&wasm)
            .filter_map(|p| match p.ok()? {
                wasmparser::Payload::CustomSection(c) => {
                    Some((c.name().to_owned(), c.data().to_vec()))
                }
                _ => None,
            })
            .collect();
        assert_eq!(
            sections,
            [("ohd_manifest".to_owned(), b"{\"id\":\"x\"}".to_vec())]
        );
    }
}
