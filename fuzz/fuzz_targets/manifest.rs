//! Arbitrary bytes through the manifest parser, `Manifest::validate` and
//! `Manifest::validate_config`: none of them may panic, and what they accept must be
//! stable (a parsed manifest re-parses; a validated config validates again).
#![no_main]

use libfuzzer_sys::fuzz_target;
use otai_plugin_abi::manifest::Manifest;

fuzz_target!(|data: &[u8]| {
    // `manifest JSON` NUL `config JSON`: one input exercises both halves.
    let (manifest, config) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b"{}"[..]),
    };
    let Ok(manifest) = Manifest::from_json(manifest) else {
        return;
    };
    let diagnostics = manifest.validate();
    let _ = diagnostics.to_string();

    let reparsed = Manifest::from_json(manifest.to_json().as_bytes());
    assert!(
        reparsed.is_ok(),
        "a parsed manifest must serialize to a parseable one: {reparsed:?}"
    );

    let Ok(values) = serde_json::from_slice::<serde_json::Value>(config) else {
        return;
    };
    match manifest.validate_config(&values) {
        Ok(config) => {
            let _ = (format!("{config}"), format!("{config:?}"));
            let again = manifest.validate_config(&config.to_payload_json());
            assert!(
                again.is_ok(),
                "a validated config must validate again: {again:?}"
            );
        }
        Err(errors) => {
            let _ = errors.to_string();
        }
    }
});
