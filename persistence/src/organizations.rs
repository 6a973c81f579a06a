//! Partner organizations (NGOs), managed by admins.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use domain::ids::OrganizationId;

use crate::schema::organizations;
use crate::{now, AnyConnection, Page, Seek, StoreError};

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = organizations)]
pub struct OrganizationRow {
    pub id: String,
    pub name: String,
    pub website: Option<String>,
    pub country: Option<String>,
    pub description: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

/// A validated new organization.
pub struct NewOrganization {
    pub name: String,
    pub website: Option<String>,
    pub country: Option<String>,
    pub description: String,
}

pub fn create(
    conn: &mut AnyConnection,
    new: NewOrganization,
) -> Result<OrganizationRow, StoreError> {
    let at = now();
    let row = OrganizationRow {
        id: OrganizationId::new().to_string(),
        name: new.name,
        website: new.website,
        country: new.country,
        description: new.description,
        created_at: at,
        updated_at: at,
        version: 1,
    };
    diesel::insert_into(organizations::table)
        .values(&row)
        .execute(conn)?;
    Ok(row)
}

pub fn find(conn: &mut AnyConnection, id: &str) -> Result<Option<OrganizationRow>, StoreError> {
    Ok(organizations::table
        .find(id)
        .first::<OrganizationRow>(conn)
        .optional()?)
}

/// Newest first, keyset on the time-ordered id.
pub fn list(conn: &mut AnyConnection, seek: Seek<'_>) -> Result<Page<OrganizationRow>, StoreError> {
    let query = organizations::table.into_boxed();
    let rows = newest_first!(query, organizations, seek).load::<OrganizationRow>(conn)?;
    Ok(Page::from_overfetch(rows, seek.limit))
}
