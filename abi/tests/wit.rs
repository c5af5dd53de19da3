//! `wit/ohd-plugin.wit` must describe the same functions as the core ABI and as
//! `otai_plugin_abi::component`, so that none of the three can drift.

use otai_plugin_abi::component::{self, EXPORTS, HOST_FUNCTIONS};
use otai_plugin_abi::wasm::{self, PLUGIN_EXPORTS};
use wit_parser::{Resolve, TypeDefKind, WorldId, WorldItem, WorldKey};

mod wit_text;

use wit_text::{kebab, named_function, render_function, resolve};

fn world(resolve: &Resolve, package: wit_parser::PackageId, name: &str) -> WorldId {
    resolve.select_world(&[package], Some(name)).unwrap()
}

/// The world's function exports, `name: type`, sorted.
fn exports(resolve: &Resolve, world: WorldId) -> Vec<String> {
    let mut names: Vec<String> = resolve.worlds[world]
        .exports
        .iter()
        .map(|(key, item)| match (key, item) {
            (WorldKey::Name(name), WorldItem::Function(f)) => {
                format!("{name}: {}", render_function(resolve, f))
            }
            _ => panic!("a world exports only functions: {key:?}"),
        })
        .collect();
    names.sort();
    names
}

/// The world's imports, as the names a component imports them by.
fn imports(resolve: &Resolve, world: WorldId) -> Vec<String> {
    let mut names: Vec<String> = resolve.worlds[world]
        .imports
        .iter()
        .map(|(key, item)| match item {
            WorldItem::Interface { .. } => resolve.name_world_key(key),
            _ => panic!("a world imports only interfaces: {key:?}"),
        })
        .collect();
    names.sort();
    names
}

#[test]
fn the_package_is_the_abi_version() {
    let (resolve, package) = resolve();
    let name = &resolve.packages[package].name;
    assert_eq!(name.to_string(), component::PACKAGE);
    assert_eq!(
        name.version.as_ref().map(|v| v.major),
        Some(u64::from(otai_plugin_abi::ABI_VERSION))
    );
}

#[test]
fn the_host_interface_mirrors_the_core_imports_and_the_contract_table() {
    let (resolve, package) = resolve();
    let host = resolve.packages[package].interfaces["host"];
    assert_eq!(
        resolve.id_of(host).as_deref(),
        Some(component::HOST_INTERFACE)
    );
    let mut in_wit: Vec<(String, String)> = resolve.interfaces[host]
        .functions
        .values()
        .map(|f| (f.name.clone(), render_function(&resolve, f)))
        .collect();
    in_wit.sort();
    let mut in_table: Vec<(String, String)> = HOST_FUNCTIONS
        .iter()
        .map(|f| (f.name.to_owned(), f.ty.to_owned()))
        .collect();
    in_table.sort();
    assert_eq!(in_wit, in_table);

    // Each twin is named after its core function, and is its row's `wit` column as the
    // WIT writes it; the allocator imports have none (the canonical ABI moves strings and
    // lists itself).
    for f in HOST_FUNCTIONS {
        assert_eq!(f.name, kebab(f.core.name));
        let in_wit = resolve.interfaces[host]
            .functions
            .get(f.name)
            .map(|g| named_function(&resolve, g));
        assert_eq!(f.core.wit.map(str::to_owned), in_wit, "{}", f.core.name);
    }
    let allocator = [wasm::OHD_ALLOC.name, wasm::OHD_FREE.name];
    let mut core: Vec<String> = wasm::HOST_FUNCTIONS
        .iter()
        .filter(|f| !allocator.contains(&f.name))
        .map(|f| kebab(f.name))
        .collect();
    core.sort();
    let mut twins: Vec<String> = HOST_FUNCTIONS.iter().map(|f| f.name.to_owned()).collect();
    twins.sort();
    assert_eq!(twins, core);

    let types = resolve.packages[package].interfaces["types"];
    assert_eq!(
        resolve.id_of(types).as_deref(),
        Some(component::TYPES_INTERFACE)
    );
}

#[test]
fn the_worlds_import_the_host_and_export_the_core_exports_twins() {
    let (resolve, package) = resolve();
    let expected_imports = {
        let mut v = vec![
            component::HOST_INTERFACE.to_owned(),
            component::TYPES_INTERFACE.to_owned(),
        ];
        v.sort();
        v
    };
    let plugin = world(&resolve, package, component::WORLD);
    let panel = world(&resolve, package, component::WORLD_WITH_PANEL);
    assert_eq!(imports(&resolve, plugin), expected_imports);
    assert_eq!(imports(&resolve, panel), expected_imports);

    let export = |e: &component::WitExport| format!("{}: {}", e.name, e.ty);
    assert_eq!(exports(&resolve, plugin), [export(&component::ON_EVENT)]);
    assert_eq!(
        exports(&resolve, panel),
        [
            export(&component::ON_EVENT),
            export(&component::RENDER_PANEL)
        ]
    );

    // The exports are the core exports that are not the allocator's.
    let not_in_wit = [
        wasm::EXPORT_OHD_ALLOC,
        wasm::EXPORT_OHD_FREE,
        wasm::EXPORT_MALLOC,
        wasm::EXPORT_LIBC_FREE,
        wasm::EXPORT_INITIALIZE,
    ];
    let mut core: Vec<String> = PLUGIN_EXPORTS
        .iter()
        .filter(|e| !not_in_wit.contains(&e.name))
        .map(|e| kebab(e.name))
        .collect();
    core.sort();
    let mut twins: Vec<String> = EXPORTS.iter().map(|e| e.name.to_owned()).collect();
    twins.sort();
    assert_eq!(twins, core);
    for e in EXPORTS {
        assert_eq!(e.name, kebab(e.core.name));
    }
}

fn type_kind<'a>(resolve: &'a Resolve, name: &str) -> &'a TypeDefKind {
    resolve
        .types
        .iter()
        .find(|(_, t)| t.name.as_deref() == Some(name))
        .map(|(_, t)| &t.kind)
        .unwrap_or_else(|| panic!("no type `{name}` in the WIT"))
}

#[test]
fn wit_call_errors_mirror_the_status_codes() {
    use otai_plugin_abi::status::{self, CallStatus};
    let (resolve, _) = resolve();
    let TypeDefKind::Enum(e) = type_kind(&resolve, "call-error") else {
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

#[test]
fn wit_request_errors_mirror_the_host_error_kinds() {
    use otai_plugin_abi::calls::HostErrorKind;
    let (resolve, _) = resolve();
    let TypeDefKind::Variant(v) = type_kind(&resolve, "request-error") else {
        panic!("request-error is not a variant")
    };
    let cases: Vec<String> = v.cases.iter().map(|c| c.name.clone()).collect();
    // Every kind has its case but `address_not_allowed`, newer than the published world,
    // which cannot gain a case without breaking the components built against it: the
    // host answers it with `network` (docs/ABI.md section 14).
    let kinds: Vec<String> = HostErrorKind::ALL
        .iter()
        .filter(|k| **k != HostErrorKind::AddressNotAllowed)
        .map(|k| {
            serde_json::to_value(k)
                .unwrap()
                .as_str()
                .unwrap()
                .replace('_', "-")
        })
        .collect();
    assert_eq!(cases, kinds);

    let TypeDefKind::Enum(levels) = type_kind(&resolve, "log-level") else {
        panic!("log-level is not an enum")
    };
    for (code, case) in levels.cases.iter().enumerate() {
        let level = otai_plugin_abi::status::LogLevel::from_code(code as u32);
        assert_eq!(
            serde_json::to_value(level).unwrap().as_str(),
            Some(case.name.as_str())
        );
    }

    let TypeDefKind::Enum(methods) = type_kind(&resolve, "method") else {
        panic!("method is not an enum")
    };
    let methods: Vec<String> = methods
        .cases
        .iter()
        .map(|c| c.name.to_uppercase())
        .collect();
    assert_eq!(methods, otai_plugin_abi::calls::HTTP_METHODS);
}
