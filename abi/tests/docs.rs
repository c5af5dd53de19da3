//! `docs/ABI.md` must name everything the crate defines, with the same numbers, so that
//! a change to the contract in code fails here until the document follows.

use otai_plugin_abi::calls::{HTTP_METHODS, HostErrorKind, REFUSED_HEADER_PREFIX, REFUSED_HEADERS};
use otai_plugin_abi::event::EventKind;
use otai_plugin_abi::{limits, manifest::MAX_PANEL_HEIGHT, status, wasm};

const ABI_MD: &str = include_str!("../../docs/ABI.md");

fn assert_mentions(what: &str) {
    assert!(ABI_MD.contains(what), "docs/ABI.md does not mention {what}");
}

/// `16 KiB`, `1 MiB`: how the document writes a size.
fn size(bytes: usize) -> String {
    match bytes {
        b if b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b % 1024 == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}

#[test]
fn abi_md_names_every_function_and_signature() {
    for f in wasm::HOST_FUNCTIONS {
        assert_mentions(&format!("`{}`", f.name));
        let params = vec!["i32"; f.ty.params.len()].join(" ");
        let results = vec!["i32"; f.ty.results.len()].join(" ");
        let wat = if results.is_empty() {
            format!("(func (param {params}))")
        } else {
            format!("(func (param {params}) (result {results}))")
        };
        assert_mentions(&format!("| `{}` | `{wat}` |", f.name));
    }
    for e in wasm::PLUGIN_EXPORTS {
        assert_mentions(&format!("| `{}` | `(func (export \"{}\")", e.name, e.name));
    }
    for name in [
        wasm::IMPORT_MODULE,
        wasm::MANIFEST_SECTION,
        wasm::ABI_MARKER_SECTION,
        wasm::SDK_RENDER_PANEL_INDIRECT,
    ] {
        assert_mentions(&format!("`{name}`"));
    }
}

#[test]
fn abi_md_states_every_status_error_kind_event_and_method() {
    for (code, name) in [
        (status::OK, "OK"),
        (status::INVALID_REQUEST, "INVALID_REQUEST"),
        (status::WRONG_TICKET, "WRONG_TICKET"),
        (status::TOO_LARGE, "TOO_LARGE"),
        (status::NOT_AVAILABLE, "NOT_AVAILABLE"),
    ] {
        assert_mentions(&format!("| {code} | `{name}` |"));
    }
    for kind in HostErrorKind::ALL {
        assert_mentions(&format!("| `{}` | {} |", kind.as_str(), kind.status()));
    }
    for event in EventKind::ALL {
        assert_mentions(&format!("| `{event}` |"));
    }
    for method in HTTP_METHODS {
        assert_mentions(&format!("`{method}`"));
    }
    for header in REFUSED_HEADERS {
        assert_mentions(&format!("`{header}`"));
    }
    assert_mentions(&format!("`{REFUSED_HEADER_PREFIX}*`"));
}

#[test]
fn abi_md_states_the_limits() {
    let row = |limit: &str, value: String| assert_mentions(&format!("| {limit} | {value} |"));
    row(
        "delivery deadline",
        format!("{} s", limits::DEFAULT_DEADLINE.as_secs()),
    );
    row(
        "memory per instance",
        size(limits::DEFAULT_MEMORY_LIMIT as usize),
    );
    row("log line", size(limits::MAX_LOG_LINE));
    row("log per delivery", size(limits::MAX_LOG_BYTES_PER_DELIVERY));
    row("HTTP request JSON", size(limits::MAX_HTTP_REQUEST));
    row("HTTP response body", size(limits::MAX_HTTP_RESPONSE));
    row("reply JSON", size(limits::MAX_REPLY));
    row(
        "custom field key",
        format!("{} B", limits::MAX_CUSTOM_FIELD_KEY),
    );
    row("custom field value", size(limits::MAX_CUSTOM_FIELD_VALUE));
    row("panel URL", size(limits::MAX_PANEL_URL));
    row("config value", size(limits::MAX_CONFIG_VALUE));
    row(
        "config (the payload's `config`, as JSON)",
        size(limits::MAX_CONFIG),
    );
    row(
        "manifest (`ohd_manifest` section)",
        size(limits::MAX_MANIFEST),
    );
    row(
        "module size",
        size(limits::DEFAULT_MAX_MODULE_SIZE as usize),
    );
    row("`ui_panel.height`", format!("1 to {MAX_PANEL_HEIGHT} px"));
    row(
        "auto-disable",
        format!(
            "more than {}% failed, {}-minute window, at least {} deliveries",
            (limits::DEFAULT_FAILURE_THRESHOLD * 100.0) as u32,
            limits::DEFAULT_FAILURE_WINDOW.as_secs() / 60,
            limits::DEFAULT_MIN_DELIVERIES
        ),
    );
}

/// The first ```json block after `heading`.
fn json_block_after(heading: &str) -> &'static str {
    let from = ABI_MD
        .find(heading)
        .unwrap_or_else(|| panic!("no heading {heading}"));
    let rest = &ABI_MD[from..];
    let start = rest
        .find("```json\n")
        .map(|i| i + "```json\n".len())
        .unwrap();
    let len = rest[start..].find("\n```").unwrap();
    &rest[start..start + len]
}

#[test]
fn abi_md_manifest_example_is_valid() {
    let example = json_block_after("## 7. The manifest");
    let manifest = otai_plugin_abi::manifest::Manifest::from_json(example.as_bytes()).unwrap();
    let diagnostics = manifest.validate();
    assert!(diagnostics.is_empty(), "{diagnostics}");
}

#[test]
fn abi_md_payload_and_data_examples_are_the_sample_events() {
    use otai_plugin_abi::event::EventPayload;
    use otai_plugin_abi::event::sample;

    let example = json_block_after("## 6. The event payload");
    let payload: serde_json::Value = serde_json::from_str(example).unwrap();
    serde_json::from_value::<EventPayload<serde_json::Value>>(payload.clone()).unwrap();
    let expected =
        sample::payload_with_config(&EventKind::TicketStatusChanged, payload["config"].clone());
    assert_eq!(
        payload, expected,
        "the payload of section 6 is the sample `ticket.status_changed` (abi/src/testing/sample.rs)"
    );

    let mut seen = Vec::new();
    for line in ABI_MD.lines().filter(|l| l.starts_with("| `ticket.")) {
        let cells: Vec<&str> = line.split(" | ").collect();
        let (Some(event), Some(data)) = (cells.first(), cells.get(1)) else {
            continue;
        };
        let Some(data) = data.strip_prefix('`').and_then(|d| d.split('`').next()) else {
            continue;
        };
        let kind = EventKind::from_name(event.trim_start_matches("| ").trim_matches('`'));
        let data: serde_json::Value =
            serde_json::from_str(data).unwrap_or_else(|e| panic!("{line}: {e}"));
        assert_eq!(
            data,
            sample::data(&kind),
            "the `data` of {kind} in section 6"
        );
        seen.push(kind);
    }
    assert_eq!(
        seen,
        EventKind::ALL,
        "one `data` example per event, in order"
    );
}

#[test]
fn abi_md_lists_every_kind_of_load_problem() {
    use otai_plugin_abi::module::ProblemKind;
    let section = &ABI_MD[ABI_MD.find("## 10.").unwrap()..ABI_MD.find("## 11.").unwrap()];
    for kind in ProblemKind::ALL {
        assert!(
            section.contains(&format!("`{kind}`")),
            "section 10 of docs/ABI.md does not name the problem kind `{kind}`"
        );
    }
}

/// The table of section 6's "One change, several events", row by row, is what
/// `rules::status` sends for a change of that row.
#[test]
fn abi_md_states_the_events_of_a_status_change() {
    use otai_plugin_abi::rules::status::{CLOSED, RESOLVED, status_change_events};
    for (row, from, to) in [
        (format!("`to` is `{RESOLVED}`"), "In Progress", RESOLVED),
        (format!("`to` is `{CLOSED}`"), RESOLVED, CLOSED),
        (
            format!("`from` is `{RESOLVED}` or `{CLOSED}`, `to` is neither"),
            CLOSED,
            "In Progress",
        ),
        ("any other change".to_owned(), "New", "In Progress"),
    ] {
        let events: Vec<String> = status_change_events(from, to)
            .iter()
            .map(|e| format!("`{e}`"))
            .collect();
        assert_mentions(&format!("| {row} | {} |", events.join(", then ")));
    }
}
