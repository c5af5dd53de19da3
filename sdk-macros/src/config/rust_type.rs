//! What a field's Rust type is, as far as the config check can tell from its tokens: a
//! macro sees names, not types, so a type alias or a newtype is opaque here.

use quote::ToTokens;
use syn::{GenericArgument, PathArguments, Type, TypePath};

/// The kinds of Rust type the check tells apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Shape {
    /// `Option<T>`: no value is `None`.
    Option(Box<Shape>),
    /// `String`, `&str`, `Cow<str>`, `Box<str>`, …
    Text,
    /// The SDK's `config::List` or `config::KeyValues`, recognised by name.
    ConfigText(ConfigText),
    Bool,
    /// An integer type and the values it holds.
    Integer {
        min: i128,
        max: i128,
        zero: bool,
    },
    Float,
    /// A list in JSON: `Vec`, arrays, slices, tuples, sets.
    Sequence,
    /// An object in JSON: `HashMap`, `BTreeMap`.
    Map,
    /// `char`, `()`: types no config value decodes into.
    Unfit,
    /// Anything else: an enum, a struct, a type alias, a generic parameter.
    Opaque,
}

/// The SDK's readers of a `string` field's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ConfigText {
    List,
    KeyValues,
}

impl Shape {
    /// Whether a value of this shape can be `value` (integers only).
    pub(crate) fn holds(&self, value: i128) -> bool {
        match self.inner() {
            Shape::Integer { min, max, zero } => {
                (*min..=*max).contains(&value) && (*zero || value != 0)
            }
            _ => true,
        }
    }

    /// The shape of `ty`.
    pub(crate) fn of(ty: &Type) -> Shape {
        match ty {
            Type::Path(TypePath { qself: None, path }) => {
                let Some(last) = path.segments.last() else {
                    return Shape::Opaque;
                };
                let args: Vec<&Type> = match &last.arguments {
                    PathArguments::AngleBracketed(a) => a
                        .args
                        .iter()
                        .filter_map(|a| match a {
                            GenericArgument::Type(t) => Some(t),
                            _ => None,
                        })
                        .collect(),
                    _ => Vec::new(),
                };
                let is_str = |t: &Type| matches!(t, Type::Path(p) if p.path.is_ident("str"));
                let name = last.ident.to_string();
                match (name.as_str(), args.as_slice()) {
                    ("Option", [inner]) => Shape::Option(Box::new(Shape::of(inner))),
                    ("String", []) => Shape::Text,
                    ("Cow" | "Box" | "Rc" | "Arc", [inner]) if is_str(inner) => Shape::Text,
                    ("Box", [inner]) => Shape::of(inner),
                    ("List", []) => Shape::ConfigText(ConfigText::List),
                    ("KeyValues", []) => Shape::ConfigText(ConfigText::KeyValues),
                    ("bool", []) => Shape::Bool,
                    ("f32" | "f64", []) => Shape::Float,
                    ("char", []) => Shape::Unfit,
                    ("Vec" | "VecDeque" | "HashSet" | "BTreeSet" | "LinkedList", _) => {
                        Shape::Sequence
                    }
                    ("HashMap" | "BTreeMap" | "IndexMap", _) => Shape::Map,
                    ("NonZero", [Type::Path(inner)]) => inner
                        .path
                        .get_ident()
                        .and_then(|i| integer(&i.to_string(), true))
                        .unwrap_or(Shape::Opaque),
                    (name, []) => name
                        .strip_prefix("NonZero")
                        .map(|rest| integer(&rest.to_ascii_lowercase(), true))
                        .unwrap_or_else(|| integer(name, false))
                        .unwrap_or(Shape::Opaque),
                    _ => Shape::Opaque,
                }
            }
            Type::Reference(r) => match &*r.elem {
                Type::Path(p) if p.path.is_ident("str") => Shape::Text,
                Type::Slice(_) => Shape::Sequence,
                other => Shape::of(other),
            },
            Type::Paren(p) => Shape::of(&p.elem),
            Type::Group(g) => Shape::of(&g.elem),
            Type::Array(_) | Type::Slice(_) => Shape::Sequence,
            Type::Tuple(t) if t.elems.is_empty() => Shape::Unfit,
            Type::Tuple(_) => Shape::Sequence,
            _ => Shape::Opaque,
        }
    }

    /// The shape without `Option`s around it.
    pub(crate) fn inner(&self) -> &Shape {
        match self {
            Shape::Option(inner) => inner.inner(),
            other => other,
        }
    }
}

/// An integer type by name; `non_zero` for a `NonZero…` type, which refuses 0.
fn integer(name: &str, non_zero: bool) -> Option<Shape> {
    // `isize` and `usize` as on wasm32, where the plugin runs.
    let (min, max): (i128, i128) = match name {
        "i8" => (i8::MIN.into(), i8::MAX.into()),
        "i16" => (i16::MIN.into(), i16::MAX.into()),
        "i32" | "isize" => (i32::MIN.into(), i32::MAX.into()),
        "i64" => (i64::MIN.into(), i64::MAX.into()),
        "i128" => (i128::MIN, i128::MAX),
        "u8" => (0, u8::MAX.into()),
        "u16" => (0, u16::MAX.into()),
        "u32" | "usize" => (0, u32::MAX.into()),
        "u64" => (0, u64::MAX.into()),
        "u128" => (0, i128::MAX),
        _ => return None,
    };
    Some(Shape::Integer {
        min,
        max,
        zero: !non_zero,
    })
}

/// `ty` without the `Option<…>`s around it.
pub(crate) fn without_option(ty: &Type) -> &Type {
    if let Type::Path(TypePath { qself: None, path }) = ty
        && let Some(last) = path.segments.last()
        && last.ident == "Option"
        && let PathArguments::AngleBracketed(args) = &last.arguments
        && let mut args = args.args.iter()
        && let (Some(GenericArgument::Type(inner)), None) = (args.next(), args.next())
    {
        return without_option(inner);
    }
    ty
}

/// `ty` as a reader writes it: `Option<Vec<String>>`, `&'static str`.
pub(crate) fn type_text(ty: &Type) -> String {
    let raw = ty.to_token_stream().to_string();
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ' ' {
            let prev = out.chars().last();
            let next = chars.peek().copied();
            let glue_after = matches!(prev, Some('<' | '&' | ':' | '(' | '[' | '\''));
            let glue_before = matches!(next, Some('<' | '>' | ',' | ':' | ')' | ']' | ';'));
            if glue_after || glue_before {
                continue;
            }
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(ty: &str) -> Shape {
        Shape::of(&syn::parse_str(ty).unwrap())
    }

    #[test]
    fn shapes() {
        assert_eq!(shape("String"), Shape::Text);
        assert_eq!(shape("std::borrow::Cow<'static, str>"), Shape::Text);
        assert_eq!(shape("&'a str"), Shape::Text);
        assert_eq!(shape("Box<str>"), Shape::Text);
        assert_eq!(
            shape("Option<config::KeyValues>"),
            Shape::Option(Box::new(Shape::ConfigText(ConfigText::KeyValues)))
        );
        let int = |min, max, zero| Shape::Integer { min, max, zero };
        assert_eq!(shape("u8"), int(0, 255, true));
        assert_eq!(shape("core::num::NonZeroU16"), int(0, 65535, false));
        assert_eq!(shape("NonZero<u8>"), int(0, 255, false));
        assert_eq!(shape("NonZeroI8"), int(-128, 127, false));
        assert_eq!(shape("usize"), int(0, u32::MAX.into(), true));
        assert_eq!(shape("f64"), Shape::Float);
        assert_eq!(shape("Vec<String>"), Shape::Sequence);
        assert_eq!(shape("[u8; 4]"), Shape::Sequence);
        assert_eq!(shape("(String, String)"), Shape::Sequence);
        assert_eq!(shape("BTreeMap<String, String>"), Shape::Map);
        assert_eq!(shape("Severity"), Shape::Opaque);
        assert_eq!(shape("Url"), Shape::Opaque);
        assert_eq!(shape("()"), Shape::Unfit);
    }

    #[test]
    fn types_read_as_written() {
        let text = |ty: &str| type_text(&syn::parse_str(ty).unwrap());
        assert_eq!(text("Option < Vec < String > >"), "Option<Vec<String>>");
        assert_eq!(text("&'static str"), "&'static str");
        assert_eq!(
            text("std::collections::HashMap<String, u8>"),
            "std::collections::HashMap<String, u8>"
        );
        assert_eq!(text("[u8; 4]"), "[u8; 4]");
        assert_eq!(text("(String, bool)"), "(String, bool)");
    }
}
