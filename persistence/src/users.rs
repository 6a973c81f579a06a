//! Accounts: registration (account + profile in one transaction), lookup
//! for sign-in and authentication, and closing an account.

use diesel::prelude::*;
use domain::account::{AccountStatus, Role};
use domain::ids::UserId;
use domain::precondition::Precondition;
use domain::profile::ProfileFields;
use domain::text::Email;

use crate::artisans::{self, ArtisanRow};
use crate::error::duplicate_as;
use crate::schema::{refresh_tokens, users};
use crate::{now, write_tx, AnyConnection, DbError};

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

/// Closes an account: credentials and personal fields are erased, the
/// profile becomes a former member's, every refresh token is revoked.
/// Records that point to the id (agreements, ledgers) are left intact.
pub fn close_account(
    conn: &mut AnyConnection,
    id: &str,
    expected: &Precondition,
) -> Result<(), DbError> {
    write_tx(conn, |conn| {
        let at = now();
        artisans::replace_profile(conn, id, expected, &ProfileFields::former_member(), true)?;
        diesel::update(users::table.find(id))
            .set((
                users::email.eq(None::<String>),
                users::email_key.eq(None::<String>),
                users::password_hash.eq(None::<String>),
                users::status.eq(AccountStatus::Closed.as_str()),
                users::updated_at.eq(at),
            ))
            .execute(conn)?;
        diesel::update(
            refresh_tokens::table
                .filter(refresh_tokens::user_id.eq(id))
                .filter(refresh_tokens::revoked_at.is_null()),
        )
        .set(refresh_tokens::revoked_at.eq(Some(at)))
        .execute(conn)?;
        Ok(())
    })
}

/// Sets an account's status (used by operators; a suspended account is
/// refused everywhere).
pub fn set_status(
    conn: &mut AnyConnection,
    id: &str,
    status: AccountStatus,
) -> Result<(), DbError> {
    let changed = diesel::update(users::table.find(id))
        .set((
            users::status.eq(status.as_str()),
            users::updated_at.eq(now()),
        ))
        .execute(conn)?;
    if changed == 0 {
        return Err(DbError::NotFound);
    }
    Ok(())
}
