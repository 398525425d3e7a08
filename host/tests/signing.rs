//! Signed documents against openssl, at test time: envelopes openssl signs
//! are accepted by both engines, what `entitle sign` and `entitle keys new`
//! write openssl reads and verifies, and the committed test-only fixtures
//! verify with openssl alone. Needs `openssl` and `base64` on the PATH, and
//! the module: `cargo xtask build-wasm`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use entitle_host::Native;
use serde_json::{json, Value};
use support::{entitle, module, module_path, root, scratch, Run};

/// Runs a program, failing the test with its stderr when it fails; its stdout.
fn run(program: &str, args: &[&str]) -> Vec<u8> {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run `{program}` (is it installed?): {e}"));
    assert!(
        output.status.success(),
        "`{program} {}` failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// An envelope assembled from openssl's signature and `base64 -w0`, as
/// docs/signing.md shows.
fn openssl_envelope(key: &Path, key_id: &str, kind: &str, document: &Path, dir: &Path) -> String {
    let sig = dir.join(format!("{key_id}-{kind}.sig"));
    run(
        "openssl",
        &[
            "pkeyutl",
            "-sign",
            "-rawin",
            "-inkey",
            path(key),
            "-in",
            path(document),
            "-out",
            path(&sig),
        ],
    );
    assert_eq!(std::fs::metadata(&sig).unwrap().len(), 64);
    let payload = String::from_utf8(run("base64", &["-w0", path(document)])).unwrap();
    let signature = String::from_utf8(run("base64", &["-w0", path(&sig)])).unwrap();
    format!(
        r#"{{"format":"entitle-signed/1","kind":"{kind}","key_id":"{key_id}","payload":"{payload}","signature":"{signature}"}}"#
    )
}

/// `openssl genpkey` and `pkey -pubout`: the private key file and the key set.
fn openssl_key(dir: &Path, id: &str) -> (PathBuf, String) {
    let private = dir.join(format!("{id}.pem"));
    let public = dir.join(format!("{id}.pub.pem"));
    run(
        "openssl",
        &["genpkey", "-algorithm", "ed25519", "-out", path(&private)],
    );
    run(
        "openssl",
        &[
            "pkey",
            "-in",
            path(&private),
            "-pubout",
            "-out",
            path(&public),
        ],
    );
    let pem = std::fs::read_to_string(&public).unwrap();
    let keys = json!({"keys": [{"id": id, "public_key": pem}]}).to_string();
    (private, keys)
}

#[test]
fn envelopes_openssl_signs_are_accepted_on_both_engines() {
    let dir = scratch("openssl");
    let (key, keys) = openssl_key(&dir, "vendor-2026-11");
    let examples = root().join("examples");
    let bundle = openssl_envelope(
        &key,
        "vendor-2026-11",
        "bundle",
        &examples.join("bundle.json"),
        &dir,
    );
    let license = openssl_envelope(
        &key,
        "vendor-2026-11",
        "license",
        &examples.join("license.json"),
        &dir,
    );
    let usage = std::fs::read_to_string(examples.join("usage.json")).unwrap();
    let ask = r#""now":"2026-11-22T10:00:00Z","metric":"api_calls","amount":100"#;
    let signed = format!(
        r#"{{"op":"check","keys":{keys},"bundle":{bundle},"license":{license},"usage":{usage},{ask}}}"#
    );
    let plain = format!(
        r#"{{"op":"check","bundle":{},"license":{},"usage":{usage},{ask}}}"#,
        std::fs::read_to_string(examples.join("bundle.json")).unwrap(),
        std::fs::read_to_string(examples.join("license.json")).unwrap(),
    );
    let native = Native::new().evaluate(signed.as_bytes());
    let wasm = module().evaluate(signed.as_bytes()).unwrap();
    assert_eq!(native, wasm);
    // Verified, a signed document decides exactly as the plain one: the
    // bundle hash covers the document, not its envelope.
    assert_eq!(native, Native::new().evaluate(plain.as_bytes()));
    let answer: Value = serde_json::from_str(&native).unwrap();
    assert_eq!(answer["outcome"], "ok", "{answer}");

    // A bundle loaded signed takes the openssl-signed license, on both engines.
    let (session, describe) = Native::new().load_signed_bundle(bundle.as_bytes(), keys.as_bytes());
    let mut session = session.unwrap_or_else(|| panic!("{describe}"));
    let (wasm_session, _) = module()
        .load_signed_bundle(bundle.as_bytes(), keys.as_bytes())
        .unwrap();
    let mut wasm_session = wasm_session.unwrap();
    let loaded = session.load_license(license.as_bytes());
    assert_eq!(
        loaded,
        wasm_session.load_license(license.as_bytes()).unwrap()
    );
    assert!(loaded.contains(r#""license":"lic_7Q2M9""#), "{loaded}");
    let request = format!(r#"{{"op":"check","license":"lic_7Q2M9","usage":{usage},{ask}}}"#);
    let answer = session.evaluate(request.as_bytes());
    assert_eq!(answer, wasm_session.evaluate(request.as_bytes()).unwrap());
    assert_eq!(answer, native);
}

/// The committed fixtures are what openssl made: openssl verifies each
/// envelope's signature over its payload with the committed public key.
#[test]
fn the_committed_fixtures_verify_with_openssl() {
    let dir = scratch("fixtures");
    let fixtures = root().join("tests/conformance/fixtures");
    for (name, key_id) in [
        ("bundle", "test-only-a"),
        ("license", "test-only-b"),
        ("license-platinum", "test-only-a"),
    ] {
        let text = std::fs::read(fixtures.join(format!("signature/{name}.envelope.json"))).unwrap();
        let envelope: Value = serde_json::from_slice(&text).unwrap();
        assert_eq!(envelope["key_id"], key_id);
        let payload = STANDARD
            .decode(envelope["payload"].as_str().unwrap())
            .unwrap();
        assert_eq!(
            payload,
            std::fs::read(fixtures.join(format!("signature/{name}.payload.json"))).unwrap()
        );
        let (payload_file, sig_file) = (
            dir.join(format!("{name}.in")),
            dir.join(format!("{name}.sig")),
        );
        std::fs::write(&payload_file, &payload).unwrap();
        std::fs::write(
            &sig_file,
            STANDARD
                .decode(envelope["signature"].as_str().unwrap())
                .unwrap(),
        )
        .unwrap();
        let public = fixtures.join(format!("keys/{key_id}.pub.pem"));
        run(
            "openssl",
            &[
                "pkeyutl",
                "-verify",
                "-rawin",
                "-pubin",
                "-inkey",
                path(&public),
                "-in",
                path(&payload_file),
                "-sigfile",
                path(&sig_file),
            ],
        );
    }
}

#[test]
fn what_the_cli_makes_and_signs_openssl_reads_and_verifies() {
    let dir = scratch("cli");
    let Run {
        status,
        stdout: entry,
        stderr,
    } = entitle(
        &["keys", "new", "--id", "vendor-2026-11", "--out", path(&dir)],
        "",
    );
    assert_eq!((status, stderr.as_str()), (0, ""));
    let private = dir.join("vendor-2026-11.pem");
    let public = dir.join("vendor-2026-11.pub.pem");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&private).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // openssl reads the private key and derives the same public key.
    let derived = run("openssl", &["pkey", "-in", path(&private), "-pubout"]);
    assert_eq!(derived, std::fs::read(&public).unwrap());
    // What it prints is a key set of the one new key.
    let set: Value = serde_json::from_str(&entry).unwrap();
    assert_eq!(set["keys"].as_array().map(Vec::len), Some(1), "{set}");
    let entry = &set["keys"][0];
    assert_eq!(entry["id"], "vendor-2026-11");
    assert_eq!(
        entry["public_key"],
        std::fs::read_to_string(&public).unwrap()
    );
    assert_eq!(entry["kinds"], json!(["bundle", "license"]));
    // A second key under the same id never overwrites the first.
    let Run { status, stderr, .. } = entitle(
        &["keys", "new", "--id", "vendor-2026-11", "--out", path(&dir)],
        "",
    );
    assert_eq!(status, 2);
    assert!(stderr.contains("cannot write"), "{stderr}");

    let document = root().join("examples/license.json");
    let Run {
        status,
        stdout: envelope,
        stderr,
    } = entitle(
        &[
            "sign",
            "--key",
            path(&private),
            "--key-id",
            "vendor-2026-11",
            "--kind",
            "license",
            path(&document),
        ],
        "",
    );
    assert_eq!((status, stderr.as_str()), (0, ""));
    let envelope: Value = serde_json::from_str(&envelope).unwrap();
    let payload = STANDARD
        .decode(envelope["payload"].as_str().unwrap())
        .unwrap();
    assert_eq!(payload, std::fs::read(&document).unwrap());
    let sig = dir.join("cli.sig");
    std::fs::write(
        &sig,
        STANDARD
            .decode(envelope["signature"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    run(
        "openssl",
        &[
            "pkeyutl",
            "-verify",
            "-rawin",
            "-pubin",
            "-inkey",
            path(&public),
            "-in",
            path(&document),
            "-sigfile",
            path(&sig),
        ],
    );
    // Ed25519 is deterministic: openssl signs the same bytes the same way.
    let openssl_sig = run(
        "openssl",
        &[
            "pkeyutl",
            "-sign",
            "-rawin",
            "-inkey",
            path(&private),
            "-in",
            path(&document),
        ],
    );
    assert_eq!(openssl_sig, std::fs::read(&sig).unwrap());

    // Signing a license as a bundle is refused by core's own check.
    let Run {
        status,
        stdout: refusal,
        ..
    } = entitle(
        &[
            "sign",
            "--key",
            path(&private),
            "--key-id",
            "vendor-2026-11",
            "--kind",
            "bundle",
            path(&document),
        ],
        "",
    );
    assert_eq!(status, 1);
    assert!(
        refusal.contains(r#""code":"wrong_document_kind""#),
        "{refusal}"
    );
}

#[test]
fn the_cli_verifies_with_either_engine() {
    let fixtures = root().join("tests/conformance/fixtures");
    let keys = fixtures.join("keys/keys.json");
    let license = fixtures.join("signature/license.envelope.json");
    let module = module_path();
    let mut outputs = Vec::new();
    for engine in ["native", "wasm"] {
        let Run {
            status,
            stdout,
            stderr,
        } = entitle(
            &[
                "verify",
                "--engine",
                engine,
                "--module",
                path(&module),
                "--keys",
                path(&keys),
                "--kind",
                "license",
                "--now",
                "2026-09-01T00:00:00Z",
                path(&license),
            ],
            "",
        );
        assert_eq!((status, stderr.as_str()), (0, ""), "{engine}: {stdout}");
        let answer: Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(answer["result"]["key_id"], "test-only-b");
        assert_eq!(answer["result"]["reasons"], json!(["offline_window_ended"]));
        let Run { status, stdout, .. } = entitle(
            &[
                "verify",
                "--engine",
                engine,
                "--module",
                path(&module),
                "--keys",
                path(&keys),
                "--kind",
                "bundle",
                path(&license),
            ],
            "",
        );
        assert_eq!(status, 1, "{engine}: {stdout}");
        assert!(stdout.contains(r#""code":"wrong_document_kind""#));
        outputs.push(stdout);
    }
    assert_eq!(outputs[0], outputs[1]);
}

#[test]
fn check_takes_signed_documents_with_keys() {
    let fixtures = root().join("tests/conformance/fixtures");
    let keys = fixtures.join("keys/keys.json");
    let bundle = fixtures.join("signature/bundle.envelope.json");
    let license = fixtures.join("signature/license.envelope.json");
    let module = module_path();
    let mut outputs = Vec::new();
    for engine in ["native", "wasm"] {
        let Run {
            status,
            stdout,
            stderr,
        } = entitle(
            &[
                "check",
                "--engine",
                engine,
                "--module",
                path(&module),
                "--keys",
                path(&keys),
                "--bundle",
                path(&bundle),
                "--license",
                path(&license),
                "--now",
                "2026-08-01T00:00:00Z",
                "--feature",
                "audit_log",
            ],
            "",
        );
        assert_eq!((status, stderr.as_str()), (0, ""), "{engine}: {stdout}");
        let answer: Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(answer["result"]["decision"], "deny", "{engine}: {answer}");
        assert_eq!(answer["result"]["reason"], "offline_window_ended");
        outputs.push(stdout);
    }
    assert_eq!(outputs[0], outputs[1]);
    // Without the key set the envelopes cannot be verified.
    let Run { status, stdout, .. } = entitle(
        &[
            "check",
            "--engine",
            "native",
            "--bundle",
            path(&bundle),
            "--license",
            path(&license),
            "--now",
            "2026-08-01T00:00:00Z",
            "--feature",
            "audit_log",
        ],
        "",
    );
    assert_eq!(status, 1);
    assert!(
        stdout.contains(r#""code":"keys_required","path":"$.bundle""#),
        "{stdout}"
    );
}
