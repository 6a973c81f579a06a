//! Co-branded collections of a partnership and their items. Changes take
//! the partnership's lock (as sales do), so a sale counting a piece of an
//! edition and a change to that edition never interleave. The rules are
//! the domain's ([`domain::collection`]).

use chrono::{NaiveDate, NaiveDateTime};
use diesel::dsl::{case_when, count, count_star, sql};
use diesel::prelude::*;
use diesel::sql_types::{Bool, Integer, Text};
use domain::collection::{
    self as rules, Collection, CollectionFields, CollectionRefusal, CollectionStatus, EditionCount,
    ItemFields, ItemInput,
};
use domain::partnership::Reach;
use domain::precondition::Precondition;
use domain::profile::TagKind;
use domain::FieldErrors;

use crate::error::unless_taken;
use crate::partnerships::{self, Party, Roster, Viewer};
use crate::schema::{collection_contributors, collection_items, collections, sales};
use crate::sum::group_sum;
use crate::{now, take_rows, write_tx, AnyConnection, Page, Seek, StoreError};

#[derive(Debug, Clone, Queryable, Insertable, AsChangeset)]
#[diesel(table_name = collections, treat_none_as_null = true)]
pub struct CollectionRow {
    pub id: String,
    pub partnership_id: String,
    pub name: String,
    pub story: String,
    pub launch_on: Option<NaiveDate>,
    pub status: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

impl CollectionRow {
    pub fn status(&self) -> CollectionStatus {
        CollectionStatus::parse(&self.status).unwrap_or(CollectionStatus::Draft)
    }

    fn in_catalogue(&self) -> bool {
        Collection::in_catalogue(self.status(), self.launch_on, now().date())
    }
}

#[derive(Debug, Clone, Queryable, Insertable, AsChangeset)]
#[diesel(table_name = collection_items, treat_none_as_null = true)]
pub struct ItemRow {
    pub id: String,
    pub collection_id: String,
    pub partnership_id: String,
    pub position: i32,
    pub sku: String,
    pub name: String,
    pub description: String,
    pub price_minor: i64,
    pub currency: String,
    pub edition_size: Option<i64>,
    pub tradition: Option<String>,
    pub credit_line: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

/// An item with the parties it credits, in order, with their names.
#[derive(Debug, Clone)]
pub struct ItemView {
    pub row: ItemRow,
    pub contributors: Vec<Party>,
}

impl ItemView {
    /// The checked fields this item holds, for applying a patch.
    fn fields(&self) -> Result<ItemFields, StoreError> {
        let row = &self.row;
        ItemFields::parse(
            "",
            ItemInput {
                sku: row.sku.clone(),
                name: row.name.clone(),
                description: row.description.clone(),
                price_minor: row.price_minor,
                currency: row.currency.clone(),
                edition_size: row.edition_size,
                contributors: self.contributors.iter().map(|p| p.row.id.clone()).collect(),
                attribution: row.tradition.clone().zip(row.credit_line.clone()),
            },
        )
        .map_err(|_| StoreError::Corrupt("a stored collection item breaks its own rules"))
    }
}

/// A collection with its items in order.
#[derive(Debug, Clone)]
pub struct CollectionView {
    pub row: CollectionRow,
    pub items: Vec<ItemView>,
}

/// A change to a collection; absent fields stay as they are.
#[derive(Debug, Clone, Default)]
pub struct CollectionPatch {
    pub name: Option<String>,
    pub story: Option<String>,
    /// `Some(None)` removes the launch date.
    pub launch_on: Option<Option<NaiveDate>>,
    pub status: Option<CollectionStatus>,
}

/// A change to an item; absent fields stay as they are. The sku does not
/// change: sales name it.
#[derive(Debug, Clone, Default)]
pub struct ItemPatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub price: Option<(i64, String)>,
    /// `Some(None)`: no longer a numbered edition.
    pub edition_size: Option<Option<i64>>,
    pub contributors: Option<Vec<String>>,
    /// `Some(None)` removes the attribution.
    pub attribution: Option<Option<(String, String)>>,
}

impl ItemPatch {
    fn apply(self, mut input: ItemInput) -> ItemInput {
        input.name = self.name.unwrap_or(input.name);
        input.description = self.description.unwrap_or(input.description);
        if let Some((amount, currency)) = self.price {
            input.price_minor = amount;
            input.currency = currency;
        }
        input.edition_size = self.edition_size.unwrap_or(input.edition_size);
        input.contributors = self.contributors.unwrap_or(input.contributors);
        input.attribution = self.attribution.unwrap_or(input.attribution);
        input
    }
}

/// The accepted parties of the locked partnership, after checking that the
/// viewer speaks for one of them (403 otherwise).
fn acting(
    conn: &mut AnyConnection,
    partnership_id: &str,
    viewer: &Viewer,
) -> Result<Vec<String>, StoreError> {
    partnerships::lock(conn, partnership_id, viewer, Reach::Read)?;
    let roster = Roster::load(conn, partnership_id, viewer)?;
    roster.acting()?;
    Ok(roster.accepted())
}

/// Every item's contributors are accepted parties (422 naming them).
fn check_contributors(
    items: &[ItemFields],
    prefix: impl Fn(usize) -> String,
    accepted: &[String],
) -> Result<(), StoreError> {
    let mut errors = FieldErrors::default();
    for (i, item) in items.iter().enumerate() {
        for error in rules::check_contributors(&prefix(i), item, accepted).0 {
            errors.push(error);
        }
    }
    Ok(errors.finish(|| ())?)
}

fn insert_item(
    conn: &mut AnyConnection,
    collection: &CollectionRow,
    position: i32,
    item: &ItemFields,
) -> Result<ItemView, StoreError> {
    let at = now();
    let row = ItemRow {
        id: uuid::Uuid::now_v7().to_string(),
        collection_id: collection.id.clone(),
        partnership_id: collection.partnership_id.clone(),
        position,
        sku: item.sku().to_owned(),
        name: item.name().to_owned(),
        description: item.description().to_owned(),
        price_minor: item.price().get(),
        currency: item.currency().code().to_owned(),
        edition_size: item.edition_size(),
        tradition: item.attribution().map(|a| a.tradition.clone()),
        credit_line: item.attribution().map(|a| a.credit_line.clone()),
        created_at: at,
        updated_at: at,
        version: 1,
    };
    diesel::insert_into(collection_items::table)
        .values(&row)
        .execute(conn)
        .map_err(unless_taken(CollectionRefusal::SkuTaken))?;
    write_contributors(conn, &row, item.contributors())?;
    find_item(conn, &row.id)
}

fn write_contributors(
    conn: &mut AnyConnection,
    item: &ItemRow,
    parties: &[String],
) -> Result<(), StoreError> {
    diesel::delete(
        collection_contributors::table.filter(collection_contributors::item_id.eq(&item.id)),
    )
    .execute(conn)?;
    for (position, party) in parties.iter().enumerate() {
        diesel::insert_into(collection_contributors::table)
            .values((
                collection_contributors::item_id.eq(&item.id),
                collection_contributors::position.eq(i32::try_from(position).unwrap_or(i32::MAX)),
                collection_contributors::collection_id.eq(&item.collection_id),
                collection_contributors::party_id.eq(party),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// An accepted party creates a collection (a draft) with its items.
pub fn create(
    conn: &mut AnyConnection,
    partnership_id: &str,
    viewer: &Viewer,
    fields: &CollectionFields,
    items: &[ItemFields],
) -> Result<CollectionView, StoreError> {
    write_tx(conn, |conn| {
        let accepted = acting(conn, partnership_id, viewer)?;
        check_contributors(items, |i| format!("items[{i}]."), &accepted)?;
        let at = now();
        let row = CollectionRow {
            id: uuid::Uuid::now_v7().to_string(),
            partnership_id: partnership_id.to_owned(),
            name: fields.name().to_owned(),
            story: fields.story().to_owned(),
            launch_on: fields.launch_on(),
            status: CollectionStatus::Draft.as_str().to_owned(),
            created_by: viewer.id.clone(),
            created_at: at,
            updated_at: at,
            version: 1,
        };
        diesel::insert_into(collections::table)
            .values(&row)
            .execute(conn)?;
        let items = items
            .iter()
            .enumerate()
            .map(|(i, item)| insert_item(conn, &row, i32::try_from(i).unwrap_or(i32::MAX), item))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(CollectionView { row, items })
    })
}

/// The collections with their items and contributors: two queries for the
/// whole page.
fn views(
    conn: &mut AnyConnection,
    rows: Vec<CollectionRow>,
) -> Result<Vec<CollectionView>, StoreError> {
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let items = collection_items::table
        .filter(collection_items::collection_id.eq_any(&ids))
        .order((
            collection_items::collection_id.asc(),
            collection_items::position.asc(),
        ))
        .load::<ItemRow>(conn)?;
    let contributors: Vec<(String, String)> = collection_contributors::table
        .filter(collection_contributors::collection_id.eq_any(&ids))
        .order((
            collection_contributors::item_id.asc(),
            collection_contributors::position.asc(),
        ))
        .select((
            collection_contributors::item_id,
            collection_contributors::party_id,
        ))
        .load(conn)?;
    let mut items = credit(conn, items, contributors)?;
    Ok(rows
        .into_iter()
        .map(|row| CollectionView {
            items: take_rows(&mut items, |i| i.row.collection_id == row.id),
            row,
        })
        .collect())
}

/// The items with their contributors (item id, party id, in order) named.
fn credit(
    conn: &mut AnyConnection,
    items: Vec<ItemRow>,
    mut contributors: Vec<(String, String)>,
) -> Result<Vec<ItemView>, StoreError> {
    let mut partnerships: Vec<String> = items.iter().map(|i| i.partnership_id.clone()).collect();
    partnerships.sort_unstable();
    partnerships.dedup();
    let parties = partnerships::parties_of(conn, &partnerships)?;
    Ok(items
        .into_iter()
        .map(|row| ItemView {
            contributors: take_rows(&mut contributors, |(item, _)| *item == row.id)
                .into_iter()
                .filter_map(|(_, party)| parties.iter().find(|p| p.row.id == party).cloned())
                .collect(),
            row,
        })
        .collect())
}

fn one(conn: &mut AnyConnection, row: CollectionRow) -> Result<CollectionView, StoreError> {
    views(conn, vec![row])?.pop().ok_or(StoreError::NotFound)
}

fn find_row(conn: &mut AnyConnection, id: &str) -> Result<CollectionRow, StoreError> {
    collections::table
        .find(id)
        .first::<CollectionRow>(conn)
        .optional()?
        .ok_or(StoreError::NotFound)
}

/// Not found unless the viewer reads the collection's partnership, as far
/// back as they read it (a party that left does not see what came after).
fn require_reader(
    conn: &mut AnyConnection,
    row: &CollectionRow,
    viewer: &Viewer,
) -> Result<(), StoreError> {
    partnerships::find_visible(conn, &row.partnership_id, viewer, Reach::Read)?;
    let horizon = partnerships::horizon(conn, &row.partnership_id, viewer)?;
    if horizon.is_some_and(|until| row.created_at > until) {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// The collection if the viewer reads its partnership, then the accepted
/// parties after checking that the viewer speaks for one (403 otherwise).
fn acting_on(
    conn: &mut AnyConnection,
    collection_id: &str,
    viewer: &Viewer,
) -> Result<(CollectionRow, Vec<String>), StoreError> {
    let row = find_row(conn, collection_id)?;
    require_reader(conn, &row, viewer)?;
    let accepted = acting(conn, &row.partnership_id, viewer)?;
    // Read again under the partnership's lock.
    Ok((find_row(conn, collection_id)?, accepted))
}

/// A collection: in the catalogue, anyone signed in reads it; otherwise
/// those who read its partnership (as far back as they read it).
pub fn find(
    conn: &mut AnyConnection,
    id: &str,
    viewer: &Viewer,
) -> Result<CollectionView, StoreError> {
    crate::db::read_tx(conn, |conn| {
        let row = find_row(conn, id)?;
        if !row.in_catalogue() {
            require_reader(conn, &row, viewer)?;
        }
        one(conn, row)
    })
}

/// A partnership's collections, drafts included, newest first.
pub fn list(
    conn: &mut AnyConnection,
    partnership_id: &str,
    viewer: &Viewer,
    seek: Seek<'_>,
) -> Result<Page<CollectionView>, StoreError> {
    crate::db::read_tx(conn, |conn| {
        partnerships::find_visible(conn, partnership_id, viewer, Reach::Read)?;
        let horizon = partnerships::horizon(conn, partnership_id, viewer)?;
        let mut query = collections::table
            .filter(collections::partnership_id.eq(partnership_id))
            .into_boxed();
        if let Some(until) = horizon {
            query = query.filter(collections::created_at.le(until));
        }
        let rows = newest_first!(query, collections, seek).load::<CollectionRow>(conn)?;
        Page::from_overfetch(rows, seek.limit).try_map_rows(|rows| views(conn, rows))
    })
}

/// What the catalogue is filtered by: a craft or country of one of the
/// credited makers (an artisan party's profile, or a collective party's).
#[derive(Debug, Clone, Default)]
pub struct CatalogueFilter {
    pub craft: Option<String>,
    pub country: Option<String>,
}

/// Published collections whose launch day has come, newest first.
pub fn catalogue(
    conn: &mut AnyConnection,
    filter: &CatalogueFilter,
    seek: Seek<'_>,
) -> Result<Page<CollectionView>, StoreError> {
    let today = now().date();
    crate::db::read_tx(conn, |conn| {
        let mut query = collections::table
            .filter(collections::status.eq(CollectionStatus::Published.as_str()))
            .filter(
                collections::launch_on
                    .is_null()
                    .or(collections::launch_on.le(today)),
            )
            .into_boxed();
        if let Some(craft) = &filter.craft {
            query = query.filter(credited(
                &format!(
                    "SELECT artisan_id FROM artisan_tags WHERE kind = '{}' AND value =",
                    TagKind::Craft.as_str()
                ),
                "SELECT collective_id FROM collective_crafts WHERE craft =",
                craft,
            ));
        }
        if let Some(country) = &filter.country {
            query = query.filter(credited(
                "SELECT id FROM artisans WHERE country =",
                "SELECT id FROM collectives WHERE country =",
                country,
            ));
        }
        let rows = newest_first!(query, collections, seek).load::<CollectionRow>(conn)?;
        Page::from_overfetch(rows, seek.limit).try_map_rows(|rows| views(conn, rows))
    })
}

/// A condition on a collection.
type Condition = Box<dyn BoxableExpression<collections::table, crate::Backend, SqlType = Bool>>;

/// Collections crediting an artisan party among `artisans` or a
/// collective party among `collectives` (two subselects of one column,
/// each ending in a comparison with `value`). SQL text: nested subselects
/// across four tables are beyond diesel's builder types through
/// `MultiConnection`; `value` travels as a bind parameter.
fn credited(artisans: &str, collectives: &str, value: &str) -> Condition {
    Box::new(
        sql::<Bool>(&format!(
            "collections.id IN (SELECT cc.collection_id FROM collection_contributors cc \
             JOIN partnership_parties p ON p.id = cc.party_id \
             WHERE p.artisan_id IN ({artisans} "
        ))
        .bind::<Text, _>(value.to_owned())
        .sql(&format!(") OR p.collective_id IN ({collectives} "))
        .bind::<Text, _>(value.to_owned())
        .sql("))"),
    )
}

/// An accepted party edits a collection, or publishes it (once it has an
/// item), under optimistic concurrency.
pub fn update(
    conn: &mut AnyConnection,
    id: &str,
    viewer: &Viewer,
    expected: &Precondition,
    patch: &CollectionPatch,
) -> Result<CollectionView, StoreError> {
    write_tx(conn, |conn| {
        let (mut row, _) = acting_on(conn, id, viewer)?;
        let fields = CollectionFields::parse(
            patch.name.as_deref().unwrap_or(&row.name),
            patch.story.as_deref().unwrap_or(&row.story),
            patch.launch_on.unwrap_or(row.launch_on),
        )?;
        if let Some(to) = patch.status {
            let items = collection_items::table
                .filter(collection_items::collection_id.eq(id))
                .count()
                .get_result::<i64>(conn)?;
            let collection = Collection {
                status: row.status(),
            };
            let status = collection.change_status(to, usize::try_from(items).unwrap_or(0))?;
            row.status = status.as_str().to_owned();
        }
        if !expected.admits(row.version) {
            return Err(StoreError::Stale);
        }
        row.name = fields.name().to_owned();
        row.story = fields.story().to_owned();
        row.launch_on = fields.launch_on();
        row.version += 1;
        row.updated_at = now();
        diesel::update(collections::table.find(id))
            .set(&row)
            .execute(conn)?;
        one(conn, row)
    })
}

/// An accepted party adds an item at the end of a collection.
pub fn add_item(
    conn: &mut AnyConnection,
    collection_id: &str,
    viewer: &Viewer,
    item: &ItemFields,
) -> Result<ItemView, StoreError> {
    write_tx(conn, |conn| {
        let (collection, accepted) = acting_on(conn, collection_id, viewer)?;
        check_contributors(std::slice::from_ref(item), |_| String::new(), &accepted)?;
        let last: Option<i32> = collection_items::table
            .filter(collection_items::collection_id.eq(collection_id))
            .select(diesel::dsl::max(collection_items::position))
            .first(conn)?;
        insert_item(conn, &collection, last.map_or(0, |p| p + 1), item)
    })
}

fn find_item(conn: &mut AnyConnection, id: &str) -> Result<ItemView, StoreError> {
    let row = collection_items::table
        .find(id)
        .first::<ItemRow>(conn)
        .optional()?
        .ok_or(StoreError::NotFound)?;
    let contributors = collection_contributors::table
        .filter(collection_contributors::item_id.eq(id))
        .order(collection_contributors::position.asc())
        .select((
            collection_contributors::item_id,
            collection_contributors::party_id,
        ))
        .load(conn)?;
    credit(conn, vec![row], contributors)?
        .pop()
        .ok_or(StoreError::NotFound)
}

/// An item, if the viewer reads its collection.
pub fn item(conn: &mut AnyConnection, id: &str, viewer: &Viewer) -> Result<ItemView, StoreError> {
    let item = find_item(conn, id)?;
    find(conn, &item.row.collection_id, viewer)?;
    Ok(item)
}

/// Counted, the sales refunded in full (their pieces given back). Typed
/// rather than an SQL fragment, so that a statement using only typed
/// expressions is prepared once per connection.
#[diesel::dsl::auto_type]
fn refunded_in_full() -> _ {
    let one: i32 = 1;
    case_when(
        sales::refunded_minor.eq(sales::amount_minor),
        one.into_sql::<Integer>(),
    )
}

/// The pieces of the item with `sku` that are out (one sale is one piece;
/// a sale refunded in full gives its piece back).
fn edition_count(
    conn: &mut AnyConnection,
    partnership_id: &str,
    sku: &str,
) -> Result<EditionCount, StoreError> {
    let (sold, refunded): (i64, i64) = sales::table
        .filter(sales::partnership_id.eq(partnership_id))
        .filter(sales::item_sku.eq(sku))
        .select((count_star(), count(refunded_in_full())))
        .first(conn)?;
    Ok(EditionCount { sold, refunded })
}

/// What a sale naming `sku` needs to know (the partnership is locked by
/// the caller): the item's edition size and the pieces out, if the sku
/// names an item of the partnership.
pub(crate) fn edition(
    conn: &mut AnyConnection,
    partnership_id: &str,
    sku: &str,
) -> Result<Option<(Option<i64>, EditionCount)>, StoreError> {
    let size: Option<Option<i64>> = collection_items::table
        .filter(collection_items::partnership_id.eq(partnership_id))
        .filter(collection_items::sku.eq(sku))
        .select(collection_items::edition_size)
        .first(conn)
        .optional()?;
    size.map(|size| Ok((size, edition_count(conn, partnership_id, sku)?)))
        .transpose()
}

/// An accepted party edits an item under optimistic concurrency; an
/// edition is never made smaller than the pieces already out.
pub fn update_item(
    conn: &mut AnyConnection,
    id: &str,
    viewer: &Viewer,
    expected: &Precondition,
    patch: ItemPatch,
) -> Result<ItemView, StoreError> {
    write_tx(conn, |conn| {
        let collection_id = find_item(conn, id)?.row.collection_id;
        let (collection, accepted) = acting_on(conn, &collection_id, viewer)?;
        let partnership_id = collection.partnership_id;
        let current = find_item(conn, id)?;
        let fields = ItemFields::parse("", patch.apply(current.fields()?.to_input()))?;
        check_contributors(std::slice::from_ref(&fields), |_| String::new(), &accepted)?;
        edition_count(conn, &partnership_id, &current.row.sku)?
            .admits_size(fields.edition_size())?;
        if !expected.admits(current.row.version) {
            return Err(StoreError::Stale);
        }
        let mut row = current.row;
        row.name = fields.name().to_owned();
        row.description = fields.description().to_owned();
        row.price_minor = fields.price().get();
        row.currency = fields.currency().code().to_owned();
        row.edition_size = fields.edition_size();
        row.tradition = fields.attribution().map(|a| a.tradition.clone());
        row.credit_line = fields.attribution().map(|a| a.credit_line.clone());
        row.version += 1;
        row.updated_at = now();
        diesel::update(collection_items::table.find(id))
            .set(&row)
            .execute(conn)?;
        write_contributors(conn, &row, fields.contributors())?;
        find_item(conn, id)
    })
}

/// One item's sales in one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemRevenue {
    pub currency: String,
    pub gross: i64,
    pub refunded: i64,
}

/// How one item has sold.
#[derive(Debug, Clone)]
pub struct ItemPerformance {
    pub item: ItemRow,
    pub count: EditionCount,
    pub revenue: Vec<ItemRevenue>,
}

/// Per item: pieces sold and given back, gross and refunded revenue per
/// currency, summed by the database over the `sales_item` index (those who
/// see the partnership's money).
pub fn performance(
    conn: &mut AnyConnection,
    id: &str,
    viewer: &Viewer,
) -> Result<(CollectionRow, Vec<ItemPerformance>), StoreError> {
    crate::db::read_tx(conn, |conn| {
        let collection = find_row(conn, id)?;
        partnerships::find_visible(conn, &collection.partnership_id, viewer, Reach::Money)?;
        let items = collection_items::table
            .filter(collection_items::collection_id.eq(id))
            .order(collection_items::position.asc())
            .load::<ItemRow>(conn)?;
        let skus: Vec<&str> = items.iter().map(|i| i.sku.as_str()).collect();
        let mut totals: Vec<(Option<String>, String, i64, i64, i64, i64)> = sales::table
            .filter(sales::partnership_id.eq(&collection.partnership_id))
            .filter(sales::item_sku.eq_any(&skus))
            .group_by((sales::item_sku, sales::currency))
            .select((
                sales::item_sku,
                sales::currency,
                count_star(),
                count(refunded_in_full()),
                group_sum(sales::amount_minor),
                group_sum(sales::refunded_minor),
            ))
            .order((sales::item_sku.asc(), sales::currency.asc()))
            .load(conn)?;
        let performance = items
            .into_iter()
            .map(|item| {
                let mine = take_rows(&mut totals, |t| t.0.as_deref() == Some(item.sku.as_str()));
                ItemPerformance {
                    count: EditionCount {
                        sold: mine.iter().map(|t| t.2).sum(),
                        refunded: mine.iter().map(|t| t.3).sum(),
                    },
                    revenue: mine
                        .into_iter()
                        .map(|(_, currency, _, _, gross, refunded)| ItemRevenue {
                            currency,
                            gross,
                            refunded,
                        })
                        .collect(),
                    item,
                }
            })
            .collect();
        Ok((collection, performance))
    })
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use diesel::RunQueryDsl;

    use super::edition_count;
    use crate::sales::tests::stand_in_sales;
    use crate::sql_text::tests::{connections, count_cached};

    #[test]
    fn an_editions_count_gives_back_only_pieces_refunded_in_full_and_is_prepared_once() {
        for mut conn in connections() {
            stand_in_sales(&mut conn);
            // Of sku-1: kept, refunded in part, refunded in full; and one
            // refunded in full of another sku and of another partnership.
            diesel::sql_query(
                "INSERT INTO sales (id, partnership_id, agreement_id, content_hash, amount_minor, \
                 refunded_minor, currency, occurred_at, description, channel, item_sku, recorded_by, \
                 created_at) VALUES \
                 ('s1', 'p', 'a', 'h', 100, 0, 'PEN', '2026-01-01 00:00:00', '', 'online', 'sku-1', 'u', '2026-01-01 00:00:00'), \
                 ('s2', 'p', 'a', 'h', 100, 40, 'PEN', '2026-01-01 00:00:00', '', 'online', 'sku-1', 'u', '2026-01-01 00:00:00'), \
                 ('s3', 'p', 'a', 'h', 100, 100, 'PEN', '2026-01-01 00:00:00', '', 'online', 'sku-1', 'u', '2026-01-01 00:00:00'), \
                 ('s4', 'p', 'a', 'h', 100, 100, 'PEN', '2026-01-01 00:00:00', '', 'online', 'sku-2', 'u', '2026-01-01 00:00:00'), \
                 ('s5', 'q', 'a', 'h', 100, 100, 'PEN', '2026-01-01 00:00:00', '', 'online', 'sku-1', 'u', '2026-01-01 00:00:00')",
            )
            .execute(&mut conn)
            .expect("sales");
            let cached = count_cached(&mut conn);
            for _ in 0..3 {
                let count = edition_count(&mut conn, "p", "sku-1").expect("count");
                assert_eq!((count.sold, count.refunded), (3, 1));
            }
            let none = edition_count(&mut conn, "p", "sku-9").expect("count");
            assert_eq!((none.sold, none.refunded), (0, 0));
            assert_eq!(
                cached.load(Ordering::SeqCst),
                1,
                "one statement, prepared once"
            );
        }
    }
}
