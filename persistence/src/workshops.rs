//! Workshops: group skill sharing with a capacity, a waitlist, and
//! attendance that pays the host in the time ledger.
//!
//! Every registration change locks the workshop row first inside its
//! write transaction, so two people racing for the last seat are counted
//! one after the other and exactly one gets it; a cancellation promotes the
//! first waitlisted person in the same transaction.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use domain::exchange::{RegistrationStatus, WorkshopFields};
use domain::notification::NotificationKind;
use domain::precondition::Precondition;
use domain::webhook::EventType;
use domain::workshop::{self as rules, WorkshopRefusal};
use domain::{seats, FieldError};
use serde_json::json;

use crate::error::unless_taken;
use crate::exchanges::{transfer, Reason};
use crate::notifications::{self, About};
use crate::schema::{artisans, collective_members, collectives, workshop_registrations, workshops};
use crate::users;
use crate::{now, outbox, write_tx, AnyConnection, Page, Seek, StoreError};

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = workshops)]
pub struct WorkshopRow {
    pub id: String,
    pub host_id: String,
    pub title: String,
    pub skill: String,
    pub description: String,
    pub capacity: i64,
    pub starts_at: NaiveDateTime,
    pub duration_minutes: i64,
    pub location: Option<String>,
    pub online_url: Option<String>,
    pub collective_id: Option<String>,
    pub country: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = workshop_registrations)]
pub struct RegistrationRow {
    pub id: String,
    pub workshop_id: String,
    pub artisan_id: String,
    pub status: String,
    pub attended: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

impl RegistrationRow {
    pub fn status(&self) -> RegistrationStatus {
        RegistrationStatus::parse(&self.status).unwrap_or(RegistrationStatus::Cancelled)
    }
}

/// A workshop with how many seats are taken and how many wait.
#[derive(Debug, Clone)]
pub struct WorkshopView {
    pub row: WorkshopRow,
    pub registered: i64,
    pub waitlisted: i64,
}

/// Creates a workshop hosted by `host`; with `collective_id`, the host must
/// be a member of that collective. Writes `workshop.created` to the outbox.
pub fn create(
    conn: &mut AnyConnection,
    host: &str,
    fields: &WorkshopFields,
    starts_at: NaiveDateTime,
    collective_id: Option<&str>,
) -> Result<WorkshopRow, StoreError> {
    write_tx(conn, |conn| {
        if let Some(collective) = collective_id {
            let known = collectives::table
                .find(collective)
                .count()
                .get_result::<i64>(conn)?;
            if known == 0 {
                return Err(FieldError::unknown("collective_id").into());
            }
            let member = collective_members::table
                .find((collective, host))
                .count()
                .get_result::<i64>(conn)?;
            if member == 0 {
                return Err(WorkshopRefusal::NotCollectiveMember.into());
            }
        }
        let country = artisans::table
            .find(host)
            .select(artisans::country)
            .first::<Option<String>>(conn)?;
        let at = now();
        let row = WorkshopRow {
            id: uuid::Uuid::now_v7().to_string(),
            host_id: host.to_owned(),
            title: fields.title.clone(),
            skill: fields.skill.clone(),
            description: fields.description.clone(),
            capacity: fields.capacity,
            starts_at,
            duration_minutes: fields.duration_minutes,
            location: fields.location.clone(),
            online_url: fields.online_url.clone(),
            collective_id: collective_id.map(str::to_owned),
            country,
            created_at: at,
            updated_at: at,
            version: 1,
        };
        diesel::insert_into(workshops::table)
            .values(&row)
            .execute(conn)?;
        outbox::record(
            conn,
            EventType::WorkshopCreated,
            &json!({
                "workshop_id": row.id,
                "host_id": row.host_id,
                "skill": row.skill,
                "starts_at": row.starts_at.and_utc(),
                "collective_id": row.collective_id,
            }),
        )?;
        Ok(row)
    })
}

pub fn find(conn: &mut AnyConnection, id: &str) -> Result<WorkshopRow, StoreError> {
    workshops::table
        .find(id)
        .first::<WorkshopRow>(conn)
        .optional()?
        .ok_or(StoreError::NotFound)
}

fn lock(conn: &mut AnyConnection, id: &str) -> Result<WorkshopRow, StoreError> {
    lock_row!(conn, workshops::table.find(id))?.ok_or(StoreError::NotFound)
}

/// Filters of the workshop list.
#[derive(Debug, Clone, Default)]
pub struct WorkshopFilter {
    pub skill: Option<String>,
    pub country: Option<String>,
    pub from: Option<NaiveDateTime>,
}

/// Workshops by start time (then id), from the keyset position `after`.
pub fn list(
    conn: &mut AnyConnection,
    filter: &WorkshopFilter,
    after: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> Result<Page<WorkshopRow>, StoreError> {
    let mut query = workshops::table.into_boxed();
    if let Some(skill) = &filter.skill {
        query = query.filter(workshops::skill.eq(skill.clone()));
    }
    if let Some(country) = &filter.country {
        query = query.filter(workshops::country.eq(country.clone()));
    }
    if let Some(from) = filter.from {
        query = query.filter(workshops::starts_at.ge(from));
    }
    if let Some((starts_at, id)) = after {
        query = query.filter(
            workshops::starts_at
                .gt(starts_at)
                .or(workshops::starts_at.eq(starts_at).and(workshops::id.gt(id))),
        );
    }
    let rows = query
        .order((workshops::starts_at.asc(), workshops::id.asc()))
        .limit(limit + 1)
        .load::<WorkshopRow>(conn)?;
    Ok(Page::from_overfetch(rows, limit))
}

fn count(
    conn: &mut AnyConnection,
    workshop_id: &str,
    status: RegistrationStatus,
) -> Result<i64, StoreError> {
    Ok(workshop_registrations::table
        .filter(workshop_registrations::workshop_id.eq(workshop_id))
        .filter(workshop_registrations::status.eq(status.as_str()))
        .count()
        .get_result(conn)?)
}

/// Adds seat counts to each workshop (one grouped query for all of them).
pub fn views(
    conn: &mut AnyConnection,
    rows: Vec<WorkshopRow>,
) -> Result<Vec<WorkshopView>, StoreError> {
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let counts: Vec<(String, String, i64)> = workshop_registrations::table
        .filter(workshop_registrations::workshop_id.eq_any(&ids))
        .group_by((
            workshop_registrations::workshop_id,
            workshop_registrations::status,
        ))
        .select((
            workshop_registrations::workshop_id,
            workshop_registrations::status,
            diesel::dsl::count_star(),
        ))
        .load(conn)?;
    let count = |id: &str, status: RegistrationStatus| {
        counts
            .iter()
            .find(|(w, s, _)| w == id && s == status.as_str())
            .map_or(0, |(_, _, n)| *n)
    };
    Ok(rows
        .into_iter()
        .map(|row| WorkshopView {
            registered: count(&row.id, RegistrationStatus::Registered),
            waitlisted: count(&row.id, RegistrationStatus::Waitlisted),
            row,
        })
        .collect())
}

/// Registers `artisan`: a seat if one is free, the waitlist otherwise.
pub fn register(
    conn: &mut AnyConnection,
    workshop_id: &str,
    artisan: &str,
) -> Result<RegistrationRow, StoreError> {
    write_tx(conn, |conn| {
        users::hold_actor(conn, artisan)?;
        let workshop = lock(conn, workshop_id)?;
        rules::may_register(workshop.host_id == artisan, workshop.starts_at <= now())?;
        let taken = count(conn, workshop_id, RegistrationStatus::Registered)?;
        let status = RegistrationStatus::from(seats::assign(workshop.capacity, taken));
        let at = now();
        let row = RegistrationRow {
            id: uuid::Uuid::now_v7().to_string(),
            workshop_id: workshop_id.to_owned(),
            artisan_id: artisan.to_owned(),
            status: status.as_str().to_owned(),
            attended: false,
            created_at: at,
            updated_at: at,
            version: 1,
        };
        diesel::insert_into(workshop_registrations::table)
            .values(&row)
            .execute(conn)
            .map_err(unless_taken(WorkshopRefusal::AlreadyRegistered))?;
        Ok(row)
    })
}

/// The registrations the viewer may see: all of them for the host, their
/// own for anyone else; oldest first.
pub fn registrations(
    conn: &mut AnyConnection,
    workshop_id: &str,
    viewer: &str,
    seek: Seek<'_>,
) -> Result<Page<RegistrationRow>, StoreError> {
    let workshop = find(conn, workshop_id)?;
    let mut query = workshop_registrations::table
        .filter(workshop_registrations::workshop_id.eq(workshop_id.to_owned()))
        .into_boxed();
    if workshop.host_id != viewer {
        query = query.filter(workshop_registrations::artisan_id.eq(viewer.to_owned()));
    }
    if let Some(id) = seek.after {
        query = query.filter(workshop_registrations::id.gt(id.to_owned()));
    }
    let rows = query
        .order(workshop_registrations::id.asc())
        .limit(seek.limit + 1)
        .load::<RegistrationRow>(conn)?;
    Ok(Page::from_overfetch(rows, seek.limit))
}

/// The registrant (or the host) cancels a registration before the
/// workshop starts; a freed seat goes to the first on the waitlist.
pub fn cancel(
    conn: &mut AnyConnection,
    workshop_id: &str,
    registration_id: &str,
    viewer: &str,
    expected: &Precondition,
) -> Result<(), StoreError> {
    write_tx(conn, |conn| {
        let workshop = lock(conn, workshop_id)?;
        let registration = workshop_registrations::table
            .find(registration_id)
            .filter(workshop_registrations::workshop_id.eq(workshop_id))
            .first::<RegistrationRow>(conn)
            .optional()?
            .filter(|r| r.artisan_id == viewer || workshop.host_id == viewer)
            .ok_or(StoreError::NotFound)?;
        if !expected.admits(registration.version) {
            return Err(StoreError::Stale);
        }
        rules::may_cancel(registration.status(), workshop.starts_at <= now())?;
        release(conn, &registration)
    })
}

/// Cancels a registration (the workshop row is locked by the caller); a
/// freed seat goes to the first on the waitlist.
fn release(conn: &mut AnyConnection, registration: &RegistrationRow) -> Result<(), StoreError> {
    let at = now();
    diesel::update(workshop_registrations::table.find(&registration.id))
        .set((
            workshop_registrations::status.eq(RegistrationStatus::Cancelled.as_str()),
            workshop_registrations::updated_at.eq(at),
            workshop_registrations::version.eq(registration.version + 1),
        ))
        .execute(conn)?;
    if seats::frees_a_seat(registration.status()) {
        let first_waiting = workshop_registrations::table
            .filter(workshop_registrations::workshop_id.eq(&registration.workshop_id))
            .filter(workshop_registrations::status.eq(RegistrationStatus::Waitlisted.as_str()))
            .order(workshop_registrations::id.asc())
            .select((
                workshop_registrations::id,
                workshop_registrations::artisan_id,
            ))
            .first::<(String, String)>(conn)
            .optional()?;
        if let Some((id, artisan)) = first_waiting {
            diesel::update(workshop_registrations::table.find(&id))
                .set((
                    workshop_registrations::status.eq(RegistrationStatus::Registered.as_str()),
                    workshop_registrations::updated_at.eq(at),
                    workshop_registrations::version.eq(workshop_registrations::version + 1),
                ))
                .execute(conn)?;
            notifications::notify(
                conn,
                NotificationKind::WorkshopSeat,
                vec![artisan],
                None,
                &About {
                    kind: "workshop",
                    id: &registration.workshop_id,
                    data: json!({"registration_id": id}),
                },
            )?;
        }
    }
    Ok(())
}

/// Closing an account (part of `departures::close_account`, in its
/// transaction): the person's registrations for workshops that have not
/// started are cancelled, each promoting the first on the waitlist.
/// Registrations of past workshops are records and stay.
pub(crate) fn on_account_closed(
    conn: &mut AnyConnection,
    artisan_id: &str,
) -> Result<(), StoreError> {
    let open = workshop_registrations::table
        .inner_join(workshops::table)
        .filter(workshop_registrations::artisan_id.eq(artisan_id))
        .filter(workshop_registrations::status.ne(RegistrationStatus::Cancelled.as_str()))
        .filter(workshops::starts_at.gt(now()))
        .order(workshop_registrations::workshop_id.asc())
        .select(workshop_registrations::all_columns)
        .load::<RegistrationRow>(conn)?;
    for registration in open {
        lock(conn, &registration.workshop_id)?;
        // Read again under the lock: a cancellation may have come first.
        let current = workshop_registrations::table
            .find(&registration.id)
            .first::<RegistrationRow>(conn)?;
        if current.status() != RegistrationStatus::Cancelled {
            release(conn, &current)?;
        }
    }
    Ok(())
}

/// After the start, the host marks who attended; each new attendee pays
/// the workshop's duration to the host in the time ledger. Marking someone
/// twice (in one request or in two) changes nothing.
pub fn attendance(
    conn: &mut AnyConnection,
    workshop_id: &str,
    viewer: &str,
    artisan_ids: &[String],
) -> Result<Vec<RegistrationRow>, StoreError> {
    write_tx(conn, |conn| {
        let workshop = lock(conn, workshop_id)?;
        rules::may_record_attendance(workshop.host_id == viewer, workshop.starts_at <= now())?;
        let registered = workshop_registrations::table
            .filter(workshop_registrations::workshop_id.eq(workshop_id))
            .filter(workshop_registrations::status.eq(RegistrationStatus::Registered.as_str()))
            .order(workshop_registrations::id.asc())
            .load::<RegistrationRow>(conn)?;
        let seated: Vec<&str> = registered.iter().map(|r| r.artisan_id.as_str()).collect();
        let mut marked: Vec<RegistrationRow> = rules::attendees(&seated, artisan_ids)?
            .into_iter()
            .filter_map(|seat| registered.get(seat).cloned())
            .collect();
        for registration in &mut marked {
            if registration.attended {
                continue;
            }
            registration.attended = true;
            registration.updated_at = now();
            registration.version += 1;
            diesel::update(workshop_registrations::table.find(&registration.id))
                .set((
                    workshop_registrations::attended.eq(true),
                    workshop_registrations::updated_at.eq(registration.updated_at),
                    workshop_registrations::version.eq(registration.version),
                ))
                .execute(conn)?;
            transfer(
                conn,
                &registration.artisan_id,
                &workshop.host_id,
                workshop.duration_minutes,
                &Reason::Registration(&registration.id),
            )?;
        }
        Ok(marked)
    })
}
