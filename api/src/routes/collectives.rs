//! Collectives (cooperatives): create, find, edit, apply to join, decide
//! applications, invite artisans, and manage members. Collectives are
//! visible to every signed-in person; changing one needs a coordinator
//! (403 otherwise). Nobody becomes a member without saying yes: they apply,
//! or accept an invitation; applicants and invitees follow their own.

use actix_web::http::header;
use actix_web::{delete, get, patch, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use domain::collective::{
    ApplicationStatus, CollectivePatch, CollectiveStatus as DomainCollectiveStatus, Decision,
    InvitationStatus, MemberRole as RoleRule, MembershipPolicy as PolicyRule,
};
use domain::precondition::Precondition;
use domain::text::{self, limits};
use persistence::collectives::{
    self as store, ApplicationRow, CollectiveFilter, CollectiveRow, InvitationWithName, ListOf,
    MemberRow, MemberWithName,
};
use persistence::{directory, AnyConnection, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::utc;
use crate::auth::principal::{scope, Granted, User};
use crate::error::{ApiError, Reply};
use crate::http::extract::{Body, Id, IdempotencyKey, Ids, IfMatch};
use crate::http::idempotency::{Created, Once};
use crate::http::pagination::{PageQuery, Paging};
use crate::http::params;
use crate::http::{etag, pagination};
use crate::openapi::path;
use crate::state::AppState;
use crate::{keyed_by_id, page_type};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_collective)
        .service(list_collectives)
        .service(get_collective)
        .service(update_collective)
        .service(apply)
        .service(list_applications)
        .service(decide)
        .service(list_members)
        .service(change_role)
        .service(remove_member)
        .service(invite)
        .service(list_invitations)
        .service(my_invitations)
        .service(accept_invitation)
        .service(decline_invitation)
        .service(withdraw_invitation)
        .service(my_applications)
        .service(withdraw_application)
        .service(directory_collectives);
}

mirror_enum!(MembershipPolicy <=> PolicyRule { Open, Application, InviteOnly });
mirror_enum!(CollectiveApplicationState <=> ApplicationStatus { Pending, Approved, Declined, Withdrawn });
mirror_enum!(CollectiveInvitationStatus <=> InvitationStatus { Invited, Accepted, Declined, Withdrawn });
mirror_enum!(CollectiveStatus <=> DomainCollectiveStatus { Active, Archived });
mirror_enum!(MemberRole <=> RoleRule { Coordinator, Member });

sharing_fields! {
    // A collective's public fields: what members and partner organizations
    // alike are shown.
    {
        #[schema(format = Uuid)]
        pub id: String,
        pub name: String,
        pub description: String,
        pub crafts: Vec<String>,
        pub country: Option<String>,
        pub region: Option<String>,
        pub membership_policy: MembershipPolicy,
    }

    #[derive(Debug, Serialize, ToSchema)]
    pub struct Collective {} {
        /// `archived` once its last member closed their account; an archived
        /// collective is not listed and changes no more.
        pub status: CollectiveStatus,
        #[schema(format = Uuid)]
        pub created_by: String,
        pub created_at: DateTime<Utc>,
        pub updated_at: DateTime<Utc>,
        pub version: i64,
    }

    /// A collective as partner organizations see it: its public fields and
    /// only the members who consented to be shown to partners (never who
    /// created it, never anyone else).
    #[derive(Debug, Serialize, ToSchema)]
    pub struct DirectoryCollective {} {
        pub members: Vec<ListedMember>,
    }
}

impl From<CollectiveRow> for Collective {
    fn from(row: CollectiveRow) -> Self {
        let fields = row.fields();
        let status = row.status().into();
        Self {
            id: row.id,
            name: fields.name,
            description: fields.description,
            crafts: fields.crafts,
            country: fields.country,
            region: fields.region,
            membership_policy: fields.membership_policy.into(),
            status,
            created_by: row.created_by,
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
            version: row.version,
        }
    }
}

fn with_etag(row: CollectiveRow) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::ETAG, etag(row.version)))
        .json(Collective::from(row))
}

page_type!(CollectivePage, Collective);
keyed_by_id!(Collective);

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCollective {
    #[schema(value_type = crate::schema::OrganizationName, example = "Tejedoras de Chinchero")]
    pub name: String,
    #[serde(default)]
    #[schema(value_type = crate::schema::DescriptionText)]
    pub description: String,
    #[serde(default)]
    #[schema(value_type = crate::schema::SlugList)]
    pub crafts: Vec<String>,
    #[schema(value_type = Option<crate::schema::CountryCode>)]
    pub country: Option<String>,
    #[schema(value_type = Option<crate::schema::Region>)]
    pub region: Option<String>,
    pub membership_policy: MembershipPolicy,
}

place_change_fields! {
    /// A change to a collective; absent fields stay as they are.
    #[derive(Debug, Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct CollectiveChange {
        #[schema(value_type = Option<crate::schema::OrganizationName>)]
        pub name: Option<String>,
        #[schema(value_type = Option<crate::schema::DescriptionText>)]
        pub description: Option<String>,
        #[schema(value_type = Option<crate::schema::SlugList>)]
        pub crafts: Option<Vec<String>>,
        // + country, region
    } {
        pub membership_policy: Option<MembershipPolicy>,
    }
}

/// Start a collective; you become its first coordinator.
#[utoipa::path(
    tag = "collectives",
    operation_id = "createCollective",
    request_body = NewCollective,
    params(crate::http::extract::IdempotencyKeyHeader),
    security(("bearer_auth" = [])),
    responses(
        (status = 201, description = "The collective", body = Collective,
            headers(("Location" = String, description = "The new collective"), ("ETag" = String, description = "Its version"))),
        crate::openapi::WriteProblems,
    )
)]
#[post("/collectives")]
pub async fn create_collective(
    state: web::Data<AppState>,
    user: User,
    key: IdempotencyKey,
    body: Body<NewCollective>,
) -> Reply {
    Once::optional(&state, user.key(), key, "create-collective")
        .write(body.into_inner(), move |conn, request| {
            let fields = CollectivePatch {
                name: Some(request.name),
                description: Some(request.description),
                crafts: Some(request.crafts),
                country: Some(request.country),
                region: Some(request.region),
                membership_policy: Some(request.membership_policy.into()),
            }
            .create()?;
            let row = store::create(conn, &fields, &user.id)?;
            let location = format!("/v1/collectives/{}", row.id);
            let version = row.version;
            Ok(Created::new(&Collective::from(row))?
                .location(location)
                .etag(version))
        })
        .await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CollectiveQuery {
    #[param(value_type = Option<crate::schema::Slug>)]
    pub craft: Option<String>,
    #[param(value_type = Option<crate::schema::CountryCode>)]
    pub country: Option<String>,
    /// Case-insensitive text in the name or description.
    #[param(min_length = 1, max_length = 100)]
    pub q: Option<String>,
}

/// Find collectives, newest first.
#[utoipa::path(
    tag = "collectives",
    operation_id = "listCollectives",
    params(CollectiveQuery, PageQuery),
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "One page of collectives", body = CollectivePage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when more pages follow"))),
        crate::openapi::ReadProblems,
    )
)]
#[get("/collectives")]
pub async fn list_collectives(
    state: web::Data<AppState>,
    _: User,
    paging: Paging,
    query: web::Query<CollectiveQuery>,
) -> Reply {
    let filter = query.into_inner().filter()?;
    pagination::newest(&state, &paging, move |conn, seek| {
        Ok(store::list(conn, &filter, seek)?.map(Collective::from))
    })
    .await
}

impl CollectiveQuery {
    fn filter(self) -> Result<CollectiveFilter, ApiError> {
        Ok(CollectiveFilter {
            craft: params::slug_param("craft", &self.craft)?,
            country: params::country_param("country", &self.country)?,
            q: params::text_param("q", &self.q, limits::SEARCH_QUERY)?,
        })
    }
}

/// A member who consented to be shown to partner organizations.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListedMember {
    #[schema(format = Uuid)]
    pub artisan_id: String,
    pub display_name: String,
    pub role: MemberRole,
}

page_type!(DirectoryCollectivePage, DirectoryCollective);
keyed_by_id!(DirectoryCollective);

/// Active collectives for partner organizations (scope `directory:read`),
/// newest first, with the filters of `GET /v1/collectives`.
#[utoipa::path(
    tag = "directory",
    operation_id = "listDirectoryCollectives",
    params(CollectiveQuery, PageQuery),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "One page of collectives", body = DirectoryCollectivePage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when more pages follow"))),
        crate::openapi::ReadProblems,
    )
)]
#[get("/directory/collectives")]
pub async fn directory_collectives(
    state: web::Data<AppState>,
    _: Granted<scope::DirectoryRead>,
    paging: Paging,
    query: web::Query<CollectiveQuery>,
) -> Reply {
    let filter = query.into_inner().filter()?;
    pagination::newest(&state, &paging, move |conn, seek| {
        let page = store::list(conn, &filter, seek)?;
        let ids: Vec<String> = page.rows.iter().map(|r| r.id.clone()).collect();
        let mut listed = directory::collective_members(conn, &ids)?;
        Ok(page.map(|row| {
            let members = persistence::take_rows(&mut listed, |l| l.of == row.id)
                .into_iter()
                .map(|l| ListedMember {
                    artisan_id: l.artisan_id,
                    display_name: l.display_name,
                    role: l
                        .role
                        .as_deref()
                        .and_then(RoleRule::parse)
                        .unwrap_or(RoleRule::Member)
                        .into(),
                })
                .collect();
            // The public part of the collective, as its members see it.
            let shown = Collective::from(row);
            DirectoryCollective {
                id: shown.id,
                name: shown.name,
                description: shown.description,
                crafts: shown.crafts,
                country: shown.country,
                region: shown.region,
                membership_policy: shown.membership_policy,
                members,
            }
        }))
    })
    .await
}

/// Read a collective.
#[utoipa::path(
    tag = "collectives",
    operation_id = "getCollective",
    params(path::Collective),
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "The collective", body = Collective,
            headers(("ETag" = String, description = "Current version, for If-Match"))),
        crate::openapi::ReadProblems,
    )
)]
#[get("/collectives/{id}")]
pub async fn get_collective(state: web::Data<AppState>, _: User, Id(id): Id) -> Reply {
    let row = state
        .db(move |conn| store::find(conn, &id)?.ok_or(ApiError::NotFound))
        .await?;
    Ok(with_etag(row))
}

/// Edit a collective (coordinators).
#[utoipa::path(
    tag = "collectives",
    operation_id = "updateCollective",
    params(path::Collective, crate::http::extract::IfMatchHeader),
    request_body = CollectiveChange,
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "The updated collective", body = Collective,
            headers(("ETag" = String, description = "The new version"))),
        crate::openapi::ConditionalWriteProblems,
    )
)]
#[patch("/collectives/{id}")]
pub async fn update_collective(
    state: web::Data<AppState>,
    user: User,
    Id(id): Id,
    body: Body<CollectiveChange>,
    if_match: IfMatch,
) -> Reply {
    let change = body.into_inner();
    let patch = CollectivePatch {
        name: change.name,
        description: change.description,
        crafts: change.crafts,
        country: change.country,
        region: change.region,
        membership_policy: change.membership_policy.map(Into::into),
    };
    let row = state
        .db(move |conn| Ok(store::update(conn, &id, &user.id, &if_match.0, patch)?))
        .await?;
    Ok(with_etag(row))
}

/// An application to join a collective.
#[derive(Debug, Serialize, ToSchema)]
pub struct CollectiveApplication {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub collective_id: String,
    #[schema(format = Uuid)]
    pub artisan_id: String,
    pub message: String,
    pub status: CollectiveApplicationState,
    #[schema(format = Uuid)]
    pub decided_by: Option<String>,
    pub decision_note: Option<String>,
    pub created_at: DateTime<Utc>,
    /// When it was decided or withdrawn.
    pub decided_at: Option<DateTime<Utc>>,
    /// For `If-Match` when withdrawing it.
    pub version: i64,
}

impl From<ApplicationRow> for CollectiveApplication {
    fn from(row: ApplicationRow) -> Self {
        Self {
            status: row.status().into(),
            version: row.version,
            id: row.id,
            collective_id: row.collective_id,
            artisan_id: row.artisan_id,
            message: row.message,
            decided_by: row.decided_by,
            decision_note: row.decision_note,
            created_at: utc(row.created_at),
            decided_at: row.decided_at.map(utc),
        }
    }
}

page_type!(CollectiveApplicationPage, CollectiveApplication);
keyed_by_id!(CollectiveApplication);

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CollectiveApplicationRequest {
    /// A few words to the coordinators.
    #[serde(default)]
    #[schema(value_type = crate::schema::DescriptionText)]
    pub message: String,
}

/// Apply to join. Under the `open` policy you are a member at once (the
/// application comes back `approved`); under `application` it waits for a
/// coordinator; `invite_only` collectives admit only through invitations
/// (422).
#[utoipa::path(
    tag = "collectives",
    operation_id = "applyToCollective",
    params(path::Collective, crate::http::extract::IdempotencyKeyHeader),
    request_body = CollectiveApplicationRequest,
    security(("bearer_auth" = [])),
    responses(
        (status = 201, description = "The application", body = CollectiveApplication,
            headers(("Location" = String, description = "The collective's applications"))),
        crate::openapi::WriteProblems,
    )
)]
#[post("/collectives/{id}/applications")]
pub async fn apply(
    state: web::Data<AppState>,
    user: User,
    Id(id): Id,
    key: IdempotencyKey,
    body: Body<CollectiveApplicationRequest>,
) -> Reply {
    let collective_id = id.to_string();
    let route = format!("apply:{collective_id}");
    Once::optional(&state, user.key(), key, route)
        .write(body.into_inner(), move |conn, request| {
            let message = text::prose("message", &request.message)?;
            let collective = collective_id.clone();
            let row = store::apply(conn, &collective, &user.id, &message)?;
            Ok(Created::new(&CollectiveApplication::from(row))?
                .location(format!("/v1/collectives/{collective_id}/applications")))
        })
        .await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ApplicationQuery {
    #[param(inline)]
    pub status: Option<CollectiveApplicationState>,
}

/// A collective's applications, newest first (coordinators).
#[utoipa::path(
    tag = "collectives",
    operation_id = "listCollectiveApplications",
    params(path::Collective, ApplicationQuery, PageQuery),
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "One page of applications", body = CollectiveApplicationPage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when more pages follow"))),
        crate::openapi::ReadProblems,
    )
)]
#[get("/collectives/{id}/applications")]
pub async fn list_applications(
    state: web::Data<AppState>,
    user: User,
    Id(id): Id,
    paging: Paging,
    query: web::Query<ApplicationQuery>,
) -> Reply {
    let of = ListOf::Collective {
        id: id.to_string(),
        actor: user.id,
    };
    applications_page(&state, &paging, query.into_inner(), of).await
}

async fn applications_page(
    state: &AppState,
    paging: &Paging,
    query: ApplicationQuery,
    of: ListOf,
) -> Reply {
    let status = query.status.map(Into::into);
    pagination::newest(state, paging, move |conn, seek| {
        Ok(store::list_applications(conn, &of, status, seek)?.map(CollectiveApplication::from))
    })
    .await
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DecisionKind {
    Approve,
    Decline,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    pub decision: DecisionKind,
    /// Required when declining.
    #[schema(value_type = Option<crate::schema::DescriptionText>)]
    pub note: Option<String>,
}

/// Approve or decline a pending application (coordinators). A decline
/// needs a note; a decided application cannot be decided again (409).
#[utoipa::path(
    tag = "collectives",
    operation_id = "decideCollectiveApplication",
    params(
        ("id" = Uuid, Path, description = "Collective id"),
        ("aid" = Uuid, Path, description = "Application id"),
    ),
    request_body = DecisionRequest,
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "The decided application", body = CollectiveApplication),
        crate::openapi::WriteProblems,
    )
)]
#[post("/collectives/{id}/applications/{aid}/decision")]
pub async fn decide(
    state: web::Data<AppState>,
    user: User,
    Ids((collective_id, application_id)): Ids<(String, String)>,
    body: Body<DecisionRequest>,
) -> Reply {
    let request = body.into_inner();
    let decision = Decision::new(
        matches!(request.decision, DecisionKind::Approve),
        request.note.as_deref(),
    )?;
    let row = state
        .db(move |conn| {
            Ok(store::decide(
                conn,
                &collective_id.to_string(),
                &application_id.to_string(),
                &user.id,
                &decision,
            )?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(CollectiveApplication::from(row)))
}

/// A member of a collective.
#[derive(Debug, Serialize, ToSchema)]
pub struct CollectiveMember {
    #[schema(format = Uuid)]
    pub artisan_id: String,
    pub display_name: String,
    pub role: MemberRole,
    pub joined_at: DateTime<Utc>,
    pub version: i64,
}

fn member(row: MemberRow, display_name: String) -> CollectiveMember {
    CollectiveMember {
        role: row.role().into(),
        artisan_id: row.artisan_id,
        display_name,
        joined_at: utc(row.joined_at),
        version: row.version,
    }
}

page_type!(CollectiveMemberPage, CollectiveMember);

/// A collective's members, in a stable order.
#[utoipa::path(
    tag = "collectives",
    operation_id = "listCollectiveMembers",
    params(path::Collective, PageQuery),
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "One page of members", body = CollectiveMemberPage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when more pages follow"))),
        crate::openapi::ReadProblems,
    )
)]
#[get("/collectives/{id}/members")]
pub async fn list_members(
    state: web::Data<AppState>,
    _: User,
    Id(id): Id,
    paging: Paging,
) -> Reply {
    const ORDER: &str = "member";
    let (limit, after) = paging.keyed(ORDER, 1)?;
    let after = after.and_then(|mut keys| keys.pop());
    let page = state
        .db(move |conn| Ok(store::list_members(conn, &id, after.as_deref(), limit)?))
        .await?;
    Ok(pagination::keyed(
        &paging,
        ORDER,
        page,
        |(last, _)| vec![last.artisan_id.clone()],
        |(row, name): MemberWithName| member(row, name),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleChange {
    pub role: MemberRole,
}

/// Make a member a coordinator or a coordinator a member (coordinators).
/// The last coordinator cannot be demoted (409).
#[utoipa::path(
    tag = "collectives",
    operation_id = "changeCollectiveMemberRole",
    params(
        ("id" = Uuid, Path, description = "Collective id"),
        ("artisan_id" = Uuid, Path, description = "The member"),
        crate::http::extract::IfMatchHeader,
    ),
    request_body = RoleChange,
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "The member", body = CollectiveMember,
            headers(("ETag" = String, description = "The membership's new version"))),
        crate::openapi::ConditionalWriteProblems,
    )
)]
#[patch("/collectives/{id}/members/{artisan_id}")]
pub async fn change_role(
    state: web::Data<AppState>,
    user: User,
    Ids((collective_id, artisan_id)): Ids<(String, String)>,
    body: Body<RoleChange>,
    if_match: IfMatch,
) -> Reply {
    let role = body.role.into();
    let (row, name) = state
        .db(move |conn| {
            let artisan = artisan_id.to_string();
            let row = store::set_role(
                conn,
                &collective_id.to_string(),
                &user.id,
                &artisan,
                &if_match.0,
                role,
            )?;
            let name = persistence::artisans::find(conn, &artisan)?
                .map(|a| a.display_name)
                .unwrap_or_default();
            Ok((row, name))
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(row.version)))
        .json(member(row, name)))
}

/// Remove a member (coordinators), or leave (the member themself). The
/// last coordinator can neither leave nor be removed (409).
#[utoipa::path(
    tag = "collectives",
    operation_id = "removeCollectiveMember",
    params(
        ("id" = Uuid, Path, description = "Collective id"),
        ("artisan_id" = Uuid, Path, description = "The member"),
        crate::http::extract::IfMatchHeader,
    ),
    security(("bearer_auth" = [])),
    responses(
        (status = 204, description = "No longer a member"),
        crate::openapi::ConditionalWriteProblems,
    )
)]
#[delete("/collectives/{id}/members/{artisan_id}")]
pub async fn remove_member(
    state: web::Data<AppState>,
    user: User,
    Ids((collective_id, artisan_id)): Ids<(String, String)>,
    if_match: IfMatch,
) -> Reply {
    state
        .db(move |conn| {
            Ok(store::remove_member(
                conn,
                &collective_id.to_string(),
                &user.id,
                &artisan_id.to_string(),
                &if_match.0,
            )?)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// An invitation to join a collective.
#[derive(Debug, Serialize, ToSchema)]
pub struct CollectiveInvitation {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub collective_id: String,
    pub collective_name: String,
    #[schema(format = Uuid)]
    pub artisan_id: String,
    pub message: String,
    pub status: CollectiveInvitationStatus,
    #[schema(format = Uuid)]
    pub invited_by: String,
    pub created_at: DateTime<Utc>,
    /// When it was accepted, declined or withdrawn.
    pub answered_at: Option<DateTime<Utc>>,
    /// For `If-Match` when a coordinator withdraws it.
    pub version: i64,
}

impl From<InvitationWithName> for CollectiveInvitation {
    fn from((row, collective_name): InvitationWithName) -> Self {
        Self {
            status: row.status().into(),
            id: row.id,
            collective_id: row.collective_id,
            collective_name,
            artisan_id: row.artisan_id,
            message: row.message,
            invited_by: row.invited_by,
            created_at: utc(row.created_at),
            answered_at: row.answered_at.map(utc),
            version: row.version,
        }
    }
}

page_type!(CollectiveInvitationPage, CollectiveInvitation);
keyed_by_id!(CollectiveInvitation);

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvitationRequest {
    /// The artisan to invite.
    #[schema(format = Uuid)]
    pub artisan_id: Uuid,
    /// A few words to the artisan.
    #[serde(default)]
    #[schema(value_type = crate::schema::DescriptionText)]
    pub message: String,
}

/// Invite an artisan (coordinators). They become a member only when they
/// accept. One open invitation per artisan (409); members cannot be
/// invited (409); an unknown artisan is a 422 on `artisan_id`.
#[utoipa::path(
    tag = "collectives",
    operation_id = "inviteToCollective",
    params(path::Collective, crate::http::extract::IdempotencyKeyHeader),
    request_body = InvitationRequest,
    security(("bearer_auth" = [])),
    responses(
        (status = 201, description = "The invitation", body = CollectiveInvitation,
            headers(("Location" = String, description = "The collective's invitations"))),
        crate::openapi::WriteProblems,
    )
)]
#[post("/collectives/{id}/invitations")]
pub async fn invite(
    state: web::Data<AppState>,
    user: User,
    Id(id): Id,
    key: IdempotencyKey,
    body: Body<InvitationRequest>,
) -> Reply {
    let collective_id = id.to_string();
    let route = format!("invite:{collective_id}");
    Once::optional(&state, user.key(), key, route)
        .write(body.into_inner(), move |conn, request| {
            let message = text::prose("message", &request.message)?;
            let collective = collective_id.clone();
            let artisan = request.artisan_id.to_string();
            let invitation = {
                let row = store::invite(conn, &collective, &user.id, &artisan, &message)?;
                let name = store::find(conn, &collective)?
                    .map(|c| c.name)
                    .unwrap_or_default();
                (row, name)
            };
            Ok(Created::new(&CollectiveInvitation::from(invitation))?
                .location(format!("/v1/collectives/{collective_id}/invitations")))
        })
        .await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InvitationQuery {
    #[param(inline)]
    pub status: Option<CollectiveInvitationStatus>,
}

async fn invitations_page(
    state: &AppState,
    paging: &Paging,
    query: InvitationQuery,
    of: ListOf,
) -> Reply {
    let status = query.status.map(Into::into);
    pagination::newest(state, paging, move |conn, seek| {
        Ok(store::list_invitations(conn, &of, status, seek)?.map(CollectiveInvitation::from))
    })
    .await
}

/// A collective's invitations, newest first (coordinators).
#[utoipa::path(
    tag = "collectives",
    operation_id = "listCollectiveInvitations",
    params(path::Collective, InvitationQuery, PageQuery),
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "One page of invitations", body = CollectiveInvitationPage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when more pages follow"))),
        crate::openapi::ReadProblems,
    )
)]
#[get("/collectives/{id}/invitations")]
pub async fn list_invitations(
    state: web::Data<AppState>,
    user: User,
    Id(id): Id,
    paging: Paging,
    query: web::Query<InvitationQuery>,
) -> Reply {
    let of = ListOf::Collective {
        id: id.to_string(),
        actor: user.id,
    };
    invitations_page(&state, &paging, query.into_inner(), of).await
}

/// Your invitations to collectives, newest first.
#[utoipa::path(
    tag = "collectives",
    operation_id = "listMyCollectiveInvitations",
    params(InvitationQuery, PageQuery),
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "One page of invitations", body = CollectiveInvitationPage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when more pages follow"))),
        crate::openapi::ReadProblems,
    )
)]
#[get("/me/collective-invitations")]
pub async fn my_invitations(
    state: web::Data<AppState>,
    user: User,
    paging: Paging,
    query: web::Query<InvitationQuery>,
) -> Reply {
    invitations_page(
        &state,
        &paging,
        query.into_inner(),
        ListOf::Artisan(user.id),
    )
    .await
}

async fn answer(state: &AppState, user: User, invitation: String, accept: bool) -> Reply {
    let answered = state
        .db(move |conn| {
            Ok(store::answer_invitation(
                conn,
                &invitation,
                &user.id,
                accept,
            )?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(CollectiveInvitation::from(answered)))
}

/// Accept an invitation: you become a member. Only the invited artisan
/// answers (coordinators get 403, anyone else 404); an answered or
/// withdrawn invitation is a 409.
#[utoipa::path(
    tag = "collectives",
    operation_id = "acceptCollectiveInvitation",
    params(("iid" = Uuid, Path, description = "Invitation id")),
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "The accepted invitation", body = CollectiveInvitation),
        crate::openapi::WriteProblems,
    )
)]
#[post("/collective-invitations/{iid}/accept")]
pub async fn accept_invitation(
    state: web::Data<AppState>,
    user: User,
    Ids(iid): Ids<String>,
) -> Reply {
    answer(&state, user, iid, true).await
}

/// Decline an invitation (the invited artisan).
#[utoipa::path(
    tag = "collectives",
    operation_id = "declineCollectiveInvitation",
    params(("iid" = Uuid, Path, description = "Invitation id")),
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "The declined invitation", body = CollectiveInvitation),
        crate::openapi::WriteProblems,
    )
)]
#[post("/collective-invitations/{iid}/decline")]
pub async fn decline_invitation(
    state: web::Data<AppState>,
    user: User,
    Ids(iid): Ids<String>,
) -> Reply {
    answer(&state, user, iid, false).await
}

/// Withdraw an open invitation (coordinators; the invitation's `If-Match`).
/// The invitee declines instead (403).
#[utoipa::path(
    tag = "collectives",
    operation_id = "withdrawCollectiveInvitation",
    params(
        ("iid" = Uuid, Path, description = "Invitation id"),
        crate::http::extract::IfMatchHeader,
    ),
    security(("bearer_auth" = [])),
    responses(
        (status = 204, description = "Withdrawn"),
        crate::openapi::ConditionalWriteProblems,
    )
)]
#[delete("/collective-invitations/{iid}")]
pub async fn withdraw_invitation(
    state: web::Data<AppState>,
    user: User,
    Ids(iid): Ids<String>,
    if_match: IfMatch,
) -> Reply {
    withdraw(&state, user, iid, if_match, store::withdraw_invitation).await
}

/// Withdraws an invitation or an application under its `If-Match`.
async fn withdraw(
    state: &AppState,
    user: User,
    id: String,
    if_match: IfMatch,
    op: fn(&mut AnyConnection, &str, &str, &Precondition) -> Result<(), StoreError>,
) -> Reply {
    state
        .db(move |conn| Ok(op(conn, &id, &user.id, &if_match.0)?))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Your applications to collectives, newest first, with their decision
/// notes.
#[utoipa::path(
    tag = "collectives",
    operation_id = "listMyCollectiveApplications",
    params(ApplicationQuery, PageQuery),
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "One page of applications", body = CollectiveApplicationPage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when more pages follow"))),
        crate::openapi::ReadProblems,
    )
)]
#[get("/me/collective-applications")]
pub async fn my_applications(
    state: web::Data<AppState>,
    user: User,
    paging: Paging,
    query: web::Query<ApplicationQuery>,
) -> Reply {
    applications_page(
        &state,
        &paging,
        query.into_inner(),
        ListOf::Artisan(user.id),
    )
    .await
}

/// Withdraw your pending application (its `If-Match`). A decided one is a
/// 409; someone else's is not found.
#[utoipa::path(
    tag = "collectives",
    operation_id = "withdrawCollectiveApplication",
    params(
        ("aid" = Uuid, Path, description = "Application id"),
        crate::http::extract::IfMatchHeader,
    ),
    security(("bearer_auth" = [])),
    responses(
        (status = 204, description = "Withdrawn"),
        crate::openapi::ConditionalWriteProblems,
    )
)]
#[delete("/collective-applications/{aid}")]
pub async fn withdraw_application(
    state: web::Data<AppState>,
    user: User,
    Ids(aid): Ids<String>,
    if_match: IfMatch,
) -> Reply {
    withdraw(&state, user, aid, if_match, store::withdraw_application).await
}
