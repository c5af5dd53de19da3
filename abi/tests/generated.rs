//! The files generated from the contract's table of functions (`otai_plugin_abi::wasm`:
//! `HOST_FUNCTIONS` and `PLUGIN_EXPORTS`), and the generator itself:
//!
//! - `docs/abi-signatures.json`, every import (with the ABI version that added it) and
//!   export with its signature, which the Node host
//!   (`conformance/hosts/node/module-check.mjs`) judges modules by, and any other tool
//!   may read;
//! - the table of imports in docs/ABI.md section 3, between its markers;
//! - the body of the `host` interface of `wit/ohd-plugin.wit`: each row's `wit` column,
//!   under its call form as its doc line, and the `use` of the types those lines name
//!   (the rest of the WIT, the `types` interface included, is written by hand);
//! - `abi/src/component/host_functions.rs`, the component flavour's host functions, each
//!   beside its core twin, with their structural types as wit-parser resolves that
//!   interface (the twin of `ohd_add_reply` is `add-reply`);
//! - the copies of `wit/ohd-plugin.wit` that the SDK, the host and the CLI build from.
//!
//! Each is made from the table and the hand-written rest of the WIT in memory, so one
//! bless writes them all consistent, whatever order the tests run in. A committed copy
//! that is not what the table gives fails here. Regenerate them with
//! `OTAI_BLESS=1 cargo test --workspace --test generated` and commit them. The prose
//! around the table is written by hand; the last test names what it must mention.

use std::collections::BTreeSet;

use otai_plugin_abi::wasm::{self, FuncType, ValType};
use otai_plugin_abi::{ABI_VERSION, component};

mod wit_text;

use wit_parser::{Resolve, Type, TypeDefKind};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
const BLESS: &str = "OTAI_BLESS=1 cargo test --workspace --test generated";

const SIGNATURES: &str = "docs/abi-signatures.json";
const ABI_MD: &str = "docs/ABI.md";
const TABLE_START: &str = "<!-- generated from otai_plugin_abi::wasm::HOST_FUNCTIONS";
const TABLE_END: &str = "<!-- end of the generated table -->";
const COMPONENT_TABLE: &str = "abi/src/component/host_functions.rs";

fn blessing() -> bool {
    std::env::var_os("OTAI_BLESS").is_some()
}

fn read(file: &str) -> String {
    std::fs::read_to_string(format!("{ROOT}/{file}")).unwrap_or_default()
}

fn write(file: &str, text: &str) {
    std::fs::write(format!("{ROOT}/{file}"), text)
        .unwrap_or_else(|e| panic!("cannot write {file}: {e}"));
}

fn json_types(tys: &[ValType]) -> String {
    let tys: Vec<String> = tys.iter().map(|t| format!("\"{t}\"")).collect();
    format!("[{}]", tys.join(", "))
}

fn json_signature(ty: &FuncType) -> String {
    format!(
        "\"params\": {}, \"results\": {}",
        json_types(ty.params),
        json_types(ty.results)
    )
}

/// `docs/abi-signatures.json`, written by hand rather than by serde so that its text,
/// key order included, is the same whatever features serde_json is built with.
fn signatures_json() -> String {
    let imports: Vec<String> = wasm::HOST_FUNCTIONS
        .iter()
        .map(|f| {
            format!(
                "    \"{}\": {{ {}, \"since\": \"{}\" }}",
                f.name,
                json_signature(&f.ty),
                f.since
            )
        })
        .collect();
    let exports: Vec<String> = wasm::PLUGIN_EXPORTS
        .iter()
        .map(|e| {
            format!(
                "    \"{}\": {{ {}, \"required\": {} }}",
                e.name,
                json_signature(&e.ty),
                e.required
            )
        })
        .collect();
    format!(
        "{{\n  \"generated\": \"from otai_plugin_abi::wasm by abi/tests/generated.rs: {BLESS}\",\n  \
         \"abi\": {ABI_VERSION},\n  \"import_module\": \"{}\",\n  \"imports\": {{\n{}\n  }},\n  \
         \"exports\": {{\n{}\n  }}\n}}\n",
        wasm::IMPORT_MODULE,
        imports.join(",\n"),
        exports.join(",\n")
    )
}

/// The table of section 3, markers included.
fn imports_table() -> String {
    let mut table = format!(
        "{TABLE_START} (abi/src/wasm.rs) by abi/tests/generated.rs: edit the table there, \
         then {BLESS} -->\n\n\
         | import | wat type | returns | since |\n|---|---|---|---|\n"
    );
    for f in wasm::HOST_FUNCTIONS {
        table += &format!(
            "| `{}` | `{}` | {} | {} |\n",
            f.name,
            f.wat_type(),
            f.returns,
            f.since
        );
    }
    table + "\n" + TABLE_END
}

/// Where the generated table is in `text`: from its start marker to the end of its end
/// marker.
fn table_span(text: &str) -> Option<std::ops::Range<usize>> {
    let start = text.find(TABLE_START)?;
    let end = start + text[start..].find(TABLE_END)? + TABLE_END.len();
    Some(start..end)
}

/// `abi/src/component/host_functions.rs`: a constant per function of the WIT's host
/// interface (as [`wit_generated`] writes it), in its order, with its structural type
/// and its core twin, which is the row of `wasm` named like it (`ohd_` and snake case)
/// and whose constant is that name in upper case.
fn component_table() -> String {
    let (resolve, package) = wit_text::resolve_text(&wit_generated())
        .unwrap_or_else(|e| panic!("the generated {WIT} does not resolve: {e}"));
    let host = resolve.packages[package].interfaces["host"];
    let mut out = format!(
        "// The functions of the component flavour's host interface, each beside its core\n\
         // twin, included by `abi/src/component.rs`: generated from `wit/ohd-plugin.wit` by\n\
         // `abi/tests/generated.rs`. Do not edit: change the WIT, then\n\
         // `{BLESS}`.\n"
    );
    let mut constants = Vec::new();
    for f in resolve.interfaces[host].functions.values() {
        let core = wasm::HOST_FUNCTIONS
            .iter()
            .find(|c| wit_text::kebab(c.name) == f.name)
            .unwrap_or_else(|| {
                panic!(
                    "`{}` of the WIT's host interface has no core twin `ohd_{}` in \
                     otai_plugin_abi::wasm::HOST_FUNCTIONS",
                    f.name,
                    f.name.replace('-', "_")
                )
            });
        let constant = f.name.to_uppercase().replace('-', "_");
        let core_constant = core.name.to_uppercase();
        out += &format!(
            "\n/// `{}`, [`wasm::{core_constant}`]'s twin.\n\
             pub const {constant}: WitFunction = WitFunction {{\n    \
             name: \"{}\",\n    core: wasm::{core_constant},\n    ty: \"{}\",\n}};\n",
            wit_text::named_function(&resolve, f),
            f.name,
            wit_text::render_function(&resolve, f),
        );
        constants.push(constant);
    }
    out += &format!(
        "\n/// Every function of [`HOST_INTERFACE`]. Every one is optional for a plugin. The core\n\
         /// allocator imports have no twin: the canonical ABI moves strings and lists itself.\n\
         pub const HOST_FUNCTIONS: &[WitFunction] = &[{}];\n",
        constants.join(", ")
    );
    out
}

#[test]
fn the_committed_component_table_is_the_generated_wits() {
    let generated = component_table();
    if blessing() {
        write(COMPONENT_TABLE, &generated);
        return;
    }
    assert!(
        read(COMPONENT_TABLE) == generated,
        "{COMPONENT_TABLE} is stale (or missing): the table of otai_plugin_abi::wasm or the \
         types of {WIT} changed. Regenerate it with `{BLESS}` and commit it."
    );
}

const WIT: &str = "wit/ohd-plugin.wit";
const HOST_INTERFACE_OPENING: &str = "\ninterface host {\n";

/// Where the body of the host interface is in `wit`: after its opening line, up to its
/// closing brace, the first at the start of a line.
fn host_body_span(wit: &str) -> Option<std::ops::Range<usize>> {
    let start = wit.find(HOST_INTERFACE_OPENING)? + HOST_INTERFACE_OPENING.len();
    let end = start + wit[start..].find("\n}")? + 1;
    Some(start..end)
}

fn with_host_body(wit: &str, body: &str) -> String {
    let span = host_body_span(wit).unwrap_or_else(|| {
        panic!("{WIT} has no `interface host {{` … `}}` whose body the table gives")
    });
    let mut wit = wit.to_owned();
    wit.replace_range(span, body);
    wit
}

/// The host interface's body, from the rows that have a `wit` column (the allocator rows
/// have no twin), in the table's order.
fn host_body(types: &[String]) -> String {
    let mut body = format!(
        "    // Generated from the table of otai_plugin_abi::wasm (abi/src/wasm.rs: each row's\n    \
         // `wit` column, under its call form) by abi/tests/generated.rs. Edit the table,\n    \
         // then `{BLESS}`.\n"
    );
    if !types.is_empty() {
        body += &format!("    use types.{{{}}};\n", types.join(", "));
    }
    for f in wasm::HOST_FUNCTIONS {
        if let Some(wit) = f.wit {
            body += &format!("\n    /// `{}`.\n    {wit};", f.call_form());
        }
    }
    body + "\n"
}

/// The names of the type definitions `ty` refers to, not looking inside them (a
/// `request` names `method`, but only `request` is needed in scope).
fn type_names(resolve: &Resolve, ty: &Type, names: &mut BTreeSet<String>) {
    let Type::Id(id) = ty else { return };
    let def = &resolve.types[*id];
    if let Some(name) = &def.name {
        names.insert(name.clone());
        return;
    }
    match &def.kind {
        TypeDefKind::Type(t) | TypeDefKind::List(t) | TypeDefKind::Option(t) => {
            type_names(resolve, t, names)
        }
        TypeDefKind::Tuple(t) => t.types.iter().for_each(|t| type_names(resolve, t, names)),
        TypeDefKind::Result(r) => {
            r.ok.iter()
                .chain(r.err.iter())
                .for_each(|t| type_names(resolve, t, names));
        }
        _ => {}
    }
}

/// `wit/ohd-plugin.wit` with the host interface the table gives. Its `use` line names
/// every type of the `types` interface that a function line names, in the order of
/// `types`: found by resolving the interface once with all of them in scope.
fn wit_generated() -> String {
    let wit = read(WIT);
    let resolve_with = |body: &str| {
        let text = with_host_body(&wit, body);
        wit_text::resolve_text(&text).map(|(resolve, package)| {
            let host = resolve.packages[package].interfaces["host"];
            let types = resolve.packages[package].interfaces["types"];
            (resolve, host, types)
        })
    };
    let (resolve, _, types) = resolve_with("").unwrap_or_else(|e| {
        panic!("{WIT} does not resolve, even with an empty host interface: {e}")
    });
    let all: Vec<String> = resolve.interfaces[types].types.keys().cloned().collect();
    let (resolve, host, _) = resolve_with(&host_body(&all)).unwrap_or_else(|e| {
        panic!(
            "the `wit` column of otai_plugin_abi::wasm's table does not make a valid host \
             interface of {WIT} (a type it names must be declared in the WIT's `types` \
             interface, by hand): {e}"
        )
    });
    let mut named = BTreeSet::new();
    for f in resolve.interfaces[host].functions.values() {
        for p in &f.params {
            type_names(&resolve, &p.ty, &mut named);
        }
        if let Some(result) = &f.result {
            type_names(&resolve, result, &mut named);
        }
    }
    let used: Vec<String> = all.into_iter().filter(|t| named.contains(t)).collect();
    with_host_body(&wit, &host_body(&used))
}

#[test]
fn the_host_interface_of_the_wit_is_the_table() {
    let generated = wit_generated();
    if blessing() {
        write(WIT, &generated);
        return;
    }
    assert!(
        read(WIT) == generated,
        "the host interface of {WIT} is stale: the table of otai_plugin_abi::wasm changed. \
         Regenerate it with `{BLESS}` and commit it."
    );
}

/// The crates that build from their package carry the WIT in their own folder
/// (`tests/tests/packaging.rs` holds every such copy identical to its source).
const WIT_COPIES: [&str; 3] = ["sdk/wit", "host/wit", "cargo-otai-plugin/wit"];

#[test]
fn the_crates_copies_of_the_wit_are_the_wit() {
    let wit = wit_generated();
    for dir in WIT_COPIES {
        let copy = format!("{dir}/ohd-plugin.wit");
        if blessing() {
            write(&copy, &wit);
            continue;
        }
        assert!(
            read(&copy) == wit,
            "{copy} is not {WIT} as the table gives it (edit the table and the WIT's \
             hand-written rest, never a copy): write it with `{BLESS}` and commit it."
        );
    }
}

#[test]
fn the_committed_signature_file_is_the_table() {
    let generated = signatures_json();
    // The file is JSON, whatever the text above gets wrong.
    let value: serde_json::Value = serde_json::from_str(&generated).unwrap();
    assert_eq!(
        value["imports"].as_object().map(|o| o.len()),
        Some(wasm::HOST_FUNCTIONS.len())
    );
    for f in wasm::HOST_FUNCTIONS {
        assert_eq!(value["imports"][f.name]["since"], f.since, "{}", f.name);
        // `MAJOR.MINOR` of this major version: hosts compare the two numbers.
        let (major, minor) = f.since.split_once('.').unwrap_or_default();
        assert!(
            major == ABI_VERSION.to_string() && minor.parse::<u32>().is_ok(),
            "{}: `since \"{}\"` is not `{ABI_VERSION}.MINOR`",
            f.name,
            f.since
        );
    }
    if blessing() {
        write(SIGNATURES, &generated);
        return;
    }
    assert!(
        read(SIGNATURES) == generated,
        "{SIGNATURES} is stale (or missing): the table of otai_plugin_abi::wasm changed. \
         Regenerate it with `{BLESS}` and commit it."
    );
}

#[test]
fn the_imports_table_of_abi_md_is_the_table() {
    let text = read(ABI_MD);
    let span = table_span(&text).unwrap_or_else(|| {
        panic!("{ABI_MD} has no generated table of imports (`{TABLE_START}` … `{TABLE_END}`)")
    });
    let generated = imports_table();
    if blessing() {
        let mut text = text;
        text.replace_range(span, &generated);
        write(ABI_MD, &text);
        return;
    }
    assert!(
        text[span] == generated,
        "the table of imports in {ABI_MD} section 3 is stale: the table of \
         otai_plugin_abi::wasm changed. Regenerate it with `{BLESS}` and commit it."
    );
}

/// What no generator writes: each function's C declaration and its own heading in
/// section 3, and its row in section 14 beside its component twin.
#[test]
fn abi_md_describes_every_function_of_the_table() {
    let text = read(ABI_MD);
    let section = |from: &str, to: &str| {
        let start = text.find(from).unwrap_or_else(|| panic!("no {from}"));
        let end = start + text[start..].find(to).unwrap_or(text.len() - start);
        text[start..end].to_owned()
    };
    let imports = section("## 3. Imports", "## 4.");
    let components = section("## 14. The component flavour", "\n**");
    for f in wasm::HOST_FUNCTIONS {
        let call = f.call_form();
        assert!(
            imports.contains(&format!("OHD_IMPORT({})", f.name)),
            "the C declarations of section 3 of {ABI_MD} do not declare `{}`",
            f.name
        );
        // A heading of its own, or one it shares (the allocator imports).
        let heading = imports
            .lines()
            .any(|l| l.starts_with("### ") && l.contains(&format!("`{call}`")));
        assert!(heading, "section 3 of {ABI_MD} has no heading `{call}`");
        let twin = component::HOST_FUNCTIONS.iter().find(|t| t.core == *f);
        let row = match twin {
            Some(twin) => format!("| import `ohd.{call}` | `{}: func(", twin.name),
            None => format!("`ohd.{}`", f.name),
        };
        assert!(
            components.contains(&row),
            "the table of section 14 of {ABI_MD} has no row for `{}` ({row})",
            f.name
        );
    }
}
