//! The fast path of the JSON entry's commonest request: a `check` against a
//! preloaded bundle, of a license loaded into it and named by id, for a
//! feature or for a metric with an amount, with a usage and an instant.
//!
//! The request is read straight into its types in one pass (no value tree,
//! no JSON path), the rules decide as on the general path, and the envelope
//! is written into one buffer. This path answers only requests that read
//! without a single problem: whenever it meets anything else (an error of
//! any kind, a route, an inline or signed license, a field it does not
//! know, a duplicate key...) it answers nothing and the general
//! path, which reports every problem with its path, answers instead. So
//! every refusal is the general path's, byte for byte, and so is every
//! answer (a property test compares both on random requests).

mod answer;
mod compiled;
mod write;

pub(super) use compiled::LicenseChecks;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::OnceLock;

use chrono::{NaiveDate, NaiveTime};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::envelope::failure;
use super::op::Op;
use super::LoadedBundle;
use crate::compiled::check::CheckKind;
use crate::compiled::record::CompactAsk;
use crate::entitlement::check::{check_at, Ask, CheckAnswer, Origin};
use crate::model::bundle::FeatureKind;
use crate::model::ids::FeatureId;
use crate::model::license::{License, MetricUsage, Reading, Usage};
use crate::model::time::Timestamp;
use crate::reading::bundle::BundleMeta;
use crate::reading::json::MAX_REQUEST_BYTES;

/// Answers a preloaded `check` request when it reads without a problem;
/// `None` sends it to the general path.
#[inline]
pub(super) fn check(loaded: &LoadedBundle, request: &[u8]) -> Option<String> {
    if request.len() > MAX_REQUEST_BYTES {
        return None;
    }
    let text = std::str::from_utf8(request).ok()?;
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let read = deserializer.deserialize_map(RequestVisitor).ok()?;
    deserializer.end().ok()?;
    let Request {
        op,
        license,
        usage,
        now,
        feature,
        metric,
        amount,
    } = read;
    if op?.as_ref() != Op::Check.name() {
        return None;
    }
    let license = find_license(loaded, &license?)?;
    let now = timestamp(&now?)?;
    let bundle = &loaded.bundle;
    let mut usage = usage.unwrap_or_default();
    let mut recorded = false;
    for (metric, counted) in &usage.metrics {
        let metered = bundle
            .features
            .get(metric)
            .is_some_and(|f| f.kind == FeatureKind::Metered);
        if !metered {
            return None;
        }
        recorded |= counted.period_start.is_some();
        // Earlier readings in order, none after `now`.
        let mut previous = None;
        for reading in &counted.history {
            if previous.is_some_and(|before| reading.at <= before) || reading.at > now {
                return None;
            }
            previous = Some(reading.at);
        }
    }
    let ask = match (feature, metric, amount) {
        (Some(feature), None, None) => {
            let feature = feature_id(&feature)?;
            if !bundle.features.contains_key(&feature) {
                return None;
            }
            Ask::Feature(feature)
        }
        (None, Some(metric), Some(amount)) => {
            let metric = feature_id(&metric)?;
            let metered = bundle
                .features
                .get(&metric)
                .is_some_and(|f| f.kind == FeatureKind::Metered);
            if !metered {
                return None;
            }
            Ask::Consume { metric, amount }
        }
        _ => return None,
    };
    if let Some(answer) = compiled_answer(loaded, license, &usage, &ask, now) {
        return Some(answer);
    }
    if recorded {
        // Counts recorded in a past period count as nothing now.
        usage = crate::metering::meter::current(bundle, license, usage, now);
    }
    let meta = Some(&loaded.meta);
    let answer = match check_at(bundle, license, &usage, &ask, now, origin()) {
        Ok(answer) => answer,
        Err(error) => return Some(failure(vec![error], meta)),
    };
    Some(written(&answer, &loaded.meta))
}

/// The answer through the license's compiled check of the feature: the
/// same answer as the rules' (a check reads only the checked metric's
/// count, and the compiled check decides exactly as they do, which
/// `core/tests/compact_props.rs` and the corpus hold it to), without
/// deciding the documents again. `None` when the compiled check declines;
/// the rules then answer, errors included.
#[inline]
fn compiled_answer(
    loaded: &LoadedBundle,
    license: &License,
    usage: &Usage,
    ask: &Ask,
    now: Timestamp,
) -> Option<String> {
    let feature = ask.feature();
    let checks = loaded.compiled.get(&license.license)?;
    let compiled = checks.get(&loaded.bundle, license, feature)?;
    let counted = usage.metrics.get(feature);
    let compact = CompactAsk {
        amount: ask.amount(),
        used: counted.map_or(0, |c| c.used),
        soft_exceeded_at: counted.and_then(|c| c.soft_exceeded_at),
        period_start: counted.and_then(|c| c.period_start),
        now,
    };
    let kind = match ask {
        Ask::Feature(_) => CheckKind::Feature,
        Ask::Consume { .. } => CheckKind::Consume,
    };
    let answer = compiled.answer(kind, &compact).ok()?;
    Some(written(&answer, &loaded.meta))
}

/// The success envelope of a check's answer, the bytes the general path
/// writes for it, written into one buffer.
#[inline]
pub(super) fn written(answer: &CheckAnswer, meta: &BundleMeta) -> String {
    // The general writer answers whatever this one declines to write.
    answer::envelope(answer, meta)
        .unwrap_or_else(|| super::envelope::success(Op::Check, answer, Some(meta)))
}

/// Where a `check` request's inputs sit, built once: `$.now`, `$.amount`, `$.usage`.
#[inline]
fn origin() -> &'static Origin {
    static ORIGIN: OnceLock<Origin> = OnceLock::new();
    ORIGIN.get_or_init(Origin::request)
}

/// The loaded license of that id, found as the general path finds it.
#[inline]
fn find_license<'a>(loaded: &'a LoadedBundle, id: &str) -> Option<&'a License> {
    loaded.licenses.get(id)
}

/// A feature id, read as a document's is (so only a valid one).
#[inline]
fn feature_id(text: &str) -> Option<FeatureId> {
    FeatureId::deserialize(de::value::BorrowedStrDeserializer::<de::value::Error>::new(
        text,
    ))
    .ok()
}

/// An instant as [`Timestamp::parse`] reads it; the form answers and most
/// requests use, `YYYY-MM-DDTHH:MM:SSZ`, without chrono's general parser.
#[inline]
pub(crate) fn timestamp(text: &str) -> Option<Timestamp> {
    plain_utc(text).or_else(|| Timestamp::parse(text))
}

/// `YYYY-MM-DDTHH:MM:SSZ` exactly, with a date and time that exist and no
/// leap second; `None` for anything else, which the general parser reads.
#[inline]
fn plain_utc(text: &str) -> Option<Timestamp> {
    let b: &[u8; 20] = text.as_bytes().try_into().ok()?;
    let [y0, y1, y2, y3, b'-', mo0, mo1, b'-', d0, d1, b'T', h0, h1, b':', mi0, mi1, b':', s0, s1, b'Z'] =
        *b
    else {
        return None;
    };
    let digit = |c: u8| c.is_ascii_digit().then(|| u32::from(c - b'0'));
    let two = |a: u8, b: u8| Some(digit(a)? * 10 + digit(b)?);
    let year = two(y0, y1)? * 100 + two(y2, y3)?;
    let date = NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, two(mo0, mo1)?, two(d0, d1)?)?;
    let time = NaiveTime::from_hms_opt(two(h0, h1)?, two(mi0, mi1)?, two(s0, s1)?)?;
    Timestamp::from_utc(date.and_time(time).and_utc())
}

/// A `check` request as this path reads it: every field it knows, each at
/// most once; a field it does not know fails the reading.
#[derive(Default)]
struct Request<'de> {
    op: Option<Cow<'de, str>>,
    license: Option<Cow<'de, str>>,
    usage: Option<Usage>,
    now: Option<Cow<'de, str>>,
    feature: Option<Cow<'de, str>>,
    metric: Option<Cow<'de, str>>,
    amount: Option<u64>,
}

/// Any failure: the general path reads the request again and says what it is.
#[inline]
fn declined<E: de::Error>() -> E {
    E::custom("")
}

/// Puts a field's value in its slot, failing when the field came before.
#[inline]
fn once<T, E: de::Error>(slot: &mut Option<T>, value: T) -> Result<(), E> {
    match slot.replace(value) {
        Some(_) => Err(declined()),
        None => Ok(()),
    }
}

/// The fields this path reads, in the request and in its usage.
enum Field {
    Op,
    License,
    Usage,
    Now,
    Feature,
    Metric,
    Amount,
    Metrics,
    ActiveSeats,
    Used,
    SoftExceededAt,
    PeriodStart,
    History,
    At,
}

impl Field {
    #[inline]
    fn of(name: &str) -> Option<Field> {
        Some(match name {
            "op" => Field::Op,
            "license" => Field::License,
            "usage" => Field::Usage,
            "now" => Field::Now,
            "feature" => Field::Feature,
            "metric" => Field::Metric,
            "amount" => Field::Amount,
            "metrics" => Field::Metrics,
            "active_seats" => Field::ActiveSeats,
            "used" => Field::Used,
            "soft_exceeded_at" => Field::SoftExceededAt,
            "period_start" => Field::PeriodStart,
            "history" => Field::History,
            "at" => Field::At,
            _ => return None,
        })
    }
}

/// Reads an object key as a [`Field`], without copying it.
struct FieldKey;

impl<'de> DeserializeSeed<'de> for FieldKey {
    type Value = Field;

    #[inline]
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Field, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl Visitor<'_> for FieldKey {
    type Value = Field;

    #[inline]
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    #[inline]
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Field, E> {
        Field::of(v).ok_or_else(declined)
    }
}

/// Reads a string, borrowed from the request unless it holds escapes.
struct Text;

impl<'de> DeserializeSeed<'de> for Text {
    type Value = Cow<'de, str>;

    #[inline]
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Text {
    type Value = Cow<'de, str>;

    #[inline]
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    #[inline]
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }

    #[inline]
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_string()))
    }
}

/// Reads an instant, or `null` for none.
struct Instant;

impl<'de> DeserializeSeed<'de> for Instant {
    type Value = Option<Timestamp>;

    #[inline]
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for Instant {
    type Value = Option<Timestamp>;

    #[inline]
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an instant or null")
    }

    #[inline]
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    #[inline]
    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        let text = Text.deserialize(deserializer)?;
        timestamp(&text).map(Some).ok_or_else(declined)
    }
}

/// Reads a metric's earlier readings: objects of `at` and `used`.
struct Readings;

impl<'de> DeserializeSeed<'de> for Readings {
    type Value = Vec<Reading>;

    #[inline]
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Readings {
    type Value = Vec<Reading>;

    #[inline]
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of readings")
    }

    #[inline]
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut readings = Vec::new();
        while let Some(reading) = seq.next_element_seed(ReadingSeed)? {
            readings.push(reading);
        }
        Ok(readings)
    }
}

/// Reads one earlier reading.
struct ReadingSeed;

impl<'de> DeserializeSeed<'de> for ReadingSeed {
    type Value = Reading;

    #[inline]
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Reading, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ReadingSeed {
    type Value = Reading;

    #[inline]
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a reading")
    }

    #[inline]
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Reading, A::Error> {
        let (mut at, mut used) = (None, None);
        while let Some(field) = map.next_key_seed(FieldKey)? {
            match field {
                Field::At => once(&mut at, map.next_value_seed(Text)?)?,
                Field::Used => once(&mut used, map.next_value::<u64>()?)?,
                _ => return Err(declined()),
            }
        }
        Ok(Reading {
            at: at.and_then(|at| timestamp(&at)).ok_or_else(declined)?,
            used: used.ok_or_else(declined)?,
        })
    }
}

struct RequestVisitor;

impl<'de> Visitor<'de> for RequestVisitor {
    type Value = Request<'de>;

    #[inline]
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a check request")
    }

    #[inline]
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut request = Request::default();
        while let Some(field) = map.next_key_seed(FieldKey)? {
            let r = &mut request;
            match field {
                Field::Op => once(&mut r.op, map.next_value_seed(Text)?)?,
                Field::License => once(&mut r.license, map.next_value_seed(Text)?)?,
                Field::Now => once(&mut r.now, map.next_value_seed(Text)?)?,
                Field::Feature => once(&mut r.feature, map.next_value_seed(Text)?)?,
                Field::Metric => once(&mut r.metric, map.next_value_seed(Text)?)?,
                Field::Amount => once(&mut r.amount, map.next_value::<u64>()?)?,
                Field::Usage => once(&mut r.usage, map.next_value_seed(UsageSeed)?)?,
                _ => return Err(declined()),
            }
        }
        Ok(request)
    }
}

/// Reads a usage document: an object with `metrics` and `active_seats`.
struct UsageSeed;

impl<'de> DeserializeSeed<'de> for UsageSeed {
    type Value = Usage;

    #[inline]
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Usage, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for UsageSeed {
    type Value = Usage;

    #[inline]
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a usage document")
    }

    #[inline]
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Usage, A::Error> {
        let (mut metrics, mut seats) = (None, None);
        while let Some(field) = map.next_key_seed(FieldKey)? {
            match field {
                Field::Metrics => once(&mut metrics, map.next_value_seed(MetricsSeed)?)?,
                Field::ActiveSeats => once(&mut seats, map.next_value::<u64>()?)?,
                _ => return Err(declined()),
            }
        }
        Ok(Usage {
            metrics: metrics.unwrap_or_default(),
            active_seats: seats.unwrap_or_default(),
        })
    }
}

/// Reads a usage's counts per metric, refusing a metric named twice.
struct MetricsSeed;

impl<'de> DeserializeSeed<'de> for MetricsSeed {
    type Value = BTreeMap<FeatureId, MetricUsage>;

    #[inline]
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for MetricsSeed {
    type Value = BTreeMap<FeatureId, MetricUsage>;

    #[inline]
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("counts per metric")
    }

    #[inline]
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut metrics = BTreeMap::new();
        while let Some(metric) = map.next_key::<FeatureId>()? {
            if metrics.contains_key(&metric) {
                return Err(declined());
            }
            let counted = map.next_value_seed(CountSeed)?;
            metrics.insert(metric, counted);
        }
        Ok(metrics)
    }
}

/// Reads one metric's count: `used`, and the instants a check reads.
struct CountSeed;

impl<'de> DeserializeSeed<'de> for CountSeed {
    type Value = MetricUsage;

    #[inline]
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<MetricUsage, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for CountSeed {
    type Value = MetricUsage;

    #[inline]
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a metric's count")
    }

    #[inline]
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<MetricUsage, A::Error> {
        let (mut used, mut soft, mut start, mut history) = (None, None, None, None);
        while let Some(field) = map.next_key_seed(FieldKey)? {
            match field {
                Field::Used => once(&mut used, map.next_value::<u64>()?)?,
                Field::SoftExceededAt => once(&mut soft, map.next_value_seed(Instant)?)?,
                Field::PeriodStart => once(&mut start, map.next_value_seed(Instant)?)?,
                Field::History => once(&mut history, map.next_value_seed(Readings)?)?,
                _ => return Err(declined()),
            }
        }
        Ok(MetricUsage {
            used: used.ok_or_else(declined)?,
            soft_exceeded_at: soft.flatten(),
            period_start: start.flatten(),
            history: history.unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn plain_instants_read_as_chrono_reads_them() {
        for text in [
            "2026-11-22T10:00:00Z",
            "0000-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
            "2024-02-29T23:59:59Z",
        ] {
            assert_eq!(plain_utc(text), Timestamp::parse(text), "{text}");
            assert!(plain_utc(text).is_some(), "{text}");
        }
        // Left to chrono: other forms, and what does not exist.
        for text in [
            "2026-11-22t10:00:00Z",
            "2026-11-22T10:00:00z",
            "2026-11-22 10:00:00Z",
            "2026-11-22T10:00:60Z",
            "2026-02-29T10:00:00Z",
            "2026-11-22T24:00:00Z",
            "2026-13-22T10:00:00Z",
            "2026-11-22T10:00:00+00:00",
            "+026-11-22T10:00:00Z",
            "2026-11-22T10:00:0xZ",
        ] {
            assert_eq!(plain_utc(text), None, "{text}");
        }
        assert_eq!(
            timestamp("2026-11-22T11:00:00+01:00"),
            plain_utc("2026-11-22T10:00:00Z")
        );
    }

    #[test]
    fn whole_seconds_are_written_as_chrono_writes_them() {
        use crate::model::time::{FIRST_INSTANT, LAST_INSTANT};
        let mut t = FIRST_INSTANT;
        let mut seen = 0;
        while t <= LAST_INSTANT {
            for at in [t, LAST_INSTANT - (t - FIRST_INSTANT)] {
                let instant = Timestamp::from_unix(at).unwrap();
                let chrono = instant
                    .utc()
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
                assert_eq!(instant.to_string(), chrono);
                assert_eq!(
                    serde_json::to_string(&instant).unwrap(),
                    format!("\"{chrono}\"")
                );
                seen += 1;
            }
            t += 86_400 * 41 + 3_607;
        }
        assert!(seen > 150_000, "{seen}");
        // Days either side of every kind of leap year and of the range's ends.
        for text in [
            "0000-01-01T00:00:00Z",
            "0000-02-29T12:00:00Z",
            "0000-03-01T00:00:00Z",
            "0000-12-31T23:59:59Z",
            "1600-02-29T00:00:00Z",
            "1700-02-28T23:59:59Z",
            "1700-03-01T00:00:00Z",
            "1900-03-01T00:00:00Z",
            "1969-12-31T23:59:59Z",
            "1970-01-01T00:00:00Z",
            "2000-02-29T00:00:00Z",
            "2100-03-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
        ] {
            assert_eq!(timestamp(text).unwrap().to_string(), text);
            assert_eq!(Timestamp::parse(text).unwrap().to_string(), text);
        }
        // With a fraction, chrono writes it.
        let fraction = timestamp("2026-11-22T10:00:00.250Z").unwrap();
        assert_eq!(fraction.to_string(), "2026-11-22T10:00:00.250Z");
    }
}
