//! Component cases: a case's core module encoded as a component of a world of
//! `wit/ohd-plugin.wit`, as `cargo otai-plugin build --component` encodes a module, so
//! that a case holds the few lines of its plugin rather than the canonical ABI's types.

use anyhow::{Context, Result, anyhow, bail};

/// The crate's copy of the workspace's `wit/` (`tests/tests/packaging.rs` holds it equal).
const WIT: &str = include_str!("../../wit/ohd-plugin.wit");

/// The worlds a case may name in `case.json`'s `component`.
pub(crate) const WORLDS: &[&str] = &[
    otai_plugin_abi::component::WORLD,
    otai_plugin_abi::component::WORLD_WITH_PANEL,
];

/// Encodes `core` (a core module importing the host functions of
/// `ohd:plugin/host@1.0.0` by their lowered signatures and exporting the world's
/// functions, `memory` and `cabi_realloc`) as a component of `world`.
pub(crate) fn encode(mut core: Vec<u8>, world: &str) -> Result<Vec<u8>> {
    if !WORLDS.contains(&world) {
        bail!(
            "`component` names the world `{world}`; expected one of {}",
            WORLDS.join(", ")
        );
    }
    let mut resolve = wit_parser::Resolve::new();
    let package = resolve
        .push_str("ohd-plugin.wit", WIT)
        .map_err(|e| anyhow!("{e:#}"))
        .context("the runner's copy of wit/ohd-plugin.wit does not parse")?;
    let world = resolve
        .select_world(&[package], Some(world))
        .map_err(|e| anyhow!("{e:#}"))?;
    wit_component::embed_component_metadata(
        &mut core,
        &resolve,
        world,
        wit_component::StringEncoding::UTF8,
    )
    .map_err(|e| anyhow!("{e:#}"))
    .context("failed to embed the world in the module")?;
    wit_component::ComponentEncoder::default()
        .module(&core)
        .and_then(|e| e.validate(true).encode())
        .map_err(|e| anyhow!("{e:#}"))
        .context("the module does not encode as a component of its world")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_module_of_the_world_encodes_and_another_world_is_named() {
        let core = wat::parse_str(
            r#"(module
                 (import "ohd:plugin/host@1.0.0" "log" (func (param i32 i32 i32)))
                 (memory (export "memory") 1)
                 (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) i32.const 1024)
                 (func (export "on-event") (param i32 i32)))"#,
        )
        .unwrap();
        let component = encode(core.clone(), "plugin").unwrap();
        assert!(wasmparser::Parser::is_component(&component));
        let e = encode(core, "plugin-with-ui").unwrap_err();
        assert!(
            format!("{e:#}").contains("expected one of plugin, plugin-with-panel"),
            "{e:#}"
        );
    }
}
