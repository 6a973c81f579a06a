//! The test harness: every test boots the real application on its own
//! fresh database — a temporary SQLite file by default, or a new
//! PostgreSQL database (created and dropped per test) when
//! `TEST_DATABASE_URL` is set — and talks to it over real HTTP.

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::http::header::HeaderMap;
use actix_web::http::Method;
use actix_web::web;
use api::auth::password::Passwords;
use api::config::Config;
use api::state::AppState;
use api::webhooks::{Clock, Worker};
use diesel::{Connection, PgConnection, RunQueryDsl};
use domain::account::Role;
use domain::profile::ProfileFields;
use domain::text::{DisplayName, Email};
use persistence::{Pool, PoolOptions};
use serde_json::{json, Value};

pub const PASSWORD: &str = "correct horse battery staple";
/// The server secret every test app runs with.
pub const JWT_SECRET: &str = "test-secret-that-is-long-enough-0123456789";

enum TestDb {
    Sqlite(
        #[expect(dead_code, reason = "held so the directory lives as long as the app")]
        tempfile::TempDir,
    ),
    Postgres {
        admin_url: String,
        name: String,
    },
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let TestDb::Postgres { admin_url, name } = self {
            if let Ok(mut conn) = PgConnection::establish(admin_url) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn);
            }
        }
    }
}

fn fresh_database() -> (String, TestDb) {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(admin_url) => {
            let name = format!("ac_test_{}", uuid::Uuid::now_v7().simple());
            let mut conn = PgConnection::establish(&admin_url).unwrap_or_else(|e| {
                panic!("TEST_DATABASE_URL is set but PostgreSQL is unreachable: {e}")
            });
            diesel::sql_query(format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .expect("create test database");
            let base = admin_url
                .rsplit_once('/')
                .map_or(admin_url.as_str(), |(base, _)| base);
            (
                format!("{base}/{name}"),
                TestDb::Postgres { admin_url, name },
            )
        }
        Err(_) => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}", dir.path().join("test.db").display());
            (url, TestDb::Sqlite(dir))
        }
    }
}

/// Settings a test may change before the app starts.
pub struct Options {
    pub vars: HashMap<String, String>,
    /// Run a webhook delivery worker beside the server.
    webhooks: bool,
}

impl Default for Options {
    fn default() -> Self {
        let mut vars = HashMap::new();
        vars.insert("JWT_SECRET".to_owned(), JWT_SECRET.to_owned());
        // Tests make many requests from one address; the rate-limit test
        // sets its own limits.
        vars.insert("RATE_LIMIT_PER_MINUTE".to_owned(), "0".to_owned());
        vars.insert("RATE_LIMIT_AUTH_PER_MINUTE".to_owned(), "0".to_owned());
        Self {
            vars,
            webhooks: false,
        }
    }
}

impl Options {
    pub fn var(mut self, name: &str, value: &str) -> Self {
        self.vars.insert(name.to_owned(), value.to_owned());
        self
    }

    /// Webhook URLs on loopback allowed (the tests' receivers), but no
    /// worker delivering.
    pub fn webhooks_allowed(self) -> Self {
        self.var("WEBHOOKS_ALLOW_PRIVATE_NETWORKS", "true")
    }

    /// A delivery worker polling every 50 ms, allowed to deliver to the
    /// tests' receivers on loopback.
    pub fn webhooks(self) -> Self {
        let mut options = self
            .webhooks_allowed()
            .var("WEBHOOKS_POLL_MS", "50")
            .var("WEBHOOKS_TIMEOUT_SECONDS", "2");
        options.webhooks = true;
        options
    }
}

pub struct TestApp {
    pub base: String,
    /// Where the app's database is (for running the CLI against it).
    pub database_url: String,
    pub pool: Pool,
    client: awc::Client,
    server: ServerHandle,
    config: Config,
    /// The clock of the app's webhook workers: advance it to reach retries.
    pub clock: Arc<Clock>,
    /// Stop flags of the app's webhook workers.
    workers: Mutex<Vec<Arc<AtomicBool>>>,
    _db: TestDb,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::with(Options::default()).await
    }

    pub async fn with(options: Options) -> Self {
        let (url, db) = fresh_database();
        let mut vars = options.vars.clone();
        vars.insert("DATABASE_URL".to_owned(), url.clone());
        let config = Config::from_vars(&vars).expect("test config");
        let pool = persistence::connect_pool(
            &url,
            &PoolOptions {
                max_size: 8,
                connection_timeout: Duration::from_secs(10),
            },
        );
        {
            let mut conn = pool.get().expect("test database connection");
            persistence::run_migrations(&mut conn).expect("migrations");
        }
        let app = Self::start(pool, config, db, url);
        if options.webhooks {
            app.start_worker();
        }
        app
    }

    /// Starts one more webhook delivery worker on the app's database, on
    /// its own thread and runtime as in another server process (so a test
    /// that blocks waiting for a receiver does not stall it).
    pub fn start_worker(&self) {
        let worker = Worker::new(self.pool.clone(), &self.config, self.clock.clone());
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let task = actix_web::rt::spawn(worker.run());
                while !stopped.load(Ordering::SeqCst) {
                    actix_web::rt::time::sleep(Duration::from_millis(20)).await;
                }
                task.abort();
            });
        });
        self.workers.lock().expect("workers").push(stop);
    }

    /// An app whose database cannot be reached (nothing listens there).
    pub async fn with_unreachable_database() -> Self {
        let url = "postgres://nobody@127.0.0.1:1/none";
        let mut vars = Options::default().vars;
        vars.insert("DATABASE_URL".to_owned(), url.to_owned());
        let config = Config::from_vars(&vars).expect("test config");
        let pool = persistence::connect_pool(
            url,
            &PoolOptions {
                max_size: 2,
                connection_timeout: Duration::from_millis(500),
            },
        );
        Self::start(
            pool,
            config,
            TestDb::Sqlite(tempfile::tempdir().expect("temp dir")),
            url.to_owned(),
        )
    }

    fn start(pool: Pool, config: Config, db: TestDb, database_url: String) -> Self {
        let state = web::Data::new(AppState::new(pool.clone(), &config).expect("state"));
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let runtime = api::Runtime {
            workers: Some(2),
            handle_signals: false,
        };
        let server = api::server(state, listener, &runtime).expect("listen");
        let handle = server.handle();
        actix_web::rt::spawn(server);
        let client = awc::Client::builder()
            .timeout(Duration::from_secs(60))
            .finish();
        Self {
            base: format!("http://127.0.0.1:{port}"),
            database_url,
            pool,
            client,
            server: handle,
            config,
            clock: Arc::default(),
            workers: Mutex::default(),
            _db: db,
        }
    }

    pub fn conn(&self) -> persistence::db::PooledConnection {
        self.pool.get().expect("connection")
    }

    /// The value of one unlabelled or labelled series in `/metrics`.
    pub async fn metric(&self, series: &str) -> Option<u64> {
        let text = self.get("/metrics").send().await.text;
        text.lines()
            .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
    }

    pub fn req(&self, method: Method, path: &str) -> Req {
        Req {
            inner: self
                .client
                .request(method, format!("{}{}", self.base, path)),
            body: None,
        }
    }

    pub fn get(&self, path: &str) -> Req {
        self.req(Method::GET, path)
    }

    pub fn post(&self, path: &str) -> Req {
        self.req(Method::POST, path)
    }

    pub fn patch(&self, path: &str) -> Req {
        self.req(Method::PATCH, path)
    }

    pub fn delete(&self, path: &str) -> Req {
        self.req(Method::DELETE, path)
    }

    /// An artisan account, signed in.
    pub async fn artisan(&self, name: &str) -> Account {
        ArtisanBuilder::new(name).build(self).await
    }

    /// An admin account (made the way the CLI does), signed in.
    pub async fn admin(&self) -> Account {
        let email = format!("admin-{}@example.org", uuid::Uuid::now_v7().simple());
        let hash = Passwords::new()
            .expect("hasher")
            .hash(PASSWORD)
            .expect("hash");
        let parsed = Email::parse("email", &email).expect("email");
        let name = DisplayName::parse("display_name", "Admin").expect("name");
        let (user, _) = persistence::users::create_account(
            &mut self.conn(),
            persistence::users::NewAccount {
                email: &parsed,
                password_hash: hash,
                role: Role::Admin,
                profile: ProfileFields::new_member(name),
            },
        )
        .expect("admin");
        let tokens = self.login(&email, PASSWORD).await;
        Account {
            id: user.id,
            email,
            token: tokens["access_token"].as_str().expect("token").to_owned(),
            refresh: tokens["refresh_token"]
                .as_str()
                .expect("refresh")
                .to_owned(),
        }
    }

    pub async fn login(&self, email: &str, password: &str) -> Value {
        let res = self
            .post("/v1/auth/login")
            .json(json!({"email": email, "password": password}))
            .send()
            .await;
        assert_eq!(res.status, 200, "login failed: {}", res.body);
        res.body
    }

    /// Asserts that none of `who`'s credentials work any more: the access
    /// token, the refresh token and the password are all refused (401).
    pub async fn assert_shut_out(&self, who: &Account) {
        self.get("/v1/me")
            .bearer(&who.token)
            .send()
            .await
            .assert_problem(401, "unauthenticated");
        self.post("/v1/auth/refresh")
            .json(json!({"refresh_token": who.refresh}))
            .send()
            .await
            .assert_problem(401, "unauthenticated");
        self.post("/v1/auth/login")
            .json(json!({"email": who.email, "password": PASSWORD}))
            .send()
            .await
            .assert_problem(401, "unauthenticated");
    }

    /// `artisan` joins `collective` the way everyone does: a coordinator
    /// invites, the artisan accepts. Returns the membership's ETag.
    pub async fn join_by_invitation(
        &self,
        collective: &str,
        coordinator: &Account,
        artisan: &Account,
    ) -> String {
        let invited = self
            .post(&format!("/v1/collectives/{collective}/invitations"))
            .bearer(&coordinator.token)
            .json(json!({"artisan_id": artisan.id, "message": "join us"}))
            .send()
            .await;
        assert_eq!(invited.status, 201, "{}", invited.text);
        let accepted = self
            .post(&format!(
                "/v1/collective-invitations/{}/accept",
                invited.id()
            ))
            .bearer(&artisan.token)
            .send()
            .await;
        assert_eq!(accepted.status, 200, "{}", accepted.text);
        let members = self
            .get(&format!("/v1/collectives/{collective}/members?limit=100"))
            .bearer(&artisan.token)
            .send()
            .await;
        let version = members.body["data"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|m| m["artisan_id"] == artisan.id.as_str())
            .and_then(|m| m["version"].as_i64())
            .expect("a member now");
        format!("\"{version}\"")
    }

    /// An organization with an API key holding `scopes`; returns the key.
    pub async fn partner_key(&self, scopes: &[&str]) -> String {
        self.partner("Aid to Artisans", scopes).await.1
    }

    /// An organization named `name` with an API key holding `scopes`:
    /// (organization id, key).
    pub async fn partner(&self, name: &str, scopes: &[&str]) -> (String, String) {
        let admin = self.admin().await;
        let org = self
            .post("/v1/organizations")
            .bearer(&admin.token)
            .json(json!({"name": name, "country": "US", "description": "Partner"}))
            .send()
            .await;
        assert_eq!(org.status, 201, "{}", org.body);
        let key = self
            .post(&format!("/v1/organizations/{}/api-keys", org.id()))
            .bearer(&admin.token)
            .json(json!({"name": "integration", "scopes": scopes}))
            .send()
            .await;
        assert_eq!(key.status, 201, "{}", key.body);
        (org.id(), key.body["key"].as_str().expect("key").to_owned())
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Stop the server and the workers before the database is dropped.
        drop(self.server.stop(false));
        for stop in self.workers.lock().expect("workers").drain(..) {
            stop.store(true, Ordering::SeqCst);
        }
    }
}

/// A signed-in account.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: String,
    pub email: String,
    pub token: String,
    pub refresh: String,
}

/// Builds an artisan through the public API: register, sign in, and fill
/// in the profile fields that were set.
pub struct ArtisanBuilder {
    name: String,
    profile: serde_json::Map<String, Value>,
}

impl ArtisanBuilder {
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            profile: serde_json::Map::new(),
        }
    }

    pub fn set(mut self, field: &str, value: Value) -> Self {
        self.profile.insert(field.to_owned(), value);
        self
    }

    pub async fn build(self, app: &TestApp) -> Account {
        let email = format!(
            "{}-{}@example.org",
            self.name.to_lowercase().replace(' ', "."),
            uuid::Uuid::now_v7().simple()
        );
        let res = app
            .post("/v1/auth/register")
            .json(json!({"email": email, "password": PASSWORD, "display_name": self.name}))
            .send()
            .await;
        assert_eq!(res.status, 201, "register failed: {}", res.body);
        let id = res.id();
        let tokens = app.login(&email, PASSWORD).await;
        let account = Account {
            id,
            email,
            token: tokens["access_token"].as_str().expect("token").to_owned(),
            refresh: tokens["refresh_token"]
                .as_str()
                .expect("refresh")
                .to_owned(),
        };
        if !self.profile.is_empty() {
            let res = app
                .patch(&format!("/v1/artisans/{}", account.id))
                .bearer(&account.token)
                .header("If-Match", "\"1\"")
                .json(Value::Object(self.profile))
                .send()
                .await;
            assert_eq!(res.status, 200, "profile update failed: {}", res.body);
        }
        account
    }
}

pub struct Req {
    inner: awc::ClientRequest,
    body: Option<Vec<u8>>,
}

impl Req {
    pub fn bearer(self, token: &str) -> Self {
        self.header("Authorization", &format!("Bearer {token}"))
    }

    pub fn api_key(self, key: &str) -> Self {
        self.header("X-API-Key", key)
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.inner = self.inner.insert_header((name, value));
        self
    }

    /// Adds one more line of a header (a repeated header).
    pub fn header_line(mut self, name: &str, value: &str) -> Self {
        self.inner = self.inner.append_header((name, value));
        self
    }

    pub fn json(mut self, body: Value) -> Self {
        self.inner = self
            .inner
            .insert_header(("Content-Type", "application/json"));
        self.body = Some(serde_json::to_vec(&body).expect("json"));
        self
    }

    /// A raw body, with whatever content type the test sets.
    pub fn raw(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = Some(body.into());
        self
    }

    pub async fn send(self) -> Resp {
        let mut res = match self.body {
            Some(body) => self.inner.send_body(body).await,
            None => self.inner.send().await,
        }
        .expect("request");
        let bytes = res.body().limit(16 * 1024 * 1024).await.expect("body");
        let text = String::from_utf8_lossy(&bytes).into_owned();
        Resp {
            status: res.status().as_u16(),
            headers: res.headers().clone(),
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            text,
        }
    }
}

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    pub fn id(&self) -> String {
        self.body["id"].as_str().expect("id in body").to_owned()
    }

    /// `field` of the party whose `key` (`artisan_id`, `collective_id`,
    /// `id`) is `value`, in a partnership body.
    pub fn party_field(&self, key: &str, value: &str, field: &str) -> Option<String> {
        self.body["parties"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| p[key] == value)
            .and_then(|p| p[field].as_str())
            .map(str::to_owned)
    }

    /// The id of the party whose `key` is `value`, in a partnership body.
    pub fn party(&self, key: &str, value: &str) -> String {
        self.party_field(key, value, "id").expect("party")
    }

    /// Asserts an RFC 9457 problem of the given status and type slug.
    pub fn assert_problem(&self, status: u16, slug: &str) {
        assert_eq!(
            self.status, status,
            "unexpected status, body: {}",
            self.text
        );
        assert_eq!(
            self.header("content-type").as_deref(),
            Some("application/problem+json"),
            "{}",
            self.text
        );
        assert_eq!(
            self.body["type"],
            format!("/problems/{slug}"),
            "{}",
            self.text
        );
        assert_eq!(self.body["status"], status);
        assert!(self.body["title"].is_string() && self.body["detail"].is_string());
        assert!(self.body["instance"]
            .as_str()
            .is_some_and(|i| i.starts_with('/')));
    }

    /// The `field` names of a validation problem.
    pub fn error_fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .filter_map(|e| e["field"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Asserts a 2xx answer and hands it on (for building a test's world).
pub async fn ok(res: Resp) -> Resp {
    assert!(res.status < 300, "{} {}", res.status, res.text);
    res
}

/// Agreement terms in PEN splitting equally among `parties` (the first
/// takes the remainder), effective from `from` to `until`.
pub fn split(parties: &[&str], from: &str, until: Option<&str>) -> Value {
    let share = 10_000 / i64::try_from(parties.len()).expect("few");
    let mut shares: Vec<Value> = parties
        .iter()
        .map(|p| json!({"recipient": {"party_id": p}, "share_bps": share}))
        .collect();
    let rest = 10_000 - share * i64::try_from(parties.len()).expect("few");
    shares[0]["share_bps"] = json!(share + rest);
    json!({"revenue_split": {"currency": "PEN", "shares": shares},
           "effective_from": from, "effective_until": until})
}

/// What a partnership's money looks like to the visibility and
/// authorization tests, made by `who`: a settlement up to `period_end`, an
/// expense `paid_by` paid on 2026-07-01, and a draft collection with one
/// item crediting `paid_by`. Returns the settlement's and the expense's
/// ids and the collection as answered.
pub async fn money_objects(
    app: &TestApp,
    who: &Account,
    pid: &str,
    paid_by: &str,
    period_end: &str,
) -> (String, String, Resp) {
    let settlement = ok(app
        .post(&format!("/v1/partnerships/{pid}/settlements"))
        .bearer(&who.token)
        .header("Idempotency-Key", "settle")
        .json(json!({"period_end": period_end}))
        .send()
        .await)
    .await
    .id();
    let expense = ok(app
        .post(&format!("/v1/partnerships/{pid}/expenses"))
        .bearer(&who.token)
        .header("Idempotency-Key", "expense")
        .json(
            json!({"amount_minor": 500, "currency": "PEN", "description": "Booth",
                     "category": "booth", "incurred_on": "2026-07-01", "paid_by": paid_by}),
        )
        .send()
        .await)
    .await
    .id();
    let collection = ok(app
        .post(&format!("/v1/partnerships/{pid}/collections"))
        .bearer(&who.token)
        .json(
            json!({"name": "Andes", "items": [{"sku": "AND-1", "name": "Poncho",
            "price": {"amount_minor": 9000, "currency": "PEN"}, "contributors": [paid_by]}]}),
        )
        .send()
        .await)
    .await;
    (settlement, expense, collection)
}
