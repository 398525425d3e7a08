//! The `entitle` command line: assembles a request from documents, hands it
//! to an engine (the module in wasmtime, or core natively), prints the
//! envelope. Exit status: 0 for `"outcome":"ok"`; 1 when the input is
//! wrong: `"outcome":"error"` (explained on stderr in the command line's
//! words) or a document that is not JSON; 2 when the command could not run:
//! its flags, a file that cannot be read or written, the module.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use entitle_core::Op;

use crate::error::HostError;
use crate::module::WasmModule;
use crate::native::Native;
use crate::request::{self, RequestBuilder};
use crate::runtime::Runtime;

mod business_time;
mod docs;
mod envelope;
mod keys;
mod replay;
mod version;
mod words;

use envelope::{outcome_status, pretty};
use keys::{new_key, sign, verify, KeysArgs, KeysCommand, SignArgs, VerifyArgs};
use version::{version, VersionArgs};
use words::Sources;

/// The module loaded when `--module` is not given.
pub const DEFAULT_MODULE: &str = "dist/entitle.wasm";

/// Exit status for an answer with `"outcome":"ok"`.
pub const EXIT_OK: u8 = 0;
/// Exit status when the input is wrong: an answer with `"outcome":"error"`,
/// or a document that is not JSON.
pub const EXIT_ERROR_OUTCOME: u8 = 1;
/// Exit status when the command could not run: its flags, a file that
/// cannot be read or written, the module.
pub const EXIT_FAILURE: u8 = 2;

/// The exit statuses and what each means, as `--help` and the manual page
/// give them.
const EXIT_STATUSES: [(u8, &str); 3] = [
    (EXIT_OK, "the answer is \"outcome\":\"ok\""),
    (
        EXIT_ERROR_OUTCOME,
        "the input is wrong: the answer is \"outcome\":\"error\" (its errors are also told on stderr), or a document is not JSON",
    ),
    (
        EXIT_FAILURE,
        "the command could not run: its flags, a file that cannot be read or written, the module",
    ),
];

/// `--help`'s last lines: the exit statuses.
fn exit_status_help() -> String {
    let mut text = String::from("Exit status:");
    for (status, meaning) in EXIT_STATUSES {
        text.push_str(&format!("\n  {status}  {meaning}"));
    }
    text
}

/// Decides what a license allows, what usage costs, and which tier fits,
/// with the one entitle module (or natively).
#[derive(Debug, Parser)]
#[command(name = "entitle", version, after_help = exit_status_help())]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// May this license use a feature, or consume units of a metric, now?
    Check(CheckArgs),
    /// May one more client hold a floating seat of this license now? (`--usage` gives `active_seats`, held by others.)
    Seat(OpArgs),
    /// The portal's view: license state, features, quotas, overage, best fit.
    Status(OpArgs),
    /// A period's line items: base, add-ons, support, overage, service credit, total.
    Quote(QuoteArgs),
    /// May this license move to another tier now?
    Transition(TransitionArgs),
    /// Every problem in a bundle or a license, each with its JSON path.
    Validate(OpArgs),
    /// The engine version, the ABI version and the module's sha256.
    Version(VersionArgs),
    /// Signing keys: `keys new` makes an Ed25519 key pair.
    Keys(KeysArgs),
    /// Print the entitle-signed/1 envelope of a bundle or a license.
    Sign(SignArgs),
    /// Verify a signed bundle or license with a key set, through the engine.
    Verify(VerifyArgs),
    /// Business-time arithmetic on a calendar: `add`, `elapsed`, `next`.
    BusinessTime(business_time::BusinessTimeArgs),
    /// The edge gateway: checks, forward-auth, metering (docs/gateway.md).
    Serve(crate::gateway::ServeArgs),
    /// Give every decision of a gateway's decision log again and report any
    /// answer that differs (docs/gateway.md).
    Replay(replay::ReplayArgs),
    /// Where a support case stands: severity, level, owner, every SLA clock,
    /// the next action and message, and when to look again (docs/escalation.md).
    Escalate(EscalateArgs),
    /// Replay a scenario through time: every decision change, refused use,
    /// clock state, escalation and message due, in order (docs/simulation.md).
    Simulate(SimulateArgs),
    /// Replay a scenario under two bundles and list where they differ.
    Diff(DiffArgs),
    /// An exception request's intake, risk score, track, approvers, record and
    /// lifecycle (docs/exceptions.md).
    Exception(ExceptionArgs),
    /// Compliance findings: spikes, undeclared and over-deployed
    /// installations, use after the end, with ranked remediation (docs/compliance.md).
    Scan(ScanArgs),
    /// Print the completion script for a shell (bash, zsh, fish, elvish, powershell).
    Completions(docs::CompletionsArgs),
    /// Print the manual page, or write one per subcommand with `--out DIR`.
    Man(docs::ManArgs),
}

/// Which engine answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EngineKind {
    /// The module file in wasmtime.
    Wasm,
    /// `entitle_core` compiled into this binary.
    Native,
}

#[derive(Debug, Args)]
struct EngineArgs {
    /// Which engine answers.
    #[arg(long, value_enum, default_value_t = EngineKind::Wasm)]
    engine: EngineKind,
    /// The module file for the wasm engine [default: dist/entitle.wasm, from
    /// the current directory, else from the workspace holding this binary].
    #[arg(long, value_name = "PATH", env = "ENTITLE_MODULE")]
    module: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct OpArgs {
    /// The bundle (the vendor's policy), a JSON file or `-` for stdin.
    #[arg(long, value_name = "FILE")]
    bundle: Option<PathBuf>,
    /// The license, a JSON file or `-` for stdin.
    #[arg(long, value_name = "FILE")]
    license: Option<PathBuf>,
    /// The usage, a JSON file or `-` for stdin.
    #[arg(long, value_name = "FILE")]
    usage: Option<PathBuf>,
    /// The instant to decide at (RFC 3339 with an offset).
    #[arg(long, value_name = "RFC3339")]
    now: Option<String>,
    /// The key set that verifies a signed bundle and license; with it, both
    /// must be signed.
    #[arg(long, value_name = "FILE")]
    keys: Option<PathBuf>,
    /// A whole request instead of the flags above, a JSON file or `-`.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["bundle", "license", "usage", "now", "keys"])]
    request: Option<PathBuf>,
    /// Indent the answer.
    #[arg(long)]
    pretty: bool,
    #[command(flatten)]
    engine: EngineArgs,
}

#[derive(Debug, Args)]
struct CheckArgs {
    #[command(flatten)]
    op: OpArgs,
    /// The feature to check.
    #[arg(long, value_name = "F", conflicts_with_all = ["metric", "request"])]
    feature: Option<String>,
    /// The metric to consume.
    #[arg(
        long,
        value_name = "M",
        requires = "amount",
        conflicts_with = "request"
    )]
    metric: Option<String>,
    /// How many units of the metric.
    #[arg(
        long,
        value_name = "N",
        requires = "metric",
        conflicts_with = "request"
    )]
    amount: Option<String>,
}

#[derive(Debug, Args)]
struct TransitionArgs {
    #[command(flatten)]
    op: OpArgs,
    /// The tier to move to.
    #[arg(long, value_name = "TIER", conflicts_with = "request")]
    to: Option<String>,
}

#[derive(Debug, Args)]
struct QuoteArgs {
    #[command(flatten)]
    op: OpArgs,
    /// The period's measured uptime in percent (`99.95`), for service credits.
    #[arg(long, value_name = "PERCENT", conflicts_with = "request")]
    uptime: Option<String>,
}

#[derive(Debug, Args)]
struct EscalateArgs {
    #[command(flatten)]
    op: OpArgs,
    /// The case, a JSON file or `-` for stdin.
    #[arg(long, value_name = "FILE", conflicts_with = "request")]
    case: Option<PathBuf>,
    /// Evaluate a case opened under another bundle version under this one.
    #[arg(long, conflicts_with = "request")]
    reevaluate: bool,
}

#[derive(Debug, Args)]
struct SimulateArgs {
    #[command(flatten)]
    op: OpArgs,
    /// The scenario, a JSON file or `-` for stdin.
    #[arg(long, value_name = "FILE", conflicts_with = "request")]
    scenario: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct DiffArgs {
    #[command(flatten)]
    simulate: SimulateArgs,
    /// The bundle to compare `--bundle` with, a JSON file or `-`.
    #[arg(long, value_name = "FILE", conflicts_with = "request")]
    against: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct ExceptionArgs {
    #[command(flatten)]
    op: OpArgs,
    /// The exception request, a JSON file or `-` for stdin.
    #[arg(long, value_name = "FILE", conflicts_with = "request")]
    exception_request: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct ScanArgs {
    #[command(flatten)]
    op: OpArgs,
    /// The licenses scanned, a JSON list of licenses, a file or `-` for stdin.
    #[arg(long, value_name = "FILE", conflicts_with = "request")]
    licenses: Option<PathBuf>,
    /// The declared deployments, a JSON list, a file or `-` for stdin.
    #[arg(long, value_name = "FILE", conflicts_with = "request")]
    deployments: Option<PathBuf>,
    /// The telemetry (installations and usage series), a file or `-`.
    #[arg(long, value_name = "FILE", conflicts_with = "request")]
    telemetry: Option<PathBuf>,
    /// The contract events, a JSON list, a file or `-` for stdin.
    #[arg(long, value_name = "FILE", conflicts_with = "request")]
    events: Option<PathBuf>,
}

/// The command line's definitions, as `run` parses them and as the
/// completion scripts and manual pages describe them.
pub fn command() -> clap::Command {
    words::negative_numbers(Cli::command())
}

/// Runs the command line with these arguments (the first is the program
/// name) and streams; returns the exit status.
pub fn run<I, T>(
    args: I,
    stdin: &mut dyn Read,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let mut definitions = command();
    let parsed = definitions
        .try_get_matches_from_mut(args)
        .and_then(|matches| Cli::from_arg_matches(&matches));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(error) => {
            let error = error.format(&mut definitions);
            let text = words::number_error(&error).unwrap_or_else(|| error.render().to_string());
            if error.use_stderr() {
                let _ = stderr.write_all(text.as_bytes());
                return EXIT_FAILURE;
            }
            let _ = stdout.write_all(text.as_bytes());
            return EXIT_OK;
        }
    };
    match execute(cli.command, stdin, stdout, stderr) {
        Ok(status) => status,
        Err(error) => {
            let _ = writeln!(stderr, "entitle: {error}");
            match error {
                // The user's document, not the host, is at fault.
                HostError::InvalidDocument { .. } => EXIT_ERROR_OUTCOME,
                _ => EXIT_FAILURE,
            }
        }
    }
}

fn execute(
    command: Command,
    stdin: &mut dyn Read,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<u8, HostError> {
    let (op, args, extra): (Op, OpArgs, Vec<(&str, Param)>) = match command {
        Command::Version(args) => return version(&args, stdout),
        Command::Keys(KeysArgs {
            command: KeysCommand::New(args),
        }) => return new_key(&args, stdout),
        Command::Sign(args) => return sign(&args, stdin, stdout),
        Command::Verify(args) => return verify(&args, stdin, stdout, stderr),
        Command::BusinessTime(args) => return business_time::run(&args, stdin, stdout, stderr),
        Command::Completions(args) => return docs::completions(&args, stdout),
        Command::Man(args) => return docs::man(&args, stdout),
        Command::Serve(args) => {
            let module = resolve_module(args.module());
            crate::gateway::serve(args.options(module))?;
            return Ok(EXIT_OK);
        }
        Command::Replay(args) => return replay::run(args, stdout),
        Command::Check(check) => {
            let mut extra = Vec::new();
            if let Some(feature) = check.feature {
                extra.push(("feature", Param::String("--feature", feature)));
            }
            if let Some(metric) = check.metric {
                extra.push(("metric", Param::String("--metric", metric)));
            }
            if let Some(amount) = check.amount {
                extra.push(("amount", Param::Count("--amount", "units", amount)));
            }
            (Op::Check, check.op, extra)
        }
        Command::Escalate(escalate) => {
            let mut extra = Vec::new();
            if let Some(case) = escalate.case {
                extra.push(("case", Param::Document("--case", case)));
            }
            if escalate.reevaluate {
                extra.push(("reevaluate", Param::Json("--reevaluate", "true")));
            }
            (Op::Escalate, escalate.op, extra)
        }
        Command::Simulate(simulate) => {
            let extra = simulate
                .scenario
                .map(|path| vec![("scenario", Param::Document("--scenario", path))])
                .unwrap_or_default();
            (Op::Simulate, simulate.op, extra)
        }
        Command::Diff(diff) => {
            let mut extra = Vec::new();
            if let Some(path) = diff.against {
                extra.push(("against", Param::Document("--against", path)));
            }
            if let Some(path) = diff.simulate.scenario {
                extra.push(("scenario", Param::Document("--scenario", path)));
            }
            (Op::Diff, diff.simulate.op, extra)
        }
        Command::Exception(exception) => {
            let extra = exception
                .exception_request
                .map(|file| vec![("request", Param::Document("--exception-request", file))])
                .unwrap_or_default();
            (Op::Exception, exception.op, extra)
        }
        Command::Scan(scan) => {
            let extra = [
                ("licenses", "--licenses", scan.licenses),
                ("deployments", "--deployments", scan.deployments),
                ("telemetry", "--telemetry", scan.telemetry),
                ("events", "--events", scan.events),
            ]
            .into_iter()
            .filter_map(|(field, flag, path)| path.map(|p| (field, Param::Document(flag, p))))
            .collect();
            (Op::Scan, scan.op, extra)
        }
        Command::Seat(args) => (Op::Seat, args, Vec::new()),
        Command::Status(args) => (Op::Status, args, Vec::new()),
        Command::Quote(quote) => {
            let extra = quote
                .uptime
                .map(|u| vec![("uptime", Param::String("--uptime", u))])
                .unwrap_or_default();
            (Op::Quote, quote.op, extra)
        }
        Command::Validate(args) => (Op::Validate, args, Vec::new()),
        Command::Transition(transition) => {
            let extra = transition
                .to
                .map(|to| vec![("to", Param::String("--to", to))])
                .unwrap_or_default();
            (Op::Transition, transition.op, extra)
        }
    };
    let mut sources = Sources::new(op);
    let request = assemble(op, &args, extra, stdin, &mut sources)?;
    let mut streams = Streams { stdout, stderr };
    answer(&request, &args.engine, args.pretty, &sources, &mut streams)
}

/// Where an answer goes: the envelope to stdout, its errors in the command
/// line's words to stderr.
struct Streams<'a> {
    stdout: &'a mut dyn Write,
    stderr: &'a mut dyn Write,
}

/// Hands a request to the engine the flags name, prints its envelope and
/// tells its errors in the words of `sources`.
fn answer(
    request: &[u8],
    engine: &EngineArgs,
    indent: bool,
    sources: &Sources,
    streams: &mut Streams<'_>,
) -> Result<u8, HostError> {
    let mut runtime = open(engine)?;
    let answer = runtime.evaluate(request)?;
    words::explain(&answer, sources, streams.stderr);
    print_answer(answer, indent, streams.stdout)
}

/// Prints an envelope; the exit status it calls for.
fn print_answer(answer: String, indent: bool, stdout: &mut dyn Write) -> Result<u8, HostError> {
    let status = outcome_status(&answer)?;
    let text = if indent { pretty(&answer)? } else { answer };
    writeln!(stdout, "{text}").map_err(|source| HostError::Write { source })?;
    stdout
        .flush()
        .map_err(|source| HostError::Write { source })?;
    Ok(status)
}

/// Reads a file, or stdin for `-`.
fn read_input(path: &Path, stdin: &mut dyn Read) -> Result<Vec<u8>, HostError> {
    if path == Path::new("-") {
        let mut bytes = Vec::new();
        stdin
            .read_to_end(&mut bytes)
            .map_err(|source| HostError::read(path, source))?;
        return Ok(bytes);
    }
    std::fs::read(path).map_err(|source| HostError::read(path, source))
}

/// A parameter flag's value, with the flag that gave it.
enum Param {
    String(&'static str, String),
    /// A count of something (`units`), a whole number.
    Count(&'static str, &'static str, String),
    /// A document read from a file, or stdin for `-`.
    Document(&'static str, PathBuf),
    /// A JSON literal a flag stands for.
    Json(&'static str, &'static str),
}

/// Builds the request bytes from the flags, reading each file once, and
/// notes in `sources` where each field came from.
fn assemble(
    op: Op,
    args: &OpArgs,
    extra: Vec<(&str, Param)>,
    stdin: &mut dyn Read,
    sources: &mut Sources,
) -> Result<Vec<u8>, HostError> {
    for (_, param) in &extra {
        if let Param::Count(flag, unit, text) = param {
            words::whole_number(flag, unit, text).map_err(HostError::Usage)?;
        }
    }
    let mut stdin_used = false;
    let mut read = |path: &Path| -> Result<(String, Vec<u8>), HostError> {
        let name = path.display().to_string();
        if path == Path::new("-") {
            if stdin_used {
                return Err(HostError::Usage(String::from(
                    "only one document can come from stdin (`-`)",
                )));
            }
            stdin_used = true;
        }
        read_input(path, stdin).map(|bytes| (name, bytes))
    };
    if let Some(path) = &args.request {
        let (name, bytes) = read(path)?;
        sources.whole(&name);
        return request::with_op(op, &name, &bytes);
    }
    let mut builder = RequestBuilder::new(op);
    for (field, flag, path) in [
        ("keys", "--keys", &args.keys),
        ("bundle", "--bundle", &args.bundle),
        ("license", "--license", &args.license),
        ("usage", "--usage", &args.usage),
    ] {
        if let Some(path) = path {
            let (name, bytes) = read(path)?;
            builder.document(field, &name, &bytes)?;
            sources.file(field, flag, &name);
        }
    }
    if let Some(now) = &args.now {
        builder.string("now", now);
        sources.flag("now", "--now");
    }
    for (field, param) in extra {
        match param {
            Param::String(flag, value) => {
                builder.string(field, &value);
                sources.flag(field, flag);
            }
            Param::Count(flag, _, literal) => {
                builder.number(field, flag, &literal)?;
                sources.flag(field, flag);
            }
            Param::Document(flag, path) => {
                let (name, bytes) = read(&path)?;
                builder.document(field, &name, &bytes)?;
                sources.file(field, flag, &name);
            }
            Param::Json(flag, literal) => {
                builder.document(field, flag, literal.as_bytes())?;
                sources.flag(field, flag);
            }
        }
    }
    Ok(builder.finish())
}

/// The module path: the one given, else [`DEFAULT_MODULE`] from the current
/// directory, else from the nearest ancestor of this executable that has it.
pub fn resolve_module(given: Option<&Path>) -> PathBuf {
    if let Some(path) = given {
        return path.to_path_buf();
    }
    let default = PathBuf::from(DEFAULT_MODULE);
    if default.is_file() {
        return default;
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| {
            exe.ancestors()
                .map(|dir| dir.join(DEFAULT_MODULE))
                .find(|candidate| candidate.is_file())
        })
        .unwrap_or(default)
}

/// Opens the engine the flags name.
fn open(args: &EngineArgs) -> Result<Box<dyn Runtime>, HostError> {
    match args.engine {
        EngineKind::Native => Ok(Box::new(Native::new())),
        EngineKind::Wasm => {
            let path = resolve_module(args.module.as_deref());
            Ok(Box::new(WasmModule::load(&path)?))
        }
    }
}
