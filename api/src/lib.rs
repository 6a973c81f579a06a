//! The HTTP API of Artisan Commons (actix-web): the app factory, routes,
//! the shared request machinery and the generated OpenAPI document.

pub mod auth;
pub mod config;
pub mod error;
pub mod http;
pub mod openapi;
pub mod profile_reads;
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
    let mut doc = App::new()
        .into_utoipa_app()
        .openapi(openapi::ApiDoc::openapi())
        .configure(routes::configure)
        .split_for_parts()
        .1;
    openapi::finish(&mut doc);
    doc
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

/// How the process around the server runs it: the binary handles signals
/// (graceful stop on SIGTERM/SIGINT); tests run many servers and do not.
pub struct Runtime {
    pub workers: Option<usize>,
    pub handle_signals: bool,
}

/// The HTTP server for the app on `listener`, with the client limits of the
/// configuration: the time a new connection has to send its request head,
/// how long an idle kept-alive connection stays open, and 30 s for
/// in-flight requests to finish on a graceful stop. (The time a body has
/// to arrive is enforced where bodies are read, [`http::extract::Body`];
/// the size of the head by [`http::observe::limit_headers`].)
pub fn server(
    state: web::Data<AppState>,
    listener: std::net::TcpListener,
    runtime: &Runtime,
) -> std::io::Result<actix_web::dev::Server> {
    let settings = &state.settings;
    let (head, keep_alive) = (settings.request_head_timeout, settings.keep_alive);
    let mut server = actix_web::HttpServer::new(move || app(state.clone()))
        .client_request_timeout(head)
        .keep_alive(keep_alive)
        .shutdown_timeout(30);
    if let Some(workers) = runtime.workers {
        server = server.workers(workers);
    }
    if !runtime.handle_signals {
        server = server.disable_signals();
    }
    Ok(server.listen(listener)?.run())
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
    let (app, mut doc) = App::new()
        .into_utoipa_app()
        .openapi(openapi::ApiDoc::openapi())
        .configure(routes::configure)
        .split_for_parts();
    openapi::finish(&mut doc);
    let yaml = doc.to_yaml().unwrap_or_default();
    let settings = state.settings.clone();
    app.app_data(state)
        .app_data(web::Data::new(RouteTable::from_openapi(&doc)))
        .app_data(web::Data::new(OpenApiYaml(yaml.into())))
        .configure(|cfg| http::extract::configure_extractors(cfg, &settings))
        .route("/openapi.yaml", web::get().to(serve_openapi_yaml))
        .route("/docs", web::get().to(docs_with_slash))
        .service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", doc))
        .default_service(web::to(not_routed))
        .wrap(from_fn(auth::principal::check_accounts))
        .wrap(from_fn(http::observe::limit_rate))
        .wrap(from_fn(http::observe::limit_headers))
        .wrap(Condition::new(
            !settings.cors_allowed_origins.is_empty(),
            cors(&settings.cors_allowed_origins),
        ))
        .wrap(from_fn(http::observe::observe))
}
