//! The signed-in account: read it, or close it.

use actix_web::http::header;
use actix_web::{delete, get, web, HttpResponse};
use persistence::users;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::principal::User;
use crate::error::{ApiError, Reply};
use crate::http::etag;
use crate::http::extract::IfMatch;
use crate::state::AppState;
use crate::views::{load, Me};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get_me).service(delete_me);
}

/// Your account and profile. The `ETag` is the profile's.
#[utoipa::path(
    tag = "me",
    operation_id = "getMe",
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "The account", body = Me,
            headers(("ETag" = String, description = "The profile's version, for If-Match"))),
        crate::openapi::ReadProblems,
    )
)]
#[get("/me")]
pub async fn get_me(state: web::Data<AppState>, user: User) -> Reply {
    let user_id = user.id;
    let lookup = user_id.clone();
    let user = state
        .db(move |conn| users::find(conn, &lookup)?.ok_or(ApiError::NotFound))
        .await?;
    let profile = load(&state, user_id).await?;
    let version = profile.version;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(version)))
        .json(Me::new(user, profile)))
}

/// Close your account. Credentials and personal fields are erased and the
/// profile is shown as a former member's; records other people rely on
/// (signed agreements, ledgers, settlements) are kept.
#[utoipa::path(
    tag = "me",
    operation_id = "deleteMe",
    params(crate::http::extract::IfMatchHeader),
    security(("bearer_auth" = [])),
    responses(
        (status = 204, description = "Account closed"),
        crate::openapi::ConditionalWriteProblems,
    )
)]
#[delete("/me")]
pub async fn delete_me(state: web::Data<AppState>, user: User, if_match: IfMatch) -> Reply {
    let user_id = user.id;
    let expected = if_match.0;
    state
        .db(move |conn| {
            Ok(persistence::departures::close_account(
                conn, &user_id, &expected,
            )?)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
