use otai_plugin_abi::wasm::{HOST_FUNCTIONS, HostFunction, ValType};
use wasmtime::{Config, Module};

use super::*;

fn wat_types(types: &[ValType]) -> String {
    types.iter().map(|t| format!(" {t}")).collect()
}

/// A module that imports `f` under its ABI name with `params -> results`.
fn importing(f: &HostFunction, params: &[ValType], results: &[ValType]) -> Vec<u8> {
    let wat = format!(
        r#"(module (import "{IMPORT_MODULE}" "{}" (func (param{}) (result{}))))"#,
        f.name,
        wat_types(params),
        wat_types(results)
    );
    wat::parse_str(&wat).unwrap()
}

#[test]
fn the_linker_defines_every_host_function_of_the_table_with_its_signature() {
    let engine = Engine::new(&Config::new()).unwrap();
    let linker = linker(&engine).unwrap();
    for f in HOST_FUNCTIONS {
        let ok = Module::new(&engine, importing(f, f.ty.params, f.ty.results)).unwrap();
        if let Err(e) = linker.instantiate_pre(&ok) {
            panic!(
                "`ohd.{}` {} is not defined by the linker: {e:#}",
                f.name, f.ty
            );
        }
        // One parameter more than the ABI says: the linker must not accept it, or it
        // defined the function with another signature than the table's.
        let mut params = f.ty.params.to_vec();
        params.push(ValType::I32);
        let wrong = Module::new(&engine, importing(f, &params, f.ty.results)).unwrap();
        assert!(
            linker.instantiate_pre(&wrong).is_err(),
            "`ohd.{}` links with the wrong signature",
            f.name
        );
    }
}

#[test]
fn a_twin_is_registered_under_the_name_of_its_wit_column() {
    assert_eq!(
        wit_name("log: func(level: log-level, message: string)"),
        "log"
    );
    assert_eq!(
        wit_name("set-custom-field: func(field: custom-field) -> result<_, call-error>"),
        "set-custom-field"
    );
    for f in HOST_FUNCTIONS {
        if let Some(wit) = f.wit {
            let name = wit_name(wit);
            assert!(
                otai_plugin_abi::component::host_function(name).is_some(),
                "`{}`'s twin `{name}` is not a function of the WIT's host interface",
                f.name
            );
        }
    }
}

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
const README: &str = "conformance/README.md";
const BLESS: &str = "OTAI_BLESS=1 cargo test -p otai-plugin-host --lib transcript_table";
const TABLE_START: &str = "<!-- generated from the host's functions (host/src/functions/)";
const TABLE_END: &str = "<!-- end of the generated transcript table -->";

/// The table of transcript entries of `conformance/README.md`: a row per function of
/// the ABI's table, its members as the function's file describes them (`TRANSCRIPT`).
fn transcript_table() -> String {
    macro_rules! rows {
        ($($group:ident {
            $(
                $(#[$doc:meta])*
                $constant:ident: fn $name:ident($($param:ident),*) $(-> $result:ident)?;
                    returns $returns:literal;
                    $(wit $wit:literal;)?
                    since $since:literal;
                    call $call:ident $record:tt;
            )*
        })*) => {
            [$($((otai_plugin_abi::wasm::$constant.name, $name::TRANSCRIPT),)*)*]
        };
    }
    let mut table = format!(
        "{TABLE_START} by a unit test of the host: edit a function's `TRANSCRIPT` there, \
         then {BLESS} -->\n\n| `fn` | members |\n|---|---|\n"
    );
    for (name, members) in otai_plugin_abi::for_each_host_function!(rows) {
        table += &format!("| `{name}` | {members} |\n");
    }
    table + "\n" + TABLE_END
}

#[test]
fn transcript_table_of_the_conformance_readme_is_current() {
    let path = format!("{ROOT}/{README}");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let start = text.find(TABLE_START);
    let end = start.and_then(|s| text[s..].find(TABLE_END).map(|e| s + e + TABLE_END.len()));
    let (Some(start), Some(end)) = (start, end) else {
        panic!(
            "{README} has no generated table of transcript entries (`{TABLE_START}` … `{TABLE_END}`)"
        );
    };
    let generated = transcript_table();
    if std::env::var_os("OTAI_BLESS").is_some() {
        let mut text = text;
        text.replace_range(start..end, &generated);
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("cannot write {README}: {e}"));
        return;
    }
    assert!(
        text[start..end] == generated,
        "the table of transcript entries in {README} is stale: a function's `TRANSCRIPT` \
         in host/src/functions/ or the ABI's table changed. Regenerate it with `{BLESS}` \
         and commit it."
    );
}
