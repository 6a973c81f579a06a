//! The consent-based directory for partner organizations: only artisans
//! who set `discoverable_by_partners` appear.

use actix_web::{get, web, HttpRequest, HttpResponse};
use domain::api_key::Scope;
use utoipa_actix_web::service_config::ServiceConfig;

use super::artisans::{search, ArtisanQuery};
use crate::auth::principal::Principal;
use crate::error::ApiError;
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(directory_artisans);
}

/// Artisans who consented to be shown to partners (scope `directory:read`).
/// Same filters and paging as `GET /v1/artisans`.
#[utoipa::path(
    tag = "directory",
    operation_id = "listDirectoryArtisans",
    params(ArtisanQuery),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "One page of consenting profiles", body = super::artisans::ArtisanPage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when more pages follow"))),
        crate::openapi::ReadProblems,
    )
)]
#[get("/directory/artisans")]
pub async fn directory_artisans(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    query: web::Query<ArtisanQuery>,
) -> Result<HttpResponse, ApiError> {
    principal.partner(Scope::DirectoryRead)?;
    search(&state, &req, query.into_inner(), true).await
}
