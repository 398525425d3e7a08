//! `entitle business-time add|elapsed|next`: business-time arithmetic on a
//! calendar file, or on a calendar a bundle names, through the engine the
//! flags choose. The request is the `business_time` operation's; missing
//! or wrong values are the engine's to report, like every other command.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use entitle_core::Op;

use super::words::Sources;
use super::{answer, EngineArgs, Streams};
use crate::error::HostError;
use crate::request::RequestBuilder;

/// `entitle business-time`.
#[derive(Debug, Args)]
pub(super) struct BusinessTimeArgs {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// The instant `--seconds` of business time after `--at`.
    Add(AddArgs),
    /// The business seconds between `--from` and `--to`.
    Elapsed(ElapsedArgs),
    /// The first business instant at or after `--at`.
    Next(NextArgs),
}

#[derive(Debug, Args)]
struct CalendarArgs {
    /// The calendar, a JSON file (docs/calendars.md) or `-` for stdin.
    #[arg(long, value_name = "FILE", conflicts_with = "calendar_name")]
    calendar: Option<PathBuf>,
    /// A calendar the bundle declares in `calendars`, by name (with `--bundle`).
    #[arg(long, value_name = "NAME")]
    calendar_name: Option<String>,
    /// The bundle whose calendar `--calendar-name` names, a JSON file or `-`.
    #[arg(long, value_name = "FILE")]
    bundle: Option<PathBuf>,
    /// The key set that verifies a signed bundle; with it, the bundle must be signed.
    #[arg(long, value_name = "FILE")]
    keys: Option<PathBuf>,
    /// Indent the answer.
    #[arg(long)]
    pretty: bool,
    #[command(flatten)]
    engine: EngineArgs,
}

#[derive(Debug, Args)]
struct AddArgs {
    #[command(flatten)]
    calendar: CalendarArgs,
    /// Where counting starts (RFC 3339 with an offset).
    #[arg(long, value_name = "RFC3339")]
    at: Option<String>,
    /// How many seconds of business time to add.
    #[arg(long, value_name = "N")]
    seconds: Option<String>,
}

#[derive(Debug, Args)]
struct ElapsedArgs {
    #[command(flatten)]
    calendar: CalendarArgs,
    /// The start of the span (RFC 3339 with an offset).
    #[arg(long, value_name = "RFC3339")]
    from: Option<String>,
    /// The end of the span, excluded (RFC 3339 with an offset).
    #[arg(long, value_name = "RFC3339")]
    to: Option<String>,
}

#[derive(Debug, Args)]
struct NextArgs {
    #[command(flatten)]
    calendar: CalendarArgs,
    /// The instant to search from (RFC 3339 with an offset).
    #[arg(long, value_name = "RFC3339")]
    at: Option<String>,
}

/// Assembles the `business_time` request, hands it to the engine and prints
/// the envelope; the exit status it calls for.
pub(super) fn run(
    args: &BusinessTimeArgs,
    stdin: &mut dyn Read,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<u8, HostError> {
    let (name, calendar) = match &args.action {
        Action::Add(add) => ("add", &add.calendar),
        Action::Elapsed(elapsed) => ("elapsed", &elapsed.calendar),
        Action::Next(next) => ("next", &next.calendar),
    };
    let mut request = RequestBuilder::new(Op::BusinessTime);
    request.string("action", name);
    let mut sources = Sources::new(Op::BusinessTime);
    let mut stdin_used = false;
    let mut read = |path: &Path| -> Result<(String, Vec<u8>), HostError> {
        let source = path.display().to_string();
        if path == Path::new("-") {
            if stdin_used {
                return Err(HostError::Usage(String::from(
                    "only one document can come from stdin (`-`)",
                )));
            }
            stdin_used = true;
        }
        super::read_input(path, stdin).map(|bytes| (source, bytes))
    };
    if let Action::Add(AddArgs {
        seconds: Some(seconds),
        ..
    }) = &args.action
    {
        super::words::whole_number("--seconds", "seconds", seconds).map_err(HostError::Usage)?;
    }
    for (field, flag, path) in [
        ("keys", "--keys", &calendar.keys),
        ("bundle", "--bundle", &calendar.bundle),
        ("calendar", "--calendar", &calendar.calendar),
    ] {
        if let Some(path) = path {
            let (source, bytes) = read(path)?;
            request.document(field, &source, &bytes)?;
            sources.file(field, flag, &source);
        }
    }
    if let Some(named) = &calendar.calendar_name {
        request.string("calendar", named);
        sources.flag("calendar", "--calendar-name");
    }
    let instants = match &args.action {
        Action::Add(add) => [("at", &add.at), ("from", &None), ("to", &None)],
        Action::Elapsed(elapsed) => [("at", &None), ("from", &elapsed.from), ("to", &elapsed.to)],
        Action::Next(next) => [("at", &next.at), ("from", &None), ("to", &None)],
    };
    for (field, value) in instants {
        if let Some(value) = value {
            request.string(field, value);
            sources.flag(field, &format!("--{field}"));
        }
    }
    if let Action::Add(AddArgs {
        seconds: Some(seconds),
        ..
    }) = &args.action
    {
        request.number("seconds", "--seconds", seconds)?;
        sources.flag("seconds", "--seconds");
    }
    let mut streams = Streams { stdout, stderr };
    answer(
        &request.finish(),
        &calendar.engine,
        calendar.pretty,
        &sources,
        &mut streams,
    )
}
