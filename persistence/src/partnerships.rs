//! Partnerships and their parties.
//!
//! Visibility is part of every query ([`visible_to`]): a partnership
//! exists for a caller only as far as the visibility table of SPEC §2 lets
//! them reach ([`domain::partnership::Standing::reaches_while`]): its
//! accepted, invited and departed artisan parties and the coordinators of
//! such collective parties read it, plain members of an accepted
//! collective party read it without its money, declined parties and
//! everyone else see nothing (admins read all). A party that left reads
//! agreements and events only up to its departure ([`horizon`]). Acting
//! for a collective party (answering its invitation, adding parties,
//! editing) takes a coordinator.
//! Changes lock the partnership row first inside their write transaction
//! ([`lock`]), so concurrent acceptances are counted one after the other.

use chrono::NaiveDateTime;
use diesel::expression::{is_aggregate, BoxableExpression, ValidGrouping};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::QueryId;
use diesel::sql_types::Bool;
use diesel::sqlite::Sqlite;
use domain::collective::{CollectiveStatus, MemberRole};
use domain::notification::NotificationKind;
use domain::partnership::{
    party_status_at, read_horizon, PartnershipKind, PartnershipRefusal, PartnershipStatus,
    PartnershipText, PartnershipTextPatch, PartyStatus, Reach, Standing,
};
use domain::precondition::Precondition;
use domain::webhook::EventType;
use domain::FieldError;
use serde_json::json;

use crate::error::unless_taken;
use crate::notifications::{self, About};
use crate::schema::{artisans, collective_members, collectives, partnership_parties, partnerships};
use crate::users;
use crate::{json_list, now, parse_json_list, write_tx, AnyConnection, Page, Seek, StoreError};

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = partnerships)]
pub struct PartnershipRow {
    pub id: String,
    pub title: String,
    pub kind: String,
    pub description: String,
    pub shared_goals: String,
    pub status: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

impl PartnershipRow {
    pub fn status(&self) -> PartnershipStatus {
        PartnershipStatus::parse(&self.status).unwrap_or(PartnershipStatus::Dissolved)
    }

    pub fn text(&self) -> PartnershipText {
        PartnershipText {
            title: self.title.clone(),
            description: self.description.clone(),
            shared_goals: parse_json_list(&self.shared_goals),
        }
    }
}

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = partnership_parties)]
pub struct PartyRow {
    pub id: String,
    pub partnership_id: String,
    pub artisan_id: Option<String>,
    pub collective_id: Option<String>,
    pub status: String,
    pub invited_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub left_at: Option<NaiveDateTime>,
}

impl PartyRow {
    pub fn status(&self) -> PartyStatus {
        PartyStatus::parse(&self.status).unwrap_or(PartyStatus::Left)
    }
}

/// A party with the name shown for it (the artisan's or the collective's).
#[derive(Debug, Clone)]
pub struct Party {
    pub row: PartyRow,
    pub display_name: String,
}

/// Who is invited: an artisan or a collective.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invitee {
    Artisan(String),
    Collective(String),
}

/// Who is looking.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub id: String,
    pub admin: bool,
}

fn statuses(standing: Standing, reach: Reach) -> Vec<&'static str> {
    standing
        .reaches_while(reach)
        .iter()
        .map(|s| s.as_str())
        .collect()
}

/// The pooled connection's backend.
type AnyBackend = <AnyConnection as Connection>::Backend;

/// `partnerships.id` has a party through which the viewer reaches this
/// far: the viewer's own artisan party, a collective party they
/// coordinate, or one they are a plain member of, each in the party
/// statuses the visibility table allows.
///
/// The same expression serves the pooled connection and each backend's
/// own (where [`lock`] runs).
fn visible_to(
    viewer: &str,
    reach: Reach,
) -> impl BoxableExpression<partnerships::table, Pg, SqlType = Bool>
       + BoxableExpression<partnerships::table, Sqlite, SqlType = Bool>
       + BoxableExpression<partnerships::table, AnyBackend, SqlType = Bool>
       + ValidGrouping<(), IsAggregate = is_aggregate::Never>
       + QueryId {
    let coordinated = collective_members::table
        .filter(collective_members::artisan_id.eq(viewer.to_owned()))
        .filter(collective_members::role.eq(MemberRole::Coordinator.as_str()))
        .select(collective_members::collective_id.nullable());
    let member_of = collective_members::table
        .filter(collective_members::artisan_id.eq(viewer.to_owned()))
        .select(collective_members::collective_id.nullable());
    let as_artisan = partnership_parties::artisan_id
        .eq(viewer.to_owned())
        .and(partnership_parties::status.eq_any(statuses(Standing::Artisan, reach)));
    let as_coordinator = partnership_parties::collective_id
        .eq_any(coordinated)
        .and(partnership_parties::status.eq_any(statuses(Standing::Coordinator, reach)));
    let as_member = partnership_parties::collective_id
        .eq_any(member_of)
        .and(partnership_parties::status.eq_any(statuses(Standing::Member, reach)));
    diesel::dsl::exists(
        partnership_parties::table
            .filter(partnership_parties::partnership_id.eq(partnerships::id))
            .filter(
                as_artisan
                    .or(as_coordinator)
                    .or(as_member)
                    .assume_not_null(),
            ),
    )
}

/// The partnership, whoever looks (for internal steps that already hold
/// its lock).
pub(crate) fn find_row(conn: &mut AnyConnection, id: &str) -> Result<PartnershipRow, StoreError> {
    partnerships::table
        .find(id)
        .first::<PartnershipRow>(conn)
        .optional()?
        .ok_or(StoreError::NotFound)
}

/// The partnership if the viewer reaches it this far (`NotFound`
/// otherwise: never reveal that it exists).
pub(crate) fn find_visible(
    conn: &mut AnyConnection,
    id: &str,
    viewer: &Viewer,
    reach: Reach,
) -> Result<PartnershipRow, StoreError> {
    let mut query = partnerships::table
        .filter(partnerships::id.eq(id.to_owned()))
        .into_boxed();
    if !viewer.admin {
        query = query.filter(visible_to(&viewer.id, reach));
    }
    query
        .first::<PartnershipRow>(conn)
        .optional()?
        .ok_or(StoreError::NotFound)
}

/// The viewer's collective memberships: (collective id, role).
fn memberships_of(
    conn: &mut AnyConnection,
    viewer: &Viewer,
) -> Result<Vec<(String, MemberRole)>, StoreError> {
    let rows: Vec<(String, String)> = collective_members::table
        .filter(collective_members::artisan_id.eq(&viewer.id))
        .select((collective_members::collective_id, collective_members::role))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, role)| (id, member_role(&role)))
        .collect())
}

fn member_role(stored: &str) -> MemberRole {
    MemberRole::parse(stored).unwrap_or(MemberRole::Member)
}

/// How the viewer stands towards one party, if at all.
fn standing(
    party: &PartyRow,
    viewer: &Viewer,
    memberships: &[(String, MemberRole)],
) -> Option<Standing> {
    match (&party.artisan_id, &party.collective_id) {
        (Some(artisan), _) => (*artisan == viewer.id).then_some(Standing::Artisan),
        (None, Some(collective)) => {
            memberships
                .iter()
                .find(|(id, _)| id == collective)
                .map(|(_, role)| match role {
                    MemberRole::Coordinator => Standing::Coordinator,
                    MemberRole::Member => Standing::Member,
                })
        }
        (None, None) => None,
    }
}

fn horizon_among<'a>(
    parties: impl IntoIterator<Item = &'a PartyRow>,
    viewer: &Viewer,
    memberships: &[(String, MemberRole)],
) -> Option<Option<NaiveDateTime>> {
    read_horizon(parties.into_iter().filter_map(|party| {
        standing(party, viewer, memberships).map(|s| (s, party.status(), party.left_at))
    }))
}

/// How much of the partnership's history the viewer reads: see
/// [`Roster::horizon`].
pub fn horizon(
    conn: &mut AnyConnection,
    partnership_id: &str,
    viewer: &Viewer,
) -> Result<Option<NaiveDateTime>, StoreError> {
    if viewer.admin {
        return Ok(None);
    }
    Roster::load(conn, partnership_id, viewer)?.horizon()
}

/// One partnership's parties and the viewer's collective memberships, read
/// once (one query): enough to tell how far back the viewer reads, which
/// accepted parties they speak for, and who must sign.
pub(crate) struct Roster {
    pub(crate) parties: Vec<PartyRow>,
    memberships: Vec<(String, MemberRole)>,
    viewer: Viewer,
}

impl Roster {
    pub(crate) fn load(
        conn: &mut AnyConnection,
        partnership_id: &str,
        viewer: &Viewer,
    ) -> Result<Self, StoreError> {
        // Each party with the viewer's role in its collective, if any: the
        // memberships that matter here, in the same statement.
        let rows: Vec<(PartyRow, Option<String>)> = partnership_parties::table
            .left_join(
                collective_members::table.on(collective_members::collective_id
                    .nullable()
                    .eq(partnership_parties::collective_id)
                    .and(collective_members::artisan_id.eq(viewer.id.clone()))
                    .assume_not_null()),
            )
            .filter(partnership_parties::partnership_id.eq(partnership_id))
            .order(partnership_parties::id.asc())
            .select((
                partnership_parties::all_columns,
                collective_members::role.nullable(),
            ))
            .load(conn)?;
        let memberships = rows
            .iter()
            .filter_map(|(party, role)| {
                Some((party.collective_id.clone()?, member_role(role.as_deref()?)))
            })
            .collect();
        Ok(Self {
            parties: rows.into_iter().map(|(party, _)| party).collect(),
            memberships,
            viewer: viewer.clone(),
        })
    }

    /// See [`domain::partnership::read_horizon`]: `Ok(None)` — all of the
    /// history; `Ok(Some(t))` — up to `t`, for a reader whose parties all
    /// left; `NotFound` for someone who does not read it at all.
    pub(crate) fn horizon(&self) -> Result<Option<NaiveDateTime>, StoreError> {
        if self.viewer.admin {
            return Ok(None);
        }
        horizon_among(&self.parties, &self.viewer, &self.memberships).ok_or(StoreError::NotFound)
    }

    /// The accepted parties the viewer speaks for (their own, and those
    /// of the collectives they coordinate), oldest first.
    pub(crate) fn spoken_for(&self) -> Vec<&PartyRow> {
        self.parties
            .iter()
            .filter(|party| {
                party.status() == PartyStatus::Accepted
                    && matches!(
                        standing(party, &self.viewer, &self.memberships),
                        Some(Standing::Artisan | Standing::Coordinator)
                    )
            })
            .collect()
    }

    /// The first accepted party the viewer speaks for, or a refusal (403:
    /// they see the partnership but are not an accepted party).
    pub(crate) fn acting(&self) -> Result<&PartyRow, StoreError> {
        self.spoken_for()
            .first()
            .copied()
            .ok_or(PartnershipRefusal::NotAcceptedParty.into())
    }

    /// The ids of the accepted parties: who must sign.
    pub(crate) fn accepted(&self) -> Vec<String> {
        accepted_among(&self.parties)
    }
}

/// The ids of the accepted parties among `parties`.
pub(crate) fn accepted_among(parties: &[PartyRow]) -> Vec<String> {
    parties
        .iter()
        .filter(|p| p.status() == PartyStatus::Accepted)
        .map(|p| p.id.clone())
        .collect()
}

/// The parties of the given partnerships as the viewer sees them: as they
/// are, or — for a reader whose parties all left — as they stood when the
/// last of them left (parties added later not shown, statuses as they
/// were then).
pub fn parties_seen_by(
    conn: &mut AnyConnection,
    ids: &[String],
    viewer: &Viewer,
) -> Result<Vec<Party>, StoreError> {
    let parties = parties_of(conn, ids)?;
    if viewer.admin {
        return Ok(parties);
    }
    let memberships = memberships_of(conn, viewer)?;
    let mut out = Vec::with_capacity(parties.len());
    for id in ids {
        let of: Vec<&Party> = parties
            .iter()
            .filter(|p| p.row.partnership_id == *id)
            .collect();
        let until = horizon_among(of.iter().map(|p| &p.row), viewer, &memberships).flatten();
        for party in of {
            let mut party = party.clone();
            if let Some(t) = until {
                let row = &party.row;
                let Some(status) =
                    party_status_at(row.status(), row.created_at, row.updated_at, row.left_at, t)
                else {
                    continue;
                };
                party.row.status = status.as_str().to_owned();
                if status != PartyStatus::Left {
                    party.row.left_at = None;
                }
            }
            out.push(party);
        }
    }
    Ok(out)
}

/// The parties of the given partnerships, with names, oldest first.
pub fn parties_of(conn: &mut AnyConnection, ids: &[String]) -> Result<Vec<Party>, StoreError> {
    let rows = partnership_parties::table
        .left_join(artisans::table)
        .left_join(collectives::table)
        .filter(partnership_parties::partnership_id.eq_any(ids))
        .order(partnership_parties::id.asc())
        .select((
            partnership_parties::all_columns,
            artisans::display_name.nullable(),
            collectives::name.nullable(),
        ))
        .load::<(PartyRow, Option<String>, Option<String>)>(conn)?;
    Ok(rows
        .into_iter()
        .map(|(row, artisan, collective)| Party {
            row,
            display_name: artisan.or(collective).unwrap_or_default(),
        })
        .collect())
}

fn coordinates(
    conn: &mut AnyConnection,
    collective_id: &str,
    actor: &str,
) -> Result<bool, StoreError> {
    Ok(collective_members::table
        .find((collective_id, actor))
        .select(collective_members::role)
        .first::<String>(conn)
        .optional()?
        .is_some_and(|role| role == MemberRole::Coordinator.as_str()))
}

/// Whether `actor` speaks for `party`: the artisan themself, or a
/// coordinator of the collective.
pub(crate) fn speaks_for(
    conn: &mut AnyConnection,
    party: &PartyRow,
    actor: &str,
) -> Result<bool, StoreError> {
    match (&party.artisan_id, &party.collective_id) {
        (Some(artisan), _) => Ok(artisan == actor),
        (None, Some(collective)) => coordinates(conn, collective, actor),
        (None, None) => Ok(false),
    }
}

pub(crate) fn parties(
    conn: &mut AnyConnection,
    partnership_id: &str,
) -> Result<Vec<PartyRow>, StoreError> {
    Ok(partnership_parties::table
        .filter(partnership_parties::partnership_id.eq(partnership_id))
        .order(partnership_parties::id.asc())
        .load::<PartyRow>(conn)?)
}

/// Finds the first accepted party the viewer speaks for, or refuses (403:
/// they see the partnership but are not an accepted party).
pub(crate) fn acting_party(
    conn: &mut AnyConnection,
    partnership: &PartnershipRow,
    viewer: &Viewer,
) -> Result<PartyRow, StoreError> {
    Roster::load(conn, &partnership.id, viewer)?
        .acting()
        .cloned()
}

/// Locks the partnership row if the viewer reaches it this far and
/// returns it, in one statement: what the caller reads after it is the
/// state no concurrent change can alter before the transaction ends.
/// `NotFound` as [`find_visible`]. See `lock_row!`.
pub(crate) fn lock(
    conn: &mut AnyConnection,
    id: &str,
    viewer: &Viewer,
    reach: Reach,
) -> Result<PartnershipRow, StoreError> {
    let this = partnerships::table.find(id);
    let found: Option<PartnershipRow> = if viewer.admin {
        lock_row!(conn, this)?
    } else {
        lock_row!(conn, this.filter(visible_to(&viewer.id, reach)))?
    };
    found.ok_or(StoreError::NotFound)
}

/// Serialises changes to one partnership (see `lock_row!`), whoever
/// acts.
fn touch(conn: &mut AnyConnection, id: &str) -> Result<(), StoreError> {
    let _: Option<String> = lock_row!(conn, partnerships::table.find(id).select(partnerships::id))?;
    Ok(())
}

fn insert_party(
    conn: &mut AnyConnection,
    partnership_id: &str,
    invitee: &Invitee,
    status: PartyStatus,
    invited_by: &str,
) -> Result<PartyRow, StoreError> {
    hold_invitee(conn, invitee)?;
    let (artisan_id, collective_id) = match invitee {
        Invitee::Artisan(id) => (Some(id.clone()), None),
        Invitee::Collective(id) => (None, Some(id.clone())),
    };
    let at = now();
    let row = PartyRow {
        id: uuid::Uuid::now_v7().to_string(),
        partnership_id: partnership_id.to_owned(),
        artisan_id,
        collective_id,
        status: status.as_str().to_owned(),
        invited_by: invited_by.to_owned(),
        created_at: at,
        updated_at: at,
        left_at: None,
    };
    diesel::insert_into(partnership_parties::table)
        .values(&row)
        .execute(conn)
        .map_err(unless_taken(PartnershipRefusal::AlreadyAParty))?;
    if status == PartyStatus::Invited {
        let invited = notifications::speakers(conn, std::slice::from_ref(&row.id))?;
        notifications::notify(
            conn,
            NotificationKind::PartnershipInvitation,
            invited,
            Some(invited_by),
            &About {
                kind: "partnership",
                id: partnership_id,
                data: json!({"party_id": row.id}),
            },
        )?;
    }
    Ok(row)
}

/// Holds who is being invited until the transaction ends, so they cannot
/// close (or be archived) meanwhile: an artisan's account
/// ([`users::hold_current`]), or a collective's row, which must be active.
/// Unknown, closed or archived → 422 naming the field.
fn hold_invitee(conn: &mut AnyConnection, invitee: &Invitee) -> Result<(), StoreError> {
    match invitee {
        Invitee::Artisan(id) => users::hold_current(conn, id, "artisan_id"),
        Invitee::Collective(id) => {
            let status: Option<String> = lock_row!(
                conn,
                collectives::table.find(id).select(collectives::status)
            )?;
            match status.as_deref().and_then(CollectiveStatus::parse) {
                Some(CollectiveStatus::Active) => Ok(()),
                _ => Err(FieldError::unknown("collective_id").into()),
            }
        }
    }
}

/// Creates a partnership; the creator is an accepted party at once, each
/// invitee an invited one.
pub fn create(
    conn: &mut AnyConnection,
    kind: PartnershipKind,
    text: &PartnershipText,
    creator: &str,
    invitees: &[Invitee],
) -> Result<PartnershipRow, StoreError> {
    let at = now();
    let row = PartnershipRow {
        id: uuid::Uuid::now_v7().to_string(),
        title: text.title.clone(),
        kind: kind.as_str().to_owned(),
        description: text.description.clone(),
        shared_goals: json_list(&text.shared_goals),
        status: PartnershipStatus::Forming.as_str().to_owned(),
        created_by: creator.to_owned(),
        created_at: at,
        updated_at: at,
        version: 1,
    };
    write_tx(conn, |conn| {
        diesel::insert_into(partnerships::table)
            .values(&row)
            .execute(conn)?;
        insert_party(
            conn,
            &row.id,
            &Invitee::Artisan(creator.to_owned()),
            PartyStatus::Accepted,
            creator,
        )?;
        for invitee in invitees {
            insert_party(conn, &row.id, invitee, PartyStatus::Invited, creator)?;
        }
        Ok(row)
    })
}

pub fn find(
    conn: &mut AnyConnection,
    id: &str,
    viewer: &Viewer,
) -> Result<PartnershipRow, StoreError> {
    find_visible(conn, id, viewer, Reach::Read)
}

/// The viewer's partnerships, newest first.
pub fn list(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    status: Option<PartnershipStatus>,
    kind: Option<PartnershipKind>,
    seek: Seek<'_>,
) -> Result<Page<PartnershipRow>, StoreError> {
    let mut query = partnerships::table
        .filter(visible_to(&viewer.id, Reach::Read))
        .into_boxed();
    if let Some(status) = status {
        query = query.filter(partnerships::status.eq(status.as_str()));
    }
    if let Some(kind) = kind {
        query = query.filter(partnerships::kind.eq(kind.as_str()));
    }
    let rows = newest_first!(query, partnerships, seek).load::<PartnershipRow>(conn)?;
    Ok(Page::from_overfetch(rows, seek.limit))
}

fn set_status(
    conn: &mut AnyConnection,
    row: &mut PartnershipRow,
    status: PartnershipStatus,
) -> Result<(), StoreError> {
    if row.status() != status {
        row.status = status.as_str().to_owned();
        row.version += 1;
        row.updated_at = now();
        diesel::update(partnerships::table.find(&row.id))
            .set((
                partnerships::status.eq(&row.status),
                partnerships::version.eq(row.version),
                partnerships::updated_at.eq(row.updated_at),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The invited party (the artisan, or a coordinator for a collective)
/// accepts or declines. Two accepted parties make a forming partnership
/// active.
pub fn answer(
    conn: &mut AnyConnection,
    partnership_id: &str,
    party_id: &str,
    viewer: &Viewer,
    accept: bool,
) -> Result<PartnershipRow, StoreError> {
    write_tx(conn, |conn| {
        users::hold_actor(conn, &viewer.id)?;
        let mut partnership = lock(conn, partnership_id, viewer, Reach::Read)?;
        let party = parties(conn, partnership_id)?
            .into_iter()
            .find(|p| p.id == party_id)
            .ok_or(StoreError::NotFound)?;
        let speaks = speaks_for(conn, &party, &viewer.id)?;
        let status = party
            .status()
            .answer(speaks, partnership.status(), accept)?;
        diesel::update(partnership_parties::table.find(party_id))
            .set((
                partnership_parties::status.eq(status.as_str()),
                partnership_parties::updated_at.eq(now()),
            ))
            .execute(conn)?;
        let accepted = partnership_parties::table
            .filter(partnership_parties::partnership_id.eq(partnership_id))
            .filter(partnership_parties::status.eq(PartyStatus::Accepted.as_str()))
            .count()
            .get_result::<i64>(conn)?;
        let next = partnership.status().with_accepted(accepted);
        if next == PartnershipStatus::Active && partnership.status() != next {
            crate::outbox::record(
                conn,
                EventType::PartnershipActivated,
                &serde_json::json!({ "partnership_id": partnership.id }),
            )?;
        }
        set_status(conn, &mut partnership, next)?;
        Ok(partnership)
    })
}

/// An accepted party invites another artisan or collective.
pub fn add_party(
    conn: &mut AnyConnection,
    partnership_id: &str,
    viewer: &Viewer,
    invitee: &Invitee,
) -> Result<PartyRow, StoreError> {
    write_tx(conn, |conn| {
        // The invitee before the partnership: the order a closure takes.
        hold_invitee(conn, invitee)?;
        let partnership = lock(conn, partnership_id, viewer, Reach::Read)?;
        acting_party(conn, &partnership, viewer)?;
        partnership.status().require_open()?;
        insert_party(
            conn,
            partnership_id,
            invitee,
            PartyStatus::Invited,
            &viewer.id,
        )
    })
}

/// An accepted party edits the text or ends the partnership.
pub fn update(
    conn: &mut AnyConnection,
    partnership_id: &str,
    viewer: &Viewer,
    expected: &Precondition,
    text: PartnershipTextPatch,
    status: Option<PartnershipStatus>,
) -> Result<PartnershipRow, StoreError> {
    write_tx(conn, |conn| {
        let mut row = lock(conn, partnership_id, viewer, Reach::Read)?;
        acting_party(conn, &row, viewer)?;
        // A broken body is reported before a stale version (422 before 412).
        let mut current = row.text();
        text.apply(&mut current)?;
        if !expected.admits(row.version) {
            return Err(StoreError::Stale);
        }
        if let Some(next) = status {
            row.status().change_to(next)?;
        }
        row.title = current.title;
        row.description = current.description;
        row.shared_goals = json_list(&current.shared_goals);
        row.status = status.map_or(row.status, |s| s.as_str().to_owned());
        row.version += 1;
        row.updated_at = now();
        diesel::update(partnerships::table.find(partnership_id))
            .set((
                partnerships::title.eq(&row.title),
                partnerships::description.eq(&row.description),
                partnerships::shared_goals.eq(&row.shared_goals),
                partnerships::status.eq(&row.status),
                partnerships::version.eq(row.version),
                partnerships::updated_at.eq(row.updated_at),
            ))
            .execute(conn)?;
        Ok(row)
    })
}

/// Locks the partnership and finds one of its parties, with whether the
/// viewer speaks for it (the first step of a party leaving, in
/// `departures::leave_partnership`).
pub(crate) fn lock_party(
    conn: &mut AnyConnection,
    partnership_id: &str,
    party_id: &str,
    viewer: &Viewer,
) -> Result<(PartnershipRow, PartyRow, bool), StoreError> {
    let partnership = lock(conn, partnership_id, viewer, Reach::Read)?;
    let party = parties(conn, partnership_id)?
        .into_iter()
        .find(|p| p.id == party_id)
        .ok_or(StoreError::NotFound)?;
    let speaks = speaks_for(conn, &party, &viewer.id)?;
    Ok((partnership, party, speaks))
}

/// Marks a party as having left, now.
pub(crate) fn mark_left(conn: &mut AnyConnection, party_id: &str) -> Result<(), StoreError> {
    set_party_status(conn, party_id, PartyStatus::Left)
}

fn set_party_status(
    conn: &mut AnyConnection,
    party_id: &str,
    status: PartyStatus,
) -> Result<(), StoreError> {
    let at = now();
    diesel::update(partnership_parties::table.find(party_id))
        .set((
            partnership_parties::status.eq(status.as_str()),
            partnership_parties::updated_at.eq(at),
            partnership_parties::left_at.eq((status == PartyStatus::Left).then_some(at)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Whose party: an artisan's or a collective's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartyOwner {
    Artisan(String),
    Collective(String),
}

/// Closing an account (part of `departures::close_account`, in its
/// transaction): the parties of the person, and of collectives archived by
/// their departure, leave or decline ([`PartyStatus::on_account_closed`]),
/// each under its partnership's lock (taken in id order), so no draft waits
/// for a signature that can never come. Returns the partnerships changed.
pub(crate) fn on_parties_gone(
    conn: &mut AnyConnection,
    owners: &[PartyOwner],
) -> Result<Vec<String>, StoreError> {
    let artisans: Vec<&str> = owners
        .iter()
        .filter_map(|o| match o {
            PartyOwner::Artisan(id) => Some(id.as_str()),
            PartyOwner::Collective(_) => None,
        })
        .collect();
    let collectives: Vec<&str> = owners
        .iter()
        .filter_map(|o| match o {
            PartyOwner::Collective(id) => Some(id.as_str()),
            PartyOwner::Artisan(_) => None,
        })
        .collect();
    let gone = partnership_parties::table
        .filter(
            partnership_parties::artisan_id
                .eq_any(artisans)
                .or(partnership_parties::collective_id.eq_any(collectives)),
        )
        .order((
            partnership_parties::partnership_id.asc(),
            partnership_parties::id.asc(),
        ))
        .load::<PartyRow>(conn)?;
    let mut changed: Vec<String> = Vec::new();
    for party in gone {
        if let Some(next) = party.status().on_account_closed() {
            if changed.last() != Some(&party.partnership_id) {
                touch(conn, &party.partnership_id)?;
                changed.push(party.partnership_id.clone());
            }
            set_party_status(conn, &party.id, next)?;
        }
    }
    Ok(changed)
}
