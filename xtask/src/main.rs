//! Build and CI tasks for entitle, run as `cargo xtask <task>`.
//!
//! Each task lives in its own module; `main` only dispatches.

mod build_wasm;
mod ci;
mod demo;
mod fuzz;
mod loadtest;
mod module_check;
mod schemas;
mod shape;
mod test;
mod workspace;

use std::process::ExitCode;

/// One task: its name, a line of help, and what runs it.
struct Task {
    name: &'static str,
    help: &'static str,
    run: fn(&[String]) -> anyhow::Result<()>,
}

const TASKS: &[Task] = &[
    Task {
        name: "build-wasm",
        help: "build dist/entitle.wasm, its JS glue and its sha256",
        run: build_wasm::run,
    },
    Task {
        name: "test",
        help: "install what the tests need, build the module, run every test on every runtime",
        run: test::run,
    },
    Task {
        name: "ci",
        help: "what CI runs, in order: fmt, clippy (native and wasm32), shape, core's rustdoc, then `test` (args go to it)",
        run: ci::run,
    },
    Task {
        name: "demo",
        help:
            "build the module and the CLI, print the CLI's answers for examples/ at their instant (--live: the clock's), serve the page on localhost",
        run: demo::run,
    },
    Task {
        name: "schemas",
        help: "write the JSON Schema of every document to schemas/ (--check: fail if not current)",
        run: schemas::run,
    },
    Task {
        name: "fuzz",
        help: "run the cargo-fuzz targets seeded with the corpus (--seconds N each, default 60; installs nightly and cargo-fuzz)",
        run: fuzz::run,
    },
    Task {
        name: "loadtest",
        help: "load entitle serve with wrk, print requests/s and latency, update BENCHMARKS.md",
        run: loadtest::run,
    },
    Task {
        name: "shape",
        help: "check the code's shape: no import cycle in core, no op name spelled outside the op table",
        run: shape::run,
    },
];

fn usage() -> String {
    let mut text = String::from("usage: cargo xtask <task> [args]\n\ntasks:\n");
    for task in TASKS {
        text.push_str(&format!("  {:<12} {}\n", task.name, task.help));
    }
    text
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((name, rest)) = args.split_first() else {
        eprint!("{}", usage());
        return ExitCode::from(2);
    };
    if name == "help" || name == "--help" || name == "-h" {
        print!("{}", usage());
        return ExitCode::SUCCESS;
    }
    let Some(task) = TASKS.iter().find(|task| task.name == name) else {
        eprintln!("error: unknown task `{name}`\n");
        eprint!("{}", usage());
        return ExitCode::from(2);
    };
    match (task.run)(rest) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
