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
        let allowed = window.count < limit;
        if allowed {
            window.count += 1;
        }
        let reset = WINDOW.saturating_sub(now.duration_since(window.started));
        Some(Quota {
            limit,
            remaining: limit.saturating_sub(window.count),
            reset_secs: reset.as_secs().max(1),
            allowed,
        })
    }

    /// Returns one unit taken with [`RateLimiter::take`] (a reservation
    /// that turned out not to be needed).
    pub fn give_back(&self, key: &str) {
        let hash = self.hasher.hash_one(key);
        let mut windows = self
            .windows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(window) = windows.peek_mut(&hash) {
            window.count = window.count.saturating_sub(1);
        }
    }

    /// How many buckets are tracked now.
    pub fn tracked(&self) -> usize {
        self.windows.lock().map_or(0, |w| w.len())
    }
}

/// API keys recently seen to be valid (by their fingerprint), so that their
/// requests count against their own bucket and never against the IP's
/// budget of failed authentications. A key nobody has seen work — a typo,
/// a forged key with a valid checksum — counts against the IP instead, so
/// minting keys buys nothing. Bounded like the limiter.
pub struct VerifiedKeys {
    seen: Mutex<LruCache<u64, ()>>,
    hasher: std::collections::hash_map::RandomState,
}

impl VerifiedKeys {
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            seen: Mutex::new(LruCache::new(
                NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN),
            )),
            hasher: std::collections::hash_map::RandomState::new(),
        }
    }

    pub fn remember(&self, fingerprint: &str) {
        let hash = self.hasher.hash_one(fingerprint);
        if let Ok(mut seen) = self.seen.lock() {
            seen.put(hash, ());
        }
    }

    pub fn knows(&self, fingerprint: &str) -> bool {
        let hash = self.hasher.hash_one(fingerprint);
        self.seen
            .lock()
            .is_ok_and(|mut seen| seen.get(&hash).is_some())
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
    fn a_reservation_given_back_counts_nothing() {
        let limiter = RateLimiter::with_capacity(DEFAULT_CAPACITY);
        limiter.take("fail:1", 2);
        limiter.give_back("fail:1");
        limiter.take("fail:1", 2);
        assert!(limiter
            .take("fail:1", 2)
            .is_some_and(|q| q.allowed && q.remaining == 0));
        assert!(limiter.take("fail:1", 2).is_some_and(|q| !q.allowed));
        limiter.give_back("never-seen");
        assert_eq!(limiter.tracked(), 1, "giving back creates nothing");
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
        let regular = limiter.take("user:regular", 1_000_000).expect("enabled");
        assert_eq!(
            regular.remaining,
            1_000_000 - 201,
            "a recent bucket kept its count"
        );
    }
}
