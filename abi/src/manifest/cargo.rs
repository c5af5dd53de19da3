//! The manifest of a Rust plugin, built from its crate's `Cargo.toml` (feature `cargo`).
//!
//! A Rust plugin keeps its manifest in one place, `Cargo.toml`: identity in
//! `[package]`, help-desk data in `[package.metadata.ohd]`. The `#[plugin]` macro and
//! `cargo otai-plugin` both build the manifest with [`manifest_from_cargo_toml`], so
//! they cannot disagree. Every diagnostic's path is a `Cargo.toml` key path
//! (`package.metadata.ohd.events[1]`, `package.version`).
//!
//! | manifest field | `Cargo.toml` key |
//! |---|---|
//! | `id` | `package.metadata.ohd.id` |
//! | `name` | `package.metadata.ohd.name`, else `package.name` |
//! | `version`, `description`, `license` | `package.version`, `package.description`, `package.license` |
//! | `author` | `package.authors`, joined with `", "` |
//! | `homepage` | `package.homepage`, else `package.repository` |
//! | `events` | `package.metadata.ohd.events` |
//! | `permissions.http.allowed_hosts` | `package.metadata.ohd.allowed_hosts` |
//! | `config_schema` | `package.metadata.ohd.config` (a table per field, order kept) |
//! | `ui_panel` | `package.metadata.ohd.ui_panel` |
//!
//! ```
//! use otai_plugin_abi::manifest::cargo::manifest_from_cargo_toml;
//!
//! let cargo_toml = r#"
//! [package]
//! name = "slack-notifications"
//! version = "1.2.0"
//! description = "Posts a Slack message when a ticket is created."
//!
//! [lib]
//! crate-type = ["cdylib"]
//!
//! [package.metadata.ohd]
//! id = "com.example.slack-notifications"
//! events = ["ticket.created", "ticket.resolve"]
//! "#;
//! let errors = manifest_from_cargo_toml(cargo_toml).unwrap_err();
//! assert_eq!(
//!     errors.to_string(),
//!     "error: package.metadata.ohd.events[1]: unknown event \"ticket.resolve\"; did you mean \"ticket.resolved\"?\n",
//! );
//! ```

use toml::{Table, Value};

use super::{Diagnostic, Diagnostics, Manifest};

const OHD: &str = "package.metadata.ohd";

/// The keys `[package.metadata.ohd]` may hold.
const OHD_KEYS: &[&str] = &[
    "id",
    "name",
    "events",
    "allowed_hosts",
    "config",
    "ui_panel",
];

/// A manifest built from `Cargo.toml`, with the warnings found on the way.
#[derive(Debug, Clone, PartialEq)]
pub struct CargoManifest {
    /// The manifest, valid (`Manifest::validate` found no errors).
    pub manifest: Manifest,
    /// Warnings (unknown keys, …), with `Cargo.toml` key paths.
    pub warnings: Diagnostics,
}

/// Builds and validates the manifest of the plugin crate whose `Cargo.toml` is
/// `cargo_toml`.
///
/// Keys inherited from the workspace (`version.workspace = true`) cannot be resolved
/// from one file and are reported as errors; use
/// [`manifest_from_cargo_toml_in_workspace`] to resolve them.
///
/// # Errors
/// Every problem found (errors and warnings), each with its `Cargo.toml` key path: a
/// TOML syntax error (one diagnostic with line and column), missing `[package]` keys or
/// `[package.metadata.ohd]`, keys of the wrong type, and every error of
/// [`Manifest::validate`].
pub fn manifest_from_cargo_toml(cargo_toml: &str) -> Result<CargoManifest, Diagnostics> {
    manifest_from_cargo_toml_in_workspace(cargo_toml, None)
}

/// Like [`manifest_from_cargo_toml`], resolving `key.workspace = true` from the
/// `[workspace.package]` table of `workspace_toml`, the workspace root's `Cargo.toml`
/// (when it is `None`, such keys are errors).
///
/// # Errors
/// As [`manifest_from_cargo_toml`]; a syntax error in `workspace_toml` too.
pub fn manifest_from_cargo_toml_in_workspace(
    cargo_toml: &str,
    workspace_toml: Option<&str>,
) -> Result<CargoManifest, Diagnostics> {
    let mut out = Diagnostics::default();
    let doc = parse_toml(cargo_toml, "Cargo.toml")?;
    let workspace_package = match workspace_toml {
        Some(text) => {
            let ws = parse_toml(text, "the workspace Cargo.toml")?;
            Some(
                ws.get("workspace")
                    .and_then(|w| w.get("package"))
                    .and_then(Value::as_table)
                    .cloned()
                    .unwrap_or_default(),
            )
        }
        None => None,
    };
    let Some(package) = doc.get("package").and_then(Value::as_table) else {
        out.push(Diagnostic::error(
            "package",
            "`[package]` is missing; a plugin is a package with `name`, `version` and `description`",
        ));
        return Err(out);
    };
    check_crate_type(&doc, &mut out);
    let inherit = Inherit {
        package,
        workspace: workspace_package.as_ref(),
    };

    let package_name = inherit.string("name", &mut out);
    let version = inherit.string("version", &mut out);
    let description = inherit.string("description", &mut out);
    let license = inherit.string("license", &mut out);
    let homepage_key = if package.contains_key("homepage") {
        "homepage"
    } else {
        "repository"
    };
    let homepage = inherit.string(homepage_key, &mut out);
    let author = inherit.authors(&mut out);
    for (key, value, example) in [
        ("name", &package_name, "name = \"slack-notifications\""),
        ("version", &version, "version = \"0.1.0\""),
        (
            "description",
            &description,
            "description = \"Posts a Slack message when a ticket is created.\"",
        ),
    ] {
        if value.is_none() && !out.iter().any(|d| d.path == format!("package.{key}")) {
            out.push(Diagnostic::error(
                format!("package.{key}"),
                format!("`{key}` is missing; the plugin manifest needs it: write `{example}` in `[package]`"),
            ));
        }
    }

    let Some(ohd) = package.get("metadata").and_then(|m| m.get("ohd")) else {
        out.push(Diagnostic::error(
            OHD,
            "`[package.metadata.ohd]` is missing; add the plugin's help-desk data, e.g.\n\n\
             [package.metadata.ohd]\n\
             id = \"com.example.my-plugin\"\n\
             events = [\"ticket.created\"]\n",
        ));
        return Err(out);
    };
    let Some(ohd) = ohd.as_table() else {
        out.push(Diagnostic::error(
            OHD,
            "`package.metadata.ohd` must be a table (`[package.metadata.ohd]`)",
        ));
        return Err(out);
    };
    for key in ohd.keys().filter(|k| !OHD_KEYS.contains(&k.as_str())) {
        out.push(Diagnostic::warning(
            format!("{OHD}.{key}"),
            unknown_key_hint(key),
        ));
    }
    let ohd_name = ohd.get("name");
    for (key, expected, required) in [
        ("id", "a string, e.g. id = \"com.example.my-plugin\"", true),
        (
            "name",
            "a string, e.g. name = \"Slack Notifications\"",
            false,
        ),
        (
            "events",
            "an array of event names, e.g. events = [\"ticket.created\"]",
            true,
        ),
        (
            "allowed_hosts",
            "an array of hostnames, e.g. allowed_hosts = [\"hooks.slack.com\"]",
            false,
        ),
        (
            "config",
            "a table of fields, e.g. [package.metadata.ohd.config.channel]",
            false,
        ),
        (
            "ui_panel",
            "a table, e.g. ui_panel = { title = \"JIRA Issue\", height = 140 }",
            false,
        ),
    ] {
        let ok = match (ohd.get(key), key) {
            (None, _) => !required,
            (Some(Value::String(_)), "id" | "name") => true,
            (Some(Value::Array(_)), "events" | "allowed_hosts") => true,
            (Some(Value::Table(t)), "config") => t.values().all(Value::is_table),
            (Some(Value::Table(_)), "ui_panel") => true,
            _ => false,
        };
        if !ok {
            let verb = if ohd.contains_key(key) {
                "must be"
            } else {
                "is missing; it is"
            };
            out.push(Diagnostic::error(
                format!("{OHD}.{key}"),
                format!("`{key}` {verb} {expected}"),
            ));
        }
    }
    if out.has_errors() {
        return Err(out);
    }

    let mut json = String::from("{");
    let mut field = |name: &str, value: Option<Value>| {
        if let Some(value) = value {
            if json.len() > 1 {
                json.push(',');
            }
            json.push_str(&serde_json::Value::from(name).to_string());
            json.push(':');
            write_json(&value, &mut json);
        }
    };
    let ohd_get = |key: &str| ohd.get(key).cloned();
    field("id", ohd_get("id"));
    field(
        "name",
        ohd_name.cloned().or(package_name.map(Value::String)),
    );
    field("version", version.map(Value::String));
    field("description", description.map(Value::String));
    field("author", author.map(Value::String));
    field("license", license.map(Value::String));
    field("homepage", homepage.map(Value::String));
    field("events", ohd_get("events"));
    field(
        "permissions",
        ohd_get("allowed_hosts").map(|hosts| {
            let http = Table::from_iter([("allowed_hosts".to_owned(), hosts)]);
            Value::Table(Table::from_iter([("http".to_owned(), Value::Table(http))]))
        }),
    );
    field("config_schema", ohd_get("config"));
    field("ui_panel", ohd_get("ui_panel"));
    json.push('}');

    let paths = PathMap {
        name_in_ohd: ohd_name.is_some(),
        homepage_key,
    };
    let checked = match Manifest::check_json(json.as_bytes()) {
        Ok(checked) => checked,
        Err(err) => {
            out.push(Diagnostic::error(paths.map(&err.path), err.message));
            return Err(out);
        }
    };
    for d in checked.diagnostics.0 {
        out.push(Diagnostic {
            path: paths.map(&d.path),
            ..d
        });
    }
    match checked.manifest {
        Some(manifest) if !out.has_errors() => Ok(CargoManifest {
            manifest,
            warnings: out,
        }),
        _ => Err(out),
    }
}

fn parse_toml(text: &str, what: &str) -> Result<Table, Diagnostics> {
    text.parse::<Table>().map_err(|err| {
        let position = err
            .span()
            .map(|span| {
                let before = text.get(..span.start).unwrap_or(text);
                let line = before.matches('\n').count() + 1;
                let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
                format!(" at line {line}, column {column}")
            })
            .unwrap_or_default();
        Diagnostics(vec![Diagnostic::error(
            "",
            format!(
                "{what} is not valid TOML{position}: {}",
                err.message().trim_end()
            ),
        )])
    })
}

/// Warns when the crate cannot produce a wasm module the host loads.
fn check_crate_type(doc: &Table, out: &mut Diagnostics) {
    let types = doc
        .get("lib")
        .and_then(|l| l.get("crate-type"))
        .and_then(Value::as_array);
    if !types.is_some_and(|t| t.iter().any(|t| t.as_str() == Some("cdylib"))) {
        out.push(Diagnostic::warning(
            "lib.crate-type",
            "a plugin crate must build a `cdylib`, or no `.wasm` module is produced; add `[lib]` with `crate-type = [\"cdylib\"]`",
        ));
    }
}

fn unknown_key_hint(key: &str) -> String {
    let hint = match key {
        "permissions" => {
            "write `allowed_hosts = [...]` directly in `[package.metadata.ohd]`".to_owned()
        }
        "config_schema" => {
            "write each field as a `[package.metadata.ohd.config.<key>]` table".to_owned()
        }
        "version" | "description" | "license" | "homepage" | "repository" | "authors"
        | "author" => "the manifest takes it from `[package]`; set it there".to_owned(),
        _ => match super::suggest::nearest(key, OHD_KEYS.iter().copied()) {
            Some(k) => format!("did you mean `{k}`?"),
            None => format!(
                "the keys are {}",
                super::suggest::quoted_list(OHD_KEYS.iter().copied())
            ),
        },
    };
    format!("unknown key `{key}` is ignored; {hint}")
}

/// `[package]` keys, with `key.workspace = true` resolved where a workspace is known.
struct Inherit<'a> {
    package: &'a Table,
    workspace: Option<&'a Table>,
}

impl Inherit<'_> {
    /// The value of `package.<key>`, following `workspace = true`.
    fn get(&self, key: &str, out: &mut Diagnostics) -> Option<Value> {
        let value = self.package.get(key)?;
        let inherited = value
            .as_table()
            .and_then(|t| t.get("workspace"))
            .and_then(Value::as_bool)
            == Some(true);
        if !inherited {
            return Some(value.clone());
        }
        match self.workspace {
            Some(ws) => match ws.get(key) {
                Some(v) => Some(v.clone()),
                None => {
                    out.push(Diagnostic::error(
                        format!("package.{key}"),
                        format!("`{key}.workspace = true`, but the workspace's `[workspace.package]` has no `{key}`; add it there or write it in `[package]`"),
                    ));
                    None
                }
            },
            None => {
                out.push(Diagnostic::error(
                    format!("package.{key}"),
                    format!("`{key}.workspace = true` cannot be resolved from this `Cargo.toml` alone; write `{key}` in `[package]`"),
                ));
                None
            }
        }
    }

    fn string(&self, key: &str, out: &mut Diagnostics) -> Option<String> {
        match self.get(key, out)? {
            Value::String(s) => Some(s),
            other => {
                out.push(Diagnostic::error(
                    format!("package.{key}"),
                    format!("`{key}` must be a string, found {}", other.type_str()),
                ));
                None
            }
        }
    }

    fn authors(&self, out: &mut Diagnostics) -> Option<String> {
        let value = self.get("authors", out)?;
        let authors: Option<Vec<&str>> = value
            .as_array()
            .and_then(|a| a.iter().map(Value::as_str).collect());
        match authors {
            Some(a) if a.is_empty() => None,
            Some(a) => Some(a.join(", ")),
            None => {
                out.push(Diagnostic::error(
                    "package.authors",
                    "`authors` must be an array of strings, e.g. authors = [\"Example Corp <support@example.com>\"]",
                ));
                None
            }
        }
    }
}

/// Maps the JSON paths of a manifest to the `Cargo.toml` keys they came from.
struct PathMap {
    name_in_ohd: bool,
    homepage_key: &'static str,
}

impl PathMap {
    fn map(&self, json_path: &str) -> String {
        let json_path = if json_path == "." { "" } else { json_path };
        let package = |key: &str, rest: &str| format!("package.{key}{rest}");
        let ohd = |key: &str, rest: &str| format!("{OHD}.{key}{rest}");
        for (head, target) in [
            ("permissions.http.allowed_hosts", "allowed_hosts"),
            ("config_schema", "config"),
            ("id", "id"),
            ("events", "events"),
            ("ui_panel", "ui_panel"),
        ] {
            if let Some(rest) = strip_segment(json_path, head) {
                return ohd(target, rest);
            }
        }
        if strip_segment(json_path, "permissions").is_some() {
            return ohd("allowed_hosts", "");
        }
        if let Some(rest) = strip_segment(json_path, "name") {
            return if self.name_in_ohd {
                ohd("name", rest)
            } else {
                package("name", rest)
            };
        }
        for (head, key) in [
            ("version", "version"),
            ("description", "description"),
            ("license", "license"),
            ("author", "authors"),
        ] {
            if let Some(rest) = strip_segment(json_path, head) {
                return package(key, rest);
            }
        }
        if let Some(rest) = strip_segment(json_path, "homepage") {
            return package(self.homepage_key, rest);
        }
        if json_path.is_empty() {
            OHD.to_owned()
        } else {
            ohd(json_path, "")
        }
    }
}

/// `path` without its leading segment `head`, if it starts with that whole segment.
fn strip_segment<'a>(path: &'a str, head: &str) -> Option<&'a str> {
    let rest = path.strip_prefix(head)?;
    (rest.is_empty() || rest.starts_with(['.', '['])).then_some(rest)
}

/// Writes a TOML value as JSON, keeping table order (which `serde_json::Value` would
/// not, without a feature that would change it for every crate in the build).
fn write_json(value: &Value, out: &mut String) {
    match value {
        Value::String(s) => out.push_str(&serde_json::Value::from(s.as_str()).to_string()),
        Value::Integer(i) => out.push_str(&i.to_string()),
        Value::Float(f) => match serde_json::Number::from_f64(*f) {
            Some(n) => out.push_str(&n.to_string()),
            None => out.push_str("null"),
        },
        Value::Boolean(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Datetime(d) => out.push_str(&serde_json::Value::from(d.to_string()).to_string()),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(item, out);
            }
            out.push(']');
        }
        Value::Table(table) => {
            out.push('{');
            for (i, (key, item)) in table.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::Value::from(key.as_str()).to_string());
                out.push(':');
                write_json(item, out);
            }
            out.push('}');
        }
    }
}
