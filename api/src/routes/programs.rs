//! Partner programs: organizations (API keys with `programs:write`)
//! publish grants, trainings, market access and mentorship; artisans see
//! the open ones they are eligible for, apply once, follow and withdraw
//! their applications; the organization decides.

use actix_web::{get, patch, post, web, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use domain::api_key::Scope;
use domain::program::{
    self as rules, ApplicationStatus, ProgramFields, ProgramInput, ProgramKind, ProgramStatus,
};
use persistence::programs::{self as store, ApplicationRow, ProgramPatch, ProgramView, Reader};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::utc;
use crate::auth::principal::{scope, Granted, Principal, User};
use crate::error::{ApiError, Reply};
use crate::http::extract::{Body, Id, IdempotencyKey, Ids, IfMatch};
use crate::http::idempotency::{Created, Once};
use crate::http::ok_with_etag;
use crate::http::pagination::{self, PageQuery, Paging};
use crate::openapi::path;
use crate::state::AppState;
use crate::{keyed_by_id, page_type};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_program)
        .service(list_programs)
        .service(get_program)
        .service(update_program)
        .service(apply)
        .service(list_applications)
        .service(decide)
        .service(my_applications)
        .service(withdraw);
}

mirror_enum!(ProgramKindName <=> ProgramKind { Grant, Training, MarketAccess, Mentorship });
mirror_enum!(ProgramState <=> ProgramStatus { Open, Closed });
mirror_enum!(ProgramApplicationState <=> ApplicationStatus { Pending, Accepted, Rejected, Withdrawn });

/// Who may apply; an empty list means anyone.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProgramEligibility {
    #[serde(default)]
    #[schema(value_type = Vec<crate::schema::CountryCode>, max_items = 50)]
    pub countries: Vec<String>,
    #[serde(default)]
    #[schema(value_type = crate::schema::SlugList)]
    pub crafts: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Program {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub organization_id: String,
    pub title: String,
    pub kind: ProgramKindName,
    pub description: String,
    pub eligibility: ProgramEligibility,
    /// Applications from this day to `closes_on`, both included.
    pub opens_on: NaiveDate,
    pub closes_on: NaiveDate,
    /// Accepted applications at most; `null`: no limit.
    pub seats: Option<i64>,
    pub status: ProgramState,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl From<ProgramView> for Program {
    fn from(v: ProgramView) -> Self {
        let r = v.row;
        Self {
            kind: r.kind().into(),
            status: r.status().into(),
            id: r.id,
            organization_id: r.organization_id,
            title: r.title,
            description: r.description,
            eligibility: ProgramEligibility {
                countries: v.countries,
                crafts: v.crafts,
            },
            opens_on: r.opens_on,
            closes_on: r.closes_on,
            seats: r.seats,
            created_at: utc(r.created_at),
            updated_at: utc(r.updated_at),
            version: r.version,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProgram {
    #[schema(value_type = crate::schema::OrganizationName)]
    pub title: String,
    pub kind: ProgramKindName,
    #[serde(default)]
    #[schema(value_type = crate::schema::DescriptionText)]
    pub description: String,
    #[serde(default)]
    pub eligibility: ProgramEligibility,
    pub opens_on: NaiveDate,
    /// On or after `opens_on`.
    pub closes_on: NaiveDate,
    #[serde(default, deserialize_with = "super::optional_whole_number")]
    #[schema(minimum = 1, maximum = 100000)]
    pub seats: Option<i64>,
}

/// Publish a program (API keys with `programs:write`); it is open at once.
#[utoipa::path(
    tag = "programs",
    operation_id = "createProgram",
    request_body = NewProgram,
    params(crate::http::extract::IdempotencyKeyHeader),
    security(("api_key" = [])),
    responses(
        (status = 201, description = "The program", body = Program,
            headers(("Location" = String, description = "The program"), ("ETag" = String, description = "Its version"))),
        crate::openapi::WriteProblems,
    )
)]
#[post("/programs")]
pub async fn create_program(
    state: web::Data<AppState>,
    Granted(partner, _): Granted<scope::ProgramsWrite>,
    key: IdempotencyKey,
    body: Body<NewProgram>,
) -> Reply {
    let owner = partner.key();
    Once::optional(&state, owner, key, "create-program")
        .write(body.into_inner(), move |conn, request| {
            let fields = ProgramFields::parse(ProgramInput {
                title: request.title,
                kind: request.kind.into(),
                description: request.description,
                countries: request.eligibility.countries,
                crafts: request.eligibility.crafts,
                opens_on: request.opens_on,
                closes_on: request.closes_on,
                seats: request.seats,
            })?;
            let view = store::create(conn, &partner.organization_id, &fields)?;
            let program = Program::from(view);
            let version = program.version;
            Ok(Created::new(&program)?
                .location(format!("/v1/programs/{}", program.id))
                .etag(version))
        })
        .await
}

page_type!(ProgramPage, Program);
keyed_by_id!(Program);

/// For an artisan: the open programs taking applications today that they
/// are eligible for (by their profile's country and crafts). For an
/// organization's key with `programs:write`: its own programs. Newest
/// first.
#[utoipa::path(
    tag = "programs",
    operation_id = "listPrograms",
    params(PageQuery),
    security(("bearer_auth" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "One page of programs", body = ProgramPage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when more pages follow"))),
        crate::openapi::ReadProblems,
    )
)]
#[get("/programs")]
pub async fn list_programs(
    state: web::Data<AppState>,
    principal: Principal,
    paging: Paging,
) -> Reply {
    let reader = reader(principal)?;
    pagination::newest(&state, &paging, move |conn, seek| {
        let page = match &reader {
            Reader::Artisan(artisan) => store::list_open_for(conn, artisan, seek)?,
            Reader::Organization(org) => store::list_for_organization(conn, org, seek)?,
        };
        Ok(page.map(Program::from))
    })
    .await
}

/// Who is reading: a person, or an organization's key with
/// `programs:write`.
fn reader(principal: Principal) -> Result<Reader, ApiError> {
    match principal {
        Principal::User(user) => Ok(Reader::Artisan(user.id)),
        partner => Ok(Reader::Organization(
            partner.partner(Scope::ProgramsWrite)?.organization_id,
        )),
    }
}

/// Read a program: any signed-in person, or its own organization's key
/// (another organization's program: 404).
#[utoipa::path(
    tag = "programs",
    operation_id = "getProgram",
    params(path::Program),
    security(("bearer_auth" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "The program", body = Program,
            headers(("ETag" = String, description = "Current version"))),
        crate::openapi::ReadProblems,
    )
)]
#[get("/programs/{id}")]
pub async fn get_program(state: web::Data<AppState>, principal: Principal, Id(id): Id) -> Reply {
    let reader = reader(principal)?;
    let view = state
        .db(move |conn| Ok(store::find(conn, &id, &reader)?))
        .await?;
    let program = Program::from(view);
    Ok(ok_with_etag(&program, program.version))
}

/// A change to a program; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProgramChange {
    #[schema(value_type = Option<crate::schema::OrganizationName>)]
    pub title: Option<String>,
    pub kind: Option<ProgramKindName>,
    #[schema(value_type = Option<crate::schema::DescriptionText>)]
    pub description: Option<String>,
    pub eligibility: Option<ProgramEligibility>,
    pub opens_on: Option<NaiveDate>,
    pub closes_on: Option<NaiveDate>,
    /// `null` removes the limit; never below those accepted.
    #[serde(default, deserialize_with = "super::present_whole_number")]
    #[schema(minimum = 1, maximum = 100000, nullable)]
    pub seats: Option<Option<i64>>,
    /// `closed` ends applications and decisions for good.
    pub status: Option<ProgramState>,
}

/// Edit or close a program (its organization; `If-Match`).
#[utoipa::path(
    tag = "programs",
    operation_id = "updateProgram",
    request_body = ProgramChange,
    params(path::Program, crate::http::extract::IfMatchHeader),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "The program", body = Program,
            headers(("ETag" = String, description = "Its new version"))),
        crate::openapi::ConditionalWriteProblems,
    )
)]
#[patch("/programs/{id}")]
pub async fn update_program(
    state: web::Data<AppState>,
    Granted(partner, _): Granted<scope::ProgramsWrite>,
    Id(id): Id,
    body: Body<ProgramChange>,
    if_match: IfMatch,
) -> Reply {
    let change = body.into_inner();
    let (countries, crafts) = match change.eligibility {
        Some(e) => (Some(e.countries), Some(e.crafts)),
        None => (None, None),
    };
    let patch = ProgramPatch {
        title: change.title,
        kind: change.kind.map(Into::into),
        description: change.description,
        countries,
        crafts,
        opens_on: change.opens_on,
        closes_on: change.closes_on,
        seats: change.seats,
        status: change.status.map(Into::into),
    };
    let view = state
        .db(move |conn| {
            let organization = partner.organization_id;
            Ok(store::update(conn, &id, &organization, &if_match.0, patch)?)
        })
        .await?;
    let program = Program::from(view);
    Ok(ok_with_etag(&program, program.version))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProgramApplication {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub program_id: String,
    /// The program's title (in your own list).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub program_title: Option<String>,
    #[schema(format = Uuid)]
    pub artisan_id: String,
    pub statement: String,
    pub status: ProgramApplicationState,
    pub decision_note: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub version: i64,
}

impl ProgramApplication {
    fn new(r: ApplicationRow, program_title: Option<String>) -> Self {
        Self {
            status: r.status().into(),
            id: r.id,
            program_id: r.program_id,
            program_title,
            artisan_id: r.artisan_id,
            statement: r.statement,
            decision_note: r.decision_note,
            decided_at: r.decided_at.map(utc),
            created_at: utc(r.created_at),
            version: r.version,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProgramApplication {
    /// Why you apply (1–4 000 characters).
    #[schema(value_type = crate::schema::ReasonText)]
    pub statement: String,
}

/// Apply to a program, once (artisans): it must be open, today inside its
/// window and you eligible by your profile's country and crafts (422
/// otherwise). The organization's webhooks receive
/// `program.application.created`.
#[utoipa::path(
    tag = "programs",
    operation_id = "applyToProgram",
    request_body = NewProgramApplication,
    params(path::Program, crate::http::extract::IdempotencyKeyHeader),
    security(("bearer_auth" = [])),
    responses(
        (status = 201, description = "The application", body = ProgramApplication,
            headers(("Location" = String, description = "Your applications"))),
        crate::openapi::WriteProblems,
    )
)]
#[post("/programs/{id}/applications")]
pub async fn apply(
    state: web::Data<AppState>,
    user: User,
    Id(id): Id,
    key: IdempotencyKey,
    body: Body<NewProgramApplication>,
) -> Reply {
    let owner = user.key();
    let artisan = user.id;
    let program = id.to_string();
    let route = format!("apply-to-program:{program}");
    Once::optional(&state, owner, key, route)
        .write(body.into_inner(), move |conn, request| {
            let statement = rules::statement(&request.statement)?;
            let row = store::apply(conn, &program, &artisan, &statement)?;
            Ok(Created::new(&ProgramApplication::new(row, None))?
                .location("/v1/me/applications".to_owned()))
        })
        .await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ApplicationQuery {
    #[param(inline)]
    pub status: Option<ProgramApplicationState>,
}

page_type!(ProgramApplicationPage, ProgramApplication);
keyed_by_id!(ProgramApplication);

/// A program's applications, oldest first (its organization's key).
#[utoipa::path(
    tag = "programs",
    operation_id = "listProgramApplications",
    params(path::Program, ApplicationQuery, PageQuery),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "One page of applications", body = ProgramApplicationPage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when more pages follow"))),
        crate::openapi::ReadProblems,
    )
)]
#[get("/programs/{id}/applications")]
pub async fn list_applications(
    state: web::Data<AppState>,
    Granted(partner, _): Granted<scope::ProgramsWrite>,
    Id(id): Id,
    query: web::Query<ApplicationQuery>,
    paging: Paging,
) -> Reply {
    let status = query.status.map(Into::into);
    pagination::oldest(&state, &paging, move |conn, seek| {
        Ok(
            store::applications(conn, &id, &partner.organization_id, status, seek)?
                .map(|row| ProgramApplication::new(row, None)),
        )
    })
    .await
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProgramDecision {
    Accept,
    Reject,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProgramDecisionBody {
    pub decision: ProgramDecision,
    /// Shown to the applicant.
    #[schema(value_type = crate::schema::ReasonText)]
    pub note: String,
}

/// Accept or reject a pending application with a note (the program's
/// organization). Accepting takes a seat; when every seat is taken it is
/// a 409, however many decisions arrive at once.
#[utoipa::path(
    tag = "programs",
    operation_id = "decideProgramApplication",
    request_body = ProgramDecisionBody,
    params(
        ("id" = Uuid, Path, description = "Program id"),
        ("application_id" = Uuid, Path, description = "Application id"),
    ),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "The application, decided", body = ProgramApplication),
        crate::openapi::WriteProblems,
    )
)]
#[post("/programs/{id}/applications/{application_id}/decision")]
pub async fn decide(
    state: web::Data<AppState>,
    Granted(partner, _): Granted<scope::ProgramsWrite>,
    Ids((program, application)): Ids<(String, String)>,
    body: Body<ProgramDecisionBody>,
) -> Reply {
    let body = body.into_inner();
    let note = domain::text::bounded(
        "note",
        &body.note,
        1,
        domain::text::limits::DESCRIPTION,
        true,
    )?;
    let accept = matches!(body.decision, ProgramDecision::Accept);
    let row = state
        .db(move |conn| {
            Ok(store::decide(
                conn,
                &program,
                &application,
                &partner.organization_id,
                accept,
                &note,
            )?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(ProgramApplication::new(row, None)))
}

/// Your applications to programs, newest first.
#[utoipa::path(
    tag = "programs",
    operation_id = "listMyProgramApplications",
    params(PageQuery),
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "One page of your applications", body = ProgramApplicationPage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when more pages follow"))),
        crate::openapi::ReadProblems,
    )
)]
#[get("/me/applications")]
pub async fn my_applications(state: web::Data<AppState>, user: User, paging: Paging) -> Reply {
    let artisan = user.id;
    pagination::newest(&state, &paging, move |conn, seek| {
        Ok(store::mine(conn, &artisan, seek)?
            .map(|(row, title)| ProgramApplication::new(row, Some(title))))
    })
    .await
}

/// Withdraw your application (pending or accepted; an accepted one frees
/// its seat). Someone else's: 404.
#[utoipa::path(
    tag = "programs",
    operation_id = "withdrawProgramApplication",
    params(("id" = Uuid, Path, description = "Application id")),
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "The application, withdrawn", body = ProgramApplication),
        crate::openapi::WriteProblems,
    )
)]
#[post("/me/applications/{id}/withdraw")]
pub async fn withdraw(state: web::Data<AppState>, user: User, Id(id): Id) -> Reply {
    let artisan = user.id;
    let row = state
        .db(move |conn| Ok(store::withdraw(conn, &id, &artisan)?))
        .await?;
    Ok(HttpResponse::Ok().json(ProgramApplication::new(row, None)))
}
