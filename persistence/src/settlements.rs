//! Settlements and payments.
//!
//! A settlement freezes a partnership's revenue from the previous
//! settlement's end up to `period_end` into one amount per recipient and
//! currency (sales by `occurred_at`, refunds by the day they were
//! recorded). It runs under the partnership lock, like every sale, so a
//! sale either lands before the settlement (and is in its totals) or after
//! it (and, if dated inside the settled period, is refused).

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use domain::expense::net;
use domain::money::MinorUnits;
use domain::notification::NotificationKind;
use domain::partnership::Reach;
use domain::sale::{check_settlement, checked_sum, decide_payment, Owed};
use domain::webhook::EventType;
use serde_json::json;

use crate::expenses;
use crate::notifications::{self, About};
use crate::partnerships::{self, Viewer};
use crate::sales::{payouts, settled_until};
use crate::schema::{payments, settlement_lines, settlements};
use crate::{now, outbox, take_rows, write_tx, AnyConnection, Page, Seek, StoreError};

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = settlements)]
pub struct SettlementRow {
    pub id: String,
    pub partnership_id: String,
    pub period_start: Option<NaiveDate>,
    pub period_end: NaiveDate,
    pub created_by: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = settlement_lines)]
pub struct SettlementLineRow {
    pub id: String,
    pub settlement_id: String,
    pub currency: String,
    pub party_id: Option<String>,
    pub beneficiary_name: Option<String>,
    pub amount_minor: i64,
    pub allocated_minor: i64,
    pub expenses_share_minor: i64,
    pub reimbursed_minor: i64,
}

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = payments)]
pub struct PaymentRow {
    pub id: String,
    pub settlement_id: String,
    pub line_id: String,
    pub amount_minor: i64,
    pub paid_at: NaiveDateTime,
    pub reference: String,
    pub recorded_by: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone)]
pub struct SettlementView {
    pub settlement: SettlementRow,
    pub lines: Vec<SettlementLineRow>,
    pub payments: Vec<PaymentRow>,
}

/// The settlements with their lines and payments: two queries for all of
/// them.
fn views(
    conn: &mut AnyConnection,
    settlements: Vec<SettlementRow>,
) -> Result<Vec<SettlementView>, StoreError> {
    let ids: Vec<&str> = settlements.iter().map(|s| s.id.as_str()).collect();
    let mut lines: Vec<SettlementLineRow> = settlement_lines::table
        .filter(settlement_lines::settlement_id.eq_any(&ids))
        .order(settlement_lines::id.asc())
        .load(conn)?;
    let mut payments: Vec<PaymentRow> = payments::table
        .filter(payments::settlement_id.eq_any(&ids))
        .order(payments::id.asc())
        .load(conn)?;
    Ok(settlements
        .into_iter()
        .map(|settlement| SettlementView {
            lines: take_rows(&mut lines, |l| l.settlement_id == settlement.id),
            payments: take_rows(&mut payments, |p| p.settlement_id == settlement.id),
            settlement,
        })
        .collect())
}

fn view(conn: &mut AnyConnection, settlement: SettlementRow) -> Result<SettlementView, StoreError> {
    views(conn, vec![settlement])?
        .pop()
        .ok_or(StoreError::NotFound)
}

/// An accepted party settles the period from the previous settlement (or
/// the beginning) up to `period_end` (exclusive, not after today).
pub fn create(
    conn: &mut AnyConnection,
    partnership_id: &str,
    viewer: &Viewer,
    period_end: NaiveDate,
) -> Result<SettlementView, StoreError> {
    write_tx(conn, |conn| {
        let partnership = partnerships::lock(conn, partnership_id, viewer, Reach::Money)?;
        partnerships::acting_party(conn, &partnership, viewer)?;
        let previous = check_settlement(
            period_end,
            now().date(),
            settled_until(conn, partnership_id)?,
        )?;
        let start = previous.unwrap_or(NaiveDate::from_ymd_opt(1, 1, 1).unwrap_or_default());
        let amounts = payouts(
            conn,
            partnership_id,
            viewer,
            start.and_time(chrono::NaiveTime::MIN),
            period_end.and_time(chrono::NaiveTime::MIN),
        )?;
        let row = SettlementRow {
            id: uuid::Uuid::now_v7().to_string(),
            partnership_id: partnership_id.to_owned(),
            period_start: previous,
            period_end,
            created_by: viewer.id.clone(),
            created_at: now(),
        };
        diesel::insert_into(settlements::table)
            .values(&row)
            .execute(conn)?;
        let allocated = amounts
            .iter()
            .map(|p| {
                let key = (
                    p.currency.clone(),
                    p.party_id.clone(),
                    p.beneficiary_name.clone(),
                );
                Ok((key, MinorUnits::new(p.net()?)))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let expenses = expenses::approved_in(conn, partnership_id, previous, period_end)?;
        let netted =
            net(&allocated, &expenses).ok_or(StoreError::Corrupt("a settlement overflows"))?;
        for l in netted {
            let (currency, party_id, beneficiary_name) = l.recipient;
            let line = SettlementLineRow {
                id: uuid::Uuid::now_v7().to_string(),
                settlement_id: row.id.clone(),
                currency,
                party_id,
                beneficiary_name,
                amount_minor: l.amount.get(),
                allocated_minor: l.allocated.get(),
                expenses_share_minor: l.expenses_share.get(),
                reimbursed_minor: l.reimbursed.get(),
            };
            diesel::insert_into(settlement_lines::table)
                .values(&line)
                .execute(conn)?;
        }
        outbox::record(
            conn,
            EventType::SettlementCreated,
            &json!({
                "settlement_id": row.id,
                "partnership_id": row.partnership_id,
                "period_start": row.period_start,
                "period_end": row.period_end,
            }),
        )?;
        view(conn, row)
    })
}

pub fn find(
    conn: &mut AnyConnection,
    id: &str,
    viewer: &Viewer,
) -> Result<SettlementView, StoreError> {
    let row = settlements::table
        .find(id)
        .first::<SettlementRow>(conn)
        .optional()?
        .ok_or(StoreError::NotFound)?;
    partnerships::find_visible(conn, &row.partnership_id, viewer, Reach::Money)?;
    view(conn, row)
}

/// A partnership's settlements, newest first.
pub fn list(
    conn: &mut AnyConnection,
    partnership_id: &str,
    viewer: &Viewer,
    seek: Seek<'_>,
) -> Result<Page<SettlementView>, StoreError> {
    partnerships::find_visible(conn, partnership_id, viewer, Reach::Money)?;
    let query = settlements::table
        .filter(settlements::partnership_id.eq(partnership_id))
        .into_boxed();
    let rows = newest_first!(query, settlements, seek).load::<SettlementRow>(conn)?;
    Page::from_overfetch(rows, seek.limit).try_map_rows(|rows| views(conn, rows))
}

/// Who a payment is for: a party or a beneficiary, optionally with the
/// currency (needed only when the recipient has lines in several).
#[derive(Debug, Clone)]
pub struct Payee {
    pub party_id: Option<String>,
    pub beneficiary_name: Option<String>,
    pub currency: Option<String>,
}

/// An accepted party records a payment made outside the platform; the
/// recipient's payments may not exceed its settled amount.
pub fn pay(
    conn: &mut AnyConnection,
    settlement_id: &str,
    viewer: &Viewer,
    payee: &Payee,
    amount: MinorUnits,
    paid_at: NaiveDateTime,
    reference: &str,
) -> Result<SettlementView, StoreError> {
    write_tx(conn, |conn| {
        let partnership_id = settlements::table
            .find(settlement_id)
            .select(settlements::partnership_id)
            .first::<String>(conn)
            .optional()?
            .ok_or(StoreError::NotFound)?;
        let partnership = partnerships::lock(conn, &partnership_id, viewer, Reach::Money)?;
        partnerships::acting_party(conn, &partnership, viewer)?;
        let current = find(conn, settlement_id, viewer)?;
        let matching: Vec<&SettlementLineRow> = current
            .lines
            .iter()
            .filter(|l| {
                l.party_id == payee.party_id
                    && l.beneficiary_name == payee.beneficiary_name
                    && payee.currency.as_ref().is_none_or(|c| *c == l.currency)
            })
            .collect();
        let owed: Vec<Owed> = matching
            .iter()
            .map(|line| {
                let paid: Vec<MinorUnits> = current
                    .payments
                    .iter()
                    .filter(|p| p.line_id == line.id)
                    .map(|p| MinorUnits::new(p.amount_minor))
                    .collect();
                Ok(Owed {
                    amount: MinorUnits::new(line.amount_minor),
                    paid: checked_sum(&paid)?,
                })
            })
            .collect::<Result<_, domain::FieldError>>()?;
        decide_payment(&owed, amount)?;
        let Some(line) = matching.first() else {
            return Err(StoreError::NotFound);
        };
        let row = PaymentRow {
            id: uuid::Uuid::now_v7().to_string(),
            settlement_id: settlement_id.to_owned(),
            line_id: line.id.clone(),
            amount_minor: amount.get(),
            paid_at,
            reference: reference.to_owned(),
            recorded_by: viewer.id.clone(),
            created_at: now(),
        };
        diesel::insert_into(payments::table)
            .values(&row)
            .execute(conn)?;
        let paid = notifications::speakers(conn, line.party_id.as_slice())?;
        notifications::notify(
            conn,
            NotificationKind::PaymentRecorded,
            paid,
            Some(&viewer.id),
            &About {
                kind: "settlement",
                id: settlement_id,
                data: json!({"partnership_id": partnership_id, "amount_minor": row.amount_minor,
                             "currency": line.currency}),
            },
        )?;
        find(conn, settlement_id, viewer)
    })
}
