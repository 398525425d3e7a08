//! The command line's words for what goes wrong: the engine's errors told
//! in the flags and files the user gave (`pass --now <RFC3339>`, not "add
//! the field `now`"), on stderr beside the envelope, which stays on stdout
//! as the engine wrote it; and the numbers flags take, checked before
//! anything runs.

use std::io::Write;

use entitle_core::{Envelope, ErrorCode, ErrorReport, Op};
use serde::de::IgnoredAny;

/// Where each field of an assembled request came from, so that an error
/// at `$.license.seats` can name the file given to `--license`.
#[derive(Debug)]
pub(super) struct Sources {
    /// The operation the subcommand asks for.
    op: Op,
    /// A whole request given with `--request FILE` (or `-`): every path is
    /// that file's.
    whole: Option<String>,
    /// Each field and where it came from, in the order given.
    fields: Vec<(String, Source)>,
}

#[derive(Debug)]
enum Source {
    /// A document read from a file (or stdin, `-`) given to a flag.
    File { flag: String, name: String },
    /// A value given on the command line.
    Flag(String),
}

impl Sources {
    /// The sources of a request for `op` a subcommand assembles.
    pub(super) fn new(op: Op) -> Sources {
        Sources {
            op,
            whole: None,
            fields: Vec::new(),
        }
    }

    /// The subcommand, as typed: the op's name in kebab case (`check`,
    /// `business-time`), as clap names the subcommands.
    fn command(&self) -> String {
        self.op.name().replace('_', "-")
    }

    /// The request is the whole of this file.
    pub(super) fn whole(&mut self, name: &str) {
        self.whole = Some(name.to_string());
    }

    /// `field` is the document in file `name`, given to `flag` (`--license`,
    /// or `<FILE>` for a positional argument).
    pub(super) fn file(&mut self, field: &str, flag: &str, name: &str) {
        self.fields.push((
            field.to_string(),
            Source::File {
                flag: flag.to_string(),
                name: name.to_string(),
            },
        ));
    }

    /// `field` is the value of `flag`.
    pub(super) fn flag(&mut self, field: &str, flag: &str) {
        self.fields
            .push((field.to_string(), Source::Flag(flag.to_string())));
    }

    fn source(&self, field: &str) -> Option<&Source> {
        self.fields
            .iter()
            .find(|(name, _)| name == field)
            .map(|(_, source)| source)
    }

    /// One line for an error the engine reported, in the command line's words.
    fn line(&self, error: &ErrorReport) -> String {
        let (message, help) = (&error.message, &error.help);
        if let Some(file) = &self.whole {
            return format!("`{file}` at `{}`: {message} ({help})", error.path);
        }
        let (field, rest) = split(error.path.as_str());
        match field.and_then(|field| self.source(field).map(|source| (field, source))) {
            Some((_, Source::File { flag, name })) => {
                let at = if rest.is_empty() {
                    String::new()
                } else {
                    format!(" at `${rest}`")
                };
                format!("`{name}` ({flag}){at}: {message} ({help})")
            }
            Some((_, Source::Flag(flag))) if rest.is_empty() => {
                let help = match error.code {
                    ErrorCode::WrongType | ErrorCode::OutOfRange => {
                        format!("see `entitle {} --help`", self.command())
                    }
                    _ => help.clone(),
                };
                format!("`{flag}`: {message} ({help})")
            }
            None if error.code == ErrorCode::MissingField && rest.is_empty() => {
                let flags = field.and_then(|field| hint(self.op, field));
                match flags.and_then(|flags| Some((flags.first()?.split(' ').next()?, flags))) {
                    Some((name, flags)) => format!("`{name}` is missing: {}", pass(flags)),
                    None => format!("`{}`: {message} ({help})", error.path),
                }
            }
            _ => format!("`{}`: {message} ({help})", error.path),
        }
    }
}

/// `$.license.seats` as `license` and `.seats`; `$` as nothing.
fn split(path: &str) -> (Option<&str>, &str) {
    let rest = path.strip_prefix("$.").unwrap_or_default();
    if rest.is_empty() {
        return (None, path.strip_prefix('$').unwrap_or(path));
    }
    let end = rest.find(['.', '[']).unwrap_or(rest.len());
    let (field, tail) = rest.split_at(end);
    (Some(field), tail)
}

/// The flags that give a top-level field, for a missing one: the first is
/// the flag named, the others are alternatives.
fn hint(op: Op, field: &str) -> Option<&'static [&'static str]> {
    Some(match (op, field) {
        (Op::BusinessTime, "to") => &["--to <RFC3339>"],
        (Op::BusinessTime, "calendar") => &["--calendar <FILE>", "--calendar-name <NAME>"],
        (Op::Exception, "request") => &["--exception-request <FILE>"],
        (_, "feature") => &["--feature <F>", "--metric <M> --amount <N>"],
        (_, "bundle") => &["--bundle <FILE>"],
        (_, "license") => &["--license <FILE>"],
        (_, "usage") => &["--usage <FILE>"],
        (_, "now") => &["--now <RFC3339>"],
        (_, "keys") => &["--keys <FILE>"],
        (_, "metric") => &["--metric <M>"],
        (_, "amount") => &["--amount <N>"],
        (_, "to") => &["--to <TIER>"],
        (_, "case") => &["--case <FILE>"],
        (_, "scenario") => &["--scenario <FILE>"],
        (_, "against") => &["--against <FILE>"],
        (_, "licenses") => &["--licenses <FILE>"],
        (_, "deployments") => &["--deployments <FILE>"],
        (_, "telemetry") => &["--telemetry <FILE>"],
        (_, "events") => &["--events <FILE>"],
        (_, "at") => &["--at <RFC3339>"],
        (_, "from") => &["--from <RFC3339>"],
        (_, "seconds") => &["--seconds <N>"],
        _ => return None,
    })
}

/// `pass `--now <RFC3339>``, with the alternatives.
fn pass(flags: &[&str]) -> String {
    let flags: Vec<String> = flags.iter().map(|flag| format!("`{flag}`")).collect();
    format!("pass {}", flags.join(" or "))
}

/// Writes a line on `stderr` for each error of an error envelope, in the
/// command line's words; nothing for any other answer.
pub(super) fn explain(answer: &str, sources: &Sources, stderr: &mut dyn Write) {
    let Ok(envelope) = serde_json::from_str::<Envelope<'_, IgnoredAny>>(answer) else {
        return;
    };
    for error in envelope.errors() {
        let _ = writeln!(stderr, "entitle: {}", sources.line(error));
    }
}

/// Checks the text given to a flag that takes a count of `unit` (`units`,
/// `seconds`): a whole number from 0 to the largest the engine reads.
pub(super) fn whole_number(flag: &str, unit: &str, text: &str) -> Result<(), String> {
    let digits = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    if digits && text.parse::<u64>().is_ok() {
        return Ok(());
    }
    if digits {
        return Err(format!(
            "`{flag}` takes a whole number of {unit}, at most {}: got `{text}`",
            u64::MAX
        ));
    }
    Err(format!(
        "`{flag}` takes a whole number of {unit}, 0 or more: got `{text}`"
    ))
}

/// The command line's words for a flag given a negative or fractional
/// number where it takes a whole one (`--workers -2`), in place of clap's
/// "invalid digit found in string"; `None` for any other error.
pub(super) fn number_error(error: &clap::Error) -> Option<String> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    use std::error::Error as _;
    if error.kind() != ErrorKind::ValueValidation {
        return None;
    }
    let text = |kind| match error.get(kind) {
        Some(ContextValue::String(text)) => Some(text.clone()),
        _ => None,
    };
    let (arg, value) = (
        text(ContextKind::InvalidArg)?,
        text(ContextKind::InvalidValue)?,
    );
    let number = value.parse::<f64>().is_ok_and(f64::is_finite);
    if !number || !(value.starts_with('-') || value.contains(['.', 'e', 'E'])) {
        return None;
    }
    let long = arg.split_whitespace().next()?.strip_prefix("--")?;
    // A flag with a range says so: "-5 is not in 1..4294967295".
    let reason = error.source().map(ToString::to_string).unwrap_or_default();
    let least = reason
        .split_once(" is not in ")
        .and_then(|(_, range)| range.split("..").next())
        .and_then(|start| start.parse::<u64>().ok())
        .unwrap_or(0);
    Some(format!(
        "error: `--{long}` takes a whole number, {least} or more: got `{value}`\n\nFor more information, try '--help'.\n"
    ))
}

/// Every flag that takes a value may take a negative number (`--amount
/// -5`), so that it reaches the checks above instead of being read as an
/// unknown flag.
pub(super) fn negative_numbers(command: clap::Command) -> clap::Command {
    command
        .mut_args(|arg| {
            if arg.get_action().takes_values() {
                arg.allow_negative_numbers(true)
            } else {
                arg
            }
        })
        .mut_subcommands(negative_numbers)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// An error as the engine writes it, read with its own type.
    fn reported(code: &str, path: &str, message: &str, help: &str) -> ErrorReport {
        let written =
            serde_json::json!({"code": code, "path": path, "message": message, "help": help});
        serde_json::from_value(written).unwrap()
    }

    #[test]
    fn a_missing_flag_is_named_as_a_flag() {
        let sources = Sources::new(Op::Check);
        let missing = reported(
            "missing_field",
            "$.now",
            "missing field `now`",
            "add the field `now`",
        );
        assert_eq!(
            sources.line(&missing),
            "`--now` is missing: pass `--now <RFC3339>`"
        );
        let feature = reported(
            "missing_field",
            "$.feature",
            "missing field `feature`",
            "add the field `feature`",
        );
        assert_eq!(
            sources.line(&feature),
            "`--feature` is missing: pass `--feature <F>` or `--metric <M> --amount <N>`"
        );
    }

    #[test]
    fn a_problem_in_a_file_names_the_file_and_its_own_path() {
        let mut sources = Sources::new(Op::Status);
        sources.file("license", "--license", "lic.json");
        let seats = reported("not_positive", "$.license.seats", "m", "h");
        assert_eq!(
            sources.line(&seats),
            "`lic.json` (--license) at `$.seats`: m (h)"
        );
        let whole = reported("wrong_type", "$.license", "m", "h");
        assert_eq!(sources.line(&whole), "`lic.json` (--license): m (h)");
        let indexed = reported("wrong_type", "$.license[\"a b\"]", "m", "h");
        assert_eq!(
            sources.line(&indexed),
            "`lic.json` (--license) at `$[\"a b\"]`: m (h)"
        );
        let mut whole_request = Sources::new(Op::Status);
        whole_request.whole("req.json");
        let now = reported(
            "missing_field",
            "$.now",
            "missing field `now`",
            "add the field `now`",
        );
        assert_eq!(
            whole_request.line(&now),
            "`req.json` at `$.now`: missing field `now` (add the field `now`)"
        );
    }

    #[test]
    fn whole_numbers_are_checked_with_the_flag_named() {
        assert!(whole_number("--amount", "units", "0").is_ok());
        assert!(whole_number("--amount", "units", "18446744073709551615").is_ok());
        assert_eq!(
            whole_number("--amount", "units", "-5").unwrap_err(),
            "`--amount` takes a whole number of units, 0 or more: got `-5`"
        );
        assert_eq!(
            whole_number("--seconds", "seconds", "1.5").unwrap_err(),
            "`--seconds` takes a whole number of seconds, 0 or more: got `1.5`"
        );
        assert_eq!(
            whole_number("--amount", "units", "18446744073709551616").unwrap_err(),
            "`--amount` takes a whole number of units, at most 18446744073709551615: got `18446744073709551616`"
        );
        for text in ["", "+5", " 5", "1e3", "ten"] {
            assert!(whole_number("--amount", "units", text).is_err(), "{text}");
        }
    }
}
