//! A JSON reader over text that the host has already proved to be UTF-8: strings come
//! out borrowed unless they hold escapes, numbers as their text, and a value nobody asked
//! for is walked over (and checked) without being built.
//!
//! It is what lets a typed plugin decode only what its handler reads, with no JSON
//! library linked in: the event decoder and [`super::de`] sit on it.

use std::borrow::Cow;
use std::fmt;

/// Deeper nesting than this is refused, as `serde_json` does: a hostile payload must not
/// run the 64 KiB plugin stack out.
const MAX_DEPTH: u32 = 128;

/// Why JSON text did not decode: not JSON, or not the shape of the type asked for.
///
/// Displayed as the message and where decoding stopped, e.g.
/// ``missing field `key` at byte 57``.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    pub(crate) message: String,
    pub(crate) at: usize,
}

impl JsonError {
    /// What went wrong, without the position.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The byte offset in the text where decoding stopped.
    pub fn offset(&self) -> usize {
        self.at
    }
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        f.write_str(" at byte ")?;
        fmt::Display::fmt(&self.at, f)
    }
}

impl JsonError {
    /// The error for text that is not UTF-8, at the first byte that is not.
    pub(crate) fn not_utf8(e: core::str::Utf8Error) -> Self {
        JsonError {
            message: "not UTF-8".to_owned(),
            at: e.valid_up_to(),
        }
    }
}

impl std::error::Error for JsonError {}

/// The kind of the next value, from its first byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Next {
    Object,
    Array,
    String,
    Number,
    True,
    False,
    Null,
}

/// A cursor over JSON text.
pub(crate) struct Reader<'a> {
    text: &'a str,
    at: usize,
    depth: u32,
}

// The small functions are `#[inline(always)]`: at opt-level "s", which plugins are built
// with, LLVM kept them out of line, and the event decode was slower than `serde_json`'s;
// inlined, it is faster (docs/PERFORMANCE.md, "Decoding the event inside the plugin").
// `de.rs` calls them through out-of-line wrappers, so that the copies stay in the event
// decoder's loops and not in every method a config type instantiates.
impl<'a> Reader<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Reader {
            text,
            at: 0,
            depth: 0,
        }
    }

    /// Where the cursor is, in bytes.
    pub(crate) fn position(&self) -> usize {
        self.at
    }

    /// The text between two positions, e.g. a value just read; empty if out of range.
    #[inline(always)]
    pub(crate) fn slice(&self, from: usize, to: usize) -> &'a str {
        self.text.get(from..to).unwrap_or_default()
    }

    /// An error at the cursor. Out of line: the reader's small functions are inlined
    /// into the decoding loops, and their error paths should not be.
    #[cold]
    #[inline(never)]
    pub(crate) fn error(&self, message: impl fmt::Display) -> JsonError {
        JsonError {
            message: message.to_string(),
            at: self.at,
        }
    }

    #[inline(always)]
    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    #[inline(always)]
    fn peek_byte(&self) -> Option<u8> {
        self.bytes().get(self.at).copied()
    }

    #[inline(always)]
    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek_byte() {
            self.at += 1;
        }
    }

    /// Skips whitespace and says what comes next; `None` at the end of the text.
    #[inline(always)]
    pub(crate) fn peek(&mut self) -> Result<Next, JsonError> {
        self.skip_whitespace();
        Ok(match self.peek_byte() {
            Some(b'{') => Next::Object,
            Some(b'[') => Next::Array,
            Some(b'"') => Next::String,
            Some(b'-' | b'0'..=b'9') => Next::Number,
            Some(b't') => Next::True,
            Some(b'f') => Next::False,
            Some(b'n') => Next::Null,
            Some(_) => return Err(self.error("expected a JSON value")),
            None => return Err(self.error("unexpected end of the JSON text")),
        })
    }

    /// Fails unless only whitespace is left.
    pub(crate) fn end(&mut self) -> Result<(), JsonError> {
        self.skip_whitespace();
        match self.peek_byte() {
            None => Ok(()),
            Some(_) => Err(self.error("trailing characters after the JSON value")),
        }
    }

    #[inline(always)]
    fn eat(&mut self, byte: u8) -> bool {
        self.skip_whitespace();
        if self.peek_byte() == Some(byte) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    #[inline(always)]
    fn expect(&mut self, byte: u8, what: &str) -> Result<(), JsonError> {
        if self.eat(byte) {
            Ok(())
        } else {
            Err(self.error(format_args!("expected {what}")))
        }
    }

    fn literal(&mut self, word: &str) -> Result<(), JsonError> {
        self.skip_whitespace();
        let rest = self.bytes().get(self.at..).unwrap_or_default();
        if rest.starts_with(word.as_bytes()) {
            self.at += word.len();
            Ok(())
        } else {
            Err(self.error(format_args!("expected `{word}`")))
        }
    }

    /// Reads `null` if it is next.
    #[inline(always)]
    pub(crate) fn null(&mut self) -> Result<bool, JsonError> {
        if self.peek()? == Next::Null {
            self.literal("null")?;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    pub(crate) fn bool(&mut self) -> Result<bool, JsonError> {
        match self.peek()? {
            Next::True => self.literal("true").map(|()| true),
            Next::False => self.literal("false").map(|()| false),
            _ => Err(self.error("expected a boolean")),
        }
    }

    /// A number's text, checked against JSON's grammar.
    pub(crate) fn number(&mut self) -> Result<&'a str, JsonError> {
        self.skip_whitespace();
        let start = self.at;
        let digits = |r: &mut Self| {
            let from = r.at;
            while let Some(b'0'..=b'9') = r.peek_byte() {
                r.at += 1;
            }
            r.at > from
        };
        if self.peek_byte() == Some(b'-') {
            self.at += 1;
        }
        let leading_zero = self.peek_byte() == Some(b'0');
        let int_start = self.at;
        if !digits(self) || (leading_zero && self.at - int_start > 1) {
            return Err(self.error("invalid number"));
        }
        if self.peek_byte() == Some(b'.') {
            self.at += 1;
            if !digits(self) {
                return Err(self.error("invalid number"));
            }
        }
        if let Some(b'e' | b'E') = self.peek_byte() {
            self.at += 1;
            if let Some(b'+' | b'-') = self.peek_byte() {
                self.at += 1;
            }
            if !digits(self) {
                return Err(self.error("invalid number"));
            }
        }
        Ok(self.slice(start, self.at))
    }

    /// Moves to the next byte that ends a run of plain string content: `"`, `\\`, a
    /// control character, or the end of the text.
    ///
    /// Many bytes at a time: the payload's long strings (a ticket's description) are
    /// most of its bytes, and a byte-by-byte loop made decoding twice as slow as
    /// `serde_json`'s. In wasm, 16 at a time with SIMD (part of WebAssembly 2.0, which
    /// ABI v1 hosts accept; docs/ABI.md section 1): 13% less decode time than the eight
    /// bytes of a `u64` (docs/PERFORMANCE.md). Inlined only into the functions that
    /// enable `simd128` ([`Reader::string`], [`Reader::skip_string`]), where the
    /// intrinsics inline too; `tests/tests/reader_in_wasm.rs` holds it to the native
    /// reader.
    #[cfg(target_arch = "wasm32")]
    #[inline(always)]
    fn skip_plain(&mut self) {
        use core::arch::wasm32::{
            i8x16_bitmask, i8x16_eq, u8x16_lt, u8x16_splat, v128, v128_load, v128_or,
        };
        let bytes = self.bytes();
        while let Some(chunk) = bytes.get(self.at..self.at + 16) {
            // SAFETY: `chunk` has 16 readable bytes; `v128_load` needs no alignment.
            let v = unsafe { v128_load(chunk.as_ptr().cast::<v128>()) };
            let special = v128_or(
                v128_or(
                    i8x16_eq(v, u8x16_splat(b'"')),
                    i8x16_eq(v, u8x16_splat(b'\\')),
                ),
                u8x16_lt(v, u8x16_splat(0x20)),
            );
            // Bit i is set where byte i is special.
            let mask = i8x16_bitmask(special);
            if mask != 0 {
                self.at += mask.trailing_zeros() as usize;
                return;
            }
            self.at += 16;
        }
        self.skip_plain_bytes();
    }

    /// Off wasm: eight bytes at a time in a `u64` (as `serde_json` does).
    #[cfg(not(target_arch = "wasm32"))]
    #[inline(always)]
    fn skip_plain(&mut self) {
        const ONES: u64 = u64::MAX / 255;
        const HIGH: u64 = ONES * 0x80;
        let bytes = self.bytes();
        while let Some(chunk) = bytes.get(self.at..self.at + 8) {
            let mut word = [0; 8];
            word.copy_from_slice(chunk);
            let v = u64::from_le_bytes(word);
            // A byte's high bit is set in each term where that byte is `"`, `\\`, or
            // below 0x20; false positives only follow a true one, and the lowest set
            // bit is the first special byte. (The three kinds are disjoint, so `^`
            // would find the same lowest bit as `|`: a mutation test cannot tell.)
            let quote = v ^ (ONES * u64::from(b'"'));
            let backslash = v ^ (ONES * u64::from(b'\\'));
            let special = (quote.wrapping_sub(ONES) & !quote
                | backslash.wrapping_sub(ONES) & !backslash
                | v.wrapping_sub(ONES * 0x20) & !v)
                & HIGH;
            if special != 0 {
                self.at += (special.trailing_zeros() / 8) as usize;
                return;
            }
            self.at += 8;
        }
        self.skip_plain_bytes();
    }

    /// The last bytes of the text, fewer than a word.
    #[inline(always)]
    fn skip_plain_bytes(&mut self) {
        while let Some(b) = self.peek_byte() {
            if b == b'"' || b == b'\\' || b < 0x20 {
                return;
            }
            self.at += 1;
        }
    }

    /// A string, borrowed from the text unless it holds escapes.
    #[cfg_attr(target_arch = "wasm32", target_feature(enable = "simd128"))]
    pub(crate) fn string(&mut self) -> Result<Cow<'a, str>, JsonError> {
        self.expect(b'"', "a string")?;
        let start = self.at;
        // Fast path: most strings have no escapes and are returned as a slice.
        self.skip_plain();
        match self.peek_byte() {
            Some(b'"') => {
                let s = self.slice(start, self.at);
                self.at += 1;
                return Ok(Cow::Borrowed(s));
            }
            Some(b'\\') => {}
            Some(_) => return Err(self.error("control character in a string")),
            None => return Err(self.error("unterminated string")),
        }
        let mut out = String::from(self.slice(start, self.at));
        loop {
            let run = self.at;
            self.skip_plain();
            out.push_str(self.slice(run, self.at));
            match self.peek_byte() {
                Some(b'"') => {
                    self.at += 1;
                    return Ok(Cow::Owned(out));
                }
                Some(b'\\') => {
                    self.at += 1;
                    self.escape(&mut out)?;
                }
                Some(_) => return Err(self.error("control character in a string")),
                None => return Err(self.error("unterminated string")),
            }
        }
    }

    /// One escape, after its backslash.
    fn escape(&mut self, out: &mut String) -> Result<(), JsonError> {
        let Some(b) = self.peek_byte() else {
            return Err(self.error("unterminated string"));
        };
        self.at += 1;
        let c = match b {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let high = self.hex4()?;
                let code = if (0xD800..0xDC00).contains(&high) {
                    if !(self.eat_raw(b'\\') && self.eat_raw(b'u')) {
                        return Err(self.error("lone leading surrogate in a \\u escape"));
                    }
                    let low = self.hex4()?;
                    if !(0xDC00..0xE000).contains(&low) {
                        return Err(self.error("invalid low surrogate in a \\u escape"));
                    }
                    0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
                } else {
                    high
                };
                char::from_u32(code)
                    .ok_or_else(|| self.error("lone trailing surrogate in a \\u escape"))?
            }
            _ => return Err(self.error("invalid escape")),
        };
        out.push(c);
        Ok(())
    }

    fn eat_raw(&mut self, byte: u8) -> bool {
        let found = self.peek_byte() == Some(byte);
        if found {
            self.at += 1;
        }
        found
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let mut value = 0;
        for _ in 0..4 {
            let digit = match self.peek_byte() {
                Some(b @ b'0'..=b'9') => b - b'0',
                Some(b @ b'a'..=b'f') => b - b'a' + 10,
                Some(b @ b'A'..=b'F') => b - b'A' + 10,
                _ => return Err(self.error("invalid \\u escape")),
            };
            self.at += 1;
            value = value * 16 + u32::from(digit);
        }
        Ok(value)
    }

    /// Starts an object; then call [`Reader::next_key`] until it returns `None`.
    #[inline(always)]
    pub(crate) fn begin_object(&mut self) -> Result<(), JsonError> {
        self.expect(b'{', "an object")?;
        self.enter()
    }

    /// Starts an array; then call [`Reader::next_item`] until it returns `false`.
    pub(crate) fn begin_array(&mut self) -> Result<(), JsonError> {
        self.expect(b'[', "an array")?;
        self.enter()
    }

    #[inline(always)]
    fn enter(&mut self) -> Result<(), JsonError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error("nesting deeper than 128 levels"));
        }
        Ok(())
    }

    /// The next member's key (the cursor is then at its value), or `None` after the
    /// closing brace. `first` is true for the first call after [`Reader::begin_object`].
    #[inline(always)]
    pub(crate) fn next_key(&mut self, first: bool) -> Result<Option<Cow<'a, str>>, JsonError> {
        if self.eat(b'}') {
            self.depth -= 1;
            return Ok(None);
        }
        if !first {
            self.expect(b',', "`,` or `}` after an object member")?;
        }
        let key = self.string()?;
        self.expect(b':', "`:` after an object key")?;
        Ok(Some(key))
    }

    /// Whether another item follows (the cursor is then at it); `false` after the
    /// closing bracket.
    #[inline(always)]
    pub(crate) fn next_item(&mut self, first: bool) -> Result<bool, JsonError> {
        if self.eat(b']') {
            self.depth -= 1;
            return Ok(false);
        }
        if !first {
            self.expect(b',', "`,` or `]` after an array item")?;
        }
        Ok(true)
    }

    /// Reads over one value of any kind, checking it, and returns its text.
    pub(crate) fn skip(&mut self) -> Result<&'a str, JsonError> {
        let kind = self.peek()?;
        let start = self.at;
        match kind {
            Next::Object | Next::Array => {
                let object = kind == Next::Object;
                self.at += 1;
                self.enter()?;
                let mut first = true;
                while self.next_in(object, first)? {
                    self.skip()?;
                    first = false;
                }
            }
            Next::String => self.skip_string()?,
            Next::Number => drop(self.number()?),
            Next::True => self.literal("true")?,
            Next::False => self.literal("false")?,
            Next::Null => self.literal("null")?,
        }
        Ok(self.slice(start, self.at))
    }

    /// For [`Reader::skip`]: whether another value follows in the object (its key read
    /// over) or array being walked over; `false` after its closing bracket. One
    /// function for both, out of line: walking over unknown members is not what a
    /// delivery spends its time on, and every plugin carries this code.
    #[inline(never)]
    fn next_in(&mut self, object: bool, first: bool) -> Result<bool, JsonError> {
        let (close, after) = if object {
            (b'}', "`,` or `}` after an object member")
        } else {
            (b']', "`,` or `]` after an array item")
        };
        if self.eat(close) {
            self.depth -= 1;
            return Ok(false);
        }
        if !first {
            self.expect(b',', after)?;
        }
        if object {
            self.skip_string()?;
            self.expect(b':', "`:` after an object key")?;
        }
        Ok(true)
    }

    /// A string read over without building it: escapes are checked, not decoded.
    #[cfg_attr(target_arch = "wasm32", target_feature(enable = "simd128"))]
    pub(crate) fn skip_string(&mut self) -> Result<(), JsonError> {
        self.expect(b'"', "a string")?;
        loop {
            self.skip_plain();
            match self.peek_byte() {
                Some(b'"') => {
                    self.at += 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    self.at += 1;
                    match self.peek_byte() {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {
                            self.at += 1
                        }
                        // Surrogate pairing is checked where the string is decoded.
                        Some(b'u') => {
                            self.at += 1;
                            self.hex4()?;
                        }
                        _ => return Err(self.error("invalid escape")),
                    }
                }
                // `skip_plain` stops only at a quote, a backslash or a control character.
                Some(_) => return Err(self.error("control character in a string")),
                None => return Err(self.error("unterminated string")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string(json: &str) -> Result<Cow<'_, str>, JsonError> {
        let mut r = Reader::new(json);
        let s = r.string()?;
        r.end()?;
        Ok(s)
    }

    #[test]
    fn strings_borrow_unless_escaped() {
        assert!(matches!(
            string(r#""plain é""#),
            Ok(Cow::Borrowed("plain é"))
        ));
        let escaped = string(r#""a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00""#).unwrap();
        assert!(matches!(escaped, Cow::Owned(_)));
        assert_eq!(escaped, "a\"b\\c/d\u{8}\u{c}\n\r\té😀");
    }

    #[test]
    fn the_first_special_byte_is_found_at_every_offset_of_a_word() {
        // `skip_plain` reads 8 bytes at a time: put each kind of special byte at each
        // offset of the first, second and trailing partial word, after bytes that sit
        // next to the special ones (`!` = `"` - 1, `]` = `\\` + 1, 0x20 = the first
        // plain byte, and a multi-byte character).
        for filler in ["!", "]", " ", "é"] {
            for len in 0..20 {
                let plain = filler.repeat(len);
                assert_eq!(string(&format!("\"{plain}\"")).unwrap(), plain);
                let escaped = format!("\"{plain}\\n{plain}\"");
                assert_eq!(string(&escaped).unwrap(), format!("{plain}\n{plain}"));
                let control = format!("\"{plain}\u{1f}{plain}\"");
                assert_eq!(
                    string(&control).unwrap_err().at,
                    1 + plain.len(),
                    "{control:?}"
                );
                let mut r = Reader::new(&control);
                assert!(r.skip().is_err());
                let unterminated = format!("\"{plain}");
                assert!(string(&unterminated).is_err());
            }
        }
    }

    #[test]
    fn bad_strings_are_refused_with_their_position() {
        for (json, message, at) in [
            (r#""a"#, "unterminated string", 2),
            ("\"a\nb\"", "control character in a string", 2),
            (r#""\x""#, "invalid escape", 3),
            (r#""\u12g4""#, "invalid \\u escape", 5),
            (r#""\ud83d""#, "lone leading surrogate in a \\u escape", 7),
            (
                r#""\ud83d\u0041""#,
                "invalid low surrogate in a \\u escape",
                13,
            ),
            (r#""\ude00""#, "lone trailing surrogate in a \\u escape", 7),
            ("7", "expected a string", 0),
        ] {
            assert_eq!(
                string(json),
                Err(JsonError {
                    message: message.into(),
                    at
                }),
                "{json}"
            );
        }
    }

    #[test]
    fn numbers_follow_the_json_grammar() {
        for ok in ["0", "-0", "12", "-3.25", "1e9", "2E-3", "6.02e+23"] {
            let mut r = Reader::new(ok);
            assert_eq!(r.number(), Ok(ok), "{ok}");
        }
        for bad in ["-", "01", "1.", ".5", "1e", "+1", "1e+"] {
            let mut r = Reader::new(bad);
            let read = r.number().and_then(|_| r.end());
            assert!(read.is_err(), "{bad}");
        }
    }

    #[test]
    fn skip_checks_what_it_walks_over_and_returns_its_text() {
        let json = r#" {"a": [1, -2.5e3, true, false, null, "x\"]"], "b": {}} , "#;
        let mut r = Reader::new(json);
        assert_eq!(
            r.skip(),
            Ok(r#"{"a": [1, -2.5e3, true, false, null, "x\"]"], "b": {}}"#)
        );
        for bad in [
            r#"{"a" 1}"#,
            r#"{"a": 1,}"#,
            "[1 2]",
            "[1,]",
            "{1: 2}",
            "tru",
            "nul",
            r#""\q""#,
            "[",
            "",
            "}",
            r#"{"a": 1]"#,
            "[1}",
            r#"{"\q": 1}"#,
            r#"{"a": 1 "b": 2}"#,
            r#"{"a"}"#,
        ] {
            assert!(Reader::new(bad).skip().is_err(), "{bad}");
        }
    }

    #[test]
    fn upper_case_hex_escapes_decode() {
        assert_eq!(string(r#""\u00C9\u00e9\uD83D\uDE00""#).unwrap(), "Éé😀");
    }

    #[test]
    fn closing_a_container_gives_its_level_back() {
        // 200 siblings, each entered and left: the depth never passes 2.
        for text in [
            format!("[{}[]]", "[],".repeat(199)),
            format!("[{}{{}}]", "{},".repeat(199)),
        ] {
            assert!(Reader::new(&text).skip().is_ok());
        }
    }

    #[test]
    fn nesting_is_bounded() {
        let ok = format!("{}{}", "[".repeat(128), "]".repeat(128));
        assert!(Reader::new(&ok).skip().is_ok());
        let deep = format!("{}{}", "[".repeat(129), "]".repeat(129));
        let err = Reader::new(&deep).skip().unwrap_err();
        assert_eq!(err.message, "nesting deeper than 128 levels");
    }

    #[test]
    fn objects_and_arrays_are_walked_member_by_member() {
        let mut r = Reader::new(r#"{"k": [true, null], "v": "w"}"#);
        r.begin_object().unwrap();
        assert_eq!(r.next_key(true).unwrap().as_deref(), Some("k"));
        r.begin_array().unwrap();
        assert!(r.next_item(true).unwrap());
        assert!(r.bool().unwrap());
        assert!(r.next_item(false).unwrap());
        assert!(r.null().unwrap());
        assert!(!r.next_item(false).unwrap());
        assert_eq!(r.next_key(false).unwrap().as_deref(), Some("v"));
        assert_eq!(r.string().unwrap(), "w");
        assert_eq!(r.next_key(false).unwrap(), None);
        r.end().unwrap();
    }

    #[test]
    fn trailing_text_is_refused() {
        let mut r = Reader::new("{} x");
        r.skip().unwrap();
        assert_eq!(
            r.end().unwrap_err().to_string(),
            "trailing characters after the JSON value at byte 3"
        );
    }
}
