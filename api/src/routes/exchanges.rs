//! Skill exchange: matches, swaps and mentorships, sessions, reviews and
//! the time ledger. An exchange is visible to its two parties only.

use actix_web::http::header;
use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use domain::exchange::{
    self as rules, Action, ExchangeKind, ExchangeStatus, Proposal, SessionStatus, SESSION_MINUTES,
};
use domain::{FieldError, FieldErrors};
use persistence::exchanges::{self as store, ExchangeRow, LedgerRow, NewSession, SessionRow};
use persistence::matching::{self, After, Match, Mode};
use persistence::Seek;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::utc;
use crate::auth::principal::User;
use crate::error::{ApiError, Reply};
use crate::http::extract::{Body, Id, IdempotencyKey, Ids};
use crate::http::idempotency::{Created, Once};
use crate::http::pagination::{next_newest, PageQuery, Paging};
use crate::http::{etag, pagination};
use crate::openapi::path;
use crate::state::AppState;
use crate::views::Review;
use crate::{keyed_by_id, page_type};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(skill_matches)
        .service(propose_exchange)
        .service(list_exchanges)
        .service(get_exchange)
        .service(accept_exchange)
        .service(decline_exchange)
        .service(complete_exchange)
        .service(cancel_exchange)
        .service(record_session)
        .service(confirm_session)
        .service(review_exchange)
        .service(time_ledger);
}

mirror_enum!(ExchangeKindName <=> ExchangeKind { Swap, Mentorship });
mirror_enum!(ExchangeState <=> ExchangeStatus { Proposed, Accepted, Declined, Completed, Cancelled });
mirror_enum!(ExchangeSessionState <=> SessionStatus { Pending, Confirmed });

#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MatchMode {
    #[default]
    Reciprocal,
    Learn,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MatchQuery {
    /// `reciprocal` (default): they teach something you want and want
    /// something you teach; `learn`: they teach something you want.
    #[param(inline)]
    pub mode: Option<MatchMode>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MatchedArtisan {
    #[schema(format = Uuid)]
    pub id: String,
    pub display_name: String,
    pub country: Option<String>,
}

/// Someone to learn from (and, for reciprocal matches, to teach).
#[derive(Debug, Serialize, ToSchema)]
pub struct SkillMatch {
    pub artisan: MatchedArtisan,
    /// Skills you want that they offer.
    pub they_teach: Vec<String>,
    /// Skills they want that you offer (empty in `learn` mode).
    pub you_teach: Vec<String>,
    /// How many skills overlap (`they_teach` + `you_teach`).
    pub score: i64,
}

impl From<Match> for SkillMatch {
    fn from(m: Match) -> Self {
        Self {
            artisan: MatchedArtisan {
                id: m.artisan_id,
                display_name: m.display_name,
                country: m.country,
            },
            they_teach: m.they_teach,
            you_teach: m.you_teach,
            score: m.score,
        }
    }
}

page_type!(SkillMatchPage, SkillMatch);

fn mode_tag(mode: Mode) -> &'static str {
    match mode {
        Mode::Reciprocal => "match-reciprocal",
        Mode::Learn => "match-learn",
    }
}

/// Artisans to exchange skills with, best first: more overlap, then your
/// country, then id.
#[utoipa::path(
    tag = "skill-exchange",
    operation_id = "listSkillMatches",
    params(MatchQuery, PageQuery),
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "One page of matches", body = SkillMatchPage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when more pages follow"))),
        crate::openapi::ReadProblems,
    )
)]
#[get("/skill-matches")]
pub async fn skill_matches(
    state: web::Data<AppState>,
    user: User,
    paging: Paging,
    query: web::Query<MatchQuery>,
) -> Reply {
    let query = query.into_inner();
    let mode = match query.mode.unwrap_or_default() {
        MatchMode::Reciprocal => Mode::Reciprocal,
        MatchMode::Learn => Mode::Learn,
    };
    let (limit, after) = paging.keyed(mode_tag(mode), 3)?;
    let after = after
        .map(|parts| {
            Ok::<_, ApiError>(After {
                score: parts[0].parse().map_err(|_| pagination::invalid_cursor())?,
                same_country: parts[1] == "1",
                id: parts[2].clone(),
            })
        })
        .transpose()?;
    let page = state
        .db(move |conn| {
            Ok(matching::matches(
                conn,
                &user.id,
                mode,
                after.as_ref(),
                limit,
            )?)
        })
        .await?;
    Ok(pagination::keyed(
        &paging,
        mode_tag(mode),
        page,
        |last| {
            let same_country = if last.same_country { "1" } else { "0" };
            vec![
                last.score.to_string(),
                same_country.to_owned(),
                last.artisan_id.clone(),
            ]
        },
        SkillMatch::from,
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExchangeSession {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub taught_by: String,
    #[schema(format = Uuid)]
    pub learner_id: String,
    pub skill: String,
    /// Quarter hours (0.25–8).
    pub hours: f64,
    pub held_on: NaiveDate,
    #[schema(format = Uuid)]
    pub recorded_by: String,
    pub status: ExchangeSessionState,
    pub confirmed_at: Option<DateTime<Utc>>,
}

impl From<SessionRow> for ExchangeSession {
    fn from(s: SessionRow) -> Self {
        Self {
            status: SessionStatus::parse(&s.status)
                .unwrap_or(SessionStatus::Pending)
                .into(),
            hours: rules::hours(s.minutes),
            id: s.id,
            taught_by: s.taught_by,
            learner_id: s.learner_id,
            skill: s.skill,
            held_on: s.held_on,
            recorded_by: s.recorded_by,
            confirmed_at: s.confirmed_at.map(utc),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Exchange {
    #[schema(format = Uuid)]
    pub id: String,
    pub kind: ExchangeKindName,
    pub status: ExchangeState,
    /// Who proposed it.
    #[schema(format = Uuid)]
    pub proposer_id: String,
    /// Who was asked (for a mentorship: the mentor).
    #[schema(format = Uuid)]
    pub partner_id: String,
    /// Skills the proposer teaches (`i_teach` of the proposal).
    pub proposer_teaches: Vec<String>,
    /// Skills the partner teaches (`they_teach` of the proposal).
    pub partner_teaches: Vec<String>,
    pub message: String,
    pub proposed_hours: f64,
    pub sessions: Vec<ExchangeSession>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

fn exchange(row: ExchangeRow, sessions: Vec<SessionRow>) -> Exchange {
    Exchange {
        kind: row.kind().into(),
        status: row.status().into(),
        proposer_teaches: row.teaches(&row.proposer_id),
        partner_teaches: row.teaches(&row.partner_id),
        proposed_hours: rules::hours(row.proposed_minutes),
        sessions: sessions
            .into_iter()
            .filter(|s| s.exchange_id == row.id)
            .map(ExchangeSession::from)
            .collect(),
        id: row.id,
        proposer_id: row.proposer_id,
        partner_id: row.partner_id,
        message: row.message,
        created_at: utc(row.created_at),
        updated_at: utc(row.updated_at),
        version: row.version,
    }
}

fn with_sessions(
    conn: &mut persistence::AnyConnection,
    row: ExchangeRow,
) -> Result<Exchange, ApiError> {
    let sessions = store::sessions_of(conn, std::slice::from_ref(&row.id))?;
    Ok(exchange(row, sessions))
}

fn respond(body: &Exchange) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::ETAG, etag(body.version)))
        .json(body)
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewExchange {
    pub kind: ExchangeKindName,
    /// The artisan you propose to (for a mentorship: your mentor).
    pub partner_id: Uuid,
    /// Skills you teach (empty for a mentorship).
    #[serde(default)]
    #[schema(value_type = crate::schema::SkillList)]
    pub i_teach: Vec<String>,
    /// Skills your partner teaches.
    #[schema(value_type = crate::schema::SkillList)]
    pub they_teach: Vec<String>,
    #[serde(default)]
    #[schema(value_type = crate::schema::DescriptionText)]
    pub message: String,
    /// Quarter hours, 0.25–200.
    #[schema(minimum = 0.25, maximum = 200, multiple_of = 0.25)]
    pub proposed_hours: f64,
}

/// Propose a swap (both teach) or a mentorship (your partner mentors you).
#[utoipa::path(
    tag = "skill-exchange",
    operation_id = "proposeExchange",
    request_body = NewExchange,
    params(crate::http::extract::IdempotencyKeyHeader),
    security(("bearer_auth" = [])),
    responses(
        (status = 201, description = "The proposal", body = Exchange,
            headers(("Location" = String, description = "The exchange"), ("ETag" = String, description = "Its version"))),
        crate::openapi::WriteProblems,
    )
)]
#[post("/exchanges")]
pub async fn propose_exchange(
    state: web::Data<AppState>,
    user: User,
    key: IdempotencyKey,
    body: Body<NewExchange>,
) -> Reply {
    Once::optional(&state, user.key(), key, "propose-exchange")
        .write(body.into_inner(), move |conn, request| {
            let proposal = Proposal::new(
                request.kind.into(),
                &request.i_teach,
                &request.they_teach,
                &request.message,
                request.proposed_hours,
            );
            let partner = request.partner_id.to_string();
            let proposal = match (proposal, partner == user.id) {
                (Ok(p), false) => p,
                (result, own) => {
                    let mut errors = result.err().unwrap_or_default();
                    if own {
                        errors.push(FieldError::new(
                            "partner_id",
                            "self",
                            "an exchange is with someone else",
                        ));
                    }
                    return Err(errors.into());
                }
            };
            let body = {
                let row = store::propose(conn, &user.id, &partner, &proposal)?;
                with_sessions(conn, row)
            }?;
            let version = body.version;
            Ok(Created::new(&body)?
                .location(format!("/v1/exchanges/{}", body.id))
                .etag(version))
        })
        .await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExchangeQuery {
    #[param(inline)]
    pub status: Option<ExchangeState>,
}

page_type!(ExchangePage, Exchange);
keyed_by_id!(Exchange);

/// Your exchanges (proposed by you or to you), newest first.
#[utoipa::path(
    tag = "skill-exchange",
    operation_id = "listExchanges",
    params(ExchangeQuery, PageQuery),
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "One page of exchanges", body = ExchangePage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when more pages follow"))),
        crate::openapi::ReadProblems,
    )
)]
#[get("/exchanges")]
pub async fn list_exchanges(
    state: web::Data<AppState>,
    user: User,
    paging: Paging,
    query: web::Query<ExchangeQuery>,
) -> Reply {
    let status = query.into_inner().status.map(Into::into);
    pagination::newest(&state, &paging, move |conn, seek| {
        let page = store::list(conn, &user.id, status, seek)?;
        let ids: Vec<String> = page.rows.iter().map(|r| r.id.clone()).collect();
        let sessions = store::sessions_of(conn, &ids)?;
        Ok(page.map(|row| exchange(row, sessions.clone())))
    })
    .await
}

/// Read one of your exchanges, with its sessions.
#[utoipa::path(
    tag = "skill-exchange",
    operation_id = "getExchange",
    params(path::Exchange),
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "The exchange", body = Exchange,
            headers(("ETag" = String, description = "Current version"))),
        crate::openapi::ReadProblems,
    )
)]
#[get("/exchanges/{id}")]
pub async fn get_exchange(state: web::Data<AppState>, user: User, Id(id): Id) -> Reply {
    let body = state
        .db(move |conn| {
            let row = store::find(conn, &id, &user.id)?;
            with_sessions(conn, row)
        })
        .await?;
    Ok(respond(&body))
}

async fn act(state: &AppState, user: User, id: String, action: Action) -> Reply {
    let body = state
        .db(move |conn| {
            let row = store::act(conn, &id, &user.id, action)?;
            with_sessions(conn, row)
        })
        .await?;
    Ok(respond(&body))
}

/// Accept a proposal made to you.
#[utoipa::path(
    tag = "skill-exchange",
    operation_id = "acceptExchange",
    params(path::Exchange),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "The exchange", body = Exchange), crate::openapi::WriteProblems)
)]
#[post("/exchanges/{id}/accept")]
pub async fn accept_exchange(state: web::Data<AppState>, user: User, Id(id): Id) -> Reply {
    act(&state, user, id, Action::Accept).await
}

/// Decline a proposal made to you.
#[utoipa::path(
    tag = "skill-exchange",
    operation_id = "declineExchange",
    params(path::Exchange),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "The exchange", body = Exchange), crate::openapi::WriteProblems)
)]
#[post("/exchanges/{id}/decline")]
pub async fn decline_exchange(state: web::Data<AppState>, user: User, Id(id): Id) -> Reply {
    act(&state, user, id, Action::Decline).await
}

/// Mark an accepted exchange completed (either party).
#[utoipa::path(
    tag = "skill-exchange",
    operation_id = "completeExchange",
    params(path::Exchange),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "The exchange", body = Exchange), crate::openapi::WriteProblems)
)]
#[post("/exchanges/{id}/complete")]
pub async fn complete_exchange(state: web::Data<AppState>, user: User, Id(id): Id) -> Reply {
    act(&state, user, id, Action::Complete).await
}

/// Withdraw your proposal, or cancel an accepted exchange (either party).
#[utoipa::path(
    tag = "skill-exchange",
    operation_id = "cancelExchange",
    params(path::Exchange),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "The exchange", body = Exchange), crate::openapi::WriteProblems)
)]
#[post("/exchanges/{id}/cancel")]
pub async fn cancel_exchange(state: web::Data<AppState>, user: User, Id(id): Id) -> Reply {
    act(&state, user, id, Action::Cancel).await
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSessionBody {
    /// The party who taught.
    pub taught_by: Uuid,
    /// A skill the teacher teaches in this exchange.
    #[schema(value_type = crate::schema::Slug)]
    pub skill: String,
    /// Quarter hours, 0.25–8.
    #[schema(minimum = 0.25, maximum = 8, multiple_of = 0.25)]
    pub hours: f64,
    pub held_on: NaiveDate,
}

/// Record a session of an accepted exchange (either party); the other
/// party confirms it.
#[utoipa::path(
    tag = "skill-exchange",
    operation_id = "recordSession",
    request_body = NewSessionBody,
    params(path::Exchange, crate::http::extract::IdempotencyKeyHeader),
    security(("bearer_auth" = [])),
    responses(
        (status = 201, description = "The session, pending confirmation", body = ExchangeSession,
            headers(("Location" = String, description = "The exchange"))),
        crate::openapi::WriteProblems,
    )
)]
#[post("/exchanges/{id}/sessions")]
pub async fn record_session(
    state: web::Data<AppState>,
    user: User,
    Id(id): Id,
    key: IdempotencyKey,
    body: Body<NewSessionBody>,
) -> Reply {
    let route = format!("record-session:{id}");
    Once::optional(&state, user.key(), key, route)
        .write(body.into_inner(), move |conn, request| {
            let mut errors = FieldErrors::default();
            let minutes = errors.take(rules::minutes(
                "hours",
                request.hours,
                SESSION_MINUTES.0,
                SESSION_MINUTES.1,
            ));
            errors.take(rules::held_on(request.held_on, Utc::now().date_naive()));
            let skill = errors.take(domain::text::Slug::parse("skill", &request.skill));
            let (Some(minutes), Some(skill), true) = (minutes, skill, errors.is_empty()) else {
                return Err(errors.into());
            };
            let exchange_id = id.clone();
            let session = store::record_session(
                conn,
                &exchange_id,
                &user.id,
                &NewSession {
                    taught_by: &request.taught_by.to_string(),
                    skill: skill.as_str(),
                    minutes,
                    held_on: request.held_on,
                },
            )?;
            Ok(Created::new(&ExchangeSession::from(session))?
                .location(format!("/v1/exchanges/{id}")))
        })
        .await
}

/// Confirm a session the other party recorded; its hours move in the time
/// ledger (teacher +, learner −).
#[utoipa::path(
    tag = "skill-exchange",
    operation_id = "confirmSession",
    params(
        ("id" = Uuid, Path, description = "Exchange id"),
        ("sid" = Uuid, Path, description = "Session id"),
    ),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "The confirmed session", body = ExchangeSession), crate::openapi::WriteProblems)
)]
#[post("/exchanges/{id}/sessions/{sid}/confirm")]
pub async fn confirm_session(
    state: web::Data<AppState>,
    user: User,
    Ids((id, sid)): Ids<(String, String)>,
) -> Reply {
    let session = state
        .db(move |conn| Ok(store::confirm_session(conn, &id, &sid, &user.id)?))
        .await?;
    Ok(HttpResponse::Ok().json(ExchangeSession::from(session)))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReview {
    #[schema(minimum = 1, maximum = 5)]
    #[serde(deserialize_with = "super::whole_number")]
    pub rating: i64,
    #[serde(default)]
    #[schema(value_type = crate::schema::DescriptionText)]
    pub comment: String,
}

/// Review the other party of a completed exchange (once each); it feeds
/// their profile's rating.
#[utoipa::path(
    tag = "skill-exchange",
    operation_id = "reviewExchange",
    request_body = NewReview,
    params(path::Exchange, crate::http::extract::IdempotencyKeyHeader),
    security(("bearer_auth" = [])),
    responses(
        (status = 201, description = "The review", body = Review,
            headers(("Location" = String, description = "The reviewed artisan's reviews"))),
        crate::openapi::WriteProblems,
    )
)]
#[post("/exchanges/{id}/reviews")]
pub async fn review_exchange(
    state: web::Data<AppState>,
    user: User,
    Id(id): Id,
    key: IdempotencyKey,
    body: Body<NewReview>,
) -> Reply {
    let route = format!("review-exchange:{id}");
    Once::optional(&state, user.key(), key, route)
        .write(body.into_inner(), move |conn, request| {
            let mut errors = FieldErrors::default();
            let rating = i16::try_from(request.rating)
                .ok()
                .filter(|r| (1..=5).contains(r));
            if rating.is_none() {
                errors.push(FieldError::new("rating", "out_of_range", "must be 1 to 5"));
            }
            let comment = errors.take(domain::text::prose("comment", &request.comment));
            let (Some(rating), Some(comment)) = (rating, comment) else {
                return Err(errors.into());
            };
            let review = store::review(conn, &id, &user.id, rating, &comment)?;
            let location = format!("/v1/artisans/{}/reviews", review.subject_id);
            Ok(Created::new(&Review::from(review))?.location(location))
        })
        .await
}

/// One side of a time transfer.
#[derive(Debug, Serialize, ToSchema)]
pub struct LedgerEntry {
    #[schema(format = Uuid)]
    pub id: String,
    /// Positive when you taught (or hosted), negative when you learned.
    pub hours: f64,
    #[schema(format = Uuid)]
    pub counterparty_id: String,
    /// The confirmed exchange session behind it.
    #[schema(format = Uuid)]
    pub session_id: Option<String>,
    /// The attended workshop registration behind it.
    #[schema(format = Uuid)]
    pub registration_id: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<LedgerRow> for LedgerEntry {
    fn from(r: LedgerRow) -> Self {
        Self {
            hours: rules::hours(r.minutes),
            id: r.id,
            counterparty_id: r.counterparty_id,
            session_id: r.session_id,
            registration_id: r.registration_id,
            created_at: utc(r.created_at),
        }
    }
}

/// Your time-ledger entries, newest first, with your balance.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimeLedger {
    /// Hours taught minus hours learned.
    pub balance_hours: f64,
    pub data: Vec<LedgerEntry>,
    pub next_cursor: Option<String>,
}

/// Your time ledger: one entry per confirmed session or attended workshop,
/// and the balance. Across the platform the balances sum to 0.
#[utoipa::path(
    tag = "skill-exchange",
    operation_id = "getTimeLedger",
    params(PageQuery),
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "Entries and balance", body = TimeLedger,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when more pages follow"))),
        crate::openapi::ReadProblems,
    )
)]
#[get("/me/time-ledger")]
pub async fn time_ledger(state: web::Data<AppState>, user: User, paging: Paging) -> Reply {
    let (limit, before) = paging.newest_first()?;
    let (page, balance) = state
        .db(move |conn| {
            let seek = Seek {
                after: before.as_deref(),
                limit,
            };
            Ok(store::ledger(conn, &user.id, seek)?)
        })
        .await?;
    let next_cursor = next_newest(page.has_more, page.rows.last().map(|r| r.id.as_str()));
    let mut response = HttpResponse::Ok();
    if let Some(link) = pagination::next_link(&paging, next_cursor.as_deref()) {
        response.insert_header((header::LINK, link));
    }
    Ok(response.json(TimeLedger {
        balance_hours: rules::hours(balance),
        data: page.rows.into_iter().map(LedgerEntry::from).collect(),
        next_cursor,
    }))
}
