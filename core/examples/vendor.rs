//! A vendor's program using the typed API: reads the bundle, a license and
//! its usage once, then asks `check` for each feature and `status` for the
//! license, without writing any JSON.
//!
//! `cargo run -p entitle-core --example vendor [examples-dir] [now]`

use entitle_core::{LoadedBundle, Rejected, Timestamp};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = args
        .next()
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../examples").to_string());
    let now = args
        .next()
        .unwrap_or_else(|| "2026-11-22T10:00:00Z".to_string());
    let now =
        Timestamp::parse(&now).ok_or("`now` is an RFC 3339 instant, e.g. 2026-11-22T10:00:00Z")?;
    let read = |name: &str| std::fs::read(format!("{dir}/{name}"));

    let bundle = LoadedBundle::read(&read("bundle.json")?)?;
    let license = bundle.license(&read("license.json")?)?;
    let usage = bundle.usage(&read("usage.json")?)?;
    println!(
        "bundle {} {} ({}), license {}, at {now}",
        bundle.meta().id,
        bundle.meta().version,
        bundle.meta().hash,
        license.id()
    );

    for feature in ["sso", "audit_log", "priority_support"] {
        let answer = bundle.check(&license, &usage, &bundle.ask_feature(feature)?, now)?;
        println!(
            "check {feature:<17} {:?} ({:?}), valid until {}",
            answer.decision,
            answer.reason,
            answer
                .valid_until
                .map_or("new inputs".to_string(), |t| t.to_string())
        );
    }
    let answer = bundle.check(
        &license,
        &usage,
        &bundle.ask_consume("api_calls", 500)?,
        now,
    )?;
    println!(
        "consume 500 api_calls {:?} ({:?}), {} left",
        answer.decision,
        answer.reason,
        answer
            .remaining
            .map_or("unlimited".to_string(), |n| n.to_string())
    );

    let status = bundle.status(&license, &usage, now)?;
    println!(
        "status: license {} is {:?}",
        status.license.id, status.license.state
    );

    // A refusal names the field at fault, with a code and a help line.
    if let Err(refused) = bundle.ask_feature("teleport") {
        print_refusal(&refused);
    }
    Ok(())
}

fn print_refusal(refused: &Rejected) {
    for error in refused.errors() {
        println!(
            "refused: {} at {}: {} ({})",
            error.code, error.path, error.message, error.help
        );
    }
}
