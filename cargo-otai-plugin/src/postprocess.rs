//! What `build` does to the module rustc wrote: embed the manifest when the module has
//! none, add the multi-value `render_panel` adapter, add the `ohd_abi` marker; with
//! `--component`, encode the module as a component with those sections its own.
//!
//! Processing is idempotent: a processed module comes out byte for byte the same, so
//! running `build` twice (or on a module cargo did not relink) changes nothing.

use std::borrow::Cow;

use anyhow::{Context, Result, bail};
use otai_plugin_abi::marker::AbiMarker;
use otai_plugin_abi::wasm::{self as abi, ValType as AbiValType};
use wasm_encoder::reencode::{Error as ReencodeError, Reencode, utils};
use wasm_encoder::{
    CodeSection, CustomSection, Encode, ExportKind, ExportSection, Function, FunctionSection,
    MemArg, TypeSection, ValType,
};

use otai_plugin_abi::module::{Item, MemoryInfo, ModuleInfo};

mod data_copies;

/// One change made to a module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Change {
    /// The core module was encoded as a component, its `ohd_manifest` and `ohd_abi`
    /// sections moved to the component's own.
    Component,
    /// The `ohd_manifest` section was added (built from Cargo.toml).
    EmbeddedManifest,
    /// `render_panel` was added around `__ohd_render_panel_indirect`.
    RenderPanelAdapter,
    /// The `ohd_abi` section was added.
    AbiMarker,
    /// This many bytes of data were dropped: the copies in linear memory of the
    /// `ohd_manifest` and `ohd_abi` sections, which rustc 1.95 writes there too.
    DataCopies(usize),
}

/// The processed module and what was done to it.
#[derive(Debug, Clone)]
pub(crate) struct Processed {
    /// The module to write.
    pub bytes: Vec<u8>,
    /// What changed; empty when the module was already complete.
    pub changes: Vec<Change>,
}

/// Processes `module`. `manifest_json` is the manifest built from the package's
/// Cargo.toml, embedded only when the module carries none.
///
/// # Errors
/// The module cannot be read, has no manifest and none was given, or the adapter
/// cannot be added (wrong signature of the indirect export, no memory).
pub(crate) fn process(module: &[u8], manifest_json: Option<&str>) -> Result<Processed> {
    let info = ModuleInfo::parse(module)?;
    let mut changes = Vec::new();
    let mut bytes = match adapter_target(&info)? {
        Some(indirect) => {
            changes.push(Change::RenderPanelAdapter);
            add_render_panel(module, &info, indirect)?
        }
        None => module.to_vec(),
    };
    if info.custom(abi::MANIFEST_SECTION).is_empty() {
        let Some(json) = manifest_json else {
            bail!(
                "the module has no `{}` section and its package has no `[package.metadata.ohd]` \
                 to build one from",
                abi::MANIFEST_SECTION
            );
        };
        append_custom(&mut bytes, abi::MANIFEST_SECTION, json.as_bytes());
        changes.push(Change::EmbeddedManifest);
    }
    if info.custom(abi::ABI_MARKER_SECTION).is_empty() {
        append_custom(&mut bytes, abi::ABI_MARKER_SECTION, &new_marker()?);
        changes.push(Change::AbiMarker);
    }
    if let Some((without, removed)) = data_copies::drop_data_copies(&bytes, SECTIONS)? {
        bytes = without;
        changes.push(Change::DataCopies(removed));
    }
    Ok(Processed { bytes, changes })
}

/// The sections of the ABI, which `build` embeds or moves.
const SECTIONS: &[&str] = &[abi::MANIFEST_SECTION, abi::ABI_MARKER_SECTION];

/// The custom sections whose names start with this describe the world a core module
/// was built for (wit-bindgen embeds them; the component encoder reads them).
const COMPONENT_TYPE_SECTION: &str = "component-type";

/// Makes the component flavour of a plugin from the core module cargo built with the
/// SDK's `component` feature: the module's `ohd_manifest` (or the one built from
/// Cargo.toml, `manifest_json`, when it has none) and `ohd_abi` (or a new one) become
/// sections of the component itself, where hosts read them, and the module without
/// them is encoded as a component of the world its bindings embedded.
///
/// A component (the output of an earlier run, which cargo did not relink) is returned
/// unchanged.
///
/// # Errors
/// The module cannot be read, was not built with component bindings, has no manifest
/// and none was given, or the encoder refuses it (an import outside the world).
pub(crate) fn componentize(module: &[u8], manifest_json: Option<&str>) -> Result<Processed> {
    if wasmparser::Parser::is_component(module) {
        return Ok(Processed {
            bytes: module.to_vec(),
            changes: Vec::new(),
        });
    }
    let info = ModuleInfo::parse(module)?;
    if !info
        .custom_sections
        .iter()
        .any(|s| s.name.starts_with(COMPONENT_TYPE_SECTION))
    {
        bail!(
            "the module has no `{COMPONENT_TYPE_SECTION}` section, so it was not built with \
             bindings of the world `{}`: build it with the Rust SDK's `component` feature \
             (`cargo otai-plugin build --component` turns it on), or with `wit-bindgen` for \
             `wit/ohd-plugin.wit`",
            otai_plugin_abi::component::WORLD
        );
    }
    let mut changes = vec![Change::Component];
    let manifests = info.custom(abi::MANIFEST_SECTION);
    let markers = info.custom(abi::ABI_MARKER_SECTION);
    let mut sections: Vec<(&str, Vec<u8>)> = Vec::new();
    if manifests.is_empty() {
        let Some(json) = manifest_json else {
            bail!(
                "the module has no `{}` section and its package has no `[package.metadata.ohd]` \
                 to build one from",
                abi::MANIFEST_SECTION
            );
        };
        sections.push((abi::MANIFEST_SECTION, json.as_bytes().to_vec()));
        changes.push(Change::EmbeddedManifest);
    }
    // Every one moves, so that the component's check sees a duplicate as the module's
    // would have.
    sections.extend(
        manifests
            .iter()
            .map(|s| (abi::MANIFEST_SECTION, s.data.to_vec())),
    );
    sections.extend(
        markers
            .iter()
            .map(|s| (abi::ABI_MARKER_SECTION, s.data.to_vec())),
    );
    if markers.is_empty() {
        sections.push((abi::ABI_MARKER_SECTION, new_marker()?));
        changes.push(Change::AbiMarker);
    }
    let core = match data_copies::drop_data_copies(module, SECTIONS)? {
        Some((without, removed)) => {
            changes.push(Change::DataCopies(removed));
            without_sections(&without, SECTIONS)?
        }
        None => without_sections(module, SECTIONS)?,
    };
    let mut bytes = wit_component::ComponentEncoder::default()
        .module(&core)
        .context("failed to read the module's component bindings")?
        .validate(true)
        .encode()
        .context("failed to encode the module as a component")?;
    for (name, data) in &sections {
        append_custom(&mut bytes, name, data);
    }
    Ok(Processed { bytes, changes })
}

/// The module without the custom sections called one of `names`; every other section
/// is copied as it is.
fn without_sections(module: &[u8], names: &[&str]) -> Result<Vec<u8>> {
    let mut out = module
        .get(..8)
        .context("the module is shorter than its header")?
        .to_vec();
    for payload in wasmparser::Parser::new(0).parse_all(module) {
        let payload = payload.context("failed to read the module")?;
        if let wasmparser::Payload::CustomSection(c) = &payload
            && names.contains(&c.name())
        {
            continue;
        }
        if let Some((id, range)) = payload.as_section() {
            out.push(id);
            let len = u32::try_from(range.len()).context("a section is larger than 4 GiB")?;
            len.encode(&mut out);
            out.extend_from_slice(
                module
                    .get(range)
                    .context("a section lies outside the module")?,
            );
        }
    }
    Ok(out)
}

fn new_marker() -> Result<Vec<u8>> {
    let marker = AbiMarker {
        abi: otai_plugin_abi::ABI_VERSION,
        sdk: Some(concat!("cargo-otai-plugin ", env!("CARGO_PKG_VERSION")).to_owned()),
    };
    serde_json::to_vec(&marker).context("failed to encode the ABI marker")
}

/// Custom sections may appear anywhere after the header, so appending one to a valid
/// module keeps it valid and spares re-encoding the rest.
fn append_custom(bytes: &mut Vec<u8>, name: &str, data: &[u8]) {
    let section = CustomSection {
        name: Cow::Borrowed(name),
        data: Cow::Borrowed(data),
    };
    bytes.push(wasm_encoder::SectionId::Custom as u8);
    section.encode(bytes);
}

/// The index of the function to wrap, if the module needs the adapter.
fn adapter_target(info: &ModuleInfo<'_>) -> Result<Option<u32>> {
    let Some(indirect) = info.export(abi::SDK_RENDER_PANEL_INDIRECT) else {
        return Ok(None);
    };
    if info.export(abi::EXPORT_RENDER_PANEL).is_some() {
        bail!(
            "the module exports both `{}` and `{}`; export only one of them",
            abi::EXPORT_RENDER_PANEL,
            abi::SDK_RENDER_PANEL_INDIRECT
        );
    }
    let (Item::Func { signature }, Some(index)) = (&indirect.item, indirect.func_index) else {
        bail!(
            "export `{}` is not a function",
            abi::SDK_RENDER_PANEL_INDIRECT
        );
    };
    let expected = [AbiValType::I32];
    let ok = signature
        .as_ref()
        .is_some_and(|s| s.params == [AbiValType::I32, AbiValType::I32] && s.results == expected);
    if !ok {
        bail!(
            "export `{}` has type `{}`, expected `(i32, i32) -> i32`",
            abi::SDK_RENDER_PANEL_INDIRECT,
            signature
                .as_ref()
                .map_or_else(|| "unknown".to_owned(), ToString::to_string)
        );
    }
    match info.memories.first() {
        Some(MemoryInfo {
            memory64: false, ..
        }) => {}
        _ => bail!(
            "the `{}` adapter reads the URL from memory 0, but the module defines no 32-bit memory",
            abi::EXPORT_RENDER_PANEL
        ),
    }
    if info.func_types.len() as u32 == info.imported_funcs {
        bail!("the module defines no functions, so it cannot have a `render_panel` to wrap");
    }
    Ok(Some(index))
}

/// Re-encodes the module with one more type, one more function and the exports
/// swapped. Function bodies are copied as bytes, not decoded.
fn add_render_panel(module: &[u8], info: &ModuleInfo<'_>, indirect: u32) -> Result<Vec<u8>> {
    let mut adapter = Adapter {
        indirect,
        new_type: info.types.len() as u32,
        new_func: info.func_types.len() as u32,
    };
    let mut encoded = wasm_encoder::Module::new();
    adapter
        .parse_core_module(&mut encoded, wasmparser::Parser::new(0), module)
        .map_err(|err| anyhow::anyhow!("failed to re-encode the module: {err}"))?;
    Ok(encoded.finish())
}

struct Adapter {
    indirect: u32,
    new_type: u32,
    new_func: u32,
}

type Res = std::result::Result<(), ReencodeError<std::convert::Infallible>>;

impl Reencode for Adapter {
    type Error = std::convert::Infallible;

    fn parse_type_section(
        &mut self,
        types: &mut TypeSection,
        section: wasmparser::TypeSectionReader<'_>,
    ) -> Res {
        utils::parse_type_section(self, types, section)?;
        types
            .ty()
            .function([ValType::I32, ValType::I32], [ValType::I32, ValType::I32]);
        Ok(())
    }

    fn parse_function_section(
        &mut self,
        functions: &mut FunctionSection,
        section: wasmparser::FunctionSectionReader<'_>,
    ) -> Res {
        utils::parse_function_section(self, functions, section)?;
        functions.function(self.new_type);
        Ok(())
    }

    fn parse_export_section(
        &mut self,
        exports: &mut ExportSection,
        section: wasmparser::ExportSectionReader<'_>,
    ) -> Res {
        for export in section {
            let export = export?;
            if export.name != abi::SDK_RENDER_PANEL_INDIRECT {
                utils::parse_export(self, exports, export)?;
            }
        }
        exports.export(abi::EXPORT_RENDER_PANEL, ExportKind::Func, self.new_func);
        Ok(())
    }

    fn parse_code_section(
        &mut self,
        code: &mut CodeSection,
        section: wasmparser::CodeSectionReader<'_>,
    ) -> Res {
        for body in section {
            code.raw(body?.as_bytes());
        }
        // render_panel(id_ptr, id_len) -> (url_ptr, url_len):
        //   addr = indirect(id_ptr, id_len); (load32 addr, load32 addr+4)
        let mut f = Function::new([(1, ValType::I32)]);
        let word = |offset| MemArg {
            offset,
            align: 2,
            memory_index: 0,
        };
        f.instructions()
            .local_get(0)
            .local_get(1)
            .call(self.indirect)
            .local_tee(2)
            .i32_load(word(0))
            .local_get(2)
            .i32_load(word(4))
            .end();
        code.function(&f);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PANEL: &str = r#"(module
        (memory (export "memory") 1)
        (data (i32.const 64) "https://panel.example/t")
        (func (export "__ohd_render_panel_indirect") (param i32 i32) (result i32)
            (i32.store (i32.const 128) (i32.const 64))
            (i32.store (i32.const 132) (i32.const 23))
            i32.const 128)
        (func (export "on_event") (param i32 i32)))"#;

    #[test]
    fn adds_the_adapter_marker_and_manifest_once() {
        let wasm = wat::parse_str(PANEL).unwrap();
        let first = process(&wasm, Some("{}")).unwrap();
        assert_eq!(
            first.changes,
            [
                Change::RenderPanelAdapter,
                Change::EmbeddedManifest,
                Change::AbiMarker
            ]
        );
        wasmparser::Validator::new()
            .validate_all(&first.bytes)
            .unwrap();
        let info = ModuleInfo::parse(&first.bytes).unwrap();
        assert!(info.export(abi::SDK_RENDER_PANEL_INDIRECT).is_none());
        assert_eq!(
            info.export("render_panel").unwrap().item.describe(),
            "func (i32, i32) -> (i32, i32)"
        );
        assert_eq!(info.custom(abi::MANIFEST_SECTION)[0].data, b"{}");

        let second = process(&first.bytes, Some("{}")).unwrap();
        assert!(second.changes.is_empty());
        assert_eq!(second.bytes, first.bytes);
    }

    #[test]
    fn componentize_needs_component_bindings_and_leaves_a_component_alone() {
        let core = wat::parse_str(PANEL).unwrap();
        let err = format!("{:#}", componentize(&core, Some("{}")).unwrap_err());
        assert!(
            err.contains("the module has no `component-type` section")
                && err.contains("`component` feature"),
            "{err}"
        );
        let component = wat::parse_str("(component)").unwrap();
        let again = componentize(&component, Some("{}")).unwrap();
        assert!(again.changes.is_empty());
        assert_eq!(again.bytes, component);
    }

    #[test]
    fn without_sections_drops_only_the_named_custom_sections() {
        let core = wat::parse_str(PANEL).unwrap();
        let first = process(&core, Some("{}")).unwrap();
        let stripped = without_sections(&first.bytes, &[abi::MANIFEST_SECTION]).unwrap();
        wasmparser::Validator::new()
            .validate_all(&stripped)
            .unwrap();
        let info = ModuleInfo::parse(&stripped).unwrap();
        assert!(info.custom(abi::MANIFEST_SECTION).is_empty());
        assert_eq!(info.custom(abi::ABI_MARKER_SECTION).len(), 1);
        assert!(info.export("render_panel").is_some());
        assert_eq!(
            stripped.len(),
            first.bytes.len() - (3 + "ohd_manifest".len() + 2),
            "one section of `{{}}` less"
        );
    }

    #[test]
    fn wrong_indirect_signature_is_an_error() {
        let wasm = wat::parse_str(
            r#"(module (memory 1) (func (export "__ohd_render_panel_indirect") (param i32)))"#,
        )
        .unwrap();
        let err = process(&wasm, Some("{}")).unwrap_err().to_string();
        assert!(
            err.contains("has type `(i32) -> ()`, expected `(i32, i32) -> i32`"),
            "{err}"
        );
    }
}
