//! Money: prices as exact decimals in major units, amounts as integer minor
//! units of an ISO 4217 currency, and the one rounding rule (half-up) between them.
//!
//! Nothing here uses floating point. Prices are read from decimal strings only,
//! every product and sum is exact or refused as an overflow, and rounding to
//! the currency's minor unit happens once, where a caller asks for [`Money`].

use std::fmt;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::error::{coded, Conflict, Error, JsonPath};

mod exact;
mod iso;

pub use exact::{exact_add, exact_mul};

/// The largest minor-unit exponent the engine accepts; ISO 4217's largest is 4
/// (CLF, UYW). It keeps every `Money` representable as an exact [`Decimal`].
const MAX_EXPONENT: u32 = 4;

/// An ISO 4217 currency that has a minor unit, with that unit's exponent
/// (USD 2, JPY 0, BHD 3, CLF 4).
///
/// Codes are upper case, as the standard writes them. Fund and metal codes
/// (XAU, XDR, XTS…) have no minor unit, so no bill can be stated in them: they
/// are refused as unknown currencies. Withdrawn codes still in the ISO data
/// (HRK, SLL…) are accepted so that older bundles keep their meaning.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency {
    /// The code's place in ISO's data, whose order this keeps.
    iso: u8,
    exponent: u8,
}

impl Currency {
    /// Looks a currency up by its ISO 4217 code; `UnknownCurrency` at `path`
    /// when the code is not an ISO currency with a minor unit.
    pub fn from_code(code: &str, path: &JsonPath) -> Result<Currency, Error> {
        Currency::lookup(code).ok_or_else(|| Error::UnknownCurrency {
            path: path.clone(),
            value: code.to_string(),
        })
    }

    fn lookup(code: &str) -> Option<Currency> {
        let (iso, exponent) = iso::lookup(code)?;
        Some(Currency { iso, exponent })
    }

    /// The three-letter ISO 4217 code, e.g. `USD`.
    pub fn code(&self) -> &'static str {
        iso::code(self.iso)
    }

    /// How many decimal places the minor unit has: 2 for USD (cents), 0 for
    /// JPY, 3 for BHD (fils). Amounts are rounded to this many places.
    pub fn minor_units(&self) -> u32 {
        u32::from(self.exponent)
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Currency({})", self.code())
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Currency, D::Error> {
        struct CurrencyVisitor;

        impl Visitor<'_> for CurrencyVisitor {
            type Value = Currency;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an iso 4217 currency code as a string, e.g. \"USD\"")
            }

            fn visit_str<E: de::Error>(self, code: &str) -> Result<Currency, E> {
                Currency::lookup(code).ok_or_else(|| coded("unknown_currency", code))
            }
        }

        deserializer.deserialize_str(CurrencyVisitor)
    }
}

/// A price in major units (`"0.0015"` dollars, not cents): an exact,
/// non-negative decimal, read from a JSON string only.
///
/// JSON numbers are refused: a binary float cannot hold `0.1` exactly, and a
/// price must mean to every runtime exactly what its author wrote. The text
/// must be plain decimal notation: an optional `-`, digits, and optionally a
/// `.` followed by digits (no `+`, exponent, `_`, spaces, or bare `.5`/`5.`),
/// with at most 28 decimal places. A negative price is refused when read, so
/// every `Price` in a document is at least zero. The scale written is kept
/// (`"5.00"` echoes back as `"5.00"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Price(Decimal);

/// Why a price's text was refused.
pub(crate) enum PriceProblem {
    Invalid,
    Negative,
}

impl Price {
    /// A price of nothing.
    pub const ZERO: Price = Price(Decimal::ZERO);

    /// A price from an exact decimal; `None` when the decimal is negative.
    pub fn new(value: Decimal) -> Option<Price> {
        if value.is_sign_negative() && !value.is_zero() {
            None
        } else {
            Some(Price(value.abs()))
        }
    }

    /// Reads a price from its text: `InvalidDecimal` at `path` when the text is
    /// not plain decimal notation, `Negative` when it is below zero.
    pub fn parse(text: &str, path: &JsonPath) -> Result<Price, Error> {
        Price::read(text).map_err(|problem| match problem {
            PriceProblem::Invalid => Error::InvalidDecimal {
                path: path.clone(),
                value: text.to_string(),
            },
            PriceProblem::Negative => Error::Negative {
                path: path.clone(),
                what: String::from("price"),
                value: text.to_string(),
            },
        })
    }

    /// Reads plain decimal notation that is not negative.
    pub(crate) fn read(text: &str) -> Result<Price, PriceProblem> {
        let digits = text.strip_prefix('-').unwrap_or(text);
        let (whole, fraction) = match digits.split_once('.') {
            Some((whole, fraction)) => (whole, Some(fraction)),
            None => (digits, None),
        };
        let plain = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
        if !plain(whole) || !fraction.is_none_or(plain) {
            return Err(PriceProblem::Invalid);
        }
        let value = Decimal::from_str_exact(text).map_err(|_| PriceProblem::Invalid)?;
        Price::new(value).ok_or(PriceProblem::Negative)
    }

    /// The exact value in major units.
    pub fn value(&self) -> Decimal {
        self.0
    }
}

impl fmt::Display for Price {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl Serialize for Price {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Price {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Price, D::Error> {
        struct PriceVisitor;

        impl Visitor<'_> for PriceVisitor {
            type Value = Price;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a price as a decimal string in major units, e.g. \"0.0015\"")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<Price, E> {
                Price::read(text).map_err(|problem| match problem {
                    PriceProblem::Invalid => coded("invalid_decimal", text),
                    PriceProblem::Negative => coded(
                        "out_of_range",
                        &format!("price must not be negative, got `{text}`"),
                    ),
                })
            }
        }

        deserializer.deserialize_str(PriceVisitor)
    }
}

/// An amount of money in integer minor units of its currency: 4900 USD cents
/// is 49.00 dollars.
///
/// Serialized as `{"currency":"USD","minor":4900,"amount":"49.00"}`, where
/// `amount` is the same value as an exact decimal string with exactly the
/// currency's number of decimals (`"4900"` for JPY, `"4.900"` for BHD).
/// Arithmetic is checked: an overflow is an [`Error::Overflow`], never a wrap
/// or a panic, and amounts in different currencies never mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    /// The amount in minor units (cents for USD, yen for JPY, fils for BHD).
    pub minor: i64,
    /// The currency the amount is in.
    pub currency: Currency,
}

impl Money {
    /// Nothing, in `currency`.
    pub fn zero(currency: Currency) -> Money {
        Money { minor: 0, currency }
    }

    /// An amount already in minor units.
    pub fn from_minor(minor: i64, currency: Currency) -> Money {
        Money { minor, currency }
    }

    /// Rounds an exact amount in major units to the currency's minor unit,
    /// **half-up**: a half is rounded away from zero (0.125 USD is 0.13,
    /// −0.125 is −0.13, 0.5 JPY is 1 yen, 0.0005 BHD is 0.001), as billing
    /// systems and Lago do. `Overflow` at `path` when the result does not fit
    /// in 64-bit minor units. This is the only place amounts are rounded.
    pub fn round_half_up(
        amount: Decimal,
        currency: Currency,
        path: &JsonPath,
    ) -> Result<Money, Error> {
        let overflow = || Error::Overflow {
            path: path.clone(),
            what: format!("an amount in {currency} minor units"),
        };
        let places = currency.minor_units();
        let rounded = amount.round_dp_with_strategy(places, RoundingStrategy::MidpointAwayFromZero);
        let shift = places.checked_sub(rounded.scale()).ok_or_else(overflow)?;
        let minor = 10_i128
            .checked_pow(shift)
            .and_then(|factor| rounded.mantissa().checked_mul(factor))
            .and_then(|minor| i64::try_from(minor).ok())
            .ok_or_else(overflow)?;
        Ok(Money { minor, currency })
    }

    /// A price charged once, rounded half-up to minor units (see
    /// [`Money::round_half_up`]).
    pub fn from_price(price: Price, currency: Currency, path: &JsonPath) -> Result<Money, Error> {
        Money::round_half_up(price.value(), currency, path)
    }

    /// The exact amount in major units with exactly the currency's number of
    /// decimals: 4900 USD cents is `49.00`.
    pub fn amount(&self) -> Decimal {
        let mut amount = Decimal::from(self.minor);
        // The exponent is at most MAX_EXPONENT, far below the decimal type's
        // limit of 28, so setting the scale cannot fail.
        let _ = amount.set_scale(self.currency.minor_units());
        amount
    }

    fn same_currency(&self, other: &Money, path: &JsonPath) -> Result<(), Error> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(Error::Contradiction {
                path: path.clone(),
                detail: format!(
                    "amounts in `{}` and `{}` cannot be combined",
                    self.currency, other.currency
                ),
                code: Conflict::CurrencyMismatch,
            })
        }
    }

    fn overflow(&self, path: &JsonPath, what: &str) -> Error {
        Error::Overflow {
            path: path.clone(),
            what: format!("{what} in {}", self.currency),
        }
    }

    /// `self + other`; `Contradiction` (code `currency_mismatch`) when the
    /// currencies differ, `Overflow` when the sum does not fit. Both at `path`.
    pub fn checked_add(self, other: Money, path: &JsonPath) -> Result<Money, Error> {
        self.same_currency(&other, path)?;
        let minor = self
            .minor
            .checked_add(other.minor)
            .ok_or_else(|| self.overflow(path, "a sum"))?;
        Ok(Money { minor, ..self })
    }

    /// `self − other`; errors as for [`Money::checked_add`].
    pub fn checked_sub(self, other: Money, path: &JsonPath) -> Result<Money, Error> {
        self.same_currency(&other, path)?;
        let minor = self
            .minor
            .checked_sub(other.minor)
            .ok_or_else(|| self.overflow(path, "a difference"))?;
        Ok(Money { minor, ..self })
    }

    /// `self × factor` (e.g. a per-seat price times seats); `Overflow` at
    /// `path` when the product does not fit.
    pub fn checked_mul(self, factor: i64, path: &JsonPath) -> Result<Money, Error> {
        let minor = self
            .minor
            .checked_mul(factor)
            .ok_or_else(|| self.overflow(path, "a product"))?;
        Ok(Money { minor, ..self })
    }

    /// `−self`; `Overflow` at `path` for the one amount that has no negation.
    pub fn checked_neg(self, path: &JsonPath) -> Result<Money, Error> {
        let minor = self
            .minor
            .checked_neg()
            .ok_or_else(|| self.overflow(path, "a negation"))?;
        Ok(Money { minor, ..self })
    }

    /// The sum of `amounts`, all in `currency` (zero when empty); errors as
    /// for [`Money::checked_add`].
    pub fn sum<I: IntoIterator<Item = Money>>(
        amounts: I,
        currency: Currency,
        path: &JsonPath,
    ) -> Result<Money, Error> {
        amounts
            .into_iter()
            .try_fold(Money::zero(currency), |total, amount| {
                total.checked_add(amount, path)
            })
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount(), self.currency)
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut state = serializer.serialize_struct("Money", 3)?;
        state.serialize_field("currency", &self.currency)?;
        state.serialize_field("minor", &self.minor)?;
        state.serialize_field("amount", &self.amount().to_string())?;
        state.end()
    }
}

/// The JSON form of [`Money`] as read back: `amount` may be left out, and
/// when given must state exactly the same value as `minor`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MoneyJson {
    currency: Currency,
    minor: i64,
    #[serde(default)]
    amount: Option<String>,
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Money, D::Error> {
        let json = MoneyJson::deserialize(deserializer)?;
        let money = Money::from_minor(json.minor, json.currency);
        match json.amount {
            Some(amount) if amount != money.amount().to_string() => {
                Err(de::Error::custom(format!(
                    "`amount` `{amount}` does not state `minor` {} in {}, which is `{}`",
                    money.minor,
                    money.currency,
                    money.amount()
                )))
            }
            _ => Ok(money),
        }
    }
}

#[cfg(test)]
mod tests;
