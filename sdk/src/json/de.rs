//! A `serde` deserializer over [`Reader`], for the plugin's own config type: strings
//! borrowed where the type allows, numbers parsed only as the type asks (a config without
//! floating-point fields links no float parser), unknown fields walked over, not built.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, IntoDeserializer, Unexpected, Visitor};

use super::read::{JsonError, Next, Reader};

/// A decoding error: the reader's, or the config type's own (e.g. ``missing field
/// `webhook_url` ``), which gets the reader's position in [`deserialize`].
#[derive(Debug)]
pub(crate) struct Error {
    message: String,
    at: Option<usize>,
}

impl From<JsonError> for Error {
    fn from(e: JsonError) -> Self {
        Error {
            message: e.message,
            at: Some(e.at),
        }
    }
}

impl Error {
    /// Prefixes the message with the member it happened in, `key: …` (out of line and
    /// not generic: one copy per plugin).
    #[cold]
    #[inline(never)]
    fn within(self, key: &str) -> Error {
        if key.is_empty() {
            return self;
        }
        Error {
            message: format!("{key}: {}", self.message),
            at: self.at,
        }
    }

    pub(crate) fn into_read_error(self, at: usize) -> JsonError {
        JsonError {
            message: self.message,
            at: self.at.unwrap_or(at),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error {
            message: msg.to_string(),
            at: None,
        }
    }

    // serde's defaults format `Unexpected` with its `Display`, whose float and `{:?}`
    // string arms link core's float formatting and Unicode tables: about 20 KB in every
    // plugin, for error messages. These say the same without them.
    fn invalid_type(found: Unexpected<'_>, expected: &dyn de::Expected) -> Self {
        de::Error::custom(format_args!(
            "invalid type: {}, expected {expected}",
            Found(found)
        ))
    }

    fn invalid_value(found: Unexpected<'_>, expected: &dyn de::Expected) -> Self {
        de::Error::custom(format_args!(
            "invalid value: {}, expected {expected}",
            Found(found)
        ))
    }
}

/// The reader's calls, out of line. The deserializer's methods are generic (one copy per
/// type a config has), and the reader's small functions are inlined where they are
/// called, which is right in the event decoder's loops but would copy them into every
/// one of those methods.
impl<'a> Deserializer<'_, 'a> {
    #[inline(never)]
    fn peek(&mut self) -> Result<Next, JsonError> {
        self.r.peek()
    }

    #[inline(never)]
    fn null(&mut self) -> Result<bool, JsonError> {
        self.r.null()
    }

    #[inline(never)]
    fn bool(&mut self) -> Result<bool, JsonError> {
        self.r.bool()
    }

    #[inline(never)]
    fn number(&mut self) -> Result<&'a str, JsonError> {
        self.r.number()
    }

    #[inline(never)]
    fn string(&mut self) -> Result<Cow<'a, str>, JsonError> {
        self.r.string()
    }

    #[inline(never)]
    fn skip(&mut self) -> Result<&'a str, JsonError> {
        self.r.skip()
    }

    #[inline(never)]
    fn begin_array(&mut self) -> Result<(), JsonError> {
        self.r.begin_array()
    }

    #[inline(never)]
    fn begin_object(&mut self) -> Result<(), JsonError> {
        self.r.begin_object()
    }

    #[inline(never)]
    fn next_item(&mut self, first: bool) -> Result<bool, JsonError> {
        self.r.next_item(first)
    }

    #[inline(never)]
    fn next_key(&mut self, first: bool) -> Result<Option<Cow<'a, str>>, JsonError> {
        self.r.next_key(first)
    }
}

/// What a value was, for a message: serde's wording, without formatting floats.
struct Found<'a>(Unexpected<'a>);

impl fmt::Display for Found<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Unexpected::Bool(b) => write!(f, "boolean `{b}`"),
            Unexpected::Unsigned(n) => write!(f, "integer `{n}`"),
            Unexpected::Signed(n) => write!(f, "integer `{n}`"),
            Unexpected::Float(_) => f.write_str("floating point number"),
            Unexpected::Char(c) => write!(f, "character `{c}`"),
            Unexpected::Str(s) => write!(f, "string \"{s}\""),
            Unexpected::Bytes(_) => f.write_str("byte array"),
            Unexpected::Unit => f.write_str("null"),
            Unexpected::Option => f.write_str("optional value"),
            Unexpected::NewtypeStruct => f.write_str("newtype struct"),
            Unexpected::Seq => f.write_str("sequence"),
            Unexpected::Map => f.write_str("map"),
            Unexpected::Enum => f.write_str("enum"),
            Unexpected::UnitVariant => f.write_str("unit variant"),
            Unexpected::NewtypeVariant => f.write_str("newtype variant"),
            Unexpected::TupleVariant => f.write_str("tuple variant"),
            Unexpected::StructVariant => f.write_str("struct variant"),
            Unexpected::Other(other) => f.write_str(other),
        }
    }
}

/// Deserializes one value of `T` at the reader's cursor. An error of the type's own
/// (e.g. a missing field) is placed where reading stopped, as `serde_json` does.
pub(crate) fn deserialize<'a, T: de::Deserialize<'a>>(
    reader: &mut Reader<'a>,
) -> Result<T, JsonError> {
    let result = T::deserialize(&mut Deserializer { r: reader });
    result.map_err(|e| e.into_read_error(reader.position()))
}

pub(crate) struct Deserializer<'r, 'a> {
    r: &'r mut Reader<'a>,
}

type Result<T, E = Error> = core::result::Result<T, E>;

impl<'a> Deserializer<'_, 'a> {
    /// "invalid type: found X, expected what `visitor` wants", naming the value at the
    /// cursor, which is read over. Integers are parsed for the message; other numbers
    /// are not, so that a config without float fields links no float parser.
    ///
    /// Not generic over the visitor: one copy serves every method of every config type.
    #[inline(never)]
    fn invalid_type(&mut self, visitor: &dyn de::Expected) -> Error {
        let at = self.r.position();
        let found = match self.read_unexpected(visitor) {
            Ok(e) | Err(e) => e,
        };
        Error {
            at: Some(at),
            ..found
        }
    }

    fn read_unexpected(&mut self, visitor: &dyn de::Expected) -> Result<Error> {
        let found = match self.peek()? {
            Next::Number => number_unexpected(self.number()?),
            Next::True | Next::False => Unexpected::Bool(self.bool()?),
            Next::Null => {
                self.null()?;
                Unexpected::Unit
            }
            Next::String => {
                let s = self.string()?;
                return Ok(de::Error::invalid_type(Unexpected::Str(&s), visitor));
            }
            Next::Array => {
                self.skip()?;
                Unexpected::Seq
            }
            Next::Object => {
                self.skip()?;
                Unexpected::Map
            }
        };
        Ok(de::Error::invalid_type(found, visitor))
    }
}

fn number_unexpected(text: &str) -> Unexpected<'_> {
    if let Ok(n) = text.parse::<u64>() {
        Unexpected::Unsigned(n)
    } else if let Ok(n) = text.parse::<i64>() {
        Unexpected::Signed(n)
    } else {
        Unexpected::Other("floating point number")
    }
}

macro_rules! integer {
    ($($method:ident => $visit:ident $ty:ty,)*) => {$(
        fn $method<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value> {
            if self.peek()? != Next::Number {
                return Err(self.invalid_type(&visitor));
            }
            let at = self.r.position();
            let text = self.number()?;
            match text.parse::<$ty>() {
                Ok(n) => visitor.$visit(n),
                Err(_) => {
                    let found = number_unexpected(text);
                    // An integer out of range is the wrong value; a fraction, the wrong type.
                    let e: Error = if matches!(found, Unexpected::Other(_)) {
                        de::Error::invalid_type(found, &visitor)
                    } else {
                        de::Error::invalid_value(found, &visitor)
                    };
                    Err(Error { at: Some(at), ..e })
                }
            }
        }
    )*};
}

impl<'a> de::Deserializer<'a> for &mut Deserializer<'_, 'a> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value> {
        match self.peek()? {
            Next::Null => {
                self.null()?;
                visitor.visit_unit()
            }
            Next::True | Next::False => visitor.visit_bool(self.bool()?),
            Next::Number => {
                let text = self.number()?;
                // `-0` is the float negative zero, as `serde_json` reads it.
                if text == "-0" {
                    visitor.visit_f64(-0.0)
                } else if let Ok(n) = text.parse::<u64>() {
                    visitor.visit_u64(n)
                } else if let Ok(n) = text.parse::<i64>() {
                    visitor.visit_i64(n)
                } else {
                    match text.parse::<f64>() {
                        Ok(n) if n.is_finite() => visitor.visit_f64(n),
                        _ => Err(self.r.error("number out of range").into()),
                    }
                }
            }
            Next::String => self.deserialize_str(visitor),
            Next::Array => self.deserialize_seq(visitor),
            Next::Object => self.deserialize_map(visitor),
        }
    }

    fn deserialize_bool<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value> {
        match self.peek()? {
            Next::True | Next::False => visitor.visit_bool(self.bool()?),
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    integer! {
        deserialize_i8 => visit_i8 i8,
        deserialize_i16 => visit_i16 i16,
        deserialize_i32 => visit_i32 i32,
        deserialize_i64 => visit_i64 i64,
        deserialize_u8 => visit_u8 u8,
        deserialize_u16 => visit_u16 u16,
        deserialize_u32 => visit_u32 u32,
        deserialize_u64 => visit_u64 u64,
    }

    fn deserialize_f32<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_f64<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value> {
        if self.peek()? != Next::Number {
            return Err(self.invalid_type(&visitor));
        }
        match self.number()?.parse::<f64>() {
            Ok(n) if n.is_finite() => visitor.visit_f64(n),
            _ => Err(self.r.error("number out of range").into()),
        }
    }

    fn deserialize_char<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_str(visitor)
    }

    fn deserialize_str<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value> {
        if self.peek()? != Next::String {
            return Err(self.invalid_type(&visitor));
        }
        match self.string()? {
            std::borrow::Cow::Borrowed(s) => visitor.visit_borrowed_str(s),
            std::borrow::Cow::Owned(s) => visitor.visit_string(s),
        }
    }

    fn deserialize_string<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_str(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value> {
        if self.null()? {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_unit<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value> {
        if self.null()? {
            visitor.visit_unit()
        } else {
            Err(self.invalid_type(&visitor))
        }
    }

    fn deserialize_unit_struct<V: Visitor<'a>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'a>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value> {
        if self.peek()? != Next::Array {
            return Err(self.invalid_type(&visitor));
        }
        self.begin_array()?;
        let mut seq = Seq {
            de: self,
            first: true,
            done: false,
        };
        let value = visitor.visit_seq(&mut seq)?;
        // A visitor that stopped before the end (a tuple) leaves items: an error.
        if !seq.done && seq.de.next_item(seq.first)? {
            return Err(seq.de.r.error("more items than expected").into());
        }
        Ok(value)
    }

    fn deserialize_tuple<V: Visitor<'a>>(self, _len: usize, visitor: V) -> Result<V::Value> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'a>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value> {
        if self.peek()? != Next::Object {
            return Err(self.invalid_type(&visitor));
        }
        self.begin_object()?;
        let mut map = Map {
            de: self,
            first: true,
            done: false,
            key: "",
        };
        let value = visitor.visit_map(&mut map)?;
        // serde's derive reads every member; a hand-written visitor might not.
        if !map.done && map.de.next_key(map.first)?.is_some() {
            return Err(map.de.r.error("more members than expected").into());
        }
        Ok(value)
    }

    fn deserialize_struct<V: Visitor<'a>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        self.deserialize_map(visitor)
    }

    fn deserialize_enum<V: Visitor<'a>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        match self.peek()? {
            // A unit variant: `"name"`.
            Next::String => {
                let name = self.string()?;
                visitor.visit_enum(name.into_deserializer())
            }
            // Any other variant: `{"name": content}`.
            Next::Object => {
                self.begin_object()?;
                let value = visitor.visit_enum(Enum { de: self })?;
                if self.next_key(false)?.is_some() {
                    return Err(self
                        .r
                        .error("an enum variant is an object with exactly one member")
                        .into());
                }
                Ok(value)
            }
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_identifier<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value> {
        self.skip()?;
        visitor.visit_unit()
    }
}

struct Seq<'d, 'r, 'a> {
    de: &'d mut Deserializer<'r, 'a>,
    first: bool,
    done: bool,
}

impl<'a> de::SeqAccess<'a> for Seq<'_, '_, 'a> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'a>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        if self.done || !self.de.next_item(self.first)? {
            self.done = true;
            return Ok(None);
        }
        self.first = false;
        seed.deserialize(&mut *self.de).map(Some)
    }
}

struct Map<'d, 'r, 'a> {
    de: &'d mut Deserializer<'r, 'a>,
    first: bool,
    done: bool,
    /// The key of the member being read, which a value's error names: a config field
    /// whose text does not parse fails with `team_map: …`, not a bare message. Only a
    /// key without escapes (every config key) is kept: one that was unescaped would be
    /// copied for every member, for the rare error.
    key: &'a str,
}

impl<'a> de::MapAccess<'a> for Map<'_, '_, 'a> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'a>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        if self.done {
            return Ok(None);
        }
        match self.de.next_key(self.first)? {
            None => {
                self.done = true;
                Ok(None)
            }
            Some(key) => {
                self.first = false;
                self.key = match &key {
                    Cow::Borrowed(borrowed) => borrowed,
                    Cow::Owned(_) => "",
                };
                seed.deserialize(KeyDeserializer(key)).map(Some)
            }
        }
    }

    fn next_value_seed<V: DeserializeSeed<'a>>(&mut self, seed: V) -> Result<V::Value> {
        seed.deserialize(&mut *self.de)
            .map_err(|e| e.within(self.key))
    }
}

/// A member's key, already read: identifiers and string keys borrow it.
struct KeyDeserializer<'a>(std::borrow::Cow<'a, str>);

impl<'de> de::Deserializer<'de> for KeyDeserializer<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.0 {
            std::borrow::Cow::Borrowed(s) => visitor.visit_borrowed_str(s),
            std::borrow::Cow::Owned(s) => visitor.visit_string(s),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

struct Enum<'d, 'r, 'a> {
    de: &'d mut Deserializer<'r, 'a>,
}

impl<'a> de::EnumAccess<'a> for Enum<'_, '_, 'a> {
    type Error = Error;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'a>>(self, seed: V) -> Result<(V::Value, Self)> {
        let Some(key) = self.de.next_key(true)? else {
            return Err(self
                .de
                .r
                .error("an enum variant is an object with exactly one member")
                .into());
        };
        let variant = seed.deserialize(KeyDeserializer(key))?;
        Ok((variant, self))
    }
}

impl<'a> de::VariantAccess<'a> for Enum<'_, '_, 'a> {
    type Error = Error;

    fn unit_variant(self) -> Result<()> {
        de::Deserialize::deserialize(&mut *self.de)
    }

    fn newtype_variant_seed<T: DeserializeSeed<'a>>(self, seed: T) -> Result<T::Value> {
        seed.deserialize(&mut *self.de)
    }

    fn tuple_variant<V: Visitor<'a>>(self, _len: usize, visitor: V) -> Result<V::Value> {
        de::Deserializer::deserialize_seq(&mut *self.de, visitor)
    }

    fn struct_variant<V: Visitor<'a>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        de::Deserializer::deserialize_map(&mut *self.de, visitor)
    }
}
