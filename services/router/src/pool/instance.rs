//! One backend address (an instance): its channel, its health, its circuit breaker, and the
//! number of calls in flight (the load the balancer compares).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use chatmesh_proto::router::{BackendAddress, HealthStatus};
use chatmesh_runtime::CancellationToken;
use chatmesh_runtime::auth::BearerToken;
use chatmesh_runtime::http2::Http2Channel;
use tokio::time::Instant;

use super::breaker::{Breaker, BreakerSettings};
use super::layers::{InstanceService, instance_service};

/// Failed health checks of a backend that never served before it is worth a warning (at the
/// default 250 ms retry interval, about ten seconds).
const STILL_NOT_SERVING_CHECKS: u32 = 40;
/// The live state of one address, shared by the pool, its health watcher and its breaker layer.
#[derive(Debug)]
pub(crate) struct InstanceState {
    /// Last known health.
    pub health: HealthStatus,
    /// When health was last heard of.
    pub last_check: Option<SystemTime>,
    /// Failed calls or checks since the last success.
    pub consecutive_failures: u32,
    /// The most recent failure, "CODE: message".
    pub last_error: String,
    /// The circuit breaker.
    pub breaker: Breaker,
}

impl InstanceState {
    /// Records a failure of a call or a check.
    pub(crate) fn failed(&mut self, error: String) {
        self.consecutive_failures = self.consecutive_failures.saturating_add(1);
        self.last_error = error;
        self.breaker
            .on_failure(self.consecutive_failures, Instant::now());
    }

    /// Records a successful call.
    pub(crate) fn succeeded(&mut self) {
        self.consecutive_failures = 0;
        self.last_error.clear();
        self.breaker.on_success();
    }
}

/// Shared handle on an [`InstanceState`].
#[derive(Debug, Clone)]
pub(crate) struct SharedState(Arc<Mutex<InstanceState>>);

impl SharedState {
    /// A state of the test's choosing.
    #[cfg(test)]
    pub(crate) fn for_test(state: InstanceState) -> Self {
        Self(Arc::new(Mutex::new(state)))
    }

    /// Locks the state (a poisoned lock still holds consistent plain data).
    pub(crate) fn lock(&self) -> MutexGuard<'_, InstanceState> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// One address of a backend.
#[derive(Debug)]
pub(super) struct Instance {
    /// The address, for example "http://127.0.0.1:50053".
    pub address: String,
    /// The raw channel (health checks go here, outside the call policy).
    pub channel: Http2Channel,
    service: InstanceService,
    state: SharedState,
    in_flight: Arc<AtomicUsize>,
    /// Stops this instance's health watcher when the address goes away.
    pub stop: CancellationToken,
}

impl Instance {
    /// An instance with health UNKNOWN and a closed breaker.
    pub(super) fn new(
        address: String,
        channel: Http2Channel,
        token: BearerToken,
        breaker: BreakerSettings,
    ) -> Arc<Self> {
        let state = SharedState(Arc::new(Mutex::new(InstanceState {
            health: HealthStatus::Unknown,
            last_check: None,
            consecutive_failures: 0,
            last_error: String::new(),
            breaker: Breaker::new(breaker),
        })));
        let service = instance_service(channel.clone(), token, state.clone(), address.clone());
        Arc::new(Self {
            address,
            channel,
            service,
            state,
            in_flight: Arc::new(AtomicUsize::new(0)),
            stop: CancellationToken::new(),
        })
    }

    /// The state, locked.
    pub(super) fn state(&self) -> MutexGuard<'_, InstanceState> {
        self.state.lock()
    }

    /// Whether a call may be sent here now: not known NOT_SERVING, breaker not open.
    pub(super) fn eligible(&self, now: Instant) -> bool {
        let state = self.state();
        state.health != HealthStatus::NotServing && state.breaker.allows(now)
    }

    /// Why this instance is not eligible, for an UNAVAILABLE message.
    pub(super) fn why_not(&self, now: Instant) -> String {
        let state = self.state();
        let mut why = if state.health == HealthStatus::NotServing {
            "NOT_SERVING".to_owned()
        } else {
            format!("circuit {}", state.breaker.state(now).as_str_name())
        };
        if !state.last_error.is_empty() {
            why.push_str(&format!(" ({})", state.last_error));
        }
        why
    }

    /// Calls in flight now.
    pub(super) fn load(&self) -> usize {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// The policy-wrapped service for one call, counted as in flight until the guard drops.
    pub(super) fn begin(&self) -> (InstanceService, InFlight) {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        (self.service.clone(), InFlight(Arc::clone(&self.in_flight)))
    }

    /// The health watcher heard a status.
    ///
    /// Logs: a backend that stops serving is a warning; one that has not served yet is waited
    /// for quietly until [`STILL_NOT_SERVING_CHECKS`] checks failed.
    pub(super) fn set_health(&self, health: HealthStatus, error: Option<String>) {
        let mut state = self.state();
        let was = state.health;
        state.health = health;
        state.last_check = Some(SystemTime::now());
        match error {
            Some(error) => {
                state.consecutive_failures = state.consecutive_failures.saturating_add(1);
                self.log_failure(was, state.consecutive_failures, &error);
                state.last_error = error;
            }
            None if health == HealthStatus::Serving && was != HealthStatus::Serving => {
                tracing::info!(address = %self.address, "backend address serving");
                // Health came back: calls may flow at once, rather than after the cool-down.
                state.breaker.reset();
                state.consecutive_failures = 0;
                state.last_error.clear();
            }
            None => {}
        }
    }

    /// A backend that never served yet is usually starting (backends and router come up
    /// together): worth a warning only once it has kept us waiting.
    fn log_failure(&self, was: HealthStatus, failures: u32, error: &str) {
        let (warn, message) = match was {
            HealthStatus::Serving => (true, "backend address unhealthy"),
            _ if failures == STILL_NOT_SERVING_CHECKS => {
                (true, "backend address still not serving")
            }
            HealthStatus::Unknown => (false, "waiting for backend address to serve"),
            _ => return,
        };
        let address = &self.address;
        if warn {
            tracing::warn!(%address, %error, failures, "{message}");
        } else {
            tracing::info!(%address, %error, "{message}");
        }
    }

    /// ListBackends' view of this instance.
    pub(super) fn snapshot(&self, now: Instant) -> BackendAddress {
        let state = self.state();
        BackendAddress {
            address: self.address.clone(),
            health: state.health as i32,
            circuit_state: state.breaker.state(now) as i32,
            consecutive_failures: i32::try_from(state.consecutive_failures).unwrap_or(i32::MAX),
            last_check_time: state.last_check.map(prost_types::Timestamp::from),
            last_error: state.last_error.clone(),
        }
    }
}

/// Counts a call as in flight until dropped (also when the call is cancelled).
#[derive(Debug)]
pub(super) struct InFlight(Arc<AtomicUsize>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}
