//! Values written in TOML or JSON: config files, a fixture's tables, mock bodies.

use std::path::Path;

use anyhow::{Context, Result};
use serde_json::Value;

/// Reads a JSON or TOML file of values (config files).
///
/// # Errors
/// The file cannot be read or parsed.
pub(crate) fn read_values(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("failed to read `{}`", path.display()))?;
    if path.extension().is_some_and(|e| e == "toml") {
        let table: toml::Table = toml::from_str(&text)
            .with_context(|| format!("`{}` is not valid TOML", path.display()))?;
        Ok(toml_to_json(&toml::Value::Table(table)))
    } else {
        serde_json::from_str(&text)
            .with_context(|| format!("`{}` is not valid JSON", path.display()))
    }
}

/// TOML to JSON (dates become strings).
pub(crate) fn toml_to_json(value: &toml::Value) -> Value {
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
