//! An instant held as integer seconds and nanoseconds behaves exactly as
//! chrono's `DateTime<Utc>` of the same instant, which is the independent
//! reference: order, differences in whole seconds, adding seconds, the
//! round trip through chrono and the written form, leap seconds included.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use entitle_core::model::time::{Timestamp, FIRST_INSTANT, LAST_INSTANT};
use proptest::prelude::*;

/// chrono's instant for `secs` and `nanos`; a leap second when `leap` and
/// the second is a minute's last.
fn reference(secs: i64, nanos: u32, leap: bool) -> DateTime<Utc> {
    let secs = if leap {
        secs - secs.rem_euclid(60) + 59
    } else {
        secs
    };
    let nanos = if leap { nanos + 1_000_000_000 } else { nanos };
    DateTime::from_timestamp(secs, nanos).unwrap()
}

fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    let secs = prop_oneof![
        FIRST_INSTANT..=LAST_INSTANT,
        1_700_000_000i64..1_900_000_000,
        (FIRST_INSTANT + 59)..(FIRST_INSTANT + 200),
        (LAST_INSTANT - 200)..(LAST_INSTANT - 59),
    ];
    let nanos = prop_oneof![Just(0u32), Just(999_999_999u32), 0u32..1_000_000_000];
    (secs, nanos, proptest::bool::weighted(0.1))
        .prop_map(|(s, n, leap)| reference(s, n, leap))
        .prop_filter("in range", |t| {
            (FIRST_INSTANT..=LAST_INSTANT).contains(&t.timestamp())
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn integer_instants_agree_with_chrono(
        a in instant(),
        b in instant(),
        step in prop_oneof![-400_000i64..400_000, -(LAST_INSTANT - FIRST_INSTANT)..=(LAST_INSTANT - FIRST_INSTANT)],
    ) {
        let (ta, tb) = (Timestamp::from_utc(a).unwrap(), Timestamp::from_utc(b).unwrap());
        prop_assert_eq!(ta.utc(), a);
        prop_assert_eq!(ta.cmp(&tb), a.cmp(&b));
        prop_assert_eq!(ta == tb, a == b);
        prop_assert_eq!(ta.seconds_since(tb), (a - b).num_seconds());
        prop_assert_eq!(ta.unix(), a.timestamp());
        let added = a
            .checked_add_signed(TimeDelta::try_seconds(step).unwrap())
            .and_then(Timestamp::from_utc);
        prop_assert_eq!(ta.plus_seconds(step), added);
        let written = if a.timestamp_subsec_nanos() == 0 {
            a.to_rfc3339_opts(SecondsFormat::Secs, true)
        } else {
            a.to_rfc3339_opts(SecondsFormat::AutoSi, true)
        };
        prop_assert_eq!(ta.to_string(), written.clone());
        prop_assert_eq!(Timestamp::parse(&written), Some(ta));
        let (secs, nanos) = ta.parts();
        let expect_parts = Timestamp::from_parts(secs, nanos);
        if a.timestamp_subsec_nanos() < 1_000_000_000 {
            prop_assert_eq!(expect_parts, Some(ta));
        } else {
            // Records carry no leap second.
            prop_assert_eq!(expect_parts, None);
        }
    }
}

#[test]
fn the_ends_of_the_range_and_a_leap_second() {
    assert_eq!(Timestamp::first().to_string(), "0000-01-01T00:00:00Z");
    assert_eq!(
        Timestamp::from_unix(LAST_INSTANT).unwrap().to_string(),
        "9999-12-31T23:59:59Z"
    );
    assert_eq!(Timestamp::from_unix(LAST_INSTANT + 1), None);
    assert_eq!(Timestamp::from_unix(FIRST_INSTANT - 1), None);
    assert_eq!(Timestamp::from_parts(0, 1_000_000_000), None);
    let leap = Timestamp::parse("2016-12-31T23:59:60.5Z").unwrap();
    let before = Timestamp::parse("2016-12-31T23:59:59.9Z").unwrap();
    let after = Timestamp::parse("2017-01-01T00:00:00Z").unwrap();
    assert!(before < leap && leap < after);
    assert_eq!(leap.to_string(), "2016-12-31T23:59:60.500Z");
}
