//! The `Idempotency-Key` store. A key is reserved (`in_flight`) before the
//! operation runs and completed with the response afterwards; a repeat
//! with the same body replays that response, a different body is refused,
//! and a repeat while the first is still running is told so. Keys are
//! scoped per principal and kept for [`RETENTION`].

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use crate::db::autocommit_write;
use crate::schema::idempotency_keys;
use crate::{now, AnyConnection, StoreError};

/// How long a completed key is remembered (at least 24 h by contract).
pub const RETENTION: Duration = Duration::hours(48);
/// An `in_flight` reservation older than this belongs to a request that
/// died (crash, lost connection); a retry may take it over.
pub const ABANDONED_AFTER: Duration = Duration::seconds(60);

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
    /// The caller owns the key now and must `complete` or `release` it.
    Reserved,
    /// The same request already completed: send this again.
    Replay(StoredResponse),
    /// The first request with this key is still running.
    InFlight,
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

/// Reserves `key` for `principal`. Each statement commits on its own: a
/// failed insert must not poison a surrounding PostgreSQL transaction.
pub fn reserve(
    conn: &mut AnyConnection,
    principal: &str,
    key: &str,
    request_hash: &str,
) -> Result<Reservation, StoreError> {
    autocommit_write(conn, |conn| reserve_now(conn, principal, key, request_hash))
}

fn reserve_now(
    conn: &mut AnyConnection,
    principal: &str,
    key: &str,
    request_hash: &str,
) -> Result<Reservation, StoreError> {
    let at = now();
    let inserted = diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::principal.eq(principal),
            idempotency_keys::idempotency_key.eq(key),
            idempotency_keys::request_hash.eq(request_hash),
            idempotency_keys::state.eq("in_flight"),
            idempotency_keys::created_at.eq(at),
        ))
        .execute(conn);
    match inserted {
        Ok(_) => return Ok(Reservation::Reserved),
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {}
        Err(other) => return Err(other.into()),
    }
    let Some(existing) = key_filter(principal, key)
        .first::<IdempotencyRow>(conn)
        .optional()?
    else {
        // Released between our insert and this read: the caller may retry.
        return Ok(Reservation::InFlight);
    };
    let expired = existing.created_at < at - RETENTION;
    let abandoned = existing.state == "in_flight" && existing.created_at < at - ABANDONED_AFTER;
    if expired || abandoned {
        // Take the key over, but only if nobody else did in the meantime.
        let taken = diesel::update(
            key_filter(principal, key).filter(idempotency_keys::created_at.eq(existing.created_at)),
        )
        .set((
            idempotency_keys::request_hash.eq(request_hash),
            idempotency_keys::state.eq("in_flight"),
            idempotency_keys::response_status.eq(None::<i32>),
            idempotency_keys::response_body.eq(None::<String>),
            idempotency_keys::response_headers.eq(None::<String>),
            idempotency_keys::created_at.eq(at),
        ))
        .execute(conn)?;
        return Ok(if taken == 1 {
            Reservation::Reserved
        } else {
            Reservation::InFlight
        });
    }
    if existing.request_hash != request_hash {
        return Ok(Reservation::Mismatch);
    }
    match (
        existing.state.as_str(),
        existing.response_status,
        existing.response_body,
    ) {
        ("done", Some(status), Some(body)) => Ok(Reservation::Replay(StoredResponse {
            status: u16::try_from(status).unwrap_or(500),
            body,
            headers: existing.response_headers.unwrap_or_else(|| "{}".to_owned()),
        })),
        _ => Ok(Reservation::InFlight),
    }
}

/// Stores the response of a reserved key for replay.
pub fn complete(
    conn: &mut AnyConnection,
    principal: &str,
    key: &str,
    response: &StoredResponse,
) -> Result<(), StoreError> {
    autocommit_write(conn, |conn| {
        diesel::update(key_filter(principal, key))
            .set((
                idempotency_keys::state.eq("done"),
                idempotency_keys::response_status.eq(Some(i32::from(response.status))),
                idempotency_keys::response_body.eq(Some(&response.body)),
                idempotency_keys::response_headers.eq(Some(&response.headers)),
            ))
            .execute(conn)
    })?;
    Ok(())
}

/// Frees a reserved key after the operation failed, so a retry runs anew.
pub fn release(conn: &mut AnyConnection, principal: &str, key: &str) -> Result<(), StoreError> {
    autocommit_write(conn, |conn| {
        diesel::delete(key_filter(principal, key).filter(idempotency_keys::state.eq("in_flight")))
            .execute(conn)
    })?;
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
