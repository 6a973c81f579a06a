//! Configuration from environment variables (and an optional file named by
//! `CONFIG_FILE` with `NAME=value` lines; the environment wins), validated
//! at start with messages that name the variable. Secrets are wrapped so
//! they cannot end up in a log line.

use std::collections::HashMap;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use persistence::db::is_postgres_url;

#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl Secret {
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppEnv {
    Development,
    Production,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: String,
    pub data_dir: PathBuf,
    pub bind_addr: String,
    pub jwt_secret: Secret,
    pub app_env: AppEnv,
    pub cors_allowed_origins: Vec<String>,
    pub rate_limit_per_minute: u32,
    pub rate_limit_auth_per_minute: u32,
    /// Rate-limit buckets kept in memory at most (least recently used go).
    pub rate_limit_buckets: usize,
    pub max_body_bytes: usize,
    /// The request's headers together, at most (431 beyond).
    pub max_header_bytes: usize,
    /// How long a new connection may take to send a request head.
    pub request_head_timeout_seconds: u64,
    /// How long a request body may take to arrive in full (408 beyond).
    pub request_body_timeout_seconds: u64,
    /// How long an idle kept-alive connection stays open.
    pub keep_alive_seconds: u64,
    pub log_format: LogFormat,
    pub webhooks_allow_private_networks: bool,
    /// Webhook sends in flight at once, per process.
    pub webhooks_concurrency: usize,
    /// How long one webhook send may take, connecting included.
    pub webhooks_timeout_seconds: u64,
    /// How often the delivery worker looks for new events and due retries.
    pub webhooks_poll_ms: u64,
    /// How long delivered events and finished deliveries are kept.
    pub webhooks_retention_hours: u32,
    pub db_pool_size: u32,
    /// HTTP worker threads. Reads in place block their worker for a round
    /// trip, so there are more workers than cores.
    pub http_workers: usize,
    /// How long a request waits for its turn at the database (503 beyond).
    pub db_queue_timeout: Duration,
}

pub const DEFAULT_RATE_LIMIT_PER_MINUTE: u32 = 600;
pub const DEFAULT_RATE_LIMIT_AUTH_PER_MINUTE: u32 = 20;
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;
pub const DEFAULT_MAX_HEADER_BYTES: usize = 16 * 1024;
/// The largest `MAX_HEADER_BYTES`: the HTTP layer itself refuses heads
/// over 128 KiB (a bare 431), so the setting stays well below that and its
/// problem answers first.
const HTTP_HEAD_LIMIT: usize = 64 * 1024;
const MIN_SECRET_BYTES: usize = 32;
const SECRET_FILE: &str = "jwt-secret";

/// Two HTTP workers per core: one can wait on a read in place while the
/// other serves (`BENCHMARKS.md`, "Reads in place on the HTTP worker").
fn default_http_workers() -> usize {
    2 * std::thread::available_parallelism().map_or(1, usize::from)
}

#[derive(Debug, thiserror::Error)]
#[error("configuration error: {0}")]
pub struct ConfigError(String);

fn parse_number<T: std::str::FromStr>(
    vars: &HashMap<String, String>,
    name: &str,
    default: T,
) -> Result<T, ConfigError> {
    match vars.get(name) {
        None => Ok(default),
        Some(raw) => raw.trim().parse().map_err(|_| {
            ConfigError(format!(
                "{name} must be a non-negative integer, got '{raw}'"
            ))
        }),
    }
}

fn parse_bool(vars: &HashMap<String, String>, name: &str) -> Result<bool, ConfigError> {
    match vars
        .get(name)
        .map(|v| v.trim().to_ascii_lowercase())
        .as_deref()
    {
        None | Some("false" | "0" | "no" | "") => Ok(false),
        Some("true" | "1" | "yes") => Ok(true),
        Some(other) => Err(ConfigError(format!(
            "{name} must be true or false, got '{other}'"
        ))),
    }
}

/// Reads `NAME=value` lines; `#` starts a comment.
fn read_config_file(path: &Path) -> Result<HashMap<String, String>, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError(format!("CONFIG_FILE {}: {e}", path.display())))?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .filter_map(|line| line.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect())
}

impl Config {
    /// Loads from the process environment (plus `CONFIG_FILE`).
    pub fn from_env() -> Result<Self, ConfigError> {
        let env: HashMap<String, String> = std::env::vars().collect();
        let mut vars = match env.get("CONFIG_FILE") {
            Some(path) => read_config_file(Path::new(path))?,
            None => HashMap::new(),
        };
        vars.extend(env);
        Self::from_vars(&vars)
    }

    /// Validates a set of variables. In development, a missing
    /// `JWT_SECRET` is generated once and kept in `DATA_DIR`; in production
    /// it is an error.
    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let app_env = match vars.get("APP_ENV").map(String::as_str) {
            None | Some("development") => AppEnv::Development,
            Some("production") => AppEnv::Production,
            Some(other) => {
                return Err(ConfigError(format!(
                    "APP_ENV must be 'development' or 'production', got '{other}'"
                )))
            }
        };
        let data_dir = PathBuf::from(vars.get("DATA_DIR").map_or("./data", String::as_str));
        let database_url = match vars.get("DATABASE_URL") {
            Some(url) if is_postgres_url(url) || url.starts_with("sqlite://") => url.clone(),
            Some(other) => {
                return Err(ConfigError(format!(
                "DATABASE_URL must start with postgres://, postgresql:// or sqlite://, got '{}'",
                other.split(':').next().unwrap_or_default()
            )))
            }
            None => format!("sqlite://{}", data_dir.join("artisan-commons.db").display()),
        };
        let jwt_secret = match vars.get("JWT_SECRET") {
            Some(secret) if secret.len() >= MIN_SECRET_BYTES => Secret(secret.as_bytes().to_vec()),
            Some(_) => {
                return Err(ConfigError(format!(
                    "JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes"
                )))
            }
            None if app_env == AppEnv::Production => {
                return Err(ConfigError(
                    "JWT_SECRET is required when APP_ENV=production".to_owned(),
                ))
            }
            None => embedded_secret(&data_dir)?,
        };
        let log_format = match vars.get("LOG_FORMAT").map(String::as_str) {
            None | Some("pretty") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(ConfigError(format!(
                    "LOG_FORMAT must be 'pretty' or 'json', got '{other}'"
                )))
            }
        };
        let cors_allowed_origins = vars
            .get("CORS_ALLOWED_ORIGINS")
            .map(|list| {
                list.split(',')
                    .map(str::trim)
                    .filter(|o| !o.is_empty())
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        if let Some(bad) = cors_allowed_origins
            .iter()
            .find(|o| !(o.starts_with("https://") || o.starts_with("http://")))
        {
            return Err(ConfigError(format!(
                "CORS_ALLOWED_ORIGINS entries must be origins like https://app.example, got '{bad}'"
            )));
        }
        let max_body_bytes = parse_number(vars, "MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES)?;
        if max_body_bytes < 1024 {
            return Err(ConfigError(
                "MAX_BODY_BYTES must be at least 1024".to_owned(),
            ));
        }
        let max_header_bytes = parse_number(vars, "MAX_HEADER_BYTES", DEFAULT_MAX_HEADER_BYTES)?;
        if !(1024..=HTTP_HEAD_LIMIT).contains(&max_header_bytes) {
            return Err(ConfigError(format!(
                "MAX_HEADER_BYTES must be between 1024 and {HTTP_HEAD_LIMIT}"
            )));
        }
        let seconds = |name: &str, default: u64| -> Result<u64, ConfigError> {
            let value = parse_number(vars, name, default)?;
            if value == 0 {
                return Err(ConfigError(format!("{name} must be at least 1")));
            }
            Ok(value)
        };
        let request_head_timeout_seconds = seconds("REQUEST_HEAD_TIMEOUT_SECONDS", 5)?;
        let request_body_timeout_seconds = seconds("REQUEST_BODY_TIMEOUT_SECONDS", 30)?;
        let keep_alive_seconds = seconds("KEEP_ALIVE_SECONDS", 5)?;
        let rate_limit_buckets = parse_number(
            vars,
            "RATE_LIMIT_BUCKETS",
            crate::http::rate_limit::DEFAULT_CAPACITY,
        )?;
        if rate_limit_buckets < 100 {
            return Err(ConfigError(
                "RATE_LIMIT_BUCKETS must be at least 100".to_owned(),
            ));
        }
        let default_pool = if is_postgres_url(&database_url) {
            16
        } else {
            8
        };
        let db_pool_size = parse_number(vars, "DB_POOL_SIZE", default_pool)?;
        if db_pool_size == 0 {
            return Err(ConfigError("DB_POOL_SIZE must be at least 1".to_owned()));
        }
        let http_workers = parse_number(vars, "HTTP_WORKERS", default_http_workers())?;
        if http_workers == 0 {
            return Err(ConfigError("HTTP_WORKERS must be at least 1".to_owned()));
        }
        let db_queue_timeout_ms = parse_number(vars, "DB_QUEUE_TIMEOUT_MS", 5000)?;
        if db_queue_timeout_ms == 0 {
            return Err(ConfigError(
                "DB_QUEUE_TIMEOUT_MS must be at least 1".to_owned(),
            ));
        }
        Ok(Self {
            database_url,
            data_dir,
            bind_addr: vars
                .get("BIND_ADDR")
                .cloned()
                .unwrap_or_else(|| "127.0.0.1:8080".to_owned()),
            jwt_secret,
            app_env,
            cors_allowed_origins,
            rate_limit_per_minute: parse_number(
                vars,
                "RATE_LIMIT_PER_MINUTE",
                DEFAULT_RATE_LIMIT_PER_MINUTE,
            )?,
            rate_limit_auth_per_minute: parse_number(
                vars,
                "RATE_LIMIT_AUTH_PER_MINUTE",
                DEFAULT_RATE_LIMIT_AUTH_PER_MINUTE,
            )?,
            rate_limit_buckets,
            max_body_bytes,
            max_header_bytes,
            request_head_timeout_seconds,
            request_body_timeout_seconds,
            keep_alive_seconds,
            log_format,
            webhooks_allow_private_networks: parse_bool(vars, "WEBHOOKS_ALLOW_PRIVATE_NETWORKS")?,
            webhooks_concurrency: parse_number(vars, "WEBHOOKS_CONCURRENCY", 16)?,
            webhooks_timeout_seconds: parse_number(vars, "WEBHOOKS_TIMEOUT_SECONDS", 10)?,
            webhooks_poll_ms: parse_number(vars, "WEBHOOKS_POLL_MS", 1000)?,
            webhooks_retention_hours: parse_number(vars, "WEBHOOKS_RETENTION_HOURS", 24 * 7)?,
            db_pool_size,
            http_workers,
            db_queue_timeout: Duration::from_millis(db_queue_timeout_ms),
        })
    }

    /// Creates the directory of an embedded SQLite database if needed.
    pub fn prepare_data_dir(&self) -> Result<(), ConfigError> {
        if !is_postgres_url(&self.database_url) {
            let path = Path::new(persistence::db::sqlite_path(&self.database_url));
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)
                    .map_err(|e| ConfigError(format!("cannot create {}: {e}", parent.display())))?;
            }
        }
        Ok(())
    }
}

/// Reads the generated secret from `DATA_DIR`, creating it (64 random
/// bytes, hex, owner-only permissions) on first start.
fn embedded_secret(data_dir: &Path) -> Result<Secret, ConfigError> {
    let path = data_dir.join(SECRET_FILE);
    let unreadable =
        |e: std::io::Error| ConfigError(format!("cannot read {}: {e}", path.display()));
    let existing = |contents: String| {
        let contents = contents.trim();
        if contents.len() >= MIN_SECRET_BYTES {
            Ok(Secret(contents.as_bytes().to_vec()))
        } else {
            Err(ConfigError(format!(
                "{} holds fewer than {MIN_SECRET_BYTES} bytes; remove it (keys and tokens made \
                 with it stop working) or set JWT_SECRET",
                path.display()
            )))
        }
    };
    match std::fs::read_to_string(&path) {
        Ok(contents) => return existing(contents),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(unreadable(e)),
    }
    std::fs::create_dir_all(data_dir).map_err(|e| {
        ConfigError(format!(
            "cannot create DATA_DIR {}: {e}",
            data_dir.display()
        ))
    })?;
    let mut bytes = [0u8; 64];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    // Written whole under a name of its own, then linked into place: the
    // link fails if another process (the server and a CLI command started
    // together) got there first, and then everyone uses that one. Nobody
    // ever reads a half-written secret or replaces one in use.
    let staged = data_dir.join(format!("{SECRET_FILE}.{}", uuid::Uuid::now_v7().simple()));
    let cannot_write =
        |e: std::io::Error| ConfigError(format!("cannot write {}: {e}", path.display()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options.open(&staged).and_then(|mut file| {
        file.write_all(secret.as_bytes())?;
        file.sync_all()
    });
    let linked = written.and_then(|()| std::fs::hard_link(&staged, &path));
    let _ = std::fs::remove_file(&staged);
    match linked {
        Ok(()) => Ok(Secret(secret.into_bytes())),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            existing(std::fs::read_to_string(&path).map_err(unreadable)?)
        }
        Err(e) => Err(cannot_write(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn production_requires_a_secret() {
        let err = Config::from_vars(&vars(&[("APP_ENV", "production")])).err();
        assert!(err.is_some_and(|e| e.to_string().contains("JWT_SECRET")));
    }

    #[test]
    fn rejects_bad_values_naming_the_variable() {
        let secret = "s".repeat(32);
        for (name, value) in [
            ("RATE_LIMIT_PER_MINUTE", "many"),
            ("LOG_FORMAT", "xml"),
            ("DATABASE_URL", "mysql://x"),
            ("CORS_ALLOWED_ORIGINS", "*"),
            ("HTTP_WORKERS", "0"),
        ] {
            let err = Config::from_vars(&vars(&[("JWT_SECRET", &secret), (name, value)])).err();
            assert!(err.is_some_and(|e| e.to_string().contains(name)), "{name}");
        }
    }

    #[test]
    fn development_generates_and_keeps_a_secret() {
        let dir = std::env::temp_dir().join(format!("ac-config-{}", uuid::Uuid::now_v7()));
        let data_dir = dir.to_string_lossy().into_owned();
        let first = Config::from_vars(&vars(&[("DATA_DIR", &data_dir)])).map(|c| c.jwt_secret);
        let second = Config::from_vars(&vars(&[("DATA_DIR", &data_dir)])).map(|c| c.jwt_secret);
        assert!(first.as_ref().is_ok_and(|s| s.expose().len() >= 32));
        assert_eq!(first.ok(), second.ok());
        let _ = std::fs::remove_dir_all(dir);
    }

    /// The server and a CLI command started together on an empty DATA_DIR
    /// end up with one secret, not one each.
    #[test]
    fn processes_starting_together_share_one_secret() {
        for _ in 0..20 {
            let dir = std::env::temp_dir().join(format!("ac-config-{}", uuid::Uuid::now_v7()));
            let secrets: Vec<Vec<u8>> = std::thread::scope(|scope| {
                let racers: Vec<_> = (0..4)
                    .map(|_| scope.spawn(|| embedded_secret(&dir).map(|s| s.expose().to_vec())))
                    .collect();
                racers
                    .into_iter()
                    .map(|r| r.join().expect("thread").expect("secret"))
                    .collect()
            });
            assert!(secrets.windows(2).all(|w| w[0] == w[1]));
            let left: Vec<_> = std::fs::read_dir(&dir).expect("dir").flatten().collect();
            assert_eq!(left.len(), 1, "only the secret file stays");
            let _ = std::fs::remove_dir_all(dir);
        }
    }

    #[test]
    fn a_truncated_secret_file_is_an_error_not_a_new_secret() {
        let dir = std::env::temp_dir().join(format!("ac-config-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::write(dir.join(SECRET_FILE), "short").expect("write");
        let error = embedded_secret(&dir).err().map(|e| e.to_string());
        assert!(error.is_some_and(|e| e.contains("fewer than 32 bytes")));
        assert_eq!(
            std::fs::read_to_string(dir.join(SECRET_FILE))
                .ok()
                .as_deref(),
            Some("short"),
            "left as it was"
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}
