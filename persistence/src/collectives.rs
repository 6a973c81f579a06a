//! Collectives, their members and join applications.
//!
//! Every membership change first locks the collective row inside its
//! write transaction (`lock_row!`). On PostgreSQL that row lock serialises
//! concurrent changes to one collective (SQLite serialises all writers
//! anyway), so the coordinator count read afterwards is current: two
//! coordinators demoting each other at the same moment cannot leave a
//! collective without one.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use domain::collective::{
    self as rules, ApplicationStatus, CollectiveFields, CollectivePatch, CollectiveStatus,
    Decision, Departure, InvitationStatus, MemberRole, MembershipPolicy, MembershipRefusal,
};
use domain::notification::NotificationKind;
use domain::precondition::Precondition;
use serde_json::json;

use crate::error::unless_taken;
use crate::notifications::{self, About};
use crate::schema::{
    artisans, collective_applications, collective_crafts, collective_invitations,
    collective_members, collectives,
};
use crate::users;
use crate::{json_list, now, parse_json_list, write_tx, AnyConnection, Page, Seek, StoreError};

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = collectives)]
pub struct CollectiveRow {
    pub id: String,
    pub name: String,
    pub search_text: String,
    pub description: String,
    pub crafts: String,
    pub country: Option<String>,
    pub region: Option<String>,
    pub membership_policy: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
    pub status: String,
}

impl CollectiveRow {
    pub fn status(&self) -> CollectiveStatus {
        CollectiveStatus::parse(&self.status).unwrap_or(CollectiveStatus::Archived)
    }

    pub fn fields(&self) -> CollectiveFields {
        CollectiveFields {
            name: self.name.clone(),
            description: self.description.clone(),
            crafts: parse_json_list(&self.crafts),
            country: self.country.clone(),
            region: self.region.clone(),
            membership_policy: MembershipPolicy::parse(&self.membership_policy)
                .unwrap_or(MembershipPolicy::InviteOnly),
        }
    }

    fn set_fields(&mut self, f: &CollectiveFields) {
        self.name = f.name.clone();
        self.search_text = format!("{}\n{}", f.name, f.description).to_lowercase();
        self.description = f.description.clone();
        self.crafts = json_list(&f.crafts);
        self.country = f.country.clone();
        self.region = f.region.clone();
        self.membership_policy = f.membership_policy.as_str().to_owned();
    }
}

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = collective_members)]
pub struct MemberRow {
    pub collective_id: String,
    pub artisan_id: String,
    pub role: String,
    pub joined_at: NaiveDateTime,
    pub version: i64,
}

impl MemberRow {
    pub fn role(&self) -> MemberRole {
        MemberRole::parse(&self.role).unwrap_or(MemberRole::Member)
    }
}

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = collective_applications)]
pub struct ApplicationRow {
    pub id: String,
    pub collective_id: String,
    pub artisan_id: String,
    pub message: String,
    pub status: String,
    pub decided_by: Option<String>,
    pub decision_note: Option<String>,
    pub created_at: NaiveDateTime,
    pub decided_at: Option<NaiveDateTime>,
    pub version: i64,
}

impl ApplicationRow {
    pub fn status(&self) -> ApplicationStatus {
        ApplicationStatus::parse(&self.status).unwrap_or(ApplicationStatus::Withdrawn)
    }
}

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = collective_invitations)]
pub struct InvitationRow {
    pub id: String,
    pub collective_id: String,
    pub artisan_id: String,
    pub message: String,
    pub status: String,
    pub invited_by: String,
    pub created_at: NaiveDateTime,
    pub answered_at: Option<NaiveDateTime>,
    pub version: i64,
}

impl InvitationRow {
    pub fn status(&self) -> InvitationStatus {
        InvitationStatus::parse(&self.status).unwrap_or(InvitationStatus::Withdrawn)
    }
}

/// An invitation with the collective's name (what the invitee sees).
pub type InvitationWithName = (InvitationRow, String);

fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

fn write_crafts(conn: &mut AnyConnection, id: &str, crafts: &[String]) -> Result<(), StoreError> {
    diesel::delete(collective_crafts::table.filter(collective_crafts::collective_id.eq(id)))
        .execute(conn)?;
    for craft in crafts {
        diesel::insert_into(collective_crafts::table)
            .values((
                collective_crafts::craft.eq(craft),
                collective_crafts::collective_id.eq(id),
            ))
            .execute(conn)?;
    }
    Ok(())
}

fn insert_member(
    conn: &mut AnyConnection,
    collective_id: &str,
    artisan_id: &str,
    role: MemberRole,
) -> Result<MemberRow, StoreError> {
    let at = now();
    let row = MemberRow {
        collective_id: collective_id.to_owned(),
        artisan_id: artisan_id.to_owned(),
        role: role.as_str().to_owned(),
        joined_at: at,
        version: 1,
    };
    diesel::insert_into(collective_members::table)
        .values(&row)
        .execute(conn)
        .map_err(unless_taken(MembershipRefusal::AlreadyMember))?;
    // Joined one way, the other open way in is closed.
    withdraw_open(conn, Some(collective_id), Some(artisan_id))?;
    Ok(row)
}

/// Withdraws pending applications and open invitations: of one artisan,
/// to one collective, or both.
fn withdraw_open(
    conn: &mut AnyConnection,
    collective: Option<&str>,
    artisan: Option<&str>,
) -> Result<(), StoreError> {
    let at = now();
    let mut applications = diesel::update(collective_applications::table)
        .filter(collective_applications::status.eq(ApplicationStatus::Pending.as_str()))
        .into_boxed();
    let mut invitations = diesel::update(collective_invitations::table)
        .filter(collective_invitations::status.eq(InvitationStatus::Invited.as_str()))
        .into_boxed();
    if let Some(c) = collective {
        applications = applications.filter(collective_applications::collective_id.eq(c.to_owned()));
        invitations = invitations.filter(collective_invitations::collective_id.eq(c.to_owned()));
    }
    if let Some(a) = artisan {
        applications = applications.filter(collective_applications::artisan_id.eq(a.to_owned()));
        invitations = invitations.filter(collective_invitations::artisan_id.eq(a.to_owned()));
    }
    applications
        .set((
            collective_applications::status.eq(ApplicationStatus::Withdrawn.as_str()),
            collective_applications::decided_at.eq(Some(at)),
            collective_applications::version.eq(collective_applications::version + 1),
        ))
        .execute(conn)?;
    invitations
        .set((
            collective_invitations::status.eq(InvitationStatus::Withdrawn.as_str()),
            collective_invitations::answered_at.eq(Some(at)),
            collective_invitations::version.eq(collective_invitations::version + 1),
        ))
        .execute(conn)?;
    Ok(())
}

/// Creates a collective with its creator as the first coordinator.
pub fn create(
    conn: &mut AnyConnection,
    fields: &CollectiveFields,
    creator: &str,
) -> Result<CollectiveRow, StoreError> {
    let at = now();
    let mut row = CollectiveRow {
        id: new_id(),
        name: String::new(),
        search_text: String::new(),
        description: String::new(),
        crafts: String::new(),
        country: None,
        region: None,
        membership_policy: String::new(),
        created_by: creator.to_owned(),
        created_at: at,
        updated_at: at,
        version: 1,
        status: CollectiveStatus::Active.as_str().to_owned(),
    };
    row.set_fields(fields);
    write_tx(conn, |conn| {
        diesel::insert_into(collectives::table)
            .values(&row)
            .execute(conn)?;
        write_crafts(conn, &row.id, &fields.crafts)?;
        insert_member(conn, &row.id, creator, MemberRole::Coordinator)?;
        Ok(row)
    })
}

pub fn find(conn: &mut AnyConnection, id: &str) -> Result<Option<CollectiveRow>, StoreError> {
    Ok(collectives::table
        .find(id)
        .first::<CollectiveRow>(conn)
        .optional()?)
}

/// The caller's membership, if any.
pub fn membership(
    conn: &mut AnyConnection,
    collective_id: &str,
    artisan_id: &str,
) -> Result<Option<MemberRow>, StoreError> {
    Ok(collective_members::table
        .find((collective_id, artisan_id))
        .first::<MemberRow>(conn)
        .optional()?)
}

pub(crate) fn is_coordinator(
    conn: &mut AnyConnection,
    collective_id: &str,
    artisan_id: &str,
) -> Result<bool, StoreError> {
    Ok(membership(conn, collective_id, artisan_id)?
        .is_some_and(|m| m.role() == MemberRole::Coordinator))
}

/// Serialises membership changes of one collective (see the module docs).
/// Unknown collective → `NotFound`.
fn lock(conn: &mut AnyConnection, collective_id: &str) -> Result<CollectiveRow, StoreError> {
    lock_row!(conn, collectives::table.find(collective_id))?.ok_or(StoreError::NotFound)
}

/// Refuses (`NotCoordinator`) unless `actor` coordinates.
fn require_coordinator(
    conn: &mut AnyConnection,
    collective_id: &str,
    actor: &str,
) -> Result<(), StoreError> {
    if is_coordinator(conn, collective_id, actor)? {
        Ok(())
    } else {
        Err(MembershipRefusal::NotCoordinator.into())
    }
}

/// Not found unless the collective exists; refused unless `actor`
/// coordinates it.
fn require_coordinator_of(
    conn: &mut AnyConnection,
    collective_id: &str,
    actor: &str,
) -> Result<(), StoreError> {
    find(conn, collective_id)?.ok_or(StoreError::NotFound)?;
    require_coordinator(conn, collective_id, actor)
}

/// Edits a collective: coordinators only, under optimistic concurrency.
/// The domain validates `patch` against the current fields and applies it.
pub fn update(
    conn: &mut AnyConnection,
    id: &str,
    actor: &str,
    expected: &Precondition,
    patch: CollectivePatch,
) -> Result<CollectiveRow, StoreError> {
    write_tx(conn, |conn| {
        let mut row = find(conn, id)?.ok_or(StoreError::NotFound)?;
        require_coordinator(conn, id, actor)?;
        row.status().require_active().map_err(StoreError::from)?;
        // A broken body is reported before a stale version (422 before 412).
        let mut fields = row.fields();
        patch.apply(&mut fields).map_err(StoreError::Invalid)?;
        if !expected.admits(row.version) {
            return Err(StoreError::Stale);
        }
        let read_version = row.version;
        row.set_fields(&fields);
        row.updated_at = now();
        row.version = read_version + 1;
        let changed: usize = diesel::update(
            collectives::table
                .find(id)
                .filter(collectives::version.eq(read_version)),
        )
        .set((
            collectives::name.eq(&row.name),
            collectives::search_text.eq(&row.search_text),
            collectives::description.eq(&row.description),
            collectives::crafts.eq(&row.crafts),
            collectives::country.eq(&row.country),
            collectives::region.eq(&row.region),
            collectives::membership_policy.eq(&row.membership_policy),
            collectives::updated_at.eq(row.updated_at),
            collectives::version.eq(row.version),
        ))
        .execute(conn)?;
        if changed == 0 {
            return Err(StoreError::Stale);
        }
        write_crafts(conn, id, &fields.crafts)?;
        Ok(row)
    })
}

#[derive(Debug, Clone, Default)]
pub struct CollectiveFilter {
    pub craft: Option<String>,
    pub country: Option<String>,
    pub q: Option<String>,
}

/// Active collectives, newest first, keyset on the time-ordered id.
pub fn list(
    conn: &mut AnyConnection,
    filter: &CollectiveFilter,
    seek: Seek<'_>,
) -> Result<Page<CollectiveRow>, StoreError> {
    let mut query = collectives::table
        .filter(collectives::status.eq(CollectiveStatus::Active.as_str()))
        .into_boxed();
    if let Some(craft) = &filter.craft {
        query = query.filter(diesel::dsl::exists(
            collective_crafts::table
                .filter(collective_crafts::craft.eq(craft.clone()))
                .filter(collective_crafts::collective_id.eq(collectives::id)),
        ));
    }
    if let Some(country) = &filter.country {
        query = query.filter(collectives::country.eq(country.clone()));
    }
    if let Some(q) = &filter.q {
        query = query.filter(
            collectives::search_text
                .like(crate::artisans::like_pattern(q))
                .escape('\\'),
        );
    }
    let rows = newest_first!(query, collectives, seek).load::<CollectiveRow>(conn)?;
    Ok(Page::from_overfetch(rows, seek.limit))
}

/// "Apply to join". Under the `open` policy the application is approved
/// and the artisan is a member at once; under `application` it waits;
/// `invite_only` collectives admit only through invitations
/// ([`domain::collective::apply`]).
pub fn apply(
    conn: &mut AnyConnection,
    collective_id: &str,
    artisan_id: &str,
    message: &str,
) -> Result<ApplicationRow, StoreError> {
    write_tx(conn, |conn| {
        users::hold_actor(conn, artisan_id)?;
        let collective = lock(conn, collective_id)?;
        let already_member = membership(conn, collective_id, artisan_id)?.is_some();
        let status = rules::apply(
            collective.status(),
            collective.fields().membership_policy,
            already_member,
        )?;
        let at = now();
        let row = ApplicationRow {
            id: new_id(),
            collective_id: collective_id.to_owned(),
            artisan_id: artisan_id.to_owned(),
            message: message.to_owned(),
            status: status.as_str().to_owned(),
            decided_by: None,
            decision_note: None,
            created_at: at,
            decided_at: (status == ApplicationStatus::Approved).then_some(at),
            version: 1,
        };
        diesel::insert_into(collective_applications::table)
            .values(&row)
            .execute(conn)
            .map_err(unless_taken(MembershipRefusal::AlreadyApplied))?;
        if status == ApplicationStatus::Approved {
            insert_member(conn, collective_id, artisan_id, MemberRole::Member)?;
        }
        Ok(row)
    })
}

/// Applications, newest first, optionally of one status (a collective's
/// to its coordinators, or an artisan's own with their decision notes).
pub fn list_applications(
    conn: &mut AnyConnection,
    of: &ListOf,
    status: Option<ApplicationStatus>,
    seek: Seek<'_>,
) -> Result<Page<ApplicationRow>, StoreError> {
    let mut query = collective_applications::table.into_boxed();
    match of {
        ListOf::Collective { id, actor } => {
            require_coordinator_of(conn, id, actor)?;
            query = query.filter(collective_applications::collective_id.eq(id.clone()));
        }
        ListOf::Artisan(artisan) => {
            query = query.filter(collective_applications::artisan_id.eq(artisan.clone()));
        }
    }
    if let Some(status) = status {
        query = query.filter(collective_applications::status.eq(status.as_str()));
    }
    let rows = newest_first!(query, collective_applications, seek).load::<ApplicationRow>(conn)?;
    Ok(Page::from_overfetch(rows, seek.limit))
}

/// A coordinator decides a pending application of this collective.
pub fn decide(
    conn: &mut AnyConnection,
    collective_id: &str,
    application_id: &str,
    actor: &str,
    decision: &Decision,
) -> Result<ApplicationRow, StoreError> {
    write_tx(conn, |conn| {
        lock(conn, collective_id)?;
        require_coordinator(conn, collective_id, actor)?;
        let mut row = collective_applications::table
            .find(application_id)
            .filter(collective_applications::collective_id.eq(collective_id))
            .first::<ApplicationRow>(conn)
            .optional()?
            .ok_or(StoreError::NotFound)?;
        row.status = row.status().decide(decision)?.as_str().to_owned();
        row.version += 1;
        row.decided_by = Some(actor.to_owned());
        row.decision_note = decision.note().map(str::to_owned);
        row.decided_at = Some(now());
        diesel::update(collective_applications::table.find(application_id))
            .set((
                collective_applications::status.eq(&row.status),
                collective_applications::decided_by.eq(&row.decided_by),
                collective_applications::decision_note.eq(&row.decision_note),
                collective_applications::decided_at.eq(row.decided_at),
                collective_applications::version.eq(row.version),
            ))
            .execute(conn)?;
        if decision.status() == ApplicationStatus::Approved
            && membership(conn, collective_id, &row.artisan_id)?.is_none()
        {
            insert_member(conn, collective_id, &row.artisan_id, MemberRole::Member)?;
        }
        notifications::notify(
            conn,
            NotificationKind::ApplicationDecided,
            vec![row.artisan_id.clone()],
            Some(actor),
            &About {
                kind: "collective_application",
                id: &row.id,
                data: json!({"collective_id": collective_id, "status": row.status}),
            },
        )?;
        Ok(row)
    })
}

/// A member with the name shown for them.
pub type MemberWithName = (MemberRow, String);

/// Members in artisan-id order (stable keyset), with display names.
pub fn list_members(
    conn: &mut AnyConnection,
    collective_id: &str,
    after_artisan: Option<&str>,
    limit: i64,
) -> Result<Page<MemberWithName>, StoreError> {
    find(conn, collective_id)?.ok_or(StoreError::NotFound)?;
    let mut query = collective_members::table
        .inner_join(artisans::table)
        .filter(collective_members::collective_id.eq(collective_id.to_owned()))
        .select((
            (
                collective_members::collective_id,
                collective_members::artisan_id,
                collective_members::role,
                collective_members::joined_at,
                collective_members::version,
            ),
            artisans::display_name,
        ))
        .into_boxed();
    if let Some(after) = after_artisan {
        query = query.filter(collective_members::artisan_id.gt(after.to_owned()));
    }
    let rows = query
        .order(collective_members::artisan_id.asc())
        .limit(limit + 1)
        .load::<MemberWithName>(conn)?;
    Ok(Page::from_overfetch(rows, limit))
}

fn coordinator_count(conn: &mut AnyConnection, collective_id: &str) -> Result<i64, StoreError> {
    Ok(collective_members::table
        .filter(collective_members::collective_id.eq(collective_id))
        .filter(collective_members::role.eq(MemberRole::Coordinator.as_str()))
        .count()
        .get_result(conn)?)
}

fn load_member(
    conn: &mut AnyConnection,
    collective_id: &str,
    artisan_id: &str,
    expected: &Precondition,
) -> Result<MemberRow, StoreError> {
    let member = membership(conn, collective_id, artisan_id)?.ok_or(StoreError::NotFound)?;
    if !expected.admits(member.version) {
        return Err(StoreError::Stale);
    }
    Ok(member)
}

/// Changes a member's role (coordinators only). Demoting the last
/// coordinator is refused.
pub fn set_role(
    conn: &mut AnyConnection,
    collective_id: &str,
    actor: &str,
    artisan_id: &str,
    expected: &Precondition,
    role: MemberRole,
) -> Result<MemberRow, StoreError> {
    write_tx(conn, |conn| {
        lock(conn, collective_id)?;
        require_coordinator(conn, collective_id, actor)?;
        let mut member = load_member(conn, collective_id, artisan_id, expected)?;
        rules::may_change_membership(
            member.role(),
            Some(role),
            coordinator_count(conn, collective_id)?,
        )?;
        member.role = role.as_str().to_owned();
        member.version += 1;
        diesel::update(collective_members::table.find((collective_id, artisan_id)))
            .set((
                collective_members::role.eq(&member.role),
                collective_members::version.eq(member.version),
            ))
            .execute(conn)?;
        Ok(member)
    })
}

/// Removes a member: a coordinator removing anyone, or a member leaving.
/// The last coordinator can neither leave nor be removed.
pub fn remove_member(
    conn: &mut AnyConnection,
    collective_id: &str,
    actor: &str,
    artisan_id: &str,
    expected: &Precondition,
) -> Result<(), StoreError> {
    write_tx(conn, |conn| {
        lock(conn, collective_id)?;
        if actor != artisan_id {
            require_coordinator(conn, collective_id, actor)?;
        }
        let member = load_member(conn, collective_id, artisan_id, expected)?;
        rules::may_change_membership(member.role(), None, coordinator_count(conn, collective_id)?)?;
        diesel::delete(collective_members::table.find((collective_id, artisan_id)))
            .execute(conn)?;
        Ok(())
    })
}

/// A coordinator invites an artisan; they become a member only when they
/// accept. An unknown (or former) artisan is a 422 on `artisan_id`.
pub fn invite(
    conn: &mut AnyConnection,
    collective_id: &str,
    actor: &str,
    artisan_id: &str,
    message: &str,
) -> Result<InvitationRow, StoreError> {
    write_tx(conn, |conn| {
        users::hold_current(conn, artisan_id, "artisan_id")?;
        let collective = lock(conn, collective_id)?;
        require_coordinator(conn, collective_id, actor)?;
        let already_member = membership(conn, collective_id, artisan_id)?.is_some();
        rules::may_join(collective.status(), already_member)?;
        let row = InvitationRow {
            id: new_id(),
            collective_id: collective_id.to_owned(),
            artisan_id: artisan_id.to_owned(),
            message: message.to_owned(),
            status: InvitationStatus::Invited.as_str().to_owned(),
            invited_by: actor.to_owned(),
            created_at: now(),
            answered_at: None,
            version: 1,
        };
        diesel::insert_into(collective_invitations::table)
            .values(&row)
            .execute(conn)
            .map_err(unless_taken(MembershipRefusal::AlreadyInvited))?;
        notifications::notify(
            conn,
            NotificationKind::CollectiveInvitation,
            vec![row.artisan_id.clone()],
            Some(actor),
            &About {
                kind: "collective_invitation",
                id: &row.id,
                data: json!({"collective_id": collective_id, "collective_name": collective.name}),
            },
        )?;
        Ok(row)
    })
}

fn with_collective_names(
    conn: &mut AnyConnection,
    rows: Vec<InvitationRow>,
) -> Result<Vec<InvitationWithName>, StoreError> {
    let ids: Vec<&str> = rows.iter().map(|r| r.collective_id.as_str()).collect();
    let names: Vec<(String, String)> = collectives::table
        .filter(collectives::id.eq_any(ids))
        .select((collectives::id, collectives::name))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let name = names
                .iter()
                .find(|(id, _)| *id == row.collective_id)
                .map(|(_, name)| name.clone())
                .unwrap_or_default();
            (row, name)
        })
        .collect())
}

/// Whose invitations or applications a listing shows.
#[derive(Debug, Clone)]
pub enum ListOf {
    /// A collective's (its coordinators look).
    Collective { id: String, actor: String },
    /// An artisan's own.
    Artisan(String),
}

/// Invitations, newest first, optionally of one status.
pub fn list_invitations(
    conn: &mut AnyConnection,
    of: &ListOf,
    status: Option<InvitationStatus>,
    seek: Seek<'_>,
) -> Result<Page<InvitationWithName>, StoreError> {
    let mut query = collective_invitations::table.into_boxed();
    match of {
        ListOf::Collective { id, actor } => {
            require_coordinator_of(conn, id, actor)?;
            query = query.filter(collective_invitations::collective_id.eq(id.clone()));
        }
        ListOf::Artisan(artisan) => {
            query = query.filter(collective_invitations::artisan_id.eq(artisan.clone()));
        }
    }
    if let Some(status) = status {
        query = query.filter(collective_invitations::status.eq(status.as_str()));
    }
    let rows = newest_first!(query, collective_invitations, seek).load::<InvitationRow>(conn)?;
    Page::from_overfetch(rows, seek.limit).try_map_rows(|rows| with_collective_names(conn, rows))
}

fn load_invitation(
    conn: &mut AnyConnection,
    invitation_id: &str,
) -> Result<InvitationRow, StoreError> {
    collective_invitations::table
        .find(invitation_id)
        .first::<InvitationRow>(conn)
        .optional()?
        .ok_or(StoreError::NotFound)
}

fn save_invitation(
    conn: &mut AnyConnection,
    row: &mut InvitationRow,
    status: InvitationStatus,
) -> Result<(), StoreError> {
    row.status = status.as_str().to_owned();
    row.answered_at = Some(now());
    row.version += 1;
    diesel::update(collective_invitations::table.find(&row.id))
        .set((
            collective_invitations::status.eq(&row.status),
            collective_invitations::answered_at.eq(row.answered_at),
            collective_invitations::version.eq(row.version),
        ))
        .execute(conn)?;
    Ok(())
}

/// The invitee accepts (and becomes a member) or declines. Anyone else:
/// coordinators of the collective may look but not answer (403), others
/// do not see the invitation (404).
pub fn answer_invitation(
    conn: &mut AnyConnection,
    invitation_id: &str,
    actor: &str,
    accept: bool,
) -> Result<InvitationWithName, StoreError> {
    write_tx(conn, |conn| {
        users::hold_actor(conn, actor)?;
        let collective_id = load_invitation(conn, invitation_id)?.collective_id;
        let collective = lock(conn, &collective_id)?;
        let mut row = load_invitation(conn, invitation_id)?;
        if row.artisan_id != actor {
            return Err(if is_coordinator(conn, &collective_id, actor)? {
                MembershipRefusal::NotInvitee.into()
            } else {
                StoreError::NotFound
            });
        }
        let next = row.status().answer(accept)?;
        save_invitation(conn, &mut row, next)?;
        if next == InvitationStatus::Accepted {
            let already_member = membership(conn, &collective_id, actor)?.is_some();
            rules::may_join(collective.status(), already_member)?;
            insert_member(conn, &collective_id, actor, MemberRole::Member)?;
        }
        Ok((row, collective.name))
    })
}

/// A coordinator takes an open invitation back (`If-Match` on the
/// invitation). The invitee declines instead (403); others see nothing.
pub fn withdraw_invitation(
    conn: &mut AnyConnection,
    invitation_id: &str,
    actor: &str,
    expected: &Precondition,
) -> Result<(), StoreError> {
    write_tx(conn, |conn| {
        let collective_id = load_invitation(conn, invitation_id)?.collective_id;
        lock(conn, &collective_id)?;
        let mut row = load_invitation(conn, invitation_id)?;
        if !is_coordinator(conn, &collective_id, actor)? {
            return Err(if row.artisan_id == actor {
                MembershipRefusal::InviteeDeclinesInstead.into()
            } else {
                StoreError::NotFound
            });
        }
        if !expected.admits(row.version) {
            return Err(StoreError::Stale);
        }
        let next = row.status().withdraw()?;
        save_invitation(conn, &mut row, next)
    })
}

/// The applicant withdraws a pending application (`If-Match` on it).
/// Anyone else's application is not found.
pub fn withdraw_application(
    conn: &mut AnyConnection,
    application_id: &str,
    actor: &str,
    expected: &Precondition,
) -> Result<(), StoreError> {
    write_tx(conn, |conn| {
        let find_own = |conn: &mut AnyConnection| {
            collective_applications::table
                .find(application_id)
                .filter(collective_applications::artisan_id.eq(actor))
                .first::<ApplicationRow>(conn)
                .optional()?
                .ok_or(StoreError::NotFound)
        };
        let collective_id = find_own(conn)?.collective_id;
        lock(conn, &collective_id)?;
        let mut row = find_own(conn)?;
        if !expected.admits(row.version) {
            return Err(StoreError::Stale);
        }
        row.status = row.status().withdraw()?.as_str().to_owned();
        row.decided_at = Some(now());
        row.version += 1;
        diesel::update(collective_applications::table.find(application_id))
            .set((
                collective_applications::status.eq(&row.status),
                collective_applications::decided_at.eq(row.decided_at),
                collective_applications::version.eq(row.version),
            ))
            .execute(conn)?;
        Ok(())
    })
}

/// Closing an account (part of `departures::close_account`, in its
/// transaction): every membership ends — a collective the person is alone
/// in is archived, and being the last coordinator of one with other
/// members refuses the closure (409 naming it) — and their pending
/// applications and open invitations are withdrawn, as are those to a
/// collective archived now. Returns the archived collectives.
pub(crate) fn on_account_closed(
    conn: &mut AnyConnection,
    artisan_id: &str,
) -> Result<Vec<String>, StoreError> {
    let mut archived = Vec::new();
    let memberships = collective_members::table
        .filter(collective_members::artisan_id.eq(artisan_id))
        .order(collective_members::collective_id.asc())
        .load::<MemberRow>(conn)?;
    for member in memberships {
        let collective = lock(conn, &member.collective_id)?;
        let members = collective_members::table
            .filter(collective_members::collective_id.eq(&collective.id))
            .count()
            .get_result::<i64>(conn)?;
        let departure = rules::depart_on_closure(
            member.role(),
            coordinator_count(conn, &collective.id)?,
            members,
        )
        .map_err(|refusal| match refusal {
            MembershipRefusal::LastCoordinator => MembershipRefusal::LastCoordinatorOf {
                collective_id: collective.id.clone(),
                name: collective.name.clone(),
            },
            other => other,
        })?;
        diesel::delete(collective_members::table.find((&collective.id, artisan_id)))
            .execute(conn)?;
        if departure == Departure::LeaveAndArchive {
            diesel::update(collectives::table.find(&collective.id))
                .set((
                    collectives::status.eq(CollectiveStatus::Archived.as_str()),
                    collectives::version.eq(collectives::version + 1),
                    collectives::updated_at.eq(now()),
                ))
                .execute(conn)?;
            archived.push(collective.id);
        }
    }
    withdraw_open(conn, None, Some(artisan_id))?;
    for collective in &archived {
        withdraw_open(conn, Some(collective), None)?;
    }
    Ok(archived)
}
