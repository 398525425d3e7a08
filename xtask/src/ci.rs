//! `cargo xtask ci`: exactly what CI runs (`.ci/run` calls it), in order,
//! stopping at the first step that fails and naming it:
//!
//! 1. `cargo fmt --all -- --check`;
//! 2. `cargo clippy --workspace --all-targets --locked -- -D warnings`;
//! 3. the same lints on the wasm32 build of entitle-wasm, whose byte ABI
//!    compiles for wasm32 only;
//! 4. `cargo xtask shape`: no import cycle in core, no op name spelled
//!    outside the op table;
//! 5. core's rustdoc with missing docs and every rustdoc warning denied;
//! 6. the README's test command, `cargo xtask test`, with the arguments
//!    given. Its `cargo test --workspace` also runs core's doctests (the
//!    `Doc-tests entitle_core` part of its output), so they do not run twice;
//! 7. a fuzz smoke run, `cargo xtask fuzz --seconds 30`: every target, seeded
//!    with the corpus (skipped, saying so, where nightly cannot be installed).

use anyhow::{bail, Context};

use crate::{fuzz, shape, test, workspace};

/// What one step runs.
enum Run {
    /// `cargo` with these arguments and environment.
    Cargo(
        &'static [&'static str],
        &'static [(&'static str, &'static str)],
    ),
    /// A task of this crate, called directly, given `cargo xtask ci`'s
    /// arguments when `args`.
    Task {
        run: fn(&[String]) -> anyhow::Result<()>,
        args: bool,
    },
}

/// One step: how it is written in the log, and what runs it.
struct Step {
    name: &'static str,
    run: Run,
}

const STEPS: &[Step] = &[
    Step {
        name: "cargo fmt --all -- --check",
        run: Run::Cargo(&["fmt", "--all", "--", "--check"], &[]),
    },
    Step {
        name: "cargo clippy --workspace --all-targets --locked -- -D warnings",
        run: Run::Cargo(
            &[
                "clippy",
                "--workspace",
                "--all-targets",
                "--locked",
                "--",
                "-D",
                "warnings",
            ],
            &[],
        ),
    },
    Step {
        name: "cargo clippy -p entitle-wasm --target wasm32-unknown-unknown --locked -- -D warnings",
        run: Run::Cargo(
            &[
                "clippy",
                "-p",
                "entitle-wasm",
                "--target",
                "wasm32-unknown-unknown",
                "--locked",
                "--",
                "-D",
                "warnings",
            ],
            &[],
        ),
    },
    Step {
        name: "cargo xtask shape",
        run: Run::Task {
            run: shape::run,
            args: false,
        },
    },
    Step {
        name: "RUSTDOCFLAGS=\"-D missing_docs -D warnings\" cargo doc -p entitle-core --no-deps --locked",
        run: Run::Cargo(
            &["doc", "-p", "entitle-core", "--no-deps", "--locked"],
            &[(
                "RUSTDOCFLAGS",
                "-D missing_docs -D warnings",
            )],
        ),
    },
    // Last: the README's test command; its `cargo test --workspace` runs
    // core's doctests too.
    Step {
        name: "cargo xtask test",
        run: Run::Task {
            run: test::run,
            args: true,
        },
    },
    Step {
        name: "cargo xtask fuzz --seconds 30",
        run: Run::Task {
            run: fuzz::smoke,
            args: false,
        },
    },
];

/// Runs every step in order; extra arguments go to `cargo xtask test`.
pub fn run(args: &[String]) -> anyhow::Result<()> {
    let total = STEPS.len();
    for (number, step) in STEPS.iter().enumerate() {
        let number = number + 1;
        println!("\n==> ci step {number} of {total}: {}", step.name);
        let failed = || format!("ci step {number} of {total} failed: `{}`", step.name);
        match &step.run {
            Run::Cargo(cargo_args, env) => {
                let status = workspace::cargo()
                    .args(*cargo_args)
                    .envs(env.iter().copied())
                    .status()
                    .with_context(|| format!("cannot run `{}`", step.name))?;
                if !status.success() {
                    bail!("{}", failed());
                }
            }
            Run::Task { run, args: given } => {
                run(if *given { args } else { &[] }).with_context(failed)?;
            }
        }
    }
    println!("\nci: all {total} steps passed");
    Ok(())
}
