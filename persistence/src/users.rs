//! Accounts: registration (account + profile in one transaction), lookup
//! for sign-in and authentication, and closing an account.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use domain::account::{AccountRefusal, AccountStatus, AdminAction, Role};
use domain::ids::UserId;
use domain::precondition::Precondition;
use domain::profile::ProfileFields;
use domain::text::Email;

use crate::artisans::{self, ArtisanRow};
use crate::error::duplicate_as;
use crate::schema::{admin_audit_log, refresh_tokens, users};
use crate::{now, write_tx, AnyConnection, DbError, Page};

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
        Role::parse(&self.role).unwrap_or(Role::Artisan)
    }

    /// Unknown states are treated as closed: never let an odd row sign in.
    pub fn status(&self) -> AccountStatus {
        AccountStatus::parse(&self.status).unwrap_or(AccountStatus::Closed)
    }
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
) -> Result<(UserRow, ArtisanRow), DbError> {
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
            .map_err(duplicate_as("email"))?;
        let profile = artisans::insert_profile(conn, &user.id, &account.profile, at)?;
        Ok((user, profile))
    })
}

pub fn find_by_email(conn: &mut AnyConnection, email: &Email) -> Result<Option<UserRow>, DbError> {
    Ok(users::table
        .filter(users::email_key.eq(email.normalized()))
        .first::<UserRow>(conn)
        .optional()?)
}

pub fn find(conn: &mut AnyConnection, id: &str) -> Result<Option<UserRow>, DbError> {
    Ok(users::table.find(id).first::<UserRow>(conn).optional()?)
}

/// Closes an account, in one transaction: credentials and personal fields
/// are erased, the profile becomes a former member's, every refresh token
/// is revoked — and the person's roles in shared work end, each by the
/// decision of its own aggregate, so no one waits for them any more:
/// memberships end (a collective they are alone in is archived; being the
/// last coordinator of one with other members refuses the closure), their
/// partnership parties leave or decline, their pending applications and
/// invitations are withdrawn, their registrations for workshops to come
/// are cancelled (promoting the waitlist) and their open exchanges end.
/// Records that point to the id (agreements, ledgers, settlements) are
/// left intact.
pub fn close_account(
    conn: &mut AnyConnection,
    id: &str,
    expected: &Precondition,
) -> Result<(), DbError> {
    write_tx(conn, |conn| {
        let at = now();
        // The profile first: a stale If-Match refuses before anything moves.
        artisans::replace_profile(conn, id, expected, &ProfileFields::former_member(), true)?;
        crate::collectives::on_account_closed(conn, id)?;
        crate::partnerships::on_account_closed(conn, id)?;
        crate::workshops::on_account_closed(conn, id)?;
        crate::exchanges::on_account_closed(conn, id)?;
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
    })
}

fn revoke_refresh_tokens(
    conn: &mut AnyConnection,
    user_id: &str,
    at: NaiveDateTime,
) -> Result<(), DbError> {
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

impl From<AccountRefusal> for DbError {
    fn from(refusal: AccountRefusal) -> Self {
        DbError::Refused(refusal.message())
    }
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
) -> Result<(UserRow, AuditRow), DbError> {
    write_tx(conn, |conn| {
        // Touch first: two administrators acting at once take turns.
        diesel::update(users::table.find(target))
            .set(users::updated_at.eq(users::updated_at))
            .execute(conn)?;
        let mut user = find(conn, target)?.ok_or(DbError::NotFound)?;
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
    before_id: Option<&str>,
    limit: i64,
) -> Result<Page<AuditRow>, DbError> {
    let mut query = admin_audit_log::table.into_boxed();
    if let Some(target) = target {
        query = query.filter(admin_audit_log::target_user_id.eq(target.to_owned()));
    }
    if let Some(id) = before_id {
        query = query.filter(admin_audit_log::id.lt(id.to_owned()));
    }
    let rows = query
        .order(admin_audit_log::id.desc())
        .limit(limit + 1)
        .load::<AuditRow>(conn)?;
    Ok(Page::from_overfetch(rows, limit))
}
