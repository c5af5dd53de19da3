//! The event a run delivers, as `--event` and a fixture's `[event]` name it: an event
//! kind (its sample payload) or a payload file.

use std::path::Path;

use anyhow::{Context, Result};
use otai_plugin_host::Event;
use serde_json::Value;

/// The event for `--event` or a fixture: an event name (a realistic payload of that
/// kind) or a JSON payload file.
///
/// # Errors
/// An unknown event name, or a file that is not an ABI v1 payload.
pub(crate) fn event_from(spec: &str, base_dir: &Path) -> Result<Event> {
    let as_path = base_dir.join(spec);
    if spec.ends_with(".json") || (as_path.is_file() && !spec.starts_with("ticket.")) {
        return event_from_file(&as_path);
    }
    event_from_kind(spec)
}

/// An event of the named kind with realistic defaults.
///
/// # Errors
/// The name is not an ABI v1 event.
pub(crate) fn event_from_kind(name: &str) -> Result<Event> {
    // The host's reading of `{"event": name}`: the kind's sample payload, and the
    // host's own message for a name that is no event.
    Event::from_partial_json(serde_json::json!({ "event": name }))
        .map_err(|e| anyhow::anyhow!("{e}"))
}

/// An event from a JSON payload file, which may give only the fields it cares about
/// (`event` at least): the others come from the sample payload of its kind.
///
/// # Errors
/// The file cannot be read or is not an ABI v1 payload.
pub(crate) fn event_from_file(path: &Path) -> Result<Event> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("failed to read `{}`", path.display()))?;
    let value: Value =
        serde_json::from_str(&text).with_context(|| format!("`{}` is not JSON", path.display()))?;
    Event::from_partial_json(value)
        .with_context(|| format!("`{}` is not an event payload", path.display()))
}
