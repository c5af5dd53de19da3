//! Config values typed as text (a field of the web UI's form, `--set KEY=VALUE` on the
//! command line) read against the type of their field in `config_schema`: the one
//! reading both share, so that a value means the same wherever it is typed.
//!
//! The rules:
//! - empty text is "no value" (the field's default applies, a required field is
//!   missing);
//! - `integer` and `boolean` text is read without the spaces around it (a number or
//!   `true` pasted with a space is still one); `string` and `select` text is taken
//!   as typed: a space may be part of it;
//! - a `boolean` is `true` or `false` (the form's checkbox sends `true`, and the hidden
//!   field before it `false`);
//! - an `integer` is a whole number of 64 bits, with an optional sign;
//! - whether a `select`'s text is one of its options, and sizes, are checked with the
//!   rest of the config
//!   ([`Manifest::validate_config`](otai_plugin_abi::manifest::Manifest::validate_config)).

use otai_plugin_abi::manifest::{ConfigField, ConfigType, Diagnostic};
use serde_json::Value;

/// The most of a typed text an error quotes, in bytes.
const LONGEST_TEXT_SHOWN: usize = 64;

/// Reads `text`, typed for the field `key` of type `field`, as the JSON value
/// [`Desk::configure`](crate::Desk::configure) takes: [`Value::Null`] for empty text
/// (no value), else a value of the field's type.
///
/// ```
/// use otai_plugin_abi::manifest::{ConfigField, ConfigType};
/// use otai_plugin_desk::parse_config_text;
/// use serde_json::{Value, json};
///
/// let field: ConfigField = serde_json::from_value(json!({"type": "integer"}))?;
/// assert_eq!(parse_config_text("retries", &field, " 3 "), Ok(json!(3)));
/// assert_eq!(parse_config_text("retries", &field, ""), Ok(Value::Null));
/// let error = parse_config_text("retries", &field, "three").unwrap_err();
/// assert_eq!(error.to_string(), r#"error: retries: expected a whole number, found "three""#);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// A [`Diagnostic`] at `key` saying what was expected and what was found (quoted up
/// to 64 bytes, never for a secret field).
pub fn parse_config_text(key: &str, field: &ConfigField, text: &str) -> Result<Value, Diagnostic> {
    let trimmed = match field.ty {
        ConfigType::Integer | ConfigType::Boolean => text.trim(),
        ConfigType::String | ConfigType::Select => text,
    };
    if trimmed.is_empty() {
        return Ok(Value::Null);
    }
    let refused = |expected: &str| {
        let found = if field.secret {
            format!("{} bytes of text", trimmed.len())
        } else {
            shown(trimmed)
        };
        Diagnostic::error(key, format!("expected {expected}, found {found}"))
    };
    match field.ty {
        ConfigType::String | ConfigType::Select => Ok(Value::String(text.to_owned())),
        ConfigType::Boolean => match trimmed {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err(refused("`true` or `false`")),
        },
        ConfigType::Integer => match trimmed.parse::<i64>() {
            Ok(i) => Ok(Value::from(i)),
            Err(e) => match e.kind() {
                std::num::IntErrorKind::PosOverflow | std::num::IntErrorKind::NegOverflow => Err(
                    refused("a whole number from -9223372036854775808 to 9223372036854775807"),
                ),
                _ => Err(refused("a whole number")),
            },
        },
    }
}

/// `"text"`, or its first 64 bytes and how long it was.
fn shown(text: &str) -> String {
    if text.len() <= LONGEST_TEXT_SHOWN {
        return format!("{text:?}");
    }
    let mut cut = LONGEST_TEXT_SHOWN;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{} bytes of text starting {:?}", text.len(), &text[..cut])
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn field(schema: Value) -> ConfigField {
        serde_json::from_value(schema).unwrap()
    }

    #[test]
    fn every_type_valid_and_invalid_text() {
        let string = field(json!({"type": "string"}));
        let secret = field(json!({"type": "string", "secret": true}));
        let select = field(json!({"type": "select", "options": ["eu", "us"]}));
        let integer = field(json!({"type": "integer"}));
        let boolean = field(json!({"type": "boolean"}));
        let ok: &[(&ConfigField, &str, Value)] = &[
            // Empty text is no value, whatever the type.
            (&string, "", Value::Null),
            (&secret, "", Value::Null),
            (&select, "", Value::Null),
            (&integer, "", Value::Null),
            (&boolean, "", Value::Null),
            // Text is taken as typed, spaces included.
            (&string, "#ops", json!("#ops")),
            (&string, "  ", json!("  ")),
            (&string, " a b ", json!(" a b ")),
            (&string, "3", json!("3")),
            (&secret, " xoxb-1 ", json!(" xoxb-1 ")),
            (&select, "us", json!("us")),
            // Not an option: left to `validate_config`, which names the options.
            (&select, "mars", json!("mars")),
            // Numbers and booleans are read without the spaces around them.
            (&integer, "3", json!(3)),
            (&integer, " 3\t", json!(3)),
            (&integer, "   ", Value::Null),
            (&integer, "-12", json!(-12)),
            (&integer, "+7", json!(7)),
            (&integer, "0", json!(0)),
            (&integer, "9223372036854775807", json!(i64::MAX)),
            (&integer, "-9223372036854775808", json!(i64::MIN)),
            (&boolean, "true", json!(true)),
            (&boolean, "false", json!(false)),
            (&boolean, " true\n", json!(true)),
            (&boolean, " ", Value::Null),
        ];
        for (field, text, expected) in ok {
            assert_eq!(
                parse_config_text("k", field, text).as_ref(),
                Ok(expected),
                "{:?} as {text:?}",
                field.ty
            );
        }
        let refused: &[(&ConfigField, &str, &str)] = &[
            (
                &integer,
                "three",
                r#"expected a whole number, found "three""#,
            ),
            (&integer, "3.5", r#"expected a whole number, found "3.5""#),
            (&integer, "1e3", r#"expected a whole number, found "1e3""#),
            (&integer, "3 4", r#"expected a whole number, found "3 4""#),
            (
                &integer,
                "9223372036854775808",
                "expected a whole number from -9223372036854775808 to 9223372036854775807, \
                 found \"9223372036854775808\"",
            ),
            (&boolean, "on", r#"expected `true` or `false`, found "on""#),
            (
                &boolean,
                "yes",
                r#"expected `true` or `false`, found "yes""#,
            ),
            (
                &boolean,
                "True",
                r#"expected `true` or `false`, found "True""#,
            ),
            (&boolean, "1", r#"expected `true` or `false`, found "1""#),
        ];
        for (field, text, message) in refused {
            assert_eq!(
                parse_config_text("k", field, text),
                Err(Diagnostic::error("k", *message)),
                "{:?} as {text:?}",
                field.ty
            );
        }
    }

    #[test]
    fn a_long_text_is_quoted_in_part() {
        let integer = field(json!({"type": "integer"}));
        let text = "9".repeat(10_000);
        let error = parse_config_text("retries", &integer, &text).unwrap_err();
        assert_eq!(error.path, "retries");
        assert!(
            error.message.ends_with(&format!(
                "found 10000 bytes of text starting \"{}\"",
                "9".repeat(64)
            )),
            "{}",
            error.message
        );
    }
}
