//! The connection enum, the pool, migrations and write transactions.

use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::r2d2::R2D2Connection;
use diesel::{Connection, ConnectionError, PgConnection, SqliteConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::StoreError;

/// One connection to either supported database.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/postgres");
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/sqlite");

/// Pragmas every SQLite connection gets. `busy_timeout` must come first:
/// switching to WAL itself needs the lock.
const SQLITE_PRAGMAS: &str = "PRAGMA busy_timeout = 10000; \
     PRAGMA journal_mode = WAL; \
     PRAGMA synchronous = FULL; \
     PRAGMA foreign_keys = ON;";

/// Opens connections by URL scheme, keeping the real error (the derived
/// `establish` tries each backend and hides why PostgreSQL failed).
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    url: String,
}

impl ConnectionManager {
    pub fn new(url: impl Into<String>) -> Self {
        Self { url: url.into() }
    }

    pub fn is_postgres(&self) -> bool {
        is_postgres_url(&self.url)
    }
}

pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// The file path of a `sqlite://PATH` URL (or a bare path).
pub fn sqlite_path(url: &str) -> &str {
    url.strip_prefix("sqlite://").unwrap_or(url)
}

/// A pooled connection that remembers a connection-level failure, so the
/// pool drops it instead of handing it out again. (Checking every connection
/// on checkout would cost a round trip per request.)
pub struct Pooled {
    conn: AnyConnection,
    broken: bool,
}

impl std::ops::Deref for Pooled {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        &self.conn
    }
}

impl std::ops::DerefMut for Pooled {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.conn
    }
}

impl r2d2::ManageConnection for ConnectionManager {
    type Connection = Pooled;
    type Error = ConnectionError;

    fn connect(&self) -> Result<Pooled, ConnectionError> {
        let conn = if self.is_postgres() {
            PgConnection::establish(&self.url).map(AnyConnection::Postgresql)?
        } else {
            let mut conn = SqliteConnection::establish(sqlite_path(&self.url))?;
            conn.batch_execute(SQLITE_PRAGMAS)
                .map_err(ConnectionError::CouldntSetupConfiguration)?;
            AnyConnection::Sqlite(conn)
        };
        Ok(Pooled {
            conn,
            broken: false,
        })
    }

    fn is_valid(&self, pooled: &mut Pooled) -> Result<(), ConnectionError> {
        pooled
            .conn
            .ping()
            .map_err(ConnectionError::CouldntSetupConfiguration)
    }

    fn has_broken(&self, pooled: &mut Pooled) -> bool {
        pooled.broken || pooled.conn.is_broken()
    }
}

pub type Pool = r2d2::Pool<ConnectionManager>;
pub type PooledConnection = r2d2::PooledConnection<ConnectionManager>;

/// Pool sizing and how long a request waits for a connection before the
/// API answers 503.
#[derive(Debug, Clone)]
pub struct PoolOptions {
    pub max_size: u32,
    pub connection_timeout: Duration,
}

/// Builds the pool without connecting: a database that is down at start or
/// later only makes requests fail with 503 until it is back.
pub fn connect_pool(url: &str, options: &PoolOptions) -> Pool {
    r2d2::Pool::builder()
        .max_size(options.max_size)
        .min_idle(Some(0))
        .connection_timeout(options.connection_timeout)
        .test_on_check_out(false)
        .build_unchecked(ConnectionManager::new(url))
}

fn migrations_for(conn: &AnyConnection) -> EmbeddedMigrations {
    match conn {
        AnyConnection::Postgresql(_) => POSTGRES_MIGRATIONS,
        AnyConnection::Sqlite(_) => SQLITE_MIGRATIONS,
    }
}

/// Applies pending migrations; returns how many ran.
pub(crate) fn apply_migrations(conn: &mut AnyConnection) -> Result<usize, String> {
    let source = migrations_for(conn);
    conn.run_pending_migrations(source)
        .map(|applied| applied.len())
        .map_err(|e| e.to_string())
}

/// True when the database answers and every embedded migration is applied.
pub fn is_ready(conn: &mut AnyConnection) -> bool {
    let source = migrations_for(conn);
    conn.batch_execute("SELECT 1").is_ok()
        && conn
            .pending_migrations(source)
            .is_ok_and(|pending| pending.is_empty())
}

static SQLITE_WRITER: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Whether a backend connection is inside a transaction already (on
/// SQLite, its writer, if any, holds [`SQLITE_WRITER`]).
fn inside_transaction<C>(conn: &mut C) -> bool
where
    C: Connection<TransactionManager = AnsiTransactionManager>,
{
    AnsiTransactionManager::transaction_manager_status_mut(conn)
        .transaction_depth()
        .is_ok_and(|depth| depth.is_some())
}

/// Whether the connection is inside a transaction already.
fn in_transaction(conn: &mut AnyConnection) -> bool {
    match conn {
        AnyConnection::Postgresql(pg) => inside_transaction(pg),
        AnyConnection::Sqlite(sqlite) => inside_transaction(sqlite),
    }
}

/// Runs writes that commit statement by statement (no transaction); on
/// SQLite they queue on the same in-process mutex as [`write_tx`], so they
/// neither starve nor are starved by transactional writers.
pub fn autocommit_write<T>(conn: &mut AnyConnection, f: impl FnOnce(&mut AnyConnection) -> T) -> T {
    let serialize = match conn {
        AnyConnection::Sqlite(sqlite) => !inside_transaction(sqlite),
        _ => false,
    };
    let _writer = serialize.then(|| {
        SQLITE_WRITER
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    });
    f(conn)
}

/// Runs `f` in a write transaction. On SQLite the transaction starts with
/// `BEGIN IMMEDIATE` (the write lock is taken first, so concurrent writers
/// queue instead of failing on a lock upgrade; within this process they
/// queue on a mutex).
///
/// Called inside a transaction already (a write an idempotent create runs
/// in its own, a departure's steps), `f` joins it: no savepoint, because
/// no caller goes on after a nested write failed — every error fails the
/// enclosing transaction too, and its rollback undoes the nested writes.
/// That saves two round trips (`SAVEPOINT`, `RELEASE`) inside the lock a
/// write holds.
pub fn write_tx<T, E>(
    conn: &mut AnyConnection,
    f: impl FnOnce(&mut AnyConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    if in_transaction(conn) {
        return f(conn);
    }
    let AnyConnection::Sqlite(sqlite) = conn else {
        return conn.transaction(f);
    };
    // One writer at a time in this process, queued on a mutex: SQLite's
    // busy handler sleeps and retries, so under contention an unlucky
    // writer waited far longer than its turn (seconds at p99). Other
    // processes (the CLI) still meet `busy_timeout`.
    let _writer = SQLITE_WRITER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Err(error) = AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE") {
        return Err(error.into());
    }
    let outcome = f(conn);
    let AnyConnection::Sqlite(sqlite) = conn else {
        unreachable!("the connection variant cannot change inside a transaction");
    };
    match outcome {
        Ok(value) => match AnsiTransactionManager::commit_transaction(sqlite) {
            Ok(()) => Ok(value),
            Err(error) => {
                // The transaction manager already tried to roll back; make
                // sure the connection is not left inside a transaction.
                let _ = AnsiTransactionManager::rollback_transaction(sqlite);
                Err(error.into())
            }
        },
        Err(error) => {
            AnsiTransactionManager::rollback_transaction(sqlite)?;
            Err(error)
        }
    }
}

/// Runs reads that must agree with each other (e.g. payouts and the net
/// sales they sum to) on one snapshot: a read-only `REPEATABLE READ`
/// transaction on PostgreSQL; on SQLite a deferred transaction, which in
/// WAL mode reads one snapshot from its first read on.
pub fn read_tx<T>(
    conn: &mut AnyConnection,
    f: impl FnOnce(&mut AnyConnection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    conn.transaction(|conn| {
        if let AnyConnection::Postgresql(pg) = conn {
            pg.batch_execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")?;
        }
        f(conn)
    })
}

/// Gets a pooled connection, mapping failure to [`StoreError::Unavailable`].
pub fn checkout(pool: &Pool) -> Result<PooledConnection, StoreError> {
    pool.get()
        .map_err(|e| StoreError::Unavailable(e.to_string()))
}

/// Runs `work` on a pooled connection. A connection-level failure (the
/// server went away) marks the connection broken, so the pool replaces it
/// and the next request gets a fresh one.
pub fn with_connection<T, E>(
    pool: &Pool,
    work: impl FnOnce(&mut AnyConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<StoreError> + ConnectionLost,
{
    run_on(checkout(pool)?, work)
}

/// Runs `work` on `pooled` (a connection from [`Pool::try_get`], say),
/// marking it broken on a connection-level failure as [`with_connection`]
/// does.
pub fn run_on<T, E: ConnectionLost>(
    mut pooled: PooledConnection,
    work: impl FnOnce(&mut AnyConnection) -> Result<T, E>,
) -> Result<T, E> {
    let result = work(&mut pooled.conn);
    if let Err(error) = &result {
        pooled.broken = error.connection_lost();
    }
    result
}

/// Whether an error means the database connection itself failed.
pub trait ConnectionLost {
    fn connection_lost(&self) -> bool;
}

impl ConnectionLost for StoreError {
    fn connection_lost(&self) -> bool {
        matches!(self, StoreError::Unavailable(_))
    }
}

pub use diesel::result as diesel_error;

#[cfg(test)]
mod tests {
    use diesel::dsl::sql;
    use diesel::sql_types::{BigInt, Integer};
    use diesel::{Connection, RunQueryDsl, SqliteConnection};

    /// The bundled SQLite keeps a prepared statement's plan when new values
    /// are bound (`.cargo/config.toml`); without that, every statement with
    /// a `LIMIT ?` is compiled again on each run.
    #[test]
    fn bundled_sqlite_has_the_query_planner_stability_guarantee() {
        let mut conn = SqliteConnection::establish(":memory:").expect("in-memory SQLite");
        let on: i32 = diesel::select(sql::<Integer>("sqlite_compileoption_used('ENABLE_QPSG')"))
            .get_result(&mut conn)
            .expect("compile options");
        assert_eq!(on, 1);
    }

    /// A write inside a transaction joins it (no savepoint): its rows stand
    /// or fall with the enclosing transaction.
    #[test]
    fn a_nested_write_joins_the_enclosing_transaction() {
        let sqlite = SqliteConnection::establish(":memory:").expect("in-memory SQLite");
        let mut conn = crate::AnyConnection::Sqlite(sqlite);
        diesel::sql_query("CREATE TABLE t (n INTEGER)")
            .execute(&mut conn)
            .expect("table");
        let insert = |conn: &mut crate::AnyConnection, n: i32| {
            diesel::sql_query(format!("INSERT INTO t VALUES ({n})")).execute(conn)
        };
        let count = |conn: &mut crate::AnyConnection| -> i64 {
            diesel::select(sql::<BigInt>("(SELECT count(*) FROM t)"))
                .get_result(conn)
                .expect("count")
        };
        let outer: Result<(), diesel::result::Error> = super::write_tx(&mut conn, |conn| {
            assert!(super::in_transaction(conn));
            insert(conn, 1)?;
            let nested: Result<(), diesel::result::Error> = super::write_tx(conn, |conn| {
                insert(conn, 2)?;
                Err(diesel::result::Error::RollbackTransaction)
            });
            assert!(nested.is_err());
            // Without a savepoint the nested row is still there...
            assert_eq!(count(conn), 2);
            Err(diesel::result::Error::RollbackTransaction)
        });
        assert!(outer.is_err());
        // ...and the enclosing rollback takes both away.
        assert!(!super::in_transaction(&mut conn));
        assert_eq!(count(&mut conn), 0);
    }
}
