//! The metric families dashboards already know, next to chatmesh's own: the gRPC server family
//! of go-grpc-prometheus (`grpc_server_handled_total`, `grpc_server_handling_seconds`), which
//! the common Grafana gRPC dashboards and alert rules query; Prometheus' process collector
//! (`process_cpu_seconds_total`, `process_resident_memory_bytes`, `process_open_fds`, …, read
//! from `/proc/self` as the official client libraries do on Linux); and a `chatmesh_build_info`
//! gauge that carries the version as labels.
//!
//! Hand-written for the same reason as [`super::metrics`]: each is a handful of lines of text
//! over values already counted, and no registry is needed.

use std::collections::HashMap;
use std::fmt::Write as _;

use prost::Message as _;

/// go-grpc-prometheus' `grpc_type` of every method in `sets` (encoded `FileDescriptorSet`s), by
/// path (`/package.Service/Method`).
pub(crate) fn method_types(sets: &[&[u8]]) -> HashMap<String, &'static str> {
    let mut types = HashMap::new();
    for set in sets {
        let Ok(set) = prost_types::FileDescriptorSet::decode(*set) else {
            continue;
        };
        for file in &set.file {
            for service in &file.service {
                let full = match file.package() {
                    "" => service.name().to_owned(),
                    package => format!("{package}.{}", service.name()),
                };
                for method in &service.method {
                    let kind = match (method.client_streaming(), method.server_streaming()) {
                        (false, false) => "unary",
                        (true, false) => "client_stream",
                        (false, true) => "server_stream",
                        (true, true) => "bidi_stream",
                    };
                    types.insert(format!("/{full}/{}", method.name()), kind);
                }
            }
        }
    }
    types
}

/// Go's names of the gRPC codes, which go-grpc-prometheus' `grpc_code` label uses.
pub(crate) const GO_CODE_NAMES: [&str; 17] = [
    "OK",
    "Canceled",
    "Unknown",
    "InvalidArgument",
    "DeadlineExceeded",
    "NotFound",
    "AlreadyExists",
    "PermissionDenied",
    "ResourceExhausted",
    "FailedPrecondition",
    "Aborted",
    "OutOfRange",
    "Unimplemented",
    "Internal",
    "Unavailable",
    "DataLoss",
    "Unauthenticated",
];

/// `chatmesh_build_info{service,version} 1`.
pub(crate) fn render_build_info(out: &mut String, service: &str) {
    let _ = writeln!(
        out,
        "# HELP chatmesh_build_info The running build: always 1, its facts in the labels.\n\
         # TYPE chatmesh_build_info gauge\n\
         chatmesh_build_info{{service=\"{service}\",version=\"{}\"}} 1",
        env!("CARGO_PKG_VERSION")
    );
}

/// The process collector's families, from `/proc/self`. Families whose source cannot be read
/// (another OS, a restricted `/proc`) are left out rather than reported as zero.
pub(crate) fn render_process(out: &mut String) {
    let mut gauge = |name: &str, kind: &str, help: &str, value: Option<f64>| {
        if let Some(value) = value {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        }
    };
    let stat = ProcStat::read();
    gauge(
        "process_cpu_seconds_total",
        "counter",
        "Total user and system CPU time spent in seconds.",
        stat.as_ref().map(|s| s.cpu_seconds),
    );
    gauge(
        "process_resident_memory_bytes",
        "gauge",
        "Resident memory size in bytes.",
        stat.as_ref().map(|s| s.resident_bytes),
    );
    gauge(
        "process_virtual_memory_bytes",
        "gauge",
        "Virtual memory size in bytes.",
        stat.as_ref().map(|s| s.virtual_bytes),
    );
    gauge(
        "process_start_time_seconds",
        "gauge",
        "Start time of the process since unix epoch in seconds.",
        stat.as_ref().and_then(|s| s.start_time_seconds),
    );
    gauge(
        "process_open_fds",
        "gauge",
        "Number of open file descriptors.",
        std::fs::read_dir("/proc/self/fd")
            .ok()
            .map(|entries| entries.count() as f64),
    );
    gauge(
        "process_max_fds",
        "gauge",
        "Maximum number of open file descriptors.",
        max_fds(),
    );
    gauge(
        "process_threads",
        "gauge",
        "Number of OS threads in the process.",
        stat.as_ref().map(|s| s.threads),
    );
}

/// What `/proc/self/stat` says, in the units Prometheus wants.
struct ProcStat {
    cpu_seconds: f64,
    threads: f64,
    virtual_bytes: f64,
    resident_bytes: f64,
    start_time_seconds: Option<f64>,
}

impl ProcStat {
    fn read() -> Option<Self> {
        let text = std::fs::read_to_string("/proc/self/stat").ok()?;
        parse_stat(&text, ticks_per_second()?, page_size()?, boot_time())
    }
}

/// Parses `/proc/<pid>/stat`. The command name (field 2) is in parentheses and may hold spaces
/// or parentheses itself, so fields are counted from the last `)`.
fn parse_stat(text: &str, ticks: f64, page: f64, boot_time: Option<f64>) -> Option<ProcStat> {
    let after = &text[text.rfind(')')? + 1..];
    // Fields 3.. of proc(5): state is [0], utime (14) is [11], stime (15) [12], num_threads (20)
    // [17], starttime (22) [19], vsize (23) [20], rss (24) [21].
    let fields: Vec<&str> = after.split_whitespace().collect();
    let number = |i: usize| fields.get(i)?.parse::<f64>().ok();
    Some(ProcStat {
        cpu_seconds: (number(11)? + number(12)?) / ticks,
        threads: number(17)?,
        virtual_bytes: number(20)?,
        resident_bytes: number(21)? * page,
        start_time_seconds: boot_time
            .zip(number(19))
            .map(|(boot, start)| boot + start / ticks),
    })
}

/// The boot time (`btime` in `/proc/stat`), seconds since the epoch.
fn boot_time() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/stat").ok()?;
    text.lines()
        .find_map(|line| line.strip_prefix("btime "))
        .and_then(|value| value.trim().parse().ok())
}

fn ticks_per_second() -> Option<f64> {
    // SAFETY: sysconf reads a configuration value; no memory is handed over.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    (ticks > 0).then_some(ticks as f64)
}

fn page_size() -> Option<f64> {
    // SAFETY: as above.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    (page > 0).then_some(page as f64)
}

fn max_fds() -> Option<f64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct it is given, which lives for the call.
    let read = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
    (read == 0 && limit.rlim_cur != libc::RLIM_INFINITY).then_some(limit.rlim_cur as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_from_the_last_parenthesis() {
        // A command name with a space and a parenthesis, as proc(5) allows.
        let line = "4242 (chat mesh) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 \
                    7 0 1000 123456789 300 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0";
        let stat = parse_stat(line, 100.0, 4096.0, Some(1_700_000_000.0)).unwrap();
        assert_eq!(stat.cpu_seconds, 3.0);
        assert_eq!(stat.threads, 7.0);
        assert_eq!(stat.virtual_bytes, 123_456_789.0);
        assert_eq!(stat.resident_bytes, 300.0 * 4096.0);
        assert_eq!(stat.start_time_seconds, Some(1_700_000_010.0));
        assert!(parse_stat("garbage", 100.0, 4096.0, None).is_none());
    }

    #[test]
    fn this_process_reports_itself() {
        let mut out = String::new();
        render_process(&mut out);
        for family in [
            "process_cpu_seconds_total ",
            "process_resident_memory_bytes ",
            "process_open_fds ",
            "process_start_time_seconds ",
        ] {
            let value: f64 = out
                .lines()
                .find_map(|line| line.strip_prefix(family))
                .unwrap_or_else(|| panic!("no {family} in {out}"))
                .parse()
                .unwrap();
            assert!(value > 0.0, "{family}{value}");
        }
    }

    #[test]
    fn method_types_come_from_the_descriptors() {
        let types = method_types(&[tonic_health::pb::FILE_DESCRIPTOR_SET]);
        assert_eq!(types["/grpc.health.v1.Health/Check"], "unary");
        assert_eq!(types["/grpc.health.v1.Health/Watch"], "server_stream");
        assert!(method_types(&[b"not a descriptor set"]).is_empty());
    }
}
