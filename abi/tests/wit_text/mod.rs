//! Reading `wit/ohd-plugin.wit` and writing its types in the structural notation of
//! `otai_plugin_abi::component`, for `wit.rs` (which holds the contract to the WIT) and
//! `generated.rs` (which writes the contract's table of component functions from it).
#![allow(dead_code)] // each test binary uses a part

use wit_parser::{Resolve, Type, TypeDefKind};

pub(crate) const WIT: &str = include_str!("../../../wit/ohd-plugin.wit");

pub(crate) fn resolve() -> (Resolve, wit_parser::PackageId) {
    resolve_text(WIT).unwrap_or_else(|e| panic!("wit/ohd-plugin.wit does not resolve: {e}"))
}

/// Resolves a text of the WIT package (the committed one, or one the generator made).
pub(crate) fn resolve_text(text: &str) -> Result<(Resolve, wit_parser::PackageId), String> {
    let mut resolve = Resolve::new();
    let package = resolve
        .push_source("ohd-plugin.wit", text)
        .map_err(|e| format!("{e:#}"))?;
    Ok((resolve, package))
}

/// `ohd_set_custom_field` → `set-custom-field`.
pub(crate) fn kebab(core_name: &str) -> String {
    core_name
        .strip_prefix("ohd_")
        .unwrap_or(core_name)
        .replace('_', "-")
}

/// A type in the notation of `otai_plugin_abi::component` (structural: no type names).
pub(crate) fn render(resolve: &Resolve, ty: &Type) -> String {
    let list = |types: &mut dyn Iterator<Item = String>| types.collect::<Vec<_>>().join(", ");
    match ty {
        Type::Bool => "bool".into(),
        Type::U8 => "u8".into(),
        Type::U16 => "u16".into(),
        Type::U32 => "u32".into(),
        Type::U64 => "u64".into(),
        Type::S8 => "s8".into(),
        Type::S16 => "s16".into(),
        Type::S32 => "s32".into(),
        Type::S64 => "s64".into(),
        Type::F32 => "f32".into(),
        Type::F64 => "f64".into(),
        Type::Char => "char".into(),
        Type::String => "string".into(),
        Type::ErrorContext => "error-context".into(),
        Type::Id(id) => match &resolve.types[*id].kind {
            TypeDefKind::Type(t) => render(resolve, t),
            TypeDefKind::Record(r) => format!(
                "record{{{}}}",
                list(&mut r.fields.iter().map(|f| format!(
                    "{}: {}",
                    f.name,
                    render(resolve, &f.ty)
                )))
            ),
            TypeDefKind::Enum(e) => format!(
                "enum{{{}}}",
                list(&mut e.cases.iter().map(|c| c.name.clone()))
            ),
            TypeDefKind::Variant(v) => format!(
                "variant{{{}}}",
                list(&mut v.cases.iter().map(|c| match &c.ty {
                    Some(t) => format!("{}({})", c.name, render(resolve, t)),
                    None => c.name.clone(),
                }))
            ),
            TypeDefKind::List(t) => format!("list<{}>", render(resolve, t)),
            TypeDefKind::Option(t) => format!("option<{}>", render(resolve, t)),
            TypeDefKind::Tuple(t) => format!(
                "tuple<{}>",
                list(&mut t.types.iter().map(|t| render(resolve, t)))
            ),
            TypeDefKind::Result(r) => {
                let side = |t: &Option<Type>| t.as_ref().map_or("_".into(), |t| render(resolve, t));
                format!("result<{}, {}>", side(&r.ok), side(&r.err))
            }
            other => panic!(
                "the WIT uses a {} type, which the contract does not",
                other.as_str()
            ),
        },
    }
}

pub(crate) fn render_function(resolve: &Resolve, f: &wit_parser::Function) -> String {
    let params: Vec<String> = f
        .params
        .iter()
        .map(|p| format!("{}: {}", p.name, render(resolve, &p.ty)))
        .collect();
    let result = f
        .result
        .as_ref()
        .map(|t| format!(" -> {}", render(resolve, t)))
        .unwrap_or_default();
    format!("func({}){result}", params.join(", "))
}

/// A type as the WIT writes it, by the names of its type definitions: `log-level`,
/// `result<response, request-error>` (for the documentation of the contract's table).
pub(crate) fn named(resolve: &Resolve, ty: &Type) -> String {
    let Type::Id(id) = ty else {
        return render(resolve, ty);
    };
    let def = &resolve.types[*id];
    if let Some(name) = &def.name {
        return name.clone();
    }
    match &def.kind {
        TypeDefKind::Type(t) => named(resolve, t),
        TypeDefKind::List(t) => format!("list<{}>", named(resolve, t)),
        TypeDefKind::Option(t) => format!("option<{}>", named(resolve, t)),
        TypeDefKind::Tuple(t) => {
            let types: Vec<String> = t.types.iter().map(|t| named(resolve, t)).collect();
            format!("tuple<{}>", types.join(", "))
        }
        TypeDefKind::Result(r) => {
            let side = |t: &Option<Type>| t.as_ref().map_or("_".into(), |t| named(resolve, t));
            format!("result<{}, {}>", side(&r.ok), side(&r.err))
        }
        _ => render(resolve, ty),
    }
}

/// A function as the WIT writes it: `add-reply: func(reply: reply) -> result<_, call-error>`.
pub(crate) fn named_function(resolve: &Resolve, f: &wit_parser::Function) -> String {
    let params: Vec<String> = f
        .params
        .iter()
        .map(|p| format!("{}: {}", p.name, named(resolve, &p.ty)))
        .collect();
    let result = f
        .result
        .as_ref()
        .map(|t| format!(" -> {}", named(resolve, t)))
        .unwrap_or_default();
    format!("{}: func({}){result}", f.name, params.join(", "))
}
