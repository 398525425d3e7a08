//! Exact sums and products of decimals: the true value is computed in integers
//! wide enough to hold it, then written as a [`Decimal`] or refused.
//!
//! The decimal type rounds a result whose digits do not fit, and it writes
//! some exact results with another scale than its operands' (`5 + 0.00` comes
//! back as `5`, a zero product as `0`), so comparing scales cannot tell an
//! exact result from a rounded one. Here nothing is rounded: the exact value is
//! worked out first, and written with the operands' scale (the larger one for
//! a sum, their total for a product), or with as few decimals fewer as it
//! needs to fit, dropping only zeros; a value no [`Decimal`] holds exactly is
//! `None`.

use rust_decimal::Decimal;

/// The largest mantissa a [`Decimal`] holds: `2^96 − 1`.
const MAX_MANTISSA: u128 = (1 << 96) - 1;

/// The most decimals a [`Decimal`] holds.
const MAX_SCALE: u32 = 28;

/// A whole number below `2^192`, as three 64-bit limbs, most significant
/// first (so the derived order is the numeric one): wide enough for the
/// product of two mantissas, or a mantissa times `10^28`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Wide([u64; 3]);

impl Wide {
    /// `a × b`, for factors below `2^96` (mantissas and powers of ten up to
    /// `10^28`); `None` when the product would not fit in 192 bits.
    fn product(a: u128, b: u128) -> Option<Wide> {
        const LOW: u128 = u64::MAX as u128;
        let (a1, a0) = (a >> 64, a & LOW);
        let (b1, b0) = (b >> 64, b & LOW);
        let low = a0.checked_mul(b0)?;
        let cross_a = a0.checked_mul(b1)?;
        let cross_b = a1.checked_mul(b0)?;
        let middle = (low >> 64)
            .checked_add(cross_a & LOW)?
            .checked_add(cross_b & LOW)?;
        let high = a1
            .checked_mul(b1)?
            .checked_add(cross_a >> 64)?
            .checked_add(cross_b >> 64)?
            .checked_add(middle >> 64)?;
        Some(Wide([
            u64::try_from(high).ok()?,
            (middle & LOW) as u64,
            (low & LOW) as u64,
        ]))
    }

    /// `self + other`; `None` past `2^192`.
    fn checked_add(self, other: Wide) -> Option<Wide> {
        let Wide([h1, m1, l1]) = self;
        let Wide([h2, m2, l2]) = other;
        let (low, carry) = l1.overflowing_add(l2);
        let (middle, carry_a) = m1.overflowing_add(m2);
        let (middle, carry_b) = middle.overflowing_add(u64::from(carry));
        let high = h1
            .checked_add(h2)?
            .checked_add(u64::from(carry_a) + u64::from(carry_b))?;
        Some(Wide([high, middle, low]))
    }

    /// `self − other`, for `self ≥ other`.
    fn minus(self, other: Wide) -> Wide {
        let Wide([h1, m1, l1]) = self;
        let Wide([h2, m2, l2]) = other;
        let (low, borrow) = l1.overflowing_sub(l2);
        let (middle, borrow_a) = m1.overflowing_sub(m2);
        let (middle, borrow_b) = middle.overflowing_sub(u64::from(borrow));
        let high = h1
            .wrapping_sub(h2)
            .wrapping_sub(u64::from(borrow_a) + u64::from(borrow_b));
        Wide([high, middle, low])
    }

    /// `self ÷ 10` and its remainder.
    fn div_rem_10(self) -> (Wide, u128) {
        let Wide(limbs) = self;
        let mut rest = 0_u128;
        let mut quotient = [0_u64; 3];
        for (digit, limb) in quotient.iter_mut().zip(limbs) {
            let current = (rest << 64) | u128::from(limb);
            // `rest` < 10, so `current / 10` < 2^64.
            *digit = (current / 10) as u64;
            rest = current % 10;
        }
        (Wide(quotient), rest)
    }

    /// The value as a [`Decimal`] mantissa, when it fits in 96 bits.
    fn mantissa(self) -> Option<u128> {
        let Wide([high, middle, low]) = self;
        let value = (u128::from(middle) << 64) | u128::from(low);
        (high == 0 && value <= MAX_MANTISSA).then_some(value)
    }
}

/// The decimal `±magnitude × 10^−scale`, with as many of its `scale`
/// decimals as fit (only zeros are dropped), or `None` when no [`Decimal`]
/// holds the value exactly.
fn to_decimal(negative: bool, magnitude: Wide, scale: u32) -> Option<Decimal> {
    let (mut magnitude, mut scale) = (magnitude, scale);
    loop {
        if scale <= MAX_SCALE {
            if let Some(mantissa) = magnitude.mantissa() {
                let part = |shift: u32| ((mantissa >> shift) & u128::from(u32::MAX)) as u32;
                let negative = negative && mantissa != 0;
                return Some(Decimal::from_parts(
                    part(0),
                    part(32),
                    part(64),
                    negative,
                    scale,
                ));
            }
        }
        let (quotient, rest) = magnitude.div_rem_10();
        if scale == 0 || rest != 0 {
            return None;
        }
        magnitude = quotient;
        scale -= 1;
    }
}

/// `a × b`, exactly, or `None`. The product is written with `a`'s and `b`'s
/// decimals together (`3 × 0.0015 = 0.0045`, `3 × 0.000 = 0.000`), or with
/// fewer when only zeros are dropped to fit the decimal type's 28 decimals
/// and 96-bit mantissa; a product that would need a digit dropped that is not
/// zero is refused, never rounded.
pub fn exact_mul(a: Decimal, b: Decimal) -> Option<Decimal> {
    let magnitude = Wide::product(a.mantissa().unsigned_abs(), b.mantissa().unsigned_abs())?;
    let negative = a.is_sign_negative() != b.is_sign_negative();
    to_decimal(negative, magnitude, a.scale().checked_add(b.scale())?)
}

/// `a + b`, exactly, or `None`, for operands of any scale, zero included.
/// The sum is written with the larger of the two scales (`5 + 0.00 = 5.00`,
/// `0.1 + 0.02 = 0.12`), or with fewer when only zeros are dropped to fit; a
/// sum the decimal type could only round is refused.
pub fn exact_add(a: Decimal, b: Decimal) -> Option<Decimal> {
    let scale = a.scale().max(b.scale());
    // Both operands as whole numbers of 10^−scale: a mantissa below 2^96
    // times at most 10^28 stays below 2^190.
    let aligned = |d: Decimal| {
        let factor = 10_u128.checked_pow(scale.checked_sub(d.scale())?)?;
        Wide::product(d.mantissa().unsigned_abs(), factor)
    };
    let (x, y) = (aligned(a)?, aligned(b)?);
    let (negative_a, negative_b) = (a.is_sign_negative(), b.is_sign_negative());
    let (negative, magnitude) = if negative_a == negative_b {
        (negative_a, x.checked_add(y)?)
    } else if x >= y {
        (negative_a, x.minus(y))
    } else {
        (negative_b, y.minus(x))
    };
    to_decimal(negative, magnitude, scale)
}
