//! What the host's tests share: where the workspace, the module, the demo
//! documents and the conformance fixtures are; fresh scratch folders and free
//! ports; `entitle` run in process; and, in `gateway.rs`, a real
//! `entitle serve` with an HTTP client to talk to it.
#![allow(
    dead_code,
    unused_imports,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod cut;
mod gateway;
mod postgres;
mod redis;

use std::net::TcpListener;
use std::path::{Path, PathBuf};

use entitle_host::WasmModule;
use serde_json::Value;

pub use self::redis::RedisServer;
pub use cut::Cut;
pub use gateway::*;
pub use postgres::PostgresServer;

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// `dist/entitle.wasm`, which `cargo xtask build-wasm` makes.
pub fn module_path() -> PathBuf {
    let path = root().join("dist").join("entitle.wasm");
    assert!(
        path.is_file(),
        "`{}` is missing: run `cargo xtask build-wasm` first",
        path.display()
    );
    path
}

/// The module, loaded with the default limits.
pub fn module() -> WasmModule {
    WasmModule::load(module_path()).unwrap()
}

/// One of the demo documents shipped in `examples/`, by file name.
pub fn example(name: &str) -> PathBuf {
    root().join("examples").join(name)
}

/// A demo document's text.
pub fn example_text(name: &str) -> String {
    let path = example(name);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read `{}`: {error}", path.display()))
}

/// A file of `tests/conformance/fixtures/`, by its path there.
pub fn fixture(name: &str) -> PathBuf {
    root().join("tests/conformance/fixtures").join(name)
}

/// A fixture's bytes.
pub fn fixture_bytes(name: &str) -> Vec<u8> {
    let path = fixture(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read `{}`: {e}", path.display()))
}

/// A fixture read as JSON.
pub fn fixture_json(name: &str) -> Value {
    serde_json::from_slice(&fixture_bytes(name)).unwrap()
}

/// The test-only keys (never trusted anywhere else).
pub fn keys_dir() -> PathBuf {
    fixture("keys")
}

/// A fresh, empty folder for one test under the target directory; the
/// process id keeps test binaries running at once apart.
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A free loopback port (bound, then released for a server to take).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `dir/name` as a command-line argument.
pub fn arg(dir: &Path, name: &str) -> String {
    dir.join(name).display().to_string()
}

/// The sha256 of a file, lowercase hex.
pub fn sha256_file(path: &Path) -> String {
    entitle_host::sha256_hex(&std::fs::read(path).unwrap())
}

/// What `entitle` did.
#[derive(Debug)]
pub struct Run {
    /// Its exit status.
    pub status: u8,
    /// What it printed on stdout.
    pub stdout: String,
    /// What it printed on stderr.
    pub stderr: String,
}

/// Runs `entitle` in process with these arguments (without the program
/// name) and this stdin.
pub fn entitle(args: &[&str], stdin: &str) -> Run {
    let mut argv = vec!["entitle"];
    argv.extend_from_slice(args);
    let mut input = stdin.as_bytes();
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let status = entitle_host::cli::run(argv, &mut input, &mut stdout, &mut stderr);
    Run {
        status,
        stdout: String::from_utf8(stdout).unwrap(),
        stderr: String::from_utf8(stderr).unwrap(),
    }
}
