//! Refresh tokens: stored only as SHA-256 hashes, rotated on every use and
//! grouped in families. Presenting a token that was already rotated revokes
//! its whole family (the newest token included): a sign that it leaked.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use domain::ids::RefreshTokenId;

use crate::schema::refresh_tokens;
use crate::{now, write_tx, AnyConnection, StoreError};

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = refresh_tokens)]
pub struct RefreshTokenRow {
    pub id: String,
    pub family_id: String,
    pub user_id: String,
    pub token_hash: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

/// Starts a new family (at sign-in) with its first token.
pub fn issue(
    conn: &mut AnyConnection,
    user_id: &str,
    token_hash: &str,
    expires_at: NaiveDateTime,
) -> Result<(), StoreError> {
    insert(
        conn,
        &RefreshTokenId::new().to_string(),
        user_id,
        token_hash,
        expires_at,
    )
}

fn insert(
    conn: &mut AnyConnection,
    family_id: &str,
    user_id: &str,
    token_hash: &str,
    expires_at: NaiveDateTime,
) -> Result<(), StoreError> {
    let row = RefreshTokenRow {
        id: RefreshTokenId::new().to_string(),
        family_id: family_id.to_owned(),
        user_id: user_id.to_owned(),
        token_hash: token_hash.to_owned(),
        created_at: now(),
        expires_at,
        used_at: None,
        revoked_at: None,
    };
    diesel::insert_into(refresh_tokens::table)
        .values(&row)
        .execute(conn)?;
    Ok(())
}

/// Why a refresh was refused. All of them look the same to the client.
#[derive(Debug, PartialEq, Eq)]
pub enum RefreshRefused {
    Unknown,
    Expired,
    Revoked,
    /// An already-rotated token: the family has now been revoked.
    Reused,
}

fn revoke_family(conn: &mut AnyConnection, family_id: &str) -> Result<(), StoreError> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::family_id.eq(family_id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(Some(now())))
    .execute(conn)?;
    Ok(())
}

/// Exchanges the presented token for a new one in the same family. The
/// "mark used" is a conditional `UPDATE`, so of two concurrent uses of one
/// token exactly one rotates and the other counts as reuse.
pub fn rotate(
    conn: &mut AnyConnection,
    presented_hash: &str,
    new_hash: &str,
    new_expires_at: NaiveDateTime,
) -> Result<Result<String, RefreshRefused>, StoreError> {
    write_tx(conn, |conn| {
        let Some(token) = refresh_tokens::table
            .filter(refresh_tokens::token_hash.eq(presented_hash))
            .first::<RefreshTokenRow>(conn)
            .optional()?
        else {
            return Ok(Err(RefreshRefused::Unknown));
        };
        if token.revoked_at.is_some() {
            return Ok(Err(RefreshRefused::Revoked));
        }
        let at = now();
        let claimed = diesel::update(
            refresh_tokens::table
                .find(&token.id)
                .filter(refresh_tokens::used_at.is_null()),
        )
        .set(refresh_tokens::used_at.eq(Some(at)))
        .execute(conn)?;
        if claimed == 0 {
            revoke_family(conn, &token.family_id)?;
            return Ok(Err(RefreshRefused::Reused));
        }
        if token.expires_at <= at {
            return Ok(Err(RefreshRefused::Expired));
        }
        insert(
            conn,
            &token.family_id,
            &token.user_id,
            new_hash,
            new_expires_at,
        )?;
        Ok(Ok(token.user_id))
    })
}

/// Sign-out: revokes the family of the presented token. Unknown tokens are
/// ignored (sign-out is idempotent and reveals nothing). Returns whether a
/// family was found.
pub fn revoke_family_of(
    conn: &mut AnyConnection,
    presented_hash: &str,
) -> Result<bool, StoreError> {
    write_tx(conn, |conn| {
        let family = refresh_tokens::table
            .filter(refresh_tokens::token_hash.eq(presented_hash))
            .select(refresh_tokens::family_id)
            .first::<String>(conn)
            .optional()?;
        match family {
            Some(family) => revoke_family(conn, &family).map(|()| true),
            None => Ok(false),
        }
    })
}
