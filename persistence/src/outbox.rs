//! The outbox: events written in the transaction of the change they
//! report, for webhook delivery to pick up.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use domain::webhook::{Audience, EventType};
use serde_json::Value;

use crate::schema::outbox;
use crate::{now, AnyConnection, StoreError};

#[derive(Debug, Clone, Queryable, QueryableByName, Insertable)]
#[diesel(table_name = outbox)]
pub struct OutboxRow {
    pub id: String,
    pub event_type: String,
    pub payload: String,
    pub created_at: NaiveDateTime,
    /// The partnership whose sharing decides who may receive the event.
    pub partnership_id: Option<String>,
    /// The one organization the event concerns.
    pub organization_id: Option<String>,
    /// When webhook dispatch handed the event to the endpoints that may
    /// receive it.
    pub dispatched_at: Option<NaiveDateTime>,
}

/// Appends an event; call it inside the change's transaction.
pub fn record(
    conn: &mut AnyConnection,
    event: EventType,
    payload: &Value,
) -> Result<(), StoreError> {
    let field = |name: &str| payload[name].as_str().map(str::to_owned);
    let (partnership_id, organization_id) = match event.audience() {
        Audience::Everyone => (None, None),
        Audience::SharedPartnership => (field("partnership_id"), None),
        Audience::Organization => (None, field("organization_id")),
    };
    let row = OutboxRow {
        id: uuid::Uuid::now_v7().to_string(),
        event_type: event.as_str().to_owned(),
        payload: payload.to_string(),
        created_at: now(),
        partnership_id,
        organization_id,
        dispatched_at: None,
    };
    diesel::insert_into(outbox::table)
        .values(&row)
        .execute(conn)?;
    Ok(())
}

/// Events of one type, oldest first (for inspection and tests).
pub fn of_type(conn: &mut AnyConnection, event: EventType) -> Result<Vec<OutboxRow>, StoreError> {
    Ok(outbox::table
        .filter(outbox::event_type.eq(event.as_str()))
        .order(outbox::id.asc())
        .load(conn)?)
}
