//! Config values checked against `config_schema`.
// PLACEHOLDER: the abi helper completes this file.

use indexmap::IndexMap;

use super::{Diagnostics, Manifest};

/// A secret config value. Its `Debug` and `Display` print `[redacted]`, never the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The decrypted value, for the one place that must hand it on (the event payload).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// One validated config value.
#[derive(Debug, Clone, PartialEq)]
pub enum ConfigValue {
    /// A `string` field.
    String(String),
    /// A `string` field with `secret: true`.
    Secret(Secret),
    /// A `boolean` field.
    Boolean(bool),
    /// An `integer` field.
    Integer(i64),
    /// A `select` field: one of its options.
    Select(String),
}

/// An installation's config, validated against `config_schema`, defaults filled.
/// `Debug` redacts secrets.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Config {
    values: IndexMap<String, ConfigValue>,
}

impl Config {
    /// The value of `key`, if set or defaulted.
    pub fn get(&self, key: &str) -> Option<&ConfigValue> {
        self.values.get(key)
    }

    /// All values, in `config_schema` order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &ConfigValue)> {
        self.values.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The JSON object the plugin receives as the payload's `config`, secrets decrypted.
    pub fn to_payload_json(&self) -> serde_json::Value {
        serde_json::Value::Object(Default::default())
    }
}

impl Manifest {
    /// Checks config values (a JSON object) against `config_schema`: required fields
    /// present, types right, select values among the options, no keys outside the
    /// schema; fills defaults. Diagnostics never contain a secret's value.
    ///
    /// # Errors
    /// Every problem found, with the config key as its path.
    pub fn validate_config(&self, values: &serde_json::Value) -> Result<Config, Diagnostics> {
        let _ = values;
        Ok(Config::default())
    }
}
