//! Request rate per client on the edge paths: a token bucket per client (the authenticated
//! [`Principal`] when there is one, else the peer's IP address), refilled at
//! `--rate-limit-per-client` requests per second up to `--rate-limit-burst`. A request finding
//! its bucket empty gets RESOURCE_EXHAUSTED (gRPC) or 429 (HTTP) with a `retry-after` in
//! seconds; other clients' buckets are untouched. Off when the rate is 0 (the default).
//!
//! The buckets are governor's keyed GCRA limiter (one timestamp per client, the same arithmetic
//! as a token bucket). What governor leaves to its user is the bound on memory: its keyed stores
//! grow with every new key, so the states live in [`ClientTable`], a store of ours holding at
//! most [`MAX_CLIENTS`]. When it is full, buckets that have refilled (equivalent to a new
//! client's, governor's `retain_recent`) are dropped first, else the least recently used.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use governor::Quota;
use governor::clock::{Clock, MonotonicClock};
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::StateStore;
use governor::state::keyed::ShrinkableKeyedStateStore;
use http::{HeaderName, HeaderValue, StatusCode};
use tonic::Code;
use tonic::transport::server::TcpConnectInfo;

use super::gate::{EdgeGateLayer, EdgePolicy};
use super::identity::Principal;
use super::refusal::Refusal;

/// Most clients whose buckets are remembered at once.
pub(crate) const MAX_CLIENTS: usize = 10_000;

/// How fast each client may call the edge paths.
#[derive(Debug, Clone, clap::Args)]
pub struct RateLimitArgs {
    /// Requests per second each client may make to the public API (its bucket's refill rate);
    /// 0 turns rate limiting off. A client is its authenticated identity, else its IP address.
    #[arg(long, env = "CHATMESH_RATE_LIMIT_PER_CLIENT", value_name = "RPS",
          default_value_t = 0.0, value_parser = parse_rate)]
    pub rate_limit_per_client: f64,

    /// Requests a client may make in a burst after being idle (its bucket's size).
    #[arg(long, env = "CHATMESH_RATE_LIMIT_BURST", value_name = "N", default_value_t = 20,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub rate_limit_burst: u32,
}

impl Default for RateLimitArgs {
    fn default() -> Self {
        Self {
            rate_limit_per_client: 0.0,
            rate_limit_burst: 20,
        }
    }
}

fn parse_rate(text: &str) -> Result<f64, String> {
    let rate: f64 = text
        .parse()
        .map_err(|_| "expected a number of requests per second, e.g. 5 or 0.5".to_owned())?;
    if !(0.0..=1_000_000.0).contains(&rate) {
        return Err("must be between 0 (off) and 1000000".into());
    }
    Ok(rate)
}

/// Who a bucket belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum ClientKey {
    /// An authenticated caller.
    Subject(String),
    /// An anonymous caller, by address.
    Ip(IpAddr),
    /// A caller with neither (a transport without peer addresses).
    Unknown,
}

impl ClientKey {
    fn of<B>(request: &http::Request<B>) -> Self {
        if let Some(principal) = request.extensions().get::<Principal>() {
            return Self::Subject(principal.subject.clone());
        }
        match request
            .extensions()
            .get::<TcpConnectInfo>()
            .and_then(TcpConnectInfo::remote_addr)
        {
            Some(addr) => Self::Ip(addr.ip()),
            None => Self::Unknown,
        }
    }
}

/// The limiter state of one client: governor's theoretical arrival time, and when the client
/// was last seen (a counter, for least-recently-used eviction).
#[derive(Debug, Clone, Copy)]
struct Slot {
    tat: Nanos,
    seen: u64,
}

#[derive(Debug, Default)]
struct Slots {
    by_client: HashMap<ClientKey, Slot>,
    ticks: u64,
}

/// Governor's state store for the clients' buckets, bounded at a capacity. Cheap to clone (the
/// limiter holds one handle, [`RateLimiter`] another, to ask whether it is full).
#[derive(Debug, Clone)]
pub(crate) struct ClientTable {
    capacity: usize,
    slots: Arc<Mutex<Slots>>,
}

impl ClientTable {
    fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            slots: Arc::default(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Slots> {
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether remembering `key` would need room first.
    fn full_without(&self, key: &ClientKey) -> bool {
        let slots = self.lock();
        slots.by_client.len() >= self.capacity && !slots.by_client.contains_key(key)
    }
}

impl StateStore for ClientTable {
    type Key = ClientKey;

    fn measure_and_replace<T, F, E>(&self, key: &ClientKey, decide: F) -> Result<T, E>
    where
        F: Fn(Option<Nanos>) -> Result<(T, Nanos), E>,
    {
        let mut slots = self.lock();
        slots.ticks += 1;
        let seen = slots.ticks;
        let known = slots.by_client.get(key).map(|slot| slot.tat);
        if known.is_none() && slots.by_client.len() >= self.capacity {
            // The hard bound; refilled buckets were dropped before, if there were any.
            let oldest = slots
                .by_client
                .iter()
                .min_by_key(|(_, slot)| slot.seen)
                .map(|(key, _)| key.clone());
            if let Some(oldest) = oldest {
                slots.by_client.remove(&oldest);
            }
        }
        match decide(known) {
            Ok((value, tat)) => {
                slots.by_client.insert(key.clone(), Slot { tat, seen });
                Ok(value)
            }
            Err(refused) => {
                if let Some(slot) = slots.by_client.get_mut(key) {
                    slot.seen = seen;
                }
                Err(refused)
            }
        }
    }
}

impl ShrinkableKeyedStateStore<ClientKey> for ClientTable {
    fn retain_recent(&self, drop_below: Nanos) {
        self.lock()
            .by_client
            .retain(|_, slot| slot.tat > drop_below);
    }

    fn len(&self) -> usize {
        self.lock().by_client.len()
    }

    fn is_empty(&self) -> bool {
        self.lock().by_client.is_empty()
    }
}

/// Token buckets per client.
pub(crate) struct RateLimiter<C: Clock = MonotonicClock> {
    rate: f64,
    table: ClientTable,
    limiter: governor::RateLimiter<ClientKey, ClientTable, C, NoOpMiddleware<C::Instant>>,
}

impl<C: Clock> std::fmt::Debug for RateLimiter<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter")
            .field("rate", &self.rate)
            .field("clients", &self.table.len())
            .finish_non_exhaustive()
    }
}

impl RateLimiter {
    /// The limiter the settings ask for, or `None` when the rate is 0.
    pub(crate) fn from_args(args: &RateLimitArgs) -> Option<Self> {
        (args.rate_limit_per_client > 0.0).then(|| {
            Self::with_clock(
                args.rate_limit_per_client,
                args.rate_limit_burst,
                MAX_CLIENTS,
                MonotonicClock,
            )
        })
    }
}

impl<C: Clock> RateLimiter<C> {
    /// `rate` requests per second (more than 0), bursts of `burst`, at most `capacity` clients
    /// remembered, time read from `clock`.
    pub(crate) fn with_clock(rate: f64, burst: u32, capacity: usize, clock: C) -> Self {
        let period = Duration::from_secs_f64(1.0 / rate).max(Duration::from_nanos(1));
        let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::with_period(period)
            .expect("a period of at least one nanosecond")
            .allow_burst(burst);
        let table = ClientTable::new(capacity);
        Self {
            rate,
            limiter: governor::RateLimiter::new(quota, table.clone(), clock),
            table,
        }
    }

    /// Takes one request from `key`'s bucket; when it is empty, how long until it holds one
    /// again.
    pub(crate) fn check(&self, key: &ClientKey) -> Result<(), Duration> {
        if self.table.full_without(key) {
            self.limiter.retain_recent();
        }
        self.limiter
            .check_key(key)
            .map_err(|not_until| not_until.wait_time_from(self.limiter.clock().now()))
    }

    /// Clients currently remembered.
    #[cfg(test)]
    fn clients(&self) -> usize {
        self.table.len()
    }
}

/// The rate limit as an edge policy: a client whose bucket is empty is refused with the wait
/// until its next token.
impl<C: Clock + Send + Sync + 'static> EdgePolicy for RateLimiter<C> {
    fn admit<B>(&self, request: &mut http::Request<B>) -> Result<(), Refusal> {
        let Err(wait) = self.check(&ClientKey::of(request)) else {
            return Ok(());
        };
        // Whole seconds, rounded up: what `Retry-After` can say.
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        let message = format!(
            "rate limit of {} requests/s per client exceeded; retry in {} ms",
            self.rate,
            wait.as_millis().max(1)
        );
        Err(Refusal::new(
            Code::ResourceExhausted,
            StatusCode::TOO_MANY_REQUESTS,
            message,
        )
        .header(
            HeaderName::from_static("retry-after"),
            HeaderValue::from(seconds.max(1)),
        ))
    }
}

/// Limits the request rate of each client on the edge paths (a no-op without a limiter).
pub(crate) type RateLimitLayer = EdgeGateLayer<RateLimiter>;

#[cfg(test)]
mod tests {
    use governor::clock::FakeRelativeClock;

    use super::*;

    fn ip(last: u8) -> ClientKey {
        ClientKey::Ip(IpAddr::from([10, 0, 0, last]))
    }

    fn limiter(
        rate: f64,
        burst: u32,
        capacity: usize,
    ) -> (RateLimiter<FakeRelativeClock>, FakeRelativeClock) {
        let clock = FakeRelativeClock::default();
        (
            RateLimiter::with_clock(rate, burst, capacity, clock.clone()),
            clock,
        )
    }

    #[test]
    fn a_burst_passes_then_the_client_waits_for_the_refill() {
        let (limiter, clock) = limiter(2.0, 3, 100);
        for _ in 0..3 {
            limiter.check(&ip(1)).unwrap();
        }
        let wait = limiter.check(&ip(1)).unwrap_err();
        assert_eq!(wait, Duration::from_millis(500));
        // Half a second later one request's worth has come back, and only one.
        clock.advance(Duration::from_millis(500));
        limiter.check(&ip(1)).unwrap();
        assert!(limiter.check(&ip(1)).is_err());
    }

    #[test]
    fn clients_have_their_own_buckets() {
        let (limiter, _clock) = limiter(1.0, 1, 100);
        limiter.check(&ip(1)).unwrap();
        assert!(limiter.check(&ip(1)).is_err());
        limiter.check(&ip(2)).unwrap();
        limiter
            .check(&ClientKey::Subject("token-1".into()))
            .unwrap();
    }

    #[test]
    fn the_map_stays_bounded_and_keeps_busy_clients() {
        let (limiter, clock) = limiter(1.0, 2, 3);
        // Client 1 is busy (bucket empty); clients 2 and 3 used one of two.
        limiter.check(&ip(1)).unwrap();
        limiter.check(&ip(1)).unwrap();
        limiter.check(&ip(2)).unwrap();
        limiter.check(&ip(3)).unwrap();
        // A new client at capacity evicts the least recently used, never growing the map.
        clock.advance(Duration::from_millis(10));
        limiter.check(&ip(4)).unwrap();
        assert_eq!(limiter.clients(), 3);
        // Much later every bucket has refilled: all are dropped to make room.
        clock.advance(Duration::from_secs(60));
        limiter.check(&ip(5)).unwrap();
        assert_eq!(limiter.clients(), 1);
    }

    #[test]
    fn an_evicted_busy_client_is_not_reset_while_others_are_idle() {
        let (limiter, clock) = limiter(1.0, 1, 2);
        limiter.check(&ip(1)).unwrap();
        clock.advance(Duration::from_secs(5));
        limiter.check(&ip(2)).unwrap();
        // ip(1) has refilled by t1 + 1s and is the one dropped; ip(2) keeps its empty bucket.
        clock.advance(Duration::from_millis(100));
        limiter.check(&ip(3)).unwrap();
        assert!(limiter.check(&ip(2)).is_err());
    }

    #[test]
    fn rates_are_validated() {
        assert_eq!(parse_rate("0").unwrap(), 0.0);
        assert_eq!(parse_rate("0.5").unwrap(), 0.5);
        assert!(parse_rate("-1").is_err());
        assert!(parse_rate("fast").is_err());
        assert!(parse_rate("NaN").is_err());
    }
}
