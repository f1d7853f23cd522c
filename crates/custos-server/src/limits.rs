//! Per-key rate limiting: a token bucket per API key id, refilled from the
//! injected clock (so tests move time instead of sleeping).

use std::collections::HashMap;
use std::sync::Mutex;

use custos_store::Timestamp;

/// `burst` requests at once, refilled at `per_second`.
#[derive(Debug)]
pub struct RateLimiter {
    per_second: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, (f64, i64)>>,
}

impl RateLimiter {
    pub fn new(per_second: u32, burst: u32) -> Self {
        RateLimiter {
            per_second: f64::from(per_second),
            burst: f64::from(burst.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `key`; on refusal returns the seconds until one is available.
    pub fn check(&self, key: &str, now: Timestamp) -> Result<(), u64> {
        let now_us = now.as_microsecond();
        let Ok(mut buckets) = self.buckets.lock() else {
            return Ok(());
        };
        if buckets.len() > 100_000 {
            // Bound memory: full buckets carry no state worth keeping.
            buckets.retain(|_, (tokens, _)| *tokens < self.burst);
        }
        let (tokens, last) = buckets
            .entry(key.to_owned())
            .or_insert((self.burst, now_us));
        let elapsed = (now_us - *last).max(0) as f64 / 1e6;
        *tokens = (*tokens + elapsed * self.per_second).min(self.burst);
        *last = now_us;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            let wait = ((1.0 - *tokens) / self.per_second.max(f64::MIN_POSITIVE)).ceil();
            Err(wait.clamp(1.0, 3600.0) as u64)
        }
    }
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
}
