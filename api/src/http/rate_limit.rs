//! Fixed-window rate limits per principal: per user (access token
//! subject), per API key, per client IP for anonymous calls, and a stricter
//! per-IP limit on sign-in, registration and refresh. The counters live in
//! this process's memory, so with N replicas a client can make up to N×
//! the limit (see docs/DEPLOYMENT.md).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(60);
/// Above this many tracked clients, expired windows are dropped.
const PRUNE_ABOVE: usize = 50_000;

struct Window {
    started: Instant,
    count: u32,
}

pub struct RateLimiter {
    windows: Mutex<HashMap<String, Window>>,
}

impl RateLimiter {
    pub fn new() -> Self {
        Self {
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one request for `key`; `Err(seconds)` when over `limit` in
    /// the current window. A `limit` of 0 disables the check.
    pub fn check(&self, key: &str, limit: u32) -> Result<(), u64> {
        if limit == 0 {
            return Ok(());
        }
        let now = Instant::now();
        let Ok(mut windows) = self.windows.lock() else {
            return Ok(());
        };
        if windows.len() > PRUNE_ABOVE {
            windows.retain(|_, w| now.duration_since(w.started) < WINDOW);
        }
        let window = windows.entry(key.to_owned()).or_insert(Window {
            started: now,
            count: 0,
        });
        if now.duration_since(window.started) >= WINDOW {
            window.started = now;
            window.count = 0;
        }
        if window.count >= limit {
            let remaining = WINDOW.saturating_sub(now.duration_since(window.started));
            return Err(remaining.as_secs().max(1));
        }
        window.count += 1;
        Ok(())
    }
}

impl Default for RateLimiter {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_the_limit_then_refuses_with_a_retry_time() {
        let limiter = RateLimiter::new();
        for _ in 0..3 {
            assert_eq!(limiter.check("ip:1", 3), Ok(()));
        }
        let retry = limiter.check("ip:1", 3).err();
        assert!(retry.is_some_and(|s| (1..=60).contains(&s)));
        assert_eq!(limiter.check("ip:2", 3), Ok(()), "other keys are separate");
        assert_eq!(limiter.check("ip:1", 0), Ok(()), "0 disables");
    }
}
