//! CPU time and load from `/proc`, to show where the cycles of a run went:
//! the server (its own runtime threads, or the Node child process) or the
//! load generator (every other thread of this process).

/// Clock ticks per second of `/proc/*/stat` (`USER_HZ`, 100 on Linux).
const TICKS_PER_SEC: f64 = 100.0;

/// Name prefixes of this process's server-side threads: the SnapKasir server
/// runtime (`SERVER_THREAD`) and sqlx's SQLite workers.
pub const SERVER_THREAD: &str = "sk-server";
const SERVER_PREFIXES: [&str; 2] = [SERVER_THREAD, "sqlx-sqlite"];

/// utime + stime of one `stat` line, in ticks, and its command name.
fn parse_stat(line: &str) -> Option<(String, u64)> {
    let open = line.find('(')?;
    let close = line.rfind(')')?;
    let comm = line[open + 1..close].to_string();
    // Fields after the command: state is field 3, utime 14, stime 15.
    let rest: Vec<&str> = line[close + 2..].split_whitespace().collect();
    let utime: u64 = rest.get(11)?.parse().ok()?;
    let stime: u64 = rest.get(12)?.parse().ok()?;
    Some((comm, utime + stime))
}

/// CPU ticks of this process split into (server threads, other threads).
pub fn self_ticks() -> (u64, u64) {
    let (mut server, mut client) = (0, 0);
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return (0, 0);
    };
    for task in dir.flatten() {
        let Ok(line) = std::fs::read_to_string(task.path().join("stat")) else {
            continue;
        };
        if let Some((comm, t)) = parse_stat(&line) {
            if SERVER_PREFIXES.iter().any(|p| comm.starts_with(p)) {
                server += t;
            } else {
                client += t;
            }
        }
    }
    (server, client)
}

/// CPU ticks of process `pid` (all its threads).
pub fn pid_ticks(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|l| parse_stat(&l))
        .map_or(0, |(_, t)| t)
}

/// Ticks to seconds.
pub fn secs(ticks: u64) -> f64 {
    ticks as f64 / TICKS_PER_SEC
}

/// The 1-minute load average.
pub fn loadavg() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(f64::NAN)
}

/// Resident set size of this process, KiB.
pub fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses_a_stat_line_with_spaces_in_the_name() {
        let line = "42 (sk-server 1) S 1 42 42 0 -1 4194560 100 0 0 0 250 30 0 0 20 0 4 0";
        assert_eq!(
            super::parse_stat(line),
            Some(("sk-server 1".to_string(), 280))
        );
    }
}
