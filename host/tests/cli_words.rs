//! The command line speaks to its user in flags and files: a key pair made
//! where asked with a key set the verifier takes, missing flags named as
//! flags, numbers checked with the flag named, a document that is not JSON
//! counted as the user's error, every problem `validate` finds.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use support::{arg as path, entitle as run, scratch};

/// A demo document's path, as an argument.
fn example(name: &str) -> String {
    support::example(name).display().to_string()
}

#[test]
fn keys_new_makes_its_folder_and_prints_a_key_set_that_verifies() {
    let dir = scratch("keys");
    let keys_dir = dir.join("nested").join("keys");
    let made = run(
        &[
            "keys",
            "new",
            "--id",
            "vendor-2026-11",
            "--out",
            &keys_dir.display().to_string(),
        ],
        "",
    );
    assert_eq!(made.status, 0, "{}", made.stderr);
    assert!(keys_dir.join("vendor-2026-11.pem").is_file());
    assert!(keys_dir.join("vendor-2026-11.pub.pem").is_file());
    let set: serde_json::Value = serde_json::from_str(&made.stdout).unwrap();
    let keys = set["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["id"], "vendor-2026-11");
    let public = std::fs::read_to_string(keys_dir.join("vendor-2026-11.pub.pem")).unwrap();
    assert_eq!(keys[0]["public_key"], public.as_str());
    let key_set = path(&dir, "keys.json");
    std::fs::write(&key_set, &made.stdout).unwrap();

    // What it printed is what `verify --keys` and `--keys` take.
    let private = path(&keys_dir, "vendor-2026-11.pem");
    for (kind, document, signed) in [
        (
            "license",
            example("license.json"),
            path(&dir, "license.signed.json"),
        ),
        (
            "bundle",
            example("bundle.json"),
            path(&dir, "bundle.signed.json"),
        ),
    ] {
        let envelope = run(
            &[
                "sign",
                "--key",
                &private,
                "--key-id",
                "vendor-2026-11",
                "--kind",
                kind,
                &document,
            ],
            "",
        );
        assert_eq!(envelope.status, 0, "{}{}", envelope.stdout, envelope.stderr);
        std::fs::write(&signed, &envelope.stdout).unwrap();
        let verified = run(
            &[
                "verify", "--engine", "native", "--keys", &key_set, "--kind", kind, &signed,
            ],
            "",
        );
        assert_eq!(verified.status, 0, "{}", verified.stdout);
        assert!(
            verified.stdout.contains(r#""verified":true"#),
            "{}",
            verified.stdout
        );
    }
    let checked = run(
        &[
            "check",
            "--engine",
            "native",
            "--keys",
            &key_set,
            "--bundle",
            &path(&dir, "bundle.signed.json"),
            "--license",
            &path(&dir, "license.signed.json"),
            "--now",
            "2026-11-22T10:00:00Z",
            "--feature",
            "sso",
        ],
        "",
    );
    assert_eq!(checked.status, 0, "{}", checked.stdout);
    assert!(
        checked.stdout.contains(r#""decision":"allow""#),
        "{}",
        checked.stdout
    );
}

#[test]
fn a_missing_now_is_named_as_a_flag_and_the_json_stays_the_engine_s() {
    let (bundle, license) = (example("bundle.json"), example("license.json"));
    let status = run(
        &[
            "status",
            "--engine",
            "native",
            "--bundle",
            &bundle,
            "--license",
            &license,
        ],
        "",
    );
    assert_eq!(status.status, 1);
    assert_eq!(
        status.stderr,
        "entitle: `--now` is missing: pass `--now <RFC3339>`\n"
    );
    let answer: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(answer["errors"][0]["path"], "$.now");
    assert_eq!(answer["errors"][0]["help"], "add the field `now`");

    let nothing_asked = run(
        &[
            "check",
            "--engine",
            "native",
            "--bundle",
            &bundle,
            "--license",
            &license,
            "--now",
            "2026-11-22T10:00:00Z",
        ],
        "",
    );
    assert_eq!(nothing_asked.status, 1);
    assert_eq!(
        nothing_asked.stderr,
        "entitle: `--feature` is missing: pass `--feature <F>` or `--metric <M> --amount <N>`\n"
    );
}

#[test]
fn a_problem_in_a_file_names_the_file_and_the_path_inside_it() {
    let dir = scratch("file-words");
    let mut license: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(example("license.json")).unwrap()).unwrap();
    license["seats"] = 0.into();
    let file = path(&dir, "license.json");
    std::fs::write(&file, license.to_string()).unwrap();
    let validate = run(
        &[
            "validate",
            "--engine",
            "native",
            "--bundle",
            &example("bundle.json"),
            "--license",
            &file,
        ],
        "",
    );
    assert_eq!(validate.status, 1);
    assert_eq!(
        validate.stderr,
        format!(
            "entitle: `{file}` (--license) at `$.seats`: seats must be greater than zero, got `0` (use a value greater than zero)\n"
        )
    );
    let unknown = run(
        &[
            "check",
            "--engine",
            "native",
            "--bundle",
            &example("bundle.json"),
            "--license",
            &example("license.json"),
            "--now",
            "2026-11-22T10:00:00Z",
            "--feature",
            "teleport",
        ],
        "",
    );
    assert_eq!(unknown.status, 1);
    assert_eq!(
        unknown.stderr,
        "entitle: `--feature`: unknown feature `teleport` (declare the feature in the bundle or fix the name)\n"
    );
}

#[test]
fn counts_are_whole_numbers_and_the_flag_says_so() {
    let docs = [
        "--engine",
        "native",
        "--bundle",
        "b.json",
        "--license",
        "l.json",
        "--metric",
        "api_calls",
    ];
    for (amount, said) in [
        ("-5", "0 or more: got `-5`"),
        ("1.5", "0 or more: got `1.5`"),
        ("-0.5", "0 or more: got `-0.5`"),
        ("ten", "0 or more: got `ten`"),
        (
            "18446744073709551616",
            "at most 18446744073709551615: got `18446744073709551616`",
        ),
    ] {
        let mut args = vec!["check"];
        args.extend_from_slice(&docs);
        args.extend_from_slice(&["--amount", amount]);
        let refused = run(&args, "");
        assert_eq!(refused.status, 2, "{amount}");
        assert_eq!(
            refused.stderr,
            format!("entitle: `--amount` takes a whole number of units, {said}\n"),
            "{amount}"
        );
        assert_eq!(refused.stdout, "");
    }
    let seconds = run(
        &[
            "business-time",
            "add",
            "--calendar",
            &example("calendar.json"),
            "--at",
            "2026-11-20T15:30:00Z",
            "--seconds",
            "-60",
        ],
        "",
    );
    assert_eq!(seconds.status, 2);
    assert_eq!(
        seconds.stderr,
        "entitle: `--seconds` takes a whole number of seconds, 0 or more: got `-60`\n"
    );
}

#[test]
fn the_gateway_s_numbers_are_whole_and_the_flag_says_so() {
    for (flag, value, least) in [
        ("--workers", "-2", 0),
        ("--call-timeout-ms", "1.5", 0),
        ("--memory-mib", "-1", 0),
        ("--reading-every", "-5", 1),
        ("--commit-delay-us", "0.5", 0),
        ("--max-body", "-65536", 0),
    ] {
        let refused = run(&["serve", "--allow-unsigned", flag, value], "");
        assert_eq!(refused.status, 2, "{flag}");
        assert!(
            refused.stderr.starts_with(&format!(
                "error: `{flag}` takes a whole number, {least} or more: got `{value}`\n"
            )),
            "{flag}: {}",
            refused.stderr
        );
    }
}

#[test]
fn a_negative_uptime_reaches_the_engine_which_refuses_it() {
    let refused = run(
        &[
            "quote",
            "--engine",
            "native",
            "--bundle",
            &example("bundle.json"),
            "--license",
            &example("license.json"),
            "--usage",
            &example("usage.json"),
            "--now",
            "2026-11-22T10:00:00Z",
            "--uptime",
            "-5",
        ],
        "",
    );
    assert_eq!(refused.status, 1, "{}", refused.stderr);
    let answer: serde_json::Value = serde_json::from_str(&refused.stdout).unwrap();
    assert_eq!(answer["errors"][0]["path"], "$.uptime");
    assert!(
        refused.stderr.starts_with("entitle: `--uptime`: "),
        "{}",
        refused.stderr
    );
}

#[test]
fn a_document_that_is_not_json_is_the_user_s_error() {
    let dir = scratch("not-json");
    let broken = path(&dir, "broken.json");
    std::fs::write(&broken, "{\"license\": \n").unwrap();
    for args in [
        vec![
            "validate",
            "--engine",
            "native",
            "--bundle",
            broken.as_str(),
        ],
        vec!["status", "--engine", "native", "--request", broken.as_str()],
        vec![
            "verify",
            "--engine",
            "native",
            "--keys",
            broken.as_str(),
            "-",
        ],
    ] {
        let refused = run(&args, "{}");
        assert_eq!(refused.status, 1, "{args:?}");
        assert!(
            refused
                .stderr
                .starts_with(&format!("entitle: `{broken}` is not valid json: ")),
            "{args:?}: {}",
            refused.stderr
        );
    }
    // A file that is not there is not judged: the command could not run.
    let missing = run(
        &[
            "validate",
            "--engine",
            "native",
            "--bundle",
            "/nonexistent/b.json",
        ],
        "",
    );
    assert_eq!(missing.status, 2);
}

#[test]
fn validate_reports_every_part_and_lists_the_usage_it_checked() {
    let valid = run(
        &[
            "validate",
            "--engine",
            "native",
            "--bundle",
            &example("bundle.json"),
            "--license",
            &example("license.json"),
            "--usage",
            &example("usage.json"),
        ],
        "",
    );
    assert_eq!(valid.status, 0, "{}", valid.stdout);
    assert!(
        valid
            .stdout
            .contains(r#""checked":["bundle","license","usage"]"#),
        "{}",
        valid.stdout
    );
    let dir = scratch("validate-parts");
    let mut bundle: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(example("bundle.json")).unwrap()).unwrap();
    bundle["tiers"]["team"]["rank"] = "second".into();
    bundle["features"]["sso"]["kind"] = "sometimes".into();
    let file = path(&dir, "bundle.json");
    std::fs::write(&file, bundle.to_string()).unwrap();
    let broken = run(&["validate", "--engine", "native", "--bundle", &file], "");
    assert_eq!(broken.status, 1);
    let answer: serde_json::Value = serde_json::from_str(&broken.stdout).unwrap();
    let paths: Vec<&str> = answer["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        ["$.bundle.features.sso.kind", "$.bundle.tiers.team.rank"]
    );
    assert_eq!(broken.stderr.lines().count(), 2, "{}", broken.stderr);
}
