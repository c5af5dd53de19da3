//! Config values checked against `config_schema`.
//!
//! Secret values are wrapped in [`Secret`] as soon as they are read, so that no
//! `Debug` or `Display` of a [`Config`], a [`ConfigValue`] or a [`Diagnostics`] can
//! show one; messages about a secret field never quote its value.

use std::fmt;

use indexmap::IndexMap;
use serde_json::Value;

use super::suggest::{nearest, quoted_list};
use super::{ConfigField, ConfigType, Diagnostic, Diagnostics, Manifest};
use crate::limits::{MAX_CONFIG, MAX_CONFIG_VALUE};

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

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
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

impl ConfigValue {
    /// The value as the plugin receives it, secrets decrypted.
    fn to_payload_json(&self) -> Value {
        match self {
            ConfigValue::String(s) | ConfigValue::Select(s) => Value::String(s.clone()),
            ConfigValue::Secret(s) => Value::String(s.expose().to_owned()),
            ConfigValue::Boolean(b) => Value::Bool(*b),
            ConfigValue::Integer(i) => Value::from(*i),
        }
    }
}

impl fmt::Display for ConfigValue {
    /// JSON notation (`"#support"`, `true`, `3`); a secret prints `[redacted]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigValue::Secret(s) => write!(f, "{s}"),
            other => write!(f, "{}", other.to_payload_json()),
        }
    }
}

/// An installation's config, validated against `config_schema`, defaults filled.
/// `Debug` and `Display` redact secrets.
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

    /// Whether no field has a value.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The JSON object the plugin receives as the payload's `config`, secrets decrypted.
    pub fn to_payload_json(&self) -> Value {
        Value::Object(
            self.values
                .iter()
                .map(|(k, v)| (k.clone(), v.to_payload_json()))
                .collect(),
        )
    }

    /// The decrypted values of the secret fields, for redacting them from anything
    /// shown to people (delivery reports, logs). Empty secrets are left out: there is
    /// nothing to redact, and replacing an empty string everywhere would mangle text.
    pub fn secret_values(&self) -> impl Iterator<Item = &str> {
        self.values.values().filter_map(|v| match v {
            ConfigValue::Secret(s) if !s.expose().is_empty() => Some(s.expose()),
            _ => None,
        })
    }
}

impl fmt::Display for Config {
    /// A JSON-like object, `{"channel": "#support", "webhook_url": [redacted]}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, (key, value)) in self.values.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{key:?}: {value}")?;
        }
        f.write_str("}")
    }
}

/// The most of an unknown key a message quotes, in bytes.
const LONGEST_KEY_SHOWN: usize = 64;

/// `16 KiB (16384 bytes)`: a limit as the messages state it.
fn size(bytes: usize) -> String {
    format!("{} KiB ({bytes} bytes)", bytes / 1024)
}

/// The size of a config as it travels in the payload (compact JSON), and its largest
/// values, largest first, with the size of each in that JSON.
fn payload_size(config: &Config) -> (usize, Vec<(&str, usize)>) {
    let json = config.to_payload_json();
    let total = serde_json::to_vec(&json).map_or(0, |v| v.len());
    let mut each: Vec<(&str, usize)> = config
        .values
        .iter()
        .map(|(k, v)| {
            let len = serde_json::to_vec(&v.to_payload_json()).map_or(0, |v| v.len());
            (k.as_str(), len)
        })
        .collect();
    each.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    (total, each)
}

/// `a string`, `a number`, …: what a JSON value is, never what it holds.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Checks one value against its field. The error is a phrase that follows "the value"
/// or "the default", e.g. `must be a string, found a number`; it quotes the value only
/// for a `select` that is not secret.
pub(crate) fn check_value(field: &ConfigField, value: &Value) -> Result<ConfigValue, String> {
    let expected = |what: &str| format!("must be {what}, found {}", kind(value));
    // Before the type: a string of megabytes is refused for its size whatever the
    // field's type, and no message below ever holds it.
    if let Value::String(s) = value
        && s.len() > MAX_CONFIG_VALUE
    {
        return Err(format!(
            "is {} bytes long; a config value may be at most {}",
            s.len(),
            size(MAX_CONFIG_VALUE)
        ));
    }
    match field.ty {
        ConfigType::String => match value {
            Value::String(s) if field.secret => Ok(ConfigValue::Secret(Secret::new(s.clone()))),
            Value::String(s) => Ok(ConfigValue::String(s.clone())),
            _ => Err(expected("a string")),
        },
        ConfigType::Boolean => value
            .as_bool()
            .map(ConfigValue::Boolean)
            .ok_or_else(|| expected("`true` or `false`")),
        ConfigType::Integer => match value {
            Value::Number(n) => match n.as_i64() {
                Some(i) => Ok(ConfigValue::Integer(i)),
                None if n.is_u64() => Err("is out of range: integers are 64-bit signed".to_owned()),
                None => Err("must be a whole number".to_owned()),
            },
            _ => Err(expected("a whole number")),
        },
        ConfigType::Select => {
            let Value::String(s) = value else {
                return Err(expected("one of the options (a string)"));
            };
            let options = field.options.as_deref().unwrap_or_default();
            if options.contains(s) {
                return Ok(ConfigValue::Select(s.clone()));
            }
            if field.secret {
                return Err("is not one of the options".to_owned());
            }
            let hint = match nearest(s, options.iter().map(String::as_str)) {
                Some(n) => format!("; did you mean {n:?}?"),
                None => String::new(),
            };
            Err(format!(
                "{s:?} is not one of the options {}{hint}",
                quoted_list(options.iter().map(String::as_str))
            ))
        }
    }
}

impl Manifest {
    /// Checks config values (a JSON object) against `config_schema`: required fields
    /// present, types right, select values among the options, no keys outside the
    /// schema, each string value within [`MAX_CONFIG_VALUE`] bytes and the whole config
    /// (as the payload carries it) within [`MAX_CONFIG`]; fills defaults. A `null` value counts as not set. Diagnostics never
    /// contain a secret's value, nor the value of an unknown key (it may be a
    /// misspelt secret).
    ///
    /// ```
    /// use otai_plugin_abi::manifest::Manifest;
    /// use serde_json::json;
    ///
    /// let m = Manifest::from_json(br##"{"id":"com.example.x","name":"X","version":"1.0.0",
    ///     "description":"d","events":["ticket.created"],"config_schema":{
    ///     "webhook_url":{"type":"string","required":true,"secret":true},
    ///     "channel":{"type":"string","default":"#support"}}}"##).unwrap();
    ///
    /// let config = m.validate_config(&json!({"webhook_url": "https://hooks.slack.com/s/T0"})).unwrap();
    /// assert_eq!(config.to_string(), r##"{"webhook_url": [redacted], "channel": "#support"}"##);
    /// assert_eq!(config.to_payload_json()["webhook_url"], "https://hooks.slack.com/s/T0");
    ///
    /// let errors = m.validate_config(&json!({"chanel": "#ops"})).unwrap_err();
    /// assert_eq!(errors.to_string(), "error: webhook_url: `webhook_url` is required; set a value\n\
    ///     error: chanel: unknown config key \"chanel\"; did you mean \"channel\"?\n");
    /// ```
    ///
    /// # Errors
    /// Every problem found, with the config key as its path (empty when `values` is
    /// not an object).
    pub fn validate_config(&self, values: &Value) -> Result<Config, Diagnostics> {
        let mut out = Diagnostics::default();
        let Some(object) = values.as_object() else {
            out.push(Diagnostic::error(
                "",
                format!(
                    "the config must be a JSON object of field names to values, found {}",
                    kind(values)
                ),
            ));
            return Err(out);
        };
        let mut config = Config::default();
        for (key, field) in &self.config_schema {
            let given = object.get(key).filter(|v| !v.is_null());
            let (value, source) = match (given, &field.default) {
                (Some(v), _) => (v, "the value"),
                (None, Some(default)) => (default, "the plugin's default"),
                (None, None) => {
                    if field.required {
                        let label = field
                            .label
                            .as_deref()
                            .map(|l| format!(" ({l})"))
                            .unwrap_or_default();
                        out.push(Diagnostic::error(
                            key.clone(),
                            format!("`{key}`{label} is required; set a value"),
                        ));
                    }
                    continue;
                }
            };
            match check_value(field, value) {
                Ok(v) => {
                    config.values.insert(key.clone(), v);
                }
                Err(problem) => out.push(Diagnostic::error(
                    key.clone(),
                    format!("{source} {problem}"),
                )),
            }
        }
        for key in object
            .keys()
            .filter(|k| !self.config_schema.contains_key(*k))
        {
            let known = self.config_schema.keys().map(String::as_str);
            let listed = if self.config_schema.is_empty() {
                "this plugin has no config; remove it".to_owned()
            } else {
                format!(
                    "the plugin's config keys are {}",
                    quoted_list(known.clone())
                )
            };
            // A key is an identifier of a few words; a longer one is not echoed whole
            // (nor compared with each key, which costs its length times theirs).
            if key.len() > LONGEST_KEY_SHOWN {
                let mut cut = LONGEST_KEY_SHOWN;
                while !key.is_char_boundary(cut) {
                    cut -= 1;
                }
                let start = &key[..cut];
                out.push(Diagnostic::error(
                    format!("{start}…"),
                    format!(
                        "unknown config key of {} bytes, starting {start:?}; {listed}",
                        key.len()
                    ),
                ));
                continue;
            }
            let hint = match nearest(key, known) {
                Some(n) => format!("did you mean {n:?}?"),
                None => listed,
            };
            out.push(Diagnostic::error(
                key.clone(),
                format!("unknown config key {key:?}; {hint}"),
            ));
        }
        let (total, largest) = payload_size(&config);
        if total > MAX_CONFIG {
            let largest: Vec<String> = largest
                .iter()
                .take(3)
                .map(|(key, len)| format!("`{key}` ({len} bytes)"))
                .collect();
            out.push(Diagnostic::error(
                "",
                format!(
                    "the config is {total} bytes as the plugin receives it (JSON, defaults \
                     included); a config may be at most {}. The largest values: {}",
                    size(MAX_CONFIG),
                    largest.join(", ")
                ),
            ));
        }
        if out.has_errors() {
            Err(out)
        } else {
            Ok(config)
        }
    }
}
