//! Artisan profiles: search, read, owner edits, reviews, and the
//! consent-based directory for partner organizations (only artisans who set
//! `discoverable_by_partners`). Profiles are visible to every signed-in
//! person; e-mail is never part of a profile.

use actix_web::http::header;
use actix_web::{get, patch, web, HttpResponse};
use domain::profile::{OpenToKind, OpenToPatch, ProfilePatch};
use domain::text::limits;
use domain::FieldError;
use persistence::artisans::{self as store, ArtisanAfter, ArtisanFilter, ArtisanOrder, ArtisanRow};
use persistence::reviews::{self};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::principal::{scope, Granted, User};
use crate::error::{ApiError, Reply};
use crate::http::extract::{Body, Id, IfMatch};
use crate::http::pagination::{PageQuery, Paging, NEWEST};
use crate::http::params::{country_param, slug_param, text_param};
use crate::http::{etag, pagination};
use crate::openapi::path;
use crate::state::AppState;
use crate::views::{load, Artisan, ArtisanPage, Review};
use crate::{keyed_by_id, page_type};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_artisans)
        .service(directory_artisans)
        .service(get_artisan)
        .service(update_artisan)
        .service(list_reviews);
}

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
}

const NAME: &str = "name";

/// Runs a validated search; shared by `/v1/artisans` and the partner
/// directory (which adds `discoverable_only`).
pub(crate) async fn search(
    state: &AppState,
    paging: &Paging,
    query: ArtisanQuery,
    discoverable_only: bool,
) -> Reply {
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
    let (order, tag) = match query.sort.unwrap_or_default() {
        ArtisanSort::Newest => (ArtisanOrder::Newest, NEWEST),
        ArtisanSort::Name => (ArtisanOrder::Name, NAME),
    };
    let (limit, after) = paging.keyed(tag, 2)?;
    let after = after.map(|keys| ArtisanAfter {
        name_key: keys[0].clone(),
        id: keys[1].clone(),
    });
    let page = state
        .db(move |conn| Ok(store::list(conn, &filter, order, after.as_ref(), limit)?))
        .await?;
    Ok(pagination::keyed(
        paging,
        tag,
        page,
        |last| vec![last.name_key.clone(), last.id.clone()],
        Artisan::from,
    ))
}

/// Search artisans.
#[utoipa::path(
    tag = "artisans",
    operation_id = "listArtisans",
    params(ArtisanQuery, PageQuery),
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
    _: User,
    paging: Paging,
    query: web::Query<ArtisanQuery>,
) -> Reply {
    search(&state, &paging, query.into_inner(), false).await
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
    params(path::Artisan),
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "The profile", body = Artisan,
            headers(("ETag" = String, description = "Current version, for If-Match"))),
        crate::openapi::ReadProblems,
    )
)]
#[get("/artisans/{id}")]
pub async fn get_artisan(state: web::Data<AppState>, _: User, Id(id): Id) -> Reply {
    Ok(with_etag(load(&state, id.to_string()).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenToPatchBody {
    pub collaboration: Option<bool>,
    pub mentoring: Option<bool>,
    pub being_mentored: Option<bool>,
}

place_change_fields! {
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
        // + country, region
    } {
        #[schema(value_type = Option<crate::schema::LanguageList>)]
        pub languages: Option<Vec<String>>,
        pub open_to: Option<OpenToPatchBody>,
        pub discoverable_by_partners: Option<bool>,
        #[schema(value_type = Option<crate::schema::CommunityList>)]
        pub communities: Option<Vec<String>>,
        #[schema(value_type = Option<crate::schema::LinkList>)]
        pub links: Option<Vec<String>>,
    }
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
    user: User,
    Id(id): Id,
    body: Body<serde_json::Value>,
    if_match: IfMatch,
) -> Reply {
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

page_type!(ReviewPage, Review);
keyed_by_id!(Review);

/// Reviews of an artisan, newest first.
#[utoipa::path(
    tag = "artisans",
    operation_id = "listArtisanReviews",
    params(path::Artisan, PageQuery),
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
    _: User,
    Id(id): Id,
    paging: Paging,
) -> Reply {
    pagination::newest(&state, &paging, move |conn, seek| {
        store::find(conn, &id)?.ok_or(ApiError::NotFound)?;
        Ok(reviews::list_for_subject(conn, &id, seek)?.map(Review::from))
    })
    .await
}

/// Artisans who consented to be shown to partners (scope `directory:read`).
/// Same filters and paging as `GET /v1/artisans`.
#[utoipa::path(
    tag = "directory",
    operation_id = "listDirectoryArtisans",
    params(ArtisanQuery, PageQuery),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "One page of consenting profiles", body = ArtisanPage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when more pages follow"))),
        crate::openapi::ReadProblems,
    )
)]
#[get("/directory/artisans")]
pub async fn directory_artisans(
    state: web::Data<AppState>,
    _: Granted<scope::DirectoryRead>,
    paging: Paging,
    query: web::Query<ArtisanQuery>,
) -> Reply {
    search(&state, &paging, query.into_inner(), true).await
}
