//! Application state shared by all workers, and the one place where
//! database work runs: on the blocking threads, or in place for the
//! one-statement hot reads.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix_web::web;
use persistence::db::{run_on, with_connection, ConnectionLost};
use persistence::{AnyConnection, Pool};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::auth::jwt::JwtKeys;
use crate::auth::keys::Keyring;
use crate::auth::password::Passwords;
use crate::auth::principal::{self, AccountCheck};
use crate::config::Config;
use crate::error::ApiError;
use crate::http::metrics::Metrics;
use crate::http::rate_limit::{RateLimiter, VerifiedKeys};
use crate::profile_reads::Gathered;

/// Request-handling settings taken from the configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    pub rate_limit_per_minute: u32,
    pub rate_limit_auth_per_minute: u32,
    pub max_body_bytes: usize,
    pub max_header_bytes: usize,
    pub request_head_timeout: Duration,
    pub request_body_timeout: Duration,
    pub keep_alive: Duration,
    pub cors_allowed_origins: Vec<String>,
    /// Webhook URLs may be `http://` and name private addresses (local
    /// testing only).
    pub webhooks_allow_private_networks: bool,
}

pub struct AppState {
    pub pool: Pool,
    pub admission: Admission,
    pub jwt: JwtKeys,
    pub keys: Keyring,
    pub passwords: Passwords,
    pub settings: Settings,
    pub rate_limiter: RateLimiter,
    pub verified_keys: VerifiedKeys,
    pub metrics: Metrics,
    pub profile_reads: Gathered,
}

impl ConnectionLost for ApiError {
    fn connection_lost(&self) -> bool {
        matches!(self, ApiError::Unavailable(_))
    }
}

impl AppState {
    /// The state for a server on `pool` configured by `config`.
    pub fn new(pool: Pool, config: &Config) -> Result<Self, ApiError> {
        Ok(Self {
            admission: Admission::new(pool.max_size(), config.db_queue_timeout),
            pool,
            jwt: JwtKeys::new(config.jwt_secret.expose()),
            keys: Keyring::derive(config.jwt_secret.expose()),
            passwords: Passwords::new()?,
            settings: Settings {
                rate_limit_per_minute: config.rate_limit_per_minute,
                rate_limit_auth_per_minute: config.rate_limit_auth_per_minute,
                max_body_bytes: config.max_body_bytes,
                max_header_bytes: config.max_header_bytes,
                request_head_timeout: Duration::from_secs(config.request_head_timeout_seconds),
                request_body_timeout: Duration::from_secs(config.request_body_timeout_seconds),
                keep_alive: Duration::from_secs(config.keep_alive_seconds),
                cors_allowed_origins: config.cors_allowed_origins.clone(),
                webhooks_allow_private_networks: config.webhooks_allow_private_networks,
            },
            rate_limiter: RateLimiter::with_capacity(config.rate_limit_buckets),
            verified_keys: VerifiedKeys::with_capacity(4096),
            metrics: Metrics::default(),
            profile_reads: Gathered::default(),
        })
    }

    /// Runs `work` with a pooled connection on the blocking thread pool,
    /// once [`Admission`] lets it in. The first hop of a request signed in
    /// as a person checks the account on the same connection before `work`
    /// (see [`AccountCheck`]): one hop per request, not two.
    pub async fn db<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        self.hop(Place::Blocking, work).await
    }

    /// [`Self::db`] for a read of one indexed statement. Such a read never
    /// waits for a lock, only for its round trip, so when the pool has a
    /// connection idle it runs in place on the HTTP worker instead of
    /// handing off to a blocking thread and back: two thread switches fewer
    /// per request (`BENCHMARKS.md`, "Reads in place on the HTTP worker").
    /// Without an idle connection it hands off like [`Self::db`], so a
    /// worker never waits for the pool or for a new connection.
    pub async fn db_read<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        self.hop(Place::InPlaceIfIdle, work).await
    }

    /// One hop on a pooled connection, placed as `place` says, with the
    /// request's account check first while it is due; the outcome settles
    /// the check.
    async fn hop<T, F>(&self, place: Place, work: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let turn = self.admission.enter().await?;
        let due = AccountCheck::due();
        let checking = due.is_some();
        let work = move |conn: &mut AnyConnection| {
            if let Some(subject) = &due {
                principal::check(conn, subject)?;
            }
            work(conn)
        };
        let idle = match place {
            Place::InPlaceIfIdle => self.pool.try_get(),
            Place::Blocking => None,
        };
        // The connection goes back to the pool before the turn ends, so the
        // next request let in finds it idle.
        let result = match idle {
            Some(pooled) => {
                let _turn = turn;
                run_on(pooled, work)
            }
            None => {
                let pool = self.pool.clone();
                web::block(move || {
                    let _turn = turn;
                    with_connection(&pool, work)
                })
                .await?
            }
        };
        if checking {
            AccountCheck::settle(&result);
        }
        result
    }
}

/// Where a database hop runs.
#[derive(Debug, Clone, Copy)]
enum Place {
    /// On a blocking thread, so the HTTP worker serves other requests
    /// meanwhile.
    Blocking,
    /// On the HTTP worker itself when the pool has a connection idle,
    /// otherwise as [`Place::Blocking`].
    InPlaceIfIdle,
}

/// Admits database hops: as many at once as the pool has connections, so
/// a connection is never fought over. The rest wait in arrival order
/// (tokio's semaphore is fair: nobody is overtaken by a request that came
/// later) for at most the queue timeout, then get a 503 with
/// `Retry-After`, counted in `/metrics`.
pub struct Admission {
    hops: Arc<Semaphore>,
    size: usize,
    wait: Duration,
    waiting: AtomicUsize,
    timed_out: AtomicU64,
}

/// What [`Admission`] reports in `/metrics`.
#[derive(Debug, Clone, Copy)]
pub struct AdmissionState {
    pub running: usize,
    pub waiting: usize,
    pub timed_out: u64,
}

impl Admission {
    pub fn new(size: u32, wait: Duration) -> Self {
        let size = usize::try_from(size).unwrap_or(usize::MAX).max(1);
        Self {
            hops: Arc::new(Semaphore::new(size)),
            size,
            wait,
            waiting: AtomicUsize::new(0),
            timed_out: AtomicU64::new(0),
        }
    }

    /// Waits for a turn; the hop runs while the permit lives.
    pub async fn enter(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        self.waiting.fetch_add(1, Ordering::Relaxed);
        let turn = tokio::time::timeout(self.wait, self.hops.clone().acquire_owned()).await;
        self.waiting.fetch_sub(1, Ordering::Relaxed);
        match turn {
            Ok(permit) => permit.map_err(ApiError::internal),
            Err(_) => {
                self.timed_out.fetch_add(1, Ordering::Relaxed);
                Err(ApiError::Busy {
                    retry_after_secs: BUSY_RETRY_AFTER_SECS,
                })
            }
        }
    }

    pub fn state(&self) -> AdmissionState {
        AdmissionState {
            running: self.size - self.hops.available_permits(),
            waiting: self.waiting.load(Ordering::Relaxed),
            timed_out: self.timed_out.load(Ordering::Relaxed),
        }
    }
}

/// What a 503 for a full queue tells the client to wait.
const BUSY_RETRY_AFTER_SECS: u64 = 1;

/// An app state on a new SQLite database in a directory of its own
/// (the caller removes it), with a pool of `connections` and no
/// connection opened yet.
#[cfg(test)]
pub(crate) fn on_sqlite(connections: u32) -> (AppState, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("ac-state-{}", uuid::Uuid::now_v7()));
    let vars = [("DATA_DIR", dir.to_string_lossy().into_owned())]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    let config = Config::from_vars(&vars).expect("config");
    let options = persistence::PoolOptions {
        max_size: connections,
        connection_timeout: Duration::from_secs(5),
    };
    let pool = persistence::connect_pool(&config.database_url, &options);
    (AppState::new(pool, &config).expect("state"), dir)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::thread::{self, ThreadId};

    /// A one-statement read runs on the worker's own thread when the pool
    /// has a connection idle, and hands off to a blocking thread when it
    /// has none (here: before the first connection is opened); other
    /// database work always hands off.
    #[actix_web::test]
    async fn reads_run_in_place_only_on_an_idle_connection() {
        let (state, dir) = on_sqlite(1);
        let here = thread::current().id();
        let read = || state.db_read(|_| Ok(thread::current().id()));
        let first: ThreadId = read().await.expect("first read");
        let second: ThreadId = read().await.expect("second read");
        let other: ThreadId = state
            .db(|_| Ok(thread::current().id()))
            .await
            .expect("other work");
        assert_ne!(first, here, "no idle connection yet: handed off");
        assert_eq!(second, here, "an idle connection: in place");
        assert_ne!(other, here, "not a one-statement read: handed off");
        let _ = std::fs::remove_dir_all(dir);
    }

    /// Waiters are let in in the order they came, and one that waits past
    /// the queue timeout is refused (and counted) without taking a turn.
    #[actix_web::test]
    async fn turns_go_in_arrival_order_and_waits_are_bounded() {
        let admission = Arc::new(Admission::new(1, Duration::from_millis(200)));
        let first = admission.enter().await.expect("free turn");
        let order = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut waiters = Vec::new();
        for n in 0..5 {
            let (queue, order) = (admission.clone(), order.clone());
            waiters.push(actix_web::rt::spawn(async move {
                let turn = queue.enter().await.expect("turn");
                order.lock().expect("order").push(n);
                drop(turn);
            }));
            // Each waiter queues before the next one is started.
            while admission.state().waiting <= n {
                actix_web::rt::task::yield_now().await;
            }
        }
        assert_eq!(admission.state().running, 1);
        drop(first);
        for waiter in waiters {
            waiter.await.expect("waiter");
        }
        assert_eq!(*order.lock().expect("order"), [0, 1, 2, 3, 4]);

        let held = admission.enter().await.expect("free turn");
        let refused = admission.enter().await;
        assert!(matches!(
            refused,
            Err(ApiError::Busy {
                retry_after_secs: 1
            })
        ));
        assert_eq!(admission.state().timed_out, 1);
        assert_eq!(admission.state().waiting, 0);
        drop(held);
        assert_eq!(admission.state().running, 0);
    }
}
