//! The HTTP API of Artisan Commons (actix-web): the app factory, routes,
//! the shared request machinery and the generated OpenAPI document.

pub mod auth;
pub mod config;
pub mod error;
pub mod http;
pub mod openapi;
pub mod routes;
pub mod schema;
pub mod state;
pub mod views;
pub mod webhooks;

use std::sync::Arc;

use actix_cors::Cors;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::{from_fn, Condition};
use actix_web::{web, App};
use utoipa::OpenApi;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::http::fallback::{not_routed, RouteTable};
use crate::state::AppState;

/// The generated OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    App::new()
        .into_utoipa_app()
        .openapi(openapi::ApiDoc::openapi())
        .configure(routes::configure)
        .split_for_parts()
        .1
}

/// The document as YAML, exactly as committed in `openapi.yaml`.
pub fn openapi_yaml() -> Result<String, String> {
    openapi().to_yaml().map_err(|e| e.to_string())
}

/// The YAML form served at `/openapi.yaml`.
struct OpenApiYaml(Arc<str>);

/// `/docs` without its slash: where the README and people's fingers go.
async fn docs_with_slash() -> actix_web::HttpResponse {
    actix_web::HttpResponse::PermanentRedirect()
        .insert_header((actix_web::http::header::LOCATION, "/docs/"))
        .finish()
}

async fn serve_openapi_yaml(doc: web::Data<OpenApiYaml>) -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok()
        .content_type("application/yaml")
        .body(doc.0.to_string())
}

fn cors(origins: &[String]) -> Cors {
    origins
        .iter()
        .fold(Cors::default(), |cors, origin| cors.allowed_origin(origin))
        .allowed_methods(["GET", "POST", "PATCH", "PUT", "DELETE"])
        .allowed_headers([
            "authorization",
            "content-type",
            "if-match",
            "idempotency-key",
            "x-api-key",
            "x-request-id",
        ])
        .expose_headers([
            "etag",
            "location",
            "link",
            "retry-after",
            "ratelimit-limit",
            "ratelimit-remaining",
            "ratelimit-reset",
            "x-request-id",
        ])
        .max_age(600)
}

/// The whole application for one worker.
pub fn app(
    state: web::Data<AppState>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let (app, doc) = App::new()
        .into_utoipa_app()
        .openapi(openapi::ApiDoc::openapi())
        .configure(routes::configure)
        .split_for_parts();
    let yaml = doc.to_yaml().unwrap_or_default();
    let settings = state.settings.clone();
    app.app_data(state)
        .app_data(web::Data::new(RouteTable::from_openapi(&doc)))
        .app_data(web::Data::new(OpenApiYaml(yaml.into())))
        .configure(|cfg| http::extract::configure_extractors(cfg, settings.max_body_bytes))
        .route("/openapi.yaml", web::get().to(serve_openapi_yaml))
        .route("/docs", web::get().to(docs_with_slash))
        .service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", doc))
        .default_service(web::to(not_routed))
        .wrap(from_fn(http::observe::limit_rate))
        .wrap(Condition::new(
            !settings.cors_allowed_origins.is_empty(),
            cors(&settings.cors_allowed_origins),
        ))
        .wrap(from_fn(http::observe::observe))
}
