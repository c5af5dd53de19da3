//! JSON inside a plugin without a JSON library: a reader that borrows strings from the
//! text, a `serde` deserializer on it, and a `serde` serializer writing compact JSON.
//!
//! The SDK decodes event payloads, config, host error bodies and
//! [`Response::json`](crate::http::Response::json) with it, and encodes
//! [`Request::json`](crate::http::Request::json) bodies and its host calls. Use
//! [`from_slice`], [`from_str`] and [`to_string`] for a plugin's own JSON (an HTTP answer
//! read by hand, a custom field holding JSON): they take any `serde` type, as
//! `serde_json` does, and a plugin that calls no `serde_json` function links no
//! `serde_json` code. (`serde_json::json!` builds a `serde_json::Value`, which links
//! part of it; a `#[derive(Serialize)]` struct does not.)
//!
//! What differs from `serde_json`: strings without escapes are borrowed (a `&str` field
//! works whenever the text has no escapes; `String` and `Cow<str>` always work); numbers
//! are parsed only as the target type asks, so a type without floats links no float
//! parser; errors give a byte offset rather than a line and column; floats are written
//! by Rust's formatting (`1e20` comes out as `100000000000000000000.0`).
//!
//! ```
//! use otai_plugin_sdk::json;
//! use otai_plugin_sdk::serde::Deserialize;
//!
//! #[derive(Debug, Deserialize)]
//! #[serde(crate = "otai_plugin_sdk::serde")]
//! struct Created<'a> {
//!     key: &'a str,
//!     #[serde(default)]
//!     retries: u8,
//! }
//!
//! let created: Created = json::from_str(r#"{"key": "OPS-42", "id": 10001}"#).unwrap();
//! assert_eq!((created.key, created.retries), ("OPS-42", 0));
//!
//! let err = json::from_str::<Created>(r#"{"id": 10001}"#).unwrap_err();
//! assert_eq!(err.to_string(), "missing field `key` at byte 13");
//! ```

mod de;
mod read;
mod ser;

pub use read::JsonError;
pub(crate) use read::Reader;

/// Decodes a `T` from JSON text. Whitespace may surround the value; anything else after
/// it is an error.
///
/// # Errors
/// When the text is not JSON, or not the shape of `T`.
pub fn from_str<'a, T: serde::Deserialize<'a>>(text: &'a str) -> Result<T, JsonError> {
    let mut reader = Reader::new(text);
    let value = de::deserialize(&mut reader)?;
    reader.end()?;
    Ok(value)
}

/// Decodes a `T` from JSON bytes, as [`from_str`] after checking they are UTF-8.
///
/// # Errors
/// When the bytes are not UTF-8, not JSON, or not the shape of `T`.
pub fn from_slice<'a, T: serde::Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, JsonError> {
    core::str::from_utf8(bytes)
        .map_err(JsonError::not_utf8)
        .and_then(from_str)
}

/// Writes `value` as compact JSON, as `serde_json::to_string` does.
///
/// ```
/// use otai_plugin_sdk::json;
/// use otai_plugin_sdk::serde::Serialize;
///
/// #[derive(Serialize)]
/// #[serde(crate = "otai_plugin_sdk::serde")]
/// struct Comment<'a> {
///     body: &'a str,
///     internal: bool,
/// }
///
/// let text = json::to_string(&Comment { body: "say \"hi\"", internal: false }).unwrap();
/// assert_eq!(text, r#"{"body":"say \"hi\"","internal":false}"#);
/// ```
///
/// # Errors
/// When a map has keys that are not strings, numbers or booleans, or a `Serialize`
/// implementation fails; the offset is the length written until then.
pub fn to_string<T: serde::Serialize + ?Sized>(value: &T) -> Result<String, JsonError> {
    ser::to_string(value)
}

pub(crate) use de::deserialize;
#[cfg(not(all(target_arch = "wasm32", feature = "component")))]
pub(crate) use ser::write_string;
