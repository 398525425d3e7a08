//! The portal in headless Chromium (driven by `tests/runtimes/portal_bench.mjs`):
//! navigation to the first meters on screen, and one `status` re-evaluation
//! in the page, beside the same request evaluated natively in this run.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::io::{BufRead, BufReader, Write};
use std::process::{ChildStdin, ChildStdout, Command, Stdio};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};

struct Page {
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Page {
    fn ask(&mut self, command: &str) -> String {
        writeln!(self.stdin, "{command}").unwrap();
        self.stdin.flush().unwrap();
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        assert!(!line.is_empty(), "portal_bench.mjs stopped");
        line.trim().to_string()
    }

    fn millis(&mut self, command: &str) -> Duration {
        let ms: f64 = self.ask(command).parse().unwrap();
        Duration::from_secs_f64(ms / 1000.0)
    }
}

fn bench(c: &mut Criterion) {
    let root = format!("{}/..", env!("CARGO_MANIFEST_DIR"));
    let mut child = Command::new(std::env::var_os("NODE").unwrap_or_else(|| "node".into()))
        .arg("tests/runtimes/portal_bench.mjs")
        .current_dir(&root)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("node (tests/setup.sh installs what this needs)");
    let mut page = Page {
        stdin: child.stdin.take().unwrap(),
        stdout: BufReader::new(child.stdout.take().unwrap()),
    };
    let request = page.ask("native");
    let native = entitle_core::api::evaluate(request.as_bytes());
    assert!(native.contains(r#""outcome":"ok""#), "{native}");

    let mut group = c.benchmark_group("portal");
    group.sample_size(10);
    group.bench_function("navigation to first meters", |b| {
        b.iter_custom(|iters| page.millis(&format!("nav {iters}")));
    });
    group.bench_function("first navigation of a fresh browser", |b| {
        b.iter_custom(|iters| page.millis(&format!("cold {iters}")));
    });
    group.finish();
    let mut group = c.benchmark_group("portal status");
    group.bench_function("in the page (wasm, chromium)", |b| {
        b.iter_custom(|iters| page.millis(&format!("status {iters}")));
    });
    group.bench_function("native", |b| {
        b.iter(|| entitle_core::api::evaluate(std::hint::black_box(request.as_bytes())));
    });
    group.finish();
    drop(page);
    let _ = child.wait();
}

criterion_group!(benches, bench);
criterion_main!(benches);
