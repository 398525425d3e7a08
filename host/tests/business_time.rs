//! `entitle business-time add|elapsed|next`, run in process on both engines:
//! the module in wasmtime and core natively print the same bytes, and the
//! answers are the ones worked out by hand below.
//! Needs `dist/entitle.wasm`: run `cargo xtask build-wasm` first.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use serde_json::{json, Value};
use support::{entitle, example_text, module_path, scratch, Run};

/// Runs `business-time` on both engines, checks they print the same bytes
/// with the same status, and returns that status and the parsed envelope.
fn both(args: &[&str]) -> (u8, Value) {
    let module = module_path().display().to_string();
    let mut wasm = vec!["business-time"];
    wasm.extend_from_slice(args);
    wasm.extend_from_slice(&["--engine", "wasm", "--module", &module]);
    let mut native = vec!["business-time"];
    native.extend_from_slice(args);
    native.extend_from_slice(&["--engine", "native"]);
    let Run {
        status: wasm_status,
        stdout: wasm_out,
        stderr: wasm_err,
    } = entitle(&wasm, "");
    let Run {
        status: native_status,
        stdout: native_out,
        stderr: native_err,
    } = entitle(&native, "");
    assert_eq!(wasm_err, native_err, "{args:?}");
    assert_eq!(wasm_out, native_out, "{args:?}");
    assert_eq!(wasm_status, native_status, "{args:?}");
    // An answer says nothing on stderr; an error answer is also told there,
    // in the command line's words.
    if native_status == 0 {
        assert_eq!(native_err, "", "{args:?}");
    } else {
        assert!(
            native_err.starts_with("entitle: "),
            "{args:?}: {native_err}"
        );
    }
    (native_status, serde_json::from_str(&native_out).unwrap())
}

/// London, 09:00-17:00 on weekdays; the clocks go from GMT (+00:00) to BST
/// (+01:00) on Sunday 2026-03-29 at 01:00 UTC.
fn calendar() -> Value {
    let day = json!([["09:00", "17:00"]]);
    json!({"time_zone": "Europe/London", "weekly": {
        "monday": day, "tuesday": day, "wednesday": day, "thursday": day, "friday": day}})
}

fn files(test: &str) -> (String, String) {
    let dir = scratch(&format!("business-time-{test}"));
    let calendar_path = dir.join("calendar.json");
    std::fs::write(&calendar_path, calendar().to_string()).unwrap();
    let mut bundle: Value = serde_json::from_str(&example_text("bundle.json")).unwrap();
    bundle["calendars"]["support"] = calendar();
    let bundle_path = dir.join("bundle.json");
    std::fs::write(&bundle_path, bundle.to_string()).unwrap();
    (
        calendar_path.display().to_string(),
        bundle_path.display().to_string(),
    )
}

#[test]
fn add_elapsed_and_next_agree_on_both_engines_and_by_hand() {
    let (calendar, bundle) = files("actions");

    // Friday 2026-03-27 16:00 GMT plus two hours: one to the 17:00 close,
    // then one from Monday 2026-03-30 09:00 BST (08:00Z): 09:00Z, 10:00 BST.
    let (status, add) = both(&[
        "add",
        "--calendar",
        &calendar,
        "--at",
        "2026-03-27T16:00:00Z",
        "--seconds",
        "7200",
    ]);
    assert_eq!(status, 0, "{add}");
    assert_eq!(
        add["result"],
        json!({"action": "add", "at": "2026-03-27T16:00:00Z", "seconds": 7200,
               "result": "2026-03-30T09:00:00Z", "local": "2026-03-30T10:00:00+01:00",
               "time_zone": "Europe/London"})
    );

    // Friday 12:00-17:00 GMT is 5 hours, Monday 09:00-13:00 BST (08:00Z to
    // 12:00Z) is 4: 9 hours, 32400 s.
    let (status, elapsed) = both(&[
        "elapsed",
        "--calendar",
        &calendar,
        "--from",
        "2026-03-27T12:00:00Z",
        "--to",
        "2026-03-30T12:00:00Z",
    ]);
    assert_eq!(status, 0, "{elapsed}");
    assert_eq!(
        elapsed["result"],
        json!({"action": "elapsed", "from": "2026-03-27T12:00:00Z",
               "to": "2026-03-30T12:00:00Z", "seconds": 32400})
    );

    // Saturday is closed: the next opening is Monday 09:00 BST, 08:00Z.
    let (status, next) = both(&[
        "next",
        "--calendar",
        &calendar,
        "--at",
        "2026-03-28T10:00:00Z",
    ]);
    assert_eq!(status, 0, "{next}");
    assert_eq!(
        next["result"],
        json!({"action": "next", "at": "2026-03-28T10:00:00Z",
               "result": "2026-03-30T08:00:00Z", "local": "2026-03-30T09:00:00+01:00",
               "time_zone": "Europe/London", "in_business_hours": false})
    );

    // The same add on the calendar the bundle names `support`.
    let (status, named) = both(&[
        "add",
        "--bundle",
        &bundle,
        "--calendar-name",
        "support",
        "--at",
        "2026-03-27T16:00:00Z",
        "--seconds",
        "7200",
    ]);
    assert_eq!(status, 0, "{named}");
    assert_eq!(named["result"]["calendar"], "support");
    assert_eq!(named["result"]["result"], "2026-03-30T09:00:00Z");
}

#[test]
fn errors_exit_1_on_both_engines() {
    let (calendar, bundle) = files("errors");
    let (status, unknown) = both(&[
        "next",
        "--bundle",
        &bundle,
        "--calendar-name",
        "sales",
        "--at",
        "2026-03-28T10:00:00Z",
    ]);
    assert_eq!(status, 1);
    assert_eq!(
        (&unknown["errors"][0]["code"], &unknown["errors"][0]["path"]),
        (&json!("unknown_calendar"), &json!("$.calendar"))
    );
    let (status, missing) = both(&[
        "add",
        "--calendar",
        &calendar,
        "--at",
        "2026-03-28T10:00:00Z",
    ]);
    assert_eq!(status, 1);
    assert_eq!(missing["errors"][0]["path"], "$.seconds");

    // Flags the host itself refuses exit 2.
    let Run {
        status,
        stdout,
        stderr,
    } = entitle(
        &[
            "business-time",
            "add",
            "--calendar",
            &calendar,
            "--calendar-name",
            "support",
        ],
        "",
    );
    assert_eq!((status, stdout.as_str()), (2, ""));
    assert!(stderr.contains("cannot be used with"), "{stderr}");
}
