//! Lists and maps written in a `string` config field.
//!
//! The help desk's config types are `string`, `boolean`, `integer` and `select`; a plugin
//! that needs a list (channels) or a map (category → team) declares a `string` field
//! and reads its text in one of these forms:
//!
//! - [`List`]: `#ops, #support` — items separated by commas or line breaks;
//! - [`KeyValues`]: `Billing=finance, Network=it-ops` — `key=value` entries separated
//!   the same way.
//!
//! Space around items, keys and values is ignored, and so are empty entries (a trailing
//! comma, a blank line). A value runs from the first `=` to the end of its entry, so it
//! may hold `=` but not a comma. The SDK re-exports both types as
//! `otai_plugin_sdk::config::{List, KeyValues}`: a config struct field of either type
//! reads the text when the event is decoded, and `#[derive(Config)]` parses the
//! field's `default` when the plugin compiles.
//!
//! Errors give positions, never the text: the field may be a secret, and a message
//! reaches the help desk's delivery log.
//!
//! ```
//! use otai_plugin_abi::config_text::{KeyValues, List};
//!
//! let teams = KeyValues::parse("Billing = finance, Network=it-ops,").unwrap();
//! assert_eq!(teams.get("Network"), Some("it-ops"));
//! assert_eq!(teams.get_ignore_ascii_case("billing"), Some("finance"));
//! assert_eq!(teams.iter().map(|(k, _)| k).collect::<Vec<_>>(), ["Billing", "Network"]);
//!
//! let err = KeyValues::parse("Billing=finance, Network").unwrap_err();
//! assert_eq!(err.to_string(), "entry 2 (column 18) has no `=`: write `key=value`");
//!
//! let channels = List::parse("#ops,\n #support");
//! assert_eq!(channels.iter().collect::<Vec<_>>(), ["#ops", "#support"]);
//! ```

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, Visitor};

/// The entries of `text`, trimmed, without the empty ones, each with where it starts.
fn entries(text: &str) -> impl Iterator<Item = (Position, &str)> {
    let mut number = 0;
    text.split([',', '\n'])
        .scan(0usize, |offset, raw| {
            let start = *offset;
            *offset += raw.len() + 1;
            Some((start, raw))
        })
        .filter_map(move |(start, raw)| {
            let trimmed = raw.trim();
            if trimmed.is_empty() {
                return None;
            }
            number += 1;
            let lead = raw.len() - raw.trim_start().len();
            Some((Position::new(text, start + lead, number), trimmed))
        })
}

/// Where an entry starts: its number among the non-empty entries, and its line and
/// column in the text, both counted from 1 (columns in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// The entry's number, from 1.
    pub entry: usize,
    /// The line, from 1.
    pub line: usize,
    /// The column, from 1, in characters.
    pub column: usize,
}

impl Position {
    fn new(text: &str, offset: usize, entry: usize) -> Position {
        // `get`, not indexing: `offset` is always a character boundary, and a slice that
        // can panic links the panic's formatting of `str` and `char` (Unicode tables,
        // about 10 KB) into every plugin that reads a `KeyValues`.
        let before = text.get(..offset).unwrap_or_default();
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        Position {
            entry,
            line: before.matches('\n').count() + 1,
            column: before.get(line_start..).unwrap_or_default().chars().count() + 1,
        }
    }
}

impl fmt::Display for Position {
    /// `entry 2 (column 14)`, or `entry 3 (line 2, column 1)` in a text of several
    /// lines.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 1 {
            write!(f, "entry {} (column {})", self.entry, self.column)
        } else {
            write!(
                f,
                "entry {} (line {}, column {})",
                self.entry, self.line, self.column
            )
        }
    }
}

/// What is wrong with a [`KeyValues`] text, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyValuesError {
    /// Where the faulty entry starts.
    pub at: Position,
    /// What is wrong with it.
    pub problem: KeyValuesProblem,
}

/// The ways a `key=value` entry can be wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyValuesProblem {
    /// The entry has no `=`.
    NoEquals,
    /// Nothing but space before the `=`.
    EmptyKey,
    /// The key was given by an earlier entry, this number.
    DuplicateKey {
        /// The number of the entry that gave it first.
        first: usize,
    },
}

impl fmt::Display for KeyValuesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.problem {
            KeyValuesProblem::NoEquals => {
                write!(f, "{} has no `=`: write `key=value`", self.at)
            }
            KeyValuesProblem::EmptyKey => write!(f, "{} has no key before `=`", self.at),
            KeyValuesProblem::DuplicateKey { first } => {
                write!(f, "{} repeats the key of entry {first}", self.at)
            }
        }
    }
}

impl std::error::Error for KeyValuesError {}

/// A map written as `key=value` entries, in the order written. Keys are unique and
/// compared exactly ([`get_ignore_ascii_case`](Self::get_ignore_ascii_case) for
/// names an admin may capitalise differently); values may be empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyValues {
    entries: Vec<(String, String)>,
}

impl KeyValues {
    /// Reads `key=value, key2=value2` (see the [module](self) for the form).
    ///
    /// # Errors
    /// The first entry without `=`, with an empty key, or repeating an earlier key.
    pub fn parse(text: &str) -> Result<KeyValues, KeyValuesError> {
        let mut out = KeyValues::default();
        for (at, entry) in entries(text) {
            let error = |problem| KeyValuesError { at, problem };
            let Some((key, value)) = entry.split_once('=') else {
                return Err(error(KeyValuesProblem::NoEquals));
            };
            let key = key.trim_end();
            if key.is_empty() {
                return Err(error(KeyValuesProblem::EmptyKey));
            }
            if let Some(first) = out.entries.iter().position(|(k, _)| k == key) {
                // Entries are numbered from 1 and every one before this was kept.
                return Err(error(KeyValuesProblem::DuplicateKey { first: first + 1 }));
            }
            out.entries
                .push((key.to_owned(), value.trim_start().to_owned()));
        }
        Ok(out)
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// The value of the first key equal to `key` ignoring ASCII case.
    pub fn get_ignore_ascii_case(&self, key: &str) -> Option<&str> {
        self.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    }

    /// The entries, in the order written.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// How many entries there are.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none (the text was empty or only separators).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl std::str::FromStr for KeyValues {
    type Err = KeyValuesError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        KeyValues::parse(text)
    }
}

/// A list written as items separated by commas or line breaks, in the order written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct List {
    items: Vec<String>,
}

impl List {
    /// Reads `a, b, c` (see the [module](self) for the form). Every text is a list.
    pub fn parse(text: &str) -> List {
        List {
            items: entries(text).map(|(_, item)| item.to_owned()).collect(),
        }
    }

    /// Whether `item` is in the list.
    pub fn contains(&self, item: &str) -> bool {
        self.iter().any(|i| i == item)
    }

    /// Whether an item equals `item` ignoring ASCII case.
    pub fn contains_ignore_ascii_case(&self, item: &str) -> bool {
        self.iter().any(|i| i.eq_ignore_ascii_case(item))
    }

    /// The items, in the order written.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.items.iter().map(String::as_str)
    }

    /// How many items there are.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

impl std::str::FromStr for List {
    type Err = core::convert::Infallible;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(List::parse(text))
    }
}

/// Reads either type from a JSON string, the form a `string` config value has.
struct TextVisitor<T>(fn(&str) -> Result<T, KeyValuesError>, &'static str);

impl<T> Visitor<'_> for TextVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.1)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<T, E> {
        (self.0)(text).map_err(E::custom)
    }
}

impl<'de> Deserialize<'de> for KeyValues {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(TextVisitor(
            KeyValues::parse,
            "a string of `key=value` entries",
        ))
    }
}

impl<'de> Deserialize<'de> for List {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(TextVisitor(
            |text| Ok(List::parse(text)),
            "a string of comma-separated items",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(text: &str) -> Vec<(String, String)> {
        KeyValues::parse(text)
            .unwrap()
            .iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    fn error(text: &str) -> String {
        KeyValues::parse(text).unwrap_err().to_string()
    }

    #[test]
    fn entries_are_trimmed_and_empty_ones_skipped() {
        let expected =
            [("a", "1"), ("b c", "x=y"), ("d", "")].map(|(k, v)| (k.to_owned(), v.to_owned()));
        assert_eq!(pairs(" a = 1 ,, b c=x=y,\n\n d=  ,"), expected);
        assert_eq!(pairs("a=1\r\nb c = x=y\nd="), expected);
        assert!(KeyValues::parse("").unwrap().is_empty());
        assert!(KeyValues::parse(" , \n ").unwrap().is_empty());
    }

    #[test]
    fn errors_name_the_entry_and_where_it_starts_never_the_text() {
        assert_eq!(
            error("Billing=finance, Network"),
            "entry 2 (column 18) has no `=`: write `key=value`"
        );
        assert_eq!(error("a=1, =2"), "entry 2 (column 6) has no key before `=`");
        assert_eq!(
            error("a=1,\nb=2,\n  a = 3"),
            "entry 3 (line 3, column 3) repeats the key of entry 1"
        );
        // Empty entries are not counted; columns count characters, not bytes.
        assert_eq!(
            error("é=1,, ñ"),
            "entry 2 (column 7) has no `=`: write `key=value`"
        );
        let err = KeyValues::parse("token-s3cret").unwrap_err();
        assert!(!err.to_string().contains("s3cret"), "{err}");
    }

    #[test]
    fn lookups() {
        let map = KeyValues::parse("Billing=finance, billing=other").unwrap();
        assert_eq!(map.get("billing"), Some("other"));
        assert_eq!(map.get("BILLING"), None);
        assert_eq!(map.get_ignore_ascii_case("BILLING"), Some("finance"));
        assert_eq!(map.len(), 2);
    }

    #[test]
    fn lists() {
        let list = List::parse(" #ops ,#support,\n,#ops");
        assert_eq!(
            list.iter().collect::<Vec<_>>(),
            ["#ops", "#support", "#ops"]
        );
        assert!(list.contains("#support") && !list.contains("#Support"));
        assert!(list.contains_ignore_ascii_case("#SUPPORT"));
        assert!(List::parse("").is_empty());
    }

    #[test]
    fn both_read_a_json_string_and_nothing_else() {
        let map: KeyValues = serde_json::from_str(r#""a=1, b=2""#).unwrap();
        assert_eq!(map.get("b"), Some("2"));
        let err = serde_json::from_str::<KeyValues>(r#""a=1, b""#).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("entry 2 (column 6) has no `=`: write `key=value`"),
            "{err}"
        );
        let err = serde_json::from_str::<KeyValues>("5").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("invalid type: integer `5`, expected a string of `key=value` entries"),
            "{err}"
        );
        let list: List = serde_json::from_str(r#""x,y""#).unwrap();
        assert_eq!(list.len(), 2);
        assert!(serde_json::from_str::<List>("[\"x\"]").is_err());
    }
}
