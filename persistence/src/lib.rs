//! Storage for Artisan Commons on PostgreSQL or SQLite through one diesel
//! `MultiConnection`.
//!
//! Every operation takes `&mut AnyConnection` so it can run inside a
//! caller's transaction; multi-statement writes go through [`write_tx`],
//! which on SQLite takes the write lock up front (`BEGIN IMMEDIATE`) so two
//! writers never deadlock upgrading read locks. Optimistic concurrency is a
//! `version` column compared in the `UPDATE ... WHERE` itself, so a lost
//! update is impossible on either database.

/// `query` narrowed to the rows after `seek.after` in the walk — older
/// than it (when there is one) — newest first by `$table::id` (ids are time-ordered UUIDv7s),
/// one more than `limit` so that [`Page::from_overfetch`] can tell whether
/// a next page exists: the keyset pagination every newest-first list
/// shares. A macro because each table's `id` column is its own type.
macro_rules! newest_first {
    ($query:expr, $table:ident, $seek:expr) => {{
        let seek: $crate::Seek = $seek;
        let mut query = $query;
        if let Some(id) = seek.after {
            query = query.filter($table::id.lt(id.to_owned()));
        }
        query.order($table::id.desc()).limit(seek.limit + 1)
    }};
}

/// Runs `$body` with `$conn` bound to the connection's own backend
/// connection (`PgConnection` or `SqliteConnection`): the same query text,
/// compiled once per backend. Through `MultiConnection`, every execution
/// writes the whole statement out as SQL text again (its wrapper collects
/// binds by serialising the query); on the backend's own connection a
/// prepared statement is found by the query's type. For the reads every
/// request makes; everything else goes through `MultiConnection`.
macro_rules! on_backend {
    ($any:expr, |$conn:ident| $body:expr) => {
        match $any {
            $crate::AnyConnection::Postgresql($conn) => $body,
            $crate::AnyConnection::Sqlite($conn) => $body,
        }
    };
}

/// Reads the row `$query` selects and locks it until the write transaction
/// ends, so that the changes to what it heads are made one after another:
/// on PostgreSQL `SELECT … FOR NO KEY UPDATE` (the lock an `UPDATE` of a
/// non-key column takes, in a statement prepared once per connection; diesel
/// would plan an `UPDATE` on every call); on SQLite the plain read, the
/// write transaction's `BEGIN IMMEDIATE` holding the one write lock
/// already. `Ok(None)` when no row matches (then nothing is locked).
macro_rules! lock_row {
    ($any:expr, $query:expr) => {
        match $any {
            $crate::AnyConnection::Postgresql(conn) => $query.for_no_key_update().first(conn),
            $crate::AnyConnection::Sqlite(conn) => $query.first(conn),
        }
        .optional()
    };
}

pub mod agreements;
pub mod api_keys;
pub mod artisans;
pub mod campaigns;
pub mod collections;
pub mod collectives;
pub mod db;
pub mod departures;
pub mod directory;
pub mod error;
pub mod exchanges;
pub mod expenses;
pub mod idempotency;
pub mod impact;
pub mod market_events;
pub mod matching;
pub mod notifications;
pub mod organizations;
pub mod outbox;
pub mod partnerships;
pub mod programs;
pub mod reviews;
pub mod sales;
pub mod schema;
pub mod settlements;
pub mod shares;
pub mod skill_index;
mod sql_text;
mod sum;
pub mod tokens;
pub mod users;
pub mod webhooks;
pub mod workshops;

pub use db::{connect_pool, write_tx, AnyConnection, Pool, PoolOptions};
pub use error::StoreError;

use chrono::{NaiveDateTime, Timelike, Utc};

/// Applies pending migrations, then rebuilds derived indexes a migration
/// (or an interrupted bulk load) left stale; returns how many migrations
/// ran.
pub fn run_migrations(conn: &mut AnyConnection) -> Result<usize, String> {
    let applied = db::apply_migrations(conn)?;
    skill_index::rebuild_if_stale(conn).map_err(|e| e.to_string())?;
    Ok(applied)
}

/// The current UTC time at microsecond precision, which both databases keep
/// exactly (so a value read back equals the value written).
pub fn now() -> NaiveDateTime {
    truncate_micros(Utc::now().naive_utc())
}

/// Drops sub-microsecond precision.
pub fn truncate_micros(t: NaiveDateTime) -> NaiveDateTime {
    t.with_nanosecond(t.nanosecond() / 1_000 * 1_000)
        .unwrap_or(t)
}

/// Where one page of a keyset walk by id starts: after the row `after`
/// (the id the previous page ended at; `None` for the first page), at most
/// `limit` rows. Newest-first listings read the rows older than `after`,
/// oldest-first ones the rows newer.
#[derive(Debug, Clone, Copy)]
pub struct Seek<'a> {
    pub after: Option<&'a str>,
    pub limit: i64,
}

/// One page of a keyset walk: the rows and whether more follow.
#[derive(Debug)]
pub struct Page<T> {
    pub rows: Vec<T>,
    pub has_more: bool,
}

impl<T> Page<T> {
    /// Splits `limit + 1` fetched rows into the page and the "more" flag.
    pub fn from_overfetch(mut rows: Vec<T>, limit: i64) -> Self {
        let limit = usize::try_from(limit).unwrap_or(0);
        let has_more = rows.len() > limit;
        rows.truncate(limit);
        Self { rows, has_more }
    }

    /// The same page with each row turned into something else.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            rows: self.rows.into_iter().map(f).collect(),
            has_more: self.has_more,
        }
    }

    /// The same page with each row turned into something else, or the
    /// first failure.
    pub fn try_map<U, E>(self, f: impl FnMut(T) -> Result<U, E>) -> Result<Page<U>, E> {
        self.try_map_rows(|rows| rows.into_iter().map(f).collect())
    }

    /// The same page with all its rows turned into something else at
    /// once (one query for the whole page).
    pub fn try_map_rows<U, E>(
        self,
        f: impl FnOnce(Vec<T>) -> Result<Vec<U>, E>,
    ) -> Result<Page<U>, E> {
        Ok(Page {
            rows: f(self.rows)?,
            has_more: self.has_more,
        })
    }
}

/// The backend type of [`AnyConnection`].
pub(crate) type Backend = <AnyConnection as diesel::Connection>::Backend;

pub(crate) use sql_text::sql_text;

/// `($first, …, $first + width - 1)`, one row of placeholders.
pub(crate) fn placeholder_row(first: usize, width: usize) -> String {
    let names: Vec<String> = (first..first + width).map(|n| format!("${n}")).collect();
    format!("({})", names.join(", "))
}

/// Moves the rows that belong to one parent out of rows loaded for a
/// whole page, keeping the rest (in order) for the next parent.
pub fn take_rows<T>(rows: &mut Vec<T>, belongs: impl Fn(&T) -> bool) -> Vec<T> {
    let (taken, rest) = std::mem::take(rows).into_iter().partition(belongs);
    *rows = rest;
    taken
}

pub(crate) fn json_list(values: &[String]) -> String {
    serde_json::to_string(values).unwrap_or_else(|_| "[]".to_owned())
}

/// Reads a JSON array column; a malformed value reads as empty rather than
/// failing a whole listing.
pub fn parse_json_list(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}
