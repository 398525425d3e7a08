//! The writer against serde_json on every kind of value serde has.
#![allow(clippy::unwrap_used)]
use super::*;
use std::collections::BTreeMap;

fn to_string<T: Serialize + ?Sized>(v: &T, capacity: usize) -> Option<String> {
    let mut out = String::with_capacity(capacity);
    value(&mut out, v).ok()?;
    Some(out)
}

#[derive(serde::Serialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
enum Adjacent {
    Plain,
    Named(String),
}

#[derive(serde::Serialize)]
#[serde(untagged)]
enum Untagged {
    Number(u64),
    Adjacent(Adjacent),
}

#[derive(serde::Serialize)]
enum External {
    Unit,
    Newtype(i32),
    Tuple(u8, bool),
    Struct { a: Option<u32>, b: f64 },
}

#[derive(serde::Serialize)]
struct All {
    text: &'static str,
    chars: Vec<char>,
    numbers: (u64, i64, i8, u16, u128, i128, f32),
    unit: (),
    none: Option<u8>,
    map: BTreeMap<u32, Vec<External>>,
    keys: BTreeMap<char, Untagged>,
    bytes: serde_bytes_like::Bytes,
    shown: Shown,
}

struct Shown;

impl Serialize for Shown {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("a\"{}\u{1}é{}\n", 12, "\\"))
    }
}

mod serde_bytes_like {
    pub struct Bytes(pub Vec<u8>);
    impl serde::Serialize for Bytes {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_bytes(&self.0)
        }
    }
}

#[test]
fn writes_what_serde_json_writes() {
    let value = All {
        text: "plain \"quoted\" \\ \u{7f} \u{1f} tab\t é ☃ \u{2028}",
        chars: vec!['a', '"', '\u{0}', 'é'],
        numbers: (u64::MAX, i64::MIN, -8, 0, u128::MAX, i128::MIN, 1.5),
        unit: (),
        none: None,
        map: BTreeMap::from([
            (0, vec![]),
            (
                42,
                vec![
                    External::Unit,
                    External::Newtype(-1),
                    External::Tuple(7, true),
                    External::Struct {
                        a: Some(3),
                        b: f64::NAN,
                    },
                    External::Struct { a: None, b: 0.1 },
                ],
            ),
        ]),
        keys: BTreeMap::from([
            ('k', Untagged::Number(9)),
            ('"', Untagged::Adjacent(Adjacent::Plain)),
            ('\n', Untagged::Adjacent(Adjacent::Named("x\u{8}".into()))),
        ]),
        bytes: serde_bytes_like::Bytes(vec![0, 1, 255]),
        shown: Shown,
    };
    let expected = serde_json::to_string(&value).unwrap();
    assert_eq!(to_string(&value, 0).unwrap(), expected);
    for n in [0u64, 1, 9, 10, 99, 100, 12_345, u64::MAX] {
        assert_eq!(to_string(&n, 0).unwrap(), n.to_string());
    }
    for n in [0i64, -1, -10, i64::MIN, i64::MAX] {
        assert_eq!(to_string(&n, 0).unwrap(), n.to_string());
    }
}

/// A map with keys of any type, as serde writes one.
struct Pairs<K>(Vec<K>);

impl<K: Serialize> Serialize for Pairs<K> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|k| (k, 0u8)))
    }
}

#[test]
fn writes_keys_as_serde_json_does_or_declines_those_it_refuses() {
    fn same<K: Serialize>(keys: Vec<K>) {
        let map = Pairs(keys);
        assert_eq!(to_string(&map, 0), serde_json::to_string(&map).ok());
    }
    same(vec!["a", "b\"c", ""]);
    same(vec!['x', '\n']);
    same(vec![0u64, u64::MAX]);
    same(vec![-1i8, 7]);
    same(vec![true, false]);
    same(vec![1.5f64, -0.0]);
    same(vec![f64::NAN]);
    same(vec![vec![1u8]]);
    same(vec![None, Some(1u8)]);
    same(vec![()]);
    same(Vec::<u8>::new());
}

#[test]
fn plain_is_exactly_what_needs_no_escape() {
    let naive = |t: &str| !t.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\');
    for len in 0..20 {
        for at in 0..len {
            for byte in (0u8..=0x7f).chain([0xc3]) {
                let mut text = vec![b'x'; len];
                if let Some(slot) = text.get_mut(at) {
                    *slot = byte;
                }
                let text = match std::str::from_utf8(&text) {
                    Ok(text) => text.to_string(),
                    Err(_) => "é".repeat(len),
                };
                assert_eq!(plain(&text), naive(&text), "{text:?}");
            }
        }
    }
    for text in ["", "é☃\u{2028}", "\u{7f}", "ab\u{1f}", "sha256:00ff", "\\"] {
        assert_eq!(plain(text), naive(text), "{text:?}");
    }
}
