//! Webhook delivery: a worker in every server process hands outbox events
//! to the endpoints that may see them, sends each signed (Standard
//! Webhooks), retries with backoff and jitter, disables endpoints that
//! fail for days and prunes what is delivered.
//!
//! The worker never holds a transaction while a receiver is called
//! ([`persistence::webhooks`]); sends run concurrently, at most
//! `concurrency` at once and each bounded by `timeout`, so a slow or
//! failing receiver never holds up the others. Addresses are checked
//! after DNS resolution and the connection goes to the address that was
//! checked ([`CheckedResolver`]).

use std::error::Error as StdError;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_tls::connect::{Resolve, Resolver};
use actix_web::web;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chrono::NaiveDateTime;
use domain::webhook::{address_allowed, EndpointUrl};
use futures_util::future::LocalBoxFuture;
use hmac::{Hmac, Mac};
use persistence::db::checkout;
use persistence::webhooks::{self as store, Attempt, Claimed};
use persistence::{Pool, StoreError};
use rand::RngCore;
use sha2::Sha256;
use tokio::sync::Semaphore;

use crate::auth::keys::Keyring;
use crate::config::Config;

/// The prefix of a signing secret (Standard Webhooks).
const SECRET_PREFIX: &str = "whsec_";
/// Events handed out per dispatch transaction.
const DISPATCH_BATCH: i64 = 200;
/// How often delivered events and finished deliveries are pruned.
const PRUNE_EVERY: chrono::Duration = chrono::Duration::hours(1);

/// The time the worker goes by: the system clock, moved forward by a
/// skew that tests advance to run a day of retries in seconds.
#[derive(Debug, Default)]
pub struct Clock {
    skew_ms: AtomicI64,
}

impl Clock {
    pub fn now(&self) -> NaiveDateTime {
        persistence::now() + chrono::Duration::milliseconds(self.skew_ms.load(Ordering::SeqCst))
    }

    /// Moves this clock forward.
    pub fn advance(&self, by: chrono::Duration) {
        self.skew_ms
            .fetch_add(by.num_milliseconds(), Ordering::SeqCst);
    }
}

/// A new signing secret: `whsec_` and 32 random bytes in base64.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{SECRET_PREFIX}{}", STANDARD.encode(bytes))
}

/// The Standard Webhooks signature of one message: `v1,` and the base64
/// HMAC-SHA256, keyed by the secret's decoded bytes, of
/// `{id}.{timestamp}.{body}`.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &str) -> Option<String> {
    let key = STANDARD.decode(secret.strip_prefix(SECRET_PREFIX)?).ok()?;
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key).ok()?;
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body.as_bytes());
    Some(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// The context a secret is sealed to: its endpoint.
pub fn secret_context(endpoint_id: &str) -> Vec<u8> {
    format!("webhook-secret:{endpoint_id}").into_bytes()
}

/// Delivery settings from the configuration.
#[derive(Debug, Clone)]
pub struct DeliverySettings {
    pub allow_private_networks: bool,
    pub concurrency: usize,
    pub timeout: Duration,
    pub poll_interval: Duration,
    pub retention: chrono::Duration,
}

impl DeliverySettings {
    pub fn from_config(config: &Config) -> Self {
        Self {
            allow_private_networks: config.webhooks_allow_private_networks,
            concurrency: config.webhooks_concurrency.max(1),
            timeout: Duration::from_secs(config.webhooks_timeout_seconds.max(1)),
            poll_interval: Duration::from_millis(config.webhooks_poll_ms.max(10)),
            retention: chrono::Duration::hours(i64::from(config.webhooks_retention_hours)),
        }
    }
}

/// Resolves a host and keeps its addresses only if every one is public
/// (unless private networks are allowed): the connection then goes to an
/// address that was checked, with no second lookup to rebind.
pub struct CheckedResolver {
    pub allow_private_networks: bool,
}

impl Resolve for CheckedResolver {
    fn lookup<'a>(
        &'a self,
        host: &'a str,
        port: u16,
    ) -> LocalBoxFuture<'a, Result<Vec<SocketAddr>, Box<dyn StdError>>> {
        Box::pin(async move {
            // The HTTP client passes an IPv6 literal with its URL brackets.
            let bare = host
                .strip_prefix('[')
                .and_then(|h| h.strip_suffix(']'))
                .unwrap_or(host);
            let found: Vec<SocketAddr> = tokio::net::lookup_host((bare, port)).await?.collect();
            checked_addresses(host, found, self.allow_private_networks)
                .map_err(Box::<dyn StdError>::from)
        })
    }
}

/// `addresses` if there are any and all may be called. A refusal does not
/// say which address was refused: the message reaches the endpoint's
/// owner, and the server's resolver may know names the public does not.
pub fn checked_addresses(
    host: &str,
    addresses: Vec<SocketAddr>,
    allow_private_networks: bool,
) -> Result<Vec<SocketAddr>, String> {
    if addresses.is_empty() {
        return Err(format!("{host} has no address"));
    }
    if !allow_private_networks && !addresses.iter().all(|a| address_allowed(a.ip())) {
        return Err(format!("{host} resolves to an address that is not public"));
    }
    Ok(addresses)
}

/// The HTTP client deliveries go through: HTTPS with bundled roots,
/// connections only to checked addresses, no redirects followed.
fn client(settings: &DeliverySettings) -> awc::Client {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map(|builder| {
            builder
                .with_root_certificates(actix_tls::connect::rustls_0_23::webpki_roots_cert_store())
                .with_no_client_auth()
        });
    let resolver = Resolver::custom(CheckedResolver {
        allow_private_networks: settings.allow_private_networks,
    });
    let mut connector = awc::Connector::new()
        .connector(actix_tls::connect::Connector::new(resolver).service())
        .timeout(settings.timeout)
        .limit(settings.concurrency);
    if let Ok(tls) = tls {
        connector = connector.rustls_0_23(Arc::new(tls));
    }
    awc::Client::builder()
        .connector(connector)
        .timeout(settings.timeout)
        .disable_redirects()
        .add_default_header(("user-agent", "ArtisanCommons-Webhooks/1"))
        .finish()
}

/// The delivery worker of one server process.
pub struct Worker {
    pool: Pool,
    keys: Arc<Keyring>,
    clock: Arc<Clock>,
    settings: DeliverySettings,
    permits: Arc<Semaphore>,
}

impl Worker {
    pub fn new(pool: Pool, config: &Config, clock: Arc<Clock>) -> Self {
        let settings = DeliverySettings::from_config(config);
        Self {
            pool,
            keys: Arc::new(Keyring::derive(config.jwt_secret.expose())),
            clock,
            permits: Arc::new(Semaphore::new(settings.concurrency)),
            settings,
        }
    }

    /// Runs until the task is dropped (spawn it on the actix runtime).
    /// While there is work it goes on as soon as a sending slot frees;
    /// idle, it looks again every poll interval.
    pub async fn run(self) {
        let client = client(&self.settings);
        let mut pruned_at: Option<NaiveDateTime> = None;
        loop {
            let started = match self.tick(&client).await {
                Ok(started) => started,
                Err(e) => {
                    tracing::warn!(error = %e, "webhook delivery round failed");
                    0
                }
            };
            let now = self.clock.now();
            if pruned_at.is_none_or(|at| now - at >= PRUNE_EVERY) {
                pruned_at = Some(now);
                self.prune(now).await;
            }
            if started > 0 {
                // Busy: wait for a free slot, then look for more at once.
                drop(self.permits.acquire().await);
            } else {
                actix_web::rt::time::sleep(self.settings.poll_interval).await;
            }
        }
    }

    async fn db<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut persistence::AnyConnection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let pool = self.pool.clone();
        web::block(move || {
            let mut conn = checkout(&pool)?;
            work(&mut conn)
        })
        .await
        .map_err(|e| StoreError::Unavailable(e.to_string()))?
    }

    /// One round: dispatch new events, then start as many due deliveries
    /// as there are free sending slots (without waiting for them). Returns
    /// how many it started.
    async fn tick(&self, client: &awc::Client) -> Result<usize, StoreError> {
        loop {
            let at = self.clock.now();
            let handed = self
                .db(move |conn| store::dispatch(conn, at, DISPATCH_BATCH))
                .await?;
            if handed < DISPATCH_BATCH as usize {
                break;
            }
        }
        let free = self.permits.available_permits();
        if free == 0 {
            return Ok(0);
        }
        let at = self.clock.now();
        let lease = at
            + chrono::Duration::from_std(self.settings.timeout).unwrap_or_default()
            + chrono::Duration::seconds(30);
        let claimed = self
            .db(move |conn| store::claim(conn, at, lease, free as i64))
            .await?;
        let started = claimed.len();
        for delivery in claimed {
            let Ok(permit) = self.permits.clone().try_acquire_owned() else {
                break;
            };
            let job = Sending {
                pool: self.pool.clone(),
                keys: self.keys.clone(),
                clock: self.clock.clone(),
                settings: self.settings.clone(),
                client: client.clone(),
            };
            actix_web::rt::spawn(async move {
                job.deliver(delivery).await;
                drop(permit);
            });
        }
        Ok(started)
    }

    async fn prune(&self, now: NaiveDateTime) {
        let before = now - self.settings.retention;
        match self.db(move |conn| store::prune(conn, before)).await {
            Ok((events, deliveries)) if events + deliveries > 0 => {
                tracing::info!(events, deliveries, "delivered webhooks pruned");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "webhook pruning failed"),
        }
    }
}

/// What one send needs.
struct Sending {
    pool: Pool,
    keys: Arc<Keyring>,
    clock: Arc<Clock>,
    settings: DeliverySettings,
    client: awc::Client,
}

impl Sending {
    async fn deliver(self, claimed: Claimed) {
        let attempt = self.attempt(&claimed).await;
        let pool = self.pool.clone();
        let id = claimed.delivery.id.clone();
        let stored = web::block(move || {
            let mut conn = checkout(&pool)?;
            store::record_attempt(&mut conn, &id, &attempt)
        })
        .await;
        if !matches!(stored, Ok(Ok(()))) {
            tracing::warn!(delivery = %claimed.delivery.id, "webhook attempt could not be recorded");
        }
    }

    async fn attempt(&self, claimed: &Claimed) -> Attempt {
        let at = self.clock.now();
        let started = Instant::now();
        let outcome = self.send(claimed, at).await;
        let (status_code, error) = match outcome {
            Ok(status) if (200..300).contains(&status) => (Some(status), None),
            Ok(status) => (
                Some(status),
                Some(format!("the receiver answered {status}")),
            ),
            Err(e) => (None, Some(e)),
        };
        Attempt {
            at,
            status_code,
            error,
            duration_ms: i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX),
            jitter: rand::random::<f64>(),
        }
    }

    async fn send(&self, claimed: &Claimed, at: NaiveDateTime) -> Result<u16, String> {
        let delivery = &claimed.delivery;
        // The URL is checked again: the rules or the setting may have
        // changed since it was registered.
        let url = EndpointUrl::parse(&claimed.url, self.settings.allow_private_networks)
            .map_err(|e| e.message)?;
        let secret = self
            .keys
            .open(
                &claimed.secret_sealed,
                &secret_context(&delivery.endpoint_id),
            )
            .and_then(|s| String::from_utf8(s).ok())
            .ok_or("the signing secret cannot be opened (the server secret changed)")?;
        let timestamp = at.and_utc().timestamp();
        let signature = sign(&secret, &delivery.event_id, timestamp, &delivery.body)
            .ok_or("the signing secret is malformed")?;
        let response = self
            .client
            .post(url.as_str())
            .insert_header(("content-type", "application/json"))
            .insert_header(("webhook-id", delivery.event_id.as_str()))
            .insert_header(("webhook-timestamp", timestamp.to_string()))
            .insert_header(("webhook-signature", signature))
            .send_body(delivery.body.clone())
            .await
            .map_err(|e| format!("delivery failed: {e}"))?;
        Ok(response.status().as_u16())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_the_standard_webhooks_test_vector() {
        let signature = sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            r#"{"test": 2432232314}"#,
        );
        assert_eq!(
            signature.as_deref(),
            Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        );
        assert_eq!(sign("no-prefix", "id", 1, "{}"), None);
    }

    #[test]
    fn secrets_are_prefixed_and_random() {
        let (a, b) = (new_secret(), new_secret());
        assert!(a.starts_with(SECRET_PREFIX));
        assert_ne!(a, b);
        assert!(sign(&a, "id", 1, "{}").is_some());
    }

    #[tokio::test]
    async fn the_resolver_refuses_a_name_that_resolves_to_loopback() {
        let refusing = CheckedResolver {
            allow_private_networks: false,
        };
        let refused = refusing.lookup("localhost", 443).await;
        assert!(refused.is_err_and(|e| e.to_string().contains("not public")));
        let allowing = CheckedResolver {
            allow_private_networks: true,
        };
        let found = allowing.lookup("localhost", 443).await;
        assert!(found.is_ok_and(|a| !a.is_empty() && a.iter().all(|s| s.ip().is_loopback())));
        // An IPv6 literal comes from the URL in brackets, and is judged by
        // its address like any other.
        let refused = refusing.lookup("[::1]", 443).await;
        assert!(refused.is_err_and(|e| e.to_string().contains("not public")));
        let found = allowing.lookup("[::1]", 443).await;
        let loopback: SocketAddr = "[::1]:443".parse().expect("address");
        assert!(
            found.is_ok_and(|a| a == [loopback]),
            "the literal's own address"
        );
    }

    #[test]
    fn resolved_addresses_must_all_be_public() {
        let public: SocketAddr = "93.184.215.14:443".parse().expect("address");
        let loopback: SocketAddr = "127.0.0.1:443".parse().expect("address");
        let metadata: SocketAddr = "169.254.169.254:443".parse().expect("address");
        assert!(checked_addresses("h", vec![public], false).is_ok());
        // One private address among public ones is enough to refuse: a
        // connection could pick it.
        let mixed = checked_addresses("h", vec![public, loopback], false);
        // Which address it was stays with the server.
        assert!(mixed.is_err_and(|e| e.contains("not public") && !e.contains("127.0.0.1")));
        assert!(checked_addresses("h", vec![metadata], false).is_err());
        assert!(checked_addresses("h", vec![], true).is_err());
        assert!(checked_addresses("h", vec![loopback], true).is_ok());
    }
}
