//! What a partner organization reads of the partnerships shared with it
//! (API keys with `partnerships:read`): names, statuses, the agreements'
//! splits and what each recipient received — never e-mails, never a
//! partnership that is not shared with it.

use actix_web::{get, web, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use domain::agreement::Recipient;
use persistence::partnerships::PartnershipRow;
use persistence::shares::{self as store, SharedPartnership};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::utc;
use crate::auth::principal::{scope, Granted};
use crate::error::{ApiError, Reply};
use crate::http::extract::Id;
use crate::http::pagination::{self, PageQuery, Paging};
use crate::openapi::path;
use crate::state::AppState;
use crate::{keyed_by_id, page_type};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_shared).service(get_shared);
}

/// A partnership as a partner organization lists it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SharedPartnershipSummary {
    #[schema(format = Uuid)]
    pub id: String,
    pub title: String,
    /// `co_branded_collection`, `market_event`, `skill_workshop`,
    /// `cooperative_project` or `other`.
    pub kind: String,
    /// `forming`, `active`, `completed` or `dissolved`.
    pub status: String,
    pub created_at: DateTime<Utc>,
}

impl From<PartnershipRow> for SharedPartnershipSummary {
    fn from(r: PartnershipRow) -> Self {
        Self {
            id: r.id,
            title: r.title,
            kind: r.kind,
            status: r.status,
            created_at: utc(r.created_at),
        }
    }
}

/// A party by its shown name only.
#[derive(Debug, Serialize, ToSchema)]
pub struct SharedParty {
    #[schema(format = Uuid)]
    pub party_id: String,
    pub display_name: String,
    /// `artisan` or `collective`.
    pub kind: String,
    /// `invited`, `accepted`, `declined` or `left`.
    pub status: String,
}

/// One share of a split: a party, or a beneficiary by name.
#[derive(Debug, Serialize, ToSchema)]
pub struct SharedShare {
    #[schema(format = Uuid)]
    pub party_id: Option<String>,
    pub beneficiary_name: Option<String>,
    pub share_bps: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SharedAgreement {
    #[schema(format = Uuid)]
    pub id: String,
    /// `original`, `amendment` or `termination`.
    pub kind: String,
    /// `active`, `declined`, `superseded` or `terminated` (drafts are not
    /// shown).
    pub status: String,
    pub effective_from: NaiveDate,
    pub effective_until: Option<NaiveDate>,
    #[schema(value_type = crate::schema::CurrencyCode)]
    pub currency: String,
    pub shares: Vec<SharedShare>,
}

payout_fields! {
    /// What one recipient received in one currency, over the whole history.
    #[derive(Debug, Serialize, ToSchema)]
    pub struct SharedPayout {
        #[schema(value_type = crate::schema::CurrencyCode)]
        pub currency: String,
        // + party_id, beneficiary_name, gross_minor, refunded_minor, net_minor
    } {}
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SharedPartnershipDetail {
    #[serde(flatten)]
    pub partnership: SharedPartnershipSummary,
    pub parties: Vec<SharedParty>,
    pub agreements: Vec<SharedAgreement>,
    pub payouts: Vec<SharedPayout>,
}

impl TryFrom<SharedPartnership> for SharedPartnershipDetail {
    type Error = ApiError;

    fn try_from(s: SharedPartnership) -> Result<Self, ApiError> {
        let agreements = s
            .agreements
            .into_iter()
            .map(|a| {
                let terms = a.terms()?;
                Ok(SharedAgreement {
                    shares: terms
                        .shares()
                        .iter()
                        .map(|share| {
                            let (party_id, beneficiary_name) = match &share.recipient {
                                Recipient::PartyId(id) => (Some(id.clone()), None),
                                Recipient::Beneficiary(b) => (None, Some(b.name.clone())),
                            };
                            SharedShare {
                                party_id,
                                beneficiary_name,
                                share_bps: share.share_bps.get(),
                            }
                        })
                        .collect(),
                    id: a.id,
                    kind: a.kind,
                    status: a.status,
                    effective_from: a.effective_from,
                    effective_until: a.effective_until,
                    currency: a.currency,
                })
            })
            .collect::<Result<Vec<_>, ApiError>>()?;
        Ok(Self {
            partnership: s.partnership.into(),
            parties: s
                .parties
                .into_iter()
                .map(|p| SharedParty {
                    kind: if p.row.artisan_id.is_some() {
                        "artisan"
                    } else {
                        "collective"
                    }
                    .to_owned(),
                    party_id: p.row.id,
                    display_name: p.display_name,
                    status: p.row.status,
                })
                .collect(),
            agreements,
            payouts: s
                .payouts
                .into_iter()
                .map(|p| {
                    Ok(SharedPayout {
                        net_minor: p.net()?,
                        currency: p.currency,
                        party_id: p.party_id,
                        beneficiary_name: p.beneficiary_name,
                        gross_minor: p.gross,
                        refunded_minor: p.refunded,
                    })
                })
                .collect::<Result<_, ApiError>>()?,
        })
    }
}

page_type!(SharedPartnershipPage, SharedPartnershipSummary);
keyed_by_id!(SharedPartnershipSummary);

/// The partnerships shared with your organization, newest first.
#[utoipa::path(
    tag = "partner",
    operation_id = "listSharedPartnerships",
    params(PageQuery),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "One page of shared partnerships", body = SharedPartnershipPage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when more pages follow"))),
        crate::openapi::ReadProblems,
    )
)]
#[get("/partner/partnerships")]
pub async fn list_shared(
    state: web::Data<AppState>,
    Granted(partner, _): Granted<scope::PartnershipsRead>,
    paging: Paging,
) -> Reply {
    pagination::newest(&state, &paging, move |conn, seek| {
        Ok(store::shared_with(conn, &partner.organization_id, seek)?
            .map(SharedPartnershipSummary::from))
    })
    .await
}

/// A partnership shared with your organization: parties by name,
/// agreements' status and split, payouts per recipient. Anything not
/// shared (or no longer): 404.
#[utoipa::path(
    tag = "partner",
    operation_id = "getSharedPartnership",
    params(path::Partnership),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "The partnership", body = SharedPartnershipDetail),
        crate::openapi::ReadProblems,
    )
)]
#[get("/partner/partnerships/{id}")]
pub async fn get_shared(
    state: web::Data<AppState>,
    Granted(partner, _): Granted<scope::PartnershipsRead>,
    Id(id): Id,
) -> Reply {
    let shared = state
        .db(move |conn| Ok(store::read_shared(conn, &partner.organization_id, &id)?))
        .await?;
    Ok(HttpResponse::Ok().json(SharedPartnershipDetail::try_from(shared)?))
}
