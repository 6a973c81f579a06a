//! Webhook endpoints of partner organizations and the delivery of outbox
//! events to them.
//!
//! Delivery runs in three steps, each its own short transaction, so that
//! no transaction is open while a receiver is being called:
//!
//! 1. [`dispatch`] hands each new outbox event to the enabled endpoints
//!    that subscribe to its type and may see it (one `pending` delivery
//!    per endpoint and event, unique on both);
//! 2. [`claim`] takes due deliveries and leases them (moves
//!    `next_attempt_at` past the attempt's timeout); on PostgreSQL with
//!    `FOR UPDATE SKIP LOCKED`, so that several server processes never
//!    take the same delivery;
//! 3. [`record_attempt`] stores the outcome: delivered, retried later
//!    (the domain's schedule) or given up — and disables an endpoint that
//!    has failed for days.

use chrono::NaiveDateTime;
use diesel::dsl;
use diesel::prelude::*;
use diesel::sql_types::{Text, Timestamp};
use domain::precondition::Precondition;
use domain::refusal::Refusal;
use domain::webhook::{self as rules, Audience, DeliveryStatus, EndpointHealth, EventType};
use serde_json::json;

use crate::db::write_tx;
use crate::schema::{
    outbox, partnership_shares, webhook_attempts, webhook_deliveries, webhook_endpoints,
};
use crate::{now, sql_text, AnyConnection, Page, Seek, StoreError};

/// `status` of a delivery ([`DeliveryStatus`]).
pub const PENDING: &str = DeliveryStatus::Pending.as_str();
pub const SUCCEEDED: &str = DeliveryStatus::Succeeded.as_str();
pub const FAILED: &str = DeliveryStatus::Failed.as_str();
pub const CANCELLED: &str = DeliveryStatus::Cancelled.as_str();

/// The type of the message `POST /v1/webhook-endpoints/{id}/test` sends
/// (not an event anyone subscribes to).
pub const TEST_EVENT: &str = "webhook.test";

#[derive(Debug, Clone, Queryable, Insertable, AsChangeset)]
#[diesel(table_name = webhook_endpoints, treat_none_as_null = true)]
pub struct EndpointRow {
    pub id: String,
    pub organization_id: String,
    pub url: String,
    /// JSON list of event types.
    pub events: String,
    pub description: String,
    pub secret_sealed: String,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub failing_since: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

impl EndpointRow {
    fn health(&self) -> EndpointHealth {
        EndpointHealth {
            enabled: self.enabled,
            failing_since: self.failing_since,
            disabled_reason: self.disabled_reason.clone(),
        }
    }

    /// The subscribed event types (unknown stored names are skipped).
    pub fn event_types(&self) -> Vec<EventType> {
        serde_json::from_str::<Vec<String>>(&self.events)
            .unwrap_or_default()
            .iter()
            .filter_map(|e| EventType::parse(e))
            .collect()
    }

    fn subscribes(&self, event: EventType) -> bool {
        self.event_types().contains(&event)
    }
}

/// The events list as stored.
pub fn events_text(events: &[EventType]) -> String {
    json!(events.iter().map(|e| e.as_str()).collect::<Vec<_>>()).to_string()
}

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = webhook_deliveries)]
pub struct DeliveryRow {
    pub id: String,
    pub endpoint_id: String,
    pub event_id: String,
    pub event_type: String,
    pub partnership_id: Option<String>,
    pub body: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: Option<NaiveDateTime>,
    pub last_attempt_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = webhook_attempts)]
pub struct AttemptRow {
    pub id: String,
    pub delivery_id: String,
    pub attempted_at: NaiveDateTime,
    pub status_code: Option<i32>,
    pub error: Option<String>,
    pub duration_ms: i64,
}

/// A delivery with its attempts, newest attempt first.
#[derive(Debug, Clone)]
pub struct DeliveryView {
    pub delivery: DeliveryRow,
    pub attempts: Vec<AttemptRow>,
}

pub fn insert(conn: &mut AnyConnection, row: &EndpointRow) -> Result<(), StoreError> {
    diesel::insert_into(webhook_endpoints::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// An endpoint of `organization_id` (another organization's → not found).
pub fn find(
    conn: &mut AnyConnection,
    id: &str,
    organization_id: &str,
) -> Result<EndpointRow, StoreError> {
    webhook_endpoints::table
        .find(id)
        .filter(webhook_endpoints::organization_id.eq(organization_id))
        .first(conn)
        .optional()?
        .ok_or(StoreError::NotFound)
}

pub fn list(
    conn: &mut AnyConnection,
    organization_id: &str,
    seek: Seek<'_>,
) -> Result<Page<EndpointRow>, StoreError> {
    let mut query = webhook_endpoints::table
        .filter(webhook_endpoints::organization_id.eq(organization_id.to_owned()))
        .into_boxed();
    if let Some(id) = seek.after {
        query = query.filter(webhook_endpoints::id.lt(id.to_owned()));
    }
    let rows = query
        .order(webhook_endpoints::id.desc())
        .limit(seek.limit + 1)
        .load(conn)?;
    Ok(Page::from_overfetch(rows, seek.limit))
}

/// What a PATCH changes (`None`: unchanged).
#[derive(Debug, Clone, Default)]
pub struct EndpointPatch {
    pub url: Option<String>,
    pub events: Option<Vec<EventType>>,
    pub description: Option<String>,
    pub enabled: Option<bool>,
}

/// Applies `patch` if `expected` names the current version. Enabling an
/// endpoint clears why it was disabled and its failure streak.
pub fn update(
    conn: &mut AnyConnection,
    id: &str,
    organization_id: &str,
    expected: &Precondition,
    patch: EndpointPatch,
) -> Result<EndpointRow, StoreError> {
    write_tx(conn, |conn| {
        let mut row = find(conn, id, organization_id)?;
        if !expected.admits(row.version) {
            return Err(StoreError::Stale);
        }
        if let Some(url) = patch.url {
            row.url = url;
        }
        if let Some(events) = patch.events {
            row.events = events_text(&events);
        }
        if let Some(description) = patch.description {
            row.description = description;
        }
        if let Some(enabled) = patch.enabled {
            let health = row.health().set_enabled(enabled);
            row.enabled = health.enabled;
            row.failing_since = health.failing_since;
            row.disabled_reason = health.disabled_reason;
        }
        row.version += 1;
        row.updated_at = now();
        diesel::update(webhook_endpoints::table.find(id))
            .set(&row)
            .execute(conn)?;
        Ok(row)
    })
}

/// Deletes the endpoint with its deliveries and their attempts.
pub fn delete(
    conn: &mut AnyConnection,
    id: &str,
    organization_id: &str,
    expected: &Precondition,
) -> Result<(), StoreError> {
    write_tx(conn, |conn| {
        let row = find(conn, id, organization_id)?;
        if !expected.admits(row.version) {
            return Err(StoreError::Stale);
        }
        // Attempts go with their deliveries (ON DELETE CASCADE).
        diesel::delete(webhook_deliveries::table.filter(webhook_deliveries::endpoint_id.eq(id)))
            .execute(conn)?;
        let deleted = diesel::delete(
            webhook_endpoints::table
                .find(id)
                .filter(webhook_endpoints::version.eq(row.version)),
        )
        .execute(conn)?;
        if deleted == 0 {
            // Changed since it was read: the caller's version is stale.
            return Err(StoreError::Stale);
        }
        Ok(())
    })
}

/// The body of a delivery: the Standard Webhooks payload shape.
fn body(event_type: &str, at: NaiveDateTime, data: &serde_json::Value) -> String {
    json!({
        "type": event_type,
        "timestamp": at.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "data": data,
    })
    .to_string()
}

fn pending(
    endpoint_id: &str,
    event_id: &str,
    event_type: &str,
    partnership_id: Option<String>,
    body: String,
    at: NaiveDateTime,
) -> DeliveryRow {
    DeliveryRow {
        id: uuid::Uuid::now_v7().to_string(),
        endpoint_id: endpoint_id.to_owned(),
        event_id: event_id.to_owned(),
        event_type: event_type.to_owned(),
        partnership_id,
        body,
        status: PENDING.to_owned(),
        attempts: 0,
        next_attempt_at: Some(at),
        last_attempt_at: None,
        created_at: at,
    }
}

/// Queues the test message for an endpoint, due at once.
pub fn enqueue_test(
    conn: &mut AnyConnection,
    id: &str,
    organization_id: &str,
    at: NaiveDateTime,
) -> Result<DeliveryView, StoreError> {
    write_tx(conn, |conn| {
        let endpoint = find(conn, id, organization_id)?;
        endpoint.health().ready_to_send().map_err(Refusal::from)?;
        let event_id = uuid::Uuid::now_v7().to_string();
        let data = json!({"endpoint_id": endpoint.id, "organization_id": organization_id});
        let row = pending(
            &endpoint.id,
            &event_id,
            TEST_EVENT,
            None,
            body(TEST_EVENT, at, &data),
            at,
        );
        diesel::insert_into(webhook_deliveries::table)
            .values(&row)
            .execute(conn)?;
        Ok(DeliveryView {
            delivery: row,
            attempts: Vec::new(),
        })
    })
}

/// Sends a delivery again from the first attempt (a delivered one too:
/// receivers deduplicate on `webhook-id`, which stays the same).
pub fn redeliver(
    conn: &mut AnyConnection,
    endpoint_id: &str,
    delivery_id: &str,
    organization_id: &str,
    at: NaiveDateTime,
) -> Result<DeliveryView, StoreError> {
    write_tx(conn, |conn| {
        let endpoint = find(conn, endpoint_id, organization_id)?;
        endpoint.health().ready_to_send().map_err(Refusal::from)?;
        let changed =
            diesel::update(
                webhook_deliveries::table
                    .find(delivery_id)
                    .filter(webhook_deliveries::endpoint_id.eq(endpoint_id))
                    .filter(webhook_deliveries::status.ne(CANCELLED))
                    .filter(webhook_deliveries::partnership_id.is_null().or(
                        webhook_deliveries::partnership_id.eq_any(shared_with(organization_id)),
                    )),
            )
            .set((
                webhook_deliveries::status.eq(PENDING),
                webhook_deliveries::attempts.eq(0),
                webhook_deliveries::next_attempt_at.eq(Some(at)),
            ))
            .execute(conn)?;
        if changed == 0 {
            return Err(StoreError::NotFound);
        }
        delivery(conn, delivery_id)
    })
}

/// The partnerships shared with an organization now. A delivery names a
/// partnership only when its event is for the organizations that
/// partnership is shared with; once the share is revoked, the
/// organization neither sees nor has sent again what it named.
fn shared_with(
    organization_id: &str,
) -> dsl::Select<
    dsl::Filter<partnership_shares::table, dsl::Eq<partnership_shares::organization_id, String>>,
    dsl::Nullable<partnership_shares::partnership_id>,
> {
    partnership_shares::table
        .filter(partnership_shares::organization_id.eq(organization_id.to_owned()))
        .select(partnership_shares::partnership_id.nullable())
}

fn delivery(conn: &mut AnyConnection, id: &str) -> Result<DeliveryView, StoreError> {
    let row: DeliveryRow = webhook_deliveries::table.find(id).first(conn)?;
    let mut views = with_attempts(conn, vec![row])?;
    views.pop().ok_or(StoreError::NotFound)
}

/// An endpoint's deliveries, newest first, each with its attempts.
pub fn deliveries(
    conn: &mut AnyConnection,
    endpoint_id: &str,
    organization_id: &str,
    seek: Seek<'_>,
) -> Result<Page<DeliveryView>, StoreError> {
    find(conn, endpoint_id, organization_id)?;
    let mut query = webhook_deliveries::table
        .filter(webhook_deliveries::endpoint_id.eq(endpoint_id.to_owned()))
        .filter(
            webhook_deliveries::partnership_id
                .is_null()
                .or(webhook_deliveries::partnership_id.eq_any(shared_with(organization_id))),
        )
        .into_boxed();
    if let Some(id) = seek.after {
        query = query.filter(webhook_deliveries::id.lt(id.to_owned()));
    }
    let rows: Vec<DeliveryRow> = query
        .order(webhook_deliveries::id.desc())
        .limit(seek.limit + 1)
        .load(conn)?;
    let page = Page::from_overfetch(rows, seek.limit);
    page.try_map_rows(|rows| with_attempts(conn, rows))
}

fn with_attempts(
    conn: &mut AnyConnection,
    rows: Vec<DeliveryRow>,
) -> Result<Vec<DeliveryView>, StoreError> {
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let mut attempts: Vec<AttemptRow> = webhook_attempts::table
        .filter(webhook_attempts::delivery_id.eq_any(ids))
        .order(webhook_attempts::id.desc())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|delivery| {
            let mine = crate::take_rows(&mut attempts, |a| a.delivery_id == delivery.id);
            DeliveryView {
                delivery,
                attempts: mine,
            }
        })
        .collect())
}

/// Hands up to `batch` undispatched outbox events, oldest first, to the
/// endpoints that subscribe to them and may see them: a program's
/// applications to its organization, a partnership's events to the
/// organizations it is shared with, public listings to everyone. Returns
/// how many events were handed out.
pub fn dispatch(
    conn: &mut AnyConnection,
    at: NaiveDateTime,
    batch: i64,
) -> Result<usize, StoreError> {
    write_tx(conn, |conn| {
        let events: Vec<crate::outbox::OutboxRow> = if matches!(conn, AnyConnection::Postgresql(_))
        {
            sql_text(
                "SELECT id, event_type, payload, created_at, partnership_id, organization_id, dispatched_at \
                 FROM outbox WHERE dispatched_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED"
                    .to_owned(),
            )
            .bind::<diesel::sql_types::BigInt, _>(batch)
            .load(conn)?
        } else {
            outbox::table
                .filter(outbox::dispatched_at.is_null())
                .order(outbox::id.asc())
                .limit(batch)
                .load(conn)?
        };
        if events.is_empty() {
            return Ok(0);
        }
        let endpoints: Vec<EndpointRow> = webhook_endpoints::table
            .filter(webhook_endpoints::enabled.eq(true))
            .load(conn)?;
        for event in &events {
            let Some(kind) = EventType::parse(&event.event_type) else {
                continue;
            };
            let shared_with: Vec<String> = match (&event.partnership_id, kind.audience()) {
                (Some(p), Audience::SharedPartnership) => partnership_shares::table
                    .filter(partnership_shares::partnership_id.eq(p))
                    .select(partnership_shares::organization_id)
                    .load(conn)?,
                _ => Vec::new(),
            };
            let data: serde_json::Value = serde_json::from_str(&event.payload)
                .map_err(|_| StoreError::Corrupt("outbox payload"))?;
            let text = body(kind.as_str(), event.created_at, &data);
            let rows: Vec<DeliveryRow> = endpoints
                .iter()
                .filter(|e| e.subscribes(kind))
                .filter(|e| match kind.audience() {
                    Audience::Everyone => true,
                    Audience::SharedPartnership => shared_with.contains(&e.organization_id),
                    Audience::Organization => {
                        event.organization_id.as_deref() == Some(&e.organization_id)
                    }
                })
                .map(|e| {
                    pending(
                        &e.id,
                        &event.id,
                        kind.as_str(),
                        event.partnership_id.clone(),
                        text.clone(),
                        at,
                    )
                })
                .collect();
            for row in &rows {
                diesel::insert_into(webhook_deliveries::table)
                    .values(row)
                    .execute(conn)?;
            }
        }
        let ids: Vec<&str> = events.iter().map(|e| e.id.as_str()).collect();
        diesel::update(outbox::table.filter(outbox::id.eq_any(ids)))
            .set(outbox::dispatched_at.eq(Some(at)))
            .execute(conn)?;
        Ok(events.len())
    })
}

#[derive(QueryableByName)]
struct ClaimedId {
    #[diesel(sql_type = Text)]
    id: String,
}

/// A delivery taken for one attempt, with what sending it needs.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub delivery: DeliveryRow,
    pub url: String,
    pub secret_sealed: String,
}

/// Takes up to `limit` due deliveries of enabled endpoints and leases
/// them until `lease_until`: no other worker takes them before, and if
/// this one dies mid-attempt they are retried after it.
pub fn claim(
    conn: &mut AnyConnection,
    at: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: i64,
) -> Result<Vec<Claimed>, StoreError> {
    write_tx(conn, |conn| {
        let lock = if matches!(conn, AnyConnection::Postgresql(_)) {
            " FOR UPDATE OF d SKIP LOCKED"
        } else {
            ""
        };
        let ids: Vec<String> = sql_text(format!(
            "SELECT d.id AS id FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id \
             WHERE d.status = 'pending' AND d.next_attempt_at <= $1 AND e.enabled \
             ORDER BY d.next_attempt_at LIMIT $2{lock}"
        ))
        .bind::<Timestamp, _>(at)
        .bind::<diesel::sql_types::BigInt, _>(limit)
        .load::<ClaimedId>(conn)?
        .into_iter()
        .map(|c| c.id)
        .collect();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        diesel::update(webhook_deliveries::table.filter(webhook_deliveries::id.eq_any(&ids)))
            .set(webhook_deliveries::next_attempt_at.eq(Some(lease_until)))
            .execute(conn)?;
        let rows: Vec<(DeliveryRow, String, String)> = webhook_deliveries::table
            .inner_join(webhook_endpoints::table)
            .filter(webhook_deliveries::id.eq_any(&ids))
            .select((
                webhook_deliveries::all_columns,
                webhook_endpoints::url,
                webhook_endpoints::secret_sealed,
            ))
            .load(conn)?;
        Ok(rows
            .into_iter()
            .map(|(delivery, url, secret_sealed)| Claimed {
                delivery,
                url,
                secret_sealed,
            })
            .collect())
    })
}

/// The outcome of one attempt.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub at: NaiveDateTime,
    /// The receiver's status, if it answered.
    pub status_code: Option<u16>,
    /// Why it failed, if it did (timeout, refused address, non-2xx, …).
    pub error: Option<String>,
    pub duration_ms: i64,
    /// A random number in [0, 1) for the retry's jitter.
    pub jitter: f64,
}

/// Stores an attempt's outcome: the delivery is done, due again after the
/// domain's backoff, or given up after the last attempt — and a given-up
/// delivery of an endpoint failing for days disables the endpoint.
pub fn record_attempt(
    conn: &mut AnyConnection,
    delivery_id: &str,
    attempt: &Attempt,
) -> Result<(), StoreError> {
    write_tx(conn, |conn| {
        let row: DeliveryRow = webhook_deliveries::table.find(delivery_id).first(conn)?;
        diesel::insert_into(webhook_attempts::table)
            .values(&AttemptRow {
                id: uuid::Uuid::now_v7().to_string(),
                delivery_id: delivery_id.to_owned(),
                attempted_at: attempt.at,
                status_code: attempt.status_code.map(i32::from),
                error: attempt.error.clone(),
                duration_ms: attempt.duration_ms,
            })
            .execute(conn)?;
        let endpoint: EndpointRow = webhook_endpoints::table
            .find(&row.endpoint_id)
            .first(conn)?;
        let after = rules::after_attempt(
            row.attempts.unsigned_abs(),
            rules::delivered(attempt.status_code, attempt.error.as_deref()),
            attempt.at,
            attempt.jitter,
            endpoint.health(),
        );
        // A delivery cancelled meanwhile (its share revoked while the
        // attempt was under way) stays cancelled.
        diesel::update(
            webhook_deliveries::table
                .find(delivery_id)
                .filter(webhook_deliveries::status.ne(CANCELLED)),
        )
        .set((
            webhook_deliveries::attempts.eq(i32::try_from(after.attempts).unwrap_or(i32::MAX)),
            webhook_deliveries::status.eq(after.status.as_str()),
            webhook_deliveries::next_attempt_at.eq(after.next_attempt_at),
            webhook_deliveries::last_attempt_at.eq(Some(attempt.at)),
        ))
        .execute(conn)?;
        diesel::update(webhook_endpoints::table.find(&row.endpoint_id))
            .set((
                webhook_endpoints::failing_since.eq(after.endpoint.failing_since),
                webhook_endpoints::enabled.eq(after.endpoint.enabled),
                webhook_endpoints::disabled_reason.eq(after.endpoint.disabled_reason),
            ))
            .execute(conn)?;
        Ok(())
    })
}

/// Cancels what is still to be sent of a partnership's events to an
/// organization whose share was just revoked (inside the revoking
/// transaction).
pub fn cancel_for_share(
    conn: &mut AnyConnection,
    partnership_id: &str,
    organization_id: &str,
) -> Result<(), StoreError> {
    let endpoints = webhook_endpoints::table
        .filter(webhook_endpoints::organization_id.eq(organization_id.to_owned()))
        .select(webhook_endpoints::id);
    diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::partnership_id.eq(partnership_id))
            .filter(webhook_deliveries::status.eq(PENDING))
            .filter(webhook_deliveries::endpoint_id.eq_any(endpoints)),
    )
    .set((
        webhook_deliveries::status.eq(CANCELLED),
        webhook_deliveries::next_attempt_at.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)?;
    Ok(())
}

/// Deletes dispatched outbox events and finished deliveries (with their
/// attempts) older than `before`. Returns (events, deliveries) deleted.
pub fn prune(
    conn: &mut AnyConnection,
    before: NaiveDateTime,
) -> Result<(usize, usize), StoreError> {
    write_tx(conn, |conn| {
        let events = diesel::delete(
            outbox::table
                .filter(outbox::dispatched_at.is_not_null())
                .filter(outbox::dispatched_at.lt(Some(before))),
        )
        .execute(conn)?;
        let deliveries = diesel::delete(
            webhook_deliveries::table
                .filter(webhook_deliveries::status.ne(PENDING))
                .filter(webhook_deliveries::created_at.lt(before)),
        )
        .execute(conn)?;
        Ok((events, deliveries))
    })
}
