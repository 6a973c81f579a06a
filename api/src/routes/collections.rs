//! Co-branded collections: a partnership's limited editions, each item
//! crediting its makers and the tradition behind it. Drafts are seen by
//! those who see the partnership; published collections whose launch day
//! has come are a catalogue for every signed-in user.

use actix_web::{get, patch, post, web, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use domain::collection::{
    self as rules, CollectionFields, CollectionStatus, ItemFields, ItemInput,
};
use persistence::collections::{
    self as store, CatalogueFilter, CollectionPatch, CollectionView, ItemPatch, ItemPerformance,
    ItemView,
};
use persistence::partnerships::Party;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::utc;
use crate::auth::principal::User;
use crate::error::Reply;
use crate::http::extract::{Body, Id, IdempotencyKey, IfMatch};
use crate::http::idempotency::{Created, Once};
use crate::http::ok_with_etag;
use crate::http::pagination::{self, PageQuery, Paging, NEWEST};
use crate::http::params::{country_param, text_param};
use crate::openapi::path;
use crate::state::AppState;
use crate::views::Money;
use crate::{keyed_by_id, page_type};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_collection)
        .service(list_collections)
        .service(catalogue)
        .service(get_collection)
        .service(update_collection)
        .service(add_item)
        .service(get_item)
        .service(update_item)
        .service(collection_performance);
}

mirror_enum!(CollectionState <=> CollectionStatus { Draft, Published });

party_fields! {
    /// A credited maker: a party of the partnership, with its name.
    #[derive(Debug, Serialize, ToSchema)]
    pub struct Maker {
        #[schema(format = Uuid)]
        pub party_id: String,
        // + artisan_id, collective_id, display_name
    } {}
}

impl From<Party> for Maker {
    fn from(p: Party) -> Self {
        Self {
            party_id: p.row.id,
            artisan_id: p.row.artisan_id,
            collective_id: p.row.collective_id,
            display_name: p.display_name,
        }
    }
}

/// The tradition a piece draws on and how its makers want it credited.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemAttribution {
    #[schema(value_type = crate::schema::Tradition)]
    pub tradition: String,
    #[schema(value_type = crate::schema::CreditLine)]
    pub credit_line: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CollectionItem {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub collection_id: String,
    /// Unique within the partnership; a sale naming it (`item_sku`) is one
    /// piece of this item.
    pub sku: String,
    pub name: String,
    pub description: String,
    pub price: Money,
    /// The size of a numbered edition; `null`: not limited.
    pub edition_size: Option<i64>,
    /// The accepted parties who made it, in the order they are credited.
    pub contributors: Vec<Maker>,
    pub cultural_attribution: Option<ItemAttribution>,
    pub version: i64,
}

impl From<ItemView> for CollectionItem {
    fn from(v: ItemView) -> Self {
        let r = v.row;
        Self {
            cultural_attribution: r
                .tradition
                .zip(r.credit_line)
                .map(|(tradition, credit_line)| ItemAttribution {
                    tradition,
                    credit_line,
                }),
            id: r.id,
            collection_id: r.collection_id,
            sku: r.sku,
            name: r.name,
            description: r.description,
            price: Money {
                amount_minor: r.price_minor,
                currency: r.currency,
            },
            edition_size: r.edition_size,
            contributors: v.contributors.into_iter().map(Maker::from).collect(),
            version: r.version,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Collection {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub partnership_id: String,
    pub name: String,
    pub story: String,
    /// In the catalogue from this day once published (at once without one).
    pub launch_on: Option<NaiveDate>,
    pub status: CollectionState,
    pub items: Vec<CollectionItem>,
    #[schema(format = Uuid)]
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl From<CollectionView> for Collection {
    fn from(v: CollectionView) -> Self {
        let r = v.row;
        Self {
            status: r.status().into(),
            id: r.id,
            partnership_id: r.partnership_id,
            name: r.name,
            story: r.story,
            launch_on: r.launch_on,
            items: v.items.into_iter().map(CollectionItem::from).collect(),
            created_by: r.created_by,
            created_at: utc(r.created_at),
            updated_at: utc(r.updated_at),
            version: r.version,
        }
    }
}

/// An item as sent when creating a collection or adding to one.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewItem {
    /// Unique within the partnership.
    #[schema(value_type = crate::schema::Sku)]
    pub sku: String,
    #[schema(value_type = crate::schema::OrganizationName)]
    pub name: String,
    #[serde(default)]
    #[schema(value_type = crate::schema::DescriptionText)]
    pub description: String,
    pub price: Money,
    /// A numbered edition of this many pieces; absent: not limited.
    #[serde(default, deserialize_with = "super::optional_whole_number")]
    #[schema(minimum = 1, maximum = 1000000)]
    pub edition_size: Option<i64>,
    /// Accepted parties of the partnership (party ids), each once.
    #[schema(min_items = 1, max_items = 20)]
    pub contributors: Vec<Uuid>,
    #[serde(default)]
    pub cultural_attribution: Option<ItemAttribution>,
}

impl From<NewItem> for ItemInput {
    fn from(item: NewItem) -> Self {
        ItemInput {
            sku: item.sku,
            name: item.name,
            description: item.description,
            price_minor: item.price.amount_minor,
            currency: item.price.currency,
            edition_size: item.edition_size,
            contributors: item.contributors.iter().map(Uuid::to_string).collect(),
            attribution: item
                .cultural_attribution
                .map(|a| (a.tradition, a.credit_line)),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCollection {
    #[schema(value_type = crate::schema::OrganizationName)]
    pub name: String,
    #[serde(default)]
    #[schema(value_type = crate::schema::Story)]
    pub story: String,
    #[serde(default)]
    pub launch_on: Option<NaiveDate>,
    #[serde(default)]
    #[schema(max_items = 50)]
    pub items: Vec<NewItem>,
}

/// Create a collection of the partnership, as a draft (its accepted
/// parties). Publish it with `PATCH` once it has an item.
#[utoipa::path(
    tag = "collections",
    operation_id = "createCollection",
    request_body = NewCollection,
    params(path::Partnership, crate::http::extract::IdempotencyKeyHeader),
    security(("bearer_auth" = [])),
    responses(
        (status = 201, description = "The collection", body = Collection,
            headers(("Location" = String, description = "The collection"), ("ETag" = String, description = "Its version"))),
        crate::openapi::WriteProblems,
    )
)]
#[post("/partnerships/{id}/collections")]
pub async fn create_collection(
    state: web::Data<AppState>,
    user: User,
    Id(id): Id,
    key: IdempotencyKey,
    body: Body<NewCollection>,
) -> Reply {
    let viewer = user.viewer();
    let partnership_id = id.to_string();
    let route = format!("create-collection:{partnership_id}");
    Once::optional(&state, user.key(), key, route)
        .write(body.into_inner(), move |conn, request| {
            let mut errors = domain::FieldErrors::default();
            let fields = CollectionFields::parse(&request.name, &request.story, request.launch_on)
                .map_err(|e| e.0.into_iter().for_each(|e| errors.push(e)))
                .ok();
            let items = rules::parse_items(request.items.into_iter().map(Into::into).collect())
                .map_err(|e| e.0.into_iter().for_each(|e| errors.push(e)))
                .ok();
            let (Some(fields), Some(items), true) = (fields, items, errors.is_empty()) else {
                return Err(errors.into());
            };
            let view = { store::create(conn, &partnership_id, &viewer, &fields, &items)? };
            let collection = Collection::from(view);
            let version = collection.version;
            Ok(Created::new(&collection)?
                .location(format!("/v1/collections/{}", collection.id))
                .etag(version))
        })
        .await
}

page_type!(CollectionPage, Collection);
keyed_by_id!(Collection);

/// A partnership's collections, drafts included, newest first (those who
/// see the partnership).
#[utoipa::path(
    tag = "collections",
    operation_id = "listPartnershipCollections",
    params(path::Partnership, PageQuery),
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "One page of collections", body = CollectionPage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when more pages follow"))),
        crate::openapi::ReadProblems,
    )
)]
#[get("/partnerships/{id}/collections")]
pub async fn list_collections(
    state: web::Data<AppState>,
    user: User,
    Id(id): Id,
    paging: Paging,
) -> Reply {
    pagination::belonging::<Collection, _>(&state, &paging, NEWEST, user, id, store::list).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CatalogueQuery {
    /// Only collections crediting a maker who practises this craft (an
    /// artisan's profile, or a collective's crafts).
    #[param(min_length = 1, max_length = 40)]
    pub craft: Option<String>,
    /// Only collections crediting a maker from this country.
    #[param(value_type = Option<crate::schema::CountryCode>)]
    pub country: Option<String>,
}

/// The catalogue: published collections whose launch day has come,
/// newest first, with their stories and the makers they credit.
#[utoipa::path(
    tag = "collections",
    operation_id = "listCatalogue",
    params(CatalogueQuery, PageQuery),
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "One page of collections", body = CollectionPage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when more pages follow"))),
        crate::openapi::ReadProblems,
    )
)]
#[get("/collections")]
pub async fn catalogue(
    state: web::Data<AppState>,
    _: User,
    paging: Paging,
    query: web::Query<CatalogueQuery>,
) -> Reply {
    let filter = CatalogueFilter {
        craft: text_param("craft", &query.craft, domain::text::limits::SLUG)?
            .map(|c| c.to_lowercase()),
        country: country_param("country", &query.country)?,
    };
    pagination::newest(&state, &paging, move |conn, seek| {
        Ok(store::catalogue(conn, &filter, seek)?.map(Collection::from))
    })
    .await
}

/// Read a collection: anyone signed in once it is in the catalogue, those
/// who see the partnership before.
#[utoipa::path(
    tag = "collections",
    operation_id = "getCollection",
    params(path::Collection),
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "The collection", body = Collection,
            headers(("ETag" = String, description = "Current version"))),
        crate::openapi::ReadProblems,
    )
)]
#[get("/collections/{id}")]
pub async fn get_collection(state: web::Data<AppState>, user: User, Id(id): Id) -> Reply {
    let viewer = user.viewer();
    let view = state
        .db(move |conn| Ok(store::find(conn, &id, &viewer)?))
        .await?;
    let version = view.row.version;
    Ok(ok_with_etag(&Collection::from(view), version))
}

/// A change to a collection; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CollectionChange {
    #[schema(value_type = Option<crate::schema::OrganizationName>)]
    pub name: Option<String>,
    #[schema(value_type = Option<crate::schema::Story>)]
    pub story: Option<String>,
    /// `null` removes it.
    #[serde(default, deserialize_with = "super::present")]
    #[schema(nullable)]
    pub launch_on: Option<Option<NaiveDate>>,
    /// `published` puts a collection with at least one item in the
    /// catalogue (from `launch_on`); a published one is never a draft again.
    pub status: Option<CollectionState>,
}

/// Edit or publish a collection (accepted parties; `If-Match`).
#[utoipa::path(
    tag = "collections",
    operation_id = "updateCollection",
    request_body = CollectionChange,
    params(path::Collection, crate::http::extract::IfMatchHeader),
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "The collection", body = Collection,
            headers(("ETag" = String, description = "Its new version"))),
        crate::openapi::ConditionalWriteProblems,
    )
)]
#[patch("/collections/{id}")]
pub async fn update_collection(
    state: web::Data<AppState>,
    user: User,
    Id(id): Id,
    body: Body<CollectionChange>,
    if_match: IfMatch,
) -> Reply {
    let viewer = user.viewer();
    let change = body.into_inner();
    let patch = CollectionPatch {
        name: change.name,
        story: change.story,
        launch_on: change.launch_on,
        status: change.status.map(Into::into),
    };
    let view = state
        .db(move |conn| Ok(store::update(conn, &id, &viewer, &if_match.0, &patch)?))
        .await?;
    let version = view.row.version;
    Ok(ok_with_etag(&Collection::from(view), version))
}

/// Add an item at the end of a collection (accepted parties).
#[utoipa::path(
    tag = "collections",
    operation_id = "addCollectionItem",
    request_body = NewItem,
    params(path::Collection, crate::http::extract::IdempotencyKeyHeader),
    security(("bearer_auth" = [])),
    responses(
        (status = 201, description = "The item", body = CollectionItem,
            headers(("Location" = String, description = "The item"), ("ETag" = String, description = "Its version"))),
        crate::openapi::WriteProblems,
    )
)]
#[post("/collections/{id}/items")]
pub async fn add_item(
    state: web::Data<AppState>,
    user: User,
    Id(id): Id,
    key: IdempotencyKey,
    body: Body<NewItem>,
) -> Reply {
    let viewer = user.viewer();
    let collection_id = id.to_string();
    let route = format!("add-collection-item:{collection_id}");
    Once::optional(&state, user.key(), key, route)
        .write(body.into_inner(), move |conn, request| {
            let item = ItemFields::parse("", request.into())?;
            let view = store::add_item(conn, &collection_id, &viewer, &item)?;
            let item = CollectionItem::from(view);
            let version = item.version;
            Ok(Created::new(&item)?
                .location(format!("/v1/collection-items/{}", item.id))
                .etag(version))
        })
        .await
}

/// Read an item (whoever reads its collection).
#[utoipa::path(
    tag = "collections",
    operation_id = "getCollectionItem",
    params(path::Item),
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "The item", body = CollectionItem,
            headers(("ETag" = String, description = "Current version"))),
        crate::openapi::ReadProblems,
    )
)]
#[get("/collection-items/{id}")]
pub async fn get_item(state: web::Data<AppState>, user: User, Id(id): Id) -> Reply {
    let viewer = user.viewer();
    let view = state
        .db(move |conn| Ok(store::item(conn, &id, &viewer)?))
        .await?;
    let version = view.row.version;
    Ok(ok_with_etag(&CollectionItem::from(view), version))
}

/// A change to an item; absent fields stay as they are. The sku does not
/// change (sales name it).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemChange {
    #[schema(value_type = Option<crate::schema::OrganizationName>)]
    pub name: Option<String>,
    #[schema(value_type = Option<crate::schema::DescriptionText>)]
    pub description: Option<String>,
    pub price: Option<Money>,
    /// `null`: no longer limited; never fewer than the pieces already sold.
    #[serde(default, deserialize_with = "super::present_whole_number")]
    #[schema(minimum = 1, maximum = 1000000, nullable)]
    pub edition_size: Option<Option<i64>>,
    #[schema(min_items = 1, max_items = 20)]
    pub contributors: Option<Vec<Uuid>>,
    /// `null` removes it.
    #[serde(default, deserialize_with = "super::present")]
    #[schema(nullable)]
    pub cultural_attribution: Option<Option<ItemAttribution>>,
}

/// Edit an item (accepted parties; `If-Match` with the item's version).
#[utoipa::path(
    tag = "collections",
    operation_id = "updateCollectionItem",
    request_body = ItemChange,
    params(path::Item, crate::http::extract::IfMatchHeader),
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "The item", body = CollectionItem,
            headers(("ETag" = String, description = "Its new version"))),
        crate::openapi::ConditionalWriteProblems,
    )
)]
#[patch("/collection-items/{id}")]
pub async fn update_item(
    state: web::Data<AppState>,
    user: User,
    Id(id): Id,
    body: Body<ItemChange>,
    if_match: IfMatch,
) -> Reply {
    let viewer = user.viewer();
    let change = body.into_inner();
    let patch = ItemPatch {
        name: change.name,
        description: change.description,
        price: change.price.map(|m| (m.amount_minor, m.currency)),
        edition_size: change.edition_size,
        contributors: change
            .contributors
            .map(|c| c.iter().map(Uuid::to_string).collect()),
        attribution: change
            .cultural_attribution
            .map(|a| a.map(|a| (a.tradition, a.credit_line))),
    };
    let view = state
        .db(move |conn| Ok(store::update_item(conn, &id, &viewer, &if_match.0, patch)?))
        .await?;
    let version = view.row.version;
    Ok(ok_with_etag(&CollectionItem::from(view), version))
}

/// One item's sales in one currency.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemRevenue {
    #[schema(value_type = crate::schema::CurrencyCode)]
    pub currency: String,
    pub gross_minor: i64,
    /// Gross less refunds.
    pub net_minor: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ItemSales {
    #[schema(format = Uuid)]
    pub item_id: String,
    pub sku: String,
    pub name: String,
    /// Sales naming the sku (one sale, one piece).
    pub units_sold: i64,
    /// Of those, sales refunded in full (the piece came back).
    pub units_refunded: i64,
    pub revenue: Vec<ItemRevenue>,
    /// Pieces of the numbered edition still to sell; `null`: not limited.
    pub remaining_edition: Option<i64>,
}

impl From<ItemPerformance> for ItemSales {
    fn from(p: ItemPerformance) -> Self {
        Self {
            units_sold: p.count.sold,
            units_refunded: p.count.refunded,
            remaining_edition: p.count.remaining(p.item.edition_size),
            revenue: p
                .revenue
                .into_iter()
                .map(|r| ItemRevenue {
                    net_minor: r.gross - r.refunded,
                    currency: r.currency,
                    gross_minor: r.gross,
                })
                .collect(),
            item_id: p.item.id,
            sku: p.item.sku,
            name: p.item.name,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CollectionPerformance {
    #[schema(format = Uuid)]
    pub collection_id: String,
    pub items: Vec<ItemSales>,
}

/// How each item of a collection sells: pieces sold and refunded, gross
/// and net revenue, what is left of its edition (those who see the
/// partnership's money).
#[utoipa::path(
    tag = "collections",
    operation_id = "getCollectionPerformance",
    params(path::Collection),
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "Per item", body = CollectionPerformance),
        crate::openapi::ReadProblems,
    )
)]
#[get("/collections/{id}/performance")]
pub async fn collection_performance(state: web::Data<AppState>, user: User, Id(id): Id) -> Reply {
    let viewer = user.viewer();
    let (collection, items) = state
        .db(move |conn| Ok(store::performance(conn, &id, &viewer)?))
        .await?;
    Ok(HttpResponse::Ok().json(CollectionPerformance {
        collection_id: collection.id,
        items: items.into_iter().map(ItemSales::from).collect(),
    }))
}
