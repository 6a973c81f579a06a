//! Partner organizations and their API keys, managed by admins. A key's
//! secret is shown once, at creation; afterwards only its prefix.

use actix_web::http::header;
use actix_web::{delete, get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use domain::api_key::{KeySpec, Scope};
use domain::organization::OrganizationFields;
use persistence::api_keys::{self, ApiKeyRow};
use persistence::organizations::{self, NewOrganization, OrganizationRow};
use persistence::AnyConnection;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use validator::Validate;

use super::{utc, validation};
use crate::auth::keys::issue_api_key;
use crate::auth::principal::Admin;
use crate::error::{ApiError, Reply};
use crate::http::extract::{Body, Id, IdempotencyKey};
use crate::http::idempotency::{Created, Once};
use crate::http::pagination::{PageQuery, Paging};
use crate::http::{etag, pagination};
use crate::openapi::path;
use crate::state::AppState;
use crate::{keyed_by_id, page_type};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_organization)
        .service(list_organizations)
        .service(get_organization)
        .service(create_api_key)
        .service(list_api_keys)
        .service(revoke_api_key);
}

#[derive(Debug, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct OrganizationRequest {
    #[validate(length(min = 1, max = 120))]
    #[schema(value_type = crate::schema::OrganizationName, example = "Aid to Artisans")]
    pub name: String,
    #[schema(value_type = Option<crate::schema::WebUrl>, example = "https://aidtoartisans.example")]
    pub website: Option<String>,
    #[schema(value_type = Option<crate::schema::CountryCode>, example = "US")]
    pub country: Option<String>,
    #[validate(length(max = 2000))]
    #[serde(default)]
    #[schema(value_type = crate::schema::DescriptionText)]
    pub description: String,
}

impl OrganizationRequest {
    /// Checks every field; all problems are reported together.
    fn validate_all(self) -> Result<NewOrganization, ApiError> {
        self.validate().map_err(validation)?;
        let fields = OrganizationFields::parse(
            &self.name,
            self.website.as_deref(),
            self.country.as_deref(),
            &self.description,
        )?;
        Ok(NewOrganization {
            name: fields.name,
            website: fields.website,
            country: fields.country,
            description: fields.description,
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Organization {
    #[schema(format = Uuid)]
    pub id: String,
    pub name: String,
    pub website: Option<String>,
    pub country: Option<String>,
    pub description: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl From<OrganizationRow> for Organization {
    fn from(row: OrganizationRow) -> Self {
        Self {
            id: row.id,
            name: row.name,
            website: row.website,
            country: row.country,
            description: row.description,
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
            version: row.version,
        }
    }
}

page_type!(OrganizationPage, Organization);
keyed_by_id!(Organization);

/// Register a partner organization (admins).
#[utoipa::path(
    tag = "organizations",
    operation_id = "createOrganization",
    request_body = OrganizationRequest,
    params(crate::http::extract::IdempotencyKeyHeader),
    security(("bearer_auth" = [])),
    responses(
        (status = 201, description = "The organization", body = Organization,
            headers(("Location" = String, description = "The new organization"))),
        crate::openapi::WriteProblems,
    )
)]
#[post("/organizations")]
pub async fn create_organization(
    state: web::Data<AppState>,
    Admin(admin): Admin,
    key: IdempotencyKey,
    body: Body<OrganizationRequest>,
) -> Reply {
    let request = body.into_inner();
    Once::optional(&state, admin.key(), key, "create-organization")
        .write(request, move |conn, request| {
            let new = request.validate_all()?;
            let row = organizations::create(conn, new)?;
            let location = format!("/v1/organizations/{}", row.id);
            let version = row.version;
            Ok(Created::new(&Organization::from(row))?
                .location(location)
                .etag(version))
        })
        .await
}

/// List partner organizations, newest first (admins).
#[utoipa::path(
    tag = "organizations",
    operation_id = "listOrganizations",
    params(PageQuery),
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "One page of organizations", body = OrganizationPage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when more pages follow"))),
        crate::openapi::ReadProblems,
    )
)]
#[get("/organizations")]
pub async fn list_organizations(state: web::Data<AppState>, _: Admin, paging: Paging) -> Reply {
    pagination::newest(&state, &paging, |conn, seek| {
        Ok(organizations::list(conn, seek)?.map(Organization::from))
    })
    .await
}

fn find_organization(conn: &mut AnyConnection, id: &str) -> Result<OrganizationRow, ApiError> {
    organizations::find(conn, id)?.ok_or(ApiError::NotFound)
}

/// Read a partner organization (admins).
#[utoipa::path(
    tag = "organizations",
    operation_id = "getOrganization",
    params(path::Organization),
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "The organization", body = Organization,
            headers(("ETag" = String, description = "Current version"))),
        crate::openapi::ReadProblems,
    )
)]
#[get("/organizations/{id}")]
pub async fn get_organization(state: web::Data<AppState>, _: Admin, Id(id): Id) -> Reply {
    let row = state.db(move |conn| find_organization(conn, &id)).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(row.version)))
        .json(Organization::from(row)))
}

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum ScopeName {
    #[serde(rename = "directory:read")]
    DirectoryRead,
    #[serde(rename = "programs:write")]
    ProgramsWrite,
    #[serde(rename = "impact:read")]
    ImpactRead,
    #[serde(rename = "webhooks:manage")]
    WebhooksManage,
    #[serde(rename = "partnerships:read")]
    PartnershipsRead,
}

impl From<ScopeName> for Scope {
    fn from(s: ScopeName) -> Self {
        match s {
            ScopeName::DirectoryRead => Scope::DirectoryRead,
            ScopeName::ProgramsWrite => Scope::ProgramsWrite,
            ScopeName::ImpactRead => Scope::ImpactRead,
            ScopeName::WebhooksManage => Scope::WebhooksManage,
            ScopeName::PartnershipsRead => Scope::PartnershipsRead,
        }
    }
}

impl From<Scope> for ScopeName {
    fn from(s: Scope) -> Self {
        match s {
            Scope::DirectoryRead => ScopeName::DirectoryRead,
            Scope::ProgramsWrite => ScopeName::ProgramsWrite,
            Scope::ImpactRead => ScopeName::ImpactRead,
            Scope::WebhooksManage => ScopeName::WebhooksManage,
            Scope::PartnershipsRead => ScopeName::PartnershipsRead,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyRequest {
    /// What the key is for, e.g. "directory sync".
    #[validate(length(min = 1, max = 80))]
    #[schema(value_type = crate::schema::KeyName)]
    pub name: String,
    #[validate(length(min = 1, max = 5))]
    #[schema(value_type = crate::schema::ScopeList)]
    pub scopes: Vec<ScopeName>,
    /// Optional expiry, in the future (RFC 3339). Parsed by the handler so
    /// that a malformed time is reported like any other rule (422).
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub expires_at: Option<String>,
}

/// An API key as listed: never its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKey {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub organization_id: String,
    pub name: String,
    /// The first characters of the key, to recognise it.
    #[schema(example = "ac_1f2e3d4c")]
    pub prefix: String,
    pub scopes: Vec<ScopeName>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<ApiKeyRow> for ApiKey {
    fn from(row: ApiKeyRow) -> Self {
        Self {
            scopes: row.scopes().into_iter().map(ScopeName::from).collect(),
            id: row.id,
            organization_id: row.organization_id,
            name: row.name,
            prefix: row.prefix,
            created_at: utc(row.created_at),
            last_used_at: row.last_used_at.map(utc),
            expires_at: row.expires_at.map(utc),
            revoked_at: row.revoked_at.map(utc),
        }
    }
}

/// A newly issued key: the only response that ever contains `key`.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedApiKey {
    /// The secret. Store it now; it cannot be shown again.
    pub key: String,
    #[serde(flatten)]
    pub api_key: ApiKey,
}

page_type!(ApiKeyPage, ApiKey);
keyed_by_id!(ApiKey);

impl ApiKeyRequest {
    fn validate_all(self) -> Result<KeySpec, ApiError> {
        self.validate().map_err(validation)?;
        let scopes = self.scopes.into_iter().map(Scope::from).collect();
        Ok(KeySpec::parse(
            &self.name,
            scopes,
            self.expires_at.as_deref(),
            persistence::now(),
        )?)
    }
}

/// Issue an API key for an organization (admins). The response is the
/// only time the key is shown.
#[utoipa::path(
    tag = "organizations",
    operation_id = "createApiKey",
    params(path::Organization, crate::http::extract::IdempotencyKeyHeader),
    request_body = ApiKeyRequest,
    security(("bearer_auth" = [])),
    responses(
        (status = 201, description = "The key, with its secret", body = IssuedApiKey,
            headers(("Location" = String, description = "The organization's key list"))),
        crate::openapi::WriteProblems,
    )
)]
#[post("/organizations/{id}/api-keys")]
pub async fn create_api_key(
    state: web::Data<AppState>,
    Admin(admin): Admin,
    Id(id): Id,
    key: IdempotencyKey,
    body: Body<ApiKeyRequest>,
) -> Reply {
    let organization_id = id.to_string();
    let request = body.into_inner();
    let route = format!("create-api-key:{organization_id}");
    let minted = state.keys.mint_api_key();
    Once::optional(&state, admin.key(), key, route)
        .write(request, move |conn, request| {
            let spec = request.validate_all()?;
            let org = organization_id.clone();
            let row = issue_api_key(conn, &org, &minted, spec)?;
            let issued = IssuedApiKey {
                key: minted.secret.expose().to_owned(),
                api_key: row.into(),
            };
            Ok(Created::new(&issued)?
                .location(format!("/v1/organizations/{organization_id}/api-keys")))
        })
        .await
}

/// An organization's keys, newest first (admins). Secrets are never listed.
#[utoipa::path(
    tag = "organizations",
    operation_id = "listApiKeys",
    params(path::Organization, PageQuery),
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "One page of keys", body = ApiKeyPage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when more pages follow"))),
        crate::openapi::ReadProblems,
    )
)]
#[get("/organizations/{id}/api-keys")]
pub async fn list_api_keys(
    state: web::Data<AppState>,
    _: Admin,
    Id(id): Id,
    paging: Paging,
) -> Reply {
    pagination::newest(&state, &paging, move |conn, seek| {
        find_organization(conn, &id)?;
        Ok(api_keys::list_for_organization(conn, &id, seek)?.map(ApiKey::from))
    })
    .await
}

/// Revoke an API key at once (admins). Revoking twice is harmless.
#[utoipa::path(
    tag = "organizations",
    operation_id = "revokeApiKey",
    params(("id" = Uuid, Path, description = "API key id")),
    security(("bearer_auth" = [])),
    responses(
        (status = 204, description = "Revoked"),
        crate::openapi::WriteProblems,
    )
)]
#[delete("/api-keys/{id}")]
pub async fn revoke_api_key(state: web::Data<AppState>, _: Admin, Id(id): Id) -> Reply {
    state
        .db(move |conn| Ok(api_keys::revoke(conn, &id)?))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
