//! Fixed-window rate limits: per user (access token subject), per API key,
//! per client IP for anonymous calls, a stricter per-IP limit on sign-in,
//! registration and refresh, and a per-IP budget of failed
//! authentications. The counters live in this process's memory, so with N
//! replicas a client can make up to N× the limit (see docs/DEPLOYMENT.md).
//!
//! Memory is bounded whatever clients send: buckets are kept in a
//! least-recently-used map of fixed capacity (O(1) per request, the least
//! recently seen bucket evicted when a new one arrives), and a bucket is
//! stored under a keyed 64-bit hash of its name, not the name itself.

use std::hash::BuildHasher;
use std::num::NonZeroUsize;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use lru::LruCache;

const WINDOW: Duration = Duration::from_secs(60);
/// Buckets kept at most (about 48 bytes each, so a few MB).
pub const DEFAULT_CAPACITY: usize = 65_536;

#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    count: u32,
}

/// The state of one bucket after a request was counted (or looked at).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub limit: u32,
    /// Requests still allowed in this window.
    pub remaining: u32,
    /// Seconds until the window ends (at least 1).
    pub reset_secs: u64,
    /// Whether this request may proceed.
    pub allowed: bool,
}

pub struct RateLimiter {
    windows: Mutex<LruCache<u64, Window>>,
    hasher: std::collections::hash_map::RandomState,
}

impl RateLimiter {
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            windows: Mutex::new(LruCache::new(
                NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN),
            )),
            hasher: std::collections::hash_map::RandomState::new(),
        }
    }

    /// Counts one request against `key`; `None` when `limit` is 0
    /// (disabled).
    pub fn take(&self, key: &str, limit: u32) -> Option<Quota> {
        self.apply(key, limit, 1)
    }

    /// The bucket's state without counting anything.
    pub fn peek(&self, key: &str, limit: u32) -> Option<Quota> {
        self.apply(key, limit, 0)
    }

    /// How many buckets are tracked now.
    pub fn tracked(&self) -> usize {
        self.windows.lock().map_or(0, |w| w.len())
    }

    fn apply(&self, key: &str, limit: u32, cost: u32) -> Option<Quota> {
        if limit == 0 {
            return None;
        }
        let now = Instant::now();
        let hash = self.hasher.hash_one(key);
        let mut windows = self
            .windows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let fresh = Window {
            started: now,
            count: 0,
        };
        let window = windows.get_or_insert_mut(hash, || fresh);
        if now.duration_since(window.started) >= WINDOW {
            *window = fresh;
        }
        let allowed = window.count.saturating_add(cost) <= limit;
        if allowed {
            window.count += cost;
        }
        let reset = WINDOW.saturating_sub(now.duration_since(window.started));
        Some(Quota {
            limit,
            remaining: limit.saturating_sub(window.count),
            reset_secs: reset.as_secs().max(1),
            allowed: allowed && (cost > 0 || window.count < limit),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_the_limit_then_refuses_with_a_retry_time() {
        let limiter = RateLimiter::with_capacity(DEFAULT_CAPACITY);
        for left in (0..3).rev() {
            let quota = limiter.take("ip:1", 3).expect("enabled");
            assert!(quota.allowed);
            assert_eq!(quota.remaining, left);
        }
        let refused = limiter.take("ip:1", 3).expect("enabled");
        assert!(!refused.allowed);
        assert_eq!(refused.remaining, 0);
        assert!((1..=60).contains(&refused.reset_secs));
        assert!(
            limiter.take("ip:2", 3).is_some_and(|q| q.allowed),
            "other keys are separate"
        );
        assert_eq!(limiter.take("ip:1", 0), None, "0 disables");
    }

    #[test]
    fn peeking_counts_nothing_and_reports_exhaustion() {
        let limiter = RateLimiter::with_capacity(DEFAULT_CAPACITY);
        assert!(limiter
            .peek("fail:1", 2)
            .is_some_and(|q| q.allowed && q.remaining == 2));
        limiter.take("fail:1", 2);
        limiter.take("fail:1", 2);
        let peeked = limiter.peek("fail:1", 2).expect("enabled");
        assert!(!peeked.allowed);
        assert_eq!(peeked.remaining, 0);
    }

    /// 100 000 distinct invented keys (forged API keys, spoofed clients)
    /// never grow the limiter beyond its capacity, and the buckets in use
    /// survive them as long as they stay recent.
    #[test]
    fn memory_stays_bounded_under_a_flood_of_distinct_keys() {
        let limiter = RateLimiter::with_capacity(1_000);
        for i in 0..100_000 {
            limiter.take(&format!("api-key:{i:064x}"), 600);
            if i % 500 == 0 {
                limiter.take("user:regular", 1_000_000);
            }
            assert!(limiter.tracked() <= 1_000);
        }
        assert_eq!(limiter.tracked(), 1_000);
        let regular = limiter.peek("user:regular", 1_000_000).expect("enabled");
        assert_eq!(
            regular.remaining,
            1_000_000 - 200,
            "a recent bucket kept its count"
        );
    }
}
