//! Shared costs ("pool materials and booth fees"): an accepted party
//! records what it paid for the partnership; another accepted party
//! approves or rejects it; approved costs are shared by the split of the
//! agreement in force on the day they were incurred.

use chrono::NaiveDate;

use crate::account::text_enum;
use crate::agreement::ShareBps;
use crate::allocation::{allocate, Cumulative};
use crate::market_event::SaleTie;
use crate::money::{Currency, MinorUnits};
use crate::refusal::Denied;
use crate::sale::RevenueRefusal;
use crate::text;
use crate::{FieldError, FieldErrors};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpenseCategory {
    Materials,
    Booth,
    Travel,
    Marketing,
    Other,
}

text_enum!(ExpenseCategory { Materials => "materials", Booth => "booth", Travel => "travel", Marketing => "marketing", Other => "other" });

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpenseStatus {
    Pending,
    Approved,
    Rejected,
}

text_enum!(ExpenseStatus { Pending => "pending", Approved => "approved", Rejected => "rejected" });

/// Why a decision on an expense is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpenseRefusal {
    /// The payer does not decide on their own expense (→ 403).
    OwnExpense,
    AlreadyDecided,
    /// Approving an expense dated inside a settled period would change
    /// what that settlement nets (→ 409); rejecting it changes nothing.
    SettledPeriod,
}

/// An expense as recorded, checked: [`ExpenseFields::parse`] is the only
/// way to build one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpenseFields {
    amount: MinorUnits,
    currency: Currency,
    description: String,
    category: ExpenseCategory,
    incurred_on: NaiveDate,
    receipt_url: Option<String>,
}

impl ExpenseFields {
    /// A positive amount in a known currency, a description of 1–120
    /// characters, an `https` receipt link if any.
    pub fn parse(
        amount_minor: i64,
        currency: &str,
        description: &str,
        category: ExpenseCategory,
        incurred_on: NaiveDate,
        receipt_url: Option<&str>,
    ) -> Result<Self, FieldErrors> {
        let mut e = FieldErrors::default();
        let amount = e.take(MinorUnits::positive("amount_minor", amount_minor));
        let currency = e.take(Currency::parse("currency", currency));
        let description = e.take(text::title("description", description));
        let receipt_url = match receipt_url {
            Some(url) => e.take(text::web_url("receipt_url", url)).map(Some),
            None => Some(None),
        };
        match (amount, currency, description, receipt_url) {
            (Some(amount), Some(currency), Some(description), Some(receipt_url)) => {
                Ok(ExpenseFields {
                    amount,
                    currency,
                    description,
                    category,
                    incurred_on,
                    receipt_url,
                })
            }
            _ => Err(e),
        }
    }

    pub fn amount(&self) -> MinorUnits {
        self.amount
    }
    pub fn currency(&self) -> Currency {
        self.currency
    }
    pub fn description(&self) -> &str {
        &self.description
    }
    pub fn category(&self) -> ExpenseCategory {
        self.category
    }
    pub fn incurred_on(&self) -> NaiveDate {
        self.incurred_on
    }
    pub fn receipt_url(&self) -> Option<&str> {
        self.receipt_url.as_deref()
    }
}

/// What recording an expense needs beyond it, read under the
/// partnership's lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpenseContext<'a> {
    /// The end of the last settled period (exclusive), if any.
    pub settled_until: Option<NaiveDate>,
    /// The currency of the agreement in force on `incurred_on`, if any.
    pub in_force: Option<&'a str>,
    /// Whether `paid_by` names an accepted party of the partnership.
    pub payer_accepted: bool,
    /// How the partnership stands to the event the expense names, if any.
    pub event: Option<SaleTie>,
    /// How many accepted parties the partnership has.
    pub accepted_parties: usize,
}

/// Recording an expense: its day is not inside a settled period (409); an
/// agreement is in force then (422 `incurred_on`) and splits in its
/// currency (422 `currency`); the payer is an accepted party (422
/// `paid_by`); an event it names is one the partnership organises or takes
/// part in (422 `event_id`). A partnership with a single accepted party
/// approves its own expenses; otherwise another party decides.
pub fn record(fields: &ExpenseFields, ctx: &ExpenseContext<'_>) -> Result<ExpenseStatus, Denied> {
    if ctx
        .settled_until
        .is_some_and(|end| fields.incurred_on < end)
    {
        return Err(RevenueRefusal::SettledPeriod.into());
    }
    let mut e = FieldErrors::default();
    match ctx.in_force {
        None => e.push(FieldError::new(
            "incurred_on",
            "no_agreement",
            format!(
                "no agreement of this partnership is in force on {}",
                fields.incurred_on
            ),
        )),
        Some(currency) if currency != fields.currency.code() => e.push(FieldError::new(
            "currency",
            "currency_mismatch",
            format!(
                "the agreement in force on {} splits revenue in {currency}",
                fields.incurred_on
            ),
        )),
        Some(_) => {}
    }
    if !ctx.payer_accepted {
        e.push(FieldError::new(
            "paid_by",
            "not_accepted_party",
            "must be an accepted party of this partnership",
        ));
    }
    if let Some(tie) = ctx.event {
        e.take(tie.admits_sale());
    }
    e.finish(|| {
        if ctx.accepted_parties <= 1 {
            ExpenseStatus::Approved
        } else {
            ExpenseStatus::Pending
        }
    })
    .map_err(Denied::Invalid)
}

/// A pending expense as a decision on it sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pending<'a> {
    pub status: ExpenseStatus,
    pub payer: &'a str,
    pub incurred_on: NaiveDate,
    /// The end of the partnership's last settled period (exclusive), if any.
    pub settled_until: Option<NaiveDate>,
}

/// A decision on a pending expense by a caller speaking for `deciders`
/// (the accepted parties they act for): made for the first of them that is
/// not the payer; the payer alone cannot decide (403); a decided expense
/// stays decided (409); one dated inside a settled period may be rejected
/// but no longer approved (409), since that settlement did not net it and
/// settled periods do not change. Returns the deciding party and the new
/// status.
pub fn decide<'a>(
    expense: &Pending<'_>,
    deciders: &[&'a str],
    approve: bool,
) -> Result<(&'a str, ExpenseStatus), ExpenseRefusal> {
    if expense.status != ExpenseStatus::Pending {
        return Err(ExpenseRefusal::AlreadyDecided);
    }
    let party = deciders
        .iter()
        .find(|party| **party != expense.payer)
        .ok_or(ExpenseRefusal::OwnExpense)?;
    if !approve {
        return Ok((party, ExpenseStatus::Rejected));
    }
    if expense
        .settled_until
        .is_some_and(|end| expense.incurred_on < end)
    {
        return Err(ExpenseRefusal::SettledPeriod);
    }
    Ok((party, ExpenseStatus::Approved))
}

/// A decision's note: prose, may be empty ([`text::prose`]).
pub fn note(value: &str) -> Result<String, FieldError> {
    text::prose("note", value)
}

/// One approved expense as a settlement nets it: its amount, the
/// recipient that paid it (`payer`), and the recipients and shares of the
/// agreement in force on the day it was incurred, in the agreement's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Netted<K> {
    pub amount: MinorUnits,
    pub payer: K,
    pub recipients: Vec<K>,
    pub bps: Vec<ShareBps>,
}

/// One recipient's line of a settlement that nets expenses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetLine<K> {
    pub recipient: K,
    /// From sales and refunds, as payouts compute it.
    pub allocated: MinorUnits,
    /// Its part of the approved expenses.
    pub expenses_share: MinorUnits,
    /// What it laid out.
    pub reimbursed: MinorUnits,
    /// `allocated − expenses_share + reimbursed`; negative when it owes
    /// the others.
    pub amount: MinorUnits,
}

/// Nets approved expenses into a settlement's allocations. Each expense is
/// split by its agreement's shares with the allocation method (floor, then
/// the remaining units to the largest remainders, ties to the earlier
/// share), charged to each recipient and reimbursed to its payer; so the
/// amounts sum to the same total as the allocations. Recipients appear in
/// the order first met (allocations, then expenses). `None` on overflow.
pub fn net<K: Clone + PartialEq>(
    allocated: &[(K, MinorUnits)],
    expenses: &[Netted<K>],
) -> Option<Vec<NetLine<K>>> {
    let mut lines: Vec<NetLine<K>> = Vec::new();
    fn line<'l, K: Clone + PartialEq>(
        lines: &'l mut Vec<NetLine<K>>,
        key: &K,
    ) -> &'l mut NetLine<K> {
        let at = match lines.iter().position(|l| &l.recipient == key) {
            Some(at) => at,
            None => {
                lines.push(NetLine {
                    recipient: key.clone(),
                    allocated: MinorUnits::ZERO,
                    expenses_share: MinorUnits::ZERO,
                    reimbursed: MinorUnits::ZERO,
                    amount: MinorUnits::ZERO,
                });
                lines.len() - 1
            }
        };
        &mut lines[at]
    }
    for (key, amount) in allocated {
        let l = line(&mut lines, key);
        l.allocated = l.allocated.checked_add(*amount)?;
    }
    for expense in expenses {
        let parts = allocate(expense.amount, &expense.bps, &Cumulative::default());
        for (key, part) in expense.recipients.iter().zip(parts) {
            let l = line(&mut lines, key);
            l.expenses_share = l.expenses_share.checked_add(part)?;
        }
        let l = line(&mut lines, &expense.payer);
        l.reimbursed = l.reimbursed.checked_add(expense.amount)?;
    }
    for l in &mut lines {
        l.amount = l
            .allocated
            .checked_sub(l.expenses_share)?
            .checked_add(l.reimbursed)?;
    }
    Some(lines)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    fn fields() -> ExpenseFields {
        ExpenseFields::parse(
            30_000,
            "PEN",
            "Booth at the fair",
            ExpenseCategory::Booth,
            day("2026-03-01"),
            None,
        )
        .expect("valid")
    }

    fn ctx() -> ExpenseContext<'static> {
        ExpenseContext {
            settled_until: None,
            in_force: Some("PEN"),
            payer_accepted: true,
            event: None,
            accepted_parties: 2,
        }
    }

    #[test]
    fn fields_are_checked_together() {
        let errors = ExpenseFields::parse(
            0,
            "XYZ",
            "",
            ExpenseCategory::Other,
            day("2026-03-01"),
            Some("ftp://x"),
        )
        .expect_err("invalid");
        let names: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            names,
            ["amount_minor", "currency", "description", "receipt_url"]
        );
    }

    #[test]
    fn recording_needs_an_open_period_an_agreement_and_an_accepted_payer() {
        assert_eq!(record(&fields(), &ctx()), Ok(ExpenseStatus::Pending));
        let alone = ExpenseContext {
            accepted_parties: 1,
            ..ctx()
        };
        assert_eq!(record(&fields(), &alone), Ok(ExpenseStatus::Approved));
        let settled = ExpenseContext {
            settled_until: Some(day("2026-04-01")),
            ..ctx()
        };
        assert_eq!(
            record(&fields(), &settled),
            Err(RevenueRefusal::SettledPeriod.into())
        );
        let wrong = ExpenseContext {
            in_force: Some("USD"),
            payer_accepted: false,
            event: Some(SaleTie::Unrelated),
            ..ctx()
        };
        match record(&fields(), &wrong) {
            Err(Denied::Invalid(errors)) => {
                let names: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
                assert_eq!(names, ["currency", "paid_by", "event_id"]);
            }
            other => panic!("expected field errors, got {other:?}"),
        }
        let none = ExpenseContext {
            in_force: None,
            ..ctx()
        };
        assert!(matches!(record(&fields(), &none), Err(Denied::Invalid(_))));
    }

    fn bps(values: &[i64]) -> Vec<ShareBps> {
        values.iter().map(|b| ShareBps::new(*b)).collect()
    }

    #[test]
    fn a_booth_fee_paid_by_one_is_shared_by_the_split() {
        let allocated = [("a", MinorUnits::new(6000)), ("b", MinorUnits::new(4000))];
        let fee = Netted {
            amount: MinorUnits::new(1001),
            payer: "a",
            recipients: vec!["a", "b", "charity"],
            bps: bps(&[5000, 4000, 1000]),
        };
        let lines = net(&allocated, &[fee]).expect("no overflow");
        let got: Vec<(&str, i64, i64, i64, i64)> = lines
            .iter()
            .map(|l| {
                (
                    l.recipient,
                    l.allocated.get(),
                    l.expenses_share.get(),
                    l.reimbursed.get(),
                    l.amount.get(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("a", 6000, 501, 1001, 6500),
                ("b", 4000, 400, 0, 3600),
                ("charity", 0, 100, 0, -100)
            ]
        );
    }

    proptest! {
        /// The amounts sum to the allocations' total, each payer is
        /// reimbursed exactly what it laid out, and the shares of each
        /// expense sum to it.
        #[test]
        fn netting_keeps_the_total_and_reimburses_each_payer(
            allocated in proptest::collection::vec(0i64..1_000_000, 3),
            expenses in proptest::collection::vec((1i64..1_000_000, 0usize..3, 0i64..=10_000), 0..20),
        ) {
            let keys = [0usize, 1, 2];
            let allocated: Vec<(usize, MinorUnits)> =
                keys.iter().map(|k| (*k, MinorUnits::new(allocated[*k]))).collect();
            let netted: Vec<Netted<usize>> = expenses
                .iter()
                .map(|(amount, payer, first)| Netted {
                    amount: MinorUnits::new(*amount),
                    payer: *payer,
                    recipients: keys.to_vec(),
                    bps: bps(&[*first, (10_000 - first) / 2, 10_000 - first - (10_000 - first) / 2]),
                })
                .collect();
            let lines = net(&allocated, &netted).expect("no overflow");
            let total = |f: fn(&NetLine<usize>) -> i64| lines.iter().map(f).sum::<i64>();
            prop_assert_eq!(total(|l| l.amount.get()), total(|l| l.allocated.get()));
            let laid_out: i64 = expenses.iter().map(|e| e.0).sum();
            prop_assert_eq!(total(|l| l.expenses_share.get()), laid_out);
            for line in &lines {
                let paid: i64 = expenses.iter().filter(|e| e.1 == line.recipient).map(|e| e.0).sum();
                prop_assert_eq!(line.reimbursed.get(), paid);
            }
        }
    }

    #[test]
    fn another_party_decides_once() {
        let pending = |status, settled_until: Option<&str>| Pending {
            status,
            payer: "a",
            incurred_on: day("2026-03-05"),
            settled_until: settled_until.map(day),
        };
        let open = pending(ExpenseStatus::Pending, None);
        assert_eq!(
            decide(&open, &["b"], true),
            Ok(("b", ExpenseStatus::Approved))
        );
        assert_eq!(
            decide(&open, &["a", "c"], false),
            Ok(("c", ExpenseStatus::Rejected))
        );
        assert_eq!(decide(&open, &["a"], true), Err(ExpenseRefusal::OwnExpense));
        assert_eq!(
            decide(&pending(ExpenseStatus::Approved, None), &["b"], false),
            Err(ExpenseRefusal::AlreadyDecided)
        );
        // Settled through the expense's day: rejected, not approved.
        let settled = pending(ExpenseStatus::Pending, Some("2026-04-01"));
        assert_eq!(
            decide(&settled, &["b"], true),
            Err(ExpenseRefusal::SettledPeriod)
        );
        assert_eq!(
            decide(&settled, &["b"], false),
            Ok(("b", ExpenseStatus::Rejected))
        );
        // Settled up to the day itself (the end is exclusive): approved.
        assert_eq!(
            decide(
                &pending(ExpenseStatus::Pending, Some("2026-03-05")),
                &["b"],
                true
            ),
            Ok(("b", ExpenseStatus::Approved))
        );
    }
}
