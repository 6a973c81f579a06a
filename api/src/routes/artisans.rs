//! Artisan profiles: search, read, owner edits, reviews. Profiles are
//! visible to every signed-in person; e-mail is never part of a profile.

use actix_web::http::header;
use actix_web::{get, patch, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use domain::country::CountryCode;
use domain::profile::{OpenToKind, OpenToPatch, ProfilePatch};
use domain::text::{limits, Slug};
use domain::FieldError;
use persistence::artisans::{self as store, ArtisanAfter, ArtisanFilter, ArtisanOrder, ArtisanRow};
use persistence::reviews::{self, ReviewRow};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::utc;
use crate::auth::principal::Principal;
use crate::error::ApiError;
use crate::http::extract::IfMatch;
use crate::http::{etag, pagination};
use crate::page_type;
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_artisans)
        .service(get_artisan)
        .service(update_artisan)
        .service(list_reviews);
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenTo {
    pub collaboration: bool,
    pub mentoring: bool,
    pub being_mentored: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Rating {
    /// Mean of all review ratings (1–5), two decimals; `null` without reviews.
    pub average: Option<f64>,
    pub count: i64,
}

/// A public artisan profile.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Artisan {
    #[schema(format = Uuid)]
    pub id: String,
    pub display_name: String,
    pub bio: String,
    pub crafts: Vec<String>,
    pub skills_offered: Vec<String>,
    pub skills_wanted: Vec<String>,
    pub cultural_traditions: Vec<String>,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
    pub region: Option<String>,
    /// BCP 47 language tags.
    pub languages: Vec<String>,
    pub open_to: OpenTo,
    /// Consent to appear in the partner organizations' directory.
    pub discoverable_by_partners: bool,
    /// Self-declared community slugs, shown only because the artisan chose to.
    pub communities: Vec<String>,
    pub links: Vec<String>,
    pub rating: Rating,
    /// True once the owner closed the account; personal fields are erased.
    pub former_member: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl From<ArtisanRow> for Artisan {
    fn from(row: ArtisanRow) -> Self {
        let fields = row.fields();
        let average = (row.rating_count > 0).then(|| {
            // Two decimals, computed in integers to avoid float drift.
            let hundredths = (row.rating_sum * 100 * 2 + row.rating_count) / (row.rating_count * 2);
            hundredths as f64 / 100.0
        });
        Self {
            id: row.id,
            display_name: fields.display_name,
            bio: fields.bio,
            crafts: fields.crafts,
            skills_offered: fields.skills_offered,
            skills_wanted: fields.skills_wanted,
            cultural_traditions: fields.cultural_traditions,
            country: fields.country,
            region: fields.region,
            languages: fields.languages,
            open_to: OpenTo {
                collaboration: fields.open_to.collaboration,
                mentoring: fields.open_to.mentoring,
                being_mentored: fields.open_to.being_mentored,
            },
            discoverable_by_partners: fields.discoverable_by_partners,
            communities: fields.communities,
            links: fields.links,
            rating: Rating {
                average,
                count: row.rating_count,
            },
            former_member: row.former_member,
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
            version: row.version,
        }
    }
}

page_type!(ArtisanPage, Artisan);

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OpenToFilter {
    Collaboration,
    Mentoring,
    BeingMentored,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ArtisanSort {
    #[default]
    Newest,
    Name,
}

/// Filters and paging of the artisan search.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ArtisanQuery {
    /// Offers this craft.
    #[param(value_type = Option<crate::schema::Slug>)]
    pub craft: Option<String>,
    #[param(value_type = Option<crate::schema::Slug>)]
    pub skill_offered: Option<String>,
    #[param(value_type = Option<crate::schema::Slug>)]
    pub skill_wanted: Option<String>,
    #[param(value_type = Option<crate::schema::CountryCode>)]
    pub country: Option<String>,
    /// Exact region name.
    #[param(min_length = 1, max_length = 100)]
    pub region: Option<String>,
    /// A self-declared community slug.
    #[param(value_type = Option<crate::schema::Slug>)]
    pub community: Option<String>,
    #[param(inline)]
    pub open_to: Option<OpenToFilter>,
    /// Case-insensitive text in the name or bio.
    #[param(min_length = 1, max_length = 100)]
    pub q: Option<String>,
    #[param(inline)]
    pub sort: Option<ArtisanSort>,
    /// Page size, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(max_length = 1000)]
    pub cursor: Option<String>,
}

/// An optional slug filter (400 when malformed).
pub(crate) fn slug_param(name: &str, value: &Option<String>) -> Result<Option<String>, ApiError> {
    value
        .as_deref()
        .map(|v| Slug::parse(name, v).map(|s| s.as_str().to_owned()))
        .transpose()
        .map_err(param_error)
}

/// An optional ISO 3166-1 alpha-2 filter (400 when not a country code).
pub(crate) fn country_param(
    name: &str,
    value: &Option<String>,
) -> Result<Option<String>, ApiError> {
    value
        .as_deref()
        .map(|c| CountryCode::parse(name, c).map(CountryCode::into_inner))
        .transpose()
        .map_err(param_error)
}

fn param_error(error: FieldError) -> ApiError {
    ApiError::bad_param(&error.field, error.code, error.message)
}

/// A free-text filter of 1 to `max` characters; whitespace only means
/// "no filter".
pub(crate) fn text_param(
    name: &str,
    value: &Option<String>,
    max: usize,
) -> Result<Option<String>, ApiError> {
    match value.as_deref() {
        Some(v) if v.is_empty() || v.chars().count() > max => Err(ApiError::bad_param(
            name,
            "length",
            format!("must have 1 to {max} characters"),
        )),
        Some(v) if v.trim().is_empty() => Ok(None),
        Some(v) => Ok(Some(v.trim().to_owned())),
        None => Ok(None),
    }
}

const NEWEST: &str = "newest";
const OLDEST: &str = "oldest";
const NAME: &str = "name";

/// Runs a validated search; shared by `/v1/artisans` and the partner
/// directory (which adds `discoverable_only`).
pub(crate) async fn search(
    state: &AppState,
    req: &HttpRequest,
    query: ArtisanQuery,
    discoverable_only: bool,
) -> Result<HttpResponse, ApiError> {
    let filter = ArtisanFilter {
        craft: slug_param("craft", &query.craft)?,
        skill_offered: slug_param("skill_offered", &query.skill_offered)?,
        skill_wanted: slug_param("skill_wanted", &query.skill_wanted)?,
        community: slug_param("community", &query.community)?,
        country: country_param("country", &query.country)?,
        region: text_param("region", &query.region, limits::REGION)?,
        open_to: query.open_to.map(|o| match o {
            OpenToFilter::Collaboration => OpenToKind::Collaboration,
            OpenToFilter::Mentoring => OpenToKind::Mentoring,
            OpenToFilter::BeingMentored => OpenToKind::BeingMentored,
        }),
        q: text_param("q", &query.q, limits::SEARCH_QUERY)?,
        discoverable_only,
    };
    let limit = pagination::limit(query.limit)?;
    let (order, tag) = match query.sort.unwrap_or_default() {
        ArtisanSort::Newest => (ArtisanOrder::Newest, NEWEST),
        ArtisanSort::Name => (ArtisanOrder::Name, NAME),
    };
    let after = match &query.cursor {
        Some(cursor) => {
            let keys = pagination::decode_cursor(cursor, tag, 2)?;
            Some(ArtisanAfter {
                name_key: keys[0].clone(),
                id: keys[1].clone(),
            })
        }
        None => None,
    };
    let page = state
        .db(move |conn| Ok(store::list(conn, &filter, order, after.as_ref(), limit)?))
        .await?;
    let next = page
        .has_more
        .then(|| page.rows.last())
        .flatten()
        .map(|last| pagination::encode_cursor(tag, &[&last.name_key, &last.id]));
    let data: Vec<Artisan> = page.rows.into_iter().map(Artisan::from).collect();
    Ok(pagination::respond(req, data, next))
}

/// Search artisans.
#[utoipa::path(
    tag = "artisans",
    operation_id = "listArtisans",
    params(ArtisanQuery),
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "One page of profiles", body = ArtisanPage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when more pages follow"))),
        crate::openapi::ReadProblems,
    )
)]
#[get("/artisans")]
pub async fn list_artisans(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    query: web::Query<ArtisanQuery>,
) -> Result<HttpResponse, ApiError> {
    principal.user()?;
    search(&state, &req, query.into_inner(), false).await
}

/// Loads a profile or 404.
pub(crate) async fn load(state: &AppState, id: String) -> Result<ArtisanRow, ApiError> {
    state
        .db(move |conn| store::find(conn, &id)?.ok_or(ApiError::NotFound))
        .await
}

/// A profile with its `ETag`.
pub(crate) fn with_etag(row: ArtisanRow) -> HttpResponse {
    let version = row.version;
    HttpResponse::Ok()
        .insert_header((header::ETAG, etag(version)))
        .json(Artisan::from(row))
}

/// Read a profile.
#[utoipa::path(
    tag = "artisans",
    operation_id = "getArtisan",
    params(("id" = Uuid, Path, description = "Artisan id")),
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "The profile", body = Artisan,
            headers(("ETag" = String, description = "Current version, for If-Match"))),
        crate::openapi::ReadProblems,
    )
)]
#[get("/artisans/{id}")]
pub async fn get_artisan(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    principal.user()?;
    Ok(with_etag(load(&state, id.to_string()).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenToPatchBody {
    pub collaboration: Option<bool>,
    pub mentoring: Option<bool>,
    pub being_mentored: Option<bool>,
}

/// A change to the owner's profile; absent fields stay as they are.
/// Server-owned fields (`id`, `rating`, `version`, `former_member`,
/// timestamps) cannot be set (422).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArtisanPatch {
    #[schema(value_type = Option<crate::schema::DisplayName>)]
    pub display_name: Option<String>,
    #[schema(value_type = Option<crate::schema::Bio>)]
    pub bio: Option<String>,
    #[schema(value_type = Option<crate::schema::SlugList>)]
    pub crafts: Option<Vec<String>>,
    #[schema(value_type = Option<crate::schema::SlugList>)]
    pub skills_offered: Option<Vec<String>>,
    #[schema(value_type = Option<crate::schema::SlugList>)]
    pub skills_wanted: Option<Vec<String>>,
    #[schema(value_type = Option<crate::schema::TraditionList>)]
    pub cultural_traditions: Option<Vec<String>>,
    /// ISO 3166-1 alpha-2; `null` clears it.
    #[serde(default, deserialize_with = "super::present")]
    #[schema(value_type = Option<crate::schema::CountryCode>, nullable)]
    pub country: Option<Option<String>>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "super::present")]
    #[schema(value_type = Option<crate::schema::Region>, nullable)]
    pub region: Option<Option<String>>,
    #[schema(value_type = Option<crate::schema::LanguageList>)]
    pub languages: Option<Vec<String>>,
    pub open_to: Option<OpenToPatchBody>,
    pub discoverable_by_partners: Option<bool>,
    #[schema(value_type = Option<crate::schema::CommunityList>)]
    pub communities: Option<Vec<String>>,
    #[schema(value_type = Option<crate::schema::LinkList>)]
    pub links: Option<Vec<String>>,
}

impl From<ArtisanPatch> for ProfilePatch {
    fn from(p: ArtisanPatch) -> Self {
        ProfilePatch {
            display_name: p.display_name,
            bio: p.bio,
            crafts: p.crafts,
            skills_offered: p.skills_offered,
            skills_wanted: p.skills_wanted,
            cultural_traditions: p.cultural_traditions,
            country: p.country,
            region: p.region,
            languages: p.languages,
            open_to: p.open_to.map(|o| OpenToPatch {
                collaboration: o.collaboration,
                mentoring: o.mentoring,
                being_mentored: o.being_mentored,
            }),
            discoverable_by_partners: p.discoverable_by_partners,
            communities: p.communities,
            links: p.links,
        }
    }
}

/// Fields the server owns; sending them is a rule violation, not a typo.
const SERVER_OWNED: [&str; 6] = [
    "id",
    "rating",
    "version",
    "former_member",
    "created_at",
    "updated_at",
];

/// Parses a PATCH body: server-owned fields → 422 naming each of them;
/// anything else that does not fit the schema → 400.
fn parse_patch(body: serde_json::Value) -> Result<ArtisanPatch, ApiError> {
    let object = body
        .as_object()
        .ok_or_else(|| ApiError::bad_request("The body must be a JSON object."))?;
    let owned: Vec<FieldError> = object
        .keys()
        .filter(|k| SERVER_OWNED.contains(&k.as_str()))
        .map(|k| FieldError::new(k.as_str(), "read_only", "is set by the server"))
        .collect();
    if !owned.is_empty() {
        return Err(ApiError::Validation(owned));
    }
    serde_json::from_value(body)
        .map_err(|e| ApiError::bad_request(format!("The JSON body does not match the schema: {e}")))
}

/// Edit your own profile.
#[utoipa::path(
    tag = "artisans",
    operation_id = "updateArtisan",
    params(
        ("id" = Uuid, Path, description = "Artisan id (your own)"),
        crate::http::extract::IfMatchHeader,
    ),
    request_body = ArtisanPatch,
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "The updated profile", body = Artisan,
            headers(("ETag" = String, description = "The new version"))),
        crate::openapi::ConditionalWriteProblems,
    )
)]
#[patch("/artisans/{id}")]
pub async fn update_artisan(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<Uuid>,
    body: web::Json<serde_json::Value>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let user = principal.user()?;
    let id = id.to_string();
    // Only the owner may edit; to anyone else the profile is not editable
    // and its existence as an edit target is not confirmed.
    if user.id != id {
        return Err(ApiError::NotFound);
    }
    let patch = ProfilePatch::from(parse_patch(body.into_inner())?).validate()?;
    let expected = if_match.0;
    let row = state
        .db(move |conn| Ok(store::update_profile(conn, &id, &expected, patch)?))
        .await?;
    Ok(with_etag(row))
}

/// A review of an artisan, left after a completed skill exchange.
#[derive(Debug, Serialize, ToSchema)]
pub struct Review {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub exchange_id: String,
    #[schema(format = Uuid)]
    pub reviewer_id: String,
    #[schema(minimum = 1, maximum = 5)]
    pub rating: i16,
    pub comment: String,
    pub created_at: DateTime<Utc>,
}

impl From<ReviewRow> for Review {
    fn from(row: ReviewRow) -> Self {
        Self {
            id: row.id,
            exchange_id: row.exchange_id,
            reviewer_id: row.reviewer_id,
            rating: row.rating,
            comment: row.comment,
            created_at: utc(row.created_at),
        }
    }
}

page_type!(ReviewPage, Review);

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page size, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(max_length = 1000)]
    pub cursor: Option<String>,
}

impl PageQuery {
    /// Validated limit and the id the previous page ended at (newest-first
    /// listings keyed on the time-ordered id).
    pub fn newest_first(&self) -> Result<(i64, Option<String>), ApiError> {
        self.by_id(NEWEST)
    }

    /// The same for oldest-first listings.
    pub fn oldest_first(&self) -> Result<(i64, Option<String>), ApiError> {
        self.by_id(OLDEST)
    }

    fn by_id(&self, order: &str) -> Result<(i64, Option<String>), ApiError> {
        let limit = pagination::limit(self.limit)?;
        let last = match &self.cursor {
            Some(cursor) => pagination::decode_cursor(cursor, order, 1)?.pop(),
            None => None,
        };
        Ok((limit, last))
    }
}

/// The cursor after `last_id` in a newest-first listing.
pub fn next_newest(has_more: bool, last_id: Option<&str>) -> Option<String> {
    next_by_id(NEWEST, has_more, last_id)
}

/// The cursor after `last_id` in an oldest-first listing.
pub fn next_oldest(has_more: bool, last_id: Option<&str>) -> Option<String> {
    next_by_id(OLDEST, has_more, last_id)
}

fn next_by_id(order: &str, has_more: bool, last_id: Option<&str>) -> Option<String> {
    has_more
        .then_some(last_id)
        .flatten()
        .map(|id| pagination::encode_cursor(order, &[id]))
}

/// Reviews of an artisan, newest first.
#[utoipa::path(
    tag = "artisans",
    operation_id = "listArtisanReviews",
    params(("id" = Uuid, Path, description = "Artisan id"), PageQuery),
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "One page of reviews", body = ReviewPage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when more pages follow"))),
        crate::openapi::ReadProblems,
    )
)]
#[get("/artisans/{id}/reviews")]
pub async fn list_reviews(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    id: web::Path<Uuid>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    principal.user()?;
    let (limit, before) = query.newest_first()?;
    let id = id.to_string();
    let page = state
        .db(move |conn| {
            store::find(conn, &id)?.ok_or(ApiError::NotFound)?;
            Ok(reviews::list_for_subject(
                conn,
                &id,
                before.as_deref(),
                limit,
            )?)
        })
        .await?;
    let next = next_newest(page.has_more, page.rows.last().map(|r| r.id.as_str()));
    let data: Vec<Review> = page.rows.into_iter().map(Review::from).collect();
    Ok(pagination::respond(&req, data, next))
}
