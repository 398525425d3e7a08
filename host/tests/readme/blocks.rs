//! README.md's `sh` blocks: their commands, continuation lines joined and
//! comments removed, and what kind of command each is for the test.

use crate::support::root;

/// One `sh` block of the README: its first line number and its commands,
/// continuation lines joined and comments removed.
#[derive(Debug)]
pub(crate) struct Block {
    pub(crate) line: usize,
    pub(crate) commands: Vec<String>,
}

pub(crate) fn readme() -> String {
    std::fs::read_to_string(root().join("README.md")).unwrap()
}

/// The README's `sh` blocks.
pub(crate) fn blocks(text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut current: Option<Block> = None;
    let mut pending = String::new();
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        match &mut current {
            None => {
                if trimmed == "```sh" || trimmed == "```bash" || trimmed == "```shell" {
                    current = Some(Block {
                        line: index + 1,
                        commands: Vec::new(),
                    });
                }
            }
            Some(block) => {
                if trimmed.starts_with("```") {
                    assert!(
                        pending.is_empty(),
                        "README.md:{}: a `\\` ends the block",
                        block.line
                    );
                    blocks.push(current.take().unwrap());
                    continue;
                }
                let code = strip_comment(line);
                let code = code.trim_end();
                if let Some(continued) = code.strip_suffix('\\') {
                    pending.push_str(continued.trim());
                    pending.push(' ');
                    continue;
                }
                pending.push_str(code.trim());
                let command = std::mem::take(&mut pending);
                if !command.trim().is_empty() {
                    block.commands.push(command.trim().to_string());
                }
            }
        }
    }
    assert!(current.is_none(), "README.md: an `sh` block is not closed");
    blocks
}

/// A line without its `#` comment (a `#` at the start or after a blank,
/// outside quotes).
pub(crate) fn strip_comment(line: &str) -> String {
    let mut out = String::new();
    let mut quote: Option<char> = None;
    let mut previous = ' ';
    for c in line.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == '#' && previous.is_whitespace() => break,
            None => {}
        }
        out.push(c);
        previous = c;
    }
    out
}

/// What a command is, for this test.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `entitle serve` or `node web/serve.mjs`: started, probed, stopped.
    Server,
    /// `cargo xtask demo`: run by its own test.
    Demo,
    /// `cargo xtask test`: runs this test, so it is not run here.
    TestSuite,
    /// `entitle …` or `curl …`: run, and its answer checked.
    Run,
}

pub(crate) fn kind(command: &str) -> Kind {
    let words: Vec<&str> = command
        .split_whitespace()
        .skip_while(|word| is_assignment(word))
        .collect();
    match words.as_slice() {
        ["entitle", "serve", ..] | ["node", "web/serve.mjs", ..] => Kind::Server,
        ["cargo", "xtask", "demo", ..] => Kind::Demo,
        ["cargo", "xtask", "test"] => Kind::TestSuite,
        ["entitle", _, ..] | ["curl", ..] => Kind::Run,
        _ => panic!(
            "README.md has a command this test does not know how to run: `{command}`; \
             teach host/tests/readme.rs to run and check it"
        ),
    }
}

/// `NAME=value`, an environment assignment before a command.
pub(crate) fn is_assignment(word: &str) -> bool {
    word.split_once('=').is_some_and(|(name, _)| {
        !name.is_empty() && name.chars().all(|c| c.is_ascii_uppercase() || c == '_')
    })
}
