//! The report: the machine, the table, and the section of `BENCHMARKS.md` it replaces.

use super::*;

/// The machine the figures come from.
pub(super) struct Machine {
    pub(super) cpus: usize,
    pub(super) model: String,
    pub(super) memory: String,
    pub(super) os: String,
    pub(super) date: String,
}

impl Machine {
    pub(super) fn read() -> Machine {
        let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let model = cpuinfo
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split_once(':'))
            .map_or_else(|| String::from("unknown"), |(_, m)| m.trim().to_string());
        let meminfo = fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let memory = meminfo
            .lines()
            .find(|l| l.starts_with("MemTotal:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or_else(
                || String::from("unknown"),
                |kb| format!("{:.1} GiB", kb / 1024.0 / 1024.0),
            );
        let os = fs::read_to_string("/etc/os-release")
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix("PRETTY_NAME="))
            .map_or_else(
                || String::from("unknown"),
                |n| n.trim_matches('"').to_string(),
            );
        Machine {
            cpus: std::thread::available_parallelism().map_or(0, std::num::NonZeroUsize::get),
            model,
            memory,
            os,
            date: chrono::Utc::now().format("%Y-%m-%d").to_string(),
        }
    }
}

/// The `BENCHMARKS.md` section: table, command, machine, date, verdict.
pub(super) fn section(
    options: &Options,
    rows: &[(Scenario, Measured)],
    machine: &Machine,
    wrk_version: &str,
    used: u64,
) -> String {
    let mut text = String::new();
    let _ = writeln!(text, "{BEGIN}");
    let _ = writeln!(text, "## The gateway under load\n");
    let mut command = String::from("cargo xtask loadtest");
    for (flag, value, default) in [
        ("--duration", options.duration, 15),
        ("--connections", options.connections, 32),
        ("--threads", options.threads, 1),
        ("--workers", options.workers, 2),
    ] {
        if value != default {
            let _ = write!(command, " {flag} {value}");
        }
    }
    let _ = writeln!(text, "```sh\n{command}\n```\n");
    paragraph(
        &mut text,
        &format!(
            "`entitle serve --workers {}` (release build) on loopback with the \
             module, one bundle, one license and a fresh meter database \
             (`--durability process`); then, for each row, a 2 s warm-up and \
             `wrk {} -s <row>.lua <url>` (wrk {wrk_version}, keep-alive). wrk \
             runs on the same machine and takes its share of the cores. Every \
             answer was checked: 2xx only, and the gateway's metrics count \
             every request of a decision row as `allow` (the consuming row \
             counted {} calls, each committed to SQLite before its answer).",
            options.workers,
            options.wrk_flags().join(" "),
            thousands(used),
        ),
    );
    let _ = writeln!(
        text,
        "- **Machine:** {} CPUs ({}), {}, {}.\n- **Date:** {}.\n",
        machine.cpus, machine.model, machine.memory, machine.os, machine.date
    );
    let _ = writeln!(
        text,
        "| request | requests/s | p50 | p99 | CPU: gateway | wrk | other |\n\
         | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    for (scenario, m) in rows {
        let _ = writeln!(
            text,
            "| {} | {} | {:.2} ms | {:.2} ms | {:.0}% | {:.0}% | {:.0}% |",
            scenario.what,
            thousands(m.rps.round() as u64),
            m.p50_ms,
            m.p99_ms,
            m.share(m.server_cpu),
            m.share(m.wrk_cpu),
            m.share(m.other_cpu()),
        );
    }
    let _ = writeln!(text);
    paragraph(
        &mut text,
        &format!(
            "CPU is the share of one core over the run ({}% is every core): \
             the gateway's process, wrk's, and the rest of the machine (other \
             processes, and kernel work not charged to either).",
            100 * machine.cpus
        ),
    );
    let disturbed: Vec<&str> = rows
        .iter()
        .filter(|(_, m)| m.disturbed())
        .map(|(s, _)| s.name)
        .collect();
    if !disturbed.is_empty() {
        paragraph(
            &mut text,
            &format!(
                "Other work on the machine took more than {DISTURBED_PERCENT:.0}% of a \
                 core during: {}; those rows understate what the gateway can do.",
                disturbed.join(", ")
            ),
        );
    }
    let errors: Vec<String> = rows
        .iter()
        .filter(|(_, m)| !m.socket_errors.is_empty())
        .map(|(s, m)| format!("{}: {}", s.name, m.socket_errors))
        .collect();
    if !errors.is_empty() {
        paragraph(&mut text, &format!("wrk reported: {}.", errors.join("; ")));
    }
    let _ = writeln!(
        text,
        "Target: at least {} checks/s with p99 under {TARGET_P99_MS} ms.\n",
        thousands(TARGET_RPS as u64)
    );
    let _ = writeln!(text, "| check | met |\n| --- | --- |");
    for (scenario, m) in rows.iter().filter(|(s, _)| s.decision.is_some()) {
        let met = m.rps >= TARGET_RPS && m.p99_ms < TARGET_P99_MS;
        let _ = writeln!(
            text,
            "| {} | {} ({}/s, p99 {:.2} ms) |",
            scenario.name,
            if met { "yes" } else { "**no**" },
            thousands(m.rps.round() as u64),
            m.p99_ms
        );
    }
    let _ = writeln!(text, "{END}");
    text
}

/// Appends `words` wrapped at 78 columns, then a blank line; a code span
/// (between backticks) is never broken.
pub(super) fn paragraph(text: &mut String, words: &str) {
    let mut tokens: Vec<String> = Vec::new();
    let mut open = false;
    for word in words.split_whitespace() {
        match tokens.last_mut() {
            Some(last) if open => {
                last.push(' ');
                last.push_str(word);
            }
            _ => tokens.push(word.to_string()),
        }
        if word.matches('`').count() % 2 == 1 {
            open = !open;
        }
    }
    let mut line = String::new();
    for token in tokens {
        if !line.is_empty() && line.len() + 1 + token.len() > 78 {
            let _ = writeln!(text, "{line}");
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&token);
    }
    let _ = writeln!(text, "{line}\n");
}

/// `12345` as `12,345`.
pub(super) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Replaces the section between the markers, or appends it.
pub(super) fn update_benchmarks(path: &Path, section: &str) -> anyhow::Result<()> {
    let text = fs::read_to_string(path).unwrap_or_default();
    let updated = match (text.find(BEGIN), text.find(END)) {
        (Some(start), Some(end)) if end > start => {
            let after = text.get(end + END.len()..).unwrap_or_default();
            let after = after.strip_prefix('\n').unwrap_or(after);
            format!("{}{section}{after}", text.get(..start).unwrap_or_default())
        }
        _ => {
            let mut text = text;
            if !text.is_empty() && !text.ends_with("\n\n") {
                text.push_str(if text.ends_with('\n') { "\n" } else { "\n\n" });
            }
            text.push_str(section);
            text
        }
    };
    let mut file =
        fs::File::create(path).with_context(|| format!("cannot write `{}`", path.display()))?;
    file.write_all(updated.as_bytes())
        .with_context(|| format!("cannot write `{}`", path.display()))
}
