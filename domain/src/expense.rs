//! Shared costs ("pool materials and booth fees"): an accepted party
//! records what it paid for the partnership; another accepted party
//! approves or rejects it; approved costs are shared by the split of the
//! agreement in force on the day they were incurred.

use chrono::NaiveDate;

use crate::account::text_enum;
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
}

/// A decision note: up to 1000 characters, may be empty.
pub const NOTE: usize = 1000;

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

/// A decision on a pending expense by a caller speaking for `deciders`
/// (the accepted parties they act for): made for the first of them that is
/// not the payer; the payer alone cannot decide (403); a decided expense
/// stays decided (409). Returns the deciding party and the new status.
pub fn decide<'a>(
    status: ExpenseStatus,
    payer: &str,
    deciders: &[&'a str],
    approve: bool,
) -> Result<(&'a str, ExpenseStatus), ExpenseRefusal> {
    if status != ExpenseStatus::Pending {
        return Err(ExpenseRefusal::AlreadyDecided);
    }
    let party = deciders
        .iter()
        .find(|party| **party != payer)
        .ok_or(ExpenseRefusal::OwnExpense)?;
    let status = if approve {
        ExpenseStatus::Approved
    } else {
        ExpenseStatus::Rejected
    };
    Ok((party, status))
}

/// A decision's note: 0–[`NOTE`] characters.
pub fn note(value: &str) -> Result<String, FieldError> {
    text::bounded("note", value, 0, NOTE, true)
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn another_party_decides_once() {
        assert_eq!(
            decide(ExpenseStatus::Pending, "a", &["b"], true),
            Ok(("b", ExpenseStatus::Approved))
        );
        assert_eq!(
            decide(ExpenseStatus::Pending, "a", &["a", "c"], false),
            Ok(("c", ExpenseStatus::Rejected))
        );
        assert_eq!(
            decide(ExpenseStatus::Pending, "a", &["a"], true),
            Err(ExpenseRefusal::OwnExpense)
        );
        assert_eq!(
            decide(ExpenseStatus::Approved, "a", &["b"], false),
            Err(ExpenseRefusal::AlreadyDecided)
        );
    }
}
