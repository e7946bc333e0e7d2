//! A circuit breaker for one backend address: after `failure_threshold` consecutive failures it
//! opens and calls fail fast; after `open_for` it lets one probe call through (half-open), whose
//! outcome closes it or opens it again. Time is passed in, so the state machine is tested
//! without sleeping.

use std::time::Duration;

use chatmesh_proto::router::CircuitState;
use tokio::time::Instant;

/// When a breaker opens and for how long.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BreakerSettings {
    /// Consecutive failures that open the breaker.
    pub failure_threshold: u32,
    /// How long it stays open before a probe.
    pub open_for: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    Closed,
    Open {
        until: Instant,
    },
    /// A probe went out at this time; others wait for its outcome (or for `open_for` to pass,
    /// in case the probe was cancelled and never reported).
    HalfOpen {
        probe_since: Instant,
    },
}

/// The breaker of one address.
#[derive(Debug, Clone)]
pub(crate) struct Breaker {
    settings: BreakerSettings,
    state: State,
}

impl Breaker {
    /// A closed breaker.
    pub(crate) fn new(settings: BreakerSettings) -> Self {
        Self {
            settings,
            state: State::Closed,
        }
    }

    /// Whether a call may go out now (without taking the half-open probe slot).
    pub(crate) fn allows(&self, now: Instant) -> bool {
        match self.state {
            State::Closed => true,
            State::Open { until } => now >= until,
            State::HalfOpen { probe_since } => now >= probe_since + self.settings.open_for,
        }
    }

    /// Takes permission for one call: false while open (or while a probe is out).
    pub(crate) fn try_acquire(&mut self, now: Instant) -> bool {
        if !self.allows(now) {
            return false;
        }
        if self.state != State::Closed {
            self.state = State::HalfOpen { probe_since: now };
        }
        true
    }

    /// A call succeeded: close.
    pub(crate) fn on_success(&mut self) {
        self.state = State::Closed;
    }

    /// A call failed; `consecutive_failures` counts this one.
    pub(crate) fn on_failure(&mut self, consecutive_failures: u32, now: Instant) {
        let trip = match self.state {
            State::Closed => consecutive_failures >= self.settings.failure_threshold,
            State::Open { .. } | State::HalfOpen { .. } => true,
        };
        if trip {
            self.state = State::Open {
                until: now + self.settings.open_for,
            };
        }
    }

    /// Health came back: let calls through again at once.
    pub(crate) fn reset(&mut self) {
        self.state = State::Closed;
    }

    /// The state as ListBackends reports it (an open breaker whose time is up is half-open).
    pub(crate) fn state(&self, now: Instant) -> CircuitState {
        match self.state {
            State::Closed => CircuitState::Closed,
            State::Open { until } if now < until => CircuitState::Open,
            State::Open { .. } | State::HalfOpen { .. } => CircuitState::HalfOpen,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SETTINGS: BreakerSettings = BreakerSettings {
        failure_threshold: 3,
        open_for: Duration::from_secs(1),
    };

    #[test]
    fn opens_after_the_threshold_and_probes_after_the_cool_down() {
        let t0 = Instant::now();
        let mut b = Breaker::new(SETTINGS);
        b.on_failure(1, t0);
        b.on_failure(2, t0);
        assert!(b.try_acquire(t0));
        b.on_failure(3, t0);
        assert_eq!(b.state(t0), CircuitState::Open);
        assert!(!b.try_acquire(t0 + Duration::from_millis(999)));
        let later = t0 + Duration::from_secs(1);
        assert_eq!(b.state(later), CircuitState::HalfOpen);
        assert!(b.try_acquire(later), "one probe");
        assert!(!b.try_acquire(later), "only one probe at a time");
        b.on_failure(4, later);
        assert_eq!(b.state(later), CircuitState::Open, "a failed probe reopens");
        let again = later + Duration::from_secs(1);
        assert!(b.try_acquire(again));
        b.on_success();
        assert_eq!(b.state(again), CircuitState::Closed);
        assert!(b.try_acquire(again) && b.try_acquire(again));
    }

    #[test]
    fn a_lost_probe_does_not_block_forever() {
        let t0 = Instant::now();
        let mut b = Breaker::new(SETTINGS);
        b.on_failure(3, t0);
        let probe = t0 + Duration::from_secs(1);
        assert!(b.try_acquire(probe));
        assert!(b.try_acquire(probe + Duration::from_secs(1)));
    }

    #[test]
    fn reset_closes() {
        let t0 = Instant::now();
        let mut b = Breaker::new(SETTINGS);
        b.on_failure(3, t0);
        b.reset();
        assert!(b.try_acquire(t0));
        assert_eq!(b.state(t0), CircuitState::Closed);
    }
}
