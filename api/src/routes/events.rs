//! Shared market events: organised by a partnership or a collective,
//! visible to every signed-in user, joined by artisans up to a capacity
//! with a waitlist; the booth cost is split equally among those taking
//! part.

use actix_web::{delete, get, patch, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use domain::market_event::{
    self as rules, EventFields, EventInput, EventKind, EventPatch, EventStatus, ParticipantStatus,
};
use domain::money::MinorUnits;
use domain::FieldError;
use persistence::directory;
use persistence::market_events::{
    self as store, CostShares, EventFilter, EventView, Organizer, ParticipantRow, SalesTotal,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::utc;
use crate::auth::principal::{scope, Granted, User};
use crate::error::{ApiError, Reply};
use crate::http::extract::{Body, Id, IdempotencyKey, Ids, IfMatch};
use crate::http::idempotency::{Created, Once};
use crate::http::ok_with_etag;
use crate::http::pagination::{self, PageQuery, Paging};
use crate::http::params::{country_param, text_param};
use crate::openapi::path;
use crate::page_type;
use crate::state::AppState;
use crate::views::Money;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_event)
        .service(list_events)
        .service(get_event)
        .service(update_event)
        .service(join_event)
        .service(list_participants)
        .service(leave_event)
        .service(cost_shares)
        .service(sales_summary)
        .service(directory_events);
}

mirror_enum!(MarketEventKind <=> EventKind { PopUp, Festival, Exhibition, Fair });
mirror_enum!(MarketEventStatus <=> EventStatus { Scheduled, Cancelled });
mirror_enum!(EventParticipation <=> ParticipantStatus { Participating, Waitlisted, Left });

/// Who organises an event: exactly one of the two.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganizerRef {
    /// A partnership you are an accepted party of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partnership_id: Option<Uuid>,
    /// A collective you coordinate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collective_id: Option<Uuid>,
}

impl OrganizerRef {
    fn parse(&self) -> Result<Organizer, FieldError> {
        match (self.partnership_id, self.collective_id) {
            (Some(id), None) => Ok(Organizer::Partnership(id.to_string())),
            (None, Some(id)) => Ok(Organizer::Collective(id.to_string())),
            _ => Err(FieldError::new(
                "organizer",
                "one_of",
                "give either a partnership_id or a collective_id",
            )),
        }
    }
}

impl From<Organizer> for OrganizerRef {
    fn from(organizer: Organizer) -> Self {
        let id = |id: String| Uuid::parse_str(&id).ok();
        match organizer {
            Organizer::Partnership(p) => Self {
                partnership_id: id(p),
                collective_id: None,
            },
            Organizer::Collective(c) => Self {
                partnership_id: None,
                collective_id: id(c),
            },
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MarketEvent {
    #[schema(format = Uuid)]
    pub id: String,
    pub name: String,
    pub kind: MarketEventKind,
    pub venue: String,
    pub city: String,
    pub country: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub organizer: OrganizerRef,
    /// Split equally among those taking part (`GET …/cost-shares`).
    pub booth_cost: Option<Money>,
    /// `null`: no limit.
    pub capacity: Option<i64>,
    pub description: String,
    pub status: MarketEventStatus,
    pub cancel_reason: Option<String>,
    /// Artisans taking part (at most `capacity`).
    pub participants: i64,
    pub waitlisted: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl From<EventView> for MarketEvent {
    fn from(v: EventView) -> Self {
        let r = v.row;
        Self {
            organizer: r.organizer().into(),
            kind: r.kind().into(),
            status: r.status().into(),
            booth_cost: r
                .booth_cost_minor
                .zip(r.booth_currency)
                .map(|(amount_minor, currency)| Money {
                    amount_minor,
                    currency,
                }),
            id: r.id,
            name: r.name,
            venue: r.venue,
            city: r.city,
            country: r.country,
            starts_at: utc(r.starts_at),
            ends_at: utc(r.ends_at),
            capacity: r.capacity,
            description: r.description,
            cancel_reason: r.cancel_reason,
            participants: v.participating,
            waitlisted: v.waitlisted,
            created_at: utc(r.created_at),
            updated_at: utc(r.updated_at),
            version: r.version,
        }
    }
}

fn with_etag(event: MarketEvent) -> HttpResponse {
    ok_with_etag(&event, event.version)
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEvent {
    #[schema(value_type = crate::schema::OrganizationName)]
    pub name: String,
    pub kind: MarketEventKind,
    #[schema(value_type = crate::schema::OrganizationName)]
    pub venue: String,
    #[schema(value_type = crate::schema::Region)]
    pub city: String,
    #[schema(value_type = crate::schema::CountryCode)]
    pub country: String,
    /// In the future.
    pub starts_at: DateTime<Utc>,
    /// After `starts_at`.
    pub ends_at: DateTime<Utc>,
    pub organizer: OrganizerRef,
    #[serde(default)]
    pub booth_cost: Option<Money>,
    #[serde(default, deserialize_with = "super::optional_whole_number")]
    #[schema(minimum = 1, maximum = 10000)]
    pub capacity: Option<i64>,
    #[serde(default)]
    #[schema(value_type = crate::schema::DescriptionText)]
    pub description: String,
}

fn instant(t: DateTime<Utc>) -> chrono::NaiveDateTime {
    persistence::truncate_micros(t.naive_utc())
}

/// Organise a market event for a partnership (its accepted parties) or a
/// collective (its coordinators). Writes `event.created` to the outbox.
#[utoipa::path(
    tag = "events",
    operation_id = "createEvent",
    request_body = NewEvent,
    params(crate::http::extract::IdempotencyKeyHeader),
    security(("bearer_auth" = [])),
    responses(
        (status = 201, description = "The event", body = MarketEvent,
            headers(("Location" = String, description = "The event"), ("ETag" = String, description = "Its version"))),
        crate::openapi::WriteProblems,
    )
)]
#[post("/events")]
pub async fn create_event(
    state: web::Data<AppState>,
    user: User,
    key: IdempotencyKey,
    body: Body<NewEvent>,
) -> Reply {
    Once::optional(&state, user.key(), key, "create-event")
        .write(body.into_inner(), move |conn, request| {
            let input = EventInput {
                name: request.name,
                kind: request.kind.into(),
                venue: request.venue,
                city: request.city,
                country: request.country,
                starts_at: instant(request.starts_at),
                ends_at: instant(request.ends_at),
                booth_cost: request.booth_cost.map(|m| (m.amount_minor, m.currency)),
                capacity: request.capacity,
                description: request.description,
            };
            let mut errors = domain::FieldErrors::default();
            let organizer = errors.take(request.organizer.parse());
            let fields = match EventFields::parse(input) {
                Ok(fields) => {
                    errors.take(rules::starts_in_future(&fields, persistence::now()));
                    Some(fields)
                }
                Err(invalid) => {
                    invalid.0.into_iter().for_each(|e| errors.push(e));
                    None
                }
            };
            let (Some(organizer), Some(fields), true) = (organizer, fields, errors.is_empty())
            else {
                return Err(errors.into());
            };
            let viewer = user.viewer();
            let view = store::create(conn, &viewer, &organizer, &fields)?;
            let event = MarketEvent::from(view);
            let version = event.version;
            Ok(Created::new(&event)?
                .location(format!("/v1/events/{}", event.id))
                .etag(version))
        })
        .await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventQuery {
    #[param(value_type = Option<crate::schema::CountryCode>)]
    pub country: Option<String>,
    #[param(min_length = 1, max_length = 100)]
    pub city: Option<String>,
    #[param(inline)]
    pub kind: Option<MarketEventKind>,
    /// Only events starting at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Only events starting before this time.
    pub to: Option<DateTime<Utc>>,
    /// Only events this partnership organises.
    pub organizer_partnership_id: Option<Uuid>,
    /// Only events this collective organises.
    pub organizer_collective_id: Option<Uuid>,
}

page_type!(MarketEventPage, MarketEvent);

const BY_START: &str = "events-by-start";

impl pagination::Starts for EventView {
    fn start(&self) -> (chrono::NaiveDateTime, &str) {
        (self.row.starts_at, &self.row.id)
    }
}

/// Market events in order of their start (then id), cancelled ones
/// included (their `status` says so).
#[utoipa::path(
    tag = "events",
    operation_id = "listEvents",
    params(EventQuery, PageQuery),
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "One page of events", body = MarketEventPage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when more pages follow"))),
        crate::openapi::ReadProblems,
    )
)]
#[get("/events")]
pub async fn list_events(
    state: web::Data<AppState>,
    _: User,
    paging: Paging,
    query: web::Query<EventQuery>,
) -> Reply {
    let filter = query.into_inner().filter()?;
    let (limit, after) = paging.by_start(BY_START)?;
    let page = state
        .db(move |conn| Ok(store::list(conn, &filter, after, limit)?))
        .await?;
    Ok(pagination::starting(
        &paging,
        BY_START,
        page,
        MarketEvent::from,
    ))
}

impl EventQuery {
    fn filter(self) -> Result<EventFilter, ApiError> {
        let organizer = match (self.organizer_partnership_id, self.organizer_collective_id) {
            (Some(p), None) => Some(Organizer::Partnership(p.to_string())),
            (None, Some(c)) => Some(Organizer::Collective(c.to_string())),
            (None, None) => None,
            (Some(_), Some(_)) => {
                return Err(ApiError::bad_param(
                    "organizer_collective_id",
                    "one_of",
                    "filter by one organiser: a partnership or a collective",
                ))
            }
        };
        Ok(EventFilter {
            country: country_param("country", &self.country)?,
            city: text_param("city", &self.city, domain::text::limits::REGION)?,
            kind: self.kind.map(Into::into),
            from: self.from.map(|f| f.naive_utc()),
            to: self.to.map(|t| t.naive_utc()),
            organizer,
        })
    }
}

/// An artisan taking part who consented to be shown to partner
/// organizations.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListedParticipant {
    #[schema(format = Uuid)]
    pub artisan_id: String,
    pub display_name: String,
}

/// An event as partner organizations see it: the public event, and of
/// those taking part only the artisans who consented to be shown to
/// partners, in arrival order (`participants` stays the full count).
#[derive(Debug, Serialize, ToSchema)]
pub struct DirectoryEvent {
    #[serde(flatten)]
    pub event: MarketEvent,
    pub listed_participants: Vec<ListedParticipant>,
}

page_type!(DirectoryEventPage, DirectoryEvent);

/// Market events for partner organizations (scope `directory:read`), in
/// order of their start, with the filters of `GET /v1/events`.
#[utoipa::path(
    tag = "directory",
    operation_id = "listDirectoryEvents",
    params(EventQuery, PageQuery),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "One page of events", body = DirectoryEventPage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when more pages follow"))),
        crate::openapi::ReadProblems,
    )
)]
#[get("/directory/events")]
pub async fn directory_events(
    state: web::Data<AppState>,
    _: Granted<scope::DirectoryRead>,
    paging: Paging,
    query: web::Query<EventQuery>,
) -> Reply {
    let filter = query.into_inner().filter()?;
    let (limit, after) = paging.by_start(BY_START)?;
    let (page, mut listed) = state
        .db(move |conn| {
            let page = store::list(conn, &filter, after, limit)?;
            let ids: Vec<String> = page.rows.iter().map(|v| v.row.id.clone()).collect();
            let listed = directory::event_participants(conn, &ids)?;
            Ok((page, listed))
        })
        .await?;
    Ok(pagination::starting(&paging, BY_START, page, |view| {
        DirectoryEvent {
            listed_participants: persistence::take_rows(&mut listed, |l| l.of == view.row.id)
                .into_iter()
                .map(|l| ListedParticipant {
                    artisan_id: l.artisan_id,
                    display_name: l.display_name,
                })
                .collect(),
            event: MarketEvent::from(view),
        }
    }))
}

/// Read a market event.
#[utoipa::path(
    tag = "events",
    operation_id = "getEvent",
    params(path::Event),
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "The event", body = MarketEvent,
            headers(("ETag" = String, description = "Current version"))),
        crate::openapi::ReadProblems,
    )
)]
#[get("/events/{id}")]
pub async fn get_event(state: web::Data<AppState>, _: User, Id(id): Id) -> Reply {
    let view = state.db(move |conn| Ok(store::find(conn, &id)?)).await?;
    Ok(with_etag(MarketEvent::from(view)))
}

/// A change to an event; absent fields stay as they are. `status:
/// "cancelled"` with a `cancel_reason` cancels it (for good).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventChange {
    #[schema(value_type = Option<crate::schema::OrganizationName>)]
    pub name: Option<String>,
    pub kind: Option<MarketEventKind>,
    #[schema(value_type = Option<crate::schema::OrganizationName>)]
    pub venue: Option<String>,
    #[schema(value_type = Option<crate::schema::Region>)]
    pub city: Option<String>,
    #[schema(value_type = Option<crate::schema::CountryCode>)]
    pub country: Option<String>,
    /// A new start must be in the future.
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    /// `null` removes it.
    #[serde(default, deserialize_with = "super::present")]
    #[schema(nullable)]
    pub booth_cost: Option<Option<Money>>,
    /// `null` removes the limit; a larger capacity seats the first on the
    /// waitlist; one below those taking part is a 422.
    #[serde(default, deserialize_with = "super::present_whole_number")]
    #[schema(minimum = 1, maximum = 10000, nullable)]
    pub capacity: Option<Option<i64>>,
    #[schema(value_type = Option<crate::schema::DescriptionText>)]
    pub description: Option<String>,
    /// Only `cancelled` (with `cancel_reason`).
    pub status: Option<MarketEventStatus>,
    #[schema(value_type = Option<crate::schema::ReasonText>)]
    pub cancel_reason: Option<String>,
}

impl EventChange {
    fn into_patch(self) -> Result<EventPatch, FieldError> {
        let cancel_reason = match (self.status, self.cancel_reason) {
            (None, None) => None,
            (Some(MarketEventStatus::Cancelled), Some(reason)) => Some(reason),
            (Some(MarketEventStatus::Cancelled), None) => {
                return Err(FieldError::new(
                    "cancel_reason",
                    "required",
                    "say why the event is cancelled",
                ))
            }
            (Some(MarketEventStatus::Scheduled), _) | (None, Some(_)) => {
                return Err(FieldError::new(
                    "status",
                    "only_cancelled",
                    "an event is cancelled with status 'cancelled' and a cancel_reason; it is never scheduled again",
                ))
            }
        };
        Ok(EventPatch {
            name: self.name,
            kind: self.kind.map(Into::into),
            venue: self.venue,
            city: self.city,
            country: self.country,
            starts_at: self.starts_at.map(instant),
            ends_at: self.ends_at.map(instant),
            booth_cost: self
                .booth_cost
                .map(|cost| cost.map(|m| (m.amount_minor, m.currency))),
            capacity: self.capacity,
            description: self.description,
            cancel_reason,
        })
    }
}

/// Edit or cancel an event (the organiser's accepted parties or
/// coordinators; `If-Match`).
#[utoipa::path(
    tag = "events",
    operation_id = "updateEvent",
    request_body = EventChange,
    params(path::Event, crate::http::extract::IfMatchHeader),
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "The event", body = MarketEvent,
            headers(("ETag" = String, description = "Its new version"))),
        crate::openapi::ConditionalWriteProblems,
    )
)]
#[patch("/events/{id}")]
pub async fn update_event(
    state: web::Data<AppState>,
    user: User,
    Id(id): Id,
    body: Body<EventChange>,
    if_match: IfMatch,
) -> Reply {
    let patch = body.into_inner().into_patch()?;
    let viewer = user.viewer();
    let view = state
        .db(move |conn| Ok(store::update(conn, &id, &viewer, &if_match.0, &patch)?))
        .await?;
    Ok(with_etag(MarketEvent::from(view)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventParticipant {
    #[schema(format = Uuid)]
    pub event_id: String,
    #[schema(format = Uuid)]
    pub artisan_id: String,
    pub status: EventParticipation,
    /// Arrival order within the event (1 = first); the waitlist and the
    /// booth cost's extra units follow it.
    pub arrival: i64,
    pub joined_at: DateTime<Utc>,
    /// For `If-Match` when leaving.
    pub version: i64,
}

impl From<ParticipantRow> for EventParticipant {
    fn from(r: ParticipantRow) -> Self {
        Self {
            status: r.status().into(),
            event_id: r.event_id,
            artisan_id: r.artisan_id,
            arrival: r.arrival,
            joined_at: utc(r.created_at),
            version: r.version,
        }
    }
}

page_type!(EventParticipantPage, EventParticipant);

/// Take part in an event: a place while there is one, the waitlist when
/// it is full. Until the event starts; not once it is cancelled.
#[utoipa::path(
    tag = "events",
    operation_id = "joinEvent",
    params(path::Event, crate::http::extract::IdempotencyKeyHeader),
    security(("bearer_auth" = [])),
    responses(
        (status = 201, description = "Your participation (`participating` or `waitlisted`)", body = EventParticipant,
            headers(("Location" = String, description = "The event's participants"), ("ETag" = String, description = "Its version"))),
        crate::openapi::WriteProblems,
    )
)]
#[post("/events/{id}/participants")]
pub async fn join_event(
    state: web::Data<AppState>,
    user: User,
    Id(id): Id,
    key: IdempotencyKey,
) -> Reply {
    let route = format!("join-event:{id}");
    Once::optional(&state, user.key(), key, route)
        .write((), move |conn, ()| {
            let event = id.clone();
            let row = store::join(conn, &event, &user.id, persistence::now())?;
            let version = row.version;
            Ok(Created::new(&EventParticipant::from(row))?
                .location(format!("/v1/events/{id}/participants"))
                .etag(version))
        })
        .await
}

/// Those taking part and those waiting, in arrival order (signed-in
/// users; those who left are not listed).
#[utoipa::path(
    tag = "events",
    operation_id = "listEventParticipants",
    params(path::Event, PageQuery),
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "One page of participants", body = EventParticipantPage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when more pages follow"))),
        crate::openapi::ReadProblems,
    )
)]
#[get("/events/{id}/participants")]
pub async fn list_participants(
    state: web::Data<AppState>,
    _: User,
    Id(id): Id,
    paging: Paging,
) -> Reply {
    const BY_ARRIVAL: &str = "event-participants-by-arrival";
    let (limit, after) = paging.keyed(BY_ARRIVAL, 1)?;
    let after = after
        .map(|parts| {
            parts[0]
                .parse::<i64>()
                .map_err(|_| pagination::invalid_cursor())
        })
        .transpose()?;
    let page = state
        .db(move |conn| Ok(store::participants(conn, &id, after, limit)?))
        .await?;
    Ok(pagination::keyed(
        &paging,
        BY_ARRIVAL,
        page,
        |last| vec![last.arrival.to_string()],
        EventParticipant::from,
    ))
}

/// Leave an event (yourself), or remove a participant (the organiser's
/// accepted parties or coordinators), before it starts; the participation's
/// `If-Match`. A freed place goes to the first on the waitlist.
#[utoipa::path(
    tag = "events",
    operation_id = "leaveEvent",
    params(
        ("id" = Uuid, Path, description = "Event id"),
        ("artisan_id" = Uuid, Path, description = "The participant"),
        crate::http::extract::IfMatchHeader,
    ),
    security(("bearer_auth" = [])),
    responses((status = 204, description = "Left"), crate::openapi::ConditionalWriteProblems)
)]
#[delete("/events/{id}/participants/{artisan_id}")]
pub async fn leave_event(
    state: web::Data<AppState>,
    user: User,
    Ids((id, artisan)): Ids<(String, String)>,
    if_match: IfMatch,
) -> Reply {
    let viewer = user.viewer();
    state
        .db(move |conn| Ok(store::leave(conn, &id, &artisan, &viewer, &if_match.0)?))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// One participant's part of the booth cost.
#[derive(Debug, Serialize, ToSchema)]
pub struct CostShare {
    #[schema(format = Uuid)]
    pub artisan_id: String,
    pub amount_minor: i64,
}

/// The booth cost split equally among those taking part.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventCostShares {
    #[schema(format = Uuid)]
    pub event_id: String,
    /// `null`: the event has no booth cost (and `shares` is empty).
    pub booth_cost: Option<Money>,
    /// In join order; they sum exactly to the booth cost and differ by at
    /// most one minor unit (the earliest to join carry the extra units).
    pub shares: Vec<CostShare>,
}

impl From<CostShares> for EventCostShares {
    fn from(c: CostShares) -> Self {
        Self {
            event_id: c.event.id,
            booth_cost: c.booth_cost.map(|cost| Money {
                amount_minor: cost.amount.get(),
                currency: cost.currency.code().to_owned(),
            }),
            shares: c
                .shares
                .into_iter()
                .map(|(artisan_id, amount)| CostShare {
                    artisan_id,
                    amount_minor: amount.get(),
                })
                .collect(),
        }
    }
}

/// How the booth cost splits among those taking part: equally, exact to
/// the minor unit (largest remainder, ties by join order). For the
/// organiser's accepted parties or coordinators and for participants
/// (anyone else: 404).
#[utoipa::path(
    tag = "events",
    operation_id = "getEventCostShares",
    params(path::Event),
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "The shares", body = EventCostShares),
        crate::openapi::ReadProblems,
    )
)]
#[get("/events/{id}/cost-shares")]
pub async fn cost_shares(state: web::Data<AppState>, user: User, Id(id): Id) -> Reply {
    let viewer = user.viewer();
    let shares = state
        .db(move |conn| Ok(store::cost_shares(conn, &id, &viewer)?))
        .await?;
    Ok(HttpResponse::Ok().json(EventCostShares::from(shares)))
}

/// Sales recorded against the event: their count, gross, refunded and net
/// amounts.
#[derive(Debug, Serialize, ToSchema)]
pub struct SalesFigures {
    #[schema(value_type = crate::schema::CurrencyCode)]
    pub currency: String,
    pub sales: i64,
    pub gross_minor: i64,
    pub refunded_minor: i64,
    pub net_minor: i64,
}

/// One partnership's sales at the event, in one currency.
#[derive(Debug, Serialize, ToSchema)]
pub struct PartnershipSales {
    #[schema(format = Uuid)]
    pub partnership_id: String,
    pub title: String,
    #[serde(flatten)]
    pub figures: SalesFigures,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventSalesSummary {
    #[schema(format = Uuid)]
    pub event_id: String,
    /// Totals per currency (the sums of `partnerships`).
    pub currencies: Vec<SalesFigures>,
    /// Per partnership and currency, by currency then partnership id.
    pub partnerships: Vec<PartnershipSales>,
}

fn out_of_range() -> ApiError {
    ApiError::Internal("an event's sales summary is out of range".to_owned())
}

fn figures(
    currency: String,
    sales: i64,
    gross: MinorUnits,
    refunded: MinorUnits,
) -> Result<SalesFigures, ApiError> {
    let net = gross.checked_sub(refunded).ok_or_else(out_of_range)?;
    Ok(SalesFigures {
        currency,
        sales,
        gross_minor: gross.get(),
        refunded_minor: refunded.get(),
        net_minor: net.get(),
    })
}

impl TryFrom<(String, Vec<SalesTotal>)> for EventSalesSummary {
    type Error = ApiError;

    fn try_from((event_id, totals): (String, Vec<SalesTotal>)) -> Result<Self, ApiError> {
        let mut currencies: Vec<SalesFigures> = Vec::new();
        for currency in totals.iter().map(|t| t.currency.as_str()) {
            if currencies.iter().any(|c| c.currency == currency) {
                continue;
            }
            let of: Vec<&SalesTotal> = totals.iter().filter(|t| t.currency == currency).collect();
            let sum = |amount: fn(&SalesTotal) -> i64| {
                MinorUnits::checked_sum(of.iter().map(|t| MinorUnits::new(amount(t))))
                    .ok_or_else(out_of_range)
            };
            currencies.push(figures(
                currency.to_owned(),
                sum(|t| t.sales)?.get(),
                sum(|t| t.gross)?,
                sum(|t| t.refunded)?,
            )?);
        }
        let partnerships = totals
            .into_iter()
            .map(|t| {
                Ok(PartnershipSales {
                    figures: figures(
                        t.currency,
                        t.sales,
                        MinorUnits::new(t.gross),
                        MinorUnits::new(t.refunded),
                    )?,
                    partnership_id: t.partnership_id,
                    title: t.title,
                })
            })
            .collect::<Result<_, ApiError>>()?;
        Ok(Self {
            event_id,
            currencies,
            partnerships,
        })
    }
}

/// Gross and net sales recorded against the event (sales naming it, net
/// of their refunds), per currency and per partnership, summed in the
/// database. For the organiser's accepted parties or coordinators (anyone
/// else: 404).
#[utoipa::path(
    tag = "events",
    operation_id = "getEventSalesSummary",
    params(path::Event),
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "The summary", body = EventSalesSummary),
        crate::openapi::ReadProblems,
    )
)]
#[get("/events/{id}/sales-summary")]
pub async fn sales_summary(state: web::Data<AppState>, user: User, Id(id): Id) -> Reply {
    let viewer = user.viewer();
    let event = id.clone();
    let totals = state
        .db(move |conn| Ok(store::sales_summary(conn, &event, &viewer)?))
        .await?;
    Ok(HttpResponse::Ok().json(EventSalesSummary::try_from((id, totals))?))
}
