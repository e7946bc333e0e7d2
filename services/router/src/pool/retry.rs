//! Retries: which failures are worth another attempt, how long to wait (exponential backoff with
//! full jitter), and a retry budget so retries cannot multiply load on a struggling backend:
//! every call deposits `ratio` of a token, every retry spends a whole one.

use std::sync::Mutex;
use std::time::Duration;

use rand::Rng;
use tonic::Code;

/// How a backend pool retries.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RetrySettings {
    /// Attempts per call, the first included (1 = no retries).
    pub max_attempts: u32,
    /// Backoff before the first retry (doubles each retry, jittered).
    pub base_backoff: Duration,
    /// Backoff cap.
    pub max_backoff: Duration,
    /// Retries allowed per call made, on average (0.2 = at most 20 % extra load).
    pub budget_ratio: f64,
    /// Retries always allowed, even before calls have filled the budget.
    pub budget_reserve: f64,
}

/// Whether a failure may succeed elsewhere or later: the instance was unreachable or refused.
/// DEADLINE_EXCEEDED is not retried (the call's whole budget is gone); every other code is the
/// backend's answer and comes back unchanged.
pub(crate) fn retryable(code: Code) -> bool {
    code == Code::Unavailable
}

/// Backoff before retry number `retry` (1 = the first retry): uniform in [0, min(cap, base·2^(retry-1))].
pub(crate) fn backoff(settings: &RetrySettings, retry: u32) -> Duration {
    let exp = settings
        .base_backoff
        .saturating_mul(1u32 << retry.saturating_sub(1).min(16));
    let ceiling = exp.min(settings.max_backoff);
    if ceiling.is_zero() {
        return ceiling;
    }
    rand::rng().random_range(Duration::ZERO..=ceiling)
}

/// A token bucket of retries shared by all calls to one backend.
#[derive(Debug)]
pub(crate) struct RetryBudget {
    ratio: f64,
    cap: f64,
    balance: Mutex<f64>,
}

impl RetryBudget {
    /// A budget that starts with (and never exceeds ten times) the reserve.
    pub(crate) fn new(settings: &RetrySettings) -> Self {
        let reserve = settings.budget_reserve.max(0.0);
        Self {
            ratio: settings.budget_ratio.max(0.0),
            cap: (reserve * 10.0).max(1.0),
            balance: Mutex::new(reserve),
        }
    }

    /// A call was made.
    pub(crate) fn deposit(&self) {
        let mut balance = self.balance.lock().unwrap_or_else(|e| e.into_inner());
        *balance = (*balance + self.ratio).min(self.cap);
    }

    /// Takes one retry from the budget; false when it is empty.
    pub(crate) fn withdraw(&self) -> bool {
        let mut balance = self.balance.lock().unwrap_or_else(|e| e.into_inner());
        if *balance >= 1.0 {
            *balance -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> RetrySettings {
        RetrySettings {
            max_attempts: 3,
            base_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(50),
            budget_ratio: 0.5,
            budget_reserve: 2.0,
        }
    }

    #[test]
    fn backoff_is_jittered_under_an_exponential_cap() {
        let s = settings();
        for retry in 1..20 {
            let cap = Duration::from_millis(10 * (1 << (retry - 1).min(16))).min(s.max_backoff);
            for _ in 0..50 {
                assert!(backoff(&s, retry) <= cap);
            }
        }
    }

    #[test]
    fn the_budget_limits_retries_to_a_share_of_calls() {
        let budget = RetryBudget::new(&settings());
        assert!(budget.withdraw() && budget.withdraw(), "the reserve");
        assert!(!budget.withdraw(), "empty");
        budget.deposit();
        assert!(!budget.withdraw(), "half a token");
        budget.deposit();
        assert!(budget.withdraw());
        for _ in 0..1000 {
            budget.deposit();
        }
        let allowed = (0..1000).filter(|_| budget.withdraw()).count();
        assert_eq!(allowed, 20, "capped at ten times the reserve");
    }

    #[test]
    fn only_unavailable_is_retried() {
        assert!(retryable(Code::Unavailable));
        for code in [
            Code::NotFound,
            Code::InvalidArgument,
            Code::DeadlineExceeded,
            Code::Internal,
        ] {
            assert!(!retryable(code), "{code:?}");
        }
    }
}
