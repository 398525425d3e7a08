//! The `entitle` command line: assembles a request from documents, hands it
//! to an engine (the module in wasmtime, or core natively), prints the
//! envelope. Exit status: 0 for `"outcome":"ok"`, 1 for `"outcome":"error"`,
//! 2 for anything the host itself could not do (usage, files, the module).

use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::error::HostError;
use crate::module::WasmModule;
use crate::native::Native;
use crate::request::{self, RequestBuilder};
use crate::runtime::{Runtime, RuntimeInfo};

mod business_time;
mod keys;
mod replay;

use keys::{new_key, sign, verify, KeysArgs, KeysCommand, SignArgs, VerifyArgs};

/// The module loaded when `--module` is not given.
pub const DEFAULT_MODULE: &str = "dist/entitle.wasm";

/// Exit status for an answer with `"outcome":"ok"`.
pub const EXIT_OK: u8 = 0;
/// Exit status for an answer with `"outcome":"error"`.
pub const EXIT_ERROR_OUTCOME: u8 = 1;
/// Exit status when the host could not get an answer.
pub const EXIT_FAILURE: u8 = 2;

/// Decides what a license allows, what usage costs, and which tier fits,
/// with the one entitle module (or natively).
#[derive(Debug, Parser)]
#[command(name = "entitle", version)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// May this license use a feature, or consume units of a metric, now?
    Check(CheckArgs),
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

#[derive(Debug, Args)]
struct VersionArgs {
    /// Print a JSON object instead of lines.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    engine: EngineArgs,
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
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(error) => {
            let text = error.render().to_string();
            if error.use_stderr() {
                let _ = stderr.write_all(text.as_bytes());
                return EXIT_FAILURE;
            }
            let _ = stdout.write_all(text.as_bytes());
            return EXIT_OK;
        }
    };
    match execute(cli.command, stdin, stdout) {
        Ok(status) => status,
        Err(error) => {
            let _ = writeln!(stderr, "entitle: {error}");
            EXIT_FAILURE
        }
    }
}

fn execute(
    command: Command,
    stdin: &mut dyn Read,
    stdout: &mut dyn Write,
) -> Result<u8, HostError> {
    let (op, args, extra): (&str, OpArgs, Vec<(&str, Param)>) = match command {
        Command::Version(args) => return version(&args, stdout),
        Command::Keys(KeysArgs {
            command: KeysCommand::New(args),
        }) => return new_key(&args, stdout),
        Command::Sign(args) => return sign(&args, stdin, stdout),
        Command::Verify(args) => return verify(&args, stdin, stdout),
        Command::BusinessTime(args) => return business_time::run(&args, stdin, stdout),
        Command::Serve(args) => {
            let module = resolve_module(args.module());
            crate::gateway::serve(args.options(module))?;
            return Ok(EXIT_OK);
        }
        Command::Replay(args) => return replay::run(args, stdout),
        Command::Check(check) => {
            let mut extra = Vec::new();
            if let Some(feature) = check.feature {
                extra.push(("feature", Param::String(feature)));
            }
            if let Some(metric) = check.metric {
                extra.push(("metric", Param::String(metric)));
            }
            if let Some(amount) = check.amount {
                extra.push(("amount", Param::Number("--amount", amount)));
            }
            ("check", check.op, extra)
        }
        Command::Escalate(escalate) => {
            let mut extra = Vec::new();
            if let Some(case) = escalate.case {
                extra.push(("case", Param::Document(case)));
            }
            if escalate.reevaluate {
                extra.push(("reevaluate", Param::Json("--reevaluate", "true")));
            }
            ("escalate", escalate.op, extra)
        }
        Command::Simulate(simulate) => {
            let extra = simulate
                .scenario
                .map(|path| vec![("scenario", Param::Document(path))])
                .unwrap_or_default();
            ("simulate", simulate.op, extra)
        }
        Command::Diff(diff) => {
            let mut extra = Vec::new();
            if let Some(path) = diff.against {
                extra.push(("against", Param::Document(path)));
            }
            if let Some(path) = diff.simulate.scenario {
                extra.push(("scenario", Param::Document(path)));
            }
            ("diff", diff.simulate.op, extra)
        }
        Command::Exception(exception) => {
            let extra = exception
                .exception_request
                .map(|file| vec![("request", Param::Document(file))])
                .unwrap_or_default();
            ("exception", exception.op, extra)
        }
        Command::Scan(scan) => {
            let extra = [
                ("licenses", scan.licenses),
                ("deployments", scan.deployments),
                ("telemetry", scan.telemetry),
                ("events", scan.events),
            ]
            .into_iter()
            .filter_map(|(field, path)| path.map(|p| (field, Param::Document(p))))
            .collect();
            ("scan", scan.op, extra)
        }
        Command::Status(args) => ("status", args, Vec::new()),
        Command::Quote(quote) => {
            let extra = quote
                .uptime
                .map(|u| vec![("uptime", Param::String(u))])
                .unwrap_or_default();
            ("quote", quote.op, extra)
        }
        Command::Validate(args) => ("validate", args, Vec::new()),
        Command::Transition(transition) => {
            let extra = transition
                .to
                .map(|to| vec![("to", Param::String(to))])
                .unwrap_or_default();
            ("transition", transition.op, extra)
        }
    };
    let request = assemble(op, &args, extra, stdin)?;
    answer(&request, &args.engine, args.pretty, stdout)
}

/// Hands a request to the engine the flags name and prints its envelope.
fn answer(
    request: &[u8],
    engine: &EngineArgs,
    indent: bool,
    stdout: &mut dyn Write,
) -> Result<u8, HostError> {
    let mut runtime = open(engine)?;
    let answer = runtime.evaluate(request)?;
    print_answer(answer, indent, stdout)
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

/// A parameter flag's value.
enum Param {
    String(String),
    Number(&'static str, String),
    /// A document read from a file, or stdin for `-`.
    Document(PathBuf),
    /// A JSON literal a flag stands for.
    Json(&'static str, &'static str),
}

/// Builds the request bytes from the flags, reading each file once.
fn assemble(
    op: &str,
    args: &OpArgs,
    extra: Vec<(&str, Param)>,
    stdin: &mut dyn Read,
) -> Result<Vec<u8>, HostError> {
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
            let mut bytes = Vec::new();
            stdin
                .read_to_end(&mut bytes)
                .map_err(|source| HostError::read(path, source))?;
            return Ok((name, bytes));
        }
        let bytes = std::fs::read(path).map_err(|source| HostError::read(path, source))?;
        Ok((name, bytes))
    };
    if let Some(path) = &args.request {
        let (name, bytes) = read(path)?;
        return request::with_op(op, &name, &bytes);
    }
    let mut builder = RequestBuilder::new(op);
    for (field, path) in [
        ("keys", &args.keys),
        ("bundle", &args.bundle),
        ("license", &args.license),
        ("usage", &args.usage),
    ] {
        if let Some(path) = path {
            let (name, bytes) = read(path)?;
            builder.document(field, &name, &bytes)?;
        }
    }
    if let Some(now) = &args.now {
        builder.string("now", now);
    }
    for (field, param) in extra {
        match param {
            Param::String(value) => {
                builder.string(field, &value);
            }
            Param::Number(flag, literal) => {
                builder.number(field, flag, &literal)?;
            }
            Param::Document(path) => {
                let (name, bytes) = read(&path)?;
                builder.document(field, &name, &bytes)?;
            }
            Param::Json(flag, literal) => {
                builder.document(field, flag, literal.as_bytes())?;
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

/// The exit status an envelope calls for.
fn outcome_status(answer: &str) -> Result<u8, HostError> {
    #[derive(serde::Deserialize)]
    struct Envelope {
        outcome: String,
    }
    match serde_json::from_str::<Envelope>(answer).map(|e| e.outcome) {
        Ok(outcome) if outcome == "ok" => Ok(EXIT_OK),
        Ok(outcome) if outcome == "error" => Ok(EXIT_ERROR_OUTCOME),
        _ => Err(HostError::BadResponse {
            detail: String::from("an answer without `\"outcome\":\"ok\"` or `\"error\"`"),
        }),
    }
}

/// The envelope indented by two spaces, keys in the engine's order.
fn pretty(answer: &str) -> Result<String, HostError> {
    let mut out = Vec::new();
    let mut deserializer = serde_json::Deserializer::from_str(answer);
    let mut serializer = serde_json::Serializer::pretty(&mut out);
    serde_transcode::transcode(&mut deserializer, &mut serializer).map_err(|error| {
        HostError::BadResponse {
            detail: format!("an answer that is not json: {error}"),
        }
    })?;
    String::from_utf8(out).map_err(|error| HostError::BadResponse {
        detail: error.to_string(),
    })
}

/// `entitle version`.
fn version(args: &VersionArgs, stdout: &mut dyn Write) -> Result<u8, HostError> {
    let runtime = open(&args.engine)?;
    let info = runtime.info();
    let text = if args.json {
        version_json(&info)
    } else {
        version_lines(&info)
    };
    write!(stdout, "{text}").map_err(|source| HostError::Write { source })?;
    Ok(EXIT_OK)
}

fn version_lines(info: &RuntimeInfo) -> String {
    let mut text = format!(
        "runtime {}\nengine {}\nabi {}\n",
        info.runtime, info.engine_version, info.abi_version
    );
    if let Some(path) = &info.module_path {
        text.push_str(&format!("module {}\n", path.display()));
    }
    if let Some(sha256) = &info.module_sha256 {
        text.push_str(&format!("sha256 {sha256}\n"));
    }
    text
}

fn version_json(info: &RuntimeInfo) -> String {
    let value = serde_json::json!({
        "runtime": info.runtime,
        "engine": info.engine_version,
        "abi": info.abi_version,
        "module": info.module_path.as_ref().map(|p| p.display().to_string()),
        "sha256": info.module_sha256,
    });
    format!("{value}\n")
}
