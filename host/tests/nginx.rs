//! The gateway behind a real nginx (Debian's, which `bash tests/setup.sh`
//! installs): `auth_request` asks `entitle serve` before every request,
//! with the recipe of docs/gateway.md (`host/tests/nginx/entitle.conf`).
//! The scenario every proxy passes, then what is nginx's own: the client's
//! answer carries the decision too, a reused key is 422, and no header a
//! client forges under a name the gateway uses reaches the upstream.
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

use serde_json::{json, Value};

use proxies::{render, start_on_free_port, Proxy, Setup, Upstream};
use support::{agent, get, post, write_documents, Answer, Gateway};

/// The recipe, relative to `host/tests/proxies/` (where `render` reads).
const RECIPE: &str = "../nginx/entitle.conf";

/// What runs it: the prefix directory and an `include` of the recipe.
const MAIN: &str = "../nginx/nginx.conf";

/// The nginx binary Debian installs.
fn nginx_binary() -> PathBuf {
    let installed = Path::new("/usr/sbin/nginx");
    if installed.is_file() {
        return installed.to_path_buf();
    }
    let on_path = std::env::var_os("PATH")
        .map(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join("nginx"))
                .find(|candidate| candidate.is_file())
        })
        .unwrap_or_default();
    on_path.unwrap_or_else(|| {
        panic!(
            "nginx is not installed: run `bash tests/setup.sh` (as root) to install Debian's nginx"
        )
    })
}

/// Starts nginx in the foreground as one process, the recipe's addresses
/// filled in, on a free port.
fn start_nginx(dir: &Path, gateway: &Gateway, upstream: &Upstream) -> Proxy {
    let nginx = nginx_binary();
    let prefix = dir.join("nginx");
    std::fs::create_dir_all(&prefix).unwrap();
    start_on_free_port(|addr| {
        let site = render(
            RECIPE,
            &[
                ("LISTEN", addr.to_string()),
                ("GATEWAY", gateway.addr.to_string()),
                ("UPSTREAM", upstream.addr.to_string()),
            ],
        );
        std::fs::write(prefix.join("entitle.conf"), site).unwrap();
        let conf = prefix.join("nginx.conf");
        std::fs::write(
            &conf,
            render(MAIN, &[("PREFIX", prefix.display().to_string())]),
        )
        .unwrap();
        let mut command = Command::new(&nginx);
        command.arg("-p").arg(&prefix).arg("-c").arg(&conf).args([
            "-e",
            "stderr",
            "-g",
            "daemon off; master_process off;",
        ]);
        Proxy::start("nginx", command, addr, prefix.join("nginx.log"), false)
    })
}

/// A gateway on the test documents, an upstream and nginx between them.
fn set_up(name: &str) -> (Gateway, Upstream, Proxy) {
    // Fails here, before anything starts, when nginx is missing.
    nginx_binary();
    let dir = support::scratch(name);
    write_documents(&dir, "1.0.0");
    let gateway = Gateway::start(&dir, &support::module_path(), &["--watch-ms", "0"]);
    let upstream = Upstream::start();
    let proxy = start_nginx(&dir, &gateway, &upstream);
    (gateway, upstream, proxy)
}

#[test]
fn docs_show_the_nginx_recipe_this_test_runs() {
    proxies::assert_documented(
        "nginx",
        RECIPE,
        &[
            ("LISTEN", String::from("80")),
            ("GATEWAY", String::from("127.0.0.1:8414")),
            ("UPSTREAM", String::from("127.0.0.1:8080")),
        ],
        "upstream entitle {",
        None,
    );
}

#[test]
fn nginx_auth_request_asks_the_gateway_and_keeps_refusals_and_forged_headers_from_the_upstream() {
    let (gateway, upstream, proxy) = set_up("nginx");
    proxies::scenario(
        &Setup {
            license_header: "x-license",
            // The subrequest cannot reach the gateway (502): auth_request
            // answers 500.
            gateway_down_status: 500,
        },
        gateway,
        &proxy,
        &upstream,
    );
}

/// Every header a client might send under a name the gateway reads or
/// answers, each with a value the gateway never gives.
const FORGED: [(&str, &str); 17] = [
    ("X-Entitle-Decision", "forged"),
    ("X-Entitle-Reason", "forged"),
    ("X-Entitle-Remaining", "forged"),
    ("X-Entitle-Valid-Until", "forged"),
    ("X-Entitle-Warning", "forged"),
    ("X-Entitle-Status", "forged"),
    ("X-Entitle-Failure", "forged"),
    ("X-Entitle-License", "lic-pro"),
    ("X-Entitle-Feature", "sso"),
    ("X-Entitle-Metric", "api_calls"),
    ("X-Entitle-Amount", "1000"),
    // Another spelling and a second copy of one name.
    ("x-entitle-decision", "forged"),
    ("X-ENTITLE-REASON", "forged"),
    ("X-Original-Method", "POST"),
    ("X-Original-URI", "/api/search"),
    ("X-Forwarded-Method", "POST"),
    ("X-Forwarded-Uri", "/api/search"),
];

/// The refusal body nginx builds from the gateway's headers.
fn refusal(answer: &Answer) -> Value {
    assert_eq!(
        answer.header("content-type"),
        Some("application/json"),
        "{answer:?}"
    );
    serde_json::from_str(&answer.body).unwrap_or_else(|e| panic!("not json ({e}): {answer:?}"))
}

#[test]
fn nginx_strips_every_forged_entitle_header_and_answers_the_client_with_the_decision() {
    let (gateway, upstream, proxy) = set_up("nginx-own");
    let http = agent();
    let used = |license: &str| support::used(&gateway, license, "api_calls");

    // An allowed request with every forged header: the decision is the
    // route's for the license named by X-License (basic has reports but no
    // sso, the forged feature; the forged metric, or the forged original
    // request `POST /api/search`, would count a call).
    let mut headers = FORGED.to_vec();
    headers.push(("x-license", "lic-basic"));
    let a = get(&http, &proxy.url("/api/reports"), &headers).unwrap();
    assert_eq!((a.status, a.body.as_str()), (200, "upstream ok"), "{a:?}");
    assert_eq!(used("lic-basic"), 0);
    let seen = upstream.last();
    assert_eq!(
        (seen.method.as_str(), seen.target.as_str()),
        ("GET", "/api/reports")
    );
    let entitle = seen.entitle_headers();
    // The gateway's answer (no quota on this route, not in grace), once each.
    let names: Vec<&str> = entitle.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "x-entitle-decision",
            "x-entitle-reason",
            "x-entitle-valid-until"
        ],
        "the upstream got {entitle:?}"
    );
    assert_eq!(seen.header("x-entitle-decision"), Some("allow"));
    assert_eq!(seen.header("x-entitle-reason"), Some("entitled"));
    assert!(
        seen.header("x-entitle-valid-until")
            .is_some_and(|v| v.ends_with('Z') && v.len() >= 20),
        "{entitle:?}"
    );
    // No forged value under any of them (the client's X-Original-* and
    // X-Forwarded-* headers reach the upstream: they are not the gateway's
    // answer, and the gateway did not read them).
    assert!(
        entitle.iter().all(|(_, v)| v != "forged" && v != "lic-pro"),
        "the upstream got a forged header: {entitle:?}"
    );
    // The client gets the gateway's answer too, never its own headers back.
    assert_eq!(a.header("x-entitle-decision"), Some("allow"), "{a:?}");
    assert_eq!(a.header("x-entitle-reason"), Some("entitled"), "{a:?}");
    assert_eq!(a.header("x-entitle-status"), Some("200"), "{a:?}");
    assert_eq!(
        a.header("x-entitle-valid-until"),
        seen.header("x-entitle-valid-until")
    );
    assert_eq!(a.header("x-entitle-warning"), None, "{a:?}");

    // A client naming its license in the gateway's own header names none.
    let a = get(
        &http,
        &proxy.url("/api/reports"),
        &[("x-entitle-license", "lic-pro")],
    )
    .unwrap();
    assert_eq!(a.status, 403, "{a:?}");
    assert_eq!(
        refusal(&a),
        json!({"decision": "error", "reason": "missing_license"})
    );

    // The same key with another request: refused with 422, the gateway's
    // status, and counted nothing; the first request's retry is counted once.
    let search = |path: &str, key: &str| {
        post(
            &http,
            &proxy.url(path),
            &json!({}),
            &[("x-license", "lic-pro"), ("x-request-id", key)],
        )
        .unwrap()
    };
    let first = search("/api/search", "key-1");
    assert_eq!(first.status, 200, "{first:?}");
    assert_eq!(used("lic-pro"), 1);
    let hits = upstream.hits();
    let other = search("/api/search/saved", "key-1");
    assert_eq!(other.status, 422, "{other:?}");
    assert_eq!(other.header("x-entitle-status"), Some("422"), "{other:?}");
    assert_eq!(
        refusal(&other),
        json!({"decision": "error", "reason": "idempotency_key_reused"})
    );
    assert_eq!(
        upstream.hits(),
        hits,
        "a refused request reached the upstream"
    );
    let again = search("/api/search", "key-1");
    assert_eq!(again.status, 200, "{again:?}");
    assert_eq!(
        again.header("x-entitle-remaining"),
        first.header("x-entitle-remaining")
    );
    assert_eq!(used("lic-pro"), 1);
    // The upstream gets the client's request id as the client sent it.
    assert_eq!(upstream.last().header("x-request-id"), Some("key-1"));
}
