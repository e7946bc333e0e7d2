//! The time the session stores read, in one place so that the behaviour suite can move it: a TTL
//! of minutes cannot be waited for in a test, and both stores must see the same jump. In
//! production the skew is zero and [`Clock`] is the system's clocks: the monotonic one for the
//! in-memory store (immune to clock steps), the wall clock for PostgreSQL (the only time that
//! means the same thing on every replica sharing the database).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

/// The session stores' clock: the system's, plus a skew only tests set.
#[derive(Debug, Clone, Default)]
pub(crate) struct Clock {
    /// Microseconds added to every reading.
    skew_us: Arc<AtomicU64>,
}

impl Clock {
    fn skew(&self) -> Duration {
        Duration::from_micros(self.skew_us.load(Ordering::Relaxed))
    }

    /// Now, on the monotonic clock.
    pub(crate) fn instant(&self) -> Instant {
        Instant::now() + self.skew()
    }

    /// Now, on the wall clock, in microseconds since the Unix epoch.
    pub(crate) fn micros(&self) -> i64 {
        micros(SystemTime::now() + self.skew())
    }

    /// Moves this clock (and every clone of it) `by` into the future.
    #[cfg(test)]
    pub(crate) fn advance(&self, by: Duration) {
        let by = u64::try_from(by.as_micros()).unwrap_or(u64::MAX);
        self.skew_us.fetch_add(by, Ordering::Relaxed);
    }
}

/// `time` in microseconds since the Unix epoch (negative before it, saturating).
pub(crate) fn micros(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_micros()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_micros()).map_or(i64::MIN, |us| -us),
    }
}

/// The time `us` microseconds after the Unix epoch (before it when negative).
pub(crate) fn from_micros(us: i64) -> SystemTime {
    let magnitude = Duration::from_micros(us.unsigned_abs());
    if us >= 0 {
        UNIX_EPOCH + magnitude
    } else {
        UNIX_EPOCH - magnitude
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn micros_round_trip_on_both_sides_of_the_epoch() {
        for us in [0, 1, 1_700_000_000_123_456, -5_000_001] {
            assert_eq!(micros(from_micros(us)), us);
        }
    }

    #[test]
    fn advancing_moves_every_clone() {
        let clock = Clock::default();
        let other = clock.clone();
        let before = other.micros();
        clock.advance(Duration::from_secs(3600));
        assert!(other.micros() - before >= 3_600_000_000);
        assert!(other.instant() >= Instant::now() + Duration::from_secs(3599));
    }
}
