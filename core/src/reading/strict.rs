//! A deserializer over a parsed JSON value that only reads objects as
//! structs, and knows where it is. Serde's derives also accept a positional
//! array for a struct, which would let a license written as `[...]` pass
//! silently; this one refuses it, at every depth. It records the path of the
//! value being read, so a failure names its field without a second pass.
//! [`tagged`] reads an internally tagged enum through it without serde's
//! buffered copy of the object.

use serde::de::{
    self, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, SeqAccess, Visitor,
};
use std::cell::RefCell;
use std::marker::PhantomData;

use serde::forward_to_deserialize_any;
use serde_json::{Map, Value};

/// One step of a path: an object key or an array index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step<'a> {
    /// An object key.
    Key(&'a str),
    /// An array index.
    Index(usize),
}

/// The steps from the document's root to the value being read. A step is
/// removed once its value is read, so after a failure the steps left lead
/// to the value that failed.
pub type Trail<'a> = RefCell<Vec<Step<'a>>>;

/// Reads a value strictly: see the module documentation. Its errors are
/// `E`: serde_json's, which describe the problem, or a type that only says
/// there is one and so costs nothing to make.
pub struct Strict<'de, 'p, E = serde_json::Error> {
    value: &'de Value,
    trail: &'p Trail<'de>,
    error: PhantomData<fn() -> E>,
}

impl<E> Clone for Strict<'_, '_, E> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<E> Copy for Strict<'_, '_, E> {}

impl<'de, 'p> Strict<'de, 'p> {
    /// Reads `value`, recording the path of what it reads in `trail`.
    pub fn new(value: &'de Value, trail: &'p Trail<'de>) -> Self {
        Strict::with_errors(value, trail)
    }
}

impl<'de, 'p, E> Strict<'de, 'p, E> {
    /// [`Strict::new`], failing with errors of type `E`.
    pub fn with_errors(value: &'de Value, trail: &'p Trail<'de>) -> Self {
        Strict {
            value,
            trail,
            error: PhantomData,
        }
    }

    fn at(self, value: &'de Value) -> Self {
        Strict { value, ..self }
    }
}

/// Records the step to the value about to be read. Out of line: it is the
/// same for every type read, and inlined it would be copied into each.
#[inline(never)]
fn enter<'de>(trail: &Trail<'de>, step: Step<'de>) {
    trail.borrow_mut().push(step);
}

/// Removes the step of the value just read; see [`enter`].
#[inline(never)]
fn leave(trail: &Trail<'_>) {
    trail.borrow_mut().pop();
}

impl<'de, E: de::Error> Deserializer<'de> for Strict<'de, '_, E> {
    type Error = E;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        // Scalars as serde_json's own reader of a value visits them.
        match self.value {
            Value::Array(items) => visitor.visit_seq(Items::new(self, items)),
            Value::Object(map) => visitor.visit_map(Entries::new(self, map)),
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::String(text) => visitor.visit_borrowed_str(text),
            Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
                (Some(u), _, _) => visitor.visit_u64(u),
                (None, Some(i), _) => visitor.visit_i64(i),
                (None, None, Some(f)) => visitor.visit_f64(f),
                (None, None, None) => Err(failure("a number no type holds")),
            },
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        match self.value {
            // An internally tagged enum (see [`tagged`]): its tag first.
            Value::Object(map) if name == TAGGED => {
                let tag = fields.first().and_then(|tag| map.get_key_value(*tag));
                visitor.visit_map(Entries::tag_first(self, map, tag))
            }
            Value::Object(map) => visitor.visit_map(Entries::new(self, map)),
            other => Err(invalid_type(other, &visitor)),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.value {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        // Enum payloads in the schema are scalars, which serde_json reads
        // strictly already.
        self.value
            .deserialize_enum(name, variants, visitor)
            .map_err(de::Error::custom)
    }

    /// A name, such as an internally tagged enum's tag: a string only.
    /// Serde would take a number as the variant's index (`"type": 0` for
    /// the first kind of event).
    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.value {
            Value::String(name) => visitor.visit_str(name),
            other => Err(invalid_type(other, &visitor)),
        }
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct newtype_struct seq tuple tuple_struct
        map ignored_any
    }
}

/// The name [`tagged`] gives `deserialize_struct`: to [`Strict`], read the
/// object with its tag (the one field named) first.
pub const TAGGED: &str = "$entitle::tagged";

/// An internally tagged enum (`#[serde(tag = "...")]`) that [`tagged`]
/// reads without serde's buffering: each variant a struct.
pub trait Tagged<'de>: Sized {
    /// The tag's field name.
    const TAG: &'static str;
    /// What serde's derive says it expects: `internally tagged enum Name`.
    const EXPECTING: &'static str;
    /// The variants' names, as the tag spells them.
    const VARIANTS: &'static [&'static str];
    /// Reads the variant the tag names (one of [`Tagged::VARIANTS`]) from
    /// the rest of the object: the fields after the tag. Matched by name,
    /// so a variant is never read as another whatever the list's order
    /// (which is the order serde's unknown-variant message names them in);
    /// a listed name no arm reads is refused as an unknown variant.
    fn variant<A: MapAccess<'de>>(name: &'static str, rest: A) -> Result<Self, A::Error>;
}

/// Reads `T` as serde's derive reads an internally tagged enum (the tag a
/// string naming a variant, its other fields the variant's), but reads the
/// variant's fields straight from the deserializer instead of from a
/// buffered copy, so no second reader of every type inside is made, and
/// [`Strict`] keeps the path of a field that fails. It needs the tag first:
/// [`Strict`] gives it first (see [`TAGGED`]); a deserializer that does
/// not, and whose object does not start with the tag, is refused as if the
/// tag were missing. Only objects are read: serde's derive also reads a
/// positional array, which the strict reader refuses everywhere.
pub fn tagged<'de, D: Deserializer<'de>, T: Tagged<'de>>(deserializer: D) -> Result<T, D::Error> {
    deserializer.deserialize_struct(TAGGED, &[T::TAG], TaggedVisitor(PhantomData))
}

struct TaggedVisitor<T>(PhantomData<fn() -> T>);

impl<'de, T: Tagged<'de>> Visitor<'de> for TaggedVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(T::EXPECTING)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        if map.next_key_seed(Name::<true>(&[T::TAG]))? != Some(0) {
            return Err(de::Error::missing_field(T::TAG));
        }
        let index = map.next_value_seed(Name::<false>(T::VARIANTS))?;
        // `Name` gives only an index of the list it was given.
        let name = T::VARIANTS
            .get(index)
            .ok_or_else(|| de::Error::missing_field(T::TAG))?;
        T::variant(name, map)
    }
}

/// Reads a name as one of `names`, giving its index: a key (`KEY`; any
/// other name gives `names.len()`) or a variant's tag (any other name is
/// an unknown variant, in serde's words).
struct Name<const KEY: bool>(&'static [&'static str]);

impl<'de, const KEY: bool> DeserializeSeed<'de> for Name<KEY> {
    type Value = usize;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<usize, D::Error> {
        deserializer.deserialize_identifier(self)
    }
}

impl<const KEY: bool> Visitor<'_> for Name<KEY> {
    type Value = usize;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if KEY {
            "field identifier"
        } else {
            "variant identifier"
        })
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<usize, E> {
        match self.0.iter().position(|known| *known == name) {
            Some(index) => Ok(index),
            None if KEY => Ok(self.0.len()),
            None => Err(de::Error::unknown_variant(name, self.0)),
        }
    }
}

/// An error with `message`, out of line; see [`invalid_type`].
#[inline(never)]
fn failure<E: de::Error>(message: &'static str) -> E {
    de::Error::custom(message)
}

/// Serde's "invalid type" error for `value` where `expected` was.
/// Out of line: the same for every type read, and inlined it would be
/// copied into each.
#[inline(never)]
pub(crate) fn invalid_type<E: de::Error>(value: &Value, expected: &dyn de::Expected) -> E {
    de::Error::invalid_type(unexpected(value), expected)
}

fn unexpected(value: &Value) -> de::Unexpected<'_> {
    match value {
        Value::Null => de::Unexpected::Unit,
        Value::Bool(b) => de::Unexpected::Bool(*b),
        Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
            (Some(u), _, _) => de::Unexpected::Unsigned(u),
            (_, Some(i), _) => de::Unexpected::Signed(i),
            (_, _, Some(f)) => de::Unexpected::Float(f),
            _ => de::Unexpected::Other("number"),
        },
        Value::String(s) => de::Unexpected::Str(s),
        Value::Array(_) => de::Unexpected::Seq,
        Value::Object(_) => de::Unexpected::Map,
    }
}

struct Items<'de, 'p, E> {
    reader: Strict<'de, 'p, E>,
    iter: std::slice::Iter<'de, Value>,
    index: usize,
}

impl<'de, 'p, E> Items<'de, 'p, E> {
    fn new(reader: Strict<'de, 'p, E>, items: &'de [Value]) -> Self {
        Items {
            reader,
            iter: items.iter(),
            index: 0,
        }
    }
}

impl<'de, E: de::Error> SeqAccess<'de> for Items<'de, '_, E> {
    type Error = E;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Self::Error> {
        let Some(value) = self.iter.next() else {
            return Ok(None);
        };
        enter(self.reader.trail, Step::Index(self.index));
        self.index += 1;
        let read = seed.deserialize(self.reader.at(value))?;
        leave(self.reader.trail);
        Ok(Some(read))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

struct Entries<'de, 'p, E> {
    reader: Strict<'de, 'p, E>,
    iter: serde_json::map::Iter<'de>,
    entry: Option<(&'de str, &'de Value)>,
    /// An entry given before the others, and then left out of them.
    first: Option<(&'de String, &'de Value)>,
    skip: Option<&'de String>,
}

impl<'de, 'p, E> Entries<'de, 'p, E> {
    fn new(reader: Strict<'de, 'p, E>, map: &'de Map<String, Value>) -> Self {
        Entries::tag_first(reader, map, None)
    }

    /// The entries of `map`, `first` (one of them) before the others.
    fn tag_first(
        reader: Strict<'de, 'p, E>,
        map: &'de Map<String, Value>,
        first: Option<(&'de String, &'de Value)>,
    ) -> Self {
        Entries {
            reader,
            iter: map.iter(),
            entry: None,
            first,
            skip: first.map(|(key, _)| key),
        }
    }

    fn next_entry(&mut self) -> Option<(&'de String, &'de Value)> {
        if let Some(first) = self.first.take() {
            return Some(first);
        }
        let skip = self.skip;
        self.iter.find(|(key, _)| Some(*key) != skip)
    }
}

impl<'de, E: de::Error> MapAccess<'de> for Entries<'de, '_, E> {
    type Error = E;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        match self.next_entry() {
            Some((key, value)) => {
                self.entry = Some((key.as_str(), value));
                // An unknown or duplicate field fails on its key: name it.
                enter(self.reader.trail, Step::Key(key.as_str()));
                let deserializer: de::value::StrDeserializer<'_, Self::Error> =
                    key.as_str().into_deserializer();
                let read = seed.deserialize(deserializer)?;
                leave(self.reader.trail);
                Ok(Some(read))
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        let Some((key, value)) = self.entry.take() else {
            return Err(failure("a map value was asked for before its key"));
        };
        enter(self.reader.trail, Step::Key(key));
        let read = seed.deserialize(self.reader.at(value))?;
        leave(self.reader.trail);
        Ok(read)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}
