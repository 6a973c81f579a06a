//! Agreements: draft, edit, sign, decline, amend or terminate, and the
//! audit trail. An agreement is visible exactly when its partnership is;
//! only accepted parties act on it.

use actix_web::http::header;
use actix_web::{get, patch, post, web, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use domain::agreement::{
    self as rules, AgreementKind as KindRule, AgreementStatus as StatusRule, EventKind, Terms,
    TermsInput,
};
use domain::FieldErrors;
use persistence::agreements::{self as store, Actor, AgreementView, Amendment, EventRow};
use serde::{Deserialize, Serialize};

use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::convert;
use super::utc;
use crate::auth::principal::User;
use crate::error::{ApiError, Reply};
use crate::http::extract::{Body, Id, IdempotencyKey, IfMatch};
use crate::http::idempotency::{Created, Once};
use crate::http::pagination::{PageQuery, Paging, OLDEST};
use crate::http::{etag, pagination};
use crate::openapi::path;
use crate::state::AppState;
use crate::views::Recipient;
use crate::{keyed_by_id, page_type};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_agreement)
        .service(list_agreements)
        .service(get_agreement)
        .service(update_agreement)
        .service(sign_agreement)
        .service(decline_agreement)
        .service(amend_agreement)
        .service(list_agreement_events);
}

mirror_enum!(AgreementKind <=> KindRule { Original, Amendment, Termination });
mirror_enum!(AgreementStatus <=> StatusRule { Draft, Active, Declined, Superseded, Terminated });
mirror_enum!(AgreementEventKind <=> EventKind { Created, Edited, Signed, Declined, Activated, Superseded, Terminated });

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Commitment {
    /// The committed party (a `parties[].id` of the partnership).
    #[schema(format = Uuid)]
    pub party_id: String,
    #[schema(value_type = crate::schema::CommitmentText)]
    pub description: String,
    #[serde(default)]
    pub due_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SplitShare {
    pub recipient: Recipient,
    /// Basis points (1 bp = 0.01 %).
    #[schema(minimum = 1, maximum = 10000)]
    #[serde(deserialize_with = "super::whole_number")]
    pub share_bps: i64,
}

/// Who receives what share of every sale; the shares sum to exactly
/// 10 000 basis points and name no recipient twice.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevenueSplit {
    #[schema(value_type = crate::schema::CurrencyCode)]
    pub currency: String,
    #[schema(min_items = 1, max_items = 20)]
    pub shares: Vec<SplitShare>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PromotionPlan {
    #[serde(default)]
    #[schema(value_type = crate::schema::DescriptionText)]
    pub summary: String,
    #[serde(default)]
    #[schema(value_type = crate::schema::PromotionChannelList)]
    pub channels: Vec<String>,
}

/// Credit for a creator's cultural tradition.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CulturalAttribution {
    #[schema(format = Uuid)]
    pub party_id: String,
    #[schema(value_type = crate::schema::Tradition)]
    pub tradition: String,
    #[schema(value_type = crate::schema::CreditLine)]
    pub credit_line: String,
}

/// The terms of an agreement.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgreementTerms {
    #[serde(default)]
    #[schema(max_items = 50)]
    pub commitments: Vec<Commitment>,
    pub revenue_split: RevenueSplit,
    #[serde(default)]
    pub promotion_plan: PromotionPlan,
    #[serde(default)]
    #[schema(max_items = 50)]
    pub cultural_attribution: Vec<CulturalAttribution>,
    pub effective_from: NaiveDate,
    /// The last day the agreement governs (inclusive); `null` = open-ended.
    #[serde(default)]
    pub effective_until: Option<NaiveDate>,
}

/// A signature that counts: on the current hash.
#[derive(Debug, Serialize, ToSchema)]
pub struct Signature {
    #[schema(format = Uuid)]
    pub party_id: String,
    /// The person who signed (the artisan, or a coordinator of a collective party).
    #[schema(format = Uuid)]
    pub signed_by: String,
    pub content_hash: String,
    pub signed_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Agreement {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub partnership_id: String,
    pub kind: AgreementKind,
    pub status: AgreementStatus,
    /// The agreement this one amends or terminates.
    #[schema(format = Uuid)]
    pub supersedes: Option<String>,
    /// The agreement that superseded or terminated this one.
    #[schema(format = Uuid)]
    pub superseded_by: Option<String>,
    /// The first day this agreement no longer governs, once superseded or
    /// terminated.
    pub superseded_from: Option<NaiveDate>,
    /// SHA-256 (lower-case hex) of the RFC 8785 canonical JSON of
    /// `{kind, commitments, revenue_split, promotion_plan,
    /// cultural_attribution, effective_from, effective_until}` exactly as
    /// returned here. Sign this value.
    pub content_hash: String,
    pub commitments: Vec<Commitment>,
    pub revenue_split: RevenueSplit,
    pub promotion_plan: PromotionPlan,
    pub cultural_attribution: Vec<CulturalAttribution>,
    pub effective_from: NaiveDate,
    /// The last day the agreement governs (inclusive); `null` = open-ended.
    pub effective_until: Option<NaiveDate>,
    /// Signatures on the current hash (cleared by every edit).
    pub signatures: Vec<Signature>,
    /// Accepted parties that have not signed the current hash yet (drafts only).
    #[schema(value_type = Vec<String>, format = Uuid)]
    pub awaiting_signature: Vec<String>,
    #[schema(format = Uuid)]
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub activated_at: Option<DateTime<Utc>>,
    pub version: i64,
}

fn agreement(view: AgreementView) -> Result<Agreement, ApiError> {
    let AgreementView {
        row,
        signatures,
        accepted_parties,
    } = view;
    let terms: AgreementTerms = convert(&row.terms()?)?;
    let status = row.status();
    let awaiting_signature = if status == StatusRule::Draft {
        accepted_parties
            .into_iter()
            .filter(|p| !signatures.iter().any(|s| &s.party_id == p))
            .collect()
    } else {
        Vec::new()
    };
    Ok(Agreement {
        kind: row.kind().into(),
        status: status.into(),
        signatures: signatures
            .into_iter()
            .map(|s| Signature {
                party_id: s.party_id,
                signed_by: s.signed_by,
                content_hash: s.content_hash,
                signed_at: utc(s.signed_at),
            })
            .collect(),
        awaiting_signature,
        commitments: terms.commitments,
        revenue_split: terms.revenue_split,
        promotion_plan: terms.promotion_plan,
        cultural_attribution: terms.cultural_attribution,
        effective_from: terms.effective_from,
        effective_until: terms.effective_until,
        id: row.id,
        partnership_id: row.partnership_id,
        supersedes: row.supersedes,
        superseded_by: row.superseded_by,
        superseded_from: row.superseded_from,
        content_hash: row.content_hash,
        created_by: row.created_by,
        created_at: utc(row.created_at),
        updated_at: utc(row.updated_at),
        activated_at: row.activated_at.map(utc),
        version: row.version,
    })
}

fn one(
    conn: &mut persistence::AnyConnection,
    row: store::AgreementRow,
) -> Result<Agreement, ApiError> {
    let view = store::views(conn, vec![row])?
        .pop()
        .ok_or(ApiError::NotFound)?;
    agreement(view)
}

fn respond(body: &Agreement) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::ETAG, etag(body.version)))
        .json(body)
}

fn actor(user: &User, party_id: Option<Uuid>) -> Actor {
    Actor {
        viewer: user.viewer(),
        party_id: party_id.map(|p| p.to_string()),
    }
}

/// Runs a create-style operation on an agreement (201, `Location`,
/// `ETag`) once per Idempotency-Key.
async fn created<B, F>(once: Once<'_>, body: B, operation: F) -> Result<HttpResponse, ApiError>
where
    B: Serialize,
    F: FnOnce(&mut persistence::AnyConnection, B) -> Result<Agreement, ApiError> + Send + 'static,
    B: Send + 'static,
{
    once.write(body, move |conn, request| {
        let body = operation(conn, request)?;
        let version = body.version;
        Ok(Created::new(&body)?
            .location(format!("/v1/agreements/{}", body.id))
            .etag(version))
    })
    .await
}

/// Draft an agreement (version 1) for an active partnership. Accepted
/// parties only; every `party_id` must be an accepted party.
#[utoipa::path(
    tag = "agreements",
    operation_id = "createAgreement",
    request_body = AgreementTerms,
    params(path::Partnership, crate::http::extract::IdempotencyKeyHeader),
    security(("bearer_auth" = [])),
    responses(
        (status = 201, description = "The draft", body = Agreement,
            headers(("Location" = String, description = "The agreement"), ("ETag" = String, description = "Its version"))),
        crate::openapi::WriteProblems,
    )
)]
#[post("/partnerships/{id}/agreements")]
pub async fn create_agreement(
    state: web::Data<AppState>,
    user: User,
    Id(id): Id,
    key: IdempotencyKey,
    body: Body<AgreementTerms>,
) -> Reply {
    let owner = user.key();
    let actor = actor(&user, None);
    let partnership_id = id.to_string();
    created(
        Once::optional(
            &state,
            owner,
            key,
            format!("create-agreement:{partnership_id}"),
        ),
        body.into_inner(),
        move |conn, request| {
            let terms = Terms::parse(convert::<_, TermsInput>(&request)?)?;
            let row = store::create(conn, &partnership_id, &actor, &terms)?;
            one(conn, row)
        },
    )
    .await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AgreementQuery {
    #[param(inline)]
    pub status: Option<AgreementStatus>,
}

page_type!(AgreementPage, Agreement);
keyed_by_id!(Agreement);

/// A partnership's agreements, newest first.
#[utoipa::path(
    tag = "agreements",
    operation_id = "listAgreements",
    params(path::Partnership, AgreementQuery, PageQuery),
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "One page of agreements", body = AgreementPage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when more pages follow"))),
        crate::openapi::ReadProblems,
    )
)]
#[get("/partnerships/{id}/agreements")]
pub async fn list_agreements(
    state: web::Data<AppState>,
    user: User,
    Id(id): Id,
    paging: Paging,
    query: web::Query<AgreementQuery>,
) -> Reply {
    let viewer = user.viewer();
    let status = query.into_inner().status.map(Into::into);
    pagination::newest(&state, &paging, move |conn, seek| {
        store::list(conn, &id, &viewer, status, seek)?
            .try_map_rows(|rows| store::views_for(conn, rows, &viewer))?
            .try_map(agreement)
    })
    .await
}

/// Read an agreement of a partnership you take part in.
#[utoipa::path(
    tag = "agreements",
    operation_id = "getAgreement",
    params(path::Agreement),
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "The agreement", body = Agreement,
            headers(("ETag" = String, description = "Current version, for If-Match"))),
        crate::openapi::ReadProblems,
    )
)]
#[get("/agreements/{id}")]
pub async fn get_agreement(state: web::Data<AppState>, user: User, Id(id): Id) -> Reply {
    let viewer = user.viewer();
    let body = state
        .db(move |conn| {
            let row = store::find(conn, &id, &viewer)?;
            let view = store::views_for(conn, vec![row], &viewer)?
                .pop()
                .ok_or(ApiError::NotFound)?;
            agreement(view)
        })
        .await?;
    Ok(respond(&body))
}

/// A change to a draft's terms; each field present replaces that part of
/// the terms as a whole.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgreementChange {
    #[schema(max_items = 50)]
    pub commitments: Option<Vec<Commitment>>,
    pub revenue_split: Option<RevenueSplit>,
    pub promotion_plan: Option<PromotionPlan>,
    #[schema(max_items = 50)]
    pub cultural_attribution: Option<Vec<CulturalAttribution>>,
    pub effective_from: Option<NaiveDate>,
    /// `null` makes the agreement open-ended.
    #[serde(default, deserialize_with = "super::present")]
    #[schema(value_type = Option<NaiveDate>)]
    pub effective_until: Option<Option<NaiveDate>>,
}

impl AgreementChange {
    fn apply(self, current: &Terms) -> Result<Terms, FieldErrors> {
        let mut terms: AgreementTerms =
            convert(&current.to_input()).map_err(|_| FieldErrors::default())?;
        if let Some(v) = self.commitments {
            terms.commitments = v;
        }
        if let Some(v) = self.revenue_split {
            terms.revenue_split = v;
        }
        if let Some(v) = self.promotion_plan {
            terms.promotion_plan = v;
        }
        if let Some(v) = self.cultural_attribution {
            terms.cultural_attribution = v;
        }
        if let Some(v) = self.effective_from {
            terms.effective_from = v;
        }
        if let Some(v) = self.effective_until {
            terms.effective_until = v;
        }
        Terms::parse(convert::<_, TermsInput>(&terms).map_err(|_| FieldErrors::default())?)
    }
}

/// Edit a draft (accepted parties, If-Match). The version goes up and
/// every signature is cleared; an agreement that is no longer a draft
/// cannot be edited (409).
#[utoipa::path(
    tag = "agreements",
    operation_id = "updateAgreement",
    params(path::Agreement, crate::http::extract::IfMatchHeader),
    request_body = AgreementChange,
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "The agreement", body = Agreement,
            headers(("ETag" = String, description = "The new version"))),
        crate::openapi::ConditionalWriteProblems,
    )
)]
#[patch("/agreements/{id}")]
pub async fn update_agreement(
    state: web::Data<AppState>,
    user: User,
    Id(id): Id,
    body: Body<AgreementChange>,
    if_match: IfMatch,
) -> Reply {
    let actor = actor(&user, None);
    let change = body.into_inner();
    let body = state
        .db(move |conn| {
            let row = store::edit(conn, &id, &actor, &if_match.0, |t| change.apply(t))?;
            one(conn, row)
        })
        .await?;
    Ok(respond(&body))
}

/// The hash you reviewed, and (if you speak for more than one party,
/// e.g. yourself and a collective you coordinate) the party you sign for.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSignature {
    #[schema(value_type = crate::schema::ContentHash)]
    pub content_hash: String,
    #[serde(default)]
    pub party_id: Option<Uuid>,
}

/// Sign the current hash. A hash that is not the current one → 409. When
/// every accepted party has signed, the agreement becomes active (and the
/// one it amends is superseded or terminated as of its `effective_from`).
#[utoipa::path(
    tag = "agreements",
    operation_id = "signAgreement",
    request_body = NewSignature,
    params(path::Agreement, crate::http::extract::IdempotencyKeyHeader),
    security(("bearer_auth" = [])),
    responses(
        (status = 201, description = "The agreement with your signature", body = Agreement,
            headers(("Location" = String, description = "The agreement"), ("ETag" = String, description = "Its version"))),
        crate::openapi::WriteProblems,
    )
)]
#[post("/agreements/{id}/signatures")]
pub async fn sign_agreement(
    state: web::Data<AppState>,
    user: User,
    Id(id): Id,
    key: IdempotencyKey,
    body: Body<NewSignature>,
) -> Reply {
    created(
        Once::optional(&state, user.key(), key, format!("sign-agreement:{id}")),
        body.into_inner(),
        move |conn, request| {
            let actor = actor(&user, request.party_id);
            let row = store::sign(conn, &id, &actor, &request.content_hash)?;
            one(conn, row)
        },
    )
    .await
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDecline {
    #[schema(value_type = crate::schema::ReasonText)]
    pub reason: String,
    /// The party you decline for, if you speak for more than one.
    #[serde(default)]
    pub party_id: Option<Uuid>,
}

/// Decline a draft (accepted parties). It becomes `declined` and stays so.
#[utoipa::path(
    tag = "agreements",
    operation_id = "declineAgreement",
    request_body = NewDecline,
    params(path::Agreement, crate::http::extract::IdempotencyKeyHeader),
    security(("bearer_auth" = [])),
    responses(
        (status = 201, description = "The declined agreement", body = Agreement,
            headers(("Location" = String, description = "The agreement"), ("ETag" = String, description = "Its version"))),
        crate::openapi::WriteProblems,
    )
)]
#[post("/agreements/{id}/declines")]
pub async fn decline_agreement(
    state: web::Data<AppState>,
    user: User,
    Id(id): Id,
    key: IdempotencyKey,
    body: Body<NewDecline>,
) -> Reply {
    created(
        Once::optional(&state, user.key(), key, format!("decline-agreement:{id}")),
        body.into_inner(),
        move |conn, request| {
            let reason = rules::reason(&request.reason)?;
            let actor = actor(&user, request.party_id);
            let row = store::decline(conn, &id, &actor, &reason)?;
            one(conn, row)
        },
    )
    .await
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AmendmentKind {
    Amendment,
    Termination,
}

/// An amendment (new terms from `effective_from`) or a termination (no
/// agreement from `effective_from`). The other terms are copied from the
/// amended agreement and can be edited while the amendment is a draft.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAmendment {
    pub kind: AmendmentKind,
    /// Must be after the amended agreement's `effective_from`.
    pub effective_from: NaiveDate,
    /// Amendments only: the last day the new terms govern.
    #[serde(default)]
    pub effective_until: Option<NaiveDate>,
}

/// Amend or terminate an active agreement (accepted parties): a new draft
/// that supersedes it once every party has signed. One open amendment per
/// agreement at a time (409).
#[utoipa::path(
    tag = "agreements",
    operation_id = "amendAgreement",
    request_body = NewAmendment,
    params(
        ("id" = Uuid, Path, description = "The active agreement"),
        crate::http::extract::IdempotencyKeyHeader,
    ),
    security(("bearer_auth" = [])),
    responses(
        (status = 201, description = "The amendment, a draft", body = Agreement,
            headers(("Location" = String, description = "The amendment"), ("ETag" = String, description = "Its version"))),
        crate::openapi::WriteProblems,
    )
)]
#[post("/agreements/{id}/amendments")]
pub async fn amend_agreement(
    state: web::Data<AppState>,
    user: User,
    Id(id): Id,
    key: IdempotencyKey,
    body: Body<NewAmendment>,
) -> Reply {
    let actor = actor(&user, None);
    created(
        Once::optional(&state, user.key(), key, format!("amend-agreement:{id}")),
        body.into_inner(),
        move |conn, request| {
            let amendment = Amendment {
                kind: match request.kind {
                    AmendmentKind::Amendment => KindRule::Amendment,
                    AmendmentKind::Termination => KindRule::Termination,
                },
                effective_from: request.effective_from,
                effective_until: request.effective_until,
            };
            let row = store::amend(conn, &id, &actor, &amendment)?;
            one(conn, row)
        },
    )
    .await
}

/// One entry of the audit trail.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgreementEvent {
    #[schema(format = Uuid)]
    pub id: String,
    pub kind: AgreementEventKind,
    /// The agreement's version after the event.
    pub version: i64,
    /// The agreement's content hash at the event.
    pub content_hash: String,
    /// Who did it.
    #[schema(format = Uuid)]
    pub actor_id: Option<String>,
    /// The party they acted for (signatures and declines).
    #[schema(format = Uuid)]
    pub party_id: Option<String>,
    /// The other agreement involved: the amended one, or the one that
    /// superseded this one.
    #[schema(format = Uuid)]
    pub related_agreement_id: Option<String>,
    /// A decline's reason.
    pub note: Option<String>,
    pub occurred_at: DateTime<Utc>,
}

impl From<EventRow> for AgreementEvent {
    fn from(e: EventRow) -> Self {
        Self {
            kind: EventKind::parse(&e.kind)
                .unwrap_or(EventKind::Edited)
                .into(),
            id: e.id,
            version: e.version,
            content_hash: e.content_hash,
            actor_id: e.actor_id,
            party_id: e.party_id,
            related_agreement_id: e.related_agreement_id,
            note: e.note,
            occurred_at: utc(e.occurred_at),
        }
    }
}

page_type!(AgreementEventPage, AgreementEvent);
keyed_by_id!(AgreementEvent);

/// The append-only audit trail of an agreement, oldest first.
#[utoipa::path(
    tag = "agreements",
    operation_id = "listAgreementEvents",
    params(path::Agreement, PageQuery),
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "One page of events", body = AgreementEventPage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when more pages follow"))),
        crate::openapi::ReadProblems,
    )
)]
#[get("/agreements/{id}/events")]
pub async fn list_agreement_events(
    state: web::Data<AppState>,
    user: User,
    Id(id): Id,
    paging: Paging,
) -> Reply {
    pagination::belonging::<AgreementEvent, _>(&state, &paging, OLDEST, user, id, store::events)
        .await
}
