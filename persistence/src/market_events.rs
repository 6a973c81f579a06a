//! Shared market events: organised by a partnership (its accepted parties
//! act for it) or a collective (its coordinators), joined by artisans.
//!
//! Every change to an event or its participants locks the event row
//! first inside its write transaction, so arrivals are numbered one after
//! the other, two people racing for the last seat are counted in turn and
//! exactly one gets it, and a departure promotes the first on the waitlist
//! in the same transaction. The rules are the domain's
//! ([`domain::market_event`]); this module loads, asks and saves.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use domain::market_event::{
    self as rules, BoothCost, Event, EventFields, EventInput, EventKind, EventPatch, EventRefusal,
    EventStatus, ParticipantStatus,
};
use domain::money::{Currency, MinorUnits};
use domain::notification::NotificationKind;
use domain::partnership::Reach;
use domain::precondition::Precondition;
use domain::webhook::EventType;
use domain::FieldError;
use serde_json::json;

use crate::error::unless_taken;
use crate::notifications::{self, About};
use crate::partnerships::{self, Viewer};
use crate::schema::partnerships as partnerships_table;
use crate::schema::{event_participants, market_events, partnership_parties, sales};
use crate::sum::group_sum;
use crate::{collectives, outbox, users};
use crate::{now, write_tx, AnyConnection, Page, StoreError};

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = market_events)]
pub struct EventRow {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub venue: String,
    pub city: String,
    pub country: String,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub organizer_partnership_id: Option<String>,
    pub organizer_collective_id: Option<String>,
    pub booth_cost_minor: Option<i64>,
    pub booth_currency: Option<String>,
    pub capacity: Option<i64>,
    pub description: String,
    pub status: String,
    pub cancel_reason: Option<String>,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

impl EventRow {
    pub fn kind(&self) -> EventKind {
        EventKind::parse(&self.kind).unwrap_or(EventKind::PopUp)
    }

    pub fn status(&self) -> EventStatus {
        EventStatus::parse(&self.status).unwrap_or(EventStatus::Cancelled)
    }

    pub fn organizer(&self) -> Organizer {
        match (
            &self.organizer_partnership_id,
            &self.organizer_collective_id,
        ) {
            (Some(id), _) => Organizer::Partnership(id.clone()),
            (None, id) => Organizer::Collective(id.clone().unwrap_or_default()),
        }
    }

    /// The booth cost as stored (a currency the code no longer knows reads
    /// as corrupt data, never as a client error).
    pub fn booth_cost(&self) -> Result<Option<BoothCost>, StoreError> {
        match (self.booth_cost_minor, &self.booth_currency) {
            (Some(amount), Some(code)) => Ok(Some(BoothCost {
                amount: MinorUnits::new(amount),
                currency: Currency::parse("booth_cost.currency", code)
                    .map_err(|_| StoreError::Corrupt("a booth cost in an unknown currency"))?,
            })),
            _ => Ok(None),
        }
    }

    fn fields(&self) -> Result<EventFields, StoreError> {
        EventFields::parse(EventInput {
            name: self.name.clone(),
            kind: self.kind(),
            venue: self.venue.clone(),
            city: self.city.clone(),
            country: self.country.clone(),
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            booth_cost: self.booth_cost_minor.zip(self.booth_currency.clone()),
            capacity: self.capacity,
            description: self.description.clone(),
        })
        .map_err(|_| StoreError::Corrupt("stored event fields no longer parse"))
    }

    fn set_fields(&mut self, fields: &EventFields) {
        self.name = fields.name().to_owned();
        self.kind = fields.kind().as_str().to_owned();
        self.venue = fields.venue().to_owned();
        self.city = fields.city().to_owned();
        self.country = fields.country().to_owned();
        self.starts_at = fields.starts_at();
        self.ends_at = fields.ends_at();
        self.booth_cost_minor = fields.booth_cost().map(|c| c.amount.get());
        self.booth_currency = fields.booth_cost().map(|c| c.currency.code().to_owned());
        self.capacity = fields.capacity();
        self.description = fields.description().to_owned();
    }

    /// The event as its decisions see it.
    fn aggregate(&self) -> Event {
        Event {
            status: self.status(),
            starts_at: self.starts_at,
            capacity: self.capacity,
        }
    }
}

/// Who organises an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Organizer {
    Partnership(String),
    Collective(String),
}

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = event_participants)]
pub struct ParticipantRow {
    pub id: String,
    pub event_id: String,
    pub artisan_id: String,
    pub arrival: i64,
    pub status: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

impl ParticipantRow {
    pub fn status(&self) -> ParticipantStatus {
        ParticipantStatus::parse(&self.status).unwrap_or(ParticipantStatus::Left)
    }
}

/// An event with how many take part and how many wait.
#[derive(Debug, Clone)]
pub struct EventView {
    pub row: EventRow,
    pub participating: i64,
    pub waitlisted: i64,
}

/// Refuses (`NotOrganizer`, 403) unless the viewer acts for the organiser:
/// an accepted party of the organising partnership, or a coordinator of
/// the organising collective.
fn require_organizer(
    conn: &mut AnyConnection,
    organizer: &Organizer,
    viewer: &Viewer,
) -> Result<(), StoreError> {
    let acts = match organizer {
        Organizer::Partnership(id) => {
            match partnerships::find_visible(conn, id, viewer, Reach::Read) {
                Ok(partnership) => partnerships::acting_party(conn, &partnership, viewer).is_ok(),
                Err(StoreError::NotFound) => false,
                Err(other) => return Err(other),
            }
        }
        Organizer::Collective(id) => collectives::is_coordinator(conn, id, &viewer.id)?,
    };
    if acts {
        Ok(())
    } else {
        Err(EventRefusal::NotOrganizer.into())
    }
}

/// The same, for what only the organiser and the people concerned see:
/// anyone else is told it does not exist.
fn require_organizer_unseen(
    conn: &mut AnyConnection,
    organizer: &Organizer,
    viewer: &Viewer,
) -> Result<(), StoreError> {
    match require_organizer(conn, organizer, viewer) {
        Err(StoreError::Refused(_)) => Err(StoreError::NotFound),
        other => other,
    }
}

/// A read for the organiser only (cost shares, the sales summary):
/// administrators read it too, as they read every partnership's money
/// without acting for it; anyone else is told it does not exist.
fn require_organizer_reading(
    conn: &mut AnyConnection,
    organizer: &Organizer,
    viewer: &Viewer,
) -> Result<(), StoreError> {
    if viewer.admin {
        return Ok(());
    }
    require_organizer_unseen(conn, organizer, viewer)
}

/// A 422 on the field naming the organiser unless the viewer sees it.
fn require_known(
    conn: &mut AnyConnection,
    organizer: &Organizer,
    viewer: &Viewer,
) -> Result<(), StoreError> {
    let (known, field) = match organizer {
        Organizer::Partnership(id) => (
            partnerships::find_visible(conn, id, viewer, Reach::Read).map(|_| true),
            "organizer.partnership_id",
        ),
        Organizer::Collective(id) => (
            collectives::find(conn, id).map(|c| c.is_some()),
            "organizer.collective_id",
        ),
    };
    match known {
        Ok(true) => Ok(()),
        Ok(false) | Err(StoreError::NotFound) => Err(FieldError::unknown(field).into()),
        Err(other) => Err(other),
    }
}

/// Creates an event for `organizer`, which the viewer must act for (an
/// organiser they cannot see is a 422 on the field naming it, one they see
/// but do not act for a 403). Writes
/// `event.created` to the outbox.
pub fn create(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    organizer: &Organizer,
    fields: &EventFields,
) -> Result<EventView, StoreError> {
    write_tx(conn, |conn| {
        users::hold_actor(conn, &viewer.id)?;
        require_known(conn, organizer, viewer)?;
        require_organizer(conn, organizer, viewer)?;
        let at = now();
        let (partnership, collective) = match organizer {
            Organizer::Partnership(id) => (Some(id.clone()), None),
            Organizer::Collective(id) => (None, Some(id.clone())),
        };
        let mut row = EventRow {
            id: uuid::Uuid::now_v7().to_string(),
            name: String::new(),
            kind: String::new(),
            venue: String::new(),
            city: String::new(),
            country: String::new(),
            starts_at: at,
            ends_at: at,
            organizer_partnership_id: partnership,
            organizer_collective_id: collective,
            booth_cost_minor: None,
            booth_currency: None,
            capacity: None,
            description: String::new(),
            status: EventStatus::Scheduled.as_str().to_owned(),
            cancel_reason: None,
            created_by: viewer.id.clone(),
            created_at: at,
            updated_at: at,
            version: 1,
        };
        row.set_fields(fields);
        diesel::insert_into(market_events::table)
            .values(&row)
            .execute(conn)?;
        outbox::record(
            conn,
            EventType::EventCreated,
            &json!({
                "event_id": row.id,
                "name": row.name,
                "kind": row.kind,
                "city": row.city,
                "country": row.country,
                "starts_at": row.starts_at.and_utc(),
                "organizer": match organizer {
                    Organizer::Partnership(id) => json!({"partnership_id": id}),
                    Organizer::Collective(id) => json!({"collective_id": id}),
                },
            }),
        )?;
        Ok(EventView {
            row,
            participating: 0,
            waitlisted: 0,
        })
    })
}

fn find_row(conn: &mut AnyConnection, id: &str) -> Result<EventRow, StoreError> {
    market_events::table
        .find(id)
        .first::<EventRow>(conn)
        .optional()?
        .ok_or(StoreError::NotFound)
}

/// An event with its counts (events are public to signed-in users).
pub fn find(conn: &mut AnyConnection, id: &str) -> Result<EventView, StoreError> {
    let row = find_row(conn, id)?;
    one(conn, row)
}

fn one(conn: &mut AnyConnection, row: EventRow) -> Result<EventView, StoreError> {
    views(conn, vec![row])?.pop().ok_or(StoreError::NotFound)
}

/// Locks the event row (`lock_row!`: changes to it and its participants
/// one after another) and reads it.
fn lock(conn: &mut AnyConnection, id: &str) -> Result<EventRow, StoreError> {
    lock_row!(conn, market_events::table.find(id))?.ok_or(StoreError::NotFound)
}

/// Filters of the event list.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub country: Option<String>,
    pub city: Option<String>,
    pub kind: Option<EventKind>,
    pub from: Option<NaiveDateTime>,
    pub to: Option<NaiveDateTime>,
    pub organizer: Option<Organizer>,
}

/// Events by start (then id), from the keyset position `after`.
pub fn list(
    conn: &mut AnyConnection,
    filter: &EventFilter,
    after: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> Result<Page<EventView>, StoreError> {
    let mut query = market_events::table.into_boxed();
    if let Some(country) = &filter.country {
        query = query.filter(market_events::country.eq(country.clone()));
    }
    if let Some(city) = &filter.city {
        query = query.filter(market_events::city.eq(city.clone()));
    }
    if let Some(kind) = filter.kind {
        query = query.filter(market_events::kind.eq(kind.as_str()));
    }
    if let Some(from) = filter.from {
        query = query.filter(market_events::starts_at.ge(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(market_events::starts_at.lt(to));
    }
    match &filter.organizer {
        Some(Organizer::Partnership(id)) => {
            query = query.filter(market_events::organizer_partnership_id.eq(id.clone()));
        }
        Some(Organizer::Collective(id)) => {
            query = query.filter(market_events::organizer_collective_id.eq(id.clone()));
        }
        None => {}
    }
    if let Some((starts_at, id)) = after {
        query = query.filter(
            market_events::starts_at
                .gt(starts_at)
                .or(market_events::starts_at
                    .eq(starts_at)
                    .and(market_events::id.gt(id))),
        );
    }
    let rows = query
        .order((market_events::starts_at.asc(), market_events::id.asc()))
        .limit(limit + 1)
        .load::<EventRow>(conn)?;
    Page::from_overfetch(rows, limit).try_map_rows(|rows| views(conn, rows))
}

/// Adds the participant counts to each event (one grouped query).
fn views(conn: &mut AnyConnection, rows: Vec<EventRow>) -> Result<Vec<EventView>, StoreError> {
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let counts: Vec<(String, String, i64)> = event_participants::table
        .filter(event_participants::event_id.eq_any(&ids))
        .filter(event_participants::status.ne(ParticipantStatus::Left.as_str()))
        .group_by((event_participants::event_id, event_participants::status))
        .select((
            event_participants::event_id,
            event_participants::status,
            diesel::dsl::count_star(),
        ))
        .load(conn)?;
    let count = |id: &str, status: ParticipantStatus| {
        counts
            .iter()
            .find(|(e, s, _)| e == id && s == status.as_str())
            .map_or(0, |(_, _, n)| *n)
    };
    Ok(rows
        .into_iter()
        .map(|row| EventView {
            participating: count(&row.id, ParticipantStatus::Participating),
            waitlisted: count(&row.id, ParticipantStatus::Waitlisted),
            row,
        })
        .collect())
}

fn count(
    conn: &mut AnyConnection,
    event_id: &str,
    status: ParticipantStatus,
) -> Result<i64, StoreError> {
    Ok(event_participants::table
        .filter(event_participants::event_id.eq(event_id))
        .filter(event_participants::status.eq(status.as_str()))
        .count()
        .get_result(conn)?)
}

/// The organiser edits or cancels an event under optimistic concurrency.
/// A larger capacity seats the first on the waitlist.
pub fn update(
    conn: &mut AnyConnection,
    id: &str,
    viewer: &Viewer,
    expected: &Precondition,
    patch: &EventPatch,
) -> Result<EventView, StoreError> {
    write_tx(conn, |conn| {
        let mut row = lock(conn, id)?;
        require_organizer(conn, &row.organizer(), viewer)?;
        let event = row.aggregate();
        let current = row.fields()?;
        let input = patch.apply(current.to_input());
        let starts_moved = input.starts_at != current.starts_at();
        let fields = EventFields::parse(input)?;
        if starts_moved {
            rules::starts_in_future(&fields, now())?;
        }
        let participating = count(conn, id, ParticipantStatus::Participating)?;
        event.edit(&fields, participating)?;
        if !expected.admits(row.version) {
            return Err(StoreError::Stale);
        }
        row.set_fields(&fields);
        if let Some(reason) = &patch.cancel_reason {
            row.cancel_reason = Some(event.cancel(reason)?);
            row.status = EventStatus::Cancelled.as_str().to_owned();
            let concerned: Vec<String> = event_participants::table
                .filter(event_participants::event_id.eq(id))
                .filter(event_participants::status.ne(ParticipantStatus::Left.as_str()))
                .order(event_participants::arrival.asc())
                .select(event_participants::artisan_id)
                .load(conn)?;
            notifications::notify(
                conn,
                NotificationKind::EventCancelled,
                concerned,
                Some(&viewer.id),
                &About {
                    kind: "event",
                    id,
                    data: json!({"name": row.name, "cancel_reason": row.cancel_reason}),
                },
            )?;
        }
        row.version += 1;
        row.updated_at = now();
        diesel::update(market_events::table.find(id))
            .set((
                market_events::name.eq(&row.name),
                market_events::kind.eq(&row.kind),
                market_events::venue.eq(&row.venue),
                market_events::city.eq(&row.city),
                market_events::country.eq(&row.country),
                market_events::starts_at.eq(row.starts_at),
                market_events::ends_at.eq(row.ends_at),
                market_events::booth_cost_minor.eq(row.booth_cost_minor),
                market_events::booth_currency.eq(&row.booth_currency),
                market_events::capacity.eq(row.capacity),
                market_events::description.eq(&row.description),
                market_events::status.eq(&row.status),
                market_events::cancel_reason.eq(&row.cancel_reason),
                market_events::version.eq(row.version),
                market_events::updated_at.eq(row.updated_at),
            ))
            .execute(conn)?;
        if row.status() == EventStatus::Scheduled {
            let waiting = count(conn, id, ParticipantStatus::Waitlisted)?;
            promote(
                conn,
                id,
                rules::seats_to_fill(row.capacity, participating, waiting),
            )?;
        }
        one(conn, row)
    })
}

/// Seats the first `n` on the waitlist, in arrival order.
fn promote(conn: &mut AnyConnection, event_id: &str, n: i64) -> Result<(), StoreError> {
    if n <= 0 {
        return Ok(());
    }
    let first: Vec<(String, String)> = event_participants::table
        .filter(event_participants::event_id.eq(event_id))
        .filter(event_participants::status.eq(ParticipantStatus::Waitlisted.as_str()))
        .order(event_participants::arrival.asc())
        .limit(n)
        .select((event_participants::id, event_participants::artisan_id))
        .load(conn)?;
    let (ids, seated): (Vec<String>, Vec<String>) = first.into_iter().unzip();
    diesel::update(event_participants::table.filter(event_participants::id.eq_any(&ids)))
        .set((
            event_participants::status.eq(ParticipantStatus::Participating.as_str()),
            event_participants::updated_at.eq(now()),
            event_participants::version.eq(event_participants::version + 1),
        ))
        .execute(conn)?;
    notifications::notify(
        conn,
        NotificationKind::EventSeat,
        seated,
        None,
        &About {
            kind: "event",
            id: event_id,
            data: json!({}),
        },
    )
}

/// `artisan` joins at `at` (the request's time; the demo seed records
/// when people joined a past event): a seat while one is free, the
/// waitlist otherwise. Joining is refused once the event has started.
pub fn join(
    conn: &mut AnyConnection,
    event_id: &str,
    artisan: &str,
    at: NaiveDateTime,
) -> Result<ParticipantRow, StoreError> {
    write_tx(conn, |conn| {
        users::hold_actor(conn, artisan)?;
        let event = lock(conn, event_id)?;
        let taken = count(conn, event_id, ParticipantStatus::Participating)?;
        let status = event.aggregate().join(at, taken)?;
        let last: Option<i64> = event_participants::table
            .filter(event_participants::event_id.eq(event_id))
            .select(diesel::dsl::max(event_participants::arrival))
            .first(conn)?;
        let row = ParticipantRow {
            id: uuid::Uuid::now_v7().to_string(),
            event_id: event_id.to_owned(),
            artisan_id: artisan.to_owned(),
            arrival: last.unwrap_or(0) + 1,
            status: status.as_str().to_owned(),
            created_at: at,
            updated_at: at,
            version: 1,
        };
        diesel::insert_into(event_participants::table)
            .values(&row)
            .execute(conn)
            .map_err(unless_taken(EventRefusal::AlreadyParticipating))?;
        Ok(row)
    })
}

/// The current participation (not `left`) of `artisan` in the event.
fn participation(
    conn: &mut AnyConnection,
    event_id: &str,
    artisan: &str,
) -> Result<Option<ParticipantRow>, StoreError> {
    Ok(event_participants::table
        .filter(event_participants::event_id.eq(event_id))
        .filter(event_participants::artisan_id.eq(artisan))
        .filter(event_participants::status.ne(ParticipantStatus::Left.as_str()))
        .first::<ParticipantRow>(conn)
        .optional()?)
}

/// A participant leaves (or the organiser removes them) before the start;
/// a freed seat goes to the first on the waitlist. Anyone else: not found.
pub fn leave(
    conn: &mut AnyConnection,
    event_id: &str,
    artisan: &str,
    viewer: &Viewer,
    expected: &Precondition,
) -> Result<(), StoreError> {
    write_tx(conn, |conn| {
        let event = lock(conn, event_id)?;
        if artisan != viewer.id {
            require_organizer_unseen(conn, &event.organizer(), viewer)?;
        }
        let participant = participation(conn, event_id, artisan)?.ok_or(StoreError::NotFound)?;
        if !expected.admits(participant.version) {
            return Err(StoreError::Stale);
        }
        release(conn, &event, &participant)
    })
}

/// Closing an account (part of `departures::close_account`, in its
/// transaction): the person's participations in events that have not
/// started end, each freed place going to the first on the waitlist.
/// Participations in past events are records and stay.
pub(crate) fn on_account_closed(
    conn: &mut AnyConnection,
    artisan_id: &str,
) -> Result<(), StoreError> {
    let open: Vec<String> = event_participants::table
        .inner_join(market_events::table)
        .filter(event_participants::artisan_id.eq(artisan_id))
        .filter(event_participants::status.ne(ParticipantStatus::Left.as_str()))
        .filter(market_events::starts_at.gt(now()))
        .order(event_participants::event_id.asc())
        .select(event_participants::event_id)
        .load(conn)?;
    for event_id in open {
        let event = lock(conn, &event_id)?;
        // Read again under the lock: leaving may have come first.
        if let Some(participant) = participation(conn, &event_id, artisan_id)? {
            release(conn, &event, &participant)?;
        }
    }
    Ok(())
}

/// Ends a participation (the event row is locked by the caller); a freed
/// place goes to the first on the waitlist.
fn release(
    conn: &mut AnyConnection,
    event: &EventRow,
    participant: &ParticipantRow,
) -> Result<(), StoreError> {
    let frees = event.aggregate().leave(now(), participant.status())?;
    diesel::update(event_participants::table.find(&participant.id))
        .set((
            event_participants::status.eq(ParticipantStatus::Left.as_str()),
            event_participants::updated_at.eq(now()),
            event_participants::version.eq(participant.version + 1),
        ))
        .execute(conn)?;
    if frees && event.status() == EventStatus::Scheduled {
        promote(conn, &event.id, 1)?;
    }
    Ok(())
}

/// The event's participants and waitlist in arrival order (those who left
/// are not listed), after the arrival `after`.
pub fn participants(
    conn: &mut AnyConnection,
    event_id: &str,
    after: Option<i64>,
    limit: i64,
) -> Result<Page<ParticipantRow>, StoreError> {
    find_row(conn, event_id)?;
    let mut query = event_participants::table
        .filter(event_participants::event_id.eq(event_id.to_owned()))
        .filter(event_participants::status.ne(ParticipantStatus::Left.as_str()))
        .into_boxed();
    if let Some(arrival) = after {
        query = query.filter(event_participants::arrival.gt(arrival));
    }
    let rows = query
        .order(event_participants::arrival.asc())
        .limit(limit + 1)
        .load::<ParticipantRow>(conn)?;
    Ok(Page::from_overfetch(rows, limit))
}

/// The booth cost split among those taking part, in join order.
#[derive(Debug, Clone)]
pub struct CostShares {
    pub event: EventRow,
    pub booth_cost: Option<BoothCost>,
    /// `(artisan_id, share)` in join order.
    pub shares: Vec<(String, MinorUnits)>,
}

/// Cost shares, for the organiser and for those taking part or waiting
/// (anyone else: not found), read on one snapshot.
pub fn cost_shares(
    conn: &mut AnyConnection,
    event_id: &str,
    viewer: &Viewer,
) -> Result<CostShares, StoreError> {
    crate::db::read_tx(conn, |conn| {
        let event = find_row(conn, event_id)?;
        if participation(conn, event_id, &viewer.id)?.is_none() {
            require_organizer_reading(conn, &event.organizer(), viewer)?;
        }
        let participating: Vec<String> = event_participants::table
            .filter(event_participants::event_id.eq(event_id))
            .filter(event_participants::status.eq(ParticipantStatus::Participating.as_str()))
            .order(event_participants::arrival.asc())
            .select(event_participants::artisan_id)
            .load(conn)?;
        let booth_cost = event.booth_cost()?;
        let amounts = rules::cost_shares(
            booth_cost.map_or(MinorUnits::ZERO, |c| c.amount),
            participating.len(),
        );
        let shares = match booth_cost {
            Some(_) => participating.into_iter().zip(amounts).collect(),
            None => Vec::new(),
        };
        Ok(CostShares {
            event,
            booth_cost,
            shares,
        })
    })
}

/// Sales recorded against an event by one partnership in one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SalesTotal {
    pub partnership_id: String,
    pub title: String,
    pub currency: String,
    pub sales: i64,
    pub gross: i64,
    pub refunded: i64,
}

/// The event's sales per partnership and currency, summed in the database
/// (the organiser's accepted parties or coordinators; anyone else: not
/// found).
pub fn sales_summary(
    conn: &mut AnyConnection,
    event_id: &str,
    viewer: &Viewer,
) -> Result<Vec<SalesTotal>, StoreError> {
    crate::db::read_tx(conn, |conn| {
        let event = find_row(conn, event_id)?;
        require_organizer_reading(conn, &event.organizer(), viewer)?;
        let totals: Vec<(String, String, i64, i64, i64)> = sales::table
            .filter(sales::event_id.eq(event_id))
            .group_by((sales::partnership_id, sales::currency))
            .select((
                sales::partnership_id,
                sales::currency,
                diesel::dsl::count_star(),
                group_sum(sales::amount_minor),
                group_sum(sales::refunded_minor),
            ))
            .order((sales::currency.asc(), sales::partnership_id.asc()))
            .load(conn)?;
        let ids: Vec<&str> = totals.iter().map(|t| t.0.as_str()).collect();
        let titles: Vec<(String, String)> = partnerships_table::table
            .filter(partnerships_table::id.eq_any(&ids))
            .select((partnerships_table::id, partnerships_table::title))
            .load(conn)?;
        Ok(totals
            .into_iter()
            .map(
                |(partnership_id, currency, sales, gross, refunded)| SalesTotal {
                    title: titles
                        .iter()
                        .find(|(id, _)| *id == partnership_id)
                        .map(|(_, title)| title.clone())
                        .unwrap_or_default(),
                    partnership_id,
                    currency,
                    sales,
                    gross,
                    refunded,
                },
            )
            .collect())
    })
}

/// What a sale naming an event needs to know about it (see
/// [`rules::SaleTie`]): whether it exists, and whether the selling
/// partnership organises it, through itself or a collective that is one
/// of its accepted parties, or one of its accepted artisan parties takes
/// part.
pub(crate) fn tie_to_sale(
    conn: &mut AnyConnection,
    event_id: &str,
    partnership_id: &str,
) -> Result<rules::SaleTie, StoreError> {
    let Some(event) = market_events::table
        .find(event_id)
        .first::<EventRow>(conn)
        .optional()?
    else {
        return Ok(rules::SaleTie::Unknown);
    };
    let accepted = partnership_parties::table
        .filter(partnership_parties::partnership_id.eq(partnership_id))
        .filter(
            partnership_parties::status.eq(domain::partnership::PartyStatus::Accepted.as_str()),
        );
    let organises = match event.organizer() {
        Organizer::Partnership(id) => id == partnership_id,
        Organizer::Collective(id) => {
            accepted
                .filter(partnership_parties::collective_id.eq(&id))
                .count()
                .get_result::<i64>(conn)?
                > 0
        }
    };
    let takes_part = organises
        || event_participants::table
            .filter(event_participants::event_id.eq(event_id))
            .filter(event_participants::status.eq(ParticipantStatus::Participating.as_str()))
            .filter(
                event_participants::artisan_id.nullable().eq_any(
                    accepted
                        .filter(partnership_parties::artisan_id.is_not_null())
                        .select(partnership_parties::artisan_id),
                ),
            )
            .count()
            .get_result::<i64>(conn)?
            > 0;
    Ok(if takes_part {
        rules::SaleTie::Related
    } else {
        rules::SaleTie::Unrelated
    })
}
