//! What the command-line tests share: the module file they load and a way
//! to run `entitle` in process.

#![allow(dead_code, clippy::unwrap_used)]

use std::path::PathBuf;

use entitle_host::cli;

/// `dist/entitle.wasm`, which must have been built.
pub fn module_path() -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .join("dist")
        .join("entitle.wasm");
    assert!(
        path.is_file(),
        "`{}` is missing: run `cargo xtask build-wasm` first",
        path.display()
    );
    path.display().to_string()
}

/// Runs `entitle` with these arguments (without the program name) and this
/// stdin: its exit status, stdout and stderr.
pub fn entitle(args: &[&str], stdin: &str) -> (u8, String, String) {
    let mut argv = vec!["entitle"];
    argv.extend_from_slice(args);
    let mut input = stdin.as_bytes();
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let status = cli::run(argv, &mut input, &mut stdout, &mut stderr);
    (
        status,
        String::from_utf8(stdout).unwrap(),
        String::from_utf8(stderr).unwrap(),
    )
}
