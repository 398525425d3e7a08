//! Processes the README test starts: commands run in `bash -c` from a
//! scratch copy of the repository's root with `entitle` first on `PATH`,
//! each in its own process group, stopped by that group's id.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{root, scratch};

/// How long one command may take (a cold module compile included).
pub(crate) const COMMAND_TIMEOUT: Duration = Duration::from_secs(180);

/// A scratch folder standing for the repository's root.
pub(crate) fn root_copy(name: &str) -> PathBuf {
    let dir = scratch(name);
    for entry in std::fs::read_dir(root()).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == "target" || name.to_string_lossy().starts_with('.') {
            continue;
        }
        std::os::unix::fs::symlink(entry.path(), dir.join(&name)).unwrap();
    }
    dir
}

/// `PATH` with the directory of the `entitle` binary first.
pub(crate) fn path_with_entitle() -> std::ffi::OsString {
    let bin = Path::new(env!("CARGO_BIN_EXE_entitle")).parent().unwrap();
    let mut paths = vec![bin.to_path_buf()];
    if let Some(path) = std::env::var_os("PATH") {
        paths.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(paths).unwrap()
}

pub(crate) fn bash(command: &str, dir: &Path) -> Command {
    let mut bash = Command::new("bash");
    bash.arg("-c")
        .arg(command)
        .current_dir(dir)
        .env("PATH", path_with_entitle())
        .env_remove("ENTITLE_MODULE")
        .stdin(Stdio::null());
    bash
}

/// What a finished command printed.
pub(crate) struct Output {
    pub(crate) status: std::process::ExitStatus,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

/// Runs a command to its end, or kills it past `COMMAND_TIMEOUT`.
pub(crate) fn run(command: &str, dir: &Path) -> Output {
    let mut child = bash(command, dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .unwrap();
    let stdout = reader(child.stdout.take().unwrap());
    let stderr = reader(child.stderr.take().unwrap());
    let deadline = Instant::now() + COMMAND_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            stop_group(&mut child);
            panic!("`{command}` ran past {COMMAND_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

pub(crate) fn reader(mut stream: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stream.read_to_string(&mut text);
        text
    })
}

/// Stops a process group this test started: TERM, then KILL if it lingers.
pub(crate) fn stop_group(child: &mut Child) {
    let group = format!("-{}", child.id());
    let _ = Command::new("kill")
        .args(["-TERM", "--", &group])
        .stderr(Stdio::null())
        .status();
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if child.try_wait().ok().flatten().is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = Command::new("kill")
        .args(["-KILL", "--", &group])
        .stderr(Stdio::null())
        .status();
    let _ = child.wait();
}

/// A server a block started.
pub(crate) struct Server {
    pub(crate) command: String,
    pub(crate) child: Child,
    pub(crate) log: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        stop_group(&mut self.child);
    }
}
