//! Accounts: registration (account + profile in one transaction), lookup
//! for sign-in and authentication, and closing an account.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::Text;
use domain::account::{AccountRefusal, AccountStatus, AdminAction, Role};
use domain::ids::UserId;
use domain::profile::ProfileFields;
use domain::text::Email;

use crate::artisans::{self, ArtisanRow};
use crate::error::unless_taken;
use crate::schema::{admin_audit_log, artisans as artisans_table, refresh_tokens, users};
use crate::sql_text::sql_text;
use crate::{now, write_tx, AnyConnection, Page, Seek, StoreError};

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: String,
    pub email: Option<String>,
    pub email_key: Option<String>,
    pub password_hash: Option<String>,
    pub role: String,
    pub status: String,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}

impl UserRow {
    pub fn role(&self) -> Role {
        role_of(&self.role)
    }

    pub fn status(&self) -> AccountStatus {
        status_of(&self.status)
    }
}

fn role_of(text: &str) -> Role {
    Role::parse(text).unwrap_or(Role::Artisan)
}

/// Unknown states are treated as closed: never let an odd row sign in.
fn status_of(text: &str) -> AccountStatus {
    AccountStatus::parse(text).unwrap_or(AccountStatus::Closed)
}

/// What a request's account check reads of an account.
#[derive(Debug, Clone, Queryable, QueryableByName)]
#[diesel(table_name = users)]
pub struct Standing {
    role: String,
    status: String,
}

impl Standing {
    /// The columns, for reads that bring the standing along.
    pub const COLUMNS: (users::role, users::status) = (users::role, users::status);

    /// `domain::account::may_act` for this account.
    pub fn may_act(&self, claimed: Role) -> bool {
        domain::account::may_act(status_of(&self.status), role_of(&self.role), claimed)
    }
}

/// A reader's account standing and the profile read, as one statement
/// found them ([`standings_and_profiles`]).
pub type StandingAndProfile = (Option<Standing>, Option<ArtisanRow>);

/// For each `(viewer, id)` of `reads`, in order, the viewer's account
/// standing and the profile `id` (`None` when there is none; `(None, None)`
/// when the viewer's account does not exist), read together so that the account check
/// of the requests reading them costs no round trip of its own. On
/// PostgreSQL, reads that arrive together share one statement and one
/// round trip: each pair is looked up by the two primary keys, whatever
/// the number of pairs, and the statement is prepared once per connection.
/// SQLite, in process, has no round trip to share: there each read is its
/// own prepared join, which costs it less than any statement carrying them
/// all.
pub fn standings_and_profiles(
    conn: &mut AnyConnection,
    reads: &[(String, String)],
) -> Result<Vec<StandingAndProfile>, StoreError> {
    if reads.len() == 1 || matches!(conn, AnyConnection::Sqlite(_)) {
        return reads
            .iter()
            .map(|(viewer, id)| standing_and_profile(conn, viewer, id))
            .collect();
    }
    // The pairs travel as one JSON array bound as text, so that the
    // statement's text is the same for any number of them. The lookups are
    // `LIMIT 1` subqueries so that PostgreSQL does not flatten them into a
    // join it might hash (it guesses 100 pairs).
    let pairs = serde_json::Value::from_iter(
        reads
            .iter()
            .map(|(viewer, id)| serde_json::Value::from(vec![viewer.as_str(), id.as_str()])),
    );
    let rows: Vec<BatchedRead> = sql_text(
        "SELECT u.role, u.status, a.* \
         FROM json_array_elements($1::json) WITH ORDINALITY AS r(pair, n) \
         LEFT JOIN LATERAL (SELECT role, status FROM users WHERE id = r.pair ->> 0 LIMIT 1) u ON true \
         LEFT JOIN LATERAL (SELECT * FROM artisans WHERE id = r.pair ->> 1 LIMIT 1) a ON true \
         ORDER BY r.n"
            .to_owned(),
    )
    .bind::<Text, _>(pairs.to_string())
    .load(conn)?;
    if rows.len() != reads.len() {
        return Err(StoreError::Corrupt(
            "a batch of reads answered with another number of rows",
        ));
    }
    Ok(rows
        .into_iter()
        .map(|row| match row.standing {
            Some(standing) => (Some(standing), row.profile),
            None => (None, None),
        })
        .collect())
}

/// [`standings_and_profiles`] for one read: a join by the two primary keys
/// in a statement the connection finds prepared by its type, cheaper than
/// the statement for any number of reads.
fn standing_and_profile(
    conn: &mut AnyConnection,
    viewer: &str,
    id: &str,
) -> Result<StandingAndProfile, StoreError> {
    let found = on_backend!(conn, |conn| users::table
        .left_join(artisans_table::table.on(artisans_table::id.eq(id)))
        .filter(users::id.eq(viewer))
        .select((Standing::COLUMNS, artisans_table::all_columns.nullable()))
        .first::<(Standing, Option<ArtisanRow>)>(conn)
        .optional())?;
    Ok(found.map_or((None, None), |(standing, row)| (Some(standing), row)))
}

/// A row of [`standings_and_profiles`].
#[derive(QueryableByName)]
struct BatchedRead {
    #[diesel(embed)]
    standing: Option<Standing>,
    #[diesel(embed)]
    profile: Option<ArtisanRow>,
}

/// An account's standing, for the check of a request made in its name.
pub fn standing(conn: &mut AnyConnection, id: &str) -> Result<Option<Standing>, StoreError> {
    Ok(on_backend!(conn, |conn| users::table
        .find(id)
        .select(Standing::COLUMNS)
        .first::<Standing>(conn)
        .optional())?)
}

/// What registration needs; the password is already hashed.
pub struct NewAccount<'a> {
    pub email: &'a Email,
    pub password_hash: String,
    pub role: Role,
    pub profile: ProfileFields,
}

/// Creates the account and its artisan profile atomically. A second
/// account with the same e-mail (in any letter case) → `Duplicate("email")`.
pub fn create_account(
    conn: &mut AnyConnection,
    account: NewAccount<'_>,
) -> Result<(UserRow, ArtisanRow), StoreError> {
    let at = now();
    let user = UserRow {
        id: UserId::new().to_string(),
        email: Some(account.email.as_str().to_owned()),
        email_key: Some(account.email.normalized()),
        password_hash: Some(account.password_hash),
        role: account.role.as_str().to_owned(),
        status: AccountStatus::Active.as_str().to_owned(),
        created_at: at,
        updated_at: at,
    };
    write_tx(conn, |conn| {
        diesel::insert_into(users::table)
            .values(&user)
            .execute(conn)
            .map_err(unless_taken(AccountRefusal::EmailTaken))?;
        let profile = artisans::insert_profile(conn, &user.id, &account.profile, at)?;
        Ok((user, profile))
    })
}

pub fn find_by_email(
    conn: &mut AnyConnection,
    email: &Email,
) -> Result<Option<UserRow>, StoreError> {
    Ok(users::table
        .filter(users::email_key.eq(email.normalized()))
        .first::<UserRow>(conn)
        .optional()?)
}

pub fn find(conn: &mut AnyConnection, id: &str) -> Result<Option<UserRow>, StoreError> {
    Ok(users::table.find(id).first::<UserRow>(conn).optional()?)
}

/// Reads an account and holds it until the transaction ends, so that it
/// cannot close meanwhile (`FOR SHARE` on PostgreSQL, which a closure's
/// [`lock`] waits for; SQLite runs one writer at a time anyway). Every
/// change that adds a person to shared work holds them first, before any
/// other row: the same order as a closure, so the two never deadlock and
/// never interleave.
pub fn hold(conn: &mut AnyConnection, id: &str) -> Result<Option<UserRow>, StoreError> {
    let query = users::table.find(id);
    Ok(match conn {
        AnyConnection::Postgresql(pg) => query.for_share().first::<UserRow>(pg).optional()?,
        AnyConnection::Sqlite(sqlite) => query.first::<UserRow>(sqlite).optional()?,
    })
}

/// [`hold`]s an account that is to join something; a closed (or unknown)
/// one is a 422 on `field`.
pub fn hold_current(
    conn: &mut AnyConnection,
    id: &str,
    field: &'static str,
) -> Result<(), StoreError> {
    match hold(conn, id)? {
        Some(user) if user.status() != AccountStatus::Closed => Ok(()),
        _ => Err(domain::FieldError::unknown(field).into()),
    }
}

/// [`hold`]s the acting account itself; one that closed meanwhile is
/// refused.
pub fn hold_actor(conn: &mut AnyConnection, id: &str) -> Result<(), StoreError> {
    match hold(conn, id)? {
        Some(user) if user.status() != AccountStatus::Closed => Ok(()),
        _ => Err(AccountRefusal::Closed.into()),
    }
}

/// Takes the account's row lock (a closure starts here).
pub(crate) fn lock(conn: &mut AnyConnection, id: &str) -> Result<(), StoreError> {
    let locked: Option<String> = lock_row!(conn, users::table.find(id).select(users::id))?;
    locked.map(drop).ok_or(StoreError::NotFound)
}

/// The last step of closing an account: credentials and e-mail erased,
/// status closed, every refresh token revoked.
pub(crate) fn erase_credentials(conn: &mut AnyConnection, id: &str) -> Result<(), StoreError> {
    let at = now();
    diesel::update(users::table.find(id))
        .set((
            users::email.eq(None::<String>),
            users::email_key.eq(None::<String>),
            users::password_hash.eq(None::<String>),
            users::status.eq(AccountStatus::Closed.as_str()),
            users::updated_at.eq(at),
        ))
        .execute(conn)?;
    revoke_refresh_tokens(conn, id, at)
}

fn revoke_refresh_tokens(
    conn: &mut AnyConnection,
    user_id: &str,
    at: NaiveDateTime,
) -> Result<(), StoreError> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::user_id.eq(user_id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(Some(at)))
    .execute(conn)?;
    Ok(())
}

/// Who acts on an account from outside it.
#[derive(Debug, Clone, Copy)]
pub enum AdminActor<'a> {
    /// An administrator through the API.
    Admin(&'a str),
    /// An operator at the command line.
    CommandLine,
}

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = admin_audit_log)]
pub struct AuditRow {
    pub id: String,
    pub action: String,
    pub target_user_id: String,
    pub actor_id: Option<String>,
    pub via: String,
    pub reason: String,
    pub occurred_at: NaiveDateTime,
}

/// Suspends or reinstates an account ([`AccountStatus::suspend`],
/// [`AccountStatus::reinstate`]) and writes the audit log in the same
/// transaction. Suspending revokes every refresh token; the next request
/// with a live access token is refused because the principal check reads
/// the account's status on every request.
pub fn set_suspension(
    conn: &mut AnyConnection,
    target: &str,
    actor: AdminActor<'_>,
    action: AdminAction,
    reason: &str,
) -> Result<(UserRow, AuditRow), StoreError> {
    write_tx(conn, |conn| {
        // Locked first: two administrators acting at once take turns.
        let mut user: UserRow =
            lock_row!(conn, users::table.find(target))?.ok_or(StoreError::NotFound)?;
        let next = match action {
            AdminAction::Suspend => {
                let own = matches!(actor, AdminActor::Admin(admin) if admin == target);
                user.status().suspend(own)?
            }
            AdminAction::Reinstate => user.status().reinstate()?,
        };
        let at = now();
        user.status = next.as_str().to_owned();
        user.updated_at = at;
        diesel::update(users::table.find(target))
            .set((users::status.eq(&user.status), users::updated_at.eq(at)))
            .execute(conn)?;
        if next == AccountStatus::Suspended {
            revoke_refresh_tokens(conn, target, at)?;
        }
        let (actor_id, via) = match actor {
            AdminActor::Admin(id) => (Some(id.to_owned()), "api"),
            AdminActor::CommandLine => (None, "cli"),
        };
        let entry = AuditRow {
            id: uuid::Uuid::now_v7().to_string(),
            action: action.as_str().to_owned(),
            target_user_id: target.to_owned(),
            actor_id,
            via: via.to_owned(),
            reason: reason.to_owned(),
            occurred_at: at,
        };
        diesel::insert_into(admin_audit_log::table)
            .values(&entry)
            .execute(conn)?;
        Ok((user, entry))
    })
}

/// The audit log, newest first, optionally about one account.
pub fn audit_log(
    conn: &mut AnyConnection,
    target: Option<&str>,
    seek: Seek<'_>,
) -> Result<Page<AuditRow>, StoreError> {
    let mut query = admin_audit_log::table.into_boxed();
    if let Some(target) = target {
        query = query.filter(admin_audit_log::target_user_id.eq(target.to_owned()));
    }
    let rows = newest_first!(query, admin_audit_log, seek).load::<AuditRow>(conn)?;
    Ok(Page::from_overfetch(rows, seek.limit))
}
