//! The portal's server (`web/serve.mjs`) sends the module compressed to a
//! client that accepts it, over real HTTP on a free loopback port: gzip and
//! br copies that decompress to the module's exact bytes (sha256), with
//! `Content-Encoding`, `Vary: Accept-Encoding` and the length of what is
//! sent; the plain file to a client that accepts neither.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::io::Write;
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use support::{agent, free_port, module_path, root};

/// `node web/serve.mjs` on a port, stopped when dropped.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start() -> Server {
        let port = free_port();
        let child = Command::new(std::env::var_os("NODE").unwrap_or_else(|| "node".into()))
            .arg(root().join("web/serve.mjs"))
            .env("PORT", port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("running node (tests/setup.sh installs what the tests need)");
        let mut server = Server { child, port };
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = server.child.try_wait().unwrap() {
                panic!("web/serve.mjs exited before listening: {status}");
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "web/serve.mjs did not listen within a minute"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One answer: status, headers (lower-case names) and the body's bytes.
struct Fetched {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Fetched {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

fn fetch(server: &Server, head: bool, accept_encoding: Option<&str>) -> Fetched {
    let url = format!("http://127.0.0.1:{}/dist/entitle.wasm", server.port);
    let agent = agent();
    let response = if head {
        let mut request = agent.head(&url);
        if let Some(value) = accept_encoding {
            request = request.header("accept-encoding", value);
        }
        request.call()
    } else {
        let mut request = agent.get(&url);
        if let Some(value) = accept_encoding {
            request = request.header("accept-encoding", value);
        }
        request.call()
    }
    .unwrap();
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| (n.as_str().to_string(), v.to_str().unwrap().to_string()))
        .collect();
    let body = response
        .into_body()
        .with_config()
        .limit(64 * 1024 * 1024)
        .read_to_vec()
        .unwrap();
    Fetched {
        status,
        headers,
        body,
    }
}

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Decompresses with a program other than the server's code: `gzip -dc`
/// for gzip, node's zlib for br.
fn decompress(coding: &str, bytes: &[u8]) -> Vec<u8> {
    let mut command = match coding {
        "gzip" => {
            let mut command = Command::new("gzip");
            command.arg("-dc");
            command
        }
        "br" => {
            let mut command =
                Command::new(std::env::var_os("NODE").unwrap_or_else(|| "node".into()));
            command.args([
                "-e",
                "const c=[];process.stdin.on('data',d=>c.push(d)).on('end',()=>process.stdout.write(require('zlib').brotliDecompressSync(Buffer.concat(c))))",
            ]);
            command
        }
        other => panic!("no decoder for `{other}`"),
    };
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = bytes.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input).unwrap());
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert!(output.status.success(), "{coding} decoding failed");
    output.stdout
}

#[test]
fn the_module_is_served_compressed_to_clients_that_accept_it_and_plain_to_others() {
    let module = std::fs::read(module_path()).unwrap();
    let expected = sha256(&module);
    let server = Server::start();

    // No Accept-Encoding, and one that refuses both codings: the file itself.
    for accept in [None, Some("identity"), Some("gzip;q=0, br;q=0")] {
        let plain = fetch(&server, false, accept);
        assert_eq!(plain.status, 200, "{accept:?}");
        assert_eq!(plain.header("content-encoding"), None, "{accept:?}");
        assert_eq!(plain.header("content-type"), Some("application/wasm"));
        assert_eq!(plain.header("vary"), Some("Accept-Encoding"));
        assert_eq!(
            plain.header("content-length"),
            Some(module.len().to_string().as_str())
        );
        assert_eq!(sha256(&plain.body), expected, "{accept:?}");
    }

    // gzip, and br when the client accepts it (preferred over gzip).
    for (accept, coding) in [
        ("gzip", "gzip"),
        ("gzip, deflate", "gzip"),
        ("br;q=0, gzip", "gzip"),
        ("br, gzip", "br"),
        ("gzip, deflate, br", "br"),
    ] {
        let packed = fetch(&server, false, Some(accept));
        assert_eq!(packed.status, 200, "{accept}");
        assert_eq!(packed.header("content-encoding"), Some(coding), "{accept}");
        assert_eq!(packed.header("content-type"), Some("application/wasm"));
        assert_eq!(packed.header("vary"), Some("Accept-Encoding"));
        assert_eq!(
            packed.header("content-length"),
            Some(packed.body.len().to_string().as_str()),
            "{accept}: the length is the compressed body's"
        );
        assert!(
            packed.body.len() < module.len() / 2,
            "{accept}: {} bytes sent for a {}-byte module",
            packed.body.len(),
            module.len()
        );
        assert_eq!(
            sha256(&decompress(coding, &packed.body)),
            expected,
            "{accept}: the decompressed bytes are the module's"
        );

        // HEAD answers the same headers, with no body.
        let head = fetch(&server, true, Some(accept));
        assert_eq!(head.status, 200);
        assert_eq!(head.header("content-encoding"), Some(coding));
        assert_eq!(
            head.header("content-length"),
            packed.header("content-length")
        );
        assert!(head.body.is_empty());
    }
}
