//! The `entitle` command line, run in process: request assembly, exit
//! statuses, errors on stderr, and the same output from both engines.
//! The wasm cases need `dist/entitle.wasm`: run `cargo xtask build-wasm` first.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::path::PathBuf;

use support::{arg as file, entitle as run, example, module_path, scratch};

/// A fresh directory for one test, holding small documents, a broken one,
/// and copies of the demo documents shipped in `examples/`.
fn documents(test: &str) -> PathBuf {
    let dir = scratch(&format!("cli-{test}"));
    std::fs::write(dir.join("bundle.json"), r#"{"id":"b","version":"1"}"#).unwrap();
    std::fs::write(dir.join("license.json"), r#"{"customer":"c"}"#).unwrap();
    std::fs::write(dir.join("usage.json"), r#"{"metrics":{}}"#).unwrap();
    std::fs::write(dir.join("broken.json"), "{").unwrap();
    for name in ["bundle.json", "license.json", "usage.json"] {
        std::fs::copy(example(name), dir.join(format!("example-{name}"))).unwrap();
    }
    dir
}

/// The envelope the engine gives for the request the CLI should assemble.
fn expected_for(request: &str) -> (String, u8) {
    let answer = entitle_core::api::evaluate(request.as_bytes());
    let status = if answer.starts_with(r#"{"outcome":"ok""#) {
        0
    } else {
        1
    };
    (format!("{answer}\n"), status)
}

#[test]
fn check_assembles_the_request_and_prints_the_envelope() {
    let dir = documents("check");
    let run = run(
        &[
            "check",
            "--engine",
            "native",
            "--bundle",
            &file(&dir, "bundle.json"),
            "--license",
            &file(&dir, "license.json"),
            "--usage",
            "-",
            "--now",
            "2026-11-22T10:00:00Z",
            "--metric",
            "api_calls",
            "--amount",
            "250",
        ],
        "{\"metrics\":{}}\n",
    );
    let (expected, status) = expected_for(
        r#"{"op":"check","bundle":{"id":"b","version":"1"},"license":{"customer":"c"},"usage":{"metrics":{}},"now":"2026-11-22T10:00:00Z","metric":"api_calls","amount":250}"#,
    );
    assert_eq!(run.stdout, expected);
    assert_eq!(run.status, status);
    // The small bundle is refused: each of its errors is told on stderr,
    // naming the file it is in.
    let answer: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let errors = answer["errors"].as_array().unwrap();
    assert_eq!(run.stderr.lines().count(), errors.len(), "{}", run.stderr);
    let prefix = format!("entitle: `{}` (--bundle) at `$.", file(&dir, "bundle.json"));
    assert!(
        run.stderr.lines().all(|line| line.starts_with(&prefix)),
        "{}",
        run.stderr
    );
}

#[test]
fn a_whole_request_is_passed_on_with_its_op() {
    let dir = documents("request");
    let request = r#"{"bundle":{},"now":"2026-11-22T10:00:00Z"}"#;
    std::fs::write(dir.join("request.json"), request).unwrap();
    let run = run(
        &[
            "status",
            "--engine",
            "native",
            "--request",
            &file(&dir, "request.json"),
        ],
        "",
    );
    let (expected, status) =
        expected_for(r#"{"op":"status","bundle":{},"now":"2026-11-22T10:00:00Z"}"#);
    assert_eq!(run.stdout, expected);
    assert_eq!(run.status, status);
}

#[test]
fn pretty_keeps_the_engine_s_key_order() {
    let run = run(&["validate", "--engine", "native", "--pretty"], "");
    let compact = entitle_core::api::evaluate(br#"{"op":"validate"}"#);
    let squeezed: String = run
        .stdout
        .lines()
        .map(str::trim)
        .collect::<Vec<_>>()
        .join("")
        .replace("\": ", "\":");
    assert_eq!(squeezed, compact);
    assert!(run.stdout.contains("\n  \"outcome\""));
}

#[test]
fn host_failures_exit_2_with_a_plain_error() {
    let dir = documents("failures");
    let missing = run(
        &[
            "status",
            "--engine",
            "native",
            "--bundle",
            "/nonexistent/b.json",
        ],
        "",
    );
    assert_eq!(missing.status, 2);
    assert_eq!(missing.stdout, "");
    assert!(
        missing
            .stderr
            .starts_with("entitle: cannot read `/nonexistent/b.json`"),
        "{}",
        missing.stderr
    );

    let broken = run(
        &[
            "status",
            "--engine",
            "native",
            "--license",
            &file(&dir, "broken.json"),
        ],
        "",
    );
    // A document that is not JSON is the user's error, not the host's.
    assert_eq!(broken.status, 1);
    assert!(
        broken.stderr.contains("broken.json` is not valid json"),
        "{}",
        broken.stderr
    );

    let two_stdins = run(
        &[
            "status",
            "--engine",
            "native",
            "--bundle",
            "-",
            "--license",
            "-",
        ],
        "{}",
    );
    assert_eq!(two_stdins.status, 2);
    assert_eq!(
        two_stdins.stderr,
        "entitle: only one document can come from stdin (`-`)\n"
    );

    let bad_amount = run(
        &[
            "check", "--engine", "native", "--metric", "m", "--amount", "lots",
        ],
        "",
    );
    assert_eq!(bad_amount.status, 2);

    let other_op = run(
        &["check", "--engine", "native", "--request", "-"],
        r#"{"op":"quote"}"#,
    );
    assert_eq!(other_op.status, 2);
    assert_eq!(
        other_op.stderr,
        "entitle: the request in `-` has op `quote`, not `check`\n"
    );

    let conflicting = run(
        &["check", "--feature", "a", "--metric", "b", "--amount", "1"],
        "",
    );
    assert_eq!(conflicting.status, 2);
    assert!(conflicting.stderr.contains("cannot be used with"));

    let no_module = run(&["status", "--module", "/nonexistent/entitle.wasm"], "");
    assert_eq!(no_module.status, 2);
    assert!(no_module
        .stderr
        .starts_with("entitle: cannot read `/nonexistent/entitle.wasm`"));
}

#[test]
fn help_goes_to_stdout_and_exits_0() {
    let help = run(&["--help"], "");
    assert_eq!(help.status, 0);
    for command in [
        "check",
        "status",
        "quote",
        "transition",
        "validate",
        "version",
    ] {
        assert!(help.stdout.contains(command), "{command} missing from help");
    }
}

#[test]
fn version_prints_the_module_s_identity() {
    let module = module_path().display().to_string();
    let run = run(&["version", "--module", &module], "");
    assert_eq!(run.status, 0, "{}", run.stderr);
    let sha256 = std::fs::read_to_string(format!("{module}.sha256")).unwrap();
    let sha256 = sha256.split_whitespace().next().unwrap();
    assert_eq!(
        run.stdout,
        format!(
            "runtime wasmtime\nengine {}\nabi {}\nmodule {module}\nsha256 {sha256}\n",
            entitle_core::api::ENGINE_VERSION,
            entitle_core::api::ABI_VERSION
        )
    );
    let native = self::run(&["version", "--engine", "native"], "");
    assert_eq!(
        native.stdout,
        format!(
            "runtime native\nengine {}\nabi {}\n",
            entitle_core::api::ENGINE_VERSION,
            entitle_core::api::ABI_VERSION
        )
    );
}

#[test]
fn both_engines_print_the_same_bytes_and_status() {
    let module = module_path().display().to_string();
    let dir = documents("engines");
    for prefix in ["", "example-"] {
        let (bundle, license, usage) = (
            file(&dir, &format!("{prefix}bundle.json")),
            file(&dir, &format!("{prefix}license.json")),
            file(&dir, &format!("{prefix}usage.json")),
        );
        let docs = [
            "--bundle",
            &bundle,
            "--license",
            &license,
            "--usage",
            &usage,
            "--now",
            "2026-11-22T10:00:00Z",
        ];
        let commands: [&[&str]; 8] = [
            &["check", "--feature", "sso"],
            &["check", "--metric", "api_calls", "--amount", "3"],
            &["status"],
            &["quote"],
            &["quote", "--uptime", "99.5"],
            &["quote", "--uptime", "100.5"],
            &["transition", "--to", "enterprise"],
            &["validate"],
        ];
        let mut ok = 0;
        for command in commands {
            let mut wasm: Vec<&str> = command.to_vec();
            wasm.extend_from_slice(&docs);
            wasm.extend_from_slice(&["--module", &module]);
            let mut native: Vec<&str> = command.to_vec();
            native.extend_from_slice(&docs);
            native.extend_from_slice(&["--engine", "native"]);
            let (wasm, native) = (run(&wasm, ""), run(&native, ""));
            assert_eq!(wasm.stdout, native.stdout, "{command:?}");
            assert_eq!(wasm.status, native.status, "{command:?}");
            assert!(wasm.status <= 1, "{command:?}: {}", wasm.stderr);
            ok += usize::from(wasm.status == 0);
        }
        if prefix == "example-" {
            assert!(ok >= 1, "the demo documents must get some ok answers");
        }
    }
}

#[test]
fn quote_passes_uptime_on_as_a_string() {
    let dir = documents("quote-uptime");
    let (bundle, license, usage) = (
        file(&dir, "example-bundle.json"),
        file(&dir, "example-license.json"),
        file(&dir, "example-usage.json"),
    );
    let now = "2026-11-22T10:00:00Z";
    let args = [
        "quote",
        "--bundle",
        &bundle,
        "--license",
        &license,
        "--usage",
        &usage,
        "--now",
        now,
        "--uptime",
        "99.5",
        "--engine",
        "native",
    ];
    let text = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
    let request = serde_json::json!({
        "op": "quote",
        "bundle": serde_json::from_str::<serde_json::Value>(&text("example-bundle.json")).unwrap(),
        "license": serde_json::from_str::<serde_json::Value>(&text("example-license.json")).unwrap(),
        "usage": serde_json::from_str::<serde_json::Value>(&text("example-usage.json")).unwrap(),
        "now": now,
        "uptime": "99.5",
    });
    let (expected, status) = expected_for(&request.to_string());
    let got = run(&args, "");
    assert_eq!(got.stdout, expected);
    assert_eq!(got.status, status);
    assert!(
        got.stdout.contains(r#""service_credit":{"uptime":"99.5""#),
        "{}",
        got.stdout
    );
}

/// A conformance fixture's path, as an argument.
fn fixture(name: &str) -> String {
    support::fixture(name).display().to_string()
}

#[test]
fn escalate_reads_the_case_and_both_engines_agree() {
    let module = module_path().display().to_string();
    let (bundle, license) = (fixture("support_bundle.json"), fixture("license.json"));
    let case = std::fs::read_to_string(fixture("case.json")).unwrap();
    let docs = [
        "escalate",
        "--bundle",
        &bundle,
        "--license",
        &license,
        "--case",
        "-",
        "--now",
        "2026-11-16T13:30:00Z",
    ];
    let mut native_args = docs.to_vec();
    native_args.extend_from_slice(&["--engine", "native"]);
    let mut wasm_args = docs.to_vec();
    wasm_args.extend_from_slice(&["--module", &module]);
    let (native, wasm) = (run(&native_args, &case), run(&wasm_args, &case));
    assert_eq!(native.stdout, wasm.stdout);
    assert_eq!((native.status, wasm.status), (0, 0), "{}", native.stderr);
    let answer: serde_json::Value = serde_json::from_str(&native.stdout).unwrap();
    let result = &answer["result"];
    // Pro tier, 5 seats affected: severity normal, first response 240
    // business minutes on the London office calendar from Monday 10:00 GMT:
    // due 14:00, at risk at 75 % (180 min) = 13:00, which raises level 1.
    let first = &result["clocks"][0];
    assert_eq!(first["clock"], "first_response");
    assert_eq!(first["state"], "at_risk");
    assert_eq!(first["at_risk_at"], "2026-11-16T13:00:00Z");
    assert_eq!(first["due_at"], "2026-11-16T14:00:00Z");
    assert_eq!(result["escalation"]["level"], 1);
    assert_eq!(result["owner"]["role"], "support_lead");
    assert_eq!(result["next_evaluation_at"], "2026-11-16T14:00:00Z");

    // A case opened under another version needs --reevaluate.
    let older = case.replace(
        "\"bundle_version\": \"1.0.0\"",
        "\"bundle_version\": \"0.9.0\"",
    );
    assert_ne!(older, case);
    let refused = run(&native_args, &older);
    assert_eq!(refused.status, 1);
    assert!(refused.stdout.contains("bundle_version_mismatch"));
    let mut again = native_args.clone();
    again.push("--reevaluate");
    let accepted = run(&again, &older);
    assert_eq!(accepted.status, 0, "{}", accepted.stdout);
    assert!(accepted.stdout.contains("\"reevaluated\":true"));
}

#[test]
fn simulate_and_diff_replay_a_scenario_on_both_engines() {
    let module = module_path().display().to_string();
    let dir = documents("simulate");
    let scenario = r#"{"scenario":"storage","from":"2026-11-16T00:00:00Z","until":"2026-11-20T00:00:00Z",
        "watch":{"metrics":["storage_gb"]},
        "events":[{"type":"usage","at":"2026-11-16T09:00:00Z","metric":"storage_gb","amount":90},
                  {"type":"usage","at":"2026-11-17T09:00:00Z","metric":"storage_gb","amount":20}]}"#;
    std::fs::write(dir.join("scenario.json"), scenario).unwrap();
    let bundle: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("support_bundle.json")).unwrap())
            .unwrap();
    let mut raised = bundle.clone();
    raised["version"] = "1.1.0".into();
    raised["tiers"]["pro"]["quotas"]["storage_gb"]["limit"] = 120.into();
    std::fs::write(dir.join("raised.json"), raised.to_string()).unwrap();
    let (license, scenario) = (fixture("license.json"), file(&dir, "scenario.json"));
    let bundle = fixture("support_bundle.json");
    let raised = file(&dir, "raised.json");
    for command in [
        vec![
            "simulate",
            "--bundle",
            &bundle,
            "--license",
            &license,
            "--scenario",
            &scenario,
        ],
        vec![
            "diff",
            "--bundle",
            &bundle,
            "--against",
            &raised,
            "--license",
            &license,
            "--scenario",
            &scenario,
        ],
    ] {
        let mut native = command.clone();
        native.extend_from_slice(&["--engine", "native"]);
        let mut wasm = command.clone();
        wasm.extend_from_slice(&["--module", &module]);
        let (native, wasm) = (run(&native, ""), run(&wasm, ""));
        assert_eq!(native.stdout, wasm.stdout, "{command:?}");
        assert_eq!((native.status, wasm.status), (0, 0), "{}", native.stdout);
        // A hard 100 GB: 90 counted, the next 20 refused; with 120 GB the 20
        // are counted, so the refusal is the one difference.
        assert!(
            native.stdout.contains(
                r#"{"at":"2026-11-17T09:00:00Z","kind":"usage_refused","metric":"storage_gb","amount":20,"reason":"quota_exceeded"}"#
            ) || native.stdout.contains(r#""only_in":"bundle","at":"2026-11-17T09:00:00Z","kind":"usage_refused""#),
            "{}",
            native.stdout
        );
    }
}

#[test]
fn exception_reads_the_request_and_both_engines_agree() {
    let module = module_path().display().to_string();
    let (bundle, license) = (fixture("exception_bundle.json"), fixture("license.json"));
    let request = std::fs::read_to_string(fixture("exception/request.json")).unwrap();
    let docs = [
        "exception",
        "--bundle",
        &bundle,
        "--license",
        &license,
        "--exception-request",
        "-",
        "--now",
        "2026-02-20T00:00:00Z",
    ];
    let mut native_args = docs.to_vec();
    native_args.extend_from_slice(&["--engine", "native"]);
    let mut wasm_args = docs.to_vec();
    wasm_args.extend_from_slice(&["--module", &module]);
    let (native, wasm) = (run(&native_args, &request), run(&wasm_args, &request));
    assert_eq!(native.stdout, wasm.stdout);
    assert_eq!((native.status, wasm.status), (0, 0), "{}", native.stderr);
    let answer: serde_json::Value = serde_json::from_str(&native.stdout).unwrap();
    // 20 × 40 + 30 × 25 = 1550, 15.5 rounded half up: fast, one approver.
    assert_eq!(answer["result"]["risk"]["total"], 16);
    assert_eq!(answer["result"]["track"], "fast");
    assert_eq!(answer["result"]["state"], "requested");
}

#[test]
fn scan_reads_the_inventory_files_and_both_engines_agree() {
    let module = module_path().display().to_string();
    let dir = documents("scan");
    let mut bundle: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("support_bundle.json")).unwrap())
            .unwrap();
    let merge: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("compliance_bundle.json")).unwrap())
            .unwrap();
    bundle["compliance"] = merge["$merge"]["compliance"].clone();
    let mut license: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("license.json")).unwrap()).unwrap();
    license["seats"] = 2.into();
    let installations: Vec<serde_json::Value> = (1..=3)
        .map(|i| {
            serde_json::json!({"id": format!("h{i}"), "license": "lic-1001",
            "first_seen": "2026-11-18T00:00:00Z", "last_seen": "2026-11-19T00:00:00Z"})
        })
        .collect();
    let deployments: Vec<serde_json::Value> = (1..=3)
        .map(|i| serde_json::json!({"installation": format!("h{i}"), "license": "lic-1001"}))
        .collect();
    for (name, value) in [
        ("compliance.json", bundle),
        ("licenses.json", serde_json::json!([license])),
        ("deployments.json", serde_json::json!(deployments)),
        (
            "telemetry.json",
            serde_json::json!({"installations": installations}),
        ),
        ("events.json", serde_json::json!([])),
    ] {
        std::fs::write(dir.join(name), value.to_string()).unwrap();
    }
    let paths: Vec<String> = [
        "compliance.json",
        "licenses.json",
        "deployments.json",
        "telemetry.json",
        "events.json",
    ]
    .iter()
    .map(|n| file(&dir, n))
    .collect();
    let docs = [
        "scan",
        "--bundle",
        &paths[0],
        "--licenses",
        &paths[1],
        "--deployments",
        &paths[2],
        "--telemetry",
        &paths[3],
        "--events",
        &paths[4],
        "--now",
        "2026-11-20T00:00:00Z",
    ];
    let mut native_args = docs.to_vec();
    native_args.extend_from_slice(&["--engine", "native"]);
    let mut wasm_args = docs.to_vec();
    wasm_args.extend_from_slice(&["--module", &module]);
    let (native, wasm) = (run(&native_args, ""), run(&wasm_args, ""));
    assert_eq!(native.stdout, wasm.stdout);
    assert_eq!((native.status, wasm.status), (0, 0), "{}", native.stdout);
    let answer: serde_json::Value = serde_json::from_str(&native.stdout).unwrap();
    // Three declared installations on two seats: 1 over, 100 x 1 >= 10 x 2.
    let findings = answer["result"]["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{answer}");
    assert_eq!(findings[0]["detector"], "over_deployment");
    assert_eq!(findings[0]["measure"]["over"], 1);
}
