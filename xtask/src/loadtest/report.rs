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

/// The `/healthz` rate of the run, every row's baseline.
pub(super) fn baseline(rows: &[Row]) -> Option<f64> {
    rows.iter()
        .find(|row| row.scenario.decision.is_none())
        .map(|row| row.measured.rps)
        .filter(|rps| *rps > 0.0)
}

/// A row's rate as a share of the baseline's.
pub(super) fn ratio(row: &Row, baseline: Option<f64>) -> Option<f64> {
    baseline.map(|base| row.measured.rps / base)
}

/// The `BENCHMARKS.md` section: table, command, machine, date, verdict.
pub(super) fn section(
    options: &Options,
    rows: &[Row],
    machine: &Machine,
    wrk_version: &str,
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
    if options.decision_log {
        command.push_str(" --decision-log");
    }
    let _ = writeln!(text, "```sh\n{command}\n```\n");
    let counted: Vec<String> = rows
        .iter()
        .filter_map(|row| {
            row.consumed.map(|used| {
                format!(
                    "{}: {} calls over {} license(s)",
                    row.scenario.name,
                    thousands(used),
                    row.scenario.consumes.len()
                )
            })
        })
        .collect();
    paragraph(
        &mut text,
        &format!(
            "`entitle serve --workers {}` (release build) on loopback with the \
             module, one bundle, {} licenses and a fresh meter database \
             (`--durability process`); then, for each row, a 2 s warm-up and \
             `wrk {} -s <row>.lua <url>` (wrk {wrk_version}, keep-alive). wrk \
             runs on the same machine and takes its share of the cores. Every \
             answer was checked: 2xx only, and the gateway's metrics count \
             every request of a decision row as `allow` and none otherwise. \
             After each consuming row, every license's count was read back \
             from its status: they add up to exactly the consuming checks the \
             metrics counted as allowed, warm-up included ({}), each in the \
             meter's journal before its answer and folded into SQLite behind it.",
            options.workers,
            SPREAD + 1,
            options.wrk_flags().join(" "),
            counted.join("; "),
        ),
    );
    let _ = writeln!(
        text,
        "- **Machine:** {} CPUs ({}), {}, {}.\n- **Date:** {}.\n",
        machine.cpus, machine.model, machine.memory, machine.os, machine.date
    );
    let base = baseline(rows);
    let _ = writeln!(
        text,
        "| request | requests/s | of `/healthz` | p50 | p99 | CPU: gateway | wrk | other |\n\
         | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    for row in rows {
        let m = &row.measured;
        let _ = writeln!(
            text,
            "| {} | {} | {} | {:.2} ms | {:.2} ms | {:.0}% | {:.0}% | {:.0}% |",
            row.scenario.what,
            thousands(m.rps.round() as u64),
            ratio(row, base).map_or_else(|| String::from("?"), |r| format!("{:.0}%", 100.0 * r)),
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
        .filter(|row| row.measured.disturbed())
        .map(|row| row.scenario.name)
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
        .filter(|row| !row.measured.socket_errors.is_empty())
        .map(|row| format!("{}: {}", row.scenario.name, row.measured.socket_errors))
        .collect();
    if !errors.is_empty() {
        paragraph(&mut text, &format!("wrk reported: {}.", errors.join("; ")));
    }
    paragraph(
        &mut text,
        &format!(
            "Targets (issue 14): feature checks and forward-auth at least 90% of \
             the `/healthz` rate of the same run, consuming checks at least 60% on \
             one license and 75% spread over {SPREAD} licenses; p99 under \
             {TARGET_P99_MS} ms for every decision row."
        ),
    );
    let _ = writeln!(
        text,
        "| row | target | reached | met |\n| --- | ---: | ---: | --- |"
    );
    for row in rows {
        let Some(target) = row.scenario.target else {
            continue;
        };
        let reached = ratio(row, base);
        let met = reached.is_some_and(|r| r >= target) && row.measured.p99_ms < TARGET_P99_MS;
        let _ = writeln!(
            text,
            "| {} | {:.0}%, p99 < {TARGET_P99_MS} ms | {}, p99 {:.2} ms | {} |",
            row.scenario.name,
            100.0 * target,
            reached.map_or_else(|| String::from("?"), |r| format!("{:.0}%", 100.0 * r)),
            row.measured.p99_ms,
            if met { "yes" } else { "**no**" },
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
    update_between(path, section, BEGIN, END)
}

/// Replaces the section between `begin` and `end`, or appends it.
pub(super) fn update_between(
    path: &Path,
    section: &str,
    begin: &str,
    end_marker: &str,
) -> anyhow::Result<()> {
    let text = fs::read_to_string(path).unwrap_or_default();
    let updated = match (text.find(begin), text.find(end_marker)) {
        (Some(start), Some(end)) if end > start => {
            let after = text.get(end + end_marker.len()..).unwrap_or_default();
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
