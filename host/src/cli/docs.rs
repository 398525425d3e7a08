//! `entitle completions <SHELL>` and `entitle man`: shell completion scripts
//! (clap_complete) and manual pages (clap_mangen), both made from the very
//! definitions the command line parses with, so they never drift from it.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use clap_complete::Shell;

use super::EXIT_OK;
use crate::error::HostError;

/// `entitle completions`.
#[derive(Debug, Args)]
pub(super) struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum, value_name = "SHELL")]
    shell: Shell,
}

/// `entitle man`.
#[derive(Debug, Args)]
pub(super) struct ManArgs {
    /// Write `entitle.1` and a page per subcommand (`entitle-check.1`...)
    /// into this folder, created if missing, instead of `entitle.1` to stdout.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

/// Prints the completion script for the shell.
pub(super) fn completions(args: &CompletionsArgs, stdout: &mut dyn Write) -> Result<u8, HostError> {
    let mut command = super::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "entitle", &mut script);
    stdout
        .write_all(&script)
        .map_err(|source| HostError::Write { source })?;
    Ok(EXIT_OK)
}

/// Prints the top manual page, or writes every page into `--out`.
pub(super) fn man(args: &ManArgs, stdout: &mut dyn Write) -> Result<u8, HostError> {
    let Some(dir) = &args.out else {
        let page = top_page().map_err(|source| HostError::Write { source })?;
        stdout
            .write_all(&page)
            .map_err(|source| HostError::Write { source })?;
        return Ok(EXIT_OK);
    };
    let failed = |source| HostError::WriteFile {
        path: dir.display().to_string(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(failed)?;
    clap_mangen::generate_to(super::command(), dir).map_err(failed)?;
    let page = top_page().map_err(failed)?;
    std::fs::write(dir.join("entitle.1"), page)
        .map_err(failed)
        .map(|()| EXIT_OK)
}

/// `entitle.1`: clap_mangen's sections, with the exit statuses in an EXIT
/// STATUS section of their own rather than as `--help`'s last lines.
fn top_page() -> Result<Vec<u8>, std::io::Error> {
    let man = clap_mangen::Man::new(super::command());
    let mut page = Vec::new();
    man.render_title(&mut page)?;
    man.render_name_section(&mut page)?;
    man.render_synopsis_section(&mut page)?;
    man.render_description_section(&mut page)?;
    man.render_options_section(&mut page)?;
    man.render_subcommands_section(&mut page)?;
    page.extend_from_slice(b".SH \"EXIT STATUS\"\n");
    for (status, meaning) in super::EXIT_STATUSES {
        // Plain text: no line of it starts with a roff control character.
        page.extend_from_slice(
            format!(".TP\n{status}\n{}\n", meaning.replace('\\', "\\e")).as_bytes(),
        );
    }
    man.render_version_section(&mut page)?;
    Ok(page)
}
