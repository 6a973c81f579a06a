//! Partner programs and applications to them. Every change to a program's
//! applications locks the program row first (`lock_row!`), so concurrent
//! decisions count the accepted ones one after the other and seats are
//! never over-filled. The rules are the domain's ([`domain::program`]).

use chrono::{NaiveDate, NaiveDateTime};
use diesel::dsl::{exists, not};
use diesel::prelude::*;
use domain::notification::NotificationKind;
use domain::precondition::Precondition;
use domain::program::{
    self as rules, Applicant, ApplicationStatus, ProgramFields, ProgramInput, ProgramKind,
    ProgramRefusal, ProgramStatus,
};
use domain::webhook::EventType;
use serde_json::json;

use crate::error::unless_taken;
use crate::notifications::{self, About};
use crate::schema::{artisans, program_applications, program_eligibility, programs};
use crate::{
    now, outbox, parse_json_list, take_rows, write_tx, AnyConnection, Page, Seek, StoreError,
};

#[derive(Debug, Clone, Queryable, Insertable, AsChangeset)]
#[diesel(table_name = programs, treat_none_as_null = true)]
pub struct ProgramRow {
    pub id: String,
    pub organization_id: String,
    pub title: String,
    pub kind: String,
    pub description: String,
    pub opens_on: NaiveDate,
    pub closes_on: NaiveDate,
    pub seats: Option<i64>,
    pub status: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

impl ProgramRow {
    pub fn status(&self) -> ProgramStatus {
        ProgramStatus::parse(&self.status).unwrap_or(ProgramStatus::Closed)
    }
    pub fn kind(&self) -> ProgramKind {
        ProgramKind::parse(&self.kind).unwrap_or(ProgramKind::Grant)
    }
}

/// A program with its eligibility lists.
#[derive(Debug, Clone)]
pub struct ProgramView {
    pub row: ProgramRow,
    pub countries: Vec<String>,
    pub crafts: Vec<String>,
}

impl ProgramView {
    fn input(&self) -> ProgramInput {
        ProgramInput {
            title: self.row.title.clone(),
            kind: self.row.kind(),
            description: self.row.description.clone(),
            countries: self.countries.clone(),
            crafts: self.crafts.clone(),
            opens_on: self.row.opens_on,
            closes_on: self.row.closes_on,
            seats: self.row.seats,
        }
    }
}

#[derive(Debug, Clone, Queryable, Insertable, AsChangeset)]
#[diesel(table_name = program_applications, treat_none_as_null = true)]
pub struct ApplicationRow {
    pub id: String,
    pub program_id: String,
    pub artisan_id: String,
    pub statement: String,
    pub status: String,
    pub decision_note: Option<String>,
    pub decided_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

impl ApplicationRow {
    pub fn status(&self) -> ApplicationStatus {
        ApplicationStatus::parse(&self.status).unwrap_or(ApplicationStatus::Withdrawn)
    }
}

const COUNTRY: &str = "country";
const CRAFT: &str = "craft";

fn write_eligibility(
    conn: &mut AnyConnection,
    program_id: &str,
    input: &ProgramInput,
) -> Result<(), StoreError> {
    diesel::delete(
        program_eligibility::table.filter(program_eligibility::program_id.eq(program_id)),
    )
    .execute(conn)?;
    for (kind, values) in [(COUNTRY, &input.countries), (CRAFT, &input.crafts)] {
        for (position, value) in values.iter().enumerate() {
            diesel::insert_into(program_eligibility::table)
                .values((
                    program_eligibility::program_id.eq(program_id),
                    program_eligibility::kind.eq(kind),
                    program_eligibility::position.eq(i32::try_from(position).unwrap_or(i32::MAX)),
                    program_eligibility::value.eq(value),
                ))
                .execute(conn)?;
        }
    }
    Ok(())
}

/// The programs with their lists: one query for the whole page.
fn views(conn: &mut AnyConnection, rows: Vec<ProgramRow>) -> Result<Vec<ProgramView>, StoreError> {
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let mut lists: Vec<(String, String, String)> = program_eligibility::table
        .filter(program_eligibility::program_id.eq_any(&ids))
        .order((
            program_eligibility::program_id.asc(),
            program_eligibility::kind.asc(),
            program_eligibility::position.asc(),
        ))
        .select((
            program_eligibility::program_id,
            program_eligibility::kind,
            program_eligibility::value,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let (countries, crafts): (Vec<_>, Vec<_>) =
                take_rows(&mut lists, |(program, _, _)| *program == row.id)
                    .into_iter()
                    .partition(|(_, kind, _)| kind == COUNTRY);
            ProgramView {
                countries: countries.into_iter().map(|(_, _, v)| v).collect(),
                crafts: crafts.into_iter().map(|(_, _, v)| v).collect(),
                row,
            }
        })
        .collect())
}

fn one(conn: &mut AnyConnection, row: ProgramRow) -> Result<ProgramView, StoreError> {
    views(conn, vec![row])?.pop().ok_or(StoreError::NotFound)
}

/// An organization publishes a program (open at once).
pub fn create(
    conn: &mut AnyConnection,
    organization_id: &str,
    fields: &ProgramFields,
) -> Result<ProgramView, StoreError> {
    write_tx(conn, |conn| {
        let input = fields.input();
        let at = now();
        let row = ProgramRow {
            id: uuid::Uuid::now_v7().to_string(),
            organization_id: organization_id.to_owned(),
            title: input.title.clone(),
            kind: input.kind.as_str().to_owned(),
            description: input.description.clone(),
            opens_on: input.opens_on,
            closes_on: input.closes_on,
            seats: input.seats,
            status: ProgramStatus::Open.as_str().to_owned(),
            created_at: at,
            updated_at: at,
            version: 1,
        };
        diesel::insert_into(programs::table)
            .values(&row)
            .execute(conn)?;
        write_eligibility(conn, &row.id, input)?;
        one(conn, row)
    })
}

fn find_row(conn: &mut AnyConnection, id: &str) -> Result<ProgramRow, StoreError> {
    programs::table
        .find(id)
        .first::<ProgramRow>(conn)
        .optional()?
        .ok_or(StoreError::NotFound)
}

/// Serialises changes to one program's applications (a row lock on
/// PostgreSQL; SQLite has one writer anyway), then reads it; another
/// organization's program (when `organization` is given) is not found.
fn lock(
    conn: &mut AnyConnection,
    id: &str,
    organization: Option<&str>,
) -> Result<ProgramRow, StoreError> {
    let row: ProgramRow = lock_row!(conn, programs::table.find(id))?.ok_or(StoreError::NotFound)?;
    if organization.is_some_and(|org| org != row.organization_id) {
        return Err(StoreError::NotFound);
    }
    Ok(row)
}

/// Who reads a program: every signed-in artisan, and its own
/// organization (another organization: not found).
#[derive(Debug, Clone)]
pub enum Reader {
    Artisan(String),
    Organization(String),
}

pub fn find(
    conn: &mut AnyConnection,
    id: &str,
    reader: &Reader,
) -> Result<ProgramView, StoreError> {
    let row = find_row(conn, id)?;
    if let Reader::Organization(org) = reader {
        if *org != row.organization_id {
            return Err(StoreError::NotFound);
        }
    }
    one(conn, row)
}

/// The organization's programs, newest first.
pub fn list_for_organization(
    conn: &mut AnyConnection,
    organization_id: &str,
    seek: Seek<'_>,
) -> Result<Page<ProgramView>, StoreError> {
    let query = programs::table
        .filter(programs::organization_id.eq(organization_id.to_owned()))
        .into_boxed();
    let rows = newest_first!(query, programs, seek).load::<ProgramRow>(conn)?;
    Page::from_overfetch(rows, seek.limit).try_map_rows(|rows| views(conn, rows))
}

/// The artisan's country and crafts, from their profile.
fn applicant(
    conn: &mut AnyConnection,
    artisan: &str,
) -> Result<(Option<String>, Vec<String>), StoreError> {
    let (country, crafts): (Option<String>, String) = artisans::table
        .find(artisan)
        .select((artisans::country, artisans::crafts))
        .first(conn)
        .optional()?
        .ok_or(StoreError::NotFound)?;
    Ok((country, parse_json_list(&crafts)))
}

/// Open programs taking applications today that the artisan is eligible
/// for (by their profile's country and crafts), newest first; eligibility
/// is part of the query.
pub fn list_open_for(
    conn: &mut AnyConnection,
    artisan: &str,
    seek: Seek<'_>,
) -> Result<Page<ProgramView>, StoreError> {
    let (country, crafts) = applicant(conn, artisan)?;
    let today = now().date();
    let listed = |kind: &'static str| {
        program_eligibility::table
            .filter(program_eligibility::program_id.eq(programs::id))
            .filter(program_eligibility::kind.eq(kind))
    };
    let query = programs::table
        .filter(programs::status.eq(ProgramStatus::Open.as_str()))
        .filter(programs::opens_on.le(today))
        .filter(programs::closes_on.ge(today))
        .filter(not(exists(listed(COUNTRY))).or(exists(
            listed(COUNTRY).filter(program_eligibility::value.eq(country.unwrap_or_default())),
        )))
        .filter(not(exists(listed(CRAFT))).or(exists(
            listed(CRAFT).filter(program_eligibility::value.eq_any(crafts)),
        )))
        .into_boxed();
    let rows = newest_first!(query, programs, seek).load::<ProgramRow>(conn)?;
    Page::from_overfetch(rows, seek.limit).try_map_rows(|rows| views(conn, rows))
}

fn accepted(conn: &mut AnyConnection, program_id: &str) -> Result<i64, StoreError> {
    Ok(program_applications::table
        .filter(program_applications::program_id.eq(program_id))
        .filter(program_applications::status.eq(ApplicationStatus::Accepted.as_str()))
        .count()
        .get_result(conn)?)
}

/// A change to a program; absent fields stay as they are.
#[derive(Debug, Clone, Default)]
pub struct ProgramPatch {
    pub title: Option<String>,
    pub kind: Option<ProgramKind>,
    pub description: Option<String>,
    pub countries: Option<Vec<String>>,
    pub crafts: Option<Vec<String>>,
    pub opens_on: Option<NaiveDate>,
    pub closes_on: Option<NaiveDate>,
    /// `Some(None)` removes the limit.
    pub seats: Option<Option<i64>>,
    pub status: Option<ProgramStatus>,
}

/// The organization edits or closes its program under optimistic
/// concurrency.
pub fn update(
    conn: &mut AnyConnection,
    id: &str,
    organization_id: &str,
    expected: &Precondition,
    patch: ProgramPatch,
) -> Result<ProgramView, StoreError> {
    write_tx(conn, |conn| {
        let row = lock(conn, id, Some(organization_id))?;
        let current = one(conn, row)?;
        let input = current.input();
        let fields = ProgramFields::parse(ProgramInput {
            title: patch.title.unwrap_or(input.title),
            kind: patch.kind.unwrap_or(input.kind),
            description: patch.description.unwrap_or(input.description),
            countries: patch.countries.unwrap_or(input.countries),
            crafts: patch.crafts.unwrap_or(input.crafts),
            opens_on: patch.opens_on.unwrap_or(input.opens_on),
            closes_on: patch.closes_on.unwrap_or(input.closes_on),
            seats: patch.seats.unwrap_or(input.seats),
        })?;
        let input = fields.input();
        let status = rules::change(
            current.row.status(),
            patch.status.unwrap_or(current.row.status()),
            input.seats,
            accepted(conn, id)?,
        )?;
        if !expected.admits(current.row.version) {
            return Err(StoreError::Stale);
        }
        let mut row = current.row;
        row.title = input.title.clone();
        row.kind = input.kind.as_str().to_owned();
        row.description = input.description.clone();
        row.opens_on = input.opens_on;
        row.closes_on = input.closes_on;
        row.seats = input.seats;
        row.status = status.as_str().to_owned();
        row.version += 1;
        row.updated_at = now();
        diesel::update(programs::table.find(id))
            .set(&row)
            .execute(conn)?;
        write_eligibility(conn, id, input)?;
        one(conn, row)
    })
}

/// An artisan applies, once, to an open program they are eligible for,
/// inside its window. `program.application.created` goes to the outbox.
pub fn apply(
    conn: &mut AnyConnection,
    program_id: &str,
    artisan: &str,
    statement: &str,
) -> Result<ApplicationRow, StoreError> {
    write_tx(conn, |conn| {
        let row = lock(conn, program_id, None)?;
        let program = one(conn, row)?;
        let (country, crafts) = applicant(conn, artisan)?;
        rules::may_apply(
            program.row.status(),
            &program.input(),
            now().date(),
            Applicant {
                country: country.as_deref(),
                crafts: &crafts,
            },
        )?;
        let at = now();
        let application = ApplicationRow {
            id: uuid::Uuid::now_v7().to_string(),
            program_id: program_id.to_owned(),
            artisan_id: artisan.to_owned(),
            statement: statement.to_owned(),
            status: ApplicationStatus::Pending.as_str().to_owned(),
            decision_note: None,
            decided_at: None,
            created_at: at,
            updated_at: at,
            version: 1,
        };
        diesel::insert_into(program_applications::table)
            .values(&application)
            .execute(conn)
            .map_err(unless_taken(ProgramRefusal::AlreadyApplied))?;
        outbox::record(
            conn,
            EventType::ProgramApplicationCreated,
            &json!({"program_id": program_id, "application_id": application.id,
                    "organization_id": program.row.organization_id}),
        )?;
        Ok(application)
    })
}

/// A program's applications, oldest first (its organization only).
pub fn applications(
    conn: &mut AnyConnection,
    program_id: &str,
    organization_id: &str,
    status: Option<ApplicationStatus>,
    seek: Seek<'_>,
) -> Result<Page<ApplicationRow>, StoreError> {
    find(
        conn,
        program_id,
        &Reader::Organization(organization_id.to_owned()),
    )?;
    let mut query = program_applications::table
        .filter(program_applications::program_id.eq(program_id.to_owned()))
        .into_boxed();
    if let Some(status) = status {
        query = query.filter(program_applications::status.eq(status.as_str()));
    }
    if let Some(id) = seek.after {
        query = query.filter(program_applications::id.gt(id.to_owned()));
    }
    let rows = query
        .order(program_applications::id.asc())
        .limit(seek.limit + 1)
        .load::<ApplicationRow>(conn)?;
    Ok(Page::from_overfetch(rows, seek.limit))
}

/// The organization accepts or rejects a pending application with a note;
/// accepting takes a seat, decided under the program's lock.
pub fn decide(
    conn: &mut AnyConnection,
    program_id: &str,
    application_id: &str,
    organization_id: &str,
    accept: bool,
    note: &str,
) -> Result<ApplicationRow, StoreError> {
    write_tx(conn, |conn| {
        let program = lock(conn, program_id, Some(organization_id))?;
        let mut application = program_applications::table
            .find(application_id)
            .filter(program_applications::program_id.eq(program_id))
            .first::<ApplicationRow>(conn)
            .optional()?
            .ok_or(StoreError::NotFound)?;
        let status = rules::decide(
            program.status(),
            application.status(),
            accept,
            program.seats,
            accepted(conn, program_id)?,
        )?;
        application.status = status.as_str().to_owned();
        application.decision_note = Some(note.to_owned());
        application.decided_at = Some(now());
        application.updated_at = now();
        application.version += 1;
        diesel::update(program_applications::table.find(application_id))
            .set(&application)
            .execute(conn)?;
        notifications::notify(
            conn,
            NotificationKind::ProgramApplicationDecided,
            vec![application.artisan_id.clone()],
            None,
            &About {
                kind: "program_application",
                id: &application.id,
                data: json!({"program_id": program_id, "title": program.title,
                             "status": application.status}),
            },
        )?;
        Ok(application)
    })
}

/// The artisan's applications with their programs' titles, newest first.
pub fn mine(
    conn: &mut AnyConnection,
    artisan: &str,
    seek: Seek<'_>,
) -> Result<Page<(ApplicationRow, String)>, StoreError> {
    let mut query = program_applications::table
        .inner_join(programs::table.on(programs::id.eq(program_applications::program_id)))
        .filter(program_applications::artisan_id.eq(artisan.to_owned()))
        .into_boxed();
    if let Some(id) = seek.after {
        query = query.filter(program_applications::id.lt(id.to_owned()));
    }
    let rows = query
        .order(program_applications::id.desc())
        .limit(seek.limit + 1)
        .select((program_applications::all_columns, programs::title))
        .load::<(ApplicationRow, String)>(conn)?;
    Ok(Page::from_overfetch(rows, seek.limit))
}

/// The artisan withdraws their own application (anyone else's: not
/// found); an accepted one frees its seat.
pub fn withdraw(
    conn: &mut AnyConnection,
    application_id: &str,
    artisan: &str,
) -> Result<ApplicationRow, StoreError> {
    write_tx(conn, |conn| {
        let program_id = program_applications::table
            .find(application_id)
            .filter(program_applications::artisan_id.eq(artisan))
            .select(program_applications::program_id)
            .first::<String>(conn)
            .optional()?
            .ok_or(StoreError::NotFound)?;
        lock(conn, &program_id, None)?;
        let mut application = program_applications::table
            .find(application_id)
            .first::<ApplicationRow>(conn)?;
        application.status = rules::withdraw(application.status())?.as_str().to_owned();
        application.updated_at = now();
        application.version += 1;
        diesel::update(program_applications::table.find(application_id))
            .set(&application)
            .execute(conn)?;
        Ok(application)
    })
}
