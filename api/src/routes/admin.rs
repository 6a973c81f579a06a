//! Administration of accounts: suspension and reinstatement, and the audit
//! log that records them (with what the command line does). Admins only:
//! everyone else gets 403, as the whole function is forbidden to them.

use actix_web::{delete, get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use domain::account::{AccountStatus, AdminAction};
use persistence::users::{self, AdminActor, AuditRow, UserRow};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::utc;
use crate::auth::principal::Admin;
use crate::error::Reply;
use crate::http::extract::{Body, Id};
use crate::http::pagination;
use crate::http::pagination::{PageQuery, Paging};
use crate::state::AppState;
use crate::{keyed_by_id, page_type};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(suspend).service(reinstate).service(audit_log);
}

mirror_enum!(AccountState <=> AccountStatus { Active, Suspended, Closed });
mirror_enum!(AdminActionName <=> AdminAction { Suspend, Reinstate });

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AdminChannel {
    Api,
    Cli,
}

/// One thing an administrator did to an account.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntry {
    #[schema(format = Uuid)]
    pub id: String,
    pub action: AdminActionName,
    #[schema(format = Uuid)]
    pub target_user_id: String,
    /// The administrator; `null` when done from the command line.
    #[schema(format = Uuid)]
    pub actor_id: Option<String>,
    pub via: AdminChannel,
    pub reason: String,
    pub occurred_at: DateTime<Utc>,
}

impl From<AuditRow> for AuditEntry {
    fn from(row: AuditRow) -> Self {
        let action = AdminAction::parse(&row.action).unwrap_or(AdminAction::Suspend);
        Self {
            id: row.id,
            action: action.into(),
            target_user_id: row.target_user_id,
            actor_id: row.actor_id,
            via: if row.via == "cli" {
                AdminChannel::Cli
            } else {
                AdminChannel::Api
            },
            reason: row.reason,
            occurred_at: utc(row.occurred_at),
        }
    }
}

page_type!(AuditPage, AuditEntry);
keyed_by_id!(AuditEntry);

/// An account's standing after an administrator acted on it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountStanding {
    #[schema(format = Uuid)]
    pub user_id: String,
    pub status: AccountState,
    /// The audit log entry of this change.
    pub entry: AuditEntry,
}

fn standing((user, entry): (UserRow, AuditRow)) -> AccountStanding {
    AccountStanding {
        status: user.status().into(),
        user_id: user.id,
        entry: entry.into(),
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuspensionRequest {
    /// Why, for the audit log (1–2000 characters).
    #[schema(min_length = 1, max_length = 2000)]
    pub reason: String,
}

/// Suspend an account (admins): every refresh token is revoked and the
/// next request with a live access token is refused (401). Already
/// suspended, closed, or your own account → 409.
#[utoipa::path(
    tag = "admin",
    operation_id = "suspendUser",
    params(("id" = Uuid, Path, description = "The account (user id)")),
    request_body = SuspensionRequest,
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "The account is suspended", body = AccountStanding),
        crate::openapi::WriteProblems,
    )
)]
#[post("/admin/users/{id}/suspension")]
pub async fn suspend(
    state: web::Data<AppState>,
    Admin(admin): Admin,
    Id(id): Id,
    body: Body<SuspensionRequest>,
) -> Reply {
    let why = domain::account::reason(&body.reason)?;
    let target = id.to_string();
    let changed = state
        .db(move |conn| {
            Ok(users::set_suspension(
                conn,
                &target,
                AdminActor::Admin(&admin.id),
                AdminAction::Suspend,
                &why,
            )?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(standing(changed)))
}

/// Reinstate a suspended account (admins). Not suspended → 409.
#[utoipa::path(
    tag = "admin",
    operation_id = "reinstateUser",
    params(("id" = Uuid, Path, description = "The account (user id)")),
    security(("bearer_auth" = [])),
    responses(
        (status = 204, description = "The account is active again"),
        crate::openapi::WriteProblems,
    )
)]
#[delete("/admin/users/{id}/suspension")]
pub async fn reinstate(state: web::Data<AppState>, Admin(admin): Admin, Id(id): Id) -> Reply {
    let target = id.to_string();
    state
        .db(move |conn| {
            Ok(users::set_suspension(
                conn,
                &target,
                AdminActor::Admin(&admin.id),
                AdminAction::Reinstate,
                "",
            )?)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only entries about this account.
    pub target_user_id: Option<Uuid>,
}

/// The admin audit log, newest first (admins).
#[utoipa::path(
    tag = "admin",
    operation_id = "listAuditLog",
    params(AuditQuery, PageQuery),
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "One page of the audit log", body = AuditPage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when more pages follow"))),
        crate::openapi::ReadProblems,
    )
)]
#[get("/admin/audit-log")]
pub async fn audit_log(
    state: web::Data<AppState>,
    _: Admin,
    paging: Paging,
    query: web::Query<AuditQuery>,
) -> Reply {
    let target = query.into_inner().target_user_id.map(|id| id.to_string());
    pagination::newest(&state, &paging, move |conn, seek| {
        Ok(users::audit_log(conn, target.as_deref(), seek)?.map(AuditEntry::from))
    })
    .await
}
