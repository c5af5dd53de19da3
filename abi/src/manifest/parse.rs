//! Reading a manifest's JSON: strictly ([`Manifest::from_json`]: the first problem
//! stops it) or for a report ([`Manifest::check_json`]: every problem at once, wrong
//! types and missing fields among the rules of [`Manifest::validate`]).

use serde_json::Value;

use super::{Diagnostic, Diagnostics, Manifest};

/// A manifest that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message} (line {line}, column {column})", if path.is_empty() || path == "." { String::new() } else { format!("{path}: ") })]
pub struct ParseError {
    /// The JSON path where parsing stopped, e.g. `config_schema.channel.type`
    /// (empty for the document itself).
    pub path: String,
    /// What was found and what was expected.
    pub message: String,
    /// 1-based line in the JSON text.
    pub line: usize,
    /// 1-based column in the JSON text.
    pub column: usize,
}

/// What [`Manifest::check_json`] found.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The manifest, when every field has its type and every required field is there
    /// (it may still break rules: see `diagnostics`).
    pub manifest: Option<Manifest>,
    /// Every problem, errors and warnings: wrong types and missing fields first, then
    /// the rules of [`Manifest::validate`] on the fields that could be read.
    pub diagnostics: Diagnostics,
}

impl Manifest {
    /// Parses a manifest from JSON bytes. Fields this version does not know are
    /// recorded in [`Manifest::unknown_fields`] and reported by [`Manifest::validate`]
    /// as warnings.
    ///
    /// # Errors
    /// A [`ParseError`] naming the JSON path and what was expected, for bytes that are
    /// not one JSON object of the manifest's shape.
    pub fn from_json(bytes: &[u8]) -> Result<Manifest, ParseError> {
        if let Some(err) = not_an_object_error(bytes) {
            return Err(err);
        }
        let mut unknown = Vec::new();
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let result: Result<Manifest, _> = {
            let mut record = |path: serde_ignored::Path<'_>| unknown.push(json_path(&path));
            let ignored = serde_ignored::Deserializer::new(&mut de, &mut record);
            serde_path_to_error::deserialize(ignored)
        };
        let mut manifest = result.map_err(|err| {
            let path = err.path().to_string();
            let inner = err.into_inner();
            ParseError {
                path,
                message: strip_position(&inner.to_string()),
                line: inner.line(),
                column: inner.column(),
            }
        })?;
        de.end().map_err(|err| ParseError {
            path: String::new(),
            message: strip_position(&err.to_string()),
            line: err.line(),
            column: err.column(),
        })?;
        manifest.unknown_fields = unknown;
        Ok(manifest)
    }

    /// Parses and validates a manifest, reporting every problem at once: a field of the
    /// wrong type or a missing one is one more [`Diagnostic`] among those of
    /// [`Manifest::validate`], not the end of the report.
    ///
    /// ```
    /// use otai_plugin_abi::manifest::Manifest;
    ///
    /// let checked = Manifest::check_json(br#"{"id":"com.example.x","name":"X",
    ///     "version":"1.0","description":"d","events":["ticket.created"],
    ///     "config_schema":{"channel":{"type":"selectt"}}}"#).unwrap();
    /// let report = checked.diagnostics.to_string();
    /// assert!(report.contains("error: config_schema.channel.type: unknown variant `selectt`"), "{report}");
    /// assert!(report.contains("error: version: \"1.0\" is not a semantic version"), "{report}");
    /// assert!(checked.manifest.is_none());
    /// ```
    ///
    /// # Errors
    /// A [`ParseError`] when the bytes are not one JSON object.
    pub fn check_json(bytes: &[u8]) -> Result<Checked, ParseError> {
        let strict = Manifest::from_json(bytes);
        if let Ok(manifest) = strict {
            let diagnostics = manifest.validate();
            return Ok(Checked {
                manifest: Some(manifest),
                diagnostics,
            });
        }
        if let Some(err) = not_an_object_error(bytes) {
            return Err(err);
        }
        // Read again as a tree that can be mended where it is wrong. (Its objects have
        // their keys sorted: the manifest read from it is only used for the report.)
        let mut value: Value = serde_json::from_slice(bytes).map_err(|err| ParseError {
            path: String::new(),
            message: strip_position(&err.to_string()),
            line: err.line(),
            column: err.column(),
        })?;
        let mut diagnostics = Diagnostics::default();
        // Paths whose value was replaced or removed to read on: the rules say nothing
        // more about them than their type error.
        let mut damaged: Vec<String> = Vec::new();
        let mut removed: Vec<String> = Vec::new();
        let manifest = loop {
            let (segments, message) = match decode(&value) {
                Ok(manifest) => break manifest,
                Err(err) => err,
            };
            let (target, message) = match missing_field(&message) {
                Some(field) => {
                    let mut target = segments.clone();
                    target.push(Segment::Key(field.to_owned()));
                    (target, format!("the required field `{field}` is missing"))
                }
                None => (segments.clone(), message),
            };
            let path = path_string(&target);
            // A required field removed below to read on is not missing a second time.
            if !removed.contains(&path) {
                diagnostics.push(Diagnostic::error(path.clone(), message));
            }
            match repair(&mut value, &target) {
                Some(Repair::Replaced) if !damaged.contains(&path) => damaged.push(path),
                Some(Repair::Removed(at)) if !removed.contains(&path_string(&at)) => {
                    removed.push(path_string(&at));
                    damaged.push(path_string(&at));
                }
                // Nothing changed, or the same place failed again: stop reading.
                _ => {
                    return Ok(Checked {
                        manifest: None,
                        diagnostics,
                    });
                }
            }
        };
        let read_cleanly = damaged.is_empty();
        for d in manifest.validate().0 {
            if !damaged.iter().any(|p| is_under(&d.path, p)) {
                diagnostics.push(d);
            }
        }
        Ok(Checked {
            manifest: read_cleanly.then_some(manifest),
            diagnostics,
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Segment {
    Key(String),
    Index(usize),
}

enum Repair {
    /// The value at the path was replaced by a placeholder of its type.
    Replaced,
    /// The value at this path was removed.
    Removed(Vec<Segment>),
}

/// Reads a manifest from a JSON value; on failure, where and why.
fn decode(value: &Value) -> Result<Manifest, (Vec<Segment>, String)> {
    let mut unknown = Vec::new();
    let result: Result<Manifest, _> = {
        let mut record = |path: serde_ignored::Path<'_>| unknown.push(json_path(&path));
        serde_path_to_error::deserialize(serde_ignored::Deserializer::new(value, &mut record))
    };
    match result {
        Ok(mut manifest) => {
            manifest.unknown_fields = unknown;
            Ok(manifest)
        }
        Err(err) => {
            let segments = err
                .path()
                .iter()
                .filter_map(|s| match s {
                    serde_path_to_error::Segment::Seq { index } => Some(Segment::Index(*index)),
                    serde_path_to_error::Segment::Map { key } => Some(Segment::Key(key.clone())),
                    _ => None,
                })
                .collect();
            Err((segments, strip_position(&err.into_inner().to_string())))
        }
    }
}

/// The field serde found missing, from its message ("missing field `id`").
fn missing_field(message: &str) -> Option<&str> {
    message.strip_prefix("missing field `")?.strip_suffix('`')
}

/// The fields without which the manifest's own value cannot be built, and what stands
/// in for them while the rest is read.
fn placeholder(top_level_field: &str) -> Option<Value> {
    match top_level_field {
        "id" | "name" | "version" | "description" => Some(Value::String(String::new())),
        "events" => Some(Value::Array(Vec::new())),
        _ => None,
    }
}

/// Changes `value` so that the problem at `target` goes away: a required top-level
/// field or an array item (all arrays of a manifest hold strings) gets a placeholder;
/// any other field is removed, and a missing field's object with it (a config field
/// without `type`, a panel without `title`).
fn repair(value: &mut Value, target: &[Segment]) -> Option<Repair> {
    let (last, parent) = target.split_last()?;
    if let ([], Segment::Key(key)) = (parent, last)
        && let Some(stand_in) = placeholder(key)
    {
        value.as_object_mut()?.insert(key.clone(), stand_in);
        return Some(Repair::Replaced);
    }
    let container = get_mut(value, parent)?;
    match (last, container) {
        (Segment::Index(i), Value::Array(items)) => {
            *items.get_mut(*i)? = Value::String(String::new());
            Some(Repair::Replaced)
        }
        (Segment::Key(key), Value::Object(map)) => {
            if map.remove(key).is_some() {
                Some(Repair::Removed(target.to_vec()))
            } else {
                // Missing, not wrong: the object it belongs to goes.
                remove(value, parent).then(|| Repair::Removed(parent.to_vec()))
            }
        }
        _ => None,
    }
}

fn get_mut<'v>(value: &'v mut Value, path: &[Segment]) -> Option<&'v mut Value> {
    path.iter().try_fold(value, |v, segment| match segment {
        Segment::Key(k) => v.as_object_mut()?.get_mut(k),
        Segment::Index(i) => v.as_array_mut()?.get_mut(*i),
    })
}

/// Removes an object member (not an array item: the paths after it would shift).
fn remove(value: &mut Value, path: &[Segment]) -> bool {
    match path.split_last() {
        Some((Segment::Key(key), parent)) => get_mut(value, parent)
            .and_then(Value::as_object_mut)
            .is_some_and(|map| map.remove(key).is_some()),
        _ => false,
    }
}

/// `config_schema.channel.options[1]`, as `Manifest::validate` writes paths.
fn path_string(segments: &[Segment]) -> String {
    let mut out = String::new();
    for segment in segments {
        match segment {
            Segment::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Segment::Index(i) => {
                out.push('[');
                out.push_str(&i.to_string());
                out.push(']');
            }
        }
    }
    out
}

/// Whether `path` is `prefix` or inside it.
fn is_under(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('.') || rest.starts_with('['))
}

fn not_an_object_error(bytes: &[u8]) -> Option<ParseError> {
    // serde would describe another value by the first field it fails on (for an
    // array, `[0]: invalid type: map, expected a string`): name the shape instead.
    let (offset, found) = not_an_object(bytes)?;
    let (line, column) = line_column(bytes, offset);
    Some(ParseError {
        path: String::new(),
        message: format!(
            "the manifest must be one JSON object (`{{\"id\": …, \"name\": …, …}}`), not {found}"
        ),
        line,
        column,
    })
}

/// Where the document starts and what it is, when it is not an object.
fn not_an_object(bytes: &[u8]) -> Option<(usize, &'static str)> {
    let offset = bytes.iter().position(|b| !b.is_ascii_whitespace())?;
    let found = match bytes[offset] {
        b'{' => return None,
        b'[' => "an array",
        b'"' => "a string",
        b't' | b'f' => "a boolean",
        b'n' => "null",
        b'-' | b'0'..=b'9' => "a number",
        // Not JSON at all: serde's own message says where and why.
        _ => return None,
    };
    Some((offset, found))
}

/// 1-based line and column of a byte offset.
fn line_column(bytes: &[u8], offset: usize) -> (usize, usize) {
    let before = &bytes[..offset];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let column = offset
        - before
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |i| i + 1)
        + 1;
    (line, column)
}

/// serde_json appends " at line L column C" to its messages; we report those apart.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// A path as `Manifest::validate` writes them (`config_schema.channel.colour`,
/// `events[1]`), where serde_ignored would write `config_schema.channel.?.colour`.
fn json_path(path: &serde_ignored::Path<'_>) -> String {
    use serde_ignored::Path;
    match path {
        Path::Root => String::new(),
        Path::Seq { parent, index } => format!("{}[{index}]", json_path(parent)),
        Path::Map { parent, key } => match json_path(parent) {
            p if p.is_empty() => key.clone(),
            p => format!("{p}.{key}"),
        },
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => json_path(parent),
    }
}
