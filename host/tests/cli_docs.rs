//! `entitle completions` and `entitle man`: made from the command line's own
//! definitions, so they name every subcommand; bash accepts the script and
//! groff renders the pages.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::process::Command;

use support::{entitle, scratch, Run};

/// Every subcommand, as `entitle --help` lists them.
const SUBCOMMANDS: &[&str] = &[
    "check",
    "seat",
    "status",
    "quote",
    "transition",
    "validate",
    "version",
    "keys",
    "sign",
    "verify",
    "business-time",
    "serve",
    "replay",
    "escalate",
    "simulate",
    "diff",
    "exception",
    "scan",
    "completions",
    "man",
];

#[test]
fn help_lists_the_subcommands_this_test_knows() {
    let Run {
        status,
        stdout: help,
        ..
    } = entitle(&["--help"], "");
    assert_eq!(status, 0);
    let listed: Vec<&str> = help
        .lines()
        .skip_while(|line| *line != "Commands:")
        .skip(1)
        .take_while(|line| !line.is_empty())
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .collect();
    assert_eq!(listed, SUBCOMMANDS);
    assert!(help.contains("Exit status:"), "{help}");
}

#[test]
fn the_bash_completion_script_parses_and_completes_every_subcommand() {
    let Run {
        status,
        stdout: script,
        stderr,
    } = entitle(&["completions", "bash"], "");
    assert_eq!(status, 0, "{stderr}");
    let dir = scratch("bash");
    let file = dir.join("entitle.bash");
    std::fs::write(&file, &script).unwrap();
    let checked = Command::new("bash").arg("-n").arg(&file).output().unwrap();
    assert!(
        checked.status.success(),
        "{}",
        String::from_utf8_lossy(&checked.stderr)
    );
    // Source it and ask bash what `entitle <TAB>` and `entitle check --<TAB>` offer.
    let complete = |line: &str| {
        let words: Vec<&str> = line.split(' ').collect();
        let program = format!(
            "source {file}; COMP_WORDS=({words}); COMP_CWORD={cword}; COMP_LINE='{line}'; COMP_POINT={point}; _entitle entitle '{current}' '{previous}'; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            file = file.display(),
            words = words.iter().map(|w| format!("'{w}'")).collect::<Vec<_>>().join(" "),
            cword = words.len() - 1,
            point = line.len(),
            current = words[words.len() - 1],
            previous = words[words.len() - 2],
        );
        let out = Command::new("bash")
            .arg("-c")
            .arg(program)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let offered = complete("entitle ");
    for name in SUBCOMMANDS {
        assert!(
            offered.lines().any(|l| l == *name),
            "{name} not offered: {offered}"
        );
    }
    let flags = complete("entitle check --");
    for flag in [
        "--bundle",
        "--license",
        "--usage",
        "--now",
        "--feature",
        "--amount",
    ] {
        assert!(
            flags.lines().any(|l| l == flag),
            "{flag} not offered: {flags}"
        );
    }
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let Run {
            status,
            stdout: script,
            ..
        } = entitle(&["completions", shell], "");
        assert_eq!(status, 0, "{shell}");
        assert!(script.contains("business-time"), "{shell}");
    }
    let Run { status, stderr, .. } = entitle(&["completions", "tcsh"], "");
    assert_eq!(status, 2);
    assert!(stderr.contains("invalid value 'tcsh'"), "{stderr}");
}

/// The text groff renders from a page, failing on any warning.
fn render(page: &str) -> String {
    let mut child = Command::new("groff")
        .args(["-man", "-Tascii", "-ww", "-P-cbou"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("groff (tests/setup.sh installs it)");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(page.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && stderr.is_empty(), "{stderr}");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_manual_page_renders_and_names_every_subcommand() {
    let Run {
        status,
        stdout: page,
        stderr,
    } = entitle(&["man"], "");
    assert_eq!(status, 0, "{stderr}");
    assert!(
        page.lines().any(|line| line.starts_with(".TH entitle 1")),
        "{page}"
    );
    let text = render(&page);
    for name in SUBCOMMANDS {
        assert!(
            text.contains(&format!("entitle-{name}(1)")),
            "{name} missing from the page: {text}"
        );
    }
    assert!(text.contains("EXIT STATUS"), "{text}");
    assert!(!text.contains("EXTRA"), "{text}");
}

#[test]
fn man_out_writes_a_page_per_subcommand_into_a_new_folder() {
    let dir = scratch("man").join("share").join("man1");
    let Run {
        status,
        stdout,
        stderr,
    } = entitle(&["man", "--out", &dir.display().to_string()], "");
    assert_eq!((status, stdout.as_str()), (0, ""), "{stderr}");
    for name in std::iter::once("entitle".to_string())
        .chain(SUBCOMMANDS.iter().map(|name| format!("entitle-{name}")))
    {
        let page = std::fs::read_to_string(dir.join(format!("{name}.1"))).unwrap();
        let text = render(&page);
        assert!(!text.is_empty(), "{name}");
    }
    let check = render(&std::fs::read_to_string(dir.join("entitle-check.1")).unwrap());
    assert!(check.contains("--amount"), "{check}");
    assert!(dir.join("entitle-keys-new.1").is_file());
    assert!(dir.join("entitle-business-time-add.1").is_file());
}
