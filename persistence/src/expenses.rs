//! Shared costs: recorded by an accepted party under the partnership's lock
//! (like sales, so an expense and a settlement never interleave), decided
//! by another. The rules are the domain's ([`domain::expense`]).

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use domain::agreement::{Recipient as ShareRecipient, ShareBps, Terms};
use domain::expense::{
    self as rules, ExpenseCategory, ExpenseContext, ExpenseFields, ExpenseStatus, Netted,
};
use domain::money::MinorUnits;
use domain::partnership::Reach;
use domain::refusal::PartnershipRefusal;

use crate::agreements::AgreementRow;
use crate::partnerships::{self, Roster, Viewer};
use crate::schema::{agreements as agreements_table, expenses};
use crate::Seek;
use crate::{market_events, sales};
use crate::{now, write_tx, AnyConnection, Page, StoreError};

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = expenses)]
pub struct ExpenseRow {
    pub id: String,
    pub partnership_id: String,
    pub amount_minor: i64,
    pub currency: String,
    pub description: String,
    pub category: String,
    pub incurred_on: NaiveDate,
    pub paid_by: String,
    pub receipt_url: Option<String>,
    pub event_id: Option<String>,
    pub status: String,
    pub decided_by: Option<String>,
    pub deciding_party: Option<String>,
    pub decision_note: Option<String>,
    pub decided_at: Option<NaiveDateTime>,
    pub recorded_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
    /// The agreement in force on `incurred_on` when it was recorded; a
    /// settlement splits the expense by it.
    pub agreement_id: Option<String>,
}

impl ExpenseRow {
    pub fn status(&self) -> ExpenseStatus {
        ExpenseStatus::parse(&self.status).unwrap_or(ExpenseStatus::Rejected)
    }

    pub fn category(&self) -> ExpenseCategory {
        ExpenseCategory::parse(&self.category).unwrap_or(ExpenseCategory::Other)
    }
}

/// An expense to record.
#[derive(Debug, Clone)]
pub struct NewExpense {
    pub fields: ExpenseFields,
    /// The accepted party that paid.
    pub paid_by: String,
    pub event_id: Option<String>,
}

/// An accepted party records what `paid_by` paid: approved at once in a
/// partnership with a single accepted party, pending otherwise.
pub fn record(
    conn: &mut AnyConnection,
    partnership_id: &str,
    viewer: &Viewer,
    new: &NewExpense,
) -> Result<ExpenseRow, StoreError> {
    write_tx(conn, |conn| {
        let partnership = partnerships::lock(conn, partnership_id, viewer, Reach::Money)?;
        partnerships::acting_party(conn, &partnership, viewer)?;
        let accepted = partnerships::accepted_among(&partnerships::parties(conn, partnership_id)?);
        let day = new.fields.incurred_on();
        let in_force = sales::in_force(conn, partnership_id, day)?;
        let event = new
            .event_id
            .as_deref()
            .map(|event| market_events::tie_to_sale(conn, event, partnership_id))
            .transpose()?;
        let ctx = ExpenseContext {
            settled_until: in_force.settled_until,
            in_force: in_force.agreement.as_ref().map(|a| a.currency.as_str()),
            payer_accepted: accepted.contains(&new.paid_by),
            event,
            accepted_parties: accepted.len(),
        };
        let status = rules::record(&new.fields, &ctx)?;
        let at = now();
        let decided = status != ExpenseStatus::Pending;
        let row = ExpenseRow {
            id: uuid::Uuid::now_v7().to_string(),
            partnership_id: partnership_id.to_owned(),
            amount_minor: new.fields.amount().get(),
            currency: new.fields.currency().code().to_owned(),
            description: new.fields.description().to_owned(),
            category: new.fields.category().as_str().to_owned(),
            incurred_on: day,
            paid_by: new.paid_by.clone(),
            receipt_url: new.fields.receipt_url().map(str::to_owned),
            event_id: new.event_id.clone(),
            status: status.as_str().to_owned(),
            decided_by: decided.then(|| viewer.id.clone()),
            deciding_party: decided.then(|| new.paid_by.clone()),
            decision_note: None,
            decided_at: decided.then_some(at),
            recorded_by: viewer.id.clone(),
            created_at: at,
            updated_at: at,
            version: 1,
            agreement_id: in_force.agreement.as_ref().map(|a| a.id.clone()),
        };
        diesel::insert_into(expenses::table)
            .values(&row)
            .execute(conn)?;
        Ok(row)
    })
}

fn find_row(conn: &mut AnyConnection, id: &str) -> Result<ExpenseRow, StoreError> {
    expenses::table
        .find(id)
        .first::<ExpenseRow>(conn)
        .optional()?
        .ok_or(StoreError::NotFound)
}

/// An expense, for those who see the partnership's money.
pub fn find(conn: &mut AnyConnection, id: &str, viewer: &Viewer) -> Result<ExpenseRow, StoreError> {
    let row = find_row(conn, id)?;
    partnerships::find_visible(conn, &row.partnership_id, viewer, Reach::Money)?;
    Ok(row)
}

/// A partnership's expenses, newest first.
pub fn list(
    conn: &mut AnyConnection,
    partnership_id: &str,
    viewer: &Viewer,
    seek: Seek<'_>,
) -> Result<Page<ExpenseRow>, StoreError> {
    partnerships::find_visible(conn, partnership_id, viewer, Reach::Money)?;
    let query = expenses::table
        .filter(expenses::partnership_id.eq(partnership_id))
        .into_boxed();
    let rows = newest_first!(query, expenses, seek).load::<ExpenseRow>(conn)?;
    Ok(Page::from_overfetch(rows, seek.limit))
}

/// A settlement line's recipient: currency, party or beneficiary name.
pub(crate) type Recipient = (String, Option<String>, Option<String>);

/// How an agreement splits: each share's party or beneficiary name, and
/// its basis points, in the agreement's order.
type Split = (Vec<(Option<String>, Option<String>)>, Vec<ShareBps>);

/// The approved expenses incurred in `[from, to)` (from the beginning when
/// `from` is `None`), oldest first, each with the recipients and shares of
/// the agreement that was in force on its day when it was recorded (as a
/// sale's lines keep theirs): an amendment or a termination activated
/// since does not change how it is shared. (An expense recorded before
/// that was kept, on a day a termination had already cut off, has none
/// and nets to nothing.)
pub(crate) fn approved_in(
    conn: &mut AnyConnection,
    partnership_id: &str,
    from: Option<NaiveDate>,
    to: NaiveDate,
) -> Result<Vec<Netted<Recipient>>, StoreError> {
    let mut query = expenses::table
        .filter(expenses::partnership_id.eq(partnership_id))
        .filter(expenses::status.eq(ExpenseStatus::Approved.as_str()))
        .filter(expenses::incurred_on.lt(to))
        .into_boxed();
    if let Some(from) = from {
        query = query.filter(expenses::incurred_on.ge(from));
    }
    let rows = query
        .order((expenses::incurred_on.asc(), expenses::id.asc()))
        .load::<ExpenseRow>(conn)?;
    let ids: Vec<&str> = rows
        .iter()
        .filter_map(|row| row.agreement_id.as_deref())
        .collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    // Each agreement's terms read once, however many expenses it governs.
    let splits = agreements_table::table
        .filter(agreements_table::id.eq_any(ids))
        .load::<AgreementRow>(conn)?
        .into_iter()
        .map(|a| Ok((a.id.clone(), split_of(&a.terms()?))))
        .collect::<Result<Vec<(String, Split)>, StoreError>>()?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let (_, (recipients, bps)) = splits
                .iter()
                .find(|(id, _)| row.agreement_id.as_ref() == Some(id))?;
            let currency = row.currency;
            Some(Netted {
                amount: MinorUnits::new(row.amount_minor),
                payer: (currency.clone(), Some(row.paid_by), None),
                recipients: recipients
                    .iter()
                    .map(|(party, beneficiary)| {
                        (currency.clone(), party.clone(), beneficiary.clone())
                    })
                    .collect(),
                bps: bps.clone(),
            })
        })
        .collect())
}

/// How the agreement with `terms` splits.
fn split_of(terms: &Terms) -> Split {
    let recipients = terms
        .shares()
        .iter()
        .map(|share| match &share.recipient {
            ShareRecipient::PartyId(id) => (Some(id.clone()), None),
            ShareRecipient::Beneficiary(b) => (None, Some(b.name.clone())),
        })
        .collect();
    let bps = terms.shares().iter().map(|s| s.share_bps).collect();
    (recipients, bps)
}

/// Another accepted party approves or rejects a pending expense (approving
/// one dated inside a settled period is refused).
pub fn decide(
    conn: &mut AnyConnection,
    id: &str,
    viewer: &Viewer,
    approve: bool,
    note: &str,
) -> Result<ExpenseRow, StoreError> {
    write_tx(conn, |conn| {
        let partnership_id = find_row(conn, id)?.partnership_id;
        partnerships::lock(conn, &partnership_id, viewer, Reach::Money)?;
        let mut row = find_row(conn, id)?;
        let roster = Roster::load(conn, &partnership_id, viewer)?;
        let deciders: Vec<&str> = roster
            .spoken_for()
            .into_iter()
            .map(|party| party.id.as_str())
            .collect();
        if deciders.is_empty() {
            return Err(PartnershipRefusal::NotAcceptedParty.into());
        }
        let expense = rules::Pending {
            status: row.status(),
            payer: &row.paid_by,
            incurred_on: row.incurred_on,
            settled_until: sales::settled_until(conn, &partnership_id)?,
        };
        let (party, status) = rules::decide(&expense, &deciders, approve)?;
        let at = now();
        row.status = status.as_str().to_owned();
        row.decided_by = Some(viewer.id.clone());
        row.deciding_party = Some(party.to_owned());
        row.decision_note = Some(note.to_owned());
        row.decided_at = Some(at);
        row.updated_at = at;
        row.version += 1;
        diesel::update(expenses::table.find(id))
            .set((
                expenses::status.eq(&row.status),
                expenses::decided_by.eq(&row.decided_by),
                expenses::deciding_party.eq(&row.deciding_party),
                expenses::decision_note.eq(&row.decision_note),
                expenses::decided_at.eq(row.decided_at),
                expenses::updated_at.eq(row.updated_at),
                expenses::version.eq(row.version),
            ))
            .execute(conn)?;
        Ok(row)
    })
}
