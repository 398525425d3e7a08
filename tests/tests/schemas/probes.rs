//! The leaf strings: for each type read from a string by hand, hand-picked
//! edge cases and seeded mutations of valid values, each read by the
//! engine and validated by ajv against the type's `$defs` entry; the two
//! must agree, but for the differences [`KNOWN`] lists with their reason.

use entitle_core::billing::credit::Percent;
use entitle_core::error::JsonPath;
use entitle_core::model::bundle::GraceAllowance;
use entitle_core::model::ids::FeatureId;
use entitle_core::model::money::{Currency, Price};
use entitle_core::model::time::{Date, Timestamp, Zone};
use entitle_core::support::calendar::TimeOfDay;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use super::support::{ajv, Check};

/// Whether the engine's reader takes `value` as a `T`.
fn reads<T: DeserializeOwned>(value: &Value) -> bool {
    entitle_core::reading::json::typed::<T>(value.clone(), &JsonPath::root()).is_ok()
}

/// A grace percentage: read, and above zero as the bundle's validation
/// requires.
fn grace(value: &Value) -> bool {
    let wrapped = json!({ "percent": value });
    match entitle_core::reading::json::typed::<GraceAllowance>(wrapped, &JsonPath::root()) {
        Ok(GraceAllowance::Percent(p)) => p.is_sign_positive() && !p.is_zero(),
        _ => false,
    }
}

/// One leaf type: its `$defs` name, the engine's reader, valid seeds to
/// mutate, edge cases, and the characters mutations draw from.
struct Leaf {
    def: &'static str,
    engine: fn(&Value) -> bool,
    seeds: &'static [&'static str],
    edges: &'static [&'static str],
    alphabet: &'static str,
}

const LEAVES: &[Leaf] = &[
    Leaf {
        def: "Timestamp",
        engine: reads::<Timestamp>,
        seeds: &[
            "2026-01-31T09:00:00Z",
            "2024-02-29T23:59:59.123456789+05:30",
            "0001-01-01T00:00:00-00:00",
            "9999-12-31T23:59:59Z",
        ],
        edges: &[
            "2026-01-31t09:00:00z",
            "2026-01-31 09:00:00Z",
            "2026-01-31T09:00:00",
            "2026-01-31T09:00Z",
            "2026-02-29T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-01-31T24:00:00Z",
            "2026-01-31T23:59:60Z",
            "2026-06-30T23:59:60Z",
            "2026-01-31T09:00:00+0100",
            "2026-01-31T09:00:00+01",
            "2026-01-31T09:00:00+24:00",
            "2026-01-31T09:00:00+23:59",
            "2026-01-31T09:00:00.Z",
            "+2026-01-31T09:00:00Z",
            "26-01-31T09:00:00Z",
            "2026-1-31T09:00:00Z",
            " 2026-01-31T09:00:00Z",
            "2026-01-31T09:00:00Z ",
            "",
            "9999-12-31T23:00:00-02:00",
            "0000-01-01T00:30:00+01:00",
        ],
        alphabet: "0123456789-:Tt zZ+.,_",
    },
    Leaf {
        def: "Date",
        engine: reads::<Date>,
        seeds: &["2026-01-31", "2024-02-29", "0000-01-01", "9999-12-31"],
        edges: &[
            "2026-02-29",
            "2026-1-31",
            "2026-01-1",
            "+2026-01-31",
            "+999-01-31",
            "-999-01-31",
            "20260131",
            "2026-01-31T00:00:00Z",
            " 2026-1-31",
            "2026-01-31 ",
            "",
        ],
        alphabet: "0123456789-+ ",
    },
    Leaf {
        def: "TimeZone",
        engine: reads::<Zone>,
        seeds: &[
            "Europe/Berlin",
            "America/Argentina/Buenos_Aires",
            "UTC",
            "Etc/GMT+5",
        ],
        edges: &[
            "utc",
            "europe/berlin",
            "US/Eastern",
            "GMT",
            "Z",
            "+01:00",
            "Europe/Berlin ",
            "Mars/Olympus",
            "",
        ],
        alphabet: "abcdeEUTC/_+-0123 ",
    },
    Leaf {
        def: "Currency",
        engine: reads::<Currency>,
        seeds: &["USD", "JPY", "BHD", "CLF", "EUR"],
        edges: &["usd", "XAU", "XDR", "XTS", "XXX", "HRK", "US", "USDD", ""],
        alphabet: "ABCDEFGHIJKLMNOPQRSTUVWXYZabc",
    },
    Leaf {
        def: "Decimal",
        engine: reads::<Price>,
        seeds: &["0.0015", "49", "1234567890.1234567890123456789", "0"],
        edges: &[
            "-0",
            "-0.000",
            "-1",
            "+1",
            ".5",
            "5.",
            "1e3",
            "1_000",
            " 1",
            "00012.50",
            "0.0000000000000000000000000001",
            "0.00000000000000000000000000001",
            "9999999999999999999999999999",
            "79228162514264337593543950335",
            "79228162514264337593543950336",
            "1.0000000000000000000000000001",
            "0.0000000000000000000000000000000001",
            "-00000000000000000000000000000000000000",
            "000000000000000000000000000000000000001.5",
            "",
        ],
        alphabet: "0123456789.-+e_ ",
    },
    Leaf {
        def: "Percent",
        engine: reads::<Percent>,
        seeds: &["99.95", "100", "0", "12.5"],
        edges: &[
            "100.0",
            "100.01",
            "0100",
            "101",
            "-0",
            "-0.0",
            "-1",
            "1e2",
            "000000000000000000000000000000099.9",
            "12.345678901234567890123456789",
            "12.3456789012345678901234567890",
            "",
        ],
        alphabet: "0123456789.-+e",
    },
    Leaf {
        def: "TimeOfDay",
        engine: reads::<TimeOfDay>,
        seeds: &["09:00", "24:00", "00:00", "23:59"],
        edges: &["24:01", "9:00", "09:60", "25:00", "0900", "09:00:00", ""],
        alphabet: "0123456789: ",
    },
    Leaf {
        def: "FeatureId",
        engine: reads::<FeatureId>,
        seeds: &["api_calls", "a", "x.y:z-1"],
        edges: &["", "a b", "é", "a/b"],
        alphabet: "aZ09_-.:/ é",
    },
];

/// Grace percentages are read as plain decimals and must be above zero.
const GRACE: Leaf = Leaf {
    def: "GraceAllowance",
    engine: grace,
    seeds: &["10", "12.5", "0.03", "150"],
    edges: &[
        "0",
        "0.0",
        "-0",
        "-5",
        ".5",
        "5.",
        "1_000",
        "+3",
        "1e2",
        " 1",
        "",
        "00.10",
        "1.0000000000000000000000000001",
        "1.00000000000000000000000000001",
    ],
    alphabet: "0123456789._+-e ",
};

/// The significant digits of a plain decimal: its digits after any
/// leading zeros (of the whole part, and of the fraction when the whole
/// part is zero).
fn significant(text: &str) -> usize {
    let digits: String = text.chars().filter(|c| c.is_ascii_digit()).collect();
    digits.trim_start_matches('0').len()
}

/// Instants written on the first or the last day the engine reads.
pub fn at_the_ends(text: &str) -> bool {
    text.starts_with("9999-12-31") || text.starts_with("0000-01-01")
}

/// Decimals of 29 significant digits that still fit the engine's 96 bits.
fn fits_96_bits(text: &str) -> bool {
    let plain = text.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    plain && significant(text) == 29
}

/// A difference between the reader and the schema, with its reason.
struct Known {
    def: &'static str,
    applies: fn(&str) -> bool,
    #[allow(dead_code)]
    reason: &'static str,
}

/// Differences between the reader and the schema; each must be met by a
/// probe, so the list never outlives what it excuses.
const KNOWN: &[Known] = &[
    Known {
        def: "Timestamp",
        applies: at_the_ends,
        reason: "an instant written in year 9999 or 0000 whose offset carries it past them in UTC is refused by the reader (it could not be written back); a pattern cannot add an offset to a time",
    },
    Known {
        def: "Decimal",
        applies: fits_96_bits,
        reason: "a mantissa of 29 digits is taken by the reader up to 2^96-1; the schema stops at 28 significant digits",
    },
    Known {
        def: "Percent",
        applies: fits_96_bits,
        reason: "as for Decimal",
    },
    Known {
        def: "GraceAllowance",
        applies: fits_96_bits,
        reason: "as for Decimal",
    },
];

/// A small deterministic generator (xorshift), so every run probes the same strings.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n.max(1) as u64) as usize
    }
}

fn mutate(seed: &str, alphabet: &[char], rng: &mut Rng) -> String {
    let mut chars: Vec<char> = seed.chars().collect();
    for _ in 0..=rng.below(2) {
        let at = rng.below(chars.len() + 1);
        let c = alphabet[rng.below(alphabet.len())];
        match rng.below(3) {
            0 if at < chars.len() => chars[at] = c,
            1 if at < chars.len() => {
                chars.remove(at);
            }
            _ => chars.insert(at, c),
        }
    }
    chars.into_iter().collect()
}

fn probes(leaf: &Leaf, rng: &mut Rng) -> Vec<String> {
    let alphabet: Vec<char> = leaf.alphabet.chars().collect();
    let mut probes: Vec<String> = leaf
        .seeds
        .iter()
        .chain(leaf.edges)
        .map(|s| s.to_string())
        .collect();
    for i in 0..400 {
        let seed = leaf.seeds[i % leaf.seeds.len()];
        probes.push(mutate(seed, &alphabet, rng));
    }
    probes.sort();
    probes.dedup();
    probes
}

#[test]
fn leaf_types_agree_with_the_reader() {
    let mut rng = Rng(0x5eed_1eaf);
    let base = format!("{}bundle#/$defs/", entitle_core::schema::BASE);
    let mut cases = Vec::new();
    let mut checks = Vec::new();
    for leaf in LEAVES.iter().chain([&GRACE]) {
        for probe in probes(leaf, &mut rng) {
            let value = if leaf.def == "GraceAllowance" {
                json!({ "percent": probe })
            } else {
                json!(probe)
            };
            let engine = (leaf.engine)(&json!(probe));
            checks.push(Check::new(
                probe.clone(),
                format!("{base}{}", leaf.def),
                value,
            ));
            cases.push((leaf.def, probe, engine));
        }
    }
    let outcomes = ajv(&checks);
    let mut differences = Vec::new();
    let mut known_seen = vec![0usize; KNOWN.len()];
    for ((def, probe, engine), outcome) in cases.iter().zip(&outcomes) {
        if *engine == outcome.valid {
            continue;
        }
        if let Some(i) = KNOWN
            .iter()
            .position(|k| k.def == *def && (k.applies)(probe))
        {
            known_seen[i] += 1;
            continue;
        }
        differences.push(format!(
            "{def} {probe:?}: the engine {}, the schema {}",
            if *engine { "takes it" } else { "refuses it" },
            if outcome.valid {
                "takes it"
            } else {
                "refuses it"
            },
        ));
    }
    assert!(
        differences.is_empty(),
        "{} of {} probes differ:\n{}",
        differences.len(),
        cases.len(),
        differences.join("\n")
    );
    eprintln!(
        "{} probes agree; known differences met: {known_seen:?}",
        cases.len()
    );
}
