//! What a child process uses, read from Linux's `/proc`: its resident memory now and at its
//! peak, and the CPU time all its threads have spent. Tests of resource limits (a query's memory
//! budget, work that must stop when its caller goes away) check these from outside the process,
//! as an operator's monitoring would, rather than trusting the process's own accounting.

use std::time::Duration;

/// Clock ticks per second of `/proc/<pid>/stat` (`USER_HZ`, 100 on Linux's user-space ABI).
const TICKS_PER_SECOND: u64 = 100;

/// A snapshot of a process's resource use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    /// Resident set size now (`VmRSS`), in bytes.
    pub rss_bytes: u64,
    /// The highest resident set size so far (`VmHWM`), in bytes.
    pub peak_rss_bytes: u64,
    /// The anonymous part of the resident set now (`RssAnon`: heap and stacks, not the mapped
    /// binary), in bytes.
    pub anon_rss_bytes: u64,
    /// User and system CPU time of all threads so far.
    pub cpu: Duration,
}

/// The resource use of process `pid`, failing the test when `/proc` cannot tell.
pub fn usage(pid: u32) -> Usage {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_else(|e| panic!("read /proc/{pid}/status: {e}"));
    let kib = |field: &str| -> u64 {
        status
            .lines()
            .find_map(|line| line.strip_prefix(field))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
    };
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .unwrap_or_else(|e| panic!("read /proc/{pid}/stat: {e}"));
    // Fields after the command name (which may hold spaces) start at field 3; utime and stime
    // are fields 14 and 15.
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<u64> = after_name
        .split_whitespace()
        .map(|f| f.parse().unwrap_or(0))
        .collect();
    let ticks = fields.get(11).copied().unwrap_or(0) + fields.get(12).copied().unwrap_or(0);
    Usage {
        rss_bytes: kib("VmRSS:") * 1024,
        peak_rss_bytes: kib("VmHWM:") * 1024,
        anon_rss_bytes: kib("RssAnon:") * 1024,
        cpu: Duration::from_millis(ticks * 1000 / TICKS_PER_SECOND),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_memory_and_cpu_time() {
        let burn: u64 = (0..20_000_000u64).fold(0, |a, b| a.wrapping_add(b * b));
        assert_ne!(burn, 1);
        let now = usage(std::process::id());
        assert!(
            now.rss_bytes > 0 && now.peak_rss_bytes >= now.rss_bytes,
            "{now:?}"
        );
        assert!(
            now.anon_rss_bytes > 0 && now.anon_rss_bytes <= now.rss_bytes,
            "{now:?}"
        );
        assert!(now.cpu > Duration::ZERO, "{now:?}");
    }
}
