//! The plugin's config: a struct checked against `[package.metadata.ohd.config]` when
//! the plugin compiles, and the SDK's readers for lists and maps written in a `string`
//! field.
//!
//! The admin fills a form made from the config table of `Cargo.toml`; the host checks
//! the values against it, fills in the declared defaults, and hands the result to every
//! delivery as the payload's `config` object, which the SDK decodes into the plugin's
//! `type Config` with serde. [`#[derive(Config)]`](macro@Config) next to `Deserialize`
//! makes that struct and the table agree at compile time, and `#[plugin]` refuses a
//! config type without it.
//!
//! | `type` in `Cargo.toml` | the admin sees | the Rust field |
//! |---|---|---|
//! | `string` | a text input (a password input with `secret = true`) | `String`, `Cow<'static, str>`, `Box<str>`; [`List`] or [`KeyValues`] for a list or a map written in the text |
//! | `boolean` | a checkbox | `bool` |
//! | `integer` | a number input (whole numbers, 64-bit) | an integer type: `i64` holds every value; a narrower one must hold the `default` |
//! | `select` | a dropdown of `options` | an enum whose variants, as serde names them, are the options; or `String` |
//!
//! A field that is neither `required` nor has a `default` has no value until an admin
//! sets one: read it as `Option<…>` (or give the struct field `#[serde(default)]`).
//! A field with a `default` always has a value: the host fills it in, and so does
//! [`testing::deliver`](crate::testing::deliver), so the struct need not repeat it.
//!
//! ```
//! use otai_plugin_sdk::config::{KeyValues, List};
//! use otai_plugin_sdk::prelude::*;
//!
//! /// `[package.metadata.ohd.config]`: `webhook_url` (string, required, secret),
//! /// `team_map` (string, default "Billing=finance"), `channels` (string),
//! /// `retries` (integer, default 3), `severity` (select), `notify` (boolean, default
//! /// true).
//! #[derive(Deserialize, Config)]
//! # #[config(cargo_toml = "../tests/fixtures/config_example.toml")]
//! struct Config {
//!     webhook_url: String,
//!     team_map: KeyValues,
//!     channels: Option<List>,
//!     retries: u8,
//!     severity: Severity,
//!     #[serde(rename = "notify")]
//!     send_notifications: bool,
//! }
//!
//! #[derive(Deserialize)]
//! #[serde(rename_all = "lowercase")]
//! enum Severity {
//!     Critical,
//!     Warning,
//! }
//! ```
//!
//! # What the check refuses
//!
//! Each error is on the struct field (or the struct, for a required config field no
//! field reads), names the field and the `Cargo.toml` key, and says what it found and
//! what it expected:
//!
//! - a field whose name (after `#[serde(rename)]` / `rename_all`) is not a config key:
//!   the decode would fail on every delivery with `missing field`;
//! - a type the config value cannot decode into (`String` for a `boolean`, `f64` for an
//!   `integer`, `Vec<String>` for a `string`: a config value is never a JSON list);
//! - a plain type for a field that may have no value;
//! - a `required` config field that no struct field reads;
//! - with `#[serde(deny_unknown_fields)]`, any config field no struct field reads;
//! - an integer `default` the field's type cannot hold, a [`KeyValues`] `default` that
//!   does not parse;
//! - what it cannot see through: `#[serde(flatten)]`, `alias`, `from`, `try_from`,
//!   `transparent`, and a field type it does not know (a type alias, a newtype) for a
//!   `string`, `boolean` or `integer` field. `#[serde(deserialize_with = "…")]` says how
//!   such a field is read: its key is checked, its type is not.
//!
//! A `select` field read as an enum is taken to be one whose variants are the options;
//! serde reports a variant that does not match when the event is decoded.
//!
//! # Lists and maps
//!
//! The help desk's field types are the four above. A list (channels) or a map (category
//! → team) is a `string` field whose text the plugin reads with [`List`]
//! (`#ops, #support`) or [`KeyValues`] (`Billing=finance, Network=it-ops`): items
//! separated by commas or line breaks, space around them ignored. A struct field of
//! either type reads the text when the event is decoded; text that does not parse
//! fails the delivery with the field and the position, e.g. `invalid event payload:
//! config: team_map: entry 2 (column 18) has no `=`: write `key=value``, which the
//! help desk shows in the plugin's delivery log. The help desk cannot check the text
//! when the admin saves it (to it the field is a string); `#[derive(Config)]` checks
//! the field's `default` when the plugin compiles, and a fixture with the admin's text
//! shows what a delivery does with it.

pub use otai_plugin_abi::config_text::{
    KeyValues, KeyValuesError, KeyValuesProblem, List, Position,
};

/// Checks a config struct against the plugin's `[package.metadata.ohd.config]` when
/// the crate compiles; see the [module](self) for what it checks and the Rust type of
/// each config type.
///
/// It reads the `Cargo.toml` of the crate that defines the struct (as `#[plugin]` reads
/// the manifest), so define the struct in the plugin's crate: `#[plugin]` refuses a
/// config type checked against another table. It generates no code in the module.
pub use otai_plugin_macros::Config;

/// A config type checked against a config table: implemented by
/// [`#[derive(Config)]`](macro@Config) and by [`NoConfig`](crate::NoConfig), and
/// required by `#[plugin]` of `type Config`.
///
/// Not meant to be implemented by hand: the derive records which table it checked the
/// type against, and `#[plugin]` compares it with the plugin's own.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not checked against the plugin's `[package.metadata.ohd.config]`",
    label = "the plugin's config type",
    note = "derive it: `#[derive(Deserialize, Config)]` (the `Config` derive of `otai_plugin_sdk::prelude`) checks each field against the config table of `Cargo.toml` when the plugin compiles",
    note = "a plugin without config uses `NoConfig`"
)]
pub trait CheckedConfig {
    /// The config table the type was checked against, in the derive's own notation;
    /// `None` for a type that reads no config.
    #[doc(hidden)]
    const CHECKED_AGAINST: Option<&'static str>;
}

impl CheckedConfig for crate::NoConfig {
    const CHECKED_AGAINST: Option<&'static str> = None;
}

/// What `#[derive(Config)]` takes for the SDK's [`List`] and [`KeyValues`] by their
/// names: a field of another type so named fails to compile here.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not the SDK's `config::List` or `config::KeyValues`",
    label = "`#[derive(Config)]` took this for one of the SDK's config text types by its name",
    note = "use `otai_plugin_sdk::config::{{List, KeyValues}}`, or rename your type"
)]
pub trait ConfigText {}

impl ConfigText for KeyValues {}
impl ConfigText for List {}

/// Whether two strings are equal, in a `const` (for `#[plugin]`'s check of the table a
/// config type was checked against).
#[doc(hidden)]
pub const fn same_table(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}
