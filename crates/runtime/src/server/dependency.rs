//! A service's hard dependency on an engine in another process (PostgreSQL for relational rows,
//! chat sessions and vectors; a Bolt server for the graph): the loop that keeps the engine and
//! the service's health in step, once for all of them. Each service says how to reach, probe
//! and watch its engine by implementing [`Dependency`]; [`run`] does the rest:
//!
//! - at start, health stays NOT_SERVING until the engine is reached and set up, retrying every
//!   interval while it is unreachable; an engine that answers but cannot be used (credentials, a
//!   migration that does not apply, a missing extension) stops the service with a start-up error;
//! - then it is probed every interval, and soon after a call met trouble, but no sooner than a
//!   quarter interval after the last probe (a burst of failing calls costs a few probes, not one
//!   each). A failed probe marks it lost: readiness turns NOT_SERVING (the orchestrator sends
//!   calls to other replicas; this one answers UNAVAILABLE without waiting) and reconnecting is
//!   tried every interval until it is back, then readiness is SERVING again. No restart.
//!   Liveness (`""`) stays SERVING throughout: the process is healthy, only waiting.

use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::health::Health;

/// An engine the service cannot answer without.
#[tonic::async_trait]
pub trait Dependency: Send + Sync {
    /// What it is, for logs: "session database", "graph engine".
    fn name(&self) -> &'static str;

    /// Where it is, for logs: an engine name or a URL without credentials.
    fn location(&self) -> String;

    /// Reaches the engine and sets it up (schema, migrations); afterwards it is connected.
    async fn connect(&self) -> Result<(), Unreached>;

    /// Whether it is connected: while it is not, calls answer UNAVAILABLE at once.
    fn is_connected(&self) -> bool;

    /// Checks that the engine answers; a failure marks it not connected.
    async fn probe(&self);

    /// Resolves when a call found the engine misbehaving, so that a probe need not wait its turn.
    async fn trouble(&self);
}

/// Why [`Dependency::connect`] failed.
#[derive(Debug)]
pub enum Unreached {
    /// It cannot be reached now; trying again may work.
    Unreachable(String),
    /// It answers but refuses this service, or cannot be set up: trying again will not help.
    Unusable(String),
}

/// Keeps `engine` and `health` in step until `stop` is cancelled: connect at start (retrying
/// while it is unreachable), run `ready` once it is reached (seeding, handing the store to the
/// API; its error stops the service), report SERVING, then supervise. Fails only when the
/// engine cannot be used for a reason other than being unreachable, or `ready` fails.
pub async fn run<F, Fut>(
    engine: &dyn Dependency,
    health: &Health,
    interval: Duration,
    stop: &CancellationToken,
    ready: F,
) -> Result<(), String>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    if !connect_at_start(engine, interval, stop).await? {
        return Ok(());
    }
    ready().await?;
    if stop.is_cancelled() {
        return Ok(());
    }
    health.set_serving().await;
    tracing::info!(location = %engine.location(), "{} ready; SERVING", engine.name());
    supervise(engine, health, interval, stop).await;
    Ok(())
}

/// Connects, retrying every `interval` while the engine is unreachable. `Ok(false)` when `stop`
/// came first. The first part of [`run`], for a service that connects inside its own loader.
pub async fn connect_at_start(
    engine: &dyn Dependency,
    interval: Duration,
    stop: &CancellationToken,
) -> Result<bool, String> {
    let mut reported = false;
    loop {
        match engine.connect().await {
            Ok(()) => return Ok(true),
            Err(Unreached::Unreachable(reason)) => {
                if !reported {
                    tracing::warn!(location = %engine.location(), %reason,
                        "{} unreachable at start; NOT_SERVING, retrying", engine.name());
                    reported = true;
                }
                if !pause(interval, stop).await {
                    return Ok(false);
                }
            }
            Err(Unreached::Unusable(reason)) => {
                return Err(format!(
                    "the {} at {} cannot be used: {reason}",
                    engine.name(),
                    engine.location()
                ));
            }
        }
    }
}

/// Keeps readiness in step with the engine until `stop` is cancelled. The last part of [`run`],
/// for a service that connects inside its own loader.
pub async fn supervise(
    engine: &dyn Dependency,
    health: &Health,
    interval: Duration,
    stop: &CancellationToken,
) {
    let mut serving = true;
    let mut last_probe = Instant::now();
    loop {
        let connected = engine.is_connected();
        if connected != serving && !stop.is_cancelled() {
            health.set_ready(connected).await;
            log_readiness(engine, connected);
            serving = connected;
        }
        let go_on = if connected {
            watch(engine, interval, &mut last_probe, stop).await
        } else {
            reconnect(engine, interval, stop).await
        };
        if !go_on {
            return;
        }
    }
}

fn log_readiness(engine: &dyn Dependency, connected: bool) {
    let location = engine.location();
    if connected {
        tracing::info!(%location, "{} back; SERVING", engine.name());
    } else {
        tracing::warn!(%location, "{} lost; NOT_SERVING until it is back", engine.name());
    }
}

/// Waits for the next probe, or for a call to report trouble (but no sooner than a quarter
/// interval after the last probe), then probes. False when `stop` came first.
async fn watch(
    engine: &dyn Dependency,
    interval: Duration,
    last_probe: &mut Instant,
    stop: &CancellationToken,
) -> bool {
    let woken = async {
        engine.trouble().await;
        tokio::time::sleep_until(*last_probe + interval / 4).await;
    };
    tokio::select! {
        () = stop.cancelled() => return false,
        () = tokio::time::sleep(interval) => {}
        () = woken => {}
    }
    engine.probe().await;
    *last_probe = Instant::now();
    true
}

/// One reconnection attempt, and a pause after a failed one. False when `stop` came first.
async fn reconnect(engine: &dyn Dependency, interval: Duration, stop: &CancellationToken) -> bool {
    match engine.connect().await {
        Ok(()) => true,
        Err(Unreached::Unreachable(reason) | Unreached::Unusable(reason)) => {
            tracing::debug!(%reason, "{} reconnect failed", engine.name());
            pause(interval, stop).await
        }
    }
}

/// Sleeps for `interval`; false when `stop` is cancelled first.
pub async fn pause(interval: Duration, stop: &CancellationToken) -> bool {
    tokio::select! {
        () = stop.cancelled() => false,
        () = tokio::time::sleep(interval) => true,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    use tokio::sync::Notify;
    use tonic_health::pb::HealthCheckRequest;
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::health_server::Health as _;
    use tonic_health::server::{HealthReporter, HealthService};

    use super::*;

    /// An engine whose answers the test scripts: `connects` is consumed one per connect
    /// (afterwards every connect succeeds); probes fail while `down` is set.
    #[derive(Default)]
    struct Scripted {
        connects: Mutex<Vec<Unreached>>,
        down: AtomicBool,
        connected: AtomicBool,
        probes: AtomicUsize,
        trouble: Notify,
    }

    #[tonic::async_trait]
    impl Dependency for Scripted {
        fn name(&self) -> &'static str {
            "test engine"
        }
        fn location(&self) -> String {
            "memory".into()
        }
        async fn connect(&self) -> Result<(), Unreached> {
            let next = self.connects.lock().unwrap().pop();
            match next {
                Some(failure) => Err(failure),
                None if self.down.load(Ordering::SeqCst) => {
                    Err(Unreached::Unreachable("down".into()))
                }
                None => {
                    self.connected.store(true, Ordering::SeqCst);
                    Ok(())
                }
            }
        }
        fn is_connected(&self) -> bool {
            self.connected.load(Ordering::SeqCst)
        }
        async fn probe(&self) {
            self.probes.fetch_add(1, Ordering::SeqCst);
            if self.down.load(Ordering::SeqCst) {
                self.connected.store(false, Ordering::SeqCst);
            }
        }
        async fn trouble(&self) {
            self.trouble.notified().await;
        }
    }

    const TICK: Duration = Duration::from_millis(10);
    const FQN: &str = "chatmesh.test.v1.TestService";

    /// A health handle and the service that answers `Check` from it.
    fn health() -> (Health, HealthService) {
        let reporter = HealthReporter::new();
        (
            Health::new(reporter.clone(), FQN),
            HealthService::from_health_reporter(reporter),
        )
    }

    /// Readiness as a probe sees it: the service name's status.
    async fn ready(service: &HealthService) -> bool {
        let request = tonic::Request::new(HealthCheckRequest {
            service: FQN.into(),
        });
        match service.check(request).await {
            Ok(answer) => answer.into_inner().status == ServingStatus::Serving as i32,
            Err(_) => false,
        }
    }

    /// Waits (up to about five seconds) for readiness to become `want`.
    async fn becomes(service: &HealthService, want: bool) {
        for _ in 0..2_500 {
            if ready(service).await == want {
                return;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        panic!("readiness never became {want}");
    }

    #[tokio::test]
    async fn an_unusable_engine_stops_the_service() {
        let engine = Scripted::default();
        engine.connects.lock().unwrap().extend([
            Unreached::Unusable("bad password".into()),
            Unreached::Unreachable("refused".into()),
        ]);
        let (health, service) = health();
        let stop = CancellationToken::new();
        let readied = AtomicBool::new(false);
        let outcome = run(&engine, &health, TICK, &stop, || async {
            readied.store(true, Ordering::SeqCst);
            Ok(())
        })
        .await;
        let error = outcome.unwrap_err();
        assert!(
            error.contains("bad password") && error.contains("test engine"),
            "{error}"
        );
        assert!(
            !readied.load(Ordering::SeqCst),
            "ready ran for an unusable engine"
        );
        assert!(!ready(&service).await);
    }

    #[tokio::test]
    async fn a_lost_engine_turns_readiness_off_until_it_is_back() {
        let engine = Arc::new(Scripted::default());
        engine
            .connects
            .lock()
            .unwrap()
            .push(Unreached::Unreachable("not yet".into()));
        let (health, service) = health();
        let stop = CancellationToken::new();
        let running = {
            let (engine, stop) = (engine.clone(), stop.clone());
            tokio::spawn(async move {
                run(engine.as_ref(), &health, TICK, &stop, || async { Ok(()) }).await
            })
        };
        becomes(&service, true).await;
        engine.down.store(true, Ordering::SeqCst);
        engine.trouble.notify_waiters();
        becomes(&service, false).await;
        engine.down.store(false, Ordering::SeqCst);
        becomes(&service, true).await;
        stop.cancel();
        assert!(running.await.unwrap().is_ok());
        assert!(engine.probes.load(Ordering::SeqCst) >= 1);
    }

    #[tokio::test]
    async fn a_failing_ready_step_stops_the_service_before_serving() {
        let engine = Scripted::default();
        let (health, service) = health();
        let stop = CancellationToken::new();
        let outcome = run(&engine, &health, TICK, &stop, || async {
            Err("the demo data does not load".to_string())
        })
        .await;
        assert_eq!(outcome.unwrap_err(), "the demo data does not load");
        assert!(!ready(&service).await);
    }

    #[tokio::test]
    async fn stop_during_the_wait_at_start_ends_quietly() {
        let engine = Scripted::default();
        engine.down.store(true, Ordering::SeqCst);
        let (health, service) = health();
        let stop = CancellationToken::new();
        stop.cancel();
        let outcome = run(&engine, &health, TICK, &stop, || async {
            Err("ready must not run".to_string())
        })
        .await;
        assert!(outcome.is_ok());
        assert!(!ready(&service).await);
    }
}
