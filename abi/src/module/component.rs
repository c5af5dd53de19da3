//! Reading a component: its top-level imports and exports with their types, its
//! top-level custom sections, and the memories and tables of the core modules inside
//! it, in one pass with wasmparser and one validation.

use std::ops::Range;

use serde::Serialize;
use wasmparser::component_types::{
    ComponentDefinedType, ComponentEntityType, ComponentFuncTypeId, ComponentValType,
};
use wasmparser::types::Types;
use wasmparser::{ComponentExternalKind, ComponentTypeRef, Encoding, Parser, Payload, Validator};

use crate::module::info::{CustomSection, MemoryInfo, ReadError, SectionSize};

/// What a component import or export is. Types are written structurally, in the
/// notation of [`crate::component`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum ComponentItem {
    /// A function, with its type when the component is valid.
    Func {
        /// `func(…) -> …`.
        #[serde(skip_serializing_if = "Option::is_none")]
        ty: Option<String>,
    },
    /// An instance (an imported interface): its functions and its type exports.
    Instance {
        /// Its functions, `(name, type)`, in order.
        functions: Vec<(String, String)>,
        /// The names of its exported types.
        types: Vec<String>,
    },
    /// A core module.
    Module,
    /// A component.
    Component,
    /// A type.
    Type,
    /// A value.
    Value,
}

impl ComponentItem {
    /// `function`, `instance`, `core module`, `component`, `type` or `value`.
    pub fn kind_name(&self) -> &'static str {
        match self {
            ComponentItem::Func { .. } => "function",
            ComponentItem::Instance { .. } => "instance",
            ComponentItem::Module => "core module",
            ComponentItem::Component => "component",
            ComponentItem::Type => "type",
            ComponentItem::Value => "value",
        }
    }

    /// `func(payload: string)`, `instance of 3 functions`, …
    pub fn describe(&self) -> String {
        match self {
            ComponentItem::Func { ty: Some(ty) } => ty.clone(),
            ComponentItem::Func { ty: None } => "func (unknown type)".to_owned(),
            ComponentItem::Instance { functions, types } => format!(
                "instance: {} function{}, {} type{}",
                functions.len(),
                if functions.len() == 1 { "" } else { "s" },
                types.len(),
                if types.len() == 1 { "" } else { "s" },
            ),
            other => other.kind_name().to_owned(),
        }
    }
}

/// One top-level import or export of a component.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ComponentExtern {
    /// Its name, e.g. `ohd:plugin/host@1.0.0` or `on-event`.
    pub name: String,
    /// What it is.
    #[serde(flatten)]
    pub item: ComponentItem,
}

/// What a component declares.
#[derive(Debug, Clone)]
pub struct ComponentInfo<'a> {
    /// The component's bytes.
    pub bytes: &'a [u8],
    /// Top-level imports in order.
    pub imports: Vec<ComponentExtern>,
    /// Top-level exports in order.
    pub exports: Vec<ComponentExtern>,
    /// The custom sections of the component itself, in order (not those of the modules
    /// inside it).
    pub custom_sections: Vec<CustomSection<'a>>,
    /// The names of the custom sections of the core modules inside it.
    pub nested_custom_sections: Vec<&'a str>,
    /// The component's own sections, in order.
    pub sections: Vec<SectionSize>,
    /// How many core modules it contains.
    pub core_modules: u32,
    /// How many core instances it creates.
    pub core_instances: u32,
    /// How many components it contains.
    pub nested_components: u32,
    /// The memories its core modules define.
    pub memories: Vec<MemoryInfo>,
    /// The initial element count of each table its core modules define.
    pub tables: Vec<u64>,
    /// Why validation failed (with the features of
    /// [`accepted_component_features`](crate::module::accepted_component_features)),
    /// when it did. Types are then unknown.
    pub invalid: Option<String>,
}

impl<'a> ComponentInfo<'a> {
    /// Reads and validates a component.
    ///
    /// # Errors
    /// The bytes are not a component, or their sections cannot be parsed. A component
    /// that parses but fails validation is read, with [`ComponentInfo::invalid`] set.
    pub fn parse(bytes: &'a [u8]) -> Result<ComponentInfo<'a>, ReadError> {
        if !Parser::is_component(bytes) {
            return Err(ReadError::NotWasm(
                "not a WebAssembly component: it does not start with the component header".into(),
            ));
        }
        let mut info = ComponentInfo {
            bytes,
            imports: Vec::new(),
            exports: Vec::new(),
            custom_sections: Vec::new(),
            nested_custom_sections: Vec::new(),
            sections: Vec::new(),
            core_modules: 0,
            core_instances: 0,
            nested_components: 0,
            memories: Vec::new(),
            tables: Vec::new(),
            invalid: None,
        };
        let malformed = |e: wasmparser::BinaryReaderError| ReadError::Malformed(e.to_string());
        let mut imports = Vec::new();
        let mut exports = Vec::new();
        // The encoding of each module or component being read, outermost first.
        let mut stack: Vec<Encoding> = Vec::new();
        for payload in Parser::new(0).parse_all(bytes) {
            let payload = payload.map_err(malformed)?;
            let top = stack.len() == 1;
            if top && let Some(section) = section_size(&payload) {
                info.sections.push(section);
            }
            match payload {
                Payload::Version { encoding, .. } => stack.push(encoding),
                Payload::End(_) => {
                    stack.pop();
                }
                Payload::ModuleSection { .. } => info.core_modules += 1,
                Payload::ComponentSection { .. } => info.nested_components += 1,
                Payload::InstanceSection(reader) => info.core_instances += reader.count(),
                Payload::MemorySection(reader) => {
                    for memory in reader {
                        info.memories
                            .push(super::info::memory_info(&memory.map_err(malformed)?));
                    }
                }
                Payload::TableSection(reader) => {
                    for table in reader {
                        info.tables.push(table.map_err(malformed)?.ty.initial);
                    }
                }
                Payload::ComponentImportSection(reader) if top => {
                    for import in reader {
                        let import = import.map_err(malformed)?;
                        imports.push((import.name.name.to_owned(), type_ref_item(import.ty)));
                    }
                }
                Payload::ComponentExportSection(reader) if top => {
                    for export in reader {
                        let export = export.map_err(malformed)?;
                        exports.push((export.name.name.to_owned(), kind_item(export.kind)));
                    }
                }
                Payload::CustomSection(reader) if top => info.custom_sections.push(CustomSection {
                    name: reader.name(),
                    data: reader.data(),
                }),
                Payload::CustomSection(reader) => info.nested_custom_sections.push(reader.name()),
                _ => {}
            }
        }

        let mut validator = Validator::new_with_features(super::accepted_component_features());
        let types = match validator.validate_all(bytes) {
            Ok(types) => Some(types),
            Err(err) => {
                info.invalid = Some(err.to_string());
                None
            }
        };
        let typed = |name: &str, item: ComponentItem, import: bool| match &types {
            Some(types) => {
                let found = if import {
                    types.component_item_for_import(name)
                } else {
                    types.component_item_for_export(name)
                };
                found.map_or(item, |found| entity_item(types, &found.ty))
            }
            None => item,
        };
        info.imports = imports
            .into_iter()
            .map(|(name, item)| ComponentExtern {
                item: typed(&name, item, true),
                name,
            })
            .collect();
        info.exports = exports
            .into_iter()
            .map(|(name, item)| ComponentExtern {
                item: typed(&name, item, false),
                name,
            })
            .collect();
        Ok(info)
    }

    /// The total size in bytes.
    pub fn size(&self) -> u64 {
        self.bytes.len() as u64
    }

    /// The top-level import called `name`.
    pub fn import(&self, name: &str) -> Option<&ComponentExtern> {
        self.imports.iter().find(|e| e.name == name)
    }

    /// The top-level export called `name`.
    pub fn export(&self, name: &str) -> Option<&ComponentExtern> {
        self.exports.iter().find(|e| e.name == name)
    }

    /// The component's own custom sections called `name`.
    pub fn custom(&self, name: &str) -> Vec<&CustomSection<'a>> {
        self.custom_sections
            .iter()
            .filter(|s| s.name == name)
            .collect()
    }
}

fn type_ref_item(ty: ComponentTypeRef) -> ComponentItem {
    match ty {
        ComponentTypeRef::Module(_) => ComponentItem::Module,
        ComponentTypeRef::Func(_) => ComponentItem::Func { ty: None },
        ComponentTypeRef::Value(_) => ComponentItem::Value,
        ComponentTypeRef::Type(_) => ComponentItem::Type,
        ComponentTypeRef::Instance(_) => ComponentItem::Instance {
            functions: Vec::new(),
            types: Vec::new(),
        },
        ComponentTypeRef::Component(_) => ComponentItem::Component,
    }
}

fn kind_item(kind: ComponentExternalKind) -> ComponentItem {
    match kind {
        ComponentExternalKind::Module => ComponentItem::Module,
        ComponentExternalKind::Func => ComponentItem::Func { ty: None },
        ComponentExternalKind::Value => ComponentItem::Value,
        ComponentExternalKind::Type => ComponentItem::Type,
        ComponentExternalKind::Instance => ComponentItem::Instance {
            functions: Vec::new(),
            types: Vec::new(),
        },
        ComponentExternalKind::Component => ComponentItem::Component,
    }
}

fn entity_item(types: &Types, ty: &ComponentEntityType) -> ComponentItem {
    match ty {
        ComponentEntityType::Func(id) => ComponentItem::Func {
            ty: Some(render_func(types, *id)),
        },
        ComponentEntityType::Instance(id) => {
            let mut functions = Vec::new();
            let mut type_names = Vec::new();
            for (name, item) in &types[*id].exports {
                match &item.ty {
                    ComponentEntityType::Func(f) => {
                        functions.push((name.clone(), render_func(types, *f)));
                    }
                    _ => type_names.push(name.clone()),
                }
            }
            ComponentItem::Instance {
                functions,
                types: type_names,
            }
        }
        ComponentEntityType::Module(_) => ComponentItem::Module,
        ComponentEntityType::Component(_) => ComponentItem::Component,
        ComponentEntityType::Type { .. } => ComponentItem::Type,
        ComponentEntityType::Value(_) => ComponentItem::Value,
    }
}

/// `func(name: type, …) -> type`.
fn render_func(types: &Types, id: ComponentFuncTypeId) -> String {
    let func = &types[id];
    let params: Vec<String> = func
        .params
        .iter()
        .map(|(name, ty)| format!("{name}: {}", render(types, ty)))
        .collect();
    let prefix = if func.async_ { "async " } else { "" };
    match &func.result {
        Some(result) => format!(
            "{prefix}func({}) -> {}",
            params.join(", "),
            render(types, result)
        ),
        None => format!("{prefix}func({})", params.join(", ")),
    }
}

fn render(types: &Types, ty: &ComponentValType) -> String {
    let id = match ty {
        ComponentValType::Primitive(p) => return p.to_string(),
        ComponentValType::Type(id) => *id,
    };
    let list = |items: Vec<String>| items.join(", ");
    match &types[id] {
        ComponentDefinedType::Primitive(p) => p.to_string(),
        ComponentDefinedType::Record(r) => format!(
            "record{{{}}}",
            list(
                r.fields
                    .iter()
                    .map(|(name, ty)| format!("{name}: {}", render(types, ty)))
                    .collect()
            )
        ),
        ComponentDefinedType::Variant(v) => format!(
            "variant{{{}}}",
            list(
                v.cases
                    .iter()
                    .map(|(name, case)| match &case.ty {
                        Some(ty) => format!("{name}({})", render(types, ty)),
                        None => name.to_string(),
                    })
                    .collect()
            )
        ),
        ComponentDefinedType::List { element, .. } => format!("list<{}>", render(types, element)),
        ComponentDefinedType::Tuple(t) => format!(
            "tuple<{}>",
            list(t.types.iter().map(|ty| render(types, ty)).collect())
        ),
        ComponentDefinedType::Flags(names) => format!(
            "flags{{{}}}",
            list(names.iter().map(ToString::to_string).collect())
        ),
        ComponentDefinedType::Enum(names) => format!(
            "enum{{{}}}",
            list(names.iter().map(ToString::to_string).collect())
        ),
        ComponentDefinedType::Option { ty, .. } => format!("option<{}>", render(types, ty)),
        ComponentDefinedType::Result { ok, err, .. } => {
            let side = |t: &Option<ComponentValType>| {
                t.as_ref()
                    .map_or_else(|| "_".to_owned(), |t| render(types, t))
            };
            format!("result<{}, {}>", side(ok), side(err))
        }
        ComponentDefinedType::Own(_) => "own<resource>".to_owned(),
        ComponentDefinedType::Borrow(_) => "borrow<resource>".to_owned(),
        ComponentDefinedType::Map { key, value, .. } => {
            format!("map<{}, {}>", render(types, key), render(types, value))
        }
        ComponentDefinedType::FixedLengthList {
            element, length, ..
        } => format!("list<{}, {length}>", render(types, element)),
        ComponentDefinedType::Future { .. } => "future".to_owned(),
        ComponentDefinedType::Stream { .. } => "stream".to_owned(),
    }
}

fn section_size(payload: &Payload<'_>) -> Option<SectionSize> {
    let (name, range): (String, Range<usize>) = match payload {
        Payload::CustomSection(reader) => (format!("custom \"{}\"", reader.name()), reader.range()),
        other => {
            let (id, range) = other.as_section()?;
            let name = match id {
                1 => "core module",
                2 => "core instance",
                3 => "core type",
                4 => "component",
                5 => "instance",
                6 => "alias",
                7 => "type",
                8 => "canon",
                9 => "start",
                10 => "import",
                11 => "export",
                12 => "value",
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
