//! What partner organizations read of people: only artisans who consented
//! (`discoverable_by_partners`). Collectives and events are public; their
//! members and participants are listed here, and anyone who did not
//! consent is simply not there — the consent is part of each query.

use diesel::prelude::*;
use domain::market_event::ParticipantStatus;

use crate::schema::{artisans, collective_members, event_participants};
use crate::{AnyConnection, StoreError};

/// A consenting artisan listed under a collective or an event (`of`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub of: String,
    pub artisan_id: String,
    pub display_name: String,
    /// Their role in a collective (`None` for an event).
    pub role: Option<String>,
}

/// The consenting members of the collectives, by collective and name.
pub fn collective_members(
    conn: &mut AnyConnection,
    collective_ids: &[String],
) -> Result<Vec<Listed>, StoreError> {
    let rows: Vec<(String, String, String, String)> = collective_members::table
        .inner_join(artisans::table)
        .filter(collective_members::collective_id.eq_any(collective_ids))
        .filter(artisans::discoverable_by_partners.eq(true))
        .order((
            collective_members::collective_id.asc(),
            artisans::display_name.asc(),
            artisans::id.asc(),
        ))
        .select((
            collective_members::collective_id,
            artisans::id,
            artisans::display_name,
            collective_members::role,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(of, artisan_id, display_name, role)| Listed {
            of,
            artisan_id,
            display_name,
            role: Some(role),
        })
        .collect())
}

/// The consenting artisans taking part in the events, in arrival order.
pub fn event_participants(
    conn: &mut AnyConnection,
    event_ids: &[String],
) -> Result<Vec<Listed>, StoreError> {
    let rows: Vec<(String, String, String)> = event_participants::table
        .inner_join(artisans::table.on(artisans::id.eq(event_participants::artisan_id)))
        .filter(event_participants::event_id.eq_any(event_ids))
        .filter(event_participants::status.eq(ParticipantStatus::Participating.as_str()))
        .filter(artisans::discoverable_by_partners.eq(true))
        .order((
            event_participants::event_id.asc(),
            event_participants::arrival.asc(),
        ))
        .select((
            event_participants::event_id,
            artisans::id,
            artisans::display_name,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(of, artisan_id, display_name)| Listed {
            of,
            artisan_id,
            display_name,
            role: None,
        })
        .collect())
}
