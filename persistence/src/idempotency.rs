//! The `Idempotency-Key` store. A key is reserved (`in_flight`), its
//! operation runs and the key is completed with the response (`done`), all
//! in the caller's one write transaction; a repeat with the same body
//! replays that response, a different body is refused. Keys are scoped per
//! principal and kept for [`RETENTION`].

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{Integer, Text, Timestamp};

use crate::db::autocommit_write;
use crate::schema::idempotency_keys;
use crate::{now, sql_text, AnyConnection, StoreError};

/// How long a completed key is remembered (at least 24 h by contract).
pub const RETENTION: Duration = Duration::hours(48);

#[derive(Debug, Clone, Queryable)]
pub struct IdempotencyRow {
    pub principal: String,
    pub idempotency_key: String,
    pub request_hash: String,
    pub state: String,
    pub response_status: Option<i32>,
    pub response_body: Option<String>,
    pub response_headers: Option<String>,
    pub created_at: NaiveDateTime,
}

/// A response stored for replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub body: String,
    /// Response headers worth replaying (`Location`, `ETag`), as a JSON
    /// object.
    pub headers: String,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Reservation {
    /// The caller owns the key now and must `complete` it in the same
    /// transaction.
    Reserved,
    /// The same request already completed: send this again.
    Replay(StoredResponse),
    /// The key was used with a different request.
    Mismatch,
}

type ByPrincipal<'a> = diesel::dsl::Filter<
    idempotency_keys::table,
    diesel::dsl::Eq<idempotency_keys::principal, &'a str>,
>;
type ByKey<'a> = diesel::dsl::Filter<
    ByPrincipal<'a>,
    diesel::dsl::Eq<idempotency_keys::idempotency_key, &'a str>,
>;

fn key_filter<'a>(principal: &'a str, key: &'a str) -> ByKey<'a> {
    idempotency_keys::table
        .filter(idempotency_keys::principal.eq(principal))
        .filter(idempotency_keys::idempotency_key.eq(key))
}

/// Reserves `key` for `principal`, inside the caller's write transaction:
/// the reservation, the operation and [`complete`] commit together or not
/// at all. A concurrent reservation of the same key waits on the key's
/// unique index until this transaction ends, then replays what it stored
/// (or, had it rolled back, reserves the key itself).
pub fn reserve(
    conn: &mut AnyConnection,
    principal: &str,
    key: &str,
    request_hash: &str,
) -> Result<Reservation, StoreError> {
    let at = now();
    let inserted = sql_text(
        "INSERT INTO idempotency_keys (principal, idempotency_key, request_hash, state, created_at) \
         VALUES ($1, $2, $3, 'in_flight', $4) ON CONFLICT DO NOTHING"
            .to_owned(),
    )
    .bind::<Text, _>(principal)
    .bind::<Text, _>(key)
    .bind::<Text, _>(request_hash)
    .bind::<Timestamp, _>(at)
    .execute(conn)?;
    if inserted == 1 {
        return Ok(Reservation::Reserved);
    }
    let Some(existing) = key_filter(principal, key)
        .first::<IdempotencyRow>(conn)
        .optional()?
    else {
        // Purged between the insert and this read: reserve it afresh.
        return reserve(conn, principal, key, request_hash);
    };
    let stored = match (
        existing.state.as_str(),
        existing.response_status,
        existing.response_body,
    ) {
        ("done", Some(status), Some(body)) => Some(StoredResponse {
            status: u16::try_from(status).unwrap_or(500),
            body,
            headers: existing.response_headers.unwrap_or_else(|| "{}".to_owned()),
        }),
        _ => None,
    };
    let expired = existing.created_at < at - RETENTION;
    let Some(stored) = stored.filter(|_| !expired) else {
        // Past its retention (not purged yet), or a reservation without an
        // answer, which no running request holds (every reservation
        // commits with its answer): the key is free again.
        diesel::update(key_filter(principal, key))
            .set((
                idempotency_keys::request_hash.eq(request_hash),
                idempotency_keys::state.eq("in_flight"),
                idempotency_keys::response_status.eq(None::<i32>),
                idempotency_keys::response_body.eq(None::<String>),
                idempotency_keys::response_headers.eq(None::<String>),
                idempotency_keys::created_at.eq(at),
            ))
            .execute(conn)?;
        return Ok(Reservation::Reserved);
    };
    if existing.request_hash != request_hash {
        return Ok(Reservation::Mismatch);
    }
    Ok(Reservation::Replay(stored))
}

/// Stores the response of a key [`reserve`]d in the same transaction, for
/// replay.
pub fn complete(
    conn: &mut AnyConnection,
    principal: &str,
    key: &str,
    response: &StoredResponse,
) -> Result<(), StoreError> {
    sql_text(
        "UPDATE idempotency_keys SET state = 'done', response_status = $1, response_body = $2, \
         response_headers = $3 WHERE principal = $4 AND idempotency_key = $5"
            .to_owned(),
    )
    .bind::<Integer, _>(i32::from(response.status))
    .bind::<Text, _>(&response.body)
    .bind::<Text, _>(&response.headers)
    .bind::<Text, _>(principal)
    .bind::<Text, _>(key)
    .execute(conn)?;
    Ok(())
}

/// Deletes keys past their retention; returns how many.
pub fn purge_expired(conn: &mut AnyConnection) -> Result<usize, StoreError> {
    Ok(autocommit_write(conn, |conn| {
        diesel::delete(
            idempotency_keys::table.filter(idempotency_keys::created_at.lt(now() - RETENTION)),
        )
        .execute(conn)
    })?)
}
