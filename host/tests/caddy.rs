//! The gateway behind a real Caddy (Debian's 2.6, which `bash
//! tests/setup.sh` installs): a `reverse_proxy` to `/v1/forward-auth` before
//! every request, written out as in docs/gateway.md so that it is correct on
//! Caddy 2.6, whose `copy_headers` sends placeholder text upstream.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod proxies;
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use proxies::{render, start_on_free_port, Proxy, Setup, Upstream};
use support::{write_documents, Gateway};

/// Debian's caddy.
fn caddy_binary() -> PathBuf {
    let installed = Path::new("/usr/bin/caddy");
    assert!(
        installed.is_file(),
        "caddy is not installed: run `bash tests/setup.sh` (as root) to install Debian's caddy"
    );
    installed.to_path_buf()
}

#[test]
fn caddy_asks_the_gateway_and_keeps_refusals_and_forged_headers_from_the_upstream() {
    let caddy = caddy_binary();
    proxies::assert_documented(
        "Caddy",
        "Caddyfile",
        &[
            ("PREFIX", String::from("/var/lib/caddy")),
            ("LISTEN", String::from("api.example.com")),
            ("GATEWAY", String::from("127.0.0.1:8414")),
            ("UPSTREAM", String::from("127.0.0.1:8080")),
        ],
        "route {",
        None,
    );
    let dir = support::scratch("caddy");
    write_documents(&dir, "1.0.0");
    let gateway = Gateway::start(&dir, &support::module_path(), &["--watch-ms", "0"]);
    let upstream = Upstream::start();
    let home = dir.join("caddy");
    std::fs::create_dir_all(&home).unwrap();
    let proxy = start_on_free_port(|addr| {
        let config = render(
            "Caddyfile",
            &[
                ("PREFIX", home.display().to_string()),
                ("LISTEN", addr.to_string()),
                ("GATEWAY", gateway.addr.to_string()),
                ("UPSTREAM", upstream.addr.to_string()),
            ],
        );
        let file = home.join("Caddyfile");
        std::fs::write(&file, config).unwrap();
        let mut command = Command::new(&caddy);
        command
            .args(["run", "--adapter", "caddyfile", "--config"])
            .arg(&file)
            // Caddy keeps its state under these: the scratch folder, not ~.
            .env("HOME", &home)
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("XDG_DATA_HOME", home.join("data"));
        Proxy::start("caddy", command, addr, home.join("caddy.log"), false)
    });
    proxies::scenario(
        &Setup {
            license_header: "x-license",
            // reverse_proxy cannot reach the gateway: 502 Bad Gateway.
            gateway_down_status: 502,
        },
        gateway,
        &proxy,
        &upstream,
    );
}
