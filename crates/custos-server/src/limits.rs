//! Rate limits: token buckets keyed by an API key id or a client address, refilled
//! from the injected clock (so tests move time instead of sleeping), and the client
//! address they are keyed by.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Mutex, PoisonError};

use axum::extract::ConnectInfo;
use axum::http::header::HeaderName;
use axum::http::{HeaderMap, Request};
use custos_store::Timestamp;

/// Too many requests without a valid API key from one client address (issue 17.11).
pub const UNAUTHENTICATED_LIMITED: &str = "VAULT-0265";
/// Too many sign-in attempts or code guesses from one client address (issue 17.5).
pub const SIGN_IN_LIMITED: &str = "VAULT-0266";
/// Too many new page sessions from one client address (issue 17.6).
pub const SESSIONS_LIMITED: &str = "VAULT-0267";
/// No room for another signed-in session: sign-ins wait, none is evicted (issue 17.6).
pub const SESSIONS_FULL: &str = "VAULT-0268";

/// `burst` requests at once, refilled at `per_second`.
#[derive(Debug)]
pub struct RateLimiter {
    per_second: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, (f64, i64)>>,
    /// When full buckets were last dropped (µs).
    swept: Mutex<i64>,
}

/// Keys tracked at most per limiter.
const MAX_BUCKETS: usize = 100_000;

impl RateLimiter {
    pub fn new(per_second: u32, burst: u32) -> Self {
        Self::refilling(f64::from(per_second), burst)
    }

    /// One token every `seconds`, `burst` at once: limits counted in minutes or hours.
    pub fn one_every(seconds: u32, burst: u32) -> Self {
        Self::refilling(1.0 / f64::from(seconds.max(1)), burst)
    }

    fn refilling(per_second: f64, burst: u32) -> Self {
        RateLimiter {
            per_second,
            burst: f64::from(burst.max(1)),
            buckets: Mutex::new(HashMap::new()),
            swept: Mutex::new(i64::MIN / 2),
        }
    }

    /// Takes one token for `key`; on refusal returns the seconds until one is available.
    pub fn check(&self, key: &str, now: Timestamp) -> Result<(), u64> {
        self.bucket(key, now, true)
    }

    /// Whether `key` has a token, without taking it: a limit on failures is consulted
    /// before the work that may fail and charged only when it did.
    pub fn peek(&self, key: &str, now: Timestamp) -> Result<(), u64> {
        self.bucket(key, now, false)
    }

    fn bucket(&self, key: &str, now: Timestamp, take: bool) -> Result<(), u64> {
        let now_us = now.as_microsecond();
        let Ok(mut buckets) = self.buckets.lock() else {
            return Ok(());
        };
        if !buckets.contains_key(key) {
            if !take {
                return Ok(());
            }
            if buckets.len() >= MAX_BUCKETS {
                // Bound memory: full buckets carry no state worth keeping. The sweep is
                // a scan, so at most one a second; while no room is freed a new key is
                // refused rather than an old one forgotten (forgetting would hand an
                // attacker with many addresses a fresh budget).
                let mut swept = self.swept.lock().unwrap_or_else(PoisonError::into_inner);
                if *swept + 1_000_000 <= now_us {
                    *swept = now_us;
                    let (rate, burst) = (self.per_second, self.burst);
                    buckets.retain(|_, (tokens, last)| {
                        let idle = (now_us - *last).max(0) as f64 / 1e6;
                        *tokens + idle * rate < burst
                    });
                }
                if buckets.len() >= MAX_BUCKETS {
                    return Err(1);
                }
            }
        }
        let (tokens, last) = buckets
            .entry(key.to_owned())
            .or_insert((self.burst, now_us));
        let elapsed = (now_us - *last).max(0) as f64 / 1e6;
        *tokens = (*tokens + elapsed * self.per_second).min(self.burst);
        *last = now_us;
        if *tokens >= 1.0 {
            if take {
                *tokens -= 1.0;
            }
            Ok(())
        } else {
            let wait = ((1.0 - *tokens) / self.per_second.max(f64::MIN_POSITIVE)).ceil();
            Err(wait.clamp(1.0, 3600.0) as u64)
        }
    }
}

/// The limits of the pages and of unauthenticated traffic, per client address.
#[derive(Debug)]
pub struct EdgeLimits {
    /// Privacy-center sign-ins and code guesses, console sign-ins: 10 at once, then
    /// one every 30 s.
    pub sign_in: RateLimiter,
    /// Sign-ins for one typed address from one client: 2 at once, then one every
    /// 30 minutes — a small share of a person's hourly budget of sign-in codes
    /// (`custos_core::verification::SIGN_IN_MAX_PER_HOUR`), so probing from a few
    /// clients never spends it.
    pub sign_in_address: RateLimiter,
    /// New page sessions: 20 at once, then one every 15 s.
    pub sessions: RateLimiter,
    /// API requests with a missing or invalid key (and refused console keys): 20,
    /// then one every 5 s; checked before any key is hashed or looked up.
    pub unauthenticated: RateLimiter,
    /// Live anonymous page sessions at most (the least recently used make room).
    pub max_sessions: usize,
    /// Live signed-in sessions at most (never evicted; sign-ins wait).
    pub max_signed_in: usize,
    /// How long after it came in a privacy-center sign-in or code check is
    /// answered: longer than the work takes on a healthy server, so the answer's
    /// time says nothing about the path the work took (a known or unknown address,
    /// a wrong code or no challenge at all).
    pub answer_pace: std::time::Duration,
}

impl Default for EdgeLimits {
    fn default() -> Self {
        EdgeLimits {
            sign_in: RateLimiter::one_every(30, 10),
            sign_in_address: RateLimiter::one_every(30 * 60, 2),
            sessions: RateLimiter::one_every(15, 20),
            unauthenticated: RateLimiter::one_every(5, 20),
            max_sessions: crate::web::session::MAX_SESSIONS,
            max_signed_in: crate::web::session::MAX_SIGNED_IN,
            answer_pace: std::time::Duration::from_millis(300),
        }
    }
}

/// The header `observe` sets to the client address it decided on (any copy sent by
/// the client is replaced), for handlers that read only headers.
pub const CLIENT_HEADER: &str = "x-custos-client";

/// Which address a request comes from: the trusted proxy's header when one is
/// configured (its last, proxy-appended entry), else the TCP peer. IPv6 addresses
/// count per /64, the block one client usually holds.
pub fn client_of<B>(req: &Request<B>, trusted: Option<&HeaderName>) -> String {
    let from_proxy = trusted.and_then(|name| {
        req.headers()
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .last()
            .and_then(|v| v.trim().parse::<IpAddr>().ok())
    });
    let peer = || {
        req.extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
    };
    match from_proxy.or_else(peer) {
        Some(ip) => client_key(ip),
        None => "unknown".to_owned(),
    }
}

/// The bucket key of an address.
pub fn client_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                let prefix = s
                    .iter()
                    .take(4)
                    .map(|x| format!("{x:x}"))
                    .collect::<Vec<_>>();
                format!("{}::/64", prefix.join(":"))
            }
        },
    }
}

/// The client address `observe` recorded in the headers.
pub fn client_in(headers: &HeaderMap) -> &str {
    headers
        .get(CLIENT_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("unknown")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_empties_and_refills_with_time() {
        let t0: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let rl = RateLimiter::new(10, 3);
        for _ in 0..3 {
            assert!(rl.check("k", t0).is_ok());
        }
        assert_eq!(rl.check("k", t0), Err(1));
        assert!(rl.check("other", t0).is_ok(), "buckets are per key");
        let later = t0
            .checked_add(jiff::SignedDuration::from_millis(100))
            .unwrap();
        assert!(rl.check("k", later).is_ok());
    }

    #[test]
    fn peek_never_takes_a_token_and_slow_buckets_refill_in_minutes() {
        let t0: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let rl = RateLimiter::one_every(60, 2);
        assert!(rl.peek("k", t0).is_ok());
        assert!(rl.peek("k", t0).is_ok());
        assert!(rl.check("k", t0).is_ok());
        assert!(rl.check("k", t0).is_ok());
        assert_eq!(rl.peek("k", t0), Err(60));
        let later = t0.checked_add(jiff::SignedDuration::from_secs(60)).unwrap();
        assert!(rl.peek("k", later).is_ok());
    }

    #[test]
    fn ipv6_clients_count_per_64_and_mapped_v4_as_v4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(client_key(a), client_key(b));
        assert_ne!(client_key(a), client_key(c));
        let m: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(client_key(m), "192.0.2.7");
    }
}
