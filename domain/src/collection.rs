//! Co-branded collections: limited editions a partnership makes together,
//! each piece crediting the parties that made it and the tradition behind
//! it. One sale naming an item's sku is one piece of it; a numbered
//! edition is never sold beyond its size.

use chrono::NaiveDate;

use crate::account::text_enum;
use crate::money::{Currency, MinorUnits};
use crate::text;
use crate::{FieldError, FieldErrors};

pub const NAME: usize = 120;
pub const STORY: usize = 5000;
pub const SKU: usize = crate::sale::SKU;
pub const MAX_ITEMS: usize = 50;
pub const MAX_CONTRIBUTORS: usize = 20;
pub const CREDIT_LINE: usize = 300;
/// The largest numbered edition.
pub const MAX_EDITION: i64 = 1_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CollectionStatus {
    /// Seen by the partnership only.
    Draft,
    /// In the catalogue of every signed-in user from `launch_on` (at once
    /// without one).
    Published,
}

text_enum!(CollectionStatus { Draft => "draft", Published => "published" });

/// Why a change to a collection is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CollectionRefusal {
    /// Another item of the partnership has this sku (→ 409).
    SkuTaken,
    /// Every piece of the numbered edition is sold (→ 409).
    EditionSoldOut,
    /// A published collection stays published (→ 409).
    AlreadyPublished,
}

/// A collection's own fields, checked: [`CollectionFields::parse`] is the
/// only way to build them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectionFields {
    name: String,
    story: String,
    launch_on: Option<NaiveDate>,
}

impl CollectionFields {
    /// A name of 1–120 characters, a story of up to 5 000.
    pub fn parse(
        name: &str,
        story: &str,
        launch_on: Option<NaiveDate>,
    ) -> Result<Self, FieldErrors> {
        let mut e = FieldErrors::default();
        let name = e.take(text::bounded("name", name, 1, NAME, false));
        let story = e.take(text::bounded("story", story, 0, STORY, true));
        match (name, story) {
            (Some(name), Some(story)) => Ok(Self {
                name,
                story,
                launch_on,
            }),
            _ => Err(e),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn story(&self) -> &str {
        &self.story
    }
    pub fn launch_on(&self) -> Option<NaiveDate> {
        self.launch_on
    }
}

/// A collection's state, for deciding a change to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Collection {
    pub status: CollectionStatus,
}

impl Collection {
    /// A change of status: a draft is published once it has an item (else
    /// 422 on `status`); a published collection is never a draft again.
    pub fn change_status(
        self,
        to: CollectionStatus,
        items: usize,
    ) -> Result<CollectionStatus, crate::refusal::Denied> {
        match (self.status, to) {
            (CollectionStatus::Published, CollectionStatus::Draft) => {
                Err(CollectionRefusal::AlreadyPublished.into())
            }
            (CollectionStatus::Draft, CollectionStatus::Published) if items == 0 => {
                Err(FieldError::new(
                    "status",
                    "no_items",
                    "a collection is published with at least one item",
                )
                .into())
            }
            (_, to) => Ok(to),
        }
    }

    /// Whether the catalogue shows it on `today`.
    pub fn in_catalogue(
        status: CollectionStatus,
        launch_on: Option<NaiveDate>,
        today: NaiveDate,
    ) -> bool {
        status == CollectionStatus::Published && launch_on.is_none_or(|day| day <= today)
    }
}

/// The tradition a piece draws on and how its makers want it credited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribution {
    pub tradition: String,
    pub credit_line: String,
}

/// An item as the client sends it (or as a patch leaves it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemInput {
    pub sku: String,
    pub name: String,
    pub description: String,
    pub price_minor: i64,
    pub currency: String,
    pub edition_size: Option<i64>,
    pub contributors: Vec<String>,
    pub attribution: Option<(String, String)>,
}

/// An item, checked: [`ItemFields::parse`] is the only way to build one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemFields {
    sku: String,
    name: String,
    description: String,
    price: MinorUnits,
    currency: Currency,
    edition_size: Option<i64>,
    contributors: Vec<String>,
    attribution: Option<Attribution>,
}

impl ItemFields {
    /// Checks one item; errors name its fields after `prefix` (`items[2].`
    /// inside a new collection, nothing for a single item). At least one
    /// contributor, none twice; whether they are accepted parties is
    /// [`check_contributors`]'s to say.
    pub fn parse(prefix: &str, input: ItemInput) -> Result<Self, FieldErrors> {
        let at = |field: &str| format!("{prefix}{field}");
        let mut e = FieldErrors::default();
        let sku = e.take(sku(&at("sku"), &input.sku));
        let name = e.take(text::bounded(&at("name"), &input.name, 1, NAME, false));
        let description = e.take(text::prose(&at("description"), &input.description));
        let price = e.take(MinorUnits::positive(
            &at("price.amount_minor"),
            input.price_minor,
        ));
        let currency = e.take(Currency::parse(&at("price.currency"), &input.currency));
        if let Some(size) = input.edition_size {
            if !(1..=MAX_EDITION).contains(&size) {
                e.push(FieldError::new(
                    at("edition_size"),
                    "out_of_range",
                    format!("an edition has 1 to {MAX_EDITION} pieces"),
                ));
            }
        }
        if input.contributors.is_empty() || input.contributors.len() > MAX_CONTRIBUTORS {
            e.push(FieldError::new(
                at("contributors"),
                "count",
                format!("name 1 to {MAX_CONTRIBUTORS} contributing parties"),
            ));
        }
        for (i, party) in input.contributors.iter().enumerate() {
            if input.contributors[..i].contains(party) {
                e.push(FieldError::new(
                    at(&format!("contributors[{i}]")),
                    "duplicate",
                    "each party is credited once",
                ));
            }
        }
        let attribution = input.attribution.and_then(|(tradition, credit_line)| {
            let tradition = e.take(text::bounded(
                &at("cultural_attribution.tradition"),
                &tradition,
                1,
                text::limits::TRADITION,
                false,
            ));
            let credit_line = e.take(text::bounded(
                &at("cultural_attribution.credit_line"),
                &credit_line,
                1,
                CREDIT_LINE,
                false,
            ));
            Some(Attribution {
                tradition: tradition?,
                credit_line: credit_line?,
            })
        });
        match (sku, name, description, price, currency, e.is_empty()) {
            (Some(sku), Some(name), Some(description), Some(price), Some(currency), true) => {
                Ok(Self {
                    sku,
                    name,
                    description,
                    price,
                    currency,
                    edition_size: input.edition_size,
                    contributors: input.contributors,
                    attribution,
                })
            }
            _ => Err(e),
        }
    }

    /// The input this item was parsed from, for applying a patch to it.
    pub fn to_input(&self) -> ItemInput {
        ItemInput {
            sku: self.sku.clone(),
            name: self.name.clone(),
            description: self.description.clone(),
            price_minor: self.price.get(),
            currency: self.currency.code().to_owned(),
            edition_size: self.edition_size,
            contributors: self.contributors.clone(),
            attribution: self
                .attribution
                .as_ref()
                .map(|a| (a.tradition.clone(), a.credit_line.clone())),
        }
    }

    pub fn sku(&self) -> &str {
        &self.sku
    }
    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn description(&self) -> &str {
        &self.description
    }
    pub fn price(&self) -> MinorUnits {
        self.price
    }
    pub fn currency(&self) -> Currency {
        self.currency
    }
    pub fn edition_size(&self) -> Option<i64> {
        self.edition_size
    }
    pub fn contributors(&self) -> &[String] {
        &self.contributors
    }
    pub fn attribution(&self) -> Option<&Attribution> {
        self.attribution.as_ref()
    }
}

/// The items of a new collection (at most 50), each named `items[i].` in
/// errors, no sku twice.
pub fn parse_items(inputs: Vec<ItemInput>) -> Result<Vec<ItemFields>, FieldErrors> {
    let mut e = FieldErrors::default();
    if inputs.len() > MAX_ITEMS {
        e.push(FieldError::new(
            "items",
            "count",
            format!("at most {MAX_ITEMS} items at once"),
        ));
    }
    let mut items = Vec::with_capacity(inputs.len());
    for (i, input) in inputs.into_iter().enumerate() {
        match ItemFields::parse(&format!("items[{i}]."), input) {
            Ok(item) => {
                if items.iter().any(|other: &ItemFields| other.sku == item.sku) {
                    e.push(FieldError::new(
                        format!("items[{i}].sku"),
                        "duplicate",
                        "each item has its own sku",
                    ));
                }
                items.push(item);
            }
            Err(errors) => errors.0.into_iter().for_each(|error| e.push(error)),
        }
    }
    e.finish(|| items)
}

/// A sku: 1–64 characters of letters, digits, `-`, `_` and `.`.
fn sku(field: &str, value: &str) -> Result<String, FieldError> {
    let value = text::bounded(field, value, 1, SKU, false)?;
    if value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        Ok(value)
    } else {
        Err(FieldError::new(
            field,
            "pattern",
            "letters, digits, '-', '_' and '.' only",
        ))
    }
}

/// Every contributor must be an accepted party of the partnership (else
/// 422 naming `{prefix}contributors[i]`).
pub fn check_contributors(prefix: &str, item: &ItemFields, accepted: &[String]) -> FieldErrors {
    let mut e = FieldErrors::default();
    for (i, party) in item.contributors.iter().enumerate() {
        if !accepted.contains(party) {
            e.push(FieldError::new(
                format!("{prefix}contributors[{i}]"),
                "not_accepted_party",
                "contributors are accepted parties of the partnership",
            ));
        }
    }
    e
}

/// The pieces of an item's edition that are out: sold and not given back
/// (a sale refunded in full returns its piece).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EditionCount {
    pub sold: i64,
    pub refunded: i64,
}

impl EditionCount {
    pub fn out(self) -> i64 {
        self.sold.saturating_sub(self.refunded)
    }

    /// What is left of an edition of `size` (`None`: not a numbered
    /// edition).
    pub fn remaining(self, size: Option<i64>) -> Option<i64> {
        size.map(|size| size.saturating_sub(self.out()).max(0))
    }

    /// One more sale of the item: refused once every piece is out.
    pub fn admits_sale(self, size: Option<i64>) -> Result<(), CollectionRefusal> {
        match self.remaining(size) {
            Some(0) => Err(CollectionRefusal::EditionSoldOut),
            _ => Ok(()),
        }
    }

    /// A new edition size may not be smaller than the pieces already out
    /// (422 on `edition_size`).
    pub fn admits_size(self, size: Option<i64>) -> Result<(), FieldError> {
        match size {
            Some(size) if size < self.out() => Err(FieldError::new(
                "edition_size",
                "below_sold",
                format!("{} pieces are sold already", self.out()),
            )),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> ItemInput {
        ItemInput {
            sku: "TEJ-001".into(),
            name: "Chumpi belt".into(),
            description: String::new(),
            price_minor: 12_000,
            currency: "PEN".into(),
            edition_size: Some(12),
            contributors: vec!["a".into(), "b".into()],
            attribution: Some((
                "Chinchero weaving".into(),
                "Woven with the Chinchero centre".into(),
            )),
        }
    }

    #[test]
    fn an_item_names_each_broken_field_after_its_prefix() {
        let bad = ItemInput {
            sku: "has space".into(),
            price_minor: 0,
            currency: "XXX".into(),
            edition_size: Some(0),
            contributors: vec!["a".into(), "a".into()],
            attribution: Some((String::new(), "x".into())),
            ..input()
        };
        let errors = ItemFields::parse("items[1].", bad).expect_err("refused");
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "items[1].sku",
                "items[1].price.amount_minor",
                "items[1].price.currency",
                "items[1].edition_size",
                "items[1].contributors[1]",
                "items[1].cultural_attribution.tradition",
            ]
        );
        assert!(ItemFields::parse(
            "",
            ItemInput {
                contributors: vec![],
                ..input()
            }
        )
        .is_err());
        let item = ItemFields::parse("", input()).expect("valid");
        assert_eq!(ItemFields::parse("", item.to_input()).expect("valid"), item);
    }

    #[test]
    fn a_new_collection_names_no_sku_twice() {
        let twice = parse_items(vec![input(), input()]).expect_err("refused");
        assert_eq!(twice.0[0].field, "items[1].sku");
        assert_eq!(parse_items(vec![input()]).map(|items| items.len()), Ok(1));
        assert!(parse_items(vec![input(); MAX_ITEMS + 1]).is_err());
    }

    #[test]
    fn contributors_must_be_accepted_parties() {
        let item = ItemFields::parse("", input()).expect("valid");
        let errors = check_contributors("items[0].", &item, &["b".into()]);
        assert_eq!(errors.0.len(), 1);
        assert_eq!(errors.0[0].field, "items[0].contributors[0]");
        assert!(check_contributors("", &item, &["a".into(), "b".into()]).is_empty());
    }

    #[test]
    fn an_edition_is_never_sold_beyond_its_size_and_a_full_refund_returns_a_piece() {
        let count = |sold, refunded| EditionCount { sold, refunded };
        assert_eq!(count(11, 0).admits_sale(Some(12)), Ok(()));
        assert_eq!(
            count(12, 0).admits_sale(Some(12)),
            Err(CollectionRefusal::EditionSoldOut)
        );
        assert_eq!(count(12, 1).admits_sale(Some(12)), Ok(()));
        assert_eq!(count(500, 0).admits_sale(None), Ok(()));
        assert_eq!(count(12, 1).remaining(Some(12)), Some(1));
        assert_eq!(count(3, 0).remaining(None), None);
        assert!(count(5, 1).admits_size(Some(3)).is_err());
        assert_eq!(count(5, 1).admits_size(Some(4)), Ok(()));
    }

    #[test]
    fn a_published_collection_stays_published_and_needs_an_item() {
        let draft = Collection {
            status: CollectionStatus::Draft,
        };
        assert!(draft.change_status(CollectionStatus::Published, 0).is_err());
        assert_eq!(
            draft.change_status(CollectionStatus::Published, 1),
            Ok(CollectionStatus::Published)
        );
        let published = Collection {
            status: CollectionStatus::Published,
        };
        assert!(published.change_status(CollectionStatus::Draft, 3).is_err());
        let day = |d| NaiveDate::from_ymd_opt(2027, 3, d).expect("valid");
        assert!(!Collection::in_catalogue(
            CollectionStatus::Published,
            Some(day(2)),
            day(1)
        ));
        assert!(Collection::in_catalogue(
            CollectionStatus::Published,
            Some(day(2)),
            day(2)
        ));
        assert!(!Collection::in_catalogue(
            CollectionStatus::Draft,
            None,
            day(2)
        ));
    }
}
