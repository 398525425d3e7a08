//! ISO 4217's currencies with a minor unit, as one table of codes.
//!
//! Generated from the ISO data the `iso_currency` crate (0.7.1) carries,
//! keeping the codes whose minor unit has at most [`MAX_EXPONENT`] places,
//! in that data's order (which `Currency`'s ordering follows); a test holds
//! it to that crate, which is only a dev-dependency. A table of three bytes
//! a code, searched in place, instead of the crate's `match` over strings.

use super::MAX_EXPONENT;

/// The codes, three letters each.
const CODES: &str = concat!(
    "AEDAFNALLAMDXCGAOAARSAUDAWGAZNBAMBBDBDTBGNBHDBIFBMDBNDBOBBOVBRLBSDBTNBWP",
    "BYNBZDCADCDFCHECHFCHWCLFCLPCNYCOPCOUCRCCUCCUPCVECZKDJFDKKDOPDZDEGPERNETB",
    "EURFJDFKPGBPGELGHSGIPGMDGNFGTQGYDHKDHNLHRKHTGHUFIDRILSINRIQDIRRISKJMDJOD",
    "JPYKESKGSKHRKMFKPWKRWKWDKYDKZTLAKLBPLKRLRDLSLLYDMADMDLMGAMKDMMKMNTMOPMRU",
    "MURMVRMWKMXNMXVMYRMZNNADNGNNIONOKNPRNZDOMRPABPENPGKPHPPKRPLNPYGQARRONRSD",
    "RUBRWFSARSBDSCRSDGSEKSGDSHPSLESLLSOSSRDSSPSTNSVCSYPSZLTHBTJSTMTTNDTOPTRY",
    "TTDTWDTZSUAHUGXUSDUSNUYIUYUUYWUZSVEDVESVNDVUVWSTXADXAFXCDXOFXPFYERZARZMW",
    "ZWLZWG",
);

/// Each code's minor-unit exponent, one digit per code of [`CODES`].
const EXPONENTS: &[u8] = concat!(
    "2222222222222230222222222222222402222222202222222222222202222222222320230",
    "2220203222222232222222222222222222223222222022220222222222222222222232222",
    "220220242220022020022222",
)
.as_bytes();

/// The position of `code` in the table and its minor unit's exponent, when
/// it is an ISO 4217 code with a minor unit of at most [`MAX_EXPONENT`]
/// places (upper case, as the standard writes it).
pub(super) fn lookup(code: &str) -> Option<(u8, u8)> {
    if code.len() != 3 {
        return None;
    }
    let at = CODES
        .as_bytes()
        .chunks_exact(3)
        .position(|c| c == code.as_bytes())?;
    let exponent = EXPONENTS.get(at)?.checked_sub(b'0')?;
    if u32::from(exponent) > MAX_EXPONENT {
        return None;
    }
    Some((u8::try_from(at).ok()?, exponent))
}

/// The code at a position [`lookup`] gave.
pub(super) fn code(at: u8) -> &'static str {
    let start = usize::from(at) * 3;
    CODES.get(start..start + 3).unwrap_or("")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// Every three-letter code, upper case and lower, reads as the
    /// `iso_currency` crate reads it (kept when it has a minor unit of at
    /// most four places), and the order of the codes is that crate's.
    #[test]
    fn the_table_is_iso_currency_s_data() {
        let mut found = Vec::new();
        for a in b'A'..=b'Z' {
            for b in b'A'..=b'Z' {
                for c in b'A'..=b'Z' {
                    for code in [[a, b, c], [a.to_ascii_lowercase(), b, c]] {
                        let code = std::str::from_utf8(&code).unwrap();
                        let expected = iso_currency::Currency::from_code(code).and_then(|iso| {
                            let exponent = u32::from(iso.exponent()?);
                            (exponent <= MAX_EXPONENT).then_some((iso, exponent))
                        });
                        let got = lookup(code);
                        assert_eq!(
                            got.map(|(at, e)| (super::code(at), u32::from(e))),
                            expected.map(|(iso, e)| (iso.code(), e)),
                            "{code}"
                        );
                        if let (Some((at, _)), Some((iso, _))) = (got, expected) {
                            found.push((at, iso));
                        }
                    }
                }
            }
        }
        assert_eq!(found.len(), CODES.len() / 3);
        assert_eq!(EXPONENTS.len(), CODES.len() / 3);
        for (a, iso_a) in &found {
            for (b, iso_b) in &found {
                assert_eq!(
                    a.cmp(b),
                    iso_a.cmp(iso_b),
                    "{} {}",
                    iso_a.code(),
                    iso_b.code()
                );
            }
        }
        for code in ["", "US", "USDX", "usd", "XAU", "XDR", "XTS", "USD\u{301}"] {
            assert_eq!(
                lookup(code).is_some(),
                iso_currency::Currency::from_code(code)
                    .and_then(|iso| iso.exponent())
                    .is_some_and(|e| u32::from(e) <= MAX_EXPONENT),
                "{code:?}"
            );
        }
    }
}
