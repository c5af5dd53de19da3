//! Arbitrary text through `manifest_from_cargo_toml`: it must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use otai_plugin_abi::manifest::cargo::manifest_from_cargo_toml;

fuzz_target!(|text: &str| {
    match manifest_from_cargo_toml(text) {
        Ok(built) => {
            let _ = built.manifest.to_json();
        }
        Err(errors) => {
            let _ = errors.to_string();
        }
    }
});
