//! Workshops: group skill sharing with seats, a waitlist and attendance
//! that pays the host in the time ledger. Any signed-in artisan sees
//! workshops; registrations are seen by the host and by each registrant
//! (their own).

use actix_web::http::header;
use actix_web::{delete, get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use domain::exchange::{self as rules, RegistrationStatus, WorkshopFields};
use domain::workshop::starts_in_future;
use domain::{FieldError, FieldErrors};
use persistence::workshops::{self as store, RegistrationRow, WorkshopFilter, WorkshopView};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::utc;
use crate::auth::principal::User;
use crate::error::{ApiError, Reply};
use crate::http::extract::{Body, Id, IdempotencyKey, Ids, IfMatch};
use crate::http::idempotency::{Created, Once};
use crate::http::pagination::{PageQuery, Paging};
use crate::http::params::{country_param, slug_param};
use crate::http::{etag, pagination};
use crate::openapi::path;
use crate::state::AppState;
use crate::{keyed_by_id, page_type};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_workshop)
        .service(list_workshops)
        .service(get_workshop)
        .service(register)
        .service(list_registrations)
        .service(cancel_registration)
        .service(record_attendance);
}

mirror_enum!(WorkshopRegistrationState <=> RegistrationStatus { Registered, Waitlisted, Cancelled });

#[derive(Debug, Serialize, ToSchema)]
pub struct Workshop {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub host_id: String,
    pub title: String,
    pub skill: String,
    pub description: String,
    pub capacity: i64,
    pub starts_at: DateTime<Utc>,
    /// Quarter hours (0.25–8); each attendee pays this to the host.
    pub duration_hours: f64,
    pub location: Option<String>,
    pub online_url: Option<String>,
    #[schema(format = Uuid)]
    pub collective_id: Option<String>,
    /// The host's country when the workshop was created.
    pub country: Option<String>,
    /// Registered seats (at most `capacity`).
    pub seats_taken: i64,
    pub waitlisted: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl From<WorkshopView> for Workshop {
    fn from(v: WorkshopView) -> Self {
        let r = v.row;
        Self {
            duration_hours: rules::hours(r.duration_minutes),
            id: r.id,
            host_id: r.host_id,
            title: r.title,
            skill: r.skill,
            description: r.description,
            capacity: r.capacity,
            starts_at: utc(r.starts_at),
            location: r.location,
            online_url: r.online_url,
            collective_id: r.collective_id,
            country: r.country,
            seats_taken: v.registered,
            waitlisted: v.waitlisted,
            created_at: utc(r.created_at),
            updated_at: utc(r.updated_at),
            version: r.version,
        }
    }
}

fn one(
    conn: &mut persistence::AnyConnection,
    row: store::WorkshopRow,
) -> Result<Workshop, ApiError> {
    let view = store::views(conn, vec![row])?
        .pop()
        .ok_or(ApiError::NotFound)?;
    Ok(Workshop::from(view))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWorkshop {
    #[schema(value_type = crate::schema::OrganizationName)]
    pub title: String,
    #[schema(value_type = crate::schema::Slug)]
    pub skill: String,
    #[serde(default)]
    #[schema(value_type = crate::schema::DescriptionText)]
    pub description: String,
    #[schema(minimum = 1, maximum = 500)]
    #[serde(deserialize_with = "super::whole_number")]
    pub capacity: i64,
    /// In the future.
    pub starts_at: DateTime<Utc>,
    /// Quarter hours, 0.25–8.
    #[schema(minimum = 0.25, maximum = 8, multiple_of = 0.25)]
    pub duration_hours: f64,
    /// Where it happens — or `online_url`, exactly one of the two.
    #[serde(default)]
    #[schema(value_type = Option<crate::schema::Region>)]
    pub location: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<crate::schema::WebUrl>)]
    pub online_url: Option<String>,
    /// A collective you are a member of.
    #[serde(default)]
    pub collective_id: Option<Uuid>,
}

/// Host a workshop. Writes `workshop.created` to the outbox.
#[utoipa::path(
    tag = "workshops",
    operation_id = "createWorkshop",
    request_body = NewWorkshop,
    params(crate::http::extract::IdempotencyKeyHeader),
    security(("bearer_auth" = [])),
    responses(
        (status = 201, description = "The workshop", body = Workshop,
            headers(("Location" = String, description = "The workshop"), ("ETag" = String, description = "Its version"))),
        crate::openapi::WriteProblems,
    )
)]
#[post("/workshops")]
pub async fn create_workshop(
    state: web::Data<AppState>,
    user: User,
    key: IdempotencyKey,
    body: Body<NewWorkshop>,
) -> Reply {
    Once::optional(&state, user.key(), key, "create-workshop")
        .write(body.into_inner(), move |conn, request| {
            let fields = WorkshopFields::new(
                &request.title,
                &request.skill,
                &request.description,
                request.capacity,
                request.duration_hours,
                request.location.as_deref(),
                request.online_url.as_deref(),
            );
            let starts_at = persistence::truncate_micros(request.starts_at.naive_utc());
            let starts = starts_in_future(starts_at, persistence::now());
            let fields = match (fields, starts) {
                (Ok(f), Ok(())) => f,
                (result, starts) => {
                    let mut errors = result.err().unwrap_or_default();
                    errors.take(starts);
                    return Err(errors.into());
                }
            };
            let collective = request.collective_id.map(|c| c.to_string());
            let body = {
                let row = store::create(conn, &user.id, &fields, starts_at, collective.as_deref())?;
                one(conn, row)
            }?;
            let version = body.version;
            Ok(Created::new(&body)?
                .location(format!("/v1/workshops/{}", body.id))
                .etag(version))
        })
        .await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WorkshopQuery {
    #[param(value_type = Option<crate::schema::Slug>)]
    pub skill: Option<String>,
    #[param(value_type = Option<crate::schema::CountryCode>)]
    pub country: Option<String>,
    /// Only workshops starting at or after this time.
    pub from: Option<DateTime<Utc>>,
}

page_type!(WorkshopPage, Workshop);

const BY_START: &str = "workshops-by-start";

impl pagination::Starts for WorkshopView {
    fn start(&self) -> (chrono::NaiveDateTime, &str) {
        (self.row.starts_at, &self.row.id)
    }
}

/// Workshops in order of their start (then id).
#[utoipa::path(
    tag = "workshops",
    operation_id = "listWorkshops",
    params(WorkshopQuery, PageQuery),
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "One page of workshops", body = WorkshopPage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when more pages follow"))),
        crate::openapi::ReadProblems,
    )
)]
#[get("/workshops")]
pub async fn list_workshops(
    state: web::Data<AppState>,
    _: User,
    paging: Paging,
    query: web::Query<WorkshopQuery>,
) -> Reply {
    let query = query.into_inner();
    let (limit, after) = paging.by_start(BY_START)?;
    let filter = WorkshopFilter {
        skill: slug_param("skill", &query.skill)?,
        country: country_param("country", &query.country)?,
        from: query.from.map(|f| f.naive_utc()),
    };
    let page = state
        .db(move |conn| {
            let page = store::list(conn, &filter, after, limit)?;
            Ok(page.try_map_rows(|rows| store::views(conn, rows))?)
        })
        .await?;
    Ok(pagination::starting(
        &paging,
        BY_START,
        page,
        Workshop::from,
    ))
}

/// Read a workshop.
#[utoipa::path(
    tag = "workshops",
    operation_id = "getWorkshop",
    params(path::Workshop),
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "The workshop", body = Workshop,
            headers(("ETag" = String, description = "Current version"))),
        crate::openapi::ReadProblems,
    )
)]
#[get("/workshops/{id}")]
pub async fn get_workshop(state: web::Data<AppState>, _: User, Id(id): Id) -> Reply {
    let body = state
        .db(move |conn| {
            let row = store::find(conn, &id)?;
            one(conn, row)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(body.version)))
        .json(body))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WorkshopRegistration {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub workshop_id: String,
    #[schema(format = Uuid)]
    pub artisan_id: String,
    pub status: WorkshopRegistrationState,
    /// Marked by the host after the start.
    pub attended: bool,
    pub created_at: DateTime<Utc>,
    pub version: i64,
}

impl From<RegistrationRow> for WorkshopRegistration {
    fn from(r: RegistrationRow) -> Self {
        Self {
            status: r.status().into(),
            id: r.id,
            workshop_id: r.workshop_id,
            artisan_id: r.artisan_id,
            attended: r.attended,
            created_at: utc(r.created_at),
            version: r.version,
        }
    }
}

page_type!(WorkshopRegistrationPage, WorkshopRegistration);
keyed_by_id!(WorkshopRegistration);

/// Register for a workshop: a seat while there is one, the waitlist when
/// it is full.
#[utoipa::path(
    tag = "workshops",
    operation_id = "registerForWorkshop",
    params(path::Workshop, crate::http::extract::IdempotencyKeyHeader),
    security(("bearer_auth" = [])),
    responses(
        (status = 201, description = "Your registration (`registered` or `waitlisted`)", body = WorkshopRegistration,
            headers(("Location" = String, description = "The workshop's registrations"), ("ETag" = String, description = "Its version"))),
        crate::openapi::WriteProblems,
    )
)]
#[post("/workshops/{id}/registrations")]
pub async fn register(
    state: web::Data<AppState>,
    user: User,
    Id(id): Id,
    key: IdempotencyKey,
) -> Reply {
    let route = format!("register-workshop:{id}");
    Once::optional(&state, user.key(), key, route)
        .write((), move |conn, ()| {
            let workshop = id.clone();
            let row = store::register(conn, &workshop, &user.id)?;
            let version = row.version;
            Ok(Created::new(&WorkshopRegistration::from(row))?
                .location(format!("/v1/workshops/{id}/registrations"))
                .etag(version))
        })
        .await
}

/// The host sees every registration; anyone else sees their own.
#[utoipa::path(
    tag = "workshops",
    operation_id = "listWorkshopRegistrations",
    params(path::Workshop, PageQuery),
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "One page of registrations, oldest first", body = WorkshopRegistrationPage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when more pages follow"))),
        crate::openapi::ReadProblems,
    )
)]
#[get("/workshops/{id}/registrations")]
pub async fn list_registrations(
    state: web::Data<AppState>,
    user: User,
    Id(id): Id,
    paging: Paging,
) -> Reply {
    pagination::oldest(&state, &paging, move |conn, seek| {
        Ok(store::registrations(conn, &id, &user.id, seek)?.map(WorkshopRegistration::from))
    })
    .await
}

/// Cancel a registration (your own, or any as the host) before the
/// start; a freed seat goes to the first on the waitlist.
#[utoipa::path(
    tag = "workshops",
    operation_id = "cancelWorkshopRegistration",
    params(
        ("id" = Uuid, Path, description = "Workshop id"),
        ("registration_id" = Uuid, Path, description = "Registration id"),
        crate::http::extract::IfMatchHeader,
    ),
    security(("bearer_auth" = [])),
    responses((status = 204, description = "Cancelled"), crate::openapi::ConditionalWriteProblems)
)]
#[delete("/workshops/{id}/registrations/{registration_id}")]
pub async fn cancel_registration(
    state: web::Data<AppState>,
    user: User,
    Ids((id, registration)): Ids<(String, String)>,
    if_match: IfMatch,
) -> Reply {
    state
        .db(move |conn| {
            Ok(store::cancel(
                conn,
                &id,
                &registration,
                &user.id,
                &if_match.0,
            )?)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkshopAttendance {
    /// Registered artisans who attended.
    #[schema(min_items = 1, max_items = 500)]
    pub artisan_ids: Vec<Uuid>,
}

/// After the start, the host records who attended; each newly marked
/// attendee pays `duration_hours` to the host in the time ledger (marking
/// someone again changes nothing).
#[utoipa::path(
    tag = "workshops",
    operation_id = "recordWorkshopAttendance",
    request_body = WorkshopAttendance,
    params(path::Workshop),
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "The attendees' registrations", body = Vec<WorkshopRegistration>),
        crate::openapi::WriteProblems,
    )
)]
#[post("/workshops/{id}/attendance")]
pub async fn record_attendance(
    state: web::Data<AppState>,
    user: User,
    Id(id): Id,
    body: Body<WorkshopAttendance>,
) -> Reply {
    let ids: Vec<String> = body.artisan_ids.iter().map(Uuid::to_string).collect();
    if ids.is_empty() || ids.len() > 500 {
        return Err(FieldErrors::from(FieldError::new(
            "artisan_ids",
            "size",
            "must name 1 to 500 artisans",
        ))
        .into());
    }
    let rows = state
        .db(move |conn| Ok(store::attendance(conn, &id, &user.id, &ids)?))
        .await?;
    let data: Vec<WorkshopRegistration> =
        rows.into_iter().map(WorkshopRegistration::from).collect();
    Ok(HttpResponse::Ok().json(data))
}
