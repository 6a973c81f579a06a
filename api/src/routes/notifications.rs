//! The signed-in person's inbox: what a mobile app shows as its list and
//! its badge. Notifications are written with the change they report and
//! never reach the person who caused it.

use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use domain::notification::NotificationKind;
use persistence::notifications::{self as store, NotificationRow};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::utc;
use crate::auth::principal::User;
use crate::error::{ApiError, Reply};
use crate::http::extract::Body;
use crate::http::pagination::{self, PageQuery, Paging};
use crate::state::AppState;
use crate::{keyed_by_id, page_type};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_notifications)
        .service(get_unread_count)
        .service(mark_read);
}

/// What happened. `agreement.activated` is also a partner event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum NotificationKindName {
    #[serde(rename = "agreement.activated")]
    AgreementActivated,
    #[serde(rename = "partnership.invited")]
    PartnershipInvitation,
    #[serde(rename = "collective.invited")]
    CollectiveInvitation,
    #[serde(rename = "agreement.awaiting_signature")]
    AgreementAwaitingSignature,
    #[serde(rename = "agreement.declined")]
    AgreementDeclined,
    #[serde(rename = "exchange.session_awaiting_confirmation")]
    SessionAwaitingConfirmation,
    #[serde(rename = "workshop.seat_assigned")]
    WorkshopSeat,
    #[serde(rename = "event.seat_assigned")]
    EventSeat,
    #[serde(rename = "event.cancelled")]
    EventCancelled,
    #[serde(rename = "collective.application_decided")]
    ApplicationDecided,
    #[serde(rename = "program.application_decided")]
    ProgramApplicationDecided,
    #[serde(rename = "settlement.payment_recorded")]
    PaymentRecorded,
}

impl From<NotificationKind> for NotificationKindName {
    fn from(kind: NotificationKind) -> Self {
        use NotificationKind as K;
        match kind {
            K::AgreementActivated => Self::AgreementActivated,
            K::PartnershipInvitation => Self::PartnershipInvitation,
            K::CollectiveInvitation => Self::CollectiveInvitation,
            K::AgreementAwaitingSignature => Self::AgreementAwaitingSignature,
            K::AgreementDeclined => Self::AgreementDeclined,
            K::SessionAwaitingConfirmation => Self::SessionAwaitingConfirmation,
            K::WorkshopSeat => Self::WorkshopSeat,
            K::EventSeat => Self::EventSeat,
            K::EventCancelled => Self::EventCancelled,
            K::ApplicationDecided => Self::ApplicationDecided,
            K::ProgramApplicationDecided => Self::ProgramApplicationDecided,
            K::PaymentRecorded => Self::PaymentRecorded,
        }
    }
}

/// What a notification is about: read it with its own endpoint.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationSubject {
    /// `partnership`, `agreement`, `collective_invitation`,
    /// `collective_application`, `program_application`,
    /// `exchange_session`, `workshop`, `event` or `settlement`.
    #[serde(rename = "type")]
    pub kind: String,
    #[schema(format = Uuid)]
    pub id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Notification {
    /// Time-ordered: pass the newest one seen as `up_to` to mark it and
    /// everything before it read.
    #[schema(format = Uuid)]
    pub id: String,
    pub kind: NotificationKindName,
    pub subject: NotificationSubject,
    /// Who caused it, when a person did.
    #[schema(format = Uuid)]
    pub actor_id: Option<String>,
    /// A few fields to show without another request (ids, a name, an
    /// amount), depending on the kind.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    pub read_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<NotificationRow> for Notification {
    type Error = ApiError;

    fn try_from(r: NotificationRow) -> Result<Self, ApiError> {
        let kind = NotificationKind::parse(&r.kind)
            .ok_or_else(|| ApiError::internal("a stored notification has an unknown kind"))?;
        Ok(Self {
            id: r.id,
            kind: kind.into(),
            subject: NotificationSubject {
                kind: r.subject_type,
                id: r.subject_id,
            },
            actor_id: r.actor_id,
            data: serde_json::from_str(&r.data).map_err(ApiError::internal)?,
            read_at: r.read_at.map(utc),
            created_at: utc(r.created_at),
        })
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NotificationQuery {
    /// `true`: only those not read yet.
    pub unread: Option<bool>,
}

page_type!(NotificationPage, Notification);
keyed_by_id!(Notification);

/// Your notifications, newest first.
#[utoipa::path(
    tag = "me",
    operation_id = "listNotifications",
    params(NotificationQuery, PageQuery),
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "One page of notifications", body = NotificationPage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when more pages follow"))),
        crate::openapi::ReadProblems,
    )
)]
#[get("/me/notifications")]
pub async fn list_notifications(
    state: web::Data<AppState>,
    user: User,
    paging: Paging,
    query: web::Query<NotificationQuery>,
) -> Reply {
    let unread = query.unread.unwrap_or(false);
    pagination::newest(&state, &paging, move |conn, seek| {
        store::list(conn, &user.id, unread, seek)?.try_map(Notification::try_from)
    })
    .await
}

/// The badge: how many notifications are unread.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnreadCount {
    pub unread_count: i64,
}

/// How many of your notifications are unread.
#[utoipa::path(
    tag = "me",
    operation_id = "getUnreadNotificationCount",
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "The unread count", body = UnreadCount),
        crate::openapi::ReadProblems,
    )
)]
#[get("/me/notifications/unread-count")]
pub async fn get_unread_count(state: web::Data<AppState>, user: User) -> Reply {
    let unread = state
        .db(move |conn| Ok(store::unread_count(conn, &user.id)?))
        .await?;
    Ok(HttpResponse::Ok().json(UnreadCount {
        unread_count: unread,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkRead {
    /// One of your notifications: it and every older one are marked read.
    pub up_to: Uuid,
}

/// Mark your notifications read up to and including `up_to` (one of
/// yours; anything else is a 422). Answers with what is still unread.
#[utoipa::path(
    tag = "me",
    operation_id = "markNotificationsRead",
    request_body = MarkRead,
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "What is still unread", body = UnreadCount),
        crate::openapi::WriteProblems,
    )
)]
#[post("/me/notifications/read")]
pub async fn mark_read(state: web::Data<AppState>, user: User, body: Body<MarkRead>) -> Reply {
    let up_to = body.into_inner().up_to.to_string();
    let unread = state
        .db(move |conn| Ok(store::mark_read(conn, &user.id, &up_to)?))
        .await?;
    Ok(HttpResponse::Ok().json(UnreadCount {
        unread_count: unread,
    }))
}
