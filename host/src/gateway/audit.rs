//! The decision log: one JSON line per answer the module gave, with
//! everything needed to give it again (the exact request, with the
//! gateway's clock and usage in it; the module, bundle and license it was
//! decided on, by hash), and `entitle replay`, which gives it again.
//!
//! Lines are handed to a writer thread and appended in order; the thread
//! flushes whenever it has nothing waiting, and [`DecisionLog::close`]
//! waits for the last line at shutdown. Answers the gateway repeats without
//! asking the module (a cache hit, an idempotent retry) are copies of a
//! logged answer and are not logged again.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Mutex, PoisonError};
use std::thread::JoinHandle;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::generation::{Generation, Sources};
use crate::error::HostError;
use crate::limits::Limits;

/// Where decisions are appended.
pub struct DecisionLog {
    lines: Mutex<Option<Sender<String>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
}

/// What a line says beside the request and the answer.
pub struct Decision<'a> {
    /// The generation that answered.
    pub generation: &'a Generation,
    /// The license the request names, if any.
    pub license: Option<&'a str>,
    /// The request's bytes, as sent to the module.
    pub request: &'a str,
    /// The module's answer, as it wrote it.
    pub answer: &'a str,
}

impl DecisionLog {
    /// Opens `path` for appending (creating it) and starts the writer.
    pub fn open(path: &Path) -> Result<DecisionLog, HostError> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|source| HostError::read(path, source))?;
        let (lines, waiting) = channel();
        let shown = path.to_path_buf();
        let writer = std::thread::Builder::new()
            .name(String::from("entitle-decision-log"))
            .spawn(move || write_lines(&waiting, file, &shown))
            .map_err(|e| HostError::Store {
                detail: format!("cannot start the decision log's writer: {e}"),
            })?;
        Ok(DecisionLog {
            lines: Mutex::new(Some(lines)),
            writer: Mutex::new(Some(writer)),
        })
    }

    /// Appends one decision.
    pub fn record(&self, decision: &Decision<'_>) {
        let g = decision.generation;
        let license_sha256 = decision.license.and_then(|l| g.license_sha256(l));
        // The request and the answer are JSON already (the gateway built
        // one, the module wrote the other): they go in as they are.
        let line = format!(
            "{{\"generation\":{},\"module_sha256\":{},\"bundle_hash\":{},\"license\":{},\"license_sha256\":{},\"request\":{},\"answer\":{}}}",
            g.id,
            json_string(&g.module_sha256),
            json_string(&g.bundle.hash),
            decision.license.map_or_else(|| String::from("null"), json_string),
            license_sha256.map_or_else(|| String::from("null"), json_string),
            decision.request,
            decision.answer,
        );
        if let Some(lines) = self
            .lines
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
        {
            let _ = lines.send(line);
        }
    }

    /// Stops taking lines and waits until every line taken is written.
    pub fn close(&self) {
        self.lines
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let writer = self
            .writer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(writer) = writer {
            let _ = writer.join();
        }
    }
}

fn json_string(text: &str) -> String {
    Value::String(text.to_string()).to_string()
}

fn write_lines(waiting: &Receiver<String>, file: File, path: &Path) {
    let mut out = BufWriter::new(file);
    let mut failed = false;
    while let Ok(line) = waiting.recv() {
        let mut result = writeln!(out, "{line}");
        while let Ok(more) = waiting.try_recv() {
            result = result.and_then(|()| writeln!(out, "{more}"));
        }
        if let Err(error) = result.and_then(|()| out.flush()) {
            if !failed {
                tracing::error!(%error, path = %path.display(), "cannot write the decision log");
            }
            failed = true;
        }
    }
    let _ = out.flush();
}

/// One line of the log, as `entitle replay` reads it.
#[derive(Debug, Deserialize)]
struct Line {
    module_sha256: String,
    bundle_hash: String,
    license: Option<String>,
    license_sha256: Option<String>,
    request: Value,
    answer: Value,
}

/// What `entitle replay` found.
#[derive(Debug, Default, Serialize)]
pub struct Replay {
    /// Decisions read.
    pub decisions: usize,
    /// Decisions the module gave again, byte for byte.
    pub reproduced: usize,
    /// The others, each with its line number and why.
    pub differ: Vec<Difference>,
}

/// A decision that was not given again.
#[derive(Debug, Serialize)]
pub struct Difference {
    /// Its line in the log, from 1.
    pub line: usize,
    /// `module`, `bundle` or `license` (decided on other documents than
    /// those given), `answer` (same documents, another answer), or
    /// `unreadable` (not a log line).
    pub why: &'static str,
    /// What was logged and what was found, for `answer`, or the detail.
    pub detail: Value,
}

/// Gives every logged decision again with the documents of `sources` and
/// compares answers.
pub fn replay(log: &Path, sources: &Sources, limits: Limits) -> Result<Replay, HostError> {
    let generation = Generation::load(0, sources, limits, 1)?;
    let file = File::open(log).map_err(|source| HostError::read(log, source))?;
    let mut report = Replay::default();
    for (i, text) in BufReader::new(file).lines().enumerate() {
        let text = text.map_err(|source| HostError::read(log, source))?;
        if text.trim().is_empty() {
            continue;
        }
        report.decisions += 1;
        let line = i + 1;
        let difference = match serde_json::from_str::<Line>(&text) {
            Err(e) => Some(("unreadable", Value::String(e.to_string()))),
            Ok(entry) => check(&generation, &entry)?,
        };
        match difference {
            None => report.reproduced += 1,
            Some((why, detail)) => report.differ.push(Difference { line, why, detail }),
        }
    }
    Ok(report)
}

fn check(
    generation: &Generation,
    entry: &Line,
) -> Result<Option<(&'static str, Value)>, HostError> {
    let differs =
        |logged: &str, given: Option<&str>| serde_json::json!({"logged": logged, "given": given});
    if entry.module_sha256 != generation.module_sha256 {
        return Ok(Some((
            "module",
            differs(&entry.module_sha256, Some(&generation.module_sha256)),
        )));
    }
    if entry.bundle_hash != generation.bundle.hash {
        return Ok(Some((
            "bundle",
            differs(&entry.bundle_hash, Some(&generation.bundle.hash)),
        )));
    }
    if let Some(license) = &entry.license {
        let given = generation.license_sha256(license);
        if entry.license_sha256.as_deref() != given {
            let logged = entry.license_sha256.as_deref().unwrap_or("none");
            return Ok(Some(("license", differs(logged, given))));
        }
    }
    let answer = generation.evaluate(entry.request.to_string().as_bytes())?;
    let answer: Value = serde_json::from_str(&answer).map_err(|e| HostError::BadResponse {
        detail: format!("an answer that does not parse: {e}"),
    })?;
    Ok((answer != entry.answer).then(|| {
        (
            "answer",
            serde_json::json!({"logged": entry.answer, "given": answer}),
        )
    }))
}
