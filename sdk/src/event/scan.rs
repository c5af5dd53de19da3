//! A lenient scanner for one top-level string member, so that a raw plugin can learn
//! the event name without linking a JSON decoder.

struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn bump(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.i += 1;
        Some(b)
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    /// A string starting at `"`: its raw contents and whether they hold escapes.
    fn string(&mut self) -> Option<(&'a [u8], bool)> {
        if self.bump()? != b'"' {
            return None;
        }
        let start = self.i;
        let mut escaped = false;
        loop {
            match self.bump()? {
                b'"' => return Some((self.s.get(start..self.i - 1)?, escaped)),
                b'\\' => {
                    escaped = true;
                    self.bump()?;
                }
                _ => {}
            }
        }
    }

    /// Skips one value of any kind.
    fn skip_value(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => self.string().map(drop),
            b'{' | b'[' => {
                let mut depth = 0usize;
                loop {
                    match self.peek()? {
                        b'"' => {
                            self.string()?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                self.i += 1;
                                return Some(());
                            }
                        }
                        _ => {}
                    }
                    self.i += 1;
                }
            }
            _ => {
                while !matches!(
                    self.peek()?,
                    b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r'
                ) {
                    self.i += 1;
                }
                Some(())
            }
        }
    }
}

/// The bytes as a `&str` if they are ASCII, as every event name is. Cheaper in
/// code size than `core::str::from_utf8`, which a raw plugin may not link otherwise.
fn ascii_str(bytes: &[u8]) -> Option<&str> {
    if bytes.is_ascii() {
        // SAFETY: ASCII is valid UTF-8.
        Some(unsafe { core::str::from_utf8_unchecked(bytes) })
    } else {
        None
    }
}

pub(super) fn top_level_string<'a>(json: &'a [u8], key: &[u8]) -> Option<&'a str> {
    let mut c = Cursor { s: json, i: 0 };
    c.ws();
    if c.bump()? != b'{' {
        return None;
    }
    loop {
        c.ws();
        if c.peek()? == b'}' {
            return None;
        }
        let (name, name_escaped) = c.string()?;
        c.ws();
        if c.bump()? != b':' {
            return None;
        }
        c.ws();
        if !name_escaped && name == key && c.peek()? == b'"' {
            let (value, escaped) = c.string()?;
            return if escaped { None } else { ascii_str(value) };
        }
        c.skip_value()?;
        c.ws();
        match c.bump()? {
            b',' => {}
            _ => return None,
        }
    }
}
