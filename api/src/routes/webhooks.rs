//! Webhook endpoints of partner organizations (API keys with
//! `webhooks:manage`): register a URL for some event types and get its
//! signing secret once; list, change, disable and delete; send a test
//! message; read the deliveries log and redeliver. Delivery itself is the
//! worker's ([`crate::webhooks`]).

use actix_web::{delete, get, patch, post, web, HttpResponse};
use chrono::{DateTime, NaiveDateTime, Utc};
use domain::text;
use domain::webhook::{parse_event_filter, EndpointUrl, EventType};
use domain::{FieldError, FieldErrors};
use persistence::webhooks::{self as store, DeliveryView, EndpointPatch, EndpointRow};
use persistence::{AnyConnection, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::utc;
use crate::auth::principal::{scope, Granted};
use crate::error::Reply;
use crate::http::extract::{Body, Id, IdempotencyKey, Ids, IfMatch};
use crate::http::idempotency::{Created, Once};
use crate::http::ok_with_etag;
use crate::http::pagination::{self, PageQuery, Paging};
use crate::openapi::path;
use crate::state::AppState;
use crate::webhooks::{checked_addresses, new_secret, secret_context};
use crate::{keyed_by_id, page_type};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_endpoint)
        .service(list_endpoints)
        .service(get_endpoint)
        .service(update_endpoint)
        .service(delete_endpoint)
        .service(test_endpoint)
        .service(list_deliveries)
        .service(redeliver);
}

/// The events partners subscribe to: the one event enum of the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum WebhookEventType {
    #[serde(rename = "partnership.activated")]
    PartnershipActivated,
    #[serde(rename = "agreement.activated")]
    AgreementActivated,
    #[serde(rename = "agreement.superseded")]
    AgreementSuperseded,
    #[serde(rename = "settlement.created")]
    SettlementCreated,
    #[serde(rename = "workshop.created")]
    WorkshopCreated,
    #[serde(rename = "event.created")]
    EventCreated,
    #[serde(rename = "program.application.created")]
    ProgramApplicationCreated,
}

impl From<EventType> for WebhookEventType {
    fn from(e: EventType) -> Self {
        match e {
            EventType::PartnershipActivated => Self::PartnershipActivated,
            EventType::AgreementActivated => Self::AgreementActivated,
            EventType::AgreementSuperseded => Self::AgreementSuperseded,
            EventType::SettlementCreated => Self::SettlementCreated,
            EventType::WorkshopCreated => Self::WorkshopCreated,
            EventType::EventCreated => Self::EventCreated,
            EventType::ProgramApplicationCreated => Self::ProgramApplicationCreated,
        }
    }
}

/// A registered endpoint (never its secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookEndpoint {
    #[schema(format = Uuid)]
    pub id: String,
    pub url: String,
    pub events: Vec<WebhookEventType>,
    pub description: String,
    /// `false` when its owner disabled it or it failed for days
    /// (`disabled_reason` then says so); nothing is sent while disabled.
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    /// Since when every attempt failed (`null` after a success).
    pub failing_since: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl From<EndpointRow> for WebhookEndpoint {
    fn from(r: EndpointRow) -> Self {
        Self {
            events: r.event_types().into_iter().map(Into::into).collect(),
            id: r.id,
            url: r.url,
            description: r.description,
            enabled: r.enabled,
            disabled_reason: r.disabled_reason,
            failing_since: r.failing_since.map(utc),
            created_at: utc(r.created_at),
            updated_at: utc(r.updated_at),
            version: r.version,
        }
    }
}

/// A new endpoint with its signing secret — shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedWebhookEndpoint {
    /// `whsec_` and 32 random bytes in base64: the key of the
    /// `webhook-signature` HMAC (Standard Webhooks). Stored only sealed.
    pub secret: String,
    pub endpoint: WebhookEndpoint,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhookEndpoint {
    /// `https://` with a public host (`http://` and private addresses only
    /// when the server allows private networks).
    #[schema(
        max_length = 2048,
        example = "https://hooks.example.org/artisan-commons"
    )]
    pub url: String,
    /// The event types to receive, each once.
    #[schema(value_type = Vec<WebhookEventType>, min_items = 1)]
    pub events: Vec<String>,
    #[serde(default)]
    #[schema(value_type = Option<crate::schema::DescriptionText>)]
    pub description: Option<String>,
}

/// A change to an endpoint; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookEndpointChange {
    #[schema(
        max_length = 2048,
        example = "https://hooks.example.org/artisan-commons"
    )]
    pub url: Option<String>,
    #[schema(value_type = Option<Vec<WebhookEventType>>, min_items = 1)]
    pub events: Option<Vec<String>>,
    #[schema(value_type = Option<crate::schema::DescriptionText>)]
    pub description: Option<String>,
    /// `true` enables a disabled endpoint again (clearing why).
    pub enabled: Option<bool>,
}

/// One attempt to deliver.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookAttempt {
    pub attempted_at: DateTime<Utc>,
    /// The receiver's status, when it answered.
    pub status_code: Option<i32>,
    /// Why the attempt failed (`null` when it succeeded).
    pub error: Option<String>,
    pub duration_ms: i64,
}

/// `pending` (waiting for its next attempt), `succeeded`, `failed` (every
/// attempt failed) or `cancelled` (the partnership stopped being shared).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WebhookDeliveryStatus {
    Pending,
    Succeeded,
    Failed,
    Cancelled,
}

impl WebhookDeliveryStatus {
    fn of(status: &str) -> Self {
        match status {
            store::SUCCEEDED => Self::Succeeded,
            store::FAILED => Self::Failed,
            store::CANCELLED => Self::Cancelled,
            _ => Self::Pending,
        }
    }
}

/// One event sent (or to be sent) to one endpoint, with its attempts,
/// newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookDelivery {
    #[schema(format = Uuid)]
    pub id: String,
    /// The `webhook-id` header: the same on every attempt.
    pub event_id: String,
    /// An event type, or `webhook.test`.
    pub event_type: String,
    pub status: WebhookDeliveryStatus,
    pub attempts: i32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// The body sent: `{type, timestamp, data}`.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    pub attempt_log: Vec<WebhookAttempt>,
}

impl From<DeliveryView> for WebhookDelivery {
    fn from(v: DeliveryView) -> Self {
        let d = v.delivery;
        Self {
            payload: serde_json::from_str(&d.body).unwrap_or_default(),
            status: WebhookDeliveryStatus::of(&d.status),
            id: d.id,
            event_id: d.event_id,
            event_type: d.event_type,
            attempts: d.attempts,
            next_attempt_at: d.next_attempt_at.map(utc),
            last_attempt_at: d.last_attempt_at.map(utc),
            created_at: utc(d.created_at),
            attempt_log: v
                .attempts
                .into_iter()
                .map(|a| WebhookAttempt {
                    attempted_at: utc(a.attempted_at),
                    status_code: a.status_code,
                    error: a.error,
                    duration_ms: a.duration_ms,
                })
                .collect(),
        }
    }
}

page_type!(WebhookEndpointPage, WebhookEndpoint);
keyed_by_id!(WebhookEndpoint);
page_type!(WebhookDeliveryPage, WebhookDelivery);
keyed_by_id!(WebhookDelivery);

/// The URL, checked by the rules and — when its host resolves — by where
/// it resolves to. A host that does not resolve now is accepted: every
/// delivery resolves and checks it again.
async fn checked_url(state: &AppState, raw: &str) -> Result<String, FieldError> {
    let allow = state.settings.webhooks_allow_private_networks;
    let url = EndpointUrl::parse(raw, allow)?;
    let lookup = tokio::net::lookup_host((url.host().to_owned(), url.port()));
    if let Ok(Ok(found)) = tokio::time::timeout(DNS_TIMEOUT, lookup).await {
        checked_addresses(url.host(), found.collect(), allow)
            .map_err(|message| FieldError::new("url", "private_network", message))?;
    }
    Ok(url.as_str().to_owned())
}

/// How long registration waits for the URL's host to resolve.
const DNS_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// Register an endpoint (API keys with `webhooks:manage`). The response
/// is the only time its signing secret is shown.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "createWebhookEndpoint",
    request_body = NewWebhookEndpoint,
    params(crate::http::extract::IdempotencyKeyHeader),
    security(("api_key" = [])),
    responses(
        (status = 201, description = "The endpoint and its secret", body = CreatedWebhookEndpoint,
            headers(("Location" = String, description = "The endpoint"), ("ETag" = String, description = "Its version"))),
        crate::openapi::WriteProblems,
    )
)]
#[post("/webhook-endpoints")]
pub async fn create_endpoint(
    state: web::Data<AppState>,
    Granted(partner, _): Granted<scope::WebhooksManage>,
    key: IdempotencyKey,
    body: Body<NewWebhookEndpoint>,
) -> Reply {
    let owner = partner.key();
    // Checked (the URL's addresses resolved) before the key is looked at:
    // the endpoint and its stored answer are then written in one
    // transaction (`Once::write`).
    let request = body.into_inner();
    let mut errors = FieldErrors::default();
    let url = errors.take(checked_url(&state, &request.url).await);
    let events = errors.take(parse_event_filter(&request.events));
    let description = errors.take(text::prose(
        "description",
        request.description.as_deref().unwrap_or(""),
    ));
    let checked = errors.finish(|| (url, events, description))?;
    let (Some(url), Some(events), Some(description)) = checked else {
        unreachable!("no field errors means every field was checked");
    };
    let secret = new_secret();
    let id = Uuid::now_v7().to_string();
    let secret_sealed = state.keys.seal(secret.as_bytes(), &secret_context(&id));
    Once::optional(&state, owner, key, "create-webhook-endpoint")
        .write(request, move |conn, _| {
            let now = persistence::now();
            let row = EndpointRow {
                secret_sealed,
                id,
                organization_id: partner.organization_id,
                url,
                events: store::events_text(&events),
                description,
                enabled: true,
                disabled_reason: None,
                failing_since: None,
                created_at: now,
                updated_at: now,
                version: 1,
            };
            store::insert(conn, &row)?;
            let endpoint = WebhookEndpoint::from(row);
            let (id, version) = (endpoint.id.clone(), endpoint.version);
            Ok(Created::new(&CreatedWebhookEndpoint { secret, endpoint })?
                .location(format!("/v1/webhook-endpoints/{id}"))
                .etag(version))
        })
        .await
}

/// The organization's endpoints, newest first.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "listWebhookEndpoints",
    params(PageQuery),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "One page of endpoints", body = WebhookEndpointPage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when more pages follow"))),
        crate::openapi::ReadProblems,
    )
)]
#[get("/webhook-endpoints")]
pub async fn list_endpoints(
    state: web::Data<AppState>,
    Granted(partner, _): Granted<scope::WebhooksManage>,
    paging: Paging,
) -> Reply {
    pagination::newest(&state, &paging, move |conn, seek| {
        Ok(store::list(conn, &partner.organization_id, seek)?.map(WebhookEndpoint::from))
    })
    .await
}

/// One endpoint (another organization's → 404).
#[utoipa::path(
    tag = "webhooks",
    operation_id = "getWebhookEndpoint",
    params(path::Endpoint),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "The endpoint", body = WebhookEndpoint,
            headers(("ETag" = String, description = "Its version"))),
        crate::openapi::ReadProblems,
    )
)]
#[get("/webhook-endpoints/{id}")]
pub async fn get_endpoint(
    state: web::Data<AppState>,
    Granted(partner, _): Granted<scope::WebhooksManage>,
    Id(id): Id,
) -> Reply {
    let row = state
        .db(move |conn| Ok(store::find(conn, &id, &partner.organization_id)?))
        .await?;
    let endpoint = WebhookEndpoint::from(row);
    Ok(ok_with_etag(&endpoint, endpoint.version))
}

/// Change the URL, the events or the description, or disable and enable
/// the endpoint (If-Match).
#[utoipa::path(
    tag = "webhooks",
    operation_id = "updateWebhookEndpoint",
    params(path::Endpoint, crate::http::extract::IfMatchHeader),
    request_body = WebhookEndpointChange,
    security(("api_key" = [])),
    responses(
        (status = 200, description = "The endpoint as changed", body = WebhookEndpoint,
            headers(("ETag" = String, description = "Its new version"))),
        crate::openapi::ConditionalWriteProblems,
    )
)]
#[patch("/webhook-endpoints/{id}")]
pub async fn update_endpoint(
    state: web::Data<AppState>,
    Granted(partner, _): Granted<scope::WebhooksManage>,
    Id(id): Id,
    body: Body<WebhookEndpointChange>,
    if_match: IfMatch,
) -> Reply {
    let change = body.into_inner();
    let mut errors = FieldErrors::default();
    let url = match change.url {
        Some(raw) => errors.take(checked_url(&state, &raw).await),
        None => None,
    };
    let events = change
        .events
        .and_then(|e| errors.take(parse_event_filter(&e)));
    let description = change
        .description
        .and_then(|d| errors.take(text::prose("description", &d)));
    errors.finish(|| ())?;
    let patch = EndpointPatch {
        url,
        events,
        description,
        enabled: change.enabled,
    };
    let row = state
        .db(move |conn| {
            let organization = partner.organization_id;
            Ok(store::update(conn, &id, &organization, &if_match.0, patch)?)
        })
        .await?;
    let endpoint = WebhookEndpoint::from(row);
    Ok(ok_with_etag(&endpoint, endpoint.version))
}

/// Delete an endpoint with its deliveries log (its `If-Match`); nothing
/// more is sent to it.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "deleteWebhookEndpoint",
    params(path::Endpoint, crate::http::extract::IfMatchHeader),
    security(("api_key" = [])),
    responses(
        (status = 204, description = "Deleted"),
        crate::openapi::ConditionalWriteProblems,
    )
)]
#[delete("/webhook-endpoints/{id}")]
pub async fn delete_endpoint(
    state: web::Data<AppState>,
    Granted(partner, _): Granted<scope::WebhooksManage>,
    Id(id): Id,
    if_match: IfMatch,
) -> Reply {
    state
        .db(move |conn| {
            Ok(store::delete(
                conn,
                &id,
                &partner.organization_id,
                &if_match.0,
            )?)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Queue a `webhook.test` message to the endpoint, signed like every
/// delivery; follow it in the deliveries log. A disabled endpoint sends
/// nothing: 409 until it is enabled again.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "testWebhookEndpoint",
    params(path::Endpoint),
    security(("api_key" = [])),
    responses(
        (status = 202, description = "The test delivery, due at once", body = WebhookDelivery),
        crate::openapi::WriteProblems,
    )
)]
#[post("/webhook-endpoints/{id}/test")]
pub async fn test_endpoint(
    state: web::Data<AppState>,
    Granted(partner, _): Granted<scope::WebhooksManage>,
    Id(id): Id,
) -> Reply {
    queued(&state, move |conn, now| {
        store::enqueue_test(conn, &id, &partner.organization_id, now)
    })
    .await
}

/// Queues a delivery to be sent at once (`queue` is given the time) and
/// answers 202 with it.
async fn queued(
    state: &AppState,
    queue: impl FnOnce(&mut AnyConnection, NaiveDateTime) -> Result<DeliveryView, StoreError>
        + Send
        + 'static,
) -> Reply {
    let view = state
        .db(move |conn| Ok(queue(conn, persistence::now())?))
        .await?;
    Ok(HttpResponse::Accepted().json(WebhookDelivery::from(view)))
}

/// The endpoint's deliveries, newest first, each with its attempts (not
/// those of partnerships no longer shared with the organization).
#[utoipa::path(
    tag = "webhooks",
    operation_id = "listWebhookDeliveries",
    params(path::Endpoint, PageQuery),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "One page of deliveries", body = WebhookDeliveryPage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when more pages follow"))),
        crate::openapi::ReadProblems,
    )
)]
#[get("/webhook-endpoints/{id}/deliveries")]
pub async fn list_deliveries(
    state: web::Data<AppState>,
    Granted(partner, _): Granted<scope::WebhooksManage>,
    Id(id): Id,
    paging: Paging,
) -> Reply {
    pagination::newest(&state, &paging, move |conn, seek| {
        Ok(
            store::deliveries(conn, &id, &partner.organization_id, seek)?
                .map(WebhookDelivery::from),
        )
    })
    .await
}

/// Send a delivery again from its first attempt (same `webhook-id`, so a
/// receiver that has it already can tell). A disabled endpoint: 409; a
/// delivery of a partnership no longer shared with the organization: 404.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "redeliverWebhook",
    params(
        ("id" = Uuid, Path, description = "Endpoint id"),
        ("delivery_id" = Uuid, Path, description = "Delivery id"),
    ),
    security(("api_key" = [])),
    responses(
        (status = 202, description = "The delivery, due at once", body = WebhookDelivery),
        crate::openapi::WriteProblems,
    )
)]
#[post("/webhook-endpoints/{id}/deliveries/{delivery_id}/redeliver")]
pub async fn redeliver(
    state: web::Data<AppState>,
    Granted(partner, _): Granted<scope::WebhooksManage>,
    Ids((id, delivery)): Ids<(String, String)>,
) -> Reply {
    queued(&state, move |conn, now| {
        store::redeliver(conn, &id, &delivery, &partner.organization_id, now)
    })
    .await
}

// What each message carries in `data` (documentation of the payloads the
// outbox records; OpenAPI 3.1 `webhooks`, one per event type).

/// `data` of `partnership.activated`.
#[derive(ToSchema)]
pub struct PartnershipActivatedData {
    #[schema(format = Uuid)]
    pub partnership_id: String,
}

/// `data` of `agreement.activated`.
#[derive(ToSchema)]
pub struct AgreementActivatedData {
    #[schema(format = Uuid)]
    pub agreement_id: String,
    #[schema(format = Uuid)]
    pub partnership_id: String,
    /// `original` or `amendment`.
    pub kind: String,
    pub content_hash: String,
    pub effective_from: chrono::NaiveDate,
    /// The agreement this one replaces.
    #[schema(format = Uuid)]
    pub supersedes: Option<String>,
}

/// `data` of `agreement.superseded`.
#[derive(ToSchema)]
pub struct AgreementSupersededData {
    #[schema(format = Uuid)]
    pub agreement_id: String,
    #[schema(format = Uuid)]
    pub partnership_id: String,
    pub status: String,
    #[schema(format = Uuid)]
    pub superseded_by: String,
    pub superseded_from: chrono::NaiveDate,
}

/// `data` of `settlement.created`.
#[derive(ToSchema)]
pub struct SettlementCreatedData {
    #[schema(format = Uuid)]
    pub settlement_id: String,
    #[schema(format = Uuid)]
    pub partnership_id: String,
    /// The previous settlement's `period_end`; `null` for the first.
    pub period_start: Option<chrono::NaiveDate>,
    pub period_end: chrono::NaiveDate,
}

/// `data` of `workshop.created`.
#[derive(ToSchema)]
pub struct WorkshopCreatedData {
    #[schema(format = Uuid)]
    pub workshop_id: String,
    #[schema(format = Uuid)]
    pub host_id: String,
    pub skill: String,
    pub starts_at: DateTime<Utc>,
    #[schema(format = Uuid)]
    pub collective_id: Option<String>,
}

/// `data` of `event.created`.
#[derive(ToSchema)]
pub struct EventCreatedData {
    #[schema(format = Uuid)]
    pub event_id: String,
    pub name: String,
    pub kind: String,
    pub city: String,
    pub country: String,
    pub starts_at: DateTime<Utc>,
    /// `{partnership_id}` or `{collective_id}`.
    #[schema(value_type = Object)]
    pub organizer: serde_json::Value,
}

/// `data` of `program.application.created`.
#[derive(ToSchema)]
pub struct ProgramApplicationCreatedData {
    #[schema(format = Uuid)]
    pub program_id: String,
    #[schema(format = Uuid)]
    pub application_id: String,
    #[schema(format = Uuid)]
    pub organization_id: String,
}

/// `data` of the `webhook.test` message.
#[derive(ToSchema)]
pub struct WebhookTestData {
    #[schema(format = Uuid)]
    pub endpoint_id: String,
    #[schema(format = Uuid)]
    pub organization_id: String,
}

/// The `data` schema of each message type.
fn data_schema(event: Option<EventType>) -> &'static str {
    match event {
        Some(EventType::PartnershipActivated) => "PartnershipActivatedData",
        Some(EventType::AgreementActivated) => "AgreementActivatedData",
        Some(EventType::AgreementSuperseded) => "AgreementSupersededData",
        Some(EventType::SettlementCreated) => "SettlementCreatedData",
        Some(EventType::WorkshopCreated) => "WorkshopCreatedData",
        Some(EventType::EventCreated) => "EventCreatedData",
        Some(EventType::ProgramApplicationCreated) => "ProgramApplicationCreatedData",
        None => "WebhookTestData",
    }
}

/// `webhookProgramApplicationCreated` for `program.application.created`,
/// `webhookTest` for `webhook.test`.
fn operation_id(name: &str) -> String {
    let name = name.strip_prefix("webhook.").unwrap_or(name);
    name.split(['.', '_'])
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or(String::new(), |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .fold("webhook".to_owned(), |id, word| id + &word)
}

/// The OpenAPI 3.1 `webhooks` of the document: one POST per message type,
/// with the Standard Webhooks headers and the body's schema.
pub struct WebhookMessages;

impl utoipa::Modify for WebhookMessages {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::{
            HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem,
        };
        use utoipa::openapi::request_body::RequestBodyBuilder;
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        use utoipa::openapi::{ContentBuilder, Ref, Required, ResponseBuilder};

        let header = |name: &str, description: &str| {
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Header)
                .required(Required::True)
                .description(Some(description))
                .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                .build()
        };
        let messages = EventType::ALL
            .into_iter()
            .map(Some)
            .chain([None])
            .map(|event| {
                let name = event.map_or(store::TEST_EVENT, EventType::as_str);
                let body = ObjectBuilder::new()
                    .property(
                        "type",
                        ObjectBuilder::new().schema_type(Type::String).enum_values(Some([name])),
                    )
                    .required("type")
                    .property(
                        "timestamp",
                        ObjectBuilder::new()
                            .schema_type(Type::String)
                            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
                            .description(Some("When the change happened")),
                    )
                    .required("timestamp")
                    .property("data", Ref::from_schema_name(data_schema(event)))
                    .required("data");
                let (summary, sent) = match event {
                    Some(_) => (
                        format!("`{name}` to a subscribed endpoint"),
                        "Sent as an HTTP POST to each endpoint that subscribes to the type and may see \
                         the change.",
                    ),
                    None => (
                        format!("`{name}`, when the endpoint's owner asks for it"),
                        "Sent as an HTTP POST only to the endpoint named in \
                         `POST /v1/webhook-endpoints/{id}/test`, whatever types it subscribes to \
                         (no endpoint subscribes to it).",
                    ),
                };
                let operation = OperationBuilder::new()
                    .operation_id(Some(operation_id(name)))
                    .tag("webhooks")
                    .summary(Some(summary))
                    .description(Some(format!(
                        "{sent} Verify `webhook-signature` (HMAC-SHA256 of \
                         `{{webhook-id}}.{{webhook-timestamp}}.{{body}}` keyed by the secret's bytes after \
                         `whsec_`, base64, prefixed `v1,`) before trusting the body; deduplicate on \
                         `webhook-id`, which every retry repeats."
                    )))
                    .parameter(header("webhook-id", "The message id: the same on every attempt"))
                    .parameter(header("webhook-timestamp", "Seconds since the epoch at this attempt"))
                    .parameter(header("webhook-signature", "`v1,` and the base64 HMAC-SHA256 signature"))
                    .request_body(Some(
                        RequestBodyBuilder::new()
                            .required(Some(Required::True))
                            .content("application/json", ContentBuilder::new().schema(Some(body)).build())
                            .build(),
                    ))
                    .response(
                        "2XX",
                        ResponseBuilder::new().description(
                            "Received. Any other answer, a timeout (10 s by default) or no answer is \
                             retried: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h later, plus up to 20 % jitter.",
                        ),
                    )
                    .build();
                (name.to_owned(), PathItem::new(HttpMethod::Post, operation))
            });
        let mut webhooks = openapi.webhooks.take().unwrap_or_default();
        for (name, item) in messages {
            webhooks.paths.insert(name, item);
        }
        openapi.webhooks = Some(webhooks);
    }
}
