//! How errors become text in an answer: the report of each, with the input
//! it echoes cut short, and the list an answer holds, capped in count and size.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use super::{Error, ErrorCode, JsonPath};

/// The most errors one answer lists; the others are counted in a last
/// entry, coded [`ErrorCode::TooManyErrors`](crate::ErrorCode::TooManyErrors).
pub const MAX_ERRORS: usize = 100;

/// The most bytes the listed errors take, as JSON: an error answer stays
/// under 64 KiB however many errors, or how long ones, its input has.
pub const MAX_ERRORS_BYTES: usize = 60 * 1024;

/// The longest piece of input an error echoes, in characters (the longest
/// id): longer input is cut there and marked `…`, in paths and messages alike.
pub const MAX_ECHO_CHARS: usize = 128;

/// The longest message or help line, in characters, whatever it echoes.
const MAX_MESSAGE_CHARS: usize = 1024;

/// Adds the error `make` builds to `errors`, unless `errors` holds
/// [`MAX_ERRORS`] already: then the error is only counted, in a last
/// [`Error::TooManyErrors`] entry, and never built. For the loops over a
/// document's lists, each of whose entries may be wrong, so that a list of
/// 400,000 wrong entries costs a count, not 400,000 errors.
pub fn push_capped(errors: &mut Vec<Error>, make: impl FnOnce() -> Error) {
    if errors.len() < MAX_ERRORS {
        errors.push(make());
    } else {
        count_capped(errors);
    }
}

/// Counts one more error in `errors` without building it, as
/// [`push_capped`] does once `errors` holds [`MAX_ERRORS`]; for a caller
/// that knows an entry is wrong before it has built the error.
pub fn count_capped(errors: &mut Vec<Error>) {
    match errors.last_mut() {
        Some(Error::TooManyErrors { omitted, .. }) => *omitted += 1,
        _ => errors.push(Error::TooManyErrors {
            path: JsonPath::root(),
            omitted: 1,
        }),
    }
}

/// Input as an error echoes it: whole up to [`MAX_ECHO_CHARS`] characters,
/// else its first [`MAX_ECHO_CHARS`] and `…`.
pub fn echo(input: &str) -> Cow<'_, str> {
    match input.char_indices().nth(MAX_ECHO_CHARS) {
        Some((cut, _)) => Cow::Owned(format!("{}…", input.get(..cut).unwrap_or(input))),
        None => Cow::Borrowed(input),
    }
}

/// A message with every piece of input it echoes (between backticks, or
/// between the double quotes serde puts around a string) cut as [`echo`]
/// cuts it, and the whole kept under [`MAX_MESSAGE_CHARS`] characters.
fn shorten(message: &str) -> String {
    let mut out = String::with_capacity(message.len().min(MAX_MESSAGE_CHARS + 8));
    // The closing character of the span the scan is in, and how many of
    // its characters were kept.
    let mut span: Option<(char, usize)> = None;
    let mut escaped = false;
    for c in message.chars() {
        match span {
            None => {
                if c == '`' || c == '"' {
                    span = Some((c, 0));
                }
                out.push(c);
            }
            Some((close, kept)) if c == close && !escaped => {
                if kept > MAX_ECHO_CHARS {
                    out.push('…');
                }
                out.push(c);
                span = None;
            }
            Some((close, kept)) => {
                // An escape in a quoted string counts as one character, and
                // its quote does not close the string.
                let starts_escape = close == '"' && c == '\\' && !escaped;
                if kept < MAX_ECHO_CHARS {
                    out.push(c);
                }
                escaped = starts_escape;
                span = Some((close, kept + usize::from(!starts_escape)));
            }
        }
        if out.len() > 4 * MAX_MESSAGE_CHARS {
            break;
        }
    }
    if span.is_some_and(|(_, kept)| kept > MAX_ECHO_CHARS) {
        out.push('…');
    }
    match out.char_indices().nth(MAX_MESSAGE_CHARS) {
        Some((cut, _)) => format!("{}…", out.get(..cut).unwrap_or(&out)),
        None => out,
    }
}

/// The JSON form of an error in the failure envelope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorReport {
    /// Stable code.
    pub code: ErrorCode,
    /// JSON path of the offending field.
    pub path: JsonPath,
    /// What is wrong, lowercase, input in backticks.
    pub message: String,
    /// How to fix it.
    pub help: String,
}

impl From<&Error> for ErrorReport {
    /// The one place an error becomes text: every piece of input its
    /// message echoes is cut as [`echo`] cuts it.
    fn from(error: &Error) -> Self {
        ErrorReport {
            code: error.code(),
            path: error.path().clone(),
            message: shorten(&error.to_string()),
            help: shorten(&error.help()),
        }
    }
}

impl ErrorReport {
    /// The reports an answer lists for `errors`: the first ones in the order
    /// they were found, at most [`MAX_ERRORS`] of them and at most
    /// [`MAX_ERRORS_BYTES`] of JSON, then, if any are left out, one
    /// [`Error::TooManyErrors`] counting them.
    /// Errors [`push_capped`] only counted are counted with them.
    pub(crate) fn list(errors: &[Error]) -> Vec<ErrorReport> {
        let mut reports = Vec::new();
        let mut bytes = 0;
        let mut omitted = 0;
        for error in errors {
            if let Error::TooManyErrors {
                omitted: counted, ..
            } = error
            {
                omitted += counted;
                continue;
            }
            if omitted > 0 || reports.len() == MAX_ERRORS {
                omitted += 1;
                continue;
            }
            let report = ErrorReport::from(error);
            // Its JSON and the comma before the next.
            bytes += serde_json::to_string(&report).map_or(0, |json| json.len()) + 1;
            if bytes > MAX_ERRORS_BYTES {
                omitted += 1;
                continue;
            }
            reports.push(report);
        }
        if omitted > 0 {
            reports.push(ErrorReport::from(&Error::TooManyErrors {
                path: JsonPath::root(),
                omitted,
            }));
        }
        reports
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::indexing_slicing)]
    use super::*;

    fn long(c: char, n: usize) -> String {
        c.to_string().repeat(n)
    }

    #[test]
    fn paths_are_written_as_before() {
        let root = JsonPath::root();
        for (index, text) in [(0, "$[0]"), (9, "$[9]"), (10, "$[10]"), (12345, "$[12345]")] {
            assert_eq!(root.index(index).as_str(), text);
        }
        assert_eq!(
            root.index(usize::MAX).as_str(),
            format!("$[{}]", usize::MAX)
        );
        assert_eq!(root.key("a_b-9").key("x y").as_str(), r#"$.a_b-9["x y"]"#);
        assert_eq!(root.key("").key("é").as_str(), r#"$[""]["é"]"#);
    }

    #[test]
    fn echo_keeps_up_to_128_characters() {
        assert_eq!(echo(&long('a', 128)), long('a', 128));
        assert_eq!(echo(&long('é', 129)), format!("{}…", long('é', 128)));
        assert_eq!(echo(""), "");
    }

    #[test]
    fn every_span_of_input_is_cut() {
        let message = format!("add-on `{}` does not fit tier `{}`", long('a', 300), "pro");
        assert_eq!(
            shorten(&message),
            format!("add-on `{}…` does not fit tier `pro`", long('a', 128))
        );
        // Serde quotes strings, with escapes that count as one character.
        let quoted = format!(
            r#"invalid type: string "{}", expected u64"#,
            r#"\""#.repeat(200)
        );
        let cut = format!(
            r#"invalid type: string "{}…", expected u64"#,
            r#"\""#.repeat(128)
        );
        assert_eq!(shorten(&quoted), cut);
        // A span of exactly 128 characters is kept whole, and an unclosed one is cut.
        let exact = format!("`{}`", long('b', 128));
        assert_eq!(shorten(&exact), exact);
        assert_eq!(
            shorten(&format!("`{}", long('c', 200))),
            format!("`{}…", long('c', 128))
        );
    }

    #[test]
    fn a_message_of_many_short_spans_is_cut_whole() {
        let message = "`a` ".repeat(10_000);
        let short = shorten(&message);
        assert_eq!(short.chars().count(), 1025);
        assert!(short.ends_with('…'));
    }

    #[test]
    fn the_list_counts_what_it_leaves_out() {
        let errors: Vec<Error> = (0..250)
            .map(|i| Error::UnknownField {
                path: JsonPath::root().key(&format!("f{i}")),
                field: format!("f{i}"),
            })
            .collect();
        let listed = ErrorReport::list(&errors);
        assert_eq!(listed.len(), 101);
        assert_eq!(listed[99].path.as_str(), "$.f99");
        assert_eq!(listed[100].code, "too_many_errors");
        assert_eq!(
            listed[100].message,
            "`150` more errors are not listed: an answer lists at most 100"
        );
        assert_eq!(ErrorReport::list(&errors[..100]).len(), 100);
        assert!(ErrorReport::list(&[]).is_empty());
    }
}
