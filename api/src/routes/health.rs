//! Liveness, readiness and Prometheus metrics.

use actix_web::{get, web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::http::metrics::PoolState;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: String,
}

/// The process is alive.
#[utoipa::path(
    tag = "operations",
    operation_id = "healthz",
    security(()),
    responses((status = 200, description = "Alive", body = Health))
)]
#[get("/healthz")]
pub async fn healthz() -> web::Json<Health> {
    web::Json(Health {
        status: "ok".to_owned(),
    })
}

/// The database is reachable and every migration is applied.
#[utoipa::path(
    tag = "operations",
    operation_id = "readyz",
    security(()),
    responses(
        (status = 200, description = "Ready to serve", body = Health),
        (status = 503, response = crate::openapi::ServiceUnavailable),
    )
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> Result<web::Json<Health>, ApiError> {
    let ready = state.db(|conn| Ok(persistence::db::is_ready(conn))).await?;
    if ready {
        Ok(web::Json(Health {
            status: "ready".to_owned(),
        }))
    } else {
        Err(ApiError::Unavailable(
            "migrations pending or database failing".to_owned(),
        ))
    }
}

/// Prometheus metrics: requests by route template and status, latency
/// histograms, database pool usage, profile reads per batch.
#[utoipa::path(
    tag = "operations",
    operation_id = "metrics",
    security(()),
    responses((status = 200, description = "Prometheus text format", body = String, content_type = "text/plain"))
)]
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let pool = state.pool.state();
    let text = state.metrics.render(&PoolState {
        connections: pool.connections,
        idle: pool.idle_connections,
        max_size: state.pool.max_size(),
        rate_limit_buckets: state.rate_limiter.tracked(),
        hops: state.admission.state(),
        profile_reads: state.profile_reads.count(),
    });
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(text)
}
