//! The outbox: events written in the transaction of the change they
//! report, for webhook delivery to pick up.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use domain::webhook::EventType;
use serde_json::Value;

use crate::schema::outbox;
use crate::{now, AnyConnection, StoreError};

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = outbox)]
pub struct OutboxRow {
    pub id: String,
    pub event_type: String,
    pub payload: String,
    pub created_at: NaiveDateTime,
}

/// Appends an event; call it inside the change's transaction.
pub fn record(
    conn: &mut AnyConnection,
    event: EventType,
    payload: &Value,
) -> Result<(), StoreError> {
    let row = OutboxRow {
        id: uuid::Uuid::now_v7().to_string(),
        event_type: event.as_str().to_owned(),
        payload: payload.to_string(),
        created_at: now(),
    };
    diesel::insert_into(outbox::table)
        .values(&row)
        .execute(conn)?;
    Ok(())
}

/// Events of one type, oldest first (for inspection and tests; delivery
/// comes with the webhook workers).
pub fn of_type(conn: &mut AnyConnection, event: EventType) -> Result<Vec<OutboxRow>, StoreError> {
    Ok(outbox::table
        .filter(outbox::event_type.eq(event.as_str()))
        .order(outbox::id.asc())
        .load(conn)?)
}
