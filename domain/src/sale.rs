//! Sales recorded by a partnership, and refunds of them.

use chrono::NaiveDate;

use crate::account::text_enum;
use crate::agreement::ShareBps;
use crate::allocation::{allocate, refund as refund_lines, Cumulative};
use crate::money::{Currency, MinorUnits};
use crate::refusal::Denied;
use crate::text;
use crate::{FieldError, FieldErrors};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    MarketEvent,
    Online,
    Wholesale,
    Other,
}

text_enum!(Channel { MarketEvent => "market_event", Online => "online", Wholesale => "wholesale", Other => "other" });

/// Why a change to a partnership's money is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevenueRefusal {
    /// A sale dated inside a settled period: settled periods do not change.
    SettledPeriod,
}

pub const DESCRIPTION: usize = 500;
pub const SKU: usize = 64;
pub const EXTERNAL_REF: usize = 200;
pub const REASON: usize = 1000;
pub const REFERENCE: usize = 1000;

/// A positive amount with the text that accounts for it: a refund's
/// `reason` or a payment's `reference` (1 to `max` characters).
pub fn accounted_amount(
    amount_minor: i64,
    field: &str,
    text: &str,
    max: usize,
) -> Result<(MinorUnits, String), FieldErrors> {
    let mut errors = FieldErrors::default();
    let amount = errors.take(MinorUnits::positive("amount_minor", amount_minor));
    let text = errors.take(text::bounded(field, text, 1, max, true));
    match (amount, text, errors.is_empty()) {
        (Some(amount), Some(text), true) => Ok((amount, text)),
        _ => Err(errors),
    }
}

/// A sale's own fields, validated (the agreement rules come later).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaleFields {
    pub amount_minor: MinorUnits,
    pub currency: Currency,
    pub description: String,
    pub event_id: Option<String>,
    pub item_sku: Option<String>,
    pub external_ref: Option<String>,
}

impl SaleFields {
    pub fn new(
        amount_minor: i64,
        currency: &str,
        description: &str,
        event_id: Option<&str>,
        item_sku: Option<&str>,
        external_ref: Option<&str>,
    ) -> Result<Self, FieldErrors> {
        let mut e = FieldErrors::default();
        let amount = e.take(MinorUnits::positive("amount_minor", amount_minor));
        let currency = e.take(Currency::parse("currency", currency));
        let description = e
            .take(text::bounded(
                "description",
                description,
                0,
                DESCRIPTION,
                true,
            ))
            .unwrap_or_default();
        let event_id = event_id.and_then(|id| {
            e.take(
                uuid::Uuid::parse_str(id)
                    .map(|u| u.to_string())
                    .map_err(|_| FieldError::new("event_id", "invalid_uuid", "must be a UUID")),
            )
        });
        let item_sku = item_sku.and_then(|s| e.take(text::bounded("item_sku", s, 1, SKU, false)));
        let external_ref = external_ref
            .and_then(|s| e.take(text::bounded("external_ref", s, 1, EXTERNAL_REF, false)));
        match (amount, currency, e.is_empty()) {
            (Some(amount_minor), Some(currency), true) => Ok(SaleFields {
                amount_minor,
                currency,
                description,
                event_id,
                item_sku,
                external_ref,
            }),
            _ => Err(e),
        }
    }
}

/// The agreement in force on a sale's day, as the split needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split<'a> {
    pub currency: &'a str,
    /// The shares, in the agreement's order.
    pub bps: &'a [ShareBps],
    /// What each share holds from the agreement's earlier sales.
    pub held: &'a [MinorUnits],
}

/// What recording a sale needs beyond the sale, read under the
/// partnership's lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaleContext<'a> {
    /// How the partnership stands to the market event the sale names
    /// (`None`: it names none).
    pub event: Option<crate::market_event::SaleTie>,
    /// The end of the last settled period (exclusive), if any.
    pub settled_until: Option<NaiveDate>,
    /// The agreement in force on the sale's day, if any.
    pub in_force: Option<Split<'a>>,
    /// The collection item the sale's sku names, if it names one: its
    /// edition size (`None`: not a numbered edition) and the pieces out.
    pub item: Option<(Option<i64>, crate::collection::EditionCount)>,
}

/// Recording a sale on `day`: the event it names exists; its day is not
/// inside a settled period; an agreement is in force then and splits in
/// the sale's currency; a numbered edition it names has a piece left.
/// Returns each share's part
/// ([`crate::allocation::allocate`]: exact, without drift).
pub fn decide_sale(
    fields: &SaleFields,
    day: NaiveDate,
    ctx: &SaleContext<'_>,
) -> Result<Vec<MinorUnits>, Denied> {
    if let Some(tie) = ctx.event {
        tie.admits_sale()?;
    }
    if ctx.settled_until.is_some_and(|end| day < end) {
        return Err(RevenueRefusal::SettledPeriod.into());
    }
    if let Some((size, count)) = ctx.item {
        count.admits_sale(size)?;
    }
    let Some(split) = &ctx.in_force else {
        return Err(FieldError::new(
            "occurred_at",
            "no_agreement",
            format!("no agreement of this partnership is in force on {day}"),
        )
        .into());
    };
    if split.currency != fields.currency.code() {
        return Err(FieldError::new(
            "currency",
            "currency_mismatch",
            format!(
                "the agreement in force on {day} splits revenue in {}",
                split.currency
            ),
        )
        .into());
    }
    let before = Cumulative {
        sales: checked_sum(split.held)?,
        held: split.held.to_vec(),
    };
    Ok(allocate(fields.amount_minor, split.bps, &before))
}

/// A sum of minor units that must not overflow (it never does for real
/// money; if stored data said otherwise, refusing beats wrapping).
pub fn checked_sum(amounts: &[MinorUnits]) -> Result<MinorUnits, FieldError> {
    MinorUnits::checked_sum(amounts.iter().copied())
        .ok_or_else(|| FieldError::new("amount_minor", "overflow", "the total is too large"))
}

/// A refund of `amount` from a sale of `sold` minor units of which
/// `refunded` was given back already: at most what is left. Each of the
/// `shares` gives back in proportion to what it still holds from the sale
/// ([`crate::allocation::refund`]); `lines` are the sale's allocation
/// lines so far as (share index, amount — negative for refund lines).
pub fn decide_refund(
    amount: MinorUnits,
    sold: MinorUnits,
    refunded: MinorUnits,
    shares: usize,
    lines: &[(usize, MinorUnits)],
) -> Result<Vec<MinorUnits>, FieldError> {
    let left = sold.checked_sub(refunded).unwrap_or(MinorUnits::ZERO);
    if amount > left {
        return Err(FieldError::new(
            "amount_minor",
            "exceeds_unrefunded",
            format!("at most {left} minor units of this sale are left to refund"),
        ));
    }
    let mut received = vec![MinorUnits::ZERO; shares];
    let mut given_back = vec![MinorUnits::ZERO; shares];
    let overflow = || FieldError::new("amount_minor", "overflow", "the total is too large");
    for &(share, line) in lines {
        let (Some(r), Some(g)) = (received.get_mut(share), given_back.get_mut(share)) else {
            continue;
        };
        if line >= MinorUnits::ZERO {
            *r = r.checked_add(line).ok_or_else(overflow)?;
        } else {
            *g = g.checked_sub(line).ok_or_else(overflow)?;
        }
    }
    Ok(refund_lines(amount, &received, &given_back))
}

/// Settling the period up to `period_end` (exclusive): not after `today`
/// (sales may still come in), and after the last settled period. Returns
/// the period's first day (`None`: the beginning).
pub fn check_settlement(
    period_end: NaiveDate,
    today: NaiveDate,
    previous: Option<NaiveDate>,
) -> Result<Option<NaiveDate>, FieldErrors> {
    let mut errors = FieldErrors::default();
    if period_end > today {
        errors.push(FieldError::new(
            "period_end",
            "in_future",
            format!("must not be after today ({today}): sales may still come in"),
        ));
    }
    if let Some(last) = previous.filter(|last| period_end <= *last) {
        errors.push(FieldError::new(
            "period_end",
            "already_settled",
            format!("must be after the end of the last settled period ({last})"),
        ));
    }
    errors.finish(|| previous)
}

/// What a settlement owes one recipient in one currency, and what has
/// been paid against it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owed {
    pub amount: MinorUnits,
    pub paid: MinorUnits,
}

/// A payment against a settlement: `matching` are the lines of the named
/// recipient (in the named currency, if one was named). Exactly one must
/// match, and the payment must not exceed what is outstanding on it.
pub fn decide_payment(matching: &[Owed], amount: MinorUnits) -> Result<(), FieldError> {
    let owed = match matching {
        [one] => *one,
        [] => {
            return Err(FieldError::new(
                "recipient",
                "not_in_settlement",
                "has no amount in this settlement",
            ))
        }
        _ => {
            return Err(FieldError::new(
                "currency",
                "required",
                "this recipient is owed in several currencies; name one",
            ))
        }
    };
    if owed.amount < MinorUnits::ZERO {
        return Err(FieldError::new(
            "recipient",
            "owes_others",
            "this recipient owes the others in this settlement; nothing is paid to it",
        ));
    }
    let outstanding = owed
        .amount
        .checked_sub(owed.paid)
        .unwrap_or(MinorUnits::ZERO);
    if amount > outstanding {
        return Err(FieldError::new(
            "amount_minor",
            "overpayment",
            format!("at most {outstanding} minor units are outstanding for this recipient"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market_event::SaleTie;

    #[test]
    fn sales_are_positive_in_a_known_currency() {
        assert!(SaleFields::new(1, "PEN", "", None, None, None).is_ok());
        let fields = |r: Result<SaleFields, FieldErrors>| {
            r.err()
                .map(|e| e.0.into_iter().map(|e| e.field).collect::<Vec<_>>())
        };
        assert_eq!(
            fields(SaleFields::new(0, "XYZ", "", Some("nope"), Some(""), None)),
            Some(vec![
                "amount_minor".to_owned(),
                "currency".to_owned(),
                "event_id".to_owned(),
                "item_sku".to_owned()
            ])
        );
    }

    fn units(values: &[i64]) -> Vec<MinorUnits> {
        values.iter().copied().map(MinorUnits::new).collect()
    }

    fn split<'a>(bps: &'a [ShareBps], held: &'a [MinorUnits]) -> Option<Split<'a>> {
        Some(Split {
            currency: "PEN",
            bps,
            held,
        })
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    #[test]
    fn a_sale_needs_an_open_period_and_an_agreement_in_its_currency() {
        let fields = SaleFields::new(1000, "PEN", "", None, None, None).expect("valid");
        let ctx = |settled: Option<&str>, in_force| SaleContext {
            event: None,
            settled_until: settled.map(day),
            in_force,
            item: None,
        };
        let bps = [ShareBps::new(6000), ShareBps::new(4000)];
        let held = units(&[0, 0]);
        assert_eq!(
            decide_sale(&fields, day("2026-03-01"), &ctx(None, split(&bps, &held))),
            Ok(units(&[600, 400]))
        );
        assert_eq!(
            decide_sale(
                &fields,
                day("2026-03-01"),
                &ctx(Some("2026-04-01"), split(&bps, &held))
            ),
            Err(RevenueRefusal::SettledPeriod.into())
        );
        let field = |r: Result<Vec<MinorUnits>, Denied>| match r {
            Err(Denied::Invalid(e)) => e.0[0].field.clone(),
            _ => String::new(),
        };
        assert_eq!(
            field(decide_sale(&fields, day("2026-03-01"), &ctx(None, None))),
            "occurred_at"
        );
        let dollars = SaleFields::new(1000, "USD", "", None, None, None).expect("valid");
        assert_eq!(
            field(decide_sale(
                &dollars,
                day("2026-03-01"),
                &ctx(None, split(&bps, &held))
            )),
            "currency"
        );
        for tie in [SaleTie::Unknown, SaleTie::Unrelated] {
            let elsewhere = SaleContext {
                event: Some(tie),
                ..ctx(None, split(&bps, &held))
            };
            assert_eq!(
                field(decide_sale(&fields, day("2026-03-01"), &elsewhere)),
                "event_id"
            );
        }
        let at_the_fair = SaleContext {
            event: Some(SaleTie::Related),
            ..ctx(None, split(&bps, &held))
        };
        assert!(decide_sale(&fields, day("2026-03-01"), &at_the_fair).is_ok());
        let pieces = |sold| crate::collection::EditionCount { sold, refunded: 0 };
        let last_piece = SaleContext {
            item: Some((Some(12), pieces(11))),
            ..ctx(None, split(&bps, &held))
        };
        assert!(decide_sale(&fields, day("2026-03-01"), &last_piece).is_ok());
        let sold_out = SaleContext {
            item: Some((Some(12), pieces(12))),
            ..ctx(None, split(&bps, &held))
        };
        assert_eq!(
            decide_sale(&fields, day("2026-03-01"), &sold_out),
            Err(crate::collection::CollectionRefusal::EditionSoldOut.into())
        );
    }

    #[test]
    fn refunds_and_payments_carry_a_positive_amount_and_their_reason() {
        let codes = |r: Result<(MinorUnits, String), FieldErrors>| {
            r.err().map(|e| {
                e.0.iter()
                    .map(|e| (e.field.clone(), e.code))
                    .collect::<Vec<_>>()
            })
        };
        assert_eq!(
            accounted_amount(250, "reason", "  damaged in transit ", REASON),
            Ok((MinorUnits::new(250), "damaged in transit".to_owned()))
        );
        assert_eq!(
            codes(accounted_amount(0, "reference", " ", REFERENCE)),
            Some(vec![
                ("amount_minor".to_owned(), "not_positive"),
                ("reference".to_owned(), "too_short"),
            ])
        );
    }

    #[test]
    fn refunds_settlements_and_payments_stay_within_what_is_there() {
        let m = MinorUnits::new;
        assert_eq!(
            decide_refund(m(300), m(1000), m(0), 2, &[(0, m(600)), (1, m(400))]),
            Ok(vec![m(-180), m(-120)])
        );
        assert_eq!(
            decide_refund(m(301), m(1000), m(700), 2, &[]).map_err(|e| e.code),
            Err("exceeds_unrefunded")
        );
        assert_eq!(
            check_settlement(day("2026-05-01"), day("2026-06-01"), None),
            Ok(None)
        );
        let codes = |r: Result<Option<NaiveDate>, FieldErrors>| {
            r.err()
                .map(|e| e.0.iter().map(|e| e.code).collect::<Vec<_>>())
        };
        assert_eq!(
            codes(check_settlement(
                day("2026-07-01"),
                day("2026-06-01"),
                Some(day("2026-08-01"))
            )),
            Some(vec!["in_future", "already_settled"])
        );
        let owed = Owed {
            amount: m(500),
            paid: m(200),
        };
        assert_eq!(decide_payment(&[owed], m(300)), Ok(()));
        assert_eq!(
            decide_payment(&[owed], m(301)).map_err(|e| e.code),
            Err("overpayment")
        );
        assert_eq!(
            decide_payment(&[], m(1)).map_err(|e| e.field),
            Err("recipient".into())
        );
        assert_eq!(
            decide_payment(&[owed, owed], m(1)).map_err(|e| e.field),
            Err("currency".into())
        );
    }
}
