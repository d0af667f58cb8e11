//! JSON text: a reader into [`Json`] trees and a writer of [`Out`] views, both non-generic.
//!
//! The reader follows RFC 8259 and accepts what `serde_json::from_str::<Json>` accepts: one value
//! with optional whitespace (space, tab, line feed, carriage return) around it, strings with every
//! escape (`\uXXXX` surrogate pairs must be complete), and at most [`MAX_DEPTH`] nested arrays and
//! objects. Integers are kept exact: non-negative ones that fit as [`Json::U64`], negative ones
//! from `-1` down to `i64::MIN` as [`Json::I64`]. Any other number (a fraction, an exponent, `-0`,
//! or an integer outside those ranges) is checked against the JSON number grammar and kept as its
//! text in [`Json::Number`], never converted to floating point. The protocol carries no
//! floating-point values that are read as numbers; such numbers only pass through inside JSON that
//! is kept as it came. So, unlike serde_json, a number beyond the range of `f64` (`1e400`) is
//! accepted, as the text it is. Errors name the line and column of the offending character.
//!
//! The writer produces compact text byte for byte as `serde_json::to_string` does: strings escape
//! `"`, `\` and the control characters (as `\b \f \n \r \t` or `\u00xx`) and nothing else, and
//! byte strings are padded base64. A [`Json::Number`] is written as the text it holds, so a
//! number read here is written back byte for byte; serde_json would write its nearest `f64` in
//! shortest form instead, which is the same text whenever serde_json wrote the number itself.
//! A second mode also escapes `<`, `>`, `&`, U+2028 and U+2029 as Go's `encoding/json` does.
//!
//! Nothing here performs I/O or panics on input.

use crate::msgjson::{FieldSink, Json, JsonError, Out};

/// How many arrays and objects may enclose one another (the limit serde_json applies).
pub(crate) const MAX_DEPTH: usize = 127;

const LONE_SURROGATE: &str = "lone surrogate in a \\u escape";

/// Parses JSON text: exactly one value, surrounding whitespace allowed.
pub(crate) fn parse(text: &str) -> Result<Json, JsonError> {
    let mut reader = Reader::new(text);
    let value = reader.value(MAX_DEPTH)?;
    reader.end()?;
    Ok(value)
}

/// Parses bytes that must be UTF-8 JSON text.
pub(crate) fn parse_slice(bytes: &[u8]) -> Result<Json, JsonError> {
    match std::str::from_utf8(bytes) {
        Ok(text) => parse(text),
        Err(err) => Err(JsonError::from_display(format_args!(
            "invalid UTF-8 at byte offset {}",
            err.valid_up_to()
        ))),
    }
}

/// The text of exactly one JSON value in `text` (surrounding whitespace allowed), checked as
/// [`Reader::skip_value`] checks it.
pub(crate) fn raw_value(text: &str) -> Result<&str, JsonError> {
    let mut reader = Reader::new(text);
    reader.skip_ws();
    let start = reader.pos;
    reader.skip_value()?;
    let end = reader.pos;
    reader.end()?;
    Ok(text.get(start..end).unwrap_or_default())
}

/// The members of a JSON object that is all of `text` (surrounding whitespace allowed): each
/// key decoded, each value as its raw text, checked as [`Reader::skip_value`] checks it.
pub(crate) fn raw_members(text: &str) -> Result<Vec<(String, &str)>, JsonError> {
    let mut reader = Reader::new(text);
    reader.skip_ws();
    match reader.peek() {
        Some(b'{') => reader.pos += 1,
        _ => return Err(reader.error("expected a JSON object")),
    }
    let mut members = Vec::new();
    if !reader.close(b'}')? {
        loop {
            let key = reader.key(true)?;
            reader.skip_ws();
            let start = reader.pos;
            reader.skip_value()?;
            members.push((key, text.get(start..reader.pos).unwrap_or_default()));
            if reader.next_or_close(b'}')? {
                break;
            }
        }
    }
    reader.end()?;
    Ok(members)
}

/// A position in JSON text and the reading steps from there.
struct Reader<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `text`.
    fn new(text: &'a str) -> Reader<'a> {
        Reader { text, pos: 0 }
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    /// Skips whitespace.
    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    /// Refuses anything but whitespace after the value.
    fn end(&mut self) -> Result<(), JsonError> {
        self.skip_ws();
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(self.error("trailing characters after the JSON value")),
        }
    }

    /// An error at the current position: `what` with the line and column (both from 1, the
    /// column counted in characters).
    fn error(&self, what: &str) -> JsonError {
        self.error_at(self.pos, what)
    }

    fn error_at(&self, pos: usize, what: &str) -> JsonError {
        let before = self.text.as_bytes().get(..pos).unwrap_or_default();
        let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let column = 1 + before
            .get(line_start..)
            .unwrap_or_default()
            .iter()
            .filter(|&&b| b & 0xC0 != 0x80)
            .count();
        JsonError::from_display(format_args!("{what} at line {line} column {column}"))
    }

    fn eof(&self) -> JsonError {
        self.error("unexpected end of input")
    }

    /// Reads one value into a tree; `depth` arrays or objects may still be opened.
    fn value(&mut self, depth: usize) -> Result<Json, JsonError> {
        self.skip_ws();
        let Some(first) = self.peek() else {
            return Err(self.error("unexpected end of input, expected a value"));
        };
        match first {
            b'[' | b'{' if depth == 0 => Err(self.error("nesting too deep")),
            b'[' => {
                self.pos += 1;
                let mut items = Vec::new();
                if self.close(b']')? {
                    return Ok(Json::List(items));
                }
                loop {
                    items.push(self.value(depth - 1)?);
                    if self.next_or_close(b']')? {
                        return Ok(Json::List(items));
                    }
                }
            }
            b'{' => {
                self.pos += 1;
                let mut members = Vec::new();
                if self.close(b'}')? {
                    return Ok(Json::Obj(members));
                }
                loop {
                    let key = self.key(true)?;
                    members.push((key, self.value(depth - 1)?));
                    if self.next_or_close(b'}')? {
                        return Ok(Json::Obj(members));
                    }
                }
            }
            b'"' => {
                self.pos += 1;
                self.string(true).map(Json::Str)
            }
            b'-' | b'0'..=b'9' => self.number(),
            _ => self.literal(),
        }
    }

    /// Checks one value without building it, as serde's `IgnoredAny` does: any depth, escapes
    /// checked for form only (lone surrogates pass), numbers checked for syntax only.
    fn skip_value(&mut self) -> Result<(), JsonError> {
        // The closing bracket of every open array or object, innermost last.
        let mut open: Vec<u8> = Vec::new();
        loop {
            self.skip_ws();
            match self.peek() {
                Some(b'[') => {
                    self.pos += 1;
                    if !self.close(b']')? {
                        open.push(b']');
                        continue;
                    }
                }
                Some(b'{') => {
                    self.pos += 1;
                    if !self.close(b'}')? {
                        open.push(b'}');
                        self.key(false)?;
                        continue;
                    }
                }
                Some(b'"') => {
                    self.pos += 1;
                    self.string(false)?;
                }
                Some(b'-' | b'0'..=b'9') => {
                    self.scan_number()?;
                }
                Some(_) => {
                    self.literal()?;
                }
                None => return Err(self.error("unexpected end of input, expected a value")),
            }
            // A value is complete: close what ends here, then continue after a comma.
            while let Some(&closer) = open.last() {
                if self.next_or_close(closer)? {
                    open.pop();
                } else {
                    if closer == b'}' {
                        self.key(false)?;
                    }
                    break;
                }
            }
            if open.is_empty() {
                return Ok(());
            }
        }
    }

    /// After an opening bracket: whether the container closes at once with `closer`.
    fn close(&mut self, closer: u8) -> Result<bool, JsonError> {
        self.skip_ws();
        if self.peek() == Some(closer) {
            self.pos += 1;
            return Ok(true);
        }
        Ok(false)
    }

    /// After an item: `true` if `closer` ends the container, `false` after a comma.
    fn next_or_close(&mut self, closer: u8) -> Result<bool, JsonError> {
        self.skip_ws();
        match self.peek() {
            Some(b',') => {
                self.pos += 1;
                self.skip_ws();
                if matches!(self.peek(), Some(b']' | b'}')) {
                    return Err(self.error("trailing comma"));
                }
                Ok(false)
            }
            Some(b) if b == closer => {
                self.pos += 1;
                Ok(true)
            }
            Some(_) if closer == b']' => Err(self.error("expected `,` or `]`")),
            Some(_) => Err(self.error("expected `,` or `}`")),
            None => Err(self.eof()),
        }
    }

    /// An object key and the colon after it.
    fn key(&mut self, strict: bool) -> Result<String, JsonError> {
        self.skip_ws();
        match self.peek() {
            Some(b'"') => self.pos += 1,
            Some(_) => return Err(self.error("expected a string key")),
            None => return Err(self.eof()),
        }
        let key = self.string(strict)?;
        self.skip_ws();
        match self.peek() {
            Some(b':') => {
                self.pos += 1;
                Ok(key)
            }
            Some(_) => Err(self.error("expected `:`")),
            None => Err(self.eof()),
        }
    }

    /// `null`, `true` or `false`.
    fn literal(&mut self) -> Result<Json, JsonError> {
        let rest = self.text.get(self.pos..).unwrap_or_default();
        let (word, value) = match self.peek() {
            Some(b'n') => ("null", Json::Null),
            Some(b't') => ("true", Json::Bool(true)),
            Some(b'f') => ("false", Json::Bool(false)),
            _ => return Err(self.error("expected a value")),
        };
        if rest.starts_with(word) {
            self.pos += word.len();
            Ok(value)
        } else if word.starts_with(rest) {
            Err(self.error_at(self.text.len(), "unexpected end of input"))
        } else {
            Err(self.error("invalid literal"))
        }
    }

    /// Consumes a number's text; tells whether it is an integer (no fraction, no exponent).
    fn scan_number(&mut self) -> Result<bool, JsonError> {
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => {
                self.pos += 1;
                if matches!(self.peek(), Some(b'0'..=b'9')) {
                    return Err(self.error("invalid number: leading zero"));
                }
            }
            Some(b'1'..=b'9') => self.digits(),
            Some(_) => return Err(self.error("invalid number")),
            None => return Err(self.eof()),
        }
        let mut integer = true;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            integer = false;
            self.some_digits()?;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            integer = false;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            self.some_digits()?;
        }
        Ok(integer)
    }

    fn digits(&mut self) {
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
    }

    fn some_digits(&mut self) -> Result<(), JsonError> {
        match self.peek() {
            Some(b'0'..=b'9') => {
                self.digits();
                Ok(())
            }
            Some(_) => Err(self.error("invalid number: expected a digit")),
            None => Err(self.eof()),
        }
    }

    /// A number as an exact integer when it is one that fits, else as its text.
    fn number(&mut self) -> Result<Json, JsonError> {
        let start = self.pos;
        let integer = self.scan_number()?;
        let text = self.text.get(start..self.pos).unwrap_or_default();
        if integer {
            let (negative, digits) = match text.strip_prefix('-') {
                Some(digits) => (true, digits),
                None => (false, text),
            };
            let magnitude = digits.bytes().try_fold(0u64, |n, d| {
                n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
            });
            match (negative, magnitude) {
                (false, Some(n)) => return Ok(Json::U64(n)),
                // `-0` is not an integer, as serde_json reads it (as a float).
                (true, Some(n @ 1..=0x8000_0000_0000_0000)) => {
                    return Ok(Json::I64(0i64.wrapping_sub_unsigned(n)))
                }
                _ => {}
            }
        }
        Ok(Json::Number(text.to_owned()))
    }

    /// The rest of a string after its opening quote, with escapes decoded. Unless `strict`, a
    /// lone surrogate escape is accepted (and decoded as U+FFFD).
    fn string(&mut self, strict: bool) -> Result<String, JsonError> {
        let mut out = String::new();
        loop {
            let run = self.pos;
            while matches!(self.peek(), Some(b) if b != b'"' && b != b'\\' && b >= 0x20) {
                self.pos += 1;
            }
            out.push_str(self.text.get(run..self.pos).unwrap_or_default());
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    out.push(self.escape(strict)?);
                }
                Some(_) => return Err(self.error("control character in a string")),
                None => return Err(self.eof()),
            }
        }
    }

    /// One escape after its backslash.
    fn escape(&mut self, strict: bool) -> Result<char, JsonError> {
        let Some(b) = self.peek() else {
            return Err(self.eof());
        };
        self.pos += 1;
        Ok(match b {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let start = self.pos - 2;
                let unit = self.hex4()?;
                match unit {
                    0xD800..=0xDBFF => {
                        let rest = self.text.as_bytes().get(self.pos..).unwrap_or_default();
                        if !rest.starts_with(b"\\u") {
                            if strict {
                                return Err(self.error_at(start, LONE_SURROGATE));
                            }
                            return Ok(char::REPLACEMENT_CHARACTER);
                        }
                        let second_at = self.pos;
                        self.pos += 2;
                        let low = self.hex4()?;
                        if !(0xDC00..=0xDFFF).contains(&low) {
                            if strict {
                                return Err(self.error_at(start, LONE_SURROGATE));
                            }
                            // The second escape is read again on its own.
                            self.pos = second_at;
                            return Ok(char::REPLACEMENT_CHARACTER);
                        }
                        let code = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
                        char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER)
                    }
                    0xDC00..=0xDFFF if strict => return Err(self.error_at(start, LONE_SURROGATE)),
                    _ => char::from_u32(unit).unwrap_or(char::REPLACEMENT_CHARACTER),
                }
            }
            _ => return Err(self.error_at(self.pos - 1, "invalid escape")),
        })
    }

    /// Four hex digits of a `\u` escape.
    fn hex4(&mut self) -> Result<u32, JsonError> {
        let mut unit = 0;
        for _ in 0..4 {
            let digit = match self.peek() {
                Some(b @ b'0'..=b'9') => b - b'0',
                Some(b @ b'a'..=b'f') => b - b'a' + 10,
                Some(b @ b'A'..=b'F') => b - b'A' + 10,
                Some(_) => return Err(self.error("invalid \\u escape")),
                None => return Err(self.eof()),
            };
            unit = unit * 16 + u32::from(digit);
            self.pos += 1;
        }
        Ok(unit)
    }
}

/// Writes `value` as compact JSON text; `go` also escapes `<`, `>`, `&`, U+2028 and U+2029.
pub(crate) fn write(value: Out<'_>, go: bool) -> String {
    let mut writer = Writer {
        out: String::with_capacity(128),
        go,
    };
    writer.value(value);
    writer.out
}

/// Compact JSON text being written.
struct Writer {
    out: String,
    go: bool,
}

impl Writer {
    fn value(&mut self, value: Out<'_>) {
        match value {
            Out::Str(text) => self.string(text),
            Out::I32(n) => self.integer(n < 0, u64::from(n.unsigned_abs())),
            Out::I64(n) => self.integer(n < 0, n.unsigned_abs()),
            Out::U32(n) => self.integer(false, u64::from(n)),
            Out::U64(n) => self.integer(false, n),
            Out::Bool(v) => self.out.push_str(if v { "true" } else { "false" }),
            Out::Number(text) => self.out.push_str(text),
            Out::Opt(None) => self.out.push_str("null"),
            Out::Bytes(bytes) => {
                self.out.push('"');
                crate::json::encode_base64_into(bytes, &mut self.out);
                self.out.push('"');
            }
            Out::Msg(message) => {
                self.out.push('{');
                message.write_fields(&mut Members {
                    writer: self,
                    first: true,
                });
                self.out.push('}');
            }
            Out::Opt(Some(inner)) => self.value(inner.to_out()),
            Out::List(list) => {
                self.out.push('[');
                let mut first = true;
                list.each(&mut |item| {
                    if !first {
                        self.out.push(',');
                    }
                    first = false;
                    self.value(item);
                });
                self.out.push(']');
            }
            Out::Map(map) => {
                let mut members = Members {
                    writer: self,
                    first: true,
                };
                members.writer.out.push('{');
                map.each(&mut |key, value| members.member(key, value));
                members.writer.out.push('}');
            }
        }
    }

    fn integer(&mut self, negative: bool, mut n: u64) {
        let mut digits = [0u8; 20];
        let mut at = digits.len();
        loop {
            at -= 1;
            if let Some(slot) = digits.get_mut(at) {
                *slot = b'0' + (n % 10) as u8;
            }
            n /= 10;
            if n == 0 {
                break;
            }
        }
        if negative {
            self.out.push('-');
        }
        for &d in digits.get(at..).unwrap_or_default() {
            self.out.push(char::from(d));
        }
    }

    fn string(&mut self, text: &str) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        self.out.push('"');
        let bytes = text.as_bytes();
        let mut run = 0;
        for (at, &b) in bytes.iter().enumerate() {
            let escape: &str = match b {
                b'"' => "\\\"",
                b'\\' => "\\\\",
                b'\n' => "\\n",
                b'\r' => "\\r",
                b'\t' => "\\t",
                0x08 => "\\b",
                0x0c => "\\f",
                0..=0x1f => "",
                b'<' if self.go => "\\u003c",
                b'>' if self.go => "\\u003e",
                b'&' if self.go => "\\u0026",
                // U+2028 and U+2029 are E2 80 A8 and E2 80 A9.
                0xE2 if self.go && bytes.get(at + 1) == Some(&0x80) => match bytes.get(at + 2) {
                    Some(0xA8) => "\\u2028",
                    Some(0xA9) => "\\u2029",
                    _ => continue,
                },
                _ => continue,
            };
            self.out.push_str(text.get(run..at).unwrap_or_default());
            if escape.is_empty() {
                self.out.push_str("\\u00");
                self.out.push(char::from(HEX[usize::from(b >> 4)]));
                self.out.push(char::from(HEX[usize::from(b & 0xF)]));
            } else {
                self.out.push_str(escape);
            }
            // The escaped character's bytes (continuation bytes never start an escape).
            run = at + if b == 0xE2 { 3 } else { 1 };
        }
        self.out.push_str(text.get(run..).unwrap_or_default());
        self.out.push('"');
    }
}

/// The members of one object being written.
struct Members<'w> {
    writer: &'w mut Writer,
    first: bool,
}

impl Members<'_> {
    fn member(&mut self, key: &str, value: Out<'_>) {
        if !self.first {
            self.writer.out.push(',');
        }
        self.first = false;
        self.writer.string(key);
        self.writer.out.push(':');
        self.writer.value(value);
    }
}

impl FieldSink for Members<'_> {
    fn field(&mut self, key: &'static str, value: Out<'_>) {
        self.member(key, value);
    }
}

#[cfg(test)]
mod tests;
