//! Collectives, their members and join applications.
//!
//! Every membership change first "touches" the collective row inside its
//! write transaction. On PostgreSQL that row lock serialises concurrent
//! changes to one collective (SQLite serialises all writers anyway), so the
//! coordinator count read afterwards is current: two coordinators demoting
//! each other at the same moment cannot leave a collective without one.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use domain::collective::{
    may_lose_coordinator, ApplicationStatus, CollectiveFields, Decision, MemberRole,
    MembershipPolicy,
};
use domain::precondition::Precondition;

use crate::error::duplicate_as;
use crate::schema::{
    artisans, collective_applications, collective_crafts, collective_members, collectives,
};
use crate::{json_list, now, parse_json_list, write_tx, AnyConnection, DbError, Page};

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
}

impl CollectiveRow {
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
}

fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

fn write_crafts(conn: &mut AnyConnection, id: &str, crafts: &[String]) -> Result<(), DbError> {
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
) -> Result<MemberRow, DbError> {
    let row = MemberRow {
        collective_id: collective_id.to_owned(),
        artisan_id: artisan_id.to_owned(),
        role: role.as_str().to_owned(),
        joined_at: now(),
        version: 1,
    };
    diesel::insert_into(collective_members::table)
        .values(&row)
        .execute(conn)
        .map_err(duplicate_as("membership"))?;
    Ok(row)
}

/// Creates a collective with its creator as the first coordinator.
pub fn create(
    conn: &mut AnyConnection,
    fields: &CollectiveFields,
    creator: &str,
) -> Result<CollectiveRow, DbError> {
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

pub fn find(conn: &mut AnyConnection, id: &str) -> Result<Option<CollectiveRow>, DbError> {
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
) -> Result<Option<MemberRow>, DbError> {
    Ok(collective_members::table
        .find((collective_id, artisan_id))
        .first::<MemberRow>(conn)
        .optional()?)
}

fn is_coordinator(
    conn: &mut AnyConnection,
    collective_id: &str,
    artisan_id: &str,
) -> Result<bool, DbError> {
    Ok(membership(conn, collective_id, artisan_id)?
        .is_some_and(|m| m.role() == MemberRole::Coordinator))
}

/// Serialises membership changes of one collective (see the module docs).
/// Unknown collective → `NotFound`.
fn lock(conn: &mut AnyConnection, collective_id: &str) -> Result<CollectiveRow, DbError> {
    let touched = diesel::update(collectives::table.find(collective_id))
        .set(collectives::updated_at.eq(collectives::updated_at))
        .execute(conn)?;
    if touched == 0 {
        return Err(DbError::NotFound);
    }
    find(conn, collective_id)?.ok_or(DbError::NotFound)
}

/// Refuses with `Refused(NOT_COORDINATOR)` unless `actor` coordinates.
pub const NOT_COORDINATOR: &str = "only a coordinator of this collective may do this";
pub const LAST_COORDINATOR: &str = "a collective keeps at least one coordinator";

fn require_coordinator(
    conn: &mut AnyConnection,
    collective_id: &str,
    actor: &str,
) -> Result<(), DbError> {
    if is_coordinator(conn, collective_id, actor)? {
        Ok(())
    } else {
        Err(DbError::Forbidden(NOT_COORDINATOR))
    }
}

/// Edits a collective: coordinators only, under optimistic concurrency.
/// `change` validates and applies the edit to the current fields.
pub fn update<E>(
    conn: &mut AnyConnection,
    id: &str,
    actor: &str,
    expected: &Precondition,
    change: impl FnOnce(&mut CollectiveFields) -> Result<(), E>,
) -> Result<CollectiveRow, E>
where
    E: From<DbError> + From<diesel::result::Error>,
{
    write_tx(conn, |conn| {
        let mut row = find(conn, id)?.ok_or(DbError::NotFound)?;
        require_coordinator(conn, id, actor)?;
        // A broken body is reported before a stale version (422 before 412).
        let mut fields = row.fields();
        change(&mut fields)?;
        if !expected.admits(row.version) {
            return Err(DbError::StaleVersion.into());
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
            return Err(DbError::StaleVersion.into());
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

/// Newest first, keyset on the time-ordered id.
pub fn list(
    conn: &mut AnyConnection,
    filter: &CollectiveFilter,
    before_id: Option<&str>,
    limit: i64,
) -> Result<Page<CollectiveRow>, DbError> {
    let mut query = collectives::table.into_boxed();
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
    if let Some(id) = before_id {
        query = query.filter(collectives::id.lt(id.to_owned()));
    }
    let rows = query
        .order(collectives::id.desc())
        .limit(limit + 1)
        .load::<CollectiveRow>(conn)?;
    Ok(Page::from_overfetch(rows, limit))
}

/// "Apply to join". Under the `open` policy the application is approved
/// and the artisan is a member at once; under `application` it waits;
/// under `invite_only` it is refused.
pub fn apply(
    conn: &mut AnyConnection,
    collective_id: &str,
    artisan_id: &str,
    message: &str,
) -> Result<ApplicationRow, DbError> {
    write_tx(conn, |conn| {
        let collective = lock(conn, collective_id)?;
        let status = collective
            .fields()
            .membership_policy
            .application_outcome()
            .ok_or(DbError::Refused(
                "this collective admits members by invitation only",
            ))?;
        if membership(conn, collective_id, artisan_id)?.is_some() {
            return Err(DbError::Refused(
                "you are already a member of this collective",
            ));
        }
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
        };
        diesel::insert_into(collective_applications::table)
            .values(&row)
            .execute(conn)
            .map_err(|e| match duplicate_as("pending application")(e) {
                DbError::Duplicate(_) => {
                    DbError::Refused("you already have a pending application here")
                }
                other => other,
            })?;
        if status == ApplicationStatus::Approved {
            insert_member(conn, collective_id, artisan_id, MemberRole::Member)?;
        }
        Ok(row)
    })
}

/// A collective's applications (coordinators only), newest first.
pub fn list_applications(
    conn: &mut AnyConnection,
    collective_id: &str,
    actor: &str,
    status: Option<ApplicationStatus>,
    before_id: Option<&str>,
    limit: i64,
) -> Result<Page<ApplicationRow>, DbError> {
    find(conn, collective_id)?.ok_or(DbError::NotFound)?;
    require_coordinator(conn, collective_id, actor)?;
    let mut query = collective_applications::table
        .filter(collective_applications::collective_id.eq(collective_id.to_owned()))
        .into_boxed();
    if let Some(status) = status {
        query = query.filter(collective_applications::status.eq(status.as_str()));
    }
    if let Some(id) = before_id {
        query = query.filter(collective_applications::id.lt(id.to_owned()));
    }
    let rows = query
        .order(collective_applications::id.desc())
        .limit(limit + 1)
        .load::<ApplicationRow>(conn)?;
    Ok(Page::from_overfetch(rows, limit))
}

/// A coordinator decides a pending application of this collective.
pub fn decide(
    conn: &mut AnyConnection,
    collective_id: &str,
    application_id: &str,
    actor: &str,
    decision: &Decision,
) -> Result<ApplicationRow, DbError> {
    write_tx(conn, |conn| {
        lock(conn, collective_id)?;
        require_coordinator(conn, collective_id, actor)?;
        let mut row = collective_applications::table
            .find(application_id)
            .filter(collective_applications::collective_id.eq(collective_id))
            .first::<ApplicationRow>(conn)
            .optional()?
            .ok_or(DbError::NotFound)?;
        if row.status != ApplicationStatus::Pending.as_str() {
            return Err(DbError::Refused(
                "this application has already been decided",
            ));
        }
        row.status = decision.status().as_str().to_owned();
        row.decided_by = Some(actor.to_owned());
        row.decision_note = decision.note().map(str::to_owned);
        row.decided_at = Some(now());
        diesel::update(collective_applications::table.find(application_id))
            .set((
                collective_applications::status.eq(&row.status),
                collective_applications::decided_by.eq(&row.decided_by),
                collective_applications::decision_note.eq(&row.decision_note),
                collective_applications::decided_at.eq(row.decided_at),
            ))
            .execute(conn)?;
        if decision.status() == ApplicationStatus::Approved
            && membership(conn, collective_id, &row.artisan_id)?.is_none()
        {
            insert_member(conn, collective_id, &row.artisan_id, MemberRole::Member)?;
        }
        Ok(row)
    })
}

/// Adds an artisan directly (how `invite_only` collectives grow).
pub fn add_member(
    conn: &mut AnyConnection,
    collective_id: &str,
    actor: &str,
    artisan_id: &str,
) -> Result<MemberRow, DbError> {
    write_tx(conn, |conn| {
        lock(conn, collective_id)?;
        require_coordinator(conn, collective_id, actor)?;
        let exists = artisans::table
            .find(artisan_id)
            .filter(artisans::former_member.eq(false))
            .count()
            .get_result::<i64>(conn)?;
        if exists == 0 {
            return Err(DbError::Refused("no such artisan"));
        }
        insert_member(conn, collective_id, artisan_id, MemberRole::Member).map_err(|e| match e {
            DbError::Duplicate(_) => DbError::Refused("this artisan is already a member"),
            other => other,
        })
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
) -> Result<Page<MemberWithName>, DbError> {
    find(conn, collective_id)?.ok_or(DbError::NotFound)?;
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

fn coordinator_count(conn: &mut AnyConnection, collective_id: &str) -> Result<i64, DbError> {
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
) -> Result<MemberRow, DbError> {
    let member = membership(conn, collective_id, artisan_id)?.ok_or(DbError::NotFound)?;
    if !expected.admits(member.version) {
        return Err(DbError::StaleVersion);
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
) -> Result<MemberRow, DbError> {
    write_tx(conn, |conn| {
        lock(conn, collective_id)?;
        require_coordinator(conn, collective_id, actor)?;
        let mut member = load_member(conn, collective_id, artisan_id, expected)?;
        if member.role() == MemberRole::Coordinator
            && role == MemberRole::Member
            && !may_lose_coordinator(coordinator_count(conn, collective_id)?)
        {
            return Err(DbError::Refused(LAST_COORDINATOR));
        }
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
) -> Result<(), DbError> {
    write_tx(conn, |conn| {
        lock(conn, collective_id)?;
        if actor != artisan_id {
            require_coordinator(conn, collective_id, actor)?;
        }
        let member = load_member(conn, collective_id, artisan_id, expected)?;
        if member.role() == MemberRole::Coordinator
            && !may_lose_coordinator(coordinator_count(conn, collective_id)?)
        {
            return Err(DbError::Refused(LAST_COORDINATOR));
        }
        diesel::delete(collective_members::table.find((collective_id, artisan_id)))
            .execute(conn)?;
        Ok(())
    })
}
