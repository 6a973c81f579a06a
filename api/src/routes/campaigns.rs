//! Giving back together: campaigns that agreements feed through
//! beneficiary shares naming them, and what they raised. Public to every
//! signed-in user.

use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use domain::campaign::{CampaignFields, CampaignInput};
use persistence::campaigns::{self as store, CampaignFilter, CampaignRow, CampaignView};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::utc;
use crate::auth::principal::User;
use crate::error::Reply;
use crate::http::extract::{Body, Id, IdempotencyKey};
use crate::http::idempotency::{Created, Once};
use crate::http::pagination::{self, PageQuery, Paging};
use crate::state::AppState;
use crate::views::Money;
use crate::{keyed_by_id, page_type};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_campaign)
        .service(list_campaigns)
        .service(get_campaign);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Campaign {
    #[schema(format = Uuid)]
    pub id: String,
    pub title: String,
    pub cause: String,
    /// Who receives what the campaign raises.
    pub beneficiary_name: String,
    pub url: Option<String>,
    pub goal: Money,
    /// Sales from this day to `ends_on` (both included) count.
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    /// The collective running it, if one does.
    #[schema(format = Uuid)]
    pub collective_id: Option<String>,
    #[schema(format = Uuid)]
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

impl From<CampaignRow> for Campaign {
    fn from(r: CampaignRow) -> Self {
        Self {
            id: r.id,
            title: r.title,
            cause: r.cause,
            beneficiary_name: r.beneficiary_name,
            url: r.url,
            goal: Money {
                amount_minor: r.goal_minor,
                currency: r.goal_currency,
            },
            starts_on: r.starts_on,
            ends_on: r.ends_on,
            collective_id: r.collective_id,
            created_by: r.created_by,
            created_at: utc(r.created_at),
        }
    }
}

/// What a campaign raised in one currency.
#[derive(Debug, Serialize, ToSchema)]
pub struct RaisedAmount {
    #[schema(value_type = crate::schema::CurrencyCode)]
    pub currency: String,
    /// Net of refunds.
    pub amount_minor: i64,
}

/// What one partnership gave, or (`anonymous`) every share that gives
/// without public credit.
#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignContributor {
    /// The partnership's title, or `anonymous`.
    pub name: String,
    pub anonymous: bool,
    #[schema(value_type = crate::schema::CurrencyCode)]
    pub currency: String,
    pub amount_minor: i64,
}

/// A campaign with what it raised: the net (after refunds) of the
/// allocation lines of beneficiary shares naming it, from sales inside its
/// dates.
#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignReport {
    #[serde(flatten)]
    pub campaign: Campaign,
    pub raised: Vec<RaisedAmount>,
    pub contributors: Vec<CampaignContributor>,
}

impl From<CampaignView> for CampaignReport {
    fn from(v: CampaignView) -> Self {
        Self {
            campaign: v.row.into(),
            raised: v
                .raised
                .into_iter()
                .map(|r| RaisedAmount {
                    currency: r.currency,
                    amount_minor: r.amount,
                })
                .collect(),
            contributors: v
                .contributors
                .into_iter()
                .map(|c| CampaignContributor {
                    anonymous: c.partnership_id.is_none(),
                    name: c.title.unwrap_or_else(|| "anonymous".to_owned()),
                    currency: c.currency,
                    amount_minor: c.amount,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCampaign {
    #[schema(value_type = crate::schema::OrganizationName)]
    pub title: String,
    #[schema(value_type = crate::schema::Cause)]
    pub cause: String,
    #[schema(value_type = crate::schema::OrganizationName)]
    pub beneficiary_name: String,
    #[serde(default)]
    #[schema(value_type = Option<crate::schema::WebUrl>)]
    pub url: Option<String>,
    pub goal: Money,
    pub starts_on: NaiveDate,
    /// On or after `starts_on`, within five years.
    pub ends_on: NaiveDate,
    /// A collective you coordinate, when it runs the campaign.
    #[serde(default)]
    pub collective_id: Option<Uuid>,
}

/// Start a giving-back campaign (any artisan; a collective's only by its
/// coordinators). Agreements feed it through beneficiary shares naming it.
#[utoipa::path(
    tag = "giving-back",
    operation_id = "createCampaign",
    request_body = NewCampaign,
    params(crate::http::extract::IdempotencyKeyHeader),
    security(("bearer_auth" = [])),
    responses(
        (status = 201, description = "The campaign", body = Campaign,
            headers(("Location" = String, description = "The campaign"))),
        crate::openapi::WriteProblems,
    )
)]
#[post("/campaigns")]
pub async fn create_campaign(
    state: web::Data<AppState>,
    user: User,
    key: IdempotencyKey,
    body: Body<NewCampaign>,
) -> Reply {
    let viewer = user.viewer();
    Once::optional(&state, user.key(), key, "create-campaign")
        .write(body.into_inner(), move |conn, request| {
            let fields = CampaignFields::parse(CampaignInput {
                title: request.title,
                cause: request.cause,
                beneficiary_name: request.beneficiary_name,
                url: request.url,
                goal_minor: request.goal.amount_minor,
                goal_currency: request.goal.currency,
                starts_on: request.starts_on,
                ends_on: request.ends_on,
            })?;
            let collective = request.collective_id.map(|c| c.to_string());
            let row = { store::create(conn, &viewer, &fields, collective.as_deref())? };
            let campaign = Campaign::from(row);
            Ok(Created::new(&campaign)?.location(format!("/v1/campaigns/{}", campaign.id)))
        })
        .await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CampaignQuery {
    /// `true`: open today; `false`: not open today (not yet, or over).
    pub active: Option<bool>,
    /// Only the campaigns of this collective.
    pub collective_id: Option<Uuid>,
}

page_type!(CampaignPage, Campaign);
keyed_by_id!(Campaign);

/// Campaigns, newest first.
#[utoipa::path(
    tag = "giving-back",
    operation_id = "listCampaigns",
    params(CampaignQuery, PageQuery),
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "One page of campaigns", body = CampaignPage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when more pages follow"))),
        crate::openapi::ReadProblems,
    )
)]
#[get("/campaigns")]
pub async fn list_campaigns(
    state: web::Data<AppState>,
    _: User,
    paging: Paging,
    query: web::Query<CampaignQuery>,
) -> Reply {
    let filter = CampaignFilter {
        active: query.active,
        collective_id: query.collective_id.map(|c| c.to_string()),
    };
    pagination::newest(&state, &paging, move |conn, seek| {
        Ok(store::list(conn, &filter, seek)?.map(Campaign::from))
    })
    .await
}

/// Read a campaign with what it raised per currency and who gave it.
#[utoipa::path(
    tag = "giving-back",
    operation_id = "getCampaign",
    params(("id" = Uuid, Path, description = "Campaign id")),
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "The campaign and its totals", body = CampaignReport),
        crate::openapi::ReadProblems,
    )
)]
#[get("/campaigns/{id}")]
pub async fn get_campaign(state: web::Data<AppState>, _: User, Id(id): Id) -> Reply {
    let view = state.db(move |conn| Ok(store::find(conn, &id)?)).await?;
    Ok(HttpResponse::Ok().json(CampaignReport::from(view)))
}
