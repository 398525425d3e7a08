//! A real PostgreSQL (Debian's, which `bash tests/setup.sh` installs) of the
//! test's own: a cluster made by `initdb` in a scratch folder, a free
//! loopback port, trust authentication for the user `entitle`; stopped
//! when dropped. Run as the `postgres` user when the tests run as root,
//! which PostgreSQL refuses to run as.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::free_port;

/// A running PostgreSQL cluster.
pub struct PostgresServer {
    bin: PathBuf,
    /// Under the system's temporary folder, not the target folder: the
    /// `postgres` user must be able to reach it, and a checkout may sit
    /// in a home folder only its owner can enter.
    dir: PathBuf,
    data: PathBuf,
    /// `pg_ctl`'s `-o`: the port, the address, the socket folder.
    options: String,
    /// `postgres://entitle@127.0.0.1:<port>/postgres`.
    pub url: String,
}

impl PostgresServer {
    /// Makes a cluster and starts it; returns once it takes connections.
    pub fn start(name: &str) -> PostgresServer {
        let bin = bin_dir();
        let dir = std::env::temp_dir().join(format!("entitle-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let data = dir.join("data");
        if is_root() {
            run(Command::new("chown")
                .arg("-R")
                .arg("postgres:postgres")
                .arg(&dir));
        }
        run(as_postgres(&bin.join("initdb")).arg("-D").arg(&data).args([
            "-U",
            "entitle",
            "--auth=trust",
            "--no-sync",
            "-E",
            "UTF8",
        ]));
        let port = free_port();
        let options = format!("-p {port} -h 127.0.0.1 -k {} -F", dir.display());
        let server = PostgresServer {
            bin,
            dir,
            data,
            options,
            url: format!("postgres://entitle@127.0.0.1:{port}/postgres"),
        };
        server.start_again();
        server
    }

    /// Stops the server at once, as a crash would (`-m immediate`: no
    /// checkpoint; what was committed is in the WAL).
    pub fn stop(&self) {
        run(as_postgres(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "immediate", "-w", "stop"]));
    }

    /// Starts the server on its cluster and port; returns once it takes
    /// connections.
    pub fn start_again(&self) {
        run(as_postgres(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(&self.data)
            .arg("-l")
            .arg(self.dir.join("log"))
            .args(["-w", "-t", "30", "-o", &self.options, "start"]));
    }
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        let _ = as_postgres(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "immediate", "-w", "stop"])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The newest `/usr/lib/postgresql/<version>/bin` with `initdb`.
fn bin_dir() -> PathBuf {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin).expect(
        "PostgreSQL is not installed: run `bash tests/setup.sh` (as root) to install Debian's postgresql",
    )
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.trim_ascii() == b"0")
}

fn as_postgres(program: &Path) -> Command {
    if is_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn run(command: &mut Command) {
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "{command:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
