//! A backend pool: every address of one backend (graph, vector or relational), kept up to date
//! (DNS re-resolution, health watches), and the call policy across them: pick an eligible
//! address by the power of two choices, retry UNAVAILABLE on another address with jittered
//! backoff while the retry budget and the deadline allow, and answer UNAVAILABLE naming the
//! backend when no address can take the call.
//!
//! Per-address policy (deadline, circuit breaker) lives in the tower layers of [`layers`].

pub(crate) mod breaker;
mod health;
mod instance;
pub(crate) mod layers;
pub(crate) mod metrics;
pub(crate) mod resolve;
pub(crate) mod retry;

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use chatmesh_proto::router::{Backend, Target};
use chatmesh_runtime::CancellationToken;
use chatmesh_runtime::channel::{ClientArgs, connect_lazy};
use rand::Rng;
use tokio::time::Instant;
use tonic::Status;

use crate::backends::CallContext;
use breaker::BreakerSettings;
use instance::Instance;
use layers::{AttemptDeadline, InstanceService};
use metrics::CallStats;
use resolve::Entry;
use retry::{RetryBudget, RetrySettings};

/// How a pool calls and watches its backend.
#[derive(Debug, Clone)]
pub(crate) struct PoolSettings {
    /// Longest a backend call may take when the caller allows more (or set no deadline).
    pub timeout: Duration,
    /// Retries.
    pub retry: RetrySettings,
    /// Circuit breakers.
    pub breaker: BreakerSettings,
    /// How often DNS names are resolved again.
    pub resolve_interval: Duration,
    /// Wait between attempts to (re)open a health watch.
    pub health_retry: Duration,
    /// Connection settings.
    pub client: ClientArgs,
}

/// Every address of one backend and the policy to call them.
#[derive(Debug)]
pub(crate) struct Pool {
    target: Target,
    fqn: &'static str,
    entries: Vec<Entry>,
    instances: RwLock<Vec<Arc<Instance>>>,
    settings: PoolSettings,
    budget: RetryBudget,
    /// What `/metrics` reports of this pool's calls.
    stats: CallStats,
    stop: CancellationToken,
    /// Whether new instances get a health watch (always, outside unit tests).
    watch_health: bool,
}

impl Pool {
    /// Starts a pool for `spec` (validated with [`resolve::parse_spec`]): resolves it once,
    /// starts health watches, and re-resolves DNS names until `stop` is cancelled.
    pub(crate) async fn start(
        target: Target,
        fqn: &'static str,
        spec: &str,
        settings: PoolSettings,
        stop: CancellationToken,
    ) -> Result<Arc<Self>, String> {
        let entries = resolve::parse_spec(spec)?;
        let pool = Arc::new(Self {
            target,
            fqn,
            budget: RetryBudget::new(&settings.retry),
            stats: CallStats::default(),
            entries,
            instances: RwLock::new(Vec::new()),
            settings,
            stop,
            watch_health: true,
        });
        pool.refresh().await;
        if pool.entries.iter().any(|e| !e.is_ip()) {
            let weak = Arc::downgrade(&pool);
            let stop = pool.stop.clone();
            let every = pool.settings.resolve_interval;
            tokio::spawn(async move {
                loop {
                    tokio::select! {
                        () = stop.cancelled() => return,
                        () = tokio::time::sleep(every) => {}
                    }
                    let Some(pool) = weak.upgrade() else { return };
                    pool.refresh().await;
                }
            });
        }
        Ok(pool)
    }

    /// Resolves every entry and brings the instance set in line: new addresses are added (with
    /// a health watch), vanished ones dropped (their watch stopped). A name that fails to
    /// resolve keeps its current addresses.
    async fn refresh(&self) {
        let mut wanted: Vec<String> = Vec::new();
        let current: BTreeSet<String> = self.addresses().into_iter().collect();
        for entry in &self.entries {
            match entry.resolve().await {
                Ok(found) => wanted.extend(found),
                Err(error) => {
                    tracing::warn!(backend = self.name(), host = %entry.host, %error, "cannot resolve backend address; keeping the current addresses");
                    let prefix = format!("{}://", entry.scheme);
                    let suffix = format!(":{}", entry.port);
                    wanted.extend(
                        current
                            .iter()
                            .filter(|a| a.starts_with(&prefix) && a.ends_with(&suffix))
                            .cloned(),
                    );
                }
            }
        }
        self.reconcile(wanted);
    }

    /// Makes the instance set exactly `wanted` (in that order, duplicates dropped): keeps the
    /// instances already there (their health and breaker state), starts new ones, and stops
    /// the health watches of the ones that vanished.
    fn reconcile(&self, mut wanted: Vec<String>) {
        let mut seen = BTreeSet::new();
        wanted.retain(|a| seen.insert(a.clone()));
        let mut instances = self.instances.write().unwrap_or_else(|e| e.into_inner());
        let (keep, gone): (Vec<_>, Vec<_>) = instances
            .drain(..)
            .partition(|i| wanted.contains(&i.address));
        for instance in gone {
            tracing::info!(backend = self.name(), address = %instance.address, "backend address removed");
            instance.stop.cancel();
        }
        let mut next = Vec::with_capacity(wanted.len());
        for address in wanted {
            if let Some(existing) = keep.iter().find(|i| i.address == address) {
                next.push(Arc::clone(existing));
                continue;
            }
            let channel = match connect_lazy(&address, &self.client_for_instances()) {
                Ok(channel) => channel,
                Err(error) => {
                    tracing::warn!(backend = self.name(), %error, "skipping backend address");
                    continue;
                }
            };
            // The router's own token (when it has one) names it to the backend.
            let token = self.settings.client.token.clone();
            let instance = Instance::new(address, channel, token, self.settings.breaker);
            let stop = self.stop.child_token();
            let watched = Arc::clone(&instance);
            let instance_stop = instance.stop.clone();
            tokio::spawn(async move {
                tokio::select! {
                    () = stop.cancelled() => instance_stop.cancel(),
                    () = instance_stop.cancelled() => {}
                }
            });
            if self.watch_health {
                tokio::spawn(health::watch(watched, self.fqn, self.settings.health_retry));
            }
            next.push(instance);
        }
        *instances = next;
    }

    fn name(&self) -> &'static str {
        target_name(self.target)
    }

    /// The client settings for this backend's addresses: with mTLS, the server must prove it
    /// is this backend (its certificate names it), whichever resolved IP is dialled.
    fn client_for_instances(&self) -> ClientArgs {
        let mut client = self.settings.client.clone();
        // The backends' names are valid DNS names, so `expecting` cannot fail here.
        if let Some(Ok(tls)) = client.tls.as_ref().map(|tls| tls.expecting(self.name())) {
            client.tls = Some(tls);
        }
        client
    }

    /// The current instance addresses.
    pub(crate) fn addresses(&self) -> Vec<String> {
        self.instances
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|i| i.address.clone())
            .collect()
    }

    /// ListBackends' view of this backend.
    pub(crate) fn snapshot(&self) -> Backend {
        let now = Instant::now();
        Backend {
            target: self.target as i32,
            addresses: self
                .instances
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .map(|i| i.snapshot(now))
                .collect(),
        }
    }

    /// Picks an eligible instance, preferring ones not yet tried in this call: two at random,
    /// the less loaded wins. `Err` explains why none is eligible.
    fn pick(&self, tried: &[String]) -> Result<Arc<Instance>, String> {
        let now = Instant::now();
        let instances = self.instances.read().unwrap_or_else(|e| e.into_inner());
        let eligible: Vec<&Arc<Instance>> = instances.iter().filter(|i| i.eligible(now)).collect();
        let fresh: Vec<&Arc<Instance>> = eligible
            .iter()
            .copied()
            .filter(|i| !tried.contains(&i.address))
            .collect();
        let choices = if fresh.is_empty() { eligible } else { fresh };
        match choices.len() {
            0 if instances.is_empty() => Err("no address (the name resolved to nothing)".into()),
            0 => Err(instances
                .iter()
                .map(|i| format!("{}: {}", i.address, i.why_not(now)))
                .collect::<Vec<_>>()
                .join("; ")),
            1 => Ok(Arc::clone(choices[0])),
            n => {
                let mut rng = rand::rng();
                let a = rng.random_range(0..n);
                let b = (a + rng.random_range(1..n)) % n;
                let (a, b) = (choices[a], choices[b]);
                Ok(Arc::clone(if b.load() < a.load() { b } else { a }))
            }
        }
    }

    /// Makes one logical call: `op` sends the request on the instance service it is given,
    /// with the attempt's deadline. `idempotent` calls are retried on UNAVAILABLE. Counted in
    /// the pool's [`CallStats`] (a call its caller drops is not counted: it has no outcome).
    pub(crate) async fn call<T, F, Fut>(
        &self,
        ctx: &CallContext,
        idempotent: bool,
        op: F,
    ) -> Result<T, Status>
    where
        F: Fn(InstanceService, AttemptDeadline) -> Fut,
        Fut: Future<Output = Result<tonic::Response<T>, Status>>,
    {
        let started = Instant::now();
        let outcome = self.attempts(ctx, idempotent, op).await;
        let code = outcome
            .as_ref()
            .map_or_else(Status::code, |_| tonic::Code::Ok);
        self.stats.finished(code, started.elapsed());
        outcome
    }

    /// [`Pool::call`]'s attempts.
    async fn attempts<T, F, Fut>(
        &self,
        ctx: &CallContext,
        idempotent: bool,
        op: F,
    ) -> Result<T, Status>
    where
        F: Fn(InstanceService, AttemptDeadline) -> Fut,
        Fut: Future<Output = Result<tonic::Response<T>, Status>>,
    {
        let configured = Instant::now() + self.settings.timeout;
        let deadline = ctx.deadline.map_or(configured, |d| d.min(configured));
        let mut tried: Vec<String> = Vec::new();
        self.budget.deposit();
        loop {
            if Instant::now() >= deadline {
                return Err(Status::deadline_exceeded(format!(
                    "{} backend: deadline exceeded after {} attempt(s)",
                    self.name(),
                    tried.len()
                )));
            }
            let instance = self.pick(&tried).map_err(|why| {
                Status::unavailable(format!("{} backend unavailable: {why}", self.name()))
            })?;
            ctx.report.attempt(&instance.address);
            tried.push(instance.address.clone());
            let (service, _in_flight) = instance.begin();
            let attempt = op(
                service,
                AttemptDeadline {
                    at: deadline,
                    callers: deadline < configured,
                },
            );
            let result = match tokio::time::timeout_at(deadline, attempt).await {
                Ok(result) => result.map(tonic::Response::into_inner),
                Err(_) => Err(Status::deadline_exceeded(format!(
                    "{} backend: deadline exceeded",
                    self.name()
                ))),
            };
            let status = match result {
                Ok(value) => return Ok(value),
                // Our own caller giving up drops this future; a CANCELLED that comes back is the
                // connection to the backend closing under the call (a replica going away).
                Err(status) if status.code() == tonic::Code::Cancelled => Status::unavailable(
                    format!("connection closed during the call: {}", status.message()),
                ),
                Err(status) => status,
            };
            let again = idempotent
                && retry::retryable(status.code())
                && (tried.len() as u32) < self.settings.retry.max_attempts
                && self.budget.withdraw();
            if !again {
                return Err(if status.code() == tonic::Code::Unavailable {
                    Status::unavailable(format!(
                        "{} backend unavailable: {}: {}",
                        self.name(),
                        instance.address,
                        status.message()
                    ))
                } else {
                    status
                });
            }
            self.stats.retried();
            let pause = retry::backoff(&self.settings.retry, tried.len() as u32);
            tokio::time::sleep_until((Instant::now() + pause).min(deadline)).await;
        }
    }
}

/// The backend's short name, as messages say it.
pub(crate) fn target_name(target: Target) -> &'static str {
    match target {
        Target::Graph => "graph",
        Target::Vector => "vector",
        Target::Relational => "relational",
        Target::Unspecified => "unspecified",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> PoolSettings {
        PoolSettings {
            timeout: Duration::from_secs(1),
            retry: RetrySettings {
                max_attempts: 2,
                base_backoff: Duration::from_millis(1),
                max_backoff: Duration::from_millis(2),
                budget_ratio: 0.2,
                budget_reserve: 1.0,
            },
            breaker: BreakerSettings {
                failure_threshold: 1,
                open_for: Duration::from_secs(60),
            },
            resolve_interval: Duration::from_secs(60),
            health_retry: Duration::from_secs(60),
            client: ClientArgs::default(),
        }
    }

    /// A pool over IP addresses without health watches, so tests set health themselves.
    fn unwatched(target: Target, spec: &str, stop: &CancellationToken) -> Arc<Pool> {
        let settings = settings();
        let pool = Arc::new(Pool {
            target,
            fqn: "test.Service",
            budget: RetryBudget::new(&settings.retry),
            stats: CallStats::default(),
            entries: resolve::parse_spec(spec).unwrap(),
            instances: RwLock::new(Vec::new()),
            settings,
            stop: stop.clone(),
            watch_health: false,
        });
        let addresses = pool.entries.iter().map(Entry::address).collect();
        pool.reconcile(addresses);
        pool
    }

    #[tokio::test]
    async fn vanished_addresses_are_dropped_and_kept_ones_keep_their_state() {
        let stop = CancellationToken::new();
        let pool = unwatched(Target::Graph, "127.0.0.1:9,http://127.0.0.2:9", &stop);
        assert_eq!(
            pool.addresses(),
            ["http://127.0.0.1:9", "http://127.0.0.2:9"]
        );
        let first = Arc::clone(&pool.instances.read().unwrap()[0]);
        let second = Arc::clone(&pool.instances.read().unwrap()[1]);
        second.state().failed("Unavailable: test".into());

        pool.reconcile(vec![
            "http://127.0.0.2:9".into(),
            "http://127.0.0.3:9".into(),
            "http://127.0.0.2:9".into(),
        ]);
        assert_eq!(
            pool.addresses(),
            ["http://127.0.0.2:9", "http://127.0.0.3:9"]
        );
        assert!(
            first.stop.is_cancelled(),
            "the vanished address's watch stops"
        );
        let kept = Arc::clone(&pool.instances.read().unwrap()[0]);
        assert!(Arc::ptr_eq(&kept, &second));
        assert_eq!(kept.state().consecutive_failures, 1, "state survives");
        stop.cancel();
    }

    #[tokio::test]
    async fn no_eligible_address_is_unavailable_naming_the_backend_and_each_address() {
        let stop = CancellationToken::new();
        let pool = unwatched(Target::Vector, "127.0.0.1:9,127.0.0.2:9", &stop);
        for instance in pool.instances.read().unwrap().iter() {
            instance.state().failed("Unavailable: refused".into());
        }
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let err = pool
            .call(&CallContext::default(), true, |_service, _deadline| {
                calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                async { Ok(tonic::Response::new(())) }
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), tonic::Code::Unavailable);
        assert!(
            err.message().starts_with("vector backend unavailable"),
            "{err:?}"
        );
        assert!(
            err.message()
                .contains("http://127.0.0.1:9: circuit CIRCUIT_STATE_OPEN"),
            "{err:?}"
        );
        assert!(err.message().contains("http://127.0.0.2:9"), "{err:?}");
        assert_eq!(
            calls.load(std::sync::atomic::Ordering::SeqCst),
            0,
            "nothing was sent"
        );
        stop.cancel();
    }

    #[tokio::test]
    async fn unavailable_reads_are_retried_on_another_address_and_other_codes_are_not() {
        let stop = CancellationToken::new();
        let pool = unwatched(Target::Relational, "127.0.0.1:9,127.0.0.2:9", &stop);
        let ctx = CallContext::default();
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let result = pool
            .call(&ctx, true, |_service, _deadline| {
                let n = calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                async move {
                    if n == 0 {
                        Err(Status::unavailable("first one down"))
                    } else {
                        Ok(tonic::Response::new(n))
                    }
                }
            })
            .await;
        assert_eq!(result.unwrap(), 1);
        assert_eq!(ctx.report.attempts(), 2);

        let ctx = CallContext::default();
        let err = pool
            .call(&ctx, true, |_service, _deadline| async {
                Err::<tonic::Response<()>, _>(Status::not_found("no such order"))
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), tonic::Code::NotFound);
        assert_eq!(err.message(), "no such order", "passed through unchanged");
        assert_eq!(ctx.report.attempts(), 1);

        let ctx = CallContext::default();
        let err = pool
            .call(&ctx, false, |_service, _deadline| async {
                Err::<tonic::Response<()>, _>(Status::unavailable("down"))
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), tonic::Code::Unavailable);
        assert_eq!(
            ctx.report.attempts(),
            1,
            "a non-idempotent call is not retried"
        );

        // What the router's /metrics says of these three calls.
        let mut text = String::new();
        use chatmesh_runtime::telemetry::MetricsSource as _;
        metrics::BackendMetrics::new(vec![Arc::clone(&pool)]).render(&mut text);
        for line in [
            "chatmesh_backend_calls_total{backend=\"relational\",code=\"OK\"} 1\n",
            "chatmesh_backend_calls_total{backend=\"relational\",code=\"NOT_FOUND\"} 1\n",
            "chatmesh_backend_calls_total{backend=\"relational\",code=\"UNAVAILABLE\"} 1\n",
            "chatmesh_backend_call_duration_seconds_count{backend=\"relational\",code=\"OK\"} 1\n",
            "chatmesh_backend_retries_total{backend=\"relational\"} 1\n",
            // The calls above bypass the instances' breaker layer: both circuits stay closed.
            "chatmesh_backend_addresses{backend=\"relational\",circuit=\"CLOSED\"} 2\n",
            "chatmesh_backend_addresses{backend=\"relational\",circuit=\"OPEN\"} 0\n",
        ] {
            assert!(text.contains(line), "missing {line} in {text}");
        }
        stop.cancel();
    }
}
