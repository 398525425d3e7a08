//! A real redis-server (Debian's, which `bash tests/setup.sh` installs) of
//! the test's own: a free loopback port, a scratch folder, no persistence;
//! killed when dropped.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{free_port, scratch};

/// A running redis-server.
pub struct RedisServer {
    child: Child,
    dir: std::path::PathBuf,
    port: u16,
    durable: bool,
    /// `redis://127.0.0.1:<port>`.
    pub url: String,
}

impl RedisServer {
    /// Starts one without persistence and waits until it answers `PING`.
    pub fn start(name: &str) -> RedisServer {
        RedisServer::launch(&scratch(name), free_port(), false)
    }

    /// Starts one that fsyncs every write to its append-only file
    /// (`appendfsync always`): what it acknowledged survives a kill.
    pub fn start_durable(name: &str) -> RedisServer {
        RedisServer::launch(&scratch(name), free_port(), true)
    }

    /// Kills the server (SIGKILL) and waits for it to be gone.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts the server again on its port and folder (after [`kill`]).
    ///
    /// [`kill`]: RedisServer::kill
    pub fn start_again(&mut self) {
        *self = RedisServer::launch(&self.dir.clone(), self.port, self.durable);
    }

    fn launch(dir: &Path, port: u16, durable: bool) -> RedisServer {
        let binary = Path::new("/usr/bin/redis-server");
        assert!(
            binary.is_file(),
            "redis-server is not installed: run `bash tests/setup.sh` (as root) to install Debian's redis-server"
        );
        let persistence: [&str; 6] = if durable {
            [
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
            ]
        } else {
            [
                "--save",
                "",
                "--appendonly",
                "no",
                "--protected-mode",
                "yes",
            ]
        };
        let child = Command::new(binary)
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .args(persistence)
            .arg("--dir")
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        let server = RedisServer {
            child,
            dir: dir.to_path_buf(),
            port,
            durable,
            url: format!("redis://127.0.0.1:{port}"),
        };
        let client = redis::Client::open(server.url.as_str()).unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let pong = client
                .get_connection()
                .and_then(|mut c| redis::cmd("PING").query::<String>(&mut c));
            if pong.is_ok() {
                return server;
            }
            assert!(
                Instant::now() < deadline,
                "redis-server did not answer on port {port}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends the server a signal (`STOP` freezes it, `CONT` wakes it).
    pub fn signal(&self, signal: &str) {
        let sent = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(sent.success(), "kill -{signal}");
    }

    /// A plain connection, to look at what the store holds.
    pub fn connection(&self) -> redis::Connection {
        redis::Client::open(self.url.as_str())
            .unwrap()
            .get_connection()
            .unwrap()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
