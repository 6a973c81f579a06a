//! Partnerships: create with invitees, answer invitations, add parties,
//! edit or end, leave. A partnership is visible to its parties (artisans,
//! and members of collective parties) and to admins; to everyone else it
//! does not exist (404).

use std::collections::HashMap;

use actix_web::http::header;
use actix_web::{delete, get, patch, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use domain::partnership::{
    check_invitees, PartnershipKind as KindRule, PartnershipStatus as StatusRule,
    PartnershipTextPatch, PartyStatus,
};
use persistence::partnerships::{self as store, Invitee, PartnershipRow, Party as PartyRecord};
use persistence::shares::{self, ShareRow};
use persistence::AnyConnection;
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
use crate::http::{etag, pagination};
use crate::openapi::path;
use crate::state::AppState;
use crate::{keyed_by_id, page_type};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_partnership)
        .service(list_partnerships)
        .service(get_partnership)
        .service(update_partnership)
        .service(accept_invitation)
        .service(decline_invitation)
        .service(add_party)
        .service(leave_partnership)
        .service(share_partnership)
        .service(list_shares)
        .service(revoke_share);
}

mirror_enum!(PartnershipKind <=> KindRule { CoBrandedCollection, MarketEvent, SkillWorkshop, CooperativeProject, Other });
mirror_enum!(PartnershipStatus <=> StatusRule { Forming, Active, Completed, Dissolved });
mirror_enum!(PartyState <=> PartyStatus { Invited, Accepted, Declined, Left });

party_fields! {
    /// An artisan or a collective taking part.
    #[derive(Debug, Serialize, ToSchema)]
    pub struct PartnershipParty {
        #[schema(format = Uuid)]
        pub id: String,
        // + artisan_id, collective_id, display_name
    } {
        pub status: PartyState,
    }
}

impl From<PartyRecord> for PartnershipParty {
    fn from(p: PartyRecord) -> Self {
        Self {
            status: p.row.status().into(),
            id: p.row.id,
            artisan_id: p.row.artisan_id,
            collective_id: p.row.collective_id,
            display_name: p.display_name,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Partnership {
    #[schema(format = Uuid)]
    pub id: String,
    pub title: String,
    pub kind: PartnershipKind,
    pub description: String,
    pub shared_goals: Vec<String>,
    pub status: PartnershipStatus,
    pub parties: Vec<PartnershipParty>,
    #[schema(format = Uuid)]
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

/// The response for `row`; `parties` are its own parties.
fn partnership(row: PartnershipRow, parties: Vec<PartyRecord>) -> Partnership {
    let text = row.text();
    Partnership {
        kind: KindRule::parse(&row.kind).unwrap_or(KindRule::Other).into(),
        status: row.status().into(),
        parties: parties.into_iter().map(PartnershipParty::from).collect(),
        id: row.id,
        title: text.title,
        description: text.description,
        shared_goals: text.shared_goals,
        created_by: row.created_by,
        created_at: utc(row.created_at),
        updated_at: utc(row.updated_at),
        version: row.version,
    }
}

/// Loads the parties and builds the response.
fn with_parties(conn: &mut AnyConnection, row: PartnershipRow) -> Result<Partnership, ApiError> {
    let parties = store::parties_of(conn, std::slice::from_ref(&row.id))?;
    Ok(partnership(row, parties))
}

fn respond(body: Partnership) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::ETAG, etag(body.version)))
        .json(body)
}

page_type!(PartnershipPage, Partnership);
keyed_by_id!(Partnership);

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArtisanRef {
    pub artisan_id: Uuid,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CollectiveRef {
    pub collective_id: Uuid,
}

/// An artisan (`{artisan_id}`) or a collective (`{collective_id}`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum PartyRef {
    Artisan(ArtisanRef),
    Collective(CollectiveRef),
}

impl PartyRef {
    fn invitee(&self) -> Invitee {
        match self {
            PartyRef::Artisan(a) => Invitee::Artisan(a.artisan_id.to_string()),
            PartyRef::Collective(c) => Invitee::Collective(c.collective_id.to_string()),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPartnership {
    #[schema(value_type = crate::schema::OrganizationName, example = "Andes to Accra: a co-branded textile line")]
    pub title: String,
    pub kind: PartnershipKind,
    #[serde(default)]
    #[schema(value_type = crate::schema::DescriptionText)]
    pub description: String,
    #[serde(default)]
    #[schema(value_type = crate::schema::GoalList)]
    pub shared_goals: Vec<String>,
    #[serde(default)]
    #[schema(max_items = 20)]
    pub invitees: Vec<PartyRef>,
}

/// Start a partnership. You are an accepted party at once; each invitee is
/// invited.
#[utoipa::path(
    tag = "partnerships",
    operation_id = "createPartnership",
    request_body = NewPartnership,
    params(crate::http::extract::IdempotencyKeyHeader),
    security(("bearer_auth" = [])),
    responses(
        (status = 201, description = "The partnership", body = Partnership,
            headers(("Location" = String, description = "The new partnership"), ("ETag" = String, description = "Its version"))),
        crate::openapi::WriteProblems,
    )
)]
#[post("/partnerships")]
pub async fn create_partnership(
    state: web::Data<AppState>,
    user: User,
    key: IdempotencyKey,
    body: Body<NewPartnership>,
) -> Reply {
    Once::optional(&state, user.key(), key, "create-partnership")
        .write(body.into_inner(), move |conn, request| {
            let mut errors = domain::FieldErrors::default();
            errors.take(check_invitees(request.invitees.len()));
            let invitees: Vec<Invitee> = request.invitees.iter().map(PartyRef::invitee).collect();
            let text = PartnershipTextPatch {
                title: Some(request.title),
                description: Some(request.description),
                shared_goals: Some(request.shared_goals),
            }
            .create()
            .map_err(|more| {
                errors.0.extend(more.0);
                std::mem::take(&mut errors)
            })?;
            if !errors.is_empty() {
                return Err(errors.into());
            }
            let kind = request.kind.into();
            let body = {
                let row = store::create(conn, kind, &text, &user.id, &invitees)?;
                with_parties(conn, row)
            }?;
            let location = format!("/v1/partnerships/{}", body.id);
            let version = body.version;
            Ok(Created::new(&body)?.location(location).etag(version))
        })
        .await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PartnershipQuery {
    #[param(inline)]
    pub status: Option<PartnershipStatus>,
    #[param(inline)]
    pub kind: Option<PartnershipKind>,
}

/// Your partnerships (as an artisan or through your collectives), newest first.
#[utoipa::path(
    tag = "partnerships",
    operation_id = "listPartnerships",
    params(PartnershipQuery, PageQuery),
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "One page of partnerships", body = PartnershipPage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when more pages follow"))),
        crate::openapi::ReadProblems,
    )
)]
#[get("/partnerships")]
pub async fn list_partnerships(
    state: web::Data<AppState>,
    user: User,
    paging: Paging,
    query: web::Query<PartnershipQuery>,
) -> Reply {
    let viewer = user.viewer();
    let query = query.into_inner();
    let (status, kind) = (query.status.map(Into::into), query.kind.map(Into::into));
    pagination::newest(&state, &paging, move |conn, seek| {
        let page = store::list(conn, &viewer, status, kind, seek)?;
        let ids: Vec<String> = page.rows.iter().map(|r| r.id.clone()).collect();
        let mut by_partnership: HashMap<String, Vec<PartyRecord>> = HashMap::new();
        for party in store::parties_seen_by(conn, &ids, &viewer)? {
            by_partnership
                .entry(party.row.partnership_id.clone())
                .or_default()
                .push(party);
        }
        Ok(page.map(|row| {
            let own = by_partnership.remove(&row.id).unwrap_or_default();
            partnership(row, own)
        }))
    })
    .await
}

/// Read a partnership you take part in.
#[utoipa::path(
    tag = "partnerships",
    operation_id = "getPartnership",
    params(path::Partnership),
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "The partnership", body = Partnership,
            headers(("ETag" = String, description = "Current version, for If-Match"))),
        crate::openapi::ReadProblems,
    )
)]
#[get("/partnerships/{id}")]
pub async fn get_partnership(state: web::Data<AppState>, user: User, Id(id): Id) -> Reply {
    let viewer = user.viewer();
    let body = state
        .db(move |conn| {
            let row = store::find(conn, &id, &viewer)?;
            let parties = store::parties_seen_by(conn, std::slice::from_ref(&row.id), &viewer)?;
            Ok(partnership(row, parties))
        })
        .await?;
    Ok(respond(body))
}

/// Edit a partnership, or end it (`status`: `completed` from active,
/// `dissolved` from forming or active). Accepted parties only.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartnershipChange {
    #[schema(value_type = Option<crate::schema::OrganizationName>)]
    pub title: Option<String>,
    #[schema(value_type = Option<crate::schema::DescriptionText>)]
    pub description: Option<String>,
    #[schema(value_type = Option<crate::schema::GoalList>)]
    pub shared_goals: Option<Vec<String>>,
    pub status: Option<PartnershipStatus>,
}

/// Edit or end a partnership (accepted parties).
#[utoipa::path(
    tag = "partnerships",
    operation_id = "updatePartnership",
    params(path::Partnership, crate::http::extract::IfMatchHeader),
    request_body = PartnershipChange,
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "The partnership", body = Partnership,
            headers(("ETag" = String, description = "The new version"))),
        crate::openapi::ConditionalWriteProblems,
    )
)]
#[patch("/partnerships/{id}")]
pub async fn update_partnership(
    state: web::Data<AppState>,
    user: User,
    Id(id): Id,
    body: Body<PartnershipChange>,
    if_match: IfMatch,
) -> Reply {
    let viewer = user.viewer();
    let change = body.into_inner();
    let text = PartnershipTextPatch {
        title: change.title,
        description: change.description,
        shared_goals: change.shared_goals,
    };
    let status = change.status.map(Into::into);
    let body = state
        .db(move |conn| {
            let row = store::update(conn, &id, &viewer, &if_match.0, text, status)?;
            with_parties(conn, row)
        })
        .await?;
    Ok(respond(body))
}

async fn answer(
    state: &AppState,
    user: User,
    (id, party): (String, String),
    accept: bool,
) -> Reply {
    let viewer = user.viewer();
    let body = state
        .db(move |conn| {
            let row = store::answer(conn, &id, &party, &viewer, accept)?;
            with_parties(conn, row)
        })
        .await?;
    Ok(respond(body))
}

/// Accept an invitation: the invited artisan, or a coordinator of the
/// invited collective. Two accepted parties make the partnership active.
#[utoipa::path(
    tag = "partnerships",
    operation_id = "acceptInvitation",
    params(path::InvitedParty),
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "The partnership", body = Partnership),
        crate::openapi::WriteProblems,
    )
)]
#[post("/partnerships/{id}/invitations/{party_id}/accept")]
pub async fn accept_invitation(
    state: web::Data<AppState>,
    user: User,
    Ids(ids): Ids<(String, String)>,
) -> Reply {
    answer(&state, user, ids, true).await
}

/// Decline an invitation (the invited artisan, or a coordinator).
#[utoipa::path(
    tag = "partnerships",
    operation_id = "declineInvitation",
    params(path::InvitedParty),
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "The partnership", body = Partnership),
        crate::openapi::WriteProblems,
    )
)]
#[post("/partnerships/{id}/invitations/{party_id}/decline")]
pub async fn decline_invitation(
    state: web::Data<AppState>,
    user: User,
    Ids(ids): Ids<(String, String)>,
) -> Reply {
    answer(&state, user, ids, false).await
}

/// Invite another artisan or collective (accepted parties).
#[utoipa::path(
    tag = "partnerships",
    operation_id = "addPartnershipParty",
    params(path::Partnership, crate::http::extract::IdempotencyKeyHeader),
    request_body = PartyRef,
    security(("bearer_auth" = [])),
    responses(
        (status = 201, description = "The partnership with its new invited party", body = Partnership,
            headers(("Location" = String, description = "The partnership"))),
        crate::openapi::WriteProblems,
    )
)]
#[post("/partnerships/{id}/parties")]
pub async fn add_party(
    state: web::Data<AppState>,
    user: User,
    Id(id): Id,
    key: IdempotencyKey,
    body: Body<PartyRef>,
) -> Reply {
    let viewer = user.viewer();
    let route = format!("add-party:{id}");
    Once::optional(&state, user.key(), key, route)
        .write(body.into_inner(), move |conn, request| {
            let invitee = request.invitee();
            let partnership_id = id.clone();
            let body = {
                store::add_party(conn, &partnership_id, &viewer, &invitee)?;
                let row = store::find(conn, &partnership_id, &viewer)?;
                with_parties(conn, row)
            }?;
            Ok(Created::new(&body)?.location(format!("/v1/partnerships/{id}")))
        })
        .await
}

/// Leave a partnership (the party itself, or a coordinator for a
/// collective party).
#[utoipa::path(
    tag = "partnerships",
    operation_id = "leavePartnership",
    params(
        ("id" = Uuid, Path, description = "Partnership id"),
        ("party_id" = Uuid, Path, description = "Your party"),
    ),
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "The partnership", body = Partnership),
        crate::openapi::WriteProblems,
    )
)]
#[post("/partnerships/{id}/parties/{party_id}/leave")]
pub async fn leave_partnership(
    state: web::Data<AppState>,
    user: User,
    Ids((id, party)): Ids<(String, String)>,
) -> Reply {
    let viewer = user.viewer();
    let body = state
        .db(move |conn| {
            persistence::departures::leave_partnership(conn, &id, &party, &viewer)?;
            let row = store::find(conn, &id, &viewer)?;
            with_parties(conn, row)
        })
        .await?;
    Ok(respond(body))
}

/// An organization the partnership is shared with.
#[derive(Debug, Serialize, ToSchema)]
pub struct PartnershipShare {
    #[schema(format = Uuid)]
    pub organization_id: String,
    /// The organization's name (in listings).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub organization_name: Option<String>,
    /// The person who shared it.
    #[schema(format = Uuid)]
    pub shared_by: String,
    pub created_at: DateTime<Utc>,
}

impl PartnershipShare {
    fn new(row: ShareRow, organization_name: Option<String>) -> Self {
        Self {
            organization_id: row.organization_id,
            organization_name,
            shared_by: row.shared_by,
            created_at: utc(row.created_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewShare {
    /// A registered partner organization.
    pub organization_id: Uuid,
}

/// Share the partnership with a partner organization (any accepted
/// party): its keys with `partnerships:read` read it (parties' names,
/// agreements' status and split, payouts per recipient; never e-mails).
/// Sharing again answers 200 with the existing share.
#[utoipa::path(
    tag = "partnerships",
    operation_id = "sharePartnership",
    request_body = NewShare,
    params(path::Partnership),
    security(("bearer_auth" = [])),
    responses(
        (status = 201, description = "Shared", body = PartnershipShare),
        (status = 200, description = "It was shared already", body = PartnershipShare),
        crate::openapi::WriteProblems,
    )
)]
#[post("/partnerships/{id}/shares")]
pub async fn share_partnership(
    state: web::Data<AppState>,
    user: User,
    Id(id): Id,
    body: Body<NewShare>,
) -> Reply {
    let viewer = user.viewer();
    let organization = body.into_inner().organization_id.to_string();
    let (row, created) = state
        .db(move |conn| Ok(shares::share(conn, &id, &viewer, &organization)?))
        .await?;
    let share = PartnershipShare::new(row, None);
    Ok(if created {
        HttpResponse::Created().json(share)
    } else {
        HttpResponse::Ok().json(share)
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PartnershipShareList {
    pub data: Vec<PartnershipShare>,
}

/// The organizations the partnership is shared with (those who read it).
#[utoipa::path(
    tag = "partnerships",
    operation_id = "listPartnershipShares",
    params(path::Partnership),
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "The shares, oldest first", body = PartnershipShareList),
        crate::openapi::ReadProblems,
    )
)]
#[get("/partnerships/{id}/shares")]
pub async fn list_shares(state: web::Data<AppState>, user: User, Id(id): Id) -> Reply {
    let viewer = user.viewer();
    let rows = state
        .db(move |conn| Ok(shares::list(conn, &id, &viewer)?))
        .await?;
    Ok(HttpResponse::Ok().json(PartnershipShareList {
        data: rows
            .into_iter()
            .map(|(row, name)| PartnershipShare::new(row, Some(name)))
            .collect(),
    }))
}

/// Stop sharing the partnership with an organization (any accepted
/// party); its reads stop at once.
#[utoipa::path(
    tag = "partnerships",
    operation_id = "revokePartnershipShare",
    params(
        ("id" = Uuid, Path, description = "Partnership id"),
        ("organization_id" = Uuid, Path, description = "The organization"),
    ),
    security(("bearer_auth" = [])),
    responses(
        (status = 204, description = "No longer shared"),
        crate::openapi::WriteProblems,
    )
)]
#[delete("/partnerships/{id}/shares/{organization_id}")]
pub async fn revoke_share(
    state: web::Data<AppState>,
    user: User,
    Ids((id, organization)): Ids<(String, String)>,
) -> Reply {
    let viewer = user.viewer();
    state
        .db(move |conn| Ok(shares::revoke(conn, &id, &viewer, &organization)?))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
