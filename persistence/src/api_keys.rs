//! Partner API keys: only the SHA-256 of a key is stored. Lookup by hash
//! happens only after the key's checksum has passed (see
//! `domain::api_key`), so typos never reach the database.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use domain::api_key::Scope;
use domain::ids::ApiKeyId;

use crate::schema::api_keys;
use crate::{now, parse_json_list, AnyConnection, Page, Seek, StoreError};

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = api_keys)]
pub struct ApiKeyRow {
    pub id: String,
    pub organization_id: String,
    pub name: String,
    pub prefix: String,
    pub key_hash: String,
    pub scopes: String,
    pub created_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
    pub expires_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

impl ApiKeyRow {
    pub fn scopes(&self) -> Vec<Scope> {
        parse_json_list(&self.scopes)
            .iter()
            .filter_map(|s| s.parse().ok())
            .collect()
    }

    /// Usable right now: not revoked and not expired.
    pub fn is_usable(&self, at: NaiveDateTime) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|expiry| expiry > at)
    }
}

pub struct NewApiKey<'a> {
    pub organization_id: &'a str,
    pub name: String,
    pub prefix: String,
    pub key_hash: String,
    pub scopes: Vec<Scope>,
    pub expires_at: Option<NaiveDateTime>,
}

pub fn create(conn: &mut AnyConnection, new: NewApiKey<'_>) -> Result<ApiKeyRow, StoreError> {
    let scopes: Vec<String> = new.scopes.iter().map(|s| s.as_str().to_owned()).collect();
    let row = ApiKeyRow {
        id: ApiKeyId::new().to_string(),
        organization_id: new.organization_id.to_owned(),
        name: new.name,
        prefix: new.prefix,
        key_hash: new.key_hash,
        scopes: crate::json_list(&scopes),
        created_at: now(),
        last_used_at: None,
        expires_at: new.expires_at,
        revoked_at: None,
    };
    diesel::insert_into(api_keys::table)
        .values(&row)
        .execute(conn)?;
    Ok(row)
}

pub fn find_by_hash(
    conn: &mut AnyConnection,
    key_hash: &str,
) -> Result<Option<ApiKeyRow>, StoreError> {
    Ok(api_keys::table
        .filter(api_keys::key_hash.eq(key_hash))
        .first::<ApiKeyRow>(conn)
        .optional()?)
}

/// How stale `last_used_at` may get: writes happen at most once a minute
/// per key, so a busy integration does not turn every read into a write.
const LAST_USED_RESOLUTION: Duration = Duration::minutes(1);

/// Records use of the key if the stored value is older than a minute. The
/// condition is in the `UPDATE`, so concurrent requests write at most once.
pub fn touch(
    conn: &mut AnyConnection,
    key: &ApiKeyRow,
    at: NaiveDateTime,
) -> Result<(), StoreError> {
    if key
        .last_used_at
        .is_some_and(|last| at - last < LAST_USED_RESOLUTION)
    {
        return Ok(());
    }
    let threshold = at - LAST_USED_RESOLUTION;
    diesel::update(
        api_keys::table.find(&key.id).filter(
            api_keys::last_used_at
                .is_null()
                .or(api_keys::last_used_at.lt(threshold)),
        ),
    )
    .set(api_keys::last_used_at.eq(Some(at)))
    .execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut AnyConnection, id: &str) -> Result<Option<ApiKeyRow>, StoreError> {
    Ok(api_keys::table
        .find(id)
        .first::<ApiKeyRow>(conn)
        .optional()?)
}

/// An organization's keys, newest first.
pub fn list_for_organization(
    conn: &mut AnyConnection,
    organization_id: &str,
    seek: Seek<'_>,
) -> Result<Page<ApiKeyRow>, StoreError> {
    let query = api_keys::table
        .filter(api_keys::organization_id.eq(organization_id.to_owned()))
        .into_boxed();
    let rows = newest_first!(query, api_keys, seek).load::<ApiKeyRow>(conn)?;
    Ok(Page::from_overfetch(rows, seek.limit))
}

/// Revokes a key at once. Revoking an already revoked key changes nothing
/// (its original `revoked_at` stays). Unknown id → `NotFound`.
pub fn revoke(conn: &mut AnyConnection, id: &str) -> Result<(), StoreError> {
    let key = find(conn, id)?.ok_or(StoreError::NotFound)?;
    if key.revoked_at.is_none() {
        diesel::update(
            api_keys::table
                .find(id)
                .filter(api_keys::revoked_at.is_null()),
        )
        .set(api_keys::revoked_at.eq(Some(now())))
        .execute(conn)?;
    }
    Ok(())
}
