//! The JavaScript runtimes: Node and headless Chromium, each driven by a
//! script under `tests/runtimes/` that reads a batch file and writes one
//! output per request.
//!
//! The batch file (written here) is
//! `{"root", "wasm", "glue", "requests": [{"name", "base64"}]}`; the script
//! writes `{"runtime", "engine", "sha256", "outputs": [{"ok": text, "via"} | {"failure": text}]}`.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use base64::Engine as _;
use serde::Deserialize;
use serde_json::json;

use crate::runner::{Dist, Runner, RUNTIME_FAILURE};

/// How long one script may run before it is killed, unless
/// `ENTITLE_JS_TIMEOUT_SECS` says otherwise.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

/// What a script reports back.
#[derive(Debug, Deserialize)]
struct ScriptReport {
    runtime: String,
    #[serde(default)]
    engine: Option<String>,
    sha256: String,
    outputs: Vec<ScriptOutput>,
    /// One per compact case of the batch, when it had any.
    #[serde(default)]
    compact: Vec<CompactOutput>,
}

/// What a script gives for one compact case: the answer record (base64)
/// with the compiled check's description, or why it refused.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CompactOutput {
    #[serde(default)]
    answer: Option<String>,
    #[serde(default)]
    described: Option<String>,
    #[serde(default)]
    refused: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScriptOutput {
    #[serde(default)]
    ok: Option<String>,
    #[serde(default)]
    via: Option<String>,
    #[serde(default)]
    failure: Option<String>,
}

/// A runtime reached by running `node <script> <batch> <report>`.
#[derive(Debug)]
pub struct JsRuntime {
    name: String,
    script: PathBuf,
    /// Arguments after the batch and report paths.
    args: Vec<String>,
    dist: Dist,
    sha256: Option<String>,
    description: String,
}

impl JsRuntime {
    /// Node: `tests/runtimes/node.mjs`, the glue's `initSync` over the module's bytes.
    pub fn node(root: &Path) -> Self {
        Self::new("node", root, "tests/runtimes/node.mjs")
    }

    /// Headless Chromium: `tests/runtimes/chromium.mjs`, the glue's `init` in a page.
    pub fn chromium(root: &Path) -> Self {
        Self::new("chromium", root, "tests/runtimes/chromium.mjs")
    }

    /// The customer portal: `tests/runtimes/chromium.mjs … portal`, the
    /// corpus run on the module instance `web/` loaded for itself.
    pub fn portal(root: &Path) -> Self {
        let mut runtime = Self::new("portal", root, "tests/runtimes/chromium.mjs");
        runtime.args.push(String::from("portal"));
        runtime
    }

    fn new(name: &str, root: &Path, script: &str) -> Self {
        JsRuntime {
            name: name.to_string(),
            args: Vec::new(),
            script: root.join(script),
            dist: Dist::new(root),
            sha256: None,
            description: String::new(),
        }
    }

    fn out_dir(&self) -> PathBuf {
        self.dist.root.join("tests").join("out")
    }

    fn write_batch(
        &self,
        path: &Path,
        requests: &[(String, Vec<u8>)],
        compact: &[serde_json::Value],
    ) -> Result<()> {
        let encoded: Vec<_> = requests
            .iter()
            .map(|(name, bytes)| {
                json!({"name": name, "base64": base64::engine::general_purpose::STANDARD.encode(bytes)})
            })
            .collect();
        let batch = json!({
            "root": self.dist.root,
            "wasm": self.dist.wasm(),
            "glue": self.dist.glue(),
            "requests": encoded,
            "compact": compact,
        });
        fs::write(path, serde_json::to_vec(&batch)?)
            .with_context(|| format!("writing {}", path.display()))
    }

    fn spawn(&self, batch: &Path, report: &Path, log: &Path) -> Result<()> {
        let node = std::env::var_os("NODE").unwrap_or_else(|| "node".into());
        let log_file = File::create(log).with_context(|| format!("creating {}", log.display()))?;
        let mut child = Command::new(&node)
            .arg(&self.script)
            .arg(batch)
            .arg(report)
            .args(&self.args)
            .current_dir(&self.dist.root)
            .env("FORCE_COLOR", "0")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(log_file.try_clone()?)
            .stderr(log_file)
            .spawn()
            .with_context(|| {
                format!(
                    "starting `{} {}`: is Node installed? (tests/setup.sh installs what the tests need)",
                    node.to_string_lossy(),
                    self.script.display()
                )
            })?;
        let timeout = timeout();
        let started = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait()? {
                break status;
            }
            if started.elapsed() > timeout {
                // Our own child, by its handle; its script shuts down what it started.
                let _ = child.kill();
                let _ = child.wait();
                bail!(
                    "{} did not finish within {} s (ENTITLE_JS_TIMEOUT_SECS); its log:\n{}",
                    self.script.display(),
                    timeout.as_secs(),
                    log_tail(log)
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        if !status.success() {
            bail!(
                "{} failed ({status}); its log:\n{}",
                self.script.display(),
                log_tail(log)
            );
        }
        Ok(())
    }
}

impl Runner for JsRuntime {
    fn name(&self) -> &str {
        &self.name
    }

    fn run(&mut self, requests: &[(String, Vec<u8>)]) -> Result<Vec<String>> {
        self.dist.require_built()?;
        let dir = self.out_dir();
        fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let stem = format!("{}-{}", self.name, std::process::id());
        let batch = dir.join(format!("{stem}-batch.json"));
        let report_path = dir.join(format!("{stem}-report.json"));
        let log = dir.join(format!("{stem}.log"));
        let _ = fs::remove_file(&report_path);
        self.write_batch(&batch, requests, &[])?;
        self.spawn(&batch, &report_path, &log)?;
        let text = fs::read_to_string(&report_path)
            .with_context(|| format!("reading {}", report_path.display()))?;
        let report: ScriptReport = serde_json::from_str(&text)
            .with_context(|| format!("parsing {}", report_path.display()))?;
        if report.outputs.len() != requests.len() {
            bail!(
                "{} answered {} outputs for {} requests",
                self.name,
                report.outputs.len(),
                requests.len()
            );
        }
        let byte_route = report
            .outputs
            .iter()
            .filter(|o| o.via.as_deref() == Some("bytes"))
            .count();
        self.sha256 = Some(report.sha256.to_ascii_lowercase());
        self.description = format!(
            "{}, engine {}{}",
            report.runtime,
            report.engine.as_deref().unwrap_or("?"),
            if byte_route > 0 {
                format!(", {byte_route} non-UTF-8 request(s) through the byte ABI")
            } else {
                String::new()
            }
        );
        for path in [&batch, &report_path, &log] {
            let _ = fs::remove_file(path);
        }
        Ok(report
            .outputs
            .into_iter()
            .map(|output| match (output.ok, output.failure) {
                (Some(ok), None) => ok,
                (_, Some(failure)) => format!("{RUNTIME_FAILURE}{failure}"),
                (None, None) => format!("{RUNTIME_FAILURE}the script gave no output"),
            })
            .collect())
    }

    fn module_sha256(&self) -> Option<String> {
        self.sha256.clone()
    }

    fn describe(&self) -> String {
        self.description.clone()
    }
}

fn timeout() -> Duration {
    std::env::var("ENTITLE_JS_TIMEOUT_SECS")
        .ok()
        .and_then(|secs| secs.parse().ok())
        .map(Duration::from_secs)
        .unwrap_or(DEFAULT_TIMEOUT)
}

/// The last lines of a log file, for error messages.
fn log_tail(log: &Path) -> String {
    let text = fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(40);
    lines.get(start..).unwrap_or_default().join("\n")
}

impl JsRuntime {
    /// Runs compact cases through the wasm-bindgen API (`Bundle.compile`,
    /// `CompactCheck.check`), as a JavaScript application makes them: for
    /// each, the bases the compiled check describes and the outcome.
    pub fn run_compact(
        &mut self,
        cases: &[crate::compact::CompactCase],
    ) -> Result<
        Vec<(
            Option<Vec<entitle_core::Basis>>,
            crate::compact::CompactOutcome,
        )>,
    > {
        use crate::compact::CompactOutcome;
        self.dist.require_built()?;
        let dir = self.out_dir();
        fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let stem = format!("{}-compact-{}", self.name, std::process::id());
        let batch = dir.join(format!("{stem}-batch.json"));
        let report_path = dir.join(format!("{stem}-report.json"));
        let log = dir.join(format!("{stem}.log"));
        let _ = fs::remove_file(&report_path);
        let b64 = &base64::engine::general_purpose::STANDARD;
        let encoded: Vec<_> = cases
            .iter()
            .map(|c| {
                json!({
                    "bundle": String::from_utf8_lossy(&c.bundle),
                    "license": String::from_utf8_lossy(&c.license),
                    "license_id": c.license_id,
                    "name": c.name_checked,
                    "kind": match c.kind { entitle_core::CheckKind::Feature => 0, entitle_core::CheckKind::Consume => 1 },
                    "ask": c.ask.map(|a| b64.encode(a.write())),
                })
            })
            .collect();
        self.write_batch(&batch, &[], &encoded)?;
        self.spawn(&batch, &report_path, &log)?;
        let text = fs::read_to_string(&report_path)
            .with_context(|| format!("reading {}", report_path.display()))?;
        let report: ScriptReport = serde_json::from_str(&text)
            .with_context(|| format!("parsing {}", report_path.display()))?;
        if report.compact.len() != cases.len() {
            bail!(
                "{} answered {} compact outputs for {} cases",
                self.name,
                report.compact.len(),
                cases.len()
            );
        }
        report
            .compact
            .into_iter()
            .map(
                |output| match (output.answer, output.described, output.refused) {
                    (Some(answer), Some(described), None) => {
                        let bytes = b64.decode(answer)?;
                        let record: [u8; entitle_core::ANSWER_BYTES] = bytes
                            .as_slice()
                            .try_into()
                            .context("an answer record of the wrong length")?;
                        let answer = entitle_core::CompactAnswer::read(&record)
                            .context("an answer record the engine does not write")?;
                        #[derive(Deserialize)]
                        struct Described {
                            bases: Vec<entitle_core::Basis>,
                        }
                        let described: entitle_core::Envelope<'_, Described> =
                            serde_json::from_str(&described)?;
                        let bases = described.result().map(|d| d.bases.clone());
                        Ok((bases, CompactOutcome::Answered(answer)))
                    }
                    (None, None, Some(why)) => Ok((None, CompactOutcome::Refused(why))),
                    _ => bail!("a compact output that is neither an answer nor a refusal"),
                },
            )
            .collect()
    }
}
