//! Running wrk: installing it, its Lua scripts, its report, and the CPU it and the gateway used.

use super::*;

/// `wrk` on the path, installed from Debian's package when missing.
pub(super) fn ensure_wrk() -> anyhow::Result<PathBuf> {
    if let Some(path) = on_path("wrk") {
        return Ok(path);
    }
    println!("loadtest: installing Debian's wrk");
    let install = || {
        Command::new("apt-get")
            .args(["install", "-y", "-qq", "wrk"])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
    };
    let installed = install().is_ok_and(|s| s.success()) || {
        let updated = Command::new("apt-get")
            .args(["update", "-qq"])
            .status()
            .is_ok_and(|s| s.success());
        updated && install().is_ok_and(|s| s.success())
    };
    if !installed {
        bail!(
            "wrk is missing and `apt-get install wrk` failed: install wrk (as root) and run again"
        );
    }
    on_path("wrk").context("wrk was installed but is not on the PATH")
}

pub(super) fn on_path(name: &str) -> Option<PathBuf> {
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// The wrk script of a scenario: method, headers and body.
pub(super) fn lua(scenario: &Scenario) -> String {
    let mut text = String::new();
    let _ = writeln!(
        text,
        "-- {}: written by cargo xtask loadtest",
        scenario.name
    );
    let _ = writeln!(text, "wrk.method = {}", lua_string(scenario.method));
    for (name, value) in &scenario.headers {
        let _ = writeln!(
            text,
            "wrk.headers[{}] = {}",
            lua_string(name),
            lua_string(value)
        );
    }
    if let Some(body) = &scenario.body {
        let _ = writeln!(text, "wrk.body = {}", lua_string(&body.to_string()));
    }
    if scenario.consumes.len() > 1 {
        // A license picked at random per request. The requests are built on
        // the first call, once wrk's `init` has set the `Host` header.
        let _ = writeln!(text, "local bodies = {{}}");
        for license in &scenario.consumes {
            let body = json!({"license": license, "metric": "api_calls", "amount": 1});
            let _ = writeln!(
                text,
                "bodies[#bodies + 1] = {}",
                lua_string(&body.to_string())
            );
        }
        text.push_str(
            "local requests = nil\n\
             request = function()\n  \
               if requests == nil then\n    \
                 requests = {}\n    \
                 for i, body in ipairs(bodies) do\n      \
                   requests[i] = wrk.format(nil, nil, nil, body)\n    \
                 end\n  \
               end\n  \
               return requests[math.random(#requests)]\n\
             end\n",
        );
    }
    text
}

/// A Lua string literal.
pub(super) fn lua_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Runs wrk and reads its report; samples the CPU time of the gateway and wrk.
pub(super) fn wrk_run(
    wrk: &Path,
    options: &Options,
    overrides: &[&str],
    script: &Path,
    url: &str,
    server_pid: u32,
) -> anyhow::Result<Measured> {
    let mut flags = options.wrk_flags();
    for flag in overrides {
        if let Some(duration) = flag.strip_prefix("-d") {
            flags.retain(|f| !f.starts_with("-d"));
            flags.push(format!("-d{duration}"));
        }
    }
    let server_before = cpu_seconds(server_pid).unwrap_or(0.0);
    let machine_before = machine_seconds().unwrap_or(0.0);
    let started = Instant::now();
    let mut child = Command::new(wrk)
        .args(&flags)
        .arg("-s")
        .arg(script)
        .arg(url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot run `{}`", wrk.display()))?;
    let wrk_pid = child.id();
    let mut wrk_cpu = 0.0;
    let status = loop {
        if let Some(status) = child.try_wait().context("wrk did not finish")? {
            break status;
        }
        // The last sample before wrk exits is its CPU time, within 50 ms.
        if let Some(cpu) = cpu_seconds(wrk_pid) {
            wrk_cpu = cpu;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let seconds = started.elapsed().as_secs_f64();
    let server_cpu = cpu_seconds(server_pid).unwrap_or(0.0) - server_before;
    let machine_cpu = machine_seconds().unwrap_or(0.0) - machine_before;
    let mut report = String::new();
    if let Some(mut out) = child.stdout.take() {
        out.read_to_string(&mut report)
            .context("cannot read wrk's report")?;
    }
    if !status.success() {
        let mut err = String::new();
        if let Some(mut stderr) = child.stderr.take() {
            let _ = stderr.read_to_string(&mut err);
        }
        bail!("wrk failed ({status}): {err}{report}");
    }
    let cpu = Cpu {
        server: server_cpu,
        wrk: wrk_cpu,
        machine: machine_cpu,
        seconds,
    };
    parse_wrk(&report, &cpu).with_context(|| format!("cannot read wrk's report:\n{report}"))
}

/// utime + stime of a process, in seconds (Linux `/proc`, 100 ticks a second).
pub(super) fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 here.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// Busy time of every CPU of the machine (all but idle and I/O wait), in
/// seconds, from the first line of `/proc/stat`.
pub(super) fn machine_seconds() -> Option<f64> {
    let stat = fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?;
    let ticks: Vec<f64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|n| n.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal (guest time is in user).
    let busy: f64 = ticks.iter().take(8).sum::<f64>() - ticks.get(3)? - ticks.get(4)?;
    Some(busy / 100.0)
}

/// CPU seconds spent over one wrk run.
pub(super) struct Cpu {
    pub(super) server: f64,
    pub(super) wrk: f64,
    pub(super) machine: f64,
    pub(super) seconds: f64,
}

pub(super) fn parse_wrk(report: &str, cpu: &Cpu) -> anyhow::Result<Measured> {
    let mut rps = None;
    let mut p50 = None;
    let mut p99 = None;
    let mut requests = None;
    let mut non_2xx = 0;
    let mut socket_errors = String::new();
    for line in report.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["Requests/sec:", n] => rps = n.parse::<f64>().ok(),
            ["50%", t] => p50 = milliseconds(t),
            ["99%", t] => p99 = milliseconds(t),
            [n, "requests", "in", ..] => requests = n.parse::<u64>().ok(),
            ["Non-2xx", "or", "3xx", "responses:", n] => non_2xx = n.parse().unwrap_or(u64::MAX),
            ["Socket", "errors:", ..] => socket_errors = line.trim().to_string(),
            _ => {}
        }
    }
    Ok(Measured {
        requests: requests.context("no request count")?,
        rps: rps.context("no Requests/sec")?,
        p50_ms: p50.context("no 50% latency")?,
        p99_ms: p99.context("no 99% latency")?,
        non_2xx,
        socket_errors,
        server_cpu: cpu.server,
        wrk_cpu: cpu.wrk,
        machine_cpu: cpu.machine,
        seconds: cpu.seconds,
    })
}

/// wrk's `1.23ms`, `456.78us`, `1.02s` in milliseconds.
pub(super) fn milliseconds(text: &str) -> Option<f64> {
    let (number, factor) = if let Some(n) = text.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = text.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1000.0)
    } else {
        (text, 1.0)
    };
    number.parse::<f64>().ok().map(|n| n * factor)
}

pub(super) fn wrk_version(wrk: &Path) -> String {
    Command::new(wrk)
        .arg("-v")
        .output()
        .ok()
        .and_then(|out| {
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            text.lines()
                .next()
                .and_then(|l| l.split_whitespace().nth(1))
                .map(str::to_string)
        })
        .unwrap_or_else(|| String::from("unknown"))
}
