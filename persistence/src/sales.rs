//! Sales and refunds: each sale is split among the recipients of the
//! agreement in force when it occurred, in the transaction that records
//! it.
//!
//! Every sale or refund first locks the partnership row, so concurrent
//! sales of one partnership read and advance the agreement's running
//! totals (`allocation_totals`) one after the other: two sales can never
//! place their leftover units against the same state.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Integer, Nullable, Text, Timestamp};
use domain::agreement::{AgreementKind, AgreementStatus, Recipient, ShareBps, Terms};
use domain::money::MinorUnits;
use domain::partnership::Reach;
use domain::sale::{decide_refund, decide_sale, Channel, SaleContext, SaleFields, Split};

use crate::agreements::AgreementRow;
use crate::db::read_tx;
use crate::partnerships::{self, Viewer};
use crate::schema::{agreements, allocation_lines, allocation_totals, refunds, sales, settlements};
use crate::sum::group_sum;
use crate::Seek;
use crate::{campaigns, collections, impact, market_events};
use crate::{now, placeholder_row, sql_text, take_rows, write_tx, AnyConnection, Page, StoreError};

/// Inserted with its absent values as `NULL`, not `DEFAULT`, so that the
/// statement's text is the same for every sale and each connection
/// prepares it once.
#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = sales, treat_none_as_default_value = false)]
pub struct SaleRow {
    pub id: String,
    pub partnership_id: String,
    pub agreement_id: String,
    pub content_hash: String,
    pub amount_minor: i64,
    pub refunded_minor: i64,
    pub currency: String,
    pub occurred_at: NaiveDateTime,
    pub description: String,
    pub channel: String,
    pub event_id: Option<String>,
    pub item_sku: Option<String>,
    pub external_ref: Option<String>,
    pub recorded_by: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = refunds)]
pub struct RefundRow {
    pub id: String,
    pub sale_id: String,
    pub amount_minor: i64,
    pub reason: String,
    pub recorded_by: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = allocation_lines)]
pub struct LineRow {
    pub id: String,
    pub sale_id: String,
    pub refund_id: Option<String>,
    pub agreement_id: String,
    pub content_hash: String,
    pub share_index: i32,
    pub party_id: Option<String>,
    pub beneficiary_name: Option<String>,
    pub amount_minor: i64,
    pub currency: String,
    pub created_at: NaiveDateTime,
    /// The giving-back campaign the share names, if any.
    pub campaign_id: Option<String>,
    /// The share gives to its campaign anonymously.
    pub anonymous: bool,
}

/// A sale with its lines (sale lines first, then refund lines, each in
/// share order) and refunds.
#[derive(Debug, Clone)]
pub struct SaleView {
    pub sale: SaleRow,
    pub lines: Vec<LineRow>,
    pub refunds: Vec<RefundRow>,
    /// The terms of the agreement that split the sale (for naming the
    /// recipients of its lines).
    pub terms: Terms,
}

/// What a sale or an expense on `day` is decided against, read in one
/// statement: the agreement of the partnership in force that day (at most
/// one by the agreement rules), its running totals and the last day of the
/// settled periods.
pub struct InForce {
    pub agreement: Option<AgreementRow>,
    /// One per share, in order; empty until the agreement's first sale.
    pub held: Vec<MinorUnits>,
    pub settled_until: Option<NaiveDate>,
}

/// [`InForce`] on `day`.
pub fn in_force(
    conn: &mut AnyConnection,
    partnership_id: &str,
    day: NaiveDate,
) -> Result<InForce, StoreError> {
    let activated = [
        AgreementStatus::Active.as_str(),
        AgreementStatus::Superseded.as_str(),
        AgreementStatus::Terminated.as_str(),
    ];
    let settled = settlements::table
        .filter(settlements::partnership_id.eq(partnership_id))
        .select(diesel::dsl::max(settlements::period_end))
        .single_value();
    let rows = agreements::table
        .left_join(allocation_totals::table.on(allocation_totals::agreement_id.eq(agreements::id)))
        .filter(agreements::partnership_id.eq(partnership_id))
        .filter(agreements::status.eq_any(activated))
        .filter(agreements::kind.ne(AgreementKind::Termination.as_str()))
        .filter(agreements::effective_from.le(day))
        .filter(
            agreements::effective_until
                .is_null()
                .or(agreements::effective_until.ge(day)),
        )
        .filter(
            agreements::superseded_from
                .is_null()
                .or(agreements::superseded_from.gt(day)),
        )
        .order(allocation_totals::share_index.asc())
        .select((
            agreements::all_columns,
            allocation_totals::held_minor.nullable(),
            settled,
        ))
        .load::<(AgreementRow, Option<i64>, Option<NaiveDate>)>(conn)?;
    let mut rows = rows.into_iter();
    let Some((agreement, first, settled_until)) = rows.next() else {
        return Ok(InForce {
            agreement: None,
            held: Vec::new(),
            settled_until: settled_until(conn, partnership_id)?,
        });
    };
    let held = first
        .into_iter()
        .chain(rows.filter_map(|(_, held, _)| held))
        .map(MinorUnits::new)
        .collect();
    Ok(InForce {
        agreement: Some(agreement),
        held,
        settled_until,
    })
}

/// The days totals cover when no period is given: the first of year 1 up
/// to the last of year 9999 (later instants do not order as text on
/// SQLite), each as the start of its day; the last is exclusive.
pub fn all_time() -> (NaiveDate, NaiveDate) {
    (
        NaiveDate::from_ymd_opt(1, 1, 1).unwrap_or(NaiveDate::MIN),
        NaiveDate::from_ymd_opt(9999, 12, 31).unwrap_or(NaiveDate::MAX),
    )
}

/// The end of the partnership's last settled period, if any: nothing
/// that occurred before it may be recorded any more.
pub(crate) fn settled_until(
    conn: &mut AnyConnection,
    partnership_id: &str,
) -> Result<Option<NaiveDate>, StoreError> {
    Ok(settlements::table
        .filter(settlements::partnership_id.eq(partnership_id))
        .order(settlements::period_end.desc())
        .select(settlements::period_end)
        .first::<NaiveDate>(conn)
        .optional()?)
}

/// A sale to record.
#[derive(Debug, Clone)]
pub struct NewSale {
    pub fields: SaleFields,
    pub channel: Channel,
    pub occurred_at: NaiveDateTime,
}

/// Inserts the non-zero lines in one statement (diesel's multi-row insert
/// is not available through `MultiConnection`, so it is written as SQL text
/// of ids, integers and quoted names; the same text on both databases).
fn insert_lines(
    conn: &mut AnyConnection,
    sale: &SaleRow,
    refund_id: Option<&str>,
    terms: &Terms,
    amounts: &[MinorUnits],
) -> Result<Vec<LineRow>, StoreError> {
    let at = now();
    let mut out = Vec::with_capacity(amounts.len());
    for (i, (&amount, share)) in amounts.iter().zip(terms.shares()).enumerate() {
        if amount == MinorUnits::ZERO {
            continue;
        }
        let (party_id, beneficiary_name, campaign_id, anonymous) = match &share.recipient {
            Recipient::PartyId(id) => (Some(id.clone()), None, None, false),
            Recipient::Beneficiary(b) => (
                None,
                Some(b.name.clone()),
                b.campaign_id.clone(),
                b.public_credit == Some(false),
            ),
        };
        out.push(LineRow {
            id: uuid::Uuid::now_v7().to_string(),
            sale_id: sale.id.clone(),
            refund_id: refund_id.map(str::to_owned),
            agreement_id: sale.agreement_id.clone(),
            content_hash: sale.content_hash.clone(),
            share_index: i32::try_from(i).unwrap_or(i32::MAX),
            party_id,
            beneficiary_name,
            amount_minor: amount.get(),
            currency: sale.currency.clone(),
            created_at: at,
            campaign_id,
            anonymous,
        });
    }
    if out.is_empty() {
        return Ok(out);
    }
    const COLUMNS: usize = 13;
    let rows: Vec<String> = (0..out.len())
        .map(|i| placeholder_row(i * COLUMNS + 1, COLUMNS))
        .collect();
    let mut insert = sql_text(format!(
        "INSERT INTO allocation_lines (id, sale_id, refund_id, agreement_id, content_hash, share_index, \
         party_id, beneficiary_name, amount_minor, currency, created_at, campaign_id, anonymous) VALUES {}",
        rows.join(", ")
    ));
    for l in &out {
        insert = insert
            .bind::<Text, _>(l.id.clone())
            .bind::<Text, _>(l.sale_id.clone())
            .bind::<Nullable<Text>, _>(l.refund_id.clone())
            .bind::<Text, _>(l.agreement_id.clone())
            .bind::<Text, _>(l.content_hash.clone())
            .bind::<Integer, _>(l.share_index)
            .bind::<Nullable<Text>, _>(l.party_id.clone())
            .bind::<Nullable<Text>, _>(l.beneficiary_name.clone())
            .bind::<BigInt, _>(l.amount_minor)
            .bind::<Text, _>(l.currency.clone())
            .bind::<Timestamp, _>(l.created_at)
            .bind::<Nullable<Text>, _>(l.campaign_id.clone())
            .bind::<Bool, _>(l.anonymous);
    }
    insert.execute(conn)?;
    let given: Vec<campaigns::Given<'_>> = out
        .iter()
        .filter_map(|l| {
            l.campaign_id.as_deref().map(|campaign| campaigns::Given {
                campaign,
                anonymous: l.anonymous,
                currency: &l.currency,
                amount: l.amount_minor,
            })
        })
        .collect();
    campaigns::add_given(conn, &sale.partnership_id, sale.occurred_at.date(), &given)?;
    let received: Vec<impact::Received<'_>> = out
        .iter()
        .map(|l| impact::Received {
            party_id: l.party_id.as_deref(),
            amount: l.amount_minor,
        })
        .collect();
    impact::add_sales(
        conn,
        &sale.partnership_id,
        sale.occurred_at.date(),
        &sale.currency,
        &received,
    )?;
    Ok(out)
}

/// The agreement's running totals, one per share: `held` as read, or, on
/// its first sale, created at zero.
fn open_totals(
    conn: &mut AnyConnection,
    agreement_id: &str,
    shares: usize,
    held: Vec<MinorUnits>,
) -> Result<Vec<MinorUnits>, StoreError> {
    if !held.is_empty() {
        return Ok(held);
    }
    for i in 0..shares {
        diesel::insert_into(allocation_totals::table)
            .values((
                allocation_totals::agreement_id.eq(agreement_id),
                allocation_totals::share_index.eq(i32::try_from(i).unwrap_or(i32::MAX)),
                allocation_totals::held_minor.eq(0_i64),
            ))
            .execute(conn)?;
    }
    Ok(vec![MinorUnits::ZERO; shares])
}

/// An accepted party records a sale; it is split among the recipients of
/// the agreement in force at `occurred_at`.
pub fn record(
    conn: &mut AnyConnection,
    partnership_id: &str,
    viewer: &Viewer,
    sale: &NewSale,
) -> Result<SaleView, StoreError> {
    write_tx(conn, |conn| {
        let partnership = partnerships::lock(conn, partnership_id, viewer, Reach::Money)?;
        partnerships::acting_party(conn, &partnership, viewer)?;
        let day = sale.occurred_at.date();
        let InForce {
            agreement,
            held,
            settled_until,
        } = in_force(conn, partnership_id, day)?;
        let terms = agreement.as_ref().map(AgreementRow::terms).transpose()?;
        let bps: Vec<ShareBps> = terms
            .iter()
            .flat_map(|t| t.shares().iter().map(|s| s.share_bps))
            .collect();
        let held = match &agreement {
            Some(a) => open_totals(conn, &a.id, bps.len(), held)?,
            None => Vec::new(),
        };
        let ctx = SaleContext {
            event: sale
                .fields
                .event_id
                .as_deref()
                .map(|event| market_events::tie_to_sale(conn, event, partnership_id))
                .transpose()?,
            settled_until,
            in_force: agreement.as_ref().map(|a| Split {
                currency: &a.currency,
                bps: &bps,
                held: &held,
            }),
            item: match &sale.fields.item_sku {
                Some(sku) => collections::edition(conn, partnership_id, sku)?,
                None => None,
            },
        };
        let amounts = decide_sale(&sale.fields, day, &ctx)?;
        let (Some(agreement), Some(terms)) = (agreement, terms) else {
            return Err(StoreError::Corrupt("a sale was split without an agreement"));
        };
        let row = SaleRow {
            id: uuid::Uuid::now_v7().to_string(),
            partnership_id: partnership_id.to_owned(),
            agreement_id: agreement.id.clone(),
            content_hash: agreement.content_hash.clone(),
            amount_minor: sale.fields.amount_minor.get(),
            refunded_minor: 0,
            currency: agreement.currency.clone(),
            occurred_at: sale.occurred_at,
            description: sale.fields.description.clone(),
            channel: sale.channel.as_str().to_owned(),
            event_id: sale.fields.event_id.clone(),
            item_sku: sale.fields.item_sku.clone(),
            external_ref: sale.fields.external_ref.clone(),
            recorded_by: viewer.id.clone(),
            created_at: now(),
        };
        diesel::insert_into(sales::table)
            .values(&row)
            .execute(conn)?;
        let lines = insert_lines(conn, &row, None, &terms, &amounts)?;
        // All shares' totals advance in one statement.
        let moved: Vec<(i32, i64)> = amounts
            .iter()
            .enumerate()
            .filter(|(_, a)| **a != MinorUnits::ZERO)
            .map(|(i, a)| (i32::try_from(i).unwrap_or(i32::MAX), a.get()))
            .collect();
        if !moved.is_empty() {
            let cases: String = (0..moved.len())
                .map(|n| format!(" WHEN ${} THEN ${}", 2 * n + 1, 2 * n + 2))
                .collect();
            let last = 2 * moved.len() + 1;
            let mut update = sql_text(format!(
                "UPDATE allocation_totals SET held_minor = held_minor + CASE share_index{cases} ELSE 0 END \
                 WHERE agreement_id = ${last}"
            ));
            for (index, amount) in moved {
                update = update.bind::<Integer, _>(index).bind::<BigInt, _>(amount);
            }
            update.bind::<Text, _>(agreement.id.clone()).execute(conn)?;
        }
        Ok(SaleView {
            sale: row,
            lines,
            refunds: Vec::new(),
            terms,
        })
    })
}

fn find_row(conn: &mut AnyConnection, id: &str) -> Result<SaleRow, StoreError> {
    sales::table
        .find(id)
        .first::<SaleRow>(conn)
        .optional()?
        .ok_or(StoreError::NotFound)
}

/// The sales with their lines, refunds and terms: three queries for the
/// whole page, not three per sale.
fn views(conn: &mut AnyConnection, sales: Vec<SaleRow>) -> Result<Vec<SaleView>, StoreError> {
    let ids: Vec<&str> = sales.iter().map(|s| s.id.as_str()).collect();
    let mut lines = allocation_lines::table
        .filter(allocation_lines::sale_id.eq_any(&ids))
        // The sale's own lines (no refund) first on both databases, which
        // disagree on where NULL sorts.
        .order((
            allocation_lines::refund_id.is_not_null().asc(),
            allocation_lines::refund_id.asc(),
            allocation_lines::share_index.asc(),
        ))
        .load::<LineRow>(conn)?;
    let mut refunds = refunds::table
        .filter(refunds::sale_id.eq_any(&ids))
        .order(refunds::id.asc())
        .load::<RefundRow>(conn)?;
    let mut agreement_ids: Vec<&str> = sales.iter().map(|s| s.agreement_id.as_str()).collect();
    agreement_ids.sort_unstable();
    agreement_ids.dedup();
    let terms = agreements::table
        .filter(agreements::id.eq_any(&agreement_ids))
        .load::<AgreementRow>(conn)?
        .into_iter()
        .map(|a| Ok((a.id.clone(), a.terms()?)))
        .collect::<Result<Vec<(String, Terms)>, StoreError>>()?;
    sales
        .into_iter()
        .map(|sale| {
            let mine = take_rows(&mut lines, |l| l.sale_id == sale.id);
            let its_refunds = take_rows(&mut refunds, |r| r.sale_id == sale.id);
            let terms = terms
                .iter()
                .find(|(id, _)| *id == sale.agreement_id)
                .map(|(_, t)| t.clone())
                .ok_or(StoreError::NotFound)?;
            Ok(SaleView {
                sale,
                lines: mine,
                refunds: its_refunds,
                terms,
            })
        })
        .collect()
}

fn view(conn: &mut AnyConnection, sale: SaleRow) -> Result<SaleView, StoreError> {
    views(conn, vec![sale])?.pop().ok_or(StoreError::NotFound)
}

/// A sale, if the viewer may see its partnership.
pub fn find(conn: &mut AnyConnection, id: &str, viewer: &Viewer) -> Result<SaleView, StoreError> {
    let sale = find_row(conn, id)?;
    partnerships::find_visible(conn, &sale.partnership_id, viewer, Reach::Money)?;
    view(conn, sale)
}

/// A partnership's sales, newest first, with their lines.
pub fn list(
    conn: &mut AnyConnection,
    partnership_id: &str,
    viewer: &Viewer,
    seek: Seek<'_>,
) -> Result<Page<SaleView>, StoreError> {
    partnerships::find_visible(conn, partnership_id, viewer, Reach::Money)?;
    let query = sales::table
        .filter(sales::partnership_id.eq(partnership_id))
        .into_boxed();
    let rows = newest_first!(query, sales, seek).load::<SaleRow>(conn)?;
    Page::from_overfetch(rows, seek.limit).try_map_rows(|rows| views(conn, rows))
}

/// An accepted party refunds (part of) a sale: negative lines in
/// proportion to what each recipient still holds from it.
pub fn refund(
    conn: &mut AnyConnection,
    sale_id: &str,
    viewer: &Viewer,
    amount: MinorUnits,
    reason: &str,
) -> Result<(RefundRow, SaleView), StoreError> {
    write_tx(conn, |conn| {
        let partnership_id = find_row(conn, sale_id)?.partnership_id;
        let partnership = partnerships::lock(conn, &partnership_id, viewer, Reach::Money)?;
        partnerships::acting_party(conn, &partnership, viewer)?;
        let mut sale = find_row(conn, sale_id)?;
        let agreement = agreements::table
            .find(&sale.agreement_id)
            .first::<AgreementRow>(conn)?;
        let terms = agreement.terms()?;
        let lines: Vec<(usize, MinorUnits)> = allocation_lines::table
            .filter(allocation_lines::sale_id.eq(sale_id))
            .select((
                allocation_lines::share_index,
                allocation_lines::amount_minor,
            ))
            .load::<(i32, i64)>(conn)?
            .into_iter()
            .map(|(share, amount)| {
                (
                    usize::try_from(share).unwrap_or(usize::MAX),
                    MinorUnits::new(amount),
                )
            })
            .collect();
        let amounts = decide_refund(
            amount,
            MinorUnits::new(sale.amount_minor),
            MinorUnits::new(sale.refunded_minor),
            terms.shares().len(),
            &lines,
        )?;
        let row = RefundRow {
            id: uuid::Uuid::now_v7().to_string(),
            sale_id: sale_id.to_owned(),
            amount_minor: amount.get(),
            reason: reason.to_owned(),
            recorded_by: viewer.id.clone(),
            created_at: now(),
        };
        diesel::insert_into(refunds::table)
            .values(&row)
            .execute(conn)?;
        insert_lines(conn, &sale, Some(&row.id), &terms, &amounts)?;
        sale.refunded_minor = sale
            .refunded_minor
            .checked_add(amount.get())
            .ok_or(StoreError::Corrupt("refunded amount overflows"))?;
        diesel::update(sales::table.find(sale_id))
            .set(sales::refunded_minor.eq(sale.refunded_minor))
            .execute(conn)?;
        Ok((row, view(conn, sale)?))
    })
}

/// One recipient's money in a period, in one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payout {
    pub currency: String,
    pub party_id: Option<String>,
    pub beneficiary_name: Option<String>,
    /// From sales that occurred in the period.
    pub gross: i64,
    /// From refunds recorded in the period (≤ 0).
    pub refunded: i64,
}

impl Payout {
    /// What the recipient is owed for the period: gross plus (negative)
    /// refunds.
    pub fn net(&self) -> Result<i64, StoreError> {
        self.gross
            .checked_add(self.refunded)
            .ok_or(StoreError::Corrupt("a payout overflows"))
    }
}

/// A period's payouts in one currency, and the net sales they sum to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrencyPayouts {
    pub currency: String,
    /// Sales in the period minus refunds recorded in it, from the sales
    /// and refunds themselves (not their lines).
    pub net_sales: i64,
    pub recipients: Vec<Payout>,
}

/// The payouts of a period and the net sales they must sum to, read on
/// one snapshot so that the two agree.
pub fn payout_report(
    conn: &mut AnyConnection,
    partnership_id: &str,
    viewer: &Viewer,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> Result<Vec<CurrencyPayouts>, StoreError> {
    read_tx(conn, |conn| {
        let rows = payouts(conn, partnership_id, viewer, from, to)?;
        let totals = net_sales(conn, partnership_id, from, to)?;
        let mut out: Vec<CurrencyPayouts> = Vec::new();
        for payout in rows {
            if out.last().is_none_or(|c| c.currency != payout.currency) {
                let net_sales = totals
                    .iter()
                    .find(|(c, _)| *c == payout.currency)
                    .map_or(0, |(_, n)| *n);
                out.push(CurrencyPayouts {
                    currency: payout.currency.clone(),
                    net_sales,
                    recipients: Vec::new(),
                });
            }
            if let Some(currency) = out.last_mut() {
                currency.recipients.push(payout);
            }
        }
        Ok(out)
    })
}

/// Per recipient and currency: what the partnership's sales that occurred
/// in `[from, to)` gave them, and what refunds recorded in that period
/// took back. The nets sum to the period's net sales.
pub fn payouts(
    conn: &mut AnyConnection,
    partnership_id: &str,
    viewer: &Viewer,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> Result<Vec<Payout>, StoreError> {
    partnerships::find_visible(conn, partnership_id, viewer, Reach::Money)?;
    recipient_totals(conn, partnership_id, from, to)
}

/// [`payouts`] for whoever may read them (the caller checked).
pub(crate) fn recipient_totals(
    conn: &mut AnyConnection,
    partnership_id: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> Result<Vec<Payout>, StoreError> {
    type Sum = (String, Option<String>, Option<String>, i64);
    // Summed in the database.
    let total = || group_sum(allocation_lines::amount_minor);
    let group = (
        allocation_lines::currency,
        allocation_lines::party_id,
        allocation_lines::beneficiary_name,
    );
    let sold: Vec<Sum> = allocation_lines::table
        .inner_join(sales::table)
        .filter(sales::partnership_id.eq(partnership_id))
        .filter(allocation_lines::refund_id.is_null())
        .filter(sales::occurred_at.ge(from))
        .filter(sales::occurred_at.lt(to))
        .group_by(group)
        .select((group.0, group.1, group.2, total()))
        .load(conn)?;
    let given_back: Vec<Sum> = allocation_lines::table
        .inner_join(refunds::table)
        .inner_join(sales::table)
        .filter(sales::partnership_id.eq(partnership_id))
        .filter(refunds::created_at.ge(from))
        .filter(refunds::created_at.lt(to))
        .group_by(group)
        .select((group.0, group.1, group.2, total()))
        .load(conn)?;
    let mut out: Vec<Payout> = Vec::new();
    for (refunded, sums) in [(false, sold), (true, given_back)] {
        for (currency, party_id, beneficiary_name, amount) in sums {
            let at = match out.iter().position(|p| {
                p.currency == currency
                    && p.party_id == party_id
                    && p.beneficiary_name == beneficiary_name
            }) {
                Some(i) => i,
                None => {
                    out.push(Payout {
                        currency,
                        party_id,
                        beneficiary_name,
                        gross: 0,
                        refunded: 0,
                    });
                    out.len() - 1
                }
            };
            let total = if refunded {
                &mut out[at].refunded
            } else {
                &mut out[at].gross
            };
            *total = total
                .checked_add(amount)
                .ok_or(StoreError::Corrupt("a payout overflows"))?;
        }
    }
    out.sort_by(|a, b| {
        (&a.currency, &a.party_id, &a.beneficiary_name).cmp(&(
            &b.currency,
            &b.party_id,
            &b.beneficiary_name,
        ))
    });
    Ok(out)
}

/// Per currency: the amounts of sales that occurred in `[from, to)` minus
/// the refunds recorded then, from the sales and refunds themselves (not
/// their lines), to check the payouts against.
fn net_sales(
    conn: &mut AnyConnection,
    partnership_id: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> Result<Vec<(String, i64)>, StoreError> {
    let sold: Vec<(String, i64)> = sales::table
        .filter(sales::partnership_id.eq(partnership_id))
        .filter(sales::occurred_at.ge(from))
        .filter(sales::occurred_at.lt(to))
        .group_by(sales::currency)
        .select((sales::currency, group_sum(sales::amount_minor)))
        .load(conn)?;
    let refunded: Vec<(String, i64)> = refunds::table
        .inner_join(sales::table)
        .filter(sales::partnership_id.eq(partnership_id))
        .filter(refunds::created_at.ge(from))
        .filter(refunds::created_at.lt(to))
        .group_by(sales::currency)
        .select((sales::currency, group_sum(refunds::amount_minor)))
        .load(conn)?;
    let mut out: Vec<(String, i64)> = Vec::new();
    for (currency, amount) in sold
        .into_iter()
        .chain(refunded.into_iter().map(|(c, a)| (c, -a)))
    {
        match out.iter_mut().find(|(c, _)| *c == currency) {
            Some((_, total)) => {
                *total = total
                    .checked_add(amount)
                    .ok_or(StoreError::Corrupt("net sales overflow"))?;
            }
            None => out.push((currency, amount)),
        }
    }
    out.sort();
    Ok(out)
}

/// One line of an artisan's statement.
#[derive(Debug, Clone)]
pub struct StatementLine {
    pub line: LineRow,
    pub partnership_id: String,
    /// The sale's `occurred_at`, or the refund's recording time.
    pub dated: NaiveDateTime,
    pub description: String,
}

/// The lines of `artisan`'s own party (not of collectives they belong to)
/// in every partnership: sale lines by `occurred_at` and refund lines by
/// the refund's date, in `[from, to)`, optionally of one currency; oldest
/// first.
pub fn statement(
    conn: &mut AnyConnection,
    artisan: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
    currency: Option<&str>,
) -> Result<Vec<StatementLine>, StoreError> {
    use crate::schema::partnership_parties;
    let mine = partnership_parties::table
        .filter(partnership_parties::artisan_id.eq(artisan.to_owned()))
        .select(partnership_parties::id.nullable());
    let mut sold = allocation_lines::table
        .inner_join(sales::table)
        .filter(allocation_lines::party_id.eq_any(mine))
        .filter(allocation_lines::refund_id.is_null())
        .filter(sales::occurred_at.ge(from))
        .filter(sales::occurred_at.lt(to))
        .select((
            allocation_lines::all_columns,
            sales::partnership_id,
            sales::occurred_at,
            sales::description,
        ))
        .into_boxed();
    let mine = partnership_parties::table
        .filter(partnership_parties::artisan_id.eq(artisan.to_owned()))
        .select(partnership_parties::id.nullable());
    let mut given_back = allocation_lines::table
        .inner_join(refunds::table)
        .inner_join(sales::table)
        .filter(allocation_lines::party_id.eq_any(mine))
        .filter(refunds::created_at.ge(from))
        .filter(refunds::created_at.lt(to))
        .select((
            allocation_lines::all_columns,
            sales::partnership_id,
            refunds::created_at,
            refunds::reason,
        ))
        .into_boxed();
    if let Some(c) = currency {
        sold = sold.filter(allocation_lines::currency.eq(c.to_owned()));
        given_back = given_back.filter(allocation_lines::currency.eq(c.to_owned()));
    }
    type Row = (LineRow, String, NaiveDateTime, String);
    let mut lines: Vec<StatementLine> = sold
        .load::<Row>(conn)?
        .into_iter()
        .chain(given_back.load::<Row>(conn)?)
        .map(|(line, partnership_id, dated, description)| StatementLine {
            line,
            partnership_id,
            dated,
            description,
        })
        .collect();
    lines.sort_by(|a, b| (a.dated, &a.line.id).cmp(&(b.dated, &b.line.id)));
    Ok(lines)
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::atomic::Ordering;

    use diesel::RunQueryDsl;

    use super::SaleRow;
    use crate::schema::sales;
    use crate::sql_text::tests::{connections, count_cached};
    use crate::{now, AnyConnection};

    /// A table of the same columns in place of `sales` (a temporary table
    /// comes first by name), without the rows `sales` refers to.
    pub(crate) fn stand_in_sales(conn: &mut AnyConnection) {
        diesel::sql_query(
            "CREATE TEMPORARY TABLE sales (id TEXT PRIMARY KEY, partnership_id TEXT NOT NULL, \
             agreement_id TEXT NOT NULL, content_hash TEXT NOT NULL, amount_minor BIGINT NOT NULL, \
             refunded_minor BIGINT NOT NULL, currency TEXT NOT NULL, occurred_at TIMESTAMP NOT NULL, \
             description TEXT NOT NULL, channel TEXT NOT NULL, event_id TEXT, item_sku TEXT, \
             external_ref TEXT, recorded_by TEXT NOT NULL, created_at TIMESTAMP NOT NULL)",
        )
        .execute(conn)
        .expect("table");
    }

    #[test]
    fn a_sale_is_inserted_by_one_prepared_statement_whatever_it_leaves_out() {
        for mut conn in connections() {
            stand_in_sales(&mut conn);
            let cached = count_cached(&mut conn);
            let sale = |id: &str, present: bool| SaleRow {
                id: id.to_owned(),
                partnership_id: "p".to_owned(),
                agreement_id: "a".to_owned(),
                content_hash: "h".to_owned(),
                amount_minor: 100,
                refunded_minor: 0,
                currency: "PEN".to_owned(),
                occurred_at: now(),
                description: String::new(),
                channel: "online".to_owned(),
                event_id: present.then(|| "e".to_owned()),
                item_sku: present.then(|| "sku-1".to_owned()),
                external_ref: present.then(|| "order-7".to_owned()),
                recorded_by: "u".to_owned(),
                created_at: now(),
            };
            for row in [sale("s1", false), sale("s2", true), sale("s3", false)] {
                diesel::insert_into(sales::table)
                    .values(&row)
                    .execute(&mut conn)
                    .expect("insert");
            }
            assert_eq!(cached.load(Ordering::SeqCst), 1);
        }
    }
}
