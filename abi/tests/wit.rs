//! `wit/ohd-plugin.wit` must describe the same functions as the core ABI, so it
//! cannot drift from `otai_plugin_abi::wasm`.

use otai_plugin_abi::wasm::{self, HOST_FUNCTIONS, PLUGIN_EXPORTS};
use wit_parser::{Resolve, WorldItem, WorldKey};

const WIT: &str = include_str!("../../wit/ohd-plugin.wit");

/// `ohd_set_custom_field` → `set-custom-field`.
fn kebab(core_name: &str) -> String {
    core_name
        .strip_prefix("ohd_")
        .unwrap_or(core_name)
        .replace('_', "-")
}

fn function_names<'a>(items: impl Iterator<Item = (&'a WorldKey, &'a WorldItem)>) -> Vec<String> {
    let mut names: Vec<String> = items
        .filter_map(|(key, item)| match (key, item) {
            (WorldKey::Name(name), WorldItem::Function(_)) => Some(name.clone()),
            _ => None,
        })
        .collect();
    names.sort();
    names
}

#[test]
fn wit_world_matches_the_core_abi() {
    let mut resolve = Resolve::new();
    let package = resolve.push_source("ohd-plugin.wit", WIT).unwrap();
    let name = &resolve.packages[package].name;
    assert_eq!(
        (name.namespace.as_str(), name.name.as_str()),
        ("ohd", "plugin")
    );
    assert_eq!(
        name.version.as_ref().map(|v| v.major),
        Some(u64::from(otai_plugin_abi::ABI_VERSION))
    );

    let world = &resolve.worlds[resolve.select_world(&[package], Some("plugin")).unwrap()];

    // The canonical ABI moves strings itself: the allocator functions have no WIT twin.
    let allocator = [wasm::OHD_ALLOC.name, wasm::OHD_FREE.name];
    let mut imports: Vec<String> = HOST_FUNCTIONS
        .iter()
        .filter(|f| !allocator.contains(&f.name))
        .map(|f| kebab(f.name))
        .collect();
    imports.sort();
    assert_eq!(function_names(world.imports.iter()), imports);

    let not_in_wit = [
        wasm::EXPORT_OHD_ALLOC,
        wasm::EXPORT_OHD_FREE,
        wasm::EXPORT_MALLOC,
        wasm::EXPORT_LIBC_FREE,
        wasm::EXPORT_INITIALIZE,
    ];
    let mut exports: Vec<String> = PLUGIN_EXPORTS
        .iter()
        .filter(|e| !not_in_wit.contains(&e.name))
        .map(|e| kebab(e.name))
        .collect();
    exports.sort();
    assert_eq!(function_names(world.exports.iter()), exports);
}

#[test]
fn wit_call_errors_mirror_the_status_codes() {
    use otai_plugin_abi::status::{self, CallStatus};
    let mut resolve = Resolve::new();
    resolve.push_source("ohd-plugin.wit", WIT).unwrap();
    let call_error = resolve
        .types
        .iter()
        .find(|(_, t)| t.name.as_deref() == Some("call-error"))
        .map(|(_, t)| &t.kind)
        .unwrap();
    let wit_parser::TypeDefKind::Enum(e) = call_error else {
        panic!("call-error is not an enum")
    };
    let cases: Vec<&str> = e.cases.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        cases,
        [
            "invalid-request",
            "wrong-ticket",
            "too-large",
            "not-available"
        ]
    );
    // Case i is status i + 1.
    let statuses = [
        status::INVALID_REQUEST,
        status::WRONG_TICKET,
        status::TOO_LARGE,
        status::NOT_AVAILABLE,
    ];
    for (i, code) in statuses.into_iter().enumerate() {
        assert_eq!(code, i as u32 + 1);
        assert_ne!(CallStatus::from_code(code), CallStatus::Ok);
    }
}
