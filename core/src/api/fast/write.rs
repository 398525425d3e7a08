//! A compact JSON writer that writes exactly what `serde_json::to_string`
//! writes, into one buffer: strings that need no escape (ids, names,
//! instants, keys: nearly all of an answer) are copied as they are instead
//! of byte by byte, and `Display` values are written without a `String`.
//! Whatever it does not write the way serde_json does (a map key that is
//! not a string, serde_json's own raw values) it declines, and the caller
//! writes that value with serde_json instead.

use std::fmt::{self, Write as _};

use serde::ser::{
    self, Serialize, SerializeMap, SerializeSeq, SerializeStruct, SerializeStructVariant,
    SerializeTuple, SerializeTupleStruct, SerializeTupleVariant, Serializer,
};

/// Appends `value` as serde_json writes it.
#[inline]
pub(super) fn value<T: Serialize + ?Sized>(out: &mut String, value: &T) -> Result<(), Declined> {
    value.serialize(&mut Writer { out })
}

/// The writer declined the value: the caller writes it with serde_json.
#[derive(Debug)]
pub(super) struct Declined;

impl fmt::Display for Declined {
    #[inline]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("declined")
    }
}

impl std::error::Error for Declined {}

impl ser::Error for Declined {
    #[inline]
    fn custom<T: fmt::Display>(_: T) -> Self {
        Declined
    }
}

/// Whether `text` is written between quotes as it is: no quote, backslash
/// or control character. Eight bytes at a time: the strings of an answer
/// are short, and most are shorter than a vector register.
#[inline]
fn plain(text: &str) -> bool {
    let mut chunks = text.as_bytes().chunks_exact(8);
    let mut bad = 0;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        bad |= escapes(u64::from_le_bytes(word));
    }
    // The rest, padded with a byte that needs no escape.
    let mut word = [b'a'; 8];
    for (slot, byte) in word.iter_mut().zip(chunks.remainder()) {
        *slot = *byte;
    }
    bad |= escapes(u64::from_le_bytes(word));
    bad == 0
}

/// Non-zero exactly when one of the eight bytes of `word` is below 0x20,
/// a quote or a backslash (a zero byte of `word ^ c` is a byte equal to
/// `c`; `x - n & !x` sets a byte's top bit where one is below `n`).
#[inline]
fn escapes(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const TOPS: u64 = 0x8080_8080_8080_8080;
    let below = |x: u64, n: u64| x.wrapping_sub(ONES * n) & !x & TOPS;
    below(word, 0x20)
        | below(word ^ (ONES * u64::from(b'"')), 1)
        | below(word ^ (ONES * u64::from(b'\\')), 1)
}

/// Appends `text`'s JSON escape without its quotes, as serde_json escapes it.
#[inline]
fn escaped_contents(out: &mut String, text: &str) -> Result<(), Declined> {
    if plain(text) {
        out.push_str(text);
        return Ok(());
    }
    let quoted = serde_json::to_string(text).map_err(|_| Declined)?;
    let inner = quoted
        .strip_prefix('"')
        .and_then(|q| q.strip_suffix('"'))
        .ok_or(Declined)?;
    out.push_str(inner);
    Ok(())
}

/// Appends `text` as a JSON string.
#[inline]
pub(super) fn string(out: &mut String, text: &str) -> Result<(), Declined> {
    out.push('"');
    escaped_contents(out, text)?;
    out.push('"');
    Ok(())
}

/// Appends an unsigned integer's decimal digits.
#[inline]
pub(super) fn unsigned(out: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    for slot in digits.iter_mut().rev() {
        // `n % 10` is a single digit.
        *slot = b'0' + (n % 10) as u8;
        start -= 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let text = digits
        .get(start..)
        .and_then(|d| std::str::from_utf8(d).ok())
        .unwrap_or("0");
    out.push_str(text);
}

#[inline]
fn signed(out: &mut String, n: i64) {
    if n < 0 {
        out.push('-');
    }
    unsigned(out, n.unsigned_abs());
}

/// Escapes what a `Display` writes, as it writes it.
struct Escaping<'a> {
    out: &'a mut String,
}

impl fmt::Write for Escaping<'_> {
    #[inline]
    fn write_str(&mut self, s: &str) -> fmt::Result {
        escaped_contents(self.out, s).map_err(|_| fmt::Error)
    }
}

/// The writer: a buffer appended to.
pub(super) struct Writer<'a> {
    out: &'a mut String,
}

/// An object or list being written: whether an element came before.
pub(super) struct Compound<'w, 'a> {
    writer: &'w mut Writer<'a>,
    first: bool,
    /// What closes it: `]`, `}`, or `}}` / `]}` for a variant's payload.
    close: &'static str,
}

impl Compound<'_, '_> {
    #[inline]
    fn comma(&mut self) {
        if !std::mem::replace(&mut self.first, false) {
            self.writer.out.push(',');
        }
    }

    #[inline]
    fn entry<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result<(), Declined> {
        self.comma();
        string(self.writer.out, key)?;
        self.writer.out.push(':');
        value.serialize(&mut *self.writer)
    }

    #[inline]
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Declined> {
        self.comma();
        value.serialize(&mut *self.writer)
    }

    #[inline]
    fn close(self) -> Result<(), Declined> {
        self.writer.out.push_str(self.close);
        Ok(())
    }
}

impl<'w, 'a> Writer<'a> {
    #[inline]
    fn open(&'w mut self, open: &str, close: &'static str) -> Compound<'w, 'a> {
        self.out.push_str(open);
        Compound {
            writer: self,
            first: true,
            close,
        }
    }

    /// Opens `{"variant":` and then `open`.
    #[inline]
    fn variant(
        &'w mut self,
        variant: &str,
        open: &str,
        close: &'static str,
    ) -> Result<Compound<'w, 'a>, Declined> {
        self.out.push('{');
        string(self.out, variant)?;
        self.out.push(':');
        Ok(self.open(open, close))
    }
}

impl<'w, 'a> Serializer for &'w mut Writer<'a> {
    type Ok = ();
    type Error = Declined;
    type SerializeSeq = Compound<'w, 'a>;
    type SerializeTuple = Compound<'w, 'a>;
    type SerializeTupleStruct = Compound<'w, 'a>;
    type SerializeTupleVariant = Compound<'w, 'a>;
    type SerializeMap = Compound<'w, 'a>;
    type SerializeStruct = Compound<'w, 'a>;
    type SerializeStructVariant = Compound<'w, 'a>;

    #[inline]
    fn serialize_bool(self, v: bool) -> Result<(), Declined> {
        self.out.push_str(if v { "true" } else { "false" });
        Ok(())
    }

    #[inline]
    fn serialize_i8(self, v: i8) -> Result<(), Declined> {
        self.serialize_i64(v.into())
    }

    #[inline]
    fn serialize_i16(self, v: i16) -> Result<(), Declined> {
        self.serialize_i64(v.into())
    }

    #[inline]
    fn serialize_i32(self, v: i32) -> Result<(), Declined> {
        self.serialize_i64(v.into())
    }

    #[inline]
    fn serialize_i64(self, v: i64) -> Result<(), Declined> {
        signed(self.out, v);
        Ok(())
    }

    #[inline]
    fn serialize_i128(self, v: i128) -> Result<(), Declined> {
        write!(self.out, "{v}").map_err(|_| Declined)
    }

    #[inline]
    fn serialize_u8(self, v: u8) -> Result<(), Declined> {
        self.serialize_u64(v.into())
    }

    #[inline]
    fn serialize_u16(self, v: u16) -> Result<(), Declined> {
        self.serialize_u64(v.into())
    }

    #[inline]
    fn serialize_u32(self, v: u32) -> Result<(), Declined> {
        self.serialize_u64(v.into())
    }

    #[inline]
    fn serialize_u64(self, v: u64) -> Result<(), Declined> {
        unsigned(self.out, v);
        Ok(())
    }

    #[inline]
    fn serialize_u128(self, v: u128) -> Result<(), Declined> {
        write!(self.out, "{v}").map_err(|_| Declined)
    }

    #[inline]
    fn serialize_f32(self, v: f32) -> Result<(), Declined> {
        // Floats as serde_json writes them (shortest round trip, non-finite as null).
        let text = serde_json::to_string(&v).map_err(|_| Declined)?;
        self.out.push_str(&text);
        Ok(())
    }

    #[inline]
    fn serialize_f64(self, v: f64) -> Result<(), Declined> {
        let text = serde_json::to_string(&v).map_err(|_| Declined)?;
        self.out.push_str(&text);
        Ok(())
    }

    #[inline]
    fn serialize_char(self, v: char) -> Result<(), Declined> {
        string(self.out, v.encode_utf8(&mut [0u8; 4]))
    }

    #[inline]
    fn serialize_str(self, v: &str) -> Result<(), Declined> {
        string(self.out, v)
    }

    #[inline]
    fn serialize_bytes(self, v: &[u8]) -> Result<(), Declined> {
        let mut list = self.open("[", "]");
        for byte in v {
            list.element(byte)?;
        }
        list.close()
    }

    #[inline]
    fn serialize_none(self) -> Result<(), Declined> {
        self.serialize_unit()
    }

    #[inline]
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Declined> {
        value.serialize(self)
    }

    #[inline]
    fn serialize_unit(self) -> Result<(), Declined> {
        self.out.push_str("null");
        Ok(())
    }

    #[inline]
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Declined> {
        self.serialize_unit()
    }

    #[inline]
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), Declined> {
        string(self.out, variant)
    }

    #[inline]
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), Declined> {
        value.serialize(self)
    }

    #[inline]
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Declined> {
        self.out.push('{');
        string(self.out, variant)?;
        self.out.push(':');
        value.serialize(&mut *self)?;
        self.out.push('}');
        Ok(())
    }

    #[inline]
    fn serialize_seq(self, _len: Option<usize>) -> Result<Compound<'w, 'a>, Declined> {
        Ok(self.open("[", "]"))
    }

    #[inline]
    fn serialize_tuple(self, len: usize) -> Result<Compound<'w, 'a>, Declined> {
        self.serialize_seq(Some(len))
    }

    #[inline]
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<Compound<'w, 'a>, Declined> {
        self.serialize_seq(Some(len))
    }

    #[inline]
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'w, 'a>, Declined> {
        self.variant(variant, "[", "]}")
    }

    #[inline]
    fn serialize_map(self, _len: Option<usize>) -> Result<Compound<'w, 'a>, Declined> {
        Ok(self.open("{", "}"))
    }

    #[inline]
    fn serialize_struct(
        self,
        name: &'static str,
        _len: usize,
    ) -> Result<Compound<'w, 'a>, Declined> {
        // serde_json writes its own raw values and numbers unquoted.
        if name.starts_with("$serde_json") {
            return Err(Declined);
        }
        Ok(self.open("{", "}"))
    }

    #[inline]
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'w, 'a>, Declined> {
        self.variant(variant, "{", "}}")
    }

    #[inline]
    fn collect_str<T: fmt::Display + ?Sized>(self, value: &T) -> Result<(), Declined> {
        self.out.push('"');
        write!(Escaping { out: self.out }, "{value}").map_err(|_| Declined)?;
        self.out.push('"');
        Ok(())
    }
}

impl SerializeSeq for Compound<'_, '_> {
    type Ok = ();
    type Error = Declined;

    #[inline]
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Declined> {
        self.element(value)
    }

    #[inline]
    fn end(self) -> Result<(), Declined> {
        self.close()
    }
}

impl SerializeTuple for Compound<'_, '_> {
    type Ok = ();
    type Error = Declined;

    #[inline]
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Declined> {
        self.element(value)
    }

    #[inline]
    fn end(self) -> Result<(), Declined> {
        self.close()
    }
}

impl SerializeTupleStruct for Compound<'_, '_> {
    type Ok = ();
    type Error = Declined;

    #[inline]
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Declined> {
        self.element(value)
    }

    #[inline]
    fn end(self) -> Result<(), Declined> {
        self.close()
    }
}

impl SerializeTupleVariant for Compound<'_, '_> {
    type Ok = ();
    type Error = Declined;

    #[inline]
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Declined> {
        self.element(value)
    }

    #[inline]
    fn end(self) -> Result<(), Declined> {
        self.close()
    }
}

impl SerializeMap for Compound<'_, '_> {
    type Ok = ();
    type Error = Declined;

    #[inline]
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Declined> {
        self.comma();
        // A key as serde_json writes one (a string, a number quoted...), by
        // serde_json itself: no answer of the fast path holds a map.
        let mut buffer = Vec::new();
        let mut json = serde_json::Serializer::new(&mut buffer);
        let mut map = (&mut json).serialize_map(Some(1)).map_err(|_| Declined)?;
        map.serialize_key(key).map_err(|_| Declined)?;
        SerializeMap::end(map).map_err(|_| Declined)?;
        let text = std::str::from_utf8(&buffer).map_err(|_| Declined)?;
        let key = text
            .strip_prefix('{')
            .and_then(|t| t.strip_suffix('}'))
            .ok_or(Declined)?;
        self.writer.out.push_str(key);
        self.writer.out.push(':');
        Ok(())
    }

    #[inline]
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Declined> {
        value.serialize(&mut *self.writer)
    }

    #[inline]
    fn end(self) -> Result<(), Declined> {
        self.close()
    }
}

impl SerializeStruct for Compound<'_, '_> {
    type Ok = ();
    type Error = Declined;

    #[inline]
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Declined> {
        self.entry(key, value)
    }

    #[inline]
    fn end(self) -> Result<(), Declined> {
        self.close()
    }
}

impl SerializeStructVariant for Compound<'_, '_> {
    type Ok = ();
    type Error = Declined;

    #[inline]
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Declined> {
        self.entry(key, value)
    }

    #[inline]
    fn end(self) -> Result<(), Declined> {
        self.close()
    }
}

#[cfg(test)]
mod tests;
