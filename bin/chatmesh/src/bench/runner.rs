//! The closed-loop load generator, independent of any service: `concurrency` workers each send
//! one call, wait for its answer, and send the next, for a warm-up period and then a measured
//! duration or number of requests. Every answer's gRPC status is checked; latencies of measured
//! calls are all kept, so the percentiles are exact, not estimated.
//!
//! A scenario is a [`MakeWorker`]: given a worker's index and a channel, it returns that worker's
//! call, an async closure over its own cloned client and state.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chatmesh_runtime::channel::TracedChannel;
use futures::future::BoxFuture;
use tokio::time::Instant;

/// One call of a scenario: its outcome is the gRPC status.
pub(crate) type Call = BoxFuture<'static, Result<(), tonic::Status>>;
/// A worker's call generator.
pub(crate) type Worker = Box<dyn FnMut() -> Call + Send>;
/// Makes worker `index` on `channel`.
pub(crate) type MakeWorker = Arc<dyn Fn(usize, TracedChannel) -> Worker + Send + Sync>;

/// When the measurement ends.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Until {
    /// After this long.
    Elapsed(Duration),
    /// After this many measured calls (over all workers).
    Calls(u64),
}

/// How to load.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Plan {
    /// Calls in flight at once.
    pub(crate) concurrency: usize,
    /// Unmeasured time first (connections, caches, JIT-free but not cold).
    pub(crate) warmup: Duration,
    /// When the measurement ends.
    pub(crate) until: Until,
}

/// What a run measured.
#[derive(Debug, Clone)]
pub(crate) struct Report {
    /// Measured wall time.
    pub(crate) elapsed: Duration,
    /// Latency of every measured call, sorted.
    pub(crate) latencies: Vec<Duration>,
    /// Measured calls that failed, by status code.
    pub(crate) errors: BTreeMap<String, u64>,
}

impl Report {
    /// Measured calls, successful or not.
    pub(crate) fn calls(&self) -> u64 {
        self.latencies.len() as u64
    }

    /// Failed measured calls.
    pub(crate) fn failures(&self) -> u64 {
        self.errors.values().sum()
    }

    /// Calls per second.
    pub(crate) fn throughput(&self) -> f64 {
        self.calls() as f64 / self.elapsed.as_secs_f64().max(f64::EPSILON)
    }

    /// The `q` quantile (0..=1) by the nearest-rank method.
    pub(crate) fn percentile(&self, q: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let rank = (q * self.latencies.len() as f64).ceil() as usize;
        self.latencies[rank.clamp(1, self.latencies.len()) - 1]
    }
}

/// Runs `make` with `plan` over `channels` (workers take them round-robin).
pub(crate) async fn run(plan: Plan, channels: &[TracedChannel], make: MakeWorker) -> Report {
    let start = Instant::now();
    let measure_from = start + plan.warmup;
    let budget = Arc::new(AtomicU64::new(match plan.until {
        Until::Calls(n) => n,
        Until::Elapsed(_) => u64::MAX,
    }));
    let end = match plan.until {
        Until::Elapsed(d) => Some(measure_from + d),
        Until::Calls(_) => None,
    };
    let mut tasks = tokio::task::JoinSet::new();
    for index in 0..plan.concurrency.max(1) {
        let mut worker = make(index, channels[index % channels.len()].clone());
        let budget = Arc::clone(&budget);
        tasks.spawn(async move {
            let mut latencies = Vec::new();
            let mut errors: BTreeMap<String, u64> = BTreeMap::new();
            loop {
                let sent = Instant::now();
                if end.is_some_and(|end| sent >= end) {
                    break;
                }
                let measured = sent >= measure_from;
                if measured
                    && budget
                        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                        .is_err()
                {
                    break;
                }
                let outcome = worker().await;
                if measured {
                    latencies.push(sent.elapsed());
                    if let Err(status) = outcome {
                        *errors.entry(format!("{:?}", status.code())).or_default() += 1;
                    }
                }
            }
            (latencies, errors, Instant::now())
        });
    }
    let mut report = Report {
        elapsed: Duration::ZERO,
        latencies: Vec::new(),
        errors: BTreeMap::new(),
    };
    let mut last = measure_from;
    while let Some(done) = tasks.join_next().await {
        let (latencies, errors, finished) = done.expect("a bench worker panicked");
        report.latencies.extend(latencies);
        for (code, n) in errors {
            *report.errors.entry(code).or_default() += n;
        }
        last = last.max(finished);
    }
    report.elapsed = last.saturating_duration_since(measure_from);
    report.latencies.sort_unstable();
    report
}

/// The report as text.
pub(crate) fn render(scenario: &str, plan: &Plan, report: &Report) -> String {
    let ms = |d: Duration| format!("{:.3}", d.as_secs_f64() * 1e3);
    let mut text = format!(
        "scenario {scenario}: concurrency {}, warm-up {:?}, measured {:.2}s\n\
         calls {}  ok {}  failed {}\n\
         throughput {:.0} calls/s\n\
         latency ms  p50 {}  p90 {}  p99 {}  max {}\n",
        plan.concurrency,
        plan.warmup,
        report.elapsed.as_secs_f64(),
        report.calls(),
        report.calls() - report.failures(),
        report.failures(),
        report.throughput(),
        ms(report.percentile(0.50)),
        ms(report.percentile(0.90)),
        ms(report.percentile(0.99)),
        ms(report.latencies.last().copied().unwrap_or_default()),
    );
    for (code, n) in &report.errors {
        text.push_str(&format!("errors {code}: {n}\n"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(latencies_ms: &[u64]) -> Report {
        Report {
            elapsed: Duration::from_secs(1),
            latencies: latencies_ms
                .iter()
                .map(|m| Duration::from_millis(*m))
                .collect(),
            errors: BTreeMap::new(),
        }
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let r = report(&(1..=100).collect::<Vec<_>>());
        assert_eq!(r.percentile(0.50), Duration::from_millis(50));
        assert_eq!(r.percentile(0.99), Duration::from_millis(99));
        assert_eq!(r.percentile(1.0), Duration::from_millis(100));
        assert_eq!(report(&[7]).percentile(0.5), Duration::from_millis(7));
        assert_eq!(report(&[]).percentile(0.5), Duration::ZERO);
    }

    #[tokio::test]
    async fn a_run_counts_calls_and_failures() {
        let channel = TracedChannel::new(
            chatmesh_runtime::http2::Http2Channel::lazy("127.0.0.1:1", &Default::default())
                .unwrap(),
        );
        let make: MakeWorker = Arc::new(|index, _channel| {
            let mut n = 0u64;
            Box::new(move || {
                n += 1;
                let fail = index == 0 && n.is_multiple_of(2);
                Box::pin(async move {
                    if fail {
                        Err(tonic::Status::unavailable("down"))
                    } else {
                        Ok(())
                    }
                })
            })
        });
        let plan = Plan {
            concurrency: 2,
            warmup: Duration::ZERO,
            until: Until::Calls(100),
        };
        let report = run(plan, &[channel], make).await;
        assert_eq!(report.calls(), 100);
        assert!(report.errors.get("Unavailable").is_some_and(|n| *n > 0));
    }
}
