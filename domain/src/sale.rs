//! Sales recorded by a partnership, and refunds of them.

use crate::account::text_enum;
use crate::money::Currency;
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

pub const DESCRIPTION: usize = 500;
pub const SKU: usize = 64;
pub const EXTERNAL_REF: usize = 200;
pub const REASON: usize = 1000;

/// A sale's own fields, validated (the agreement rules come later).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaleFields {
    pub amount_minor: i64,
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
        e.take(crate::money::positive_minor("amount_minor", amount_minor));
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
        match (currency, e.is_empty()) {
            (Some(currency), true) => Ok(SaleFields {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
