//! Partnerships shared with partner organizations. Any accepted party
//! shares and revokes; an organization's keys with `partnerships:read`
//! read only what is shared with it, without personal data, and a revoked
//! share stops reads at once (the share is part of every partner query).

use chrono::{NaiveDateTime, NaiveTime};
use diesel::prelude::*;
use domain::agreement::AgreementStatus;
use domain::partnership::Reach;
use domain::FieldError;

use crate::agreements::AgreementRow;
use crate::partnerships::{self, PartnershipRow, Party, Viewer};
use crate::sales::{self, Payout};
use crate::schema::{
    agreements, organizations, partnership_shares, partnerships as partnerships_table,
};
use crate::{now, write_tx, AnyConnection, Page, Seek, StoreError};

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = partnership_shares)]
pub struct ShareRow {
    pub partnership_id: String,
    pub organization_id: String,
    pub shared_by: String,
    pub created_at: NaiveDateTime,
}

/// An accepted party shares the partnership with an organization (an
/// unknown one → 422 on `organization_id`). Sharing again changes nothing:
/// `false` says the share was there already.
pub fn share(
    conn: &mut AnyConnection,
    partnership_id: &str,
    viewer: &Viewer,
    organization_id: &str,
) -> Result<(ShareRow, bool), StoreError> {
    write_tx(conn, |conn| {
        let partnership = partnerships::lock(conn, partnership_id, viewer, Reach::Read)?;
        partnerships::acting_party(conn, &partnership, viewer)?;
        let known = organizations::table
            .find(organization_id)
            .count()
            .get_result::<i64>(conn)?;
        if known == 0 {
            return Err(FieldError::unknown("organization_id").into());
        }
        if let Some(existing) = partnership_shares::table
            .find((partnership_id, organization_id))
            .first::<ShareRow>(conn)
            .optional()?
        {
            return Ok((existing, false));
        }
        let row = ShareRow {
            partnership_id: partnership_id.to_owned(),
            organization_id: organization_id.to_owned(),
            shared_by: viewer.id.clone(),
            created_at: now(),
        };
        diesel::insert_into(partnership_shares::table)
            .values(&row)
            .execute(conn)?;
        Ok((row, true))
    })
}

/// An accepted party revokes a share; a share that is not there is not
/// found.
pub fn revoke(
    conn: &mut AnyConnection,
    partnership_id: &str,
    viewer: &Viewer,
    organization_id: &str,
) -> Result<(), StoreError> {
    write_tx(conn, |conn| {
        let partnership = partnerships::lock(conn, partnership_id, viewer, Reach::Read)?;
        partnerships::acting_party(conn, &partnership, viewer)?;
        let gone =
            diesel::delete(partnership_shares::table.find((partnership_id, organization_id)))
                .execute(conn)?;
        if gone == 0 {
            return Err(StoreError::NotFound);
        }
        crate::webhooks::cancel_for_share(conn, partnership_id, organization_id)
    })
}

/// Whom the partnership is shared with, with the organizations' names
/// (those who read the partnership).
pub fn list(
    conn: &mut AnyConnection,
    partnership_id: &str,
    viewer: &Viewer,
) -> Result<Vec<(ShareRow, String)>, StoreError> {
    partnerships::find_visible(conn, partnership_id, viewer, Reach::Read)?;
    Ok(partnership_shares::table
        .inner_join(
            organizations::table.on(organizations::id.eq(partnership_shares::organization_id)),
        )
        .filter(partnership_shares::partnership_id.eq(partnership_id))
        .order(partnership_shares::created_at.asc())
        .select((partnership_shares::all_columns, organizations::name))
        .load(conn)?)
}

/// The partnerships shared with the organization, newest first.
pub fn shared_with(
    conn: &mut AnyConnection,
    organization_id: &str,
    seek: Seek<'_>,
) -> Result<Page<PartnershipRow>, StoreError> {
    let shared = partnership_shares::table
        .filter(partnership_shares::organization_id.eq(organization_id.to_owned()))
        .select(partnership_shares::partnership_id);
    let query = partnerships_table::table
        .filter(partnerships_table::id.eq_any(shared))
        .into_boxed();
    let rows = newest_first!(query, partnerships_table, seek).load::<PartnershipRow>(conn)?;
    Ok(Page::from_overfetch(rows, seek.limit))
}

/// What an organization reads of a partnership shared with it.
#[derive(Debug, Clone)]
pub struct SharedPartnership {
    pub partnership: PartnershipRow,
    pub parties: Vec<Party>,
    /// Every agreement but drafts, oldest first.
    pub agreements: Vec<AgreementRow>,
    /// What each recipient received, over the partnership's whole history.
    pub payouts: Vec<Payout>,
}

/// A partnership shared with the organization (anything else: not found),
/// read in one transaction.
pub fn read_shared(
    conn: &mut AnyConnection,
    organization_id: &str,
    partnership_id: &str,
) -> Result<SharedPartnership, StoreError> {
    crate::db::read_tx(conn, |conn| {
        partnership_shares::table
            .find((partnership_id, organization_id))
            .first::<ShareRow>(conn)
            .optional()?
            .ok_or(StoreError::NotFound)?;
        let partnership = partnerships::find_row(conn, partnership_id)?;
        let parties = partnerships::parties_of(conn, &[partnership_id.to_owned()])?;
        let agreements = agreements::table
            .filter(agreements::partnership_id.eq(partnership_id))
            .filter(agreements::status.ne(AgreementStatus::Draft.as_str()))
            .order(agreements::id.asc())
            .load::<AgreementRow>(conn)?;
        // All of time, as the partnership's own payouts count it.
        let (first, last) = sales::all_time();
        let payouts = sales::recipient_totals(
            conn,
            partnership_id,
            first.and_time(NaiveTime::MIN),
            last.and_time(NaiveTime::MIN),
        )?;
        Ok(SharedPartnership {
            partnership,
            parties,
            agreements,
            payouts,
        })
    })
}
