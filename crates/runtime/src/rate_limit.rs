//! Request rate per client on the edge paths: a token bucket per client (the authenticated
//! [`Principal`] when there is one, else the peer's IP address), refilled at
//! `--rate-limit-per-client` requests per second up to `--rate-limit-burst`. A request finding
//! its bucket empty gets RESOURCE_EXHAUSTED (gRPC) or 429 (HTTP) with a `retry-after` in
//! seconds; other clients' buckets are untouched.
//!
//! The buckets live in one map bounded at [`MAX_CLIENTS`]: when it is full, buckets that have
//! refilled (equivalent to a new client's) are dropped first, else the least recently used.
//! Off when the rate is 0 (the default).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use http::{HeaderName, HeaderValue, StatusCode};
use tonic::Code;
use tonic::transport::server::TcpConnectInfo;

use crate::auth::Principal;
use crate::edge_gate::{EdgeGateLayer, EdgePolicy};
use crate::refusal::Refusal;

/// Most clients whose buckets are remembered at once.
pub const MAX_CLIENTS: usize = 10_000;

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
pub enum ClientKey {
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

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// Token buckets per client.
#[derive(Debug)]
pub struct RateLimiter {
    rate: f64,
    burst: f64,
    capacity: usize,
    buckets: Mutex<HashMap<ClientKey, Bucket>>,
}

impl RateLimiter {
    /// The limiter the settings ask for, or `None` when the rate is 0.
    pub fn from_args(args: &RateLimitArgs) -> Option<Self> {
        (args.rate_limit_per_client > 0.0).then(|| {
            Self::new(
                args.rate_limit_per_client,
                args.rate_limit_burst,
                MAX_CLIENTS,
            )
        })
    }

    /// `rate` requests per second, bursts of `burst`, at most `capacity` clients remembered.
    pub fn new(rate: f64, burst: u32, capacity: usize) -> Self {
        Self {
            rate,
            burst: f64::from(burst.max(1)),
            capacity: capacity.max(1),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request from `key`'s bucket at `now`; when it is empty, how long until it
    /// holds one again.
    pub fn check(&self, key: &ClientKey, now: Instant) -> Result<(), Duration> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if !buckets.contains_key(key) && buckets.len() >= self.capacity {
            self.evict(&mut buckets, now);
        }
        let bucket = buckets.entry(key.clone()).or_insert(Bucket {
            tokens: self.burst,
            updated: now,
        });
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.rate).min(self.burst);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / self.rate))
        }
    }

    /// Makes room for one client: drops every refilled bucket, or else the least recently used.
    fn evict(&self, buckets: &mut HashMap<ClientKey, Bucket>, now: Instant) {
        let before = buckets.len();
        buckets.retain(|_, b| {
            let idle = now.saturating_duration_since(b.updated).as_secs_f64();
            b.tokens + idle * self.rate < self.burst
        });
        if buckets.len() < before {
            return;
        }
        if let Some(oldest) = buckets
            .iter()
            .min_by_key(|(_, b)| b.updated)
            .map(|(k, _)| k.clone())
        {
            buckets.remove(&oldest);
        }
    }

    /// Clients currently remembered.
    pub fn clients(&self) -> usize {
        self.buckets.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

/// The rate limit as an edge policy: a client whose bucket is empty is refused with the wait
/// until its next token.
impl EdgePolicy for RateLimiter {
    fn admit<B>(&self, request: &mut http::Request<B>) -> Result<(), Refusal> {
        let Err(wait) = self.check(&ClientKey::of(request), Instant::now()) else {
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
    use super::*;

    fn ip(last: u8) -> ClientKey {
        ClientKey::Ip(IpAddr::from([10, 0, 0, last]))
    }

    #[test]
    fn a_burst_passes_then_the_client_waits_for_the_refill() {
        let limiter = RateLimiter::new(2.0, 3, 100);
        let t0 = Instant::now();
        for _ in 0..3 {
            limiter.check(&ip(1), t0).unwrap();
        }
        let wait = limiter.check(&ip(1), t0).unwrap_err();
        assert_eq!(wait, Duration::from_millis(500));
        // Half a second later one request's worth has come back, and only one.
        let later = t0 + Duration::from_millis(500);
        limiter.check(&ip(1), later).unwrap();
        assert!(limiter.check(&ip(1), later).is_err());
    }

    #[test]
    fn clients_have_their_own_buckets() {
        let limiter = RateLimiter::new(1.0, 1, 100);
        let t0 = Instant::now();
        limiter.check(&ip(1), t0).unwrap();
        assert!(limiter.check(&ip(1), t0).is_err());
        limiter.check(&ip(2), t0).unwrap();
        limiter
            .check(&ClientKey::Subject("token-1".into()), t0)
            .unwrap();
    }

    #[test]
    fn the_map_stays_bounded_and_keeps_busy_clients() {
        let limiter = RateLimiter::new(1.0, 2, 3);
        let t0 = Instant::now();
        // Client 1 is busy (bucket empty); clients 2 and 3 used one of two.
        limiter.check(&ip(1), t0).unwrap();
        limiter.check(&ip(1), t0).unwrap();
        limiter.check(&ip(2), t0).unwrap();
        limiter.check(&ip(3), t0).unwrap();
        // A new client at capacity evicts the least recently used, never growing the map.
        let t1 = t0 + Duration::from_millis(10);
        limiter.check(&ip(4), t1).unwrap();
        assert_eq!(limiter.clients(), 3);
        // Much later every bucket has refilled: all are dropped to make room.
        let t2 = t0 + Duration::from_secs(60);
        limiter.check(&ip(5), t2).unwrap();
        assert_eq!(limiter.clients(), 1);
    }

    #[test]
    fn an_evicted_busy_client_is_not_reset_while_others_are_idle() {
        let limiter = RateLimiter::new(1.0, 1, 2);
        let t0 = Instant::now();
        limiter.check(&ip(1), t0).unwrap();
        let t1 = t0 + Duration::from_secs(5);
        limiter.check(&ip(2), t1).unwrap();
        // ip(1) has refilled by t1 + 1s and is the one dropped; ip(2) keeps its empty bucket.
        let t2 = t1 + Duration::from_millis(100);
        limiter.check(&ip(3), t2).unwrap();
        assert!(limiter.check(&ip(2), t2).is_err());
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
