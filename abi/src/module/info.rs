//! Reading a core module: what it imports and exports (with signatures), its memories,
//! its custom sections and the size of every section, in one pass with wasmparser.

use std::fmt;
use std::ops::Range;

use serde::Serialize;
use wasmparser::{
    CompositeInnerType, ExternalKind, Parser, Payload, TypeRef, ValType as WasmValType,
};

use crate::wasm::{ValType, signature_to_string};

/// Why bytes could not be read as a core module.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    /// Not a WebAssembly binary at all (text, another file, another binary version).
    #[error("{0}")]
    NotWasm(String),
    /// A WebAssembly component rather than a core module.
    #[error(
        "this is a WebAssembly component, not a core module: Open Help Desk plugins are core \
         modules (build for `wasm32-unknown-unknown`, or `wasm32-wasip1` without a component \
         adapter, not `wasm32-wasip2`)"
    )]
    Component,
    /// A core module whose sections cannot be parsed.
    #[error("the module is malformed: {0}")]
    Malformed(String),
}

impl ReadError {
    /// The kind of the one problem these bytes have.
    pub fn kind(&self) -> crate::module::ProblemKind {
        match self {
            ReadError::NotWasm(_) => crate::module::ProblemKind::NotWasm,
            ReadError::Component => crate::module::ProblemKind::Component,
            ReadError::Malformed(_) => crate::module::ProblemKind::InvalidWasm,
        }
    }
}

/// A function signature found in a module.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Signature {
    /// Parameter types.
    pub params: Vec<ValType>,
    /// Result types.
    pub results: Vec<ValType>,
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&signature_to_string(&self.params, &self.results))
    }
}

impl Serialize for Signature {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

/// What an import or export is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Item {
    /// A function, with its signature when the module's type section declares one.
    Func {
        /// The signature; `None` for a non-function type (a malformed module).
        signature: Option<Signature>,
    },
    /// A linear memory.
    Memory(MemoryInfo),
    /// A table.
    Table,
    /// A global.
    Global,
    /// An exception tag.
    Tag,
}

/// A linear memory's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MemoryInfo {
    /// Whether it is a 64-bit memory.
    pub memory64: bool,
    /// Whether it is a shared memory (threads).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub shared: bool,
    /// Initial size in pages.
    pub initial_pages: u64,
    /// Maximum size in pages, if declared.
    pub maximum_pages: Option<u64>,
    /// log2 of the page size (16 for the usual 64 KiB pages).
    #[serde(skip)]
    pub page_size_log2: u32,
}

impl MemoryInfo {
    /// The initial size in bytes (saturating).
    pub fn initial_bytes(&self) -> u64 {
        self.initial_pages
            .saturating_mul(1u64 << self.page_size_log2)
    }
}

impl Item {
    /// `func (i32) -> ()`, `memory 1 pages`, …
    pub fn describe(&self) -> String {
        match self {
            Item::Func {
                signature: Some(sig),
            } => format!("func {sig}"),
            Item::Func { signature: None } => "func (unknown type)".to_owned(),
            Item::Memory(m) => {
                let bits = if m.memory64 { "memory64" } else { "memory" };
                let shared = if m.shared { " shared" } else { "" };
                match m.maximum_pages {
                    Some(max) => format!("{bits}{shared} {}..{max} pages", m.initial_pages),
                    None => format!("{bits}{shared} {} pages", m.initial_pages),
                }
            }
            Item::Table => "table".to_owned(),
            Item::Global => "global".to_owned(),
            Item::Tag => "tag".to_owned(),
        }
    }

    /// `function`, `memory`, `table`, `global` or `tag`.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Item::Func { .. } => "function",
            Item::Memory(_) => "memory",
            Item::Table => "table",
            Item::Global => "global",
            Item::Tag => "tag",
        }
    }
}

/// One import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Import {
    /// The import module, e.g. `ohd`.
    pub module: String,
    /// The field name, e.g. `ohd_log`.
    pub name: String,
    /// What is imported.
    #[serde(flatten)]
    pub item: Item,
}

/// One export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Export {
    /// The export name.
    pub name: String,
    /// What is exported.
    #[serde(flatten)]
    pub item: Item,
    /// The function index (imported functions first), for function exports.
    #[serde(skip)]
    pub func_index: Option<u32>,
}

/// A custom section.
#[derive(Debug, Clone)]
pub struct CustomSection<'a> {
    /// Its name.
    pub name: &'a str,
    /// Its contents.
    pub data: &'a [u8],
}

/// A section and its size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SectionSize {
    /// `type`, `code`, `custom "ohd_manifest"`, …
    pub name: String,
    /// The size of the section's contents in bytes.
    pub bytes: u64,
}

/// What a core module declares, read without validating it.
#[derive(Debug, Clone)]
pub struct ModuleInfo<'a> {
    /// The module's bytes.
    pub bytes: &'a [u8],
    /// Imports in order.
    pub imports: Vec<Import>,
    /// Exports in order.
    pub exports: Vec<Export>,
    /// Custom sections in order.
    pub custom_sections: Vec<CustomSection<'a>>,
    /// Every section, in order.
    pub sections: Vec<SectionSize>,
    /// The module's own memories (not imported ones).
    pub memories: Vec<MemoryInfo>,
    /// The initial element count of each table the module defines (not imported ones).
    pub tables: Vec<u64>,
    /// Every type of the type section: `Some` for function types.
    pub types: Vec<Option<Signature>>,
    /// The type index of every function, imported ones first.
    pub func_types: Vec<u32>,
    /// How many functions are imported.
    pub imported_funcs: u32,
    /// Whether the module has a start function.
    pub has_start: bool,
}

impl<'a> ModuleInfo<'a> {
    /// Reads a core module.
    ///
    /// # Errors
    /// The bytes are not wasm, are a component, or their sections cannot be parsed.
    pub fn parse(bytes: &'a [u8]) -> Result<ModuleInfo<'a>, ReadError> {
        ensure_core_module(bytes)?;
        let mut info = ModuleInfo {
            bytes,
            imports: Vec::new(),
            exports: Vec::new(),
            custom_sections: Vec::new(),
            sections: Vec::new(),
            memories: Vec::new(),
            tables: Vec::new(),
            types: Vec::new(),
            func_types: Vec::new(),
            imported_funcs: 0,
            has_start: false,
        };
        let malformed = |e: wasmparser::BinaryReaderError| ReadError::Malformed(e.to_string());
        let mut exports = Vec::new();
        for payload in Parser::new(0).parse_all(bytes) {
            let payload = payload.map_err(malformed)?;
            if let Some(section) = section_size(&payload) {
                info.sections.push(section);
            }
            match payload {
                Payload::TypeSection(reader) => {
                    for group in reader {
                        for ty in group.map_err(malformed)?.types() {
                            info.types.push(match &ty.composite_type.inner {
                                CompositeInnerType::Func(f) => Some(Signature {
                                    params: f.params().iter().map(|t| val_type(*t)).collect(),
                                    results: f.results().iter().map(|t| val_type(*t)).collect(),
                                }),
                                _ => None,
                            });
                        }
                    }
                }
                Payload::ImportSection(reader) => {
                    for import in reader.into_imports() {
                        let import = import.map_err(malformed)?;
                        let item = match import.ty {
                            TypeRef::Func(ty) | TypeRef::FuncExact(ty) => {
                                info.func_types.push(ty);
                                info.imported_funcs += 1;
                                Item::Func {
                                    signature: info.signature(ty),
                                }
                            }
                            TypeRef::Memory(m) => Item::Memory(memory_info(&m)),
                            TypeRef::Table(_) => Item::Table,
                            TypeRef::Global(_) => Item::Global,
                            TypeRef::Tag(_) => Item::Tag,
                        };
                        info.imports.push(Import {
                            module: import.module.to_owned(),
                            name: import.name.to_owned(),
                            item,
                        });
                    }
                }
                Payload::FunctionSection(reader) => {
                    for ty in reader {
                        info.func_types.push(ty.map_err(malformed)?);
                    }
                }
                Payload::MemorySection(reader) => {
                    for memory in reader {
                        info.memories.push(memory_info(&memory.map_err(malformed)?));
                    }
                }
                Payload::TableSection(reader) => {
                    for table in reader {
                        info.tables.push(table.map_err(malformed)?.ty.initial);
                    }
                }
                Payload::ExportSection(reader) => {
                    for export in reader {
                        let export = export.map_err(malformed)?;
                        exports.push((export.name.to_owned(), export.kind, export.index));
                    }
                }
                Payload::StartSection { .. } => info.has_start = true,
                Payload::CustomSection(reader) => info.custom_sections.push(CustomSection {
                    name: reader.name(),
                    data: reader.data(),
                }),
                _ => {}
            }
        }
        // Exports come before the code section but may name any function, so they are
        // resolved once every section has been read.
        for (name, kind, index) in exports {
            let item = info.export_item(kind, index);
            let func_index =
                matches!(kind, ExternalKind::Func | ExternalKind::FuncExact).then_some(index);
            info.exports.push(Export {
                name,
                item,
                func_index,
            });
        }
        Ok(info)
    }

    /// The total size in bytes.
    pub fn size(&self) -> u64 {
        self.bytes.len() as u64
    }

    fn signature(&self, type_index: u32) -> Option<Signature> {
        self.types.get(type_index as usize).cloned().flatten()
    }

    /// The signature of function `index` (imported functions first).
    pub fn func_signature(&self, index: u32) -> Option<Signature> {
        let ty = *self.func_types.get(index as usize)?;
        self.signature(ty)
    }

    fn export_item(&self, kind: ExternalKind, index: u32) -> Item {
        match kind {
            ExternalKind::Func | ExternalKind::FuncExact => Item::Func {
                signature: self.func_signature(index),
            },
            ExternalKind::Memory => {
                let imported = self.imports.iter().filter_map(|i| match i.item {
                    Item::Memory(m) => Some(m),
                    _ => None,
                });
                let all: Vec<MemoryInfo> = imported.chain(self.memories.iter().copied()).collect();
                Item::Memory(all.get(index as usize).copied().unwrap_or(MemoryInfo {
                    memory64: false,
                    shared: false,
                    initial_pages: 0,
                    maximum_pages: None,
                    page_size_log2: 16,
                }))
            }
            ExternalKind::Table => Item::Table,
            ExternalKind::Global => Item::Global,
            ExternalKind::Tag => Item::Tag,
        }
    }

    /// The export called `name`.
    pub fn export(&self, name: &str) -> Option<&Export> {
        self.exports.iter().find(|e| e.name == name)
    }

    /// The custom sections called `name`.
    pub fn custom(&self, name: &str) -> Vec<&CustomSection<'a>> {
        self.custom_sections
            .iter()
            .filter(|s| s.name == name)
            .collect()
    }
}

/// The flavour of `bytes`, a core module or a component, or what they are instead
/// (text, another file, another binary version). Nothing past the header is read.
///
/// # Errors
/// Not a WebAssembly binary of either flavour.
pub fn ensure_wasm(bytes: &[u8]) -> Result<crate::module::Flavour, ReadError> {
    if Parser::is_component(bytes) {
        return Ok(crate::module::Flavour::Component);
    }
    ensure_core_module(bytes).map(|()| crate::module::Flavour::Core)
}

/// Fails unless `bytes` is a core wasm module, saying what it is instead.
///
/// # Errors
/// Not wasm at all, or a component.
pub fn ensure_core_module(bytes: &[u8]) -> Result<(), ReadError> {
    if Parser::is_core_wasm(bytes) {
        return Ok(());
    }
    if Parser::is_component(bytes) {
        return Err(ReadError::Component);
    }
    let message = if bytes.starts_with(b"\0asm") {
        "unsupported WebAssembly binary version: only core modules of version 1 are plugins"
    } else if bytes.starts_with(b"(module") || bytes.starts_with(b"(component") {
        "this is WebAssembly text (WAT), not a binary module: compile it first, e.g. `wasm-tools parse`"
    } else {
        "not a WebAssembly module: it does not start with the WebAssembly header (`\\0asm`, version 1)"
    };
    Err(ReadError::NotWasm(message.to_owned()))
}

fn val_type(t: WasmValType) -> ValType {
    match t {
        WasmValType::I32 => ValType::I32,
        WasmValType::I64 => ValType::I64,
        WasmValType::F32 => ValType::F32,
        WasmValType::F64 => ValType::F64,
        WasmValType::V128 => ValType::V128,
        WasmValType::Ref(_) => ValType::Ref,
    }
}

pub(super) fn memory_info(m: &wasmparser::MemoryType) -> MemoryInfo {
    MemoryInfo {
        memory64: m.memory64,
        shared: m.shared,
        initial_pages: m.initial,
        maximum_pages: m.maximum,
        page_size_log2: m.page_size_log2.unwrap_or(16),
    }
}

fn section_size(payload: &Payload<'_>) -> Option<SectionSize> {
    let (name, range): (String, Range<usize>) = match payload {
        Payload::CustomSection(reader) => (format!("custom \"{}\"", reader.name()), reader.range()),
        Payload::CodeSectionStart { range, .. } => ("code".to_owned(), range.clone()),
        other => {
            let (id, range) = other.as_section()?;
            let name = match id {
                1 => "type",
                2 => "import",
                3 => "function",
                4 => "table",
                5 => "memory",
                6 => "global",
                7 => "export",
                8 => "start",
                9 => "element",
                11 => "data",
                12 => "datacount",
                13 => "tag",
                _ => "unknown",
            };
            (name.to_owned(), range)
        }
    };
    Some(SectionSize {
        name,
        bytes: range.len() as u64,
    })
}
