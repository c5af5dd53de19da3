//! Items as lines: an item's own line, its fields, variants and trait items, and its
//! impls.

use serde_json::Value;

use super::types::has_bounds;
use super::{Api, Doc, has_attr, inner, is_public, kind};

/// Writes one crate's items; `api` knows the public names of every crate's items.
pub(super) struct Render<'a, 'd> {
    pub(super) api: &'a mut Api<'d>,
    pub(super) doc: &'d Doc,
}

const ITEM: u8 = 0;
const MEMBER: u8 = 1;
const METHOD: u8 = 2;
const IMPL: u8 = 3;

impl Render<'_, '_> {
    pub(super) fn item(mut self, item: &Value, path: &str, out: &mut Vec<(u8, String)>) {
        let k = kind(item);
        let i = inner(item, k);
        let non_exhaustive = if has_attr(item, "non_exhaustive") {
            "#[non_exhaustive] "
        } else {
            ""
        };
        match k {
            "module" => out.push((ITEM, format!("pub mod {path}"))),
            "function" => out.push((ITEM, format!("pub {}", self.function(path, i)))),
            "constant" => out.push((ITEM, format!("pub const {path}: {}", self.ty(&i["type"])))),
            "static" => {
                let m = if i["is_mutable"].as_bool() == Some(true) {
                    "mut "
                } else {
                    ""
                };
                out.push((
                    ITEM,
                    format!("pub static {m}{path}: {}", self.ty(&i["type"])),
                ));
            }
            "type_alias" => {
                let (g, w) = self.generics(&i["generics"]);
                out.push((
                    ITEM,
                    format!("pub type {path}{g} = {}{w}", self.ty(&i["type"])),
                ));
            }
            "macro" => {
                let text = i
                    .as_str()
                    .unwrap_or_default()
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ");
                out.push((ITEM, format!("pub macro {path}: {text}")));
            }
            "proc_macro" => {
                let helpers = i["helpers"]
                    .as_array()
                    .map(|h| {
                        h.iter()
                            .filter_map(Value::as_str)
                            .collect::<Vec<_>>()
                            .join(", ")
                    })
                    .unwrap_or_default();
                out.push((
                    ITEM,
                    format!(
                        "pub proc_macro {path} ({}; helpers: {helpers})",
                        i["kind"].as_str().unwrap_or_default()
                    ),
                ));
            }
            "struct" => self.structure(i, path, non_exhaustive, out),
            "union" => {
                let (g, w) = self.generics(&i["generics"]);
                out.push((ITEM, format!("pub union {path}{g}{w}")));
                self.fields(&i["fields"], path, out);
            }
            "enum" => self.enumeration(i, path, non_exhaustive, out),
            "trait" => self.trait_(i, path, out),
            "trait_alias" => {
                let (g, w) = self.generics(&i["generics"]);
                out.push((
                    ITEM,
                    format!("pub trait {path}{g} = {}{w}", self.bounds(&i["params"])),
                ));
            }
            other => out.push((ITEM, format!("pub {other} {path}"))),
        }
    }

    fn structure(
        &mut self,
        i: &Value,
        path: &str,
        non_exhaustive: &str,
        out: &mut Vec<(u8, String)>,
    ) {
        let (g, w) = self.generics(&i["generics"]);
        let kind = &i["kind"];
        if kind.as_str() == Some("unit") {
            out.push((ITEM, format!("{non_exhaustive}pub struct {path}{g}{w};")));
        } else if let Some(fields) = kind["tuple"].as_array() {
            // A tuple struct's fields are positional: each one, or `_` for a private one.
            let shown: Vec<String> = fields
                .iter()
                .map(|f| match self.doc.item(f) {
                    Some(field) => format!("pub {}", self.ty(inner(field, "struct_field"))),
                    None => "_".to_owned(),
                })
                .collect();
            out.push((
                ITEM,
                format!(
                    "{non_exhaustive}pub struct {path}{g}({}){w}",
                    shown.join(", ")
                ),
            ));
        } else {
            let plain = &kind["plain"];
            let names = self.field_names(&plain["fields"]);
            // Built with a literal only when every field is public and it is exhaustive:
            // then a new field breaks that literal, and the line lists them all.
            let literal =
                non_exhaustive.is_empty() && plain["has_stripped_fields"].as_bool() == Some(false);
            let body = if literal {
                format!("{{ {} }}", names.join(", "))
            } else {
                "{ .. }".to_owned()
            };
            out.push((
                ITEM,
                format!("{non_exhaustive}pub struct {path}{g}{w} {body}"),
            ));
            self.fields(&plain["fields"], path, out);
        }
    }

    fn field_names(&self, fields: &Value) -> Vec<String> {
        fields
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|f| self.doc.item(f)?["name"].as_str().map(str::to_owned))
            .collect()
    }

    fn fields(&mut self, fields: &Value, owner: &str, out: &mut Vec<(u8, String)>) {
        for f in fields.as_array().into_iter().flatten() {
            let Some(field) = self.doc.item(f) else {
                continue;
            };
            let name = field["name"].as_str().unwrap_or_default();
            out.push((
                MEMBER,
                format!(
                    "pub field {owner}::{name}: {}",
                    self.ty(inner(field, "struct_field"))
                ),
            ));
        }
    }

    fn enumeration(
        &mut self,
        i: &Value,
        path: &str,
        non_exhaustive: &str,
        out: &mut Vec<(u8, String)>,
    ) {
        let (g, w) = self.generics(&i["generics"]);
        let variants: Vec<&Value> = i["variants"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| self.doc.item(v))
            .collect();
        let exhaustive =
            non_exhaustive.is_empty() && i["has_stripped_variants"].as_bool() == Some(false);
        let names: Vec<&str> = variants.iter().filter_map(|v| v["name"].as_str()).collect();
        // A match on an exhaustive enum breaks on a new variant: the line lists them.
        let body = if exhaustive {
            format!("{{ {} }}", names.join(", "))
        } else {
            "{ .. }".to_owned()
        };
        out.push((
            ITEM,
            format!("{non_exhaustive}pub enum {path}{g}{w} {body}"),
        ));
        // Without fields, a variant casts to its discriminant (`as i32`): an implicit one
        // is the previous one plus one.
        let fieldless = variants
            .iter()
            .all(|v| inner(v, "variant")["kind"].as_str() == Some("plain"));
        let mut next: i128 = 0;
        for v in variants {
            let vi = inner(v, "variant");
            let name = v["name"].as_str().unwrap_or_default();
            let ne = if has_attr(v, "non_exhaustive") {
                "#[non_exhaustive] "
            } else {
                ""
            };
            let kind = &vi["kind"];
            let shape = if let Some(fields) = kind["tuple"].as_array() {
                let shown: Vec<String> = fields
                    .iter()
                    .map(|f| {
                        self.doc.item(f).map_or("_".to_owned(), |field| {
                            self.ty(inner(field, "struct_field"))
                        })
                    })
                    .collect();
                format!("({})", shown.join(", "))
            } else if kind.get("struct").is_some() {
                let fields = &kind["struct"]["fields"];
                let literal =
                    ne.is_empty() && kind["struct"]["has_stripped_fields"].as_bool() == Some(false);
                if literal {
                    let shown: Vec<String> = fields
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|f| self.doc.item(f))
                        .map(|field| {
                            format!(
                                "{}: {}",
                                field["name"].as_str().unwrap_or_default(),
                                self.ty(inner(field, "struct_field"))
                            )
                        })
                        .collect();
                    format!(" {{ {} }}", shown.join(", "))
                } else {
                    self.fields(fields, &format!("{path}::{name}"), out);
                    " { .. }".to_owned()
                }
            } else {
                String::new()
            };
            let discriminant = match &vi["discriminant"] {
                Value::Null if fieldless => format!(" = {next}"),
                Value::Null => String::new(),
                d => {
                    let value = d["value"].as_str().unwrap_or_default();
                    format!(" = {value}")
                }
            };
            if let Some(value) = vi["discriminant"]["value"]
                .as_str()
                .and_then(|v| v.replace('_', "").parse::<i128>().ok())
            {
                next = value;
            }
            next += 1;
            out.push((
                MEMBER,
                format!("{ne}pub variant {path}::{name}{shape}{discriminant}"),
            ));
        }
    }

    fn trait_(&mut self, i: &Value, path: &str, out: &mut Vec<(u8, String)>) {
        let (g, w) = self.generics(&i["generics"]);
        let supertraits = match self.bounds(&i["bounds"]) {
            b if b.is_empty() => String::new(),
            b => format!(": {b}"),
        };
        let unsafety = if i["is_unsafe"].as_bool() == Some(true) {
            "unsafe "
        } else {
            ""
        };
        let auto = if i["is_auto"].as_bool() == Some(true) {
            "auto "
        } else {
            ""
        };
        let dyn_ = if i["is_dyn_compatible"].as_bool() == Some(true) {
            " (dyn-compatible)"
        } else {
            ""
        };
        // An implementation outside the crate must define the required items: a new one
        // breaks it, so the line lists them.
        let mut required = Vec::new();
        for member in i["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| self.doc.item(m))
        {
            let name = member["name"].as_str().unwrap_or_default();
            let mi = inner(member, kind(member));
            let (line, has_default) = match kind(member) {
                "function" => (
                    format!("pub {}", self.function(&format!("{path}::{name}"), mi)),
                    mi["has_body"].as_bool() == Some(true),
                ),
                "assoc_type" => {
                    let (g, w) = self.generics(&mi["generics"]);
                    let bounds = match self.bounds(&mi["bounds"]) {
                        b if b.is_empty() => String::new(),
                        b => format!(": {b}"),
                    };
                    let default = if mi["type"].is_null() {
                        String::new()
                    } else {
                        format!(" = {}", self.ty(&mi["type"]))
                    };
                    (
                        format!("pub type {path}::{name}{g}{bounds}{w}{default}"),
                        !mi["type"].is_null(),
                    )
                }
                "assoc_const" => (
                    format!("pub const {path}::{name}: {}", self.ty(&mi["type"])),
                    !mi["value"].is_null(),
                ),
                other => (format!("pub {other} {path}::{name}"), true),
            };
            if !has_default {
                required.push(name.to_owned());
            }
            out.push((METHOD, line));
        }
        let body = if required.is_empty() {
            "{}".to_owned()
        } else {
            format!("{{ required: {} }}", required.join(", "))
        };
        out.push((
            ITEM,
            format!("pub {unsafety}{auto}trait {path}{g}{supertraits}{w}{dyn_} {body}"),
        ));
    }

    /// An impl: a trait impl as one line (with its associated types, which users can
    /// name); an inherent impl as one line per public item.
    pub(super) fn impl_block(&mut self, imp: &Value, owner: &str, out: &mut Vec<(u8, String)>) {
        let i = inner(imp, "impl");
        let (g, w) = self.generics(&i["generics"]);
        let for_ = self.ty(&i["for"]);
        if i["trait"].is_null() {
            for member in i["items"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|m| self.doc.item(m))
            {
                if !is_public(member) {
                    continue;
                }
                let name = member["name"].as_str().unwrap_or_default();
                let at = format!("{owner}::{name}");
                let mi = inner(member, kind(member));
                let line = match kind(member) {
                    "function" => format!("pub {}", self.function(&at, mi)),
                    "assoc_const" => format!("pub const {at}: {}", self.ty(&mi["type"])),
                    "assoc_type" => format!("pub type {at} = {}", self.ty(&mi["type"])),
                    other => format!("pub {other} {at}"),
                };
                // Methods of an impl with bounds exist only under them.
                let under = if has_bounds(&i["generics"]) {
                    format!(" (in impl{g} {for_}{w})")
                } else {
                    String::new()
                };
                out.push((METHOD, format!("{line}{under}")));
            }
            return;
        }
        let unsafety = if i["is_unsafe"].as_bool() == Some(true) {
            "unsafe "
        } else {
            ""
        };
        let not = if i["is_negative"].as_bool() == Some(true) {
            "!"
        } else {
            ""
        };
        let trait_ = self.path(&i["trait"]);
        let mut assoc = Vec::new();
        for member in i["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| self.doc.item(m))
        {
            if kind(member) == "assoc_type" {
                let name = member["name"].as_str().unwrap_or_default();
                assoc.push(format!(
                    "type {name} = {}",
                    self.ty(&inner(member, "assoc_type")["type"])
                ));
            }
        }
        let body = if assoc.is_empty() {
            String::new()
        } else {
            format!(" {{ {} }}", assoc.join("; "))
        };
        out.push((
            IMPL,
            format!("{unsafety}impl{g} {not}{trait_} for {for_}{w}{body}"),
        ));
    }
}
