//! Settlements (a frozen period with one amount per recipient) and the
//! payments recorded against them. Money endpoints: `Idempotency-Key` is
//! required on every POST.

use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use domain::sale::{accounted_amount, REFERENCE};
use persistence::settlements::{self as store, Payee, SettlementView};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::utc;
use crate::auth::principal::User;
use crate::error::Reply;
use crate::http::extract::{Body, Id, IdempotencyKey};
use crate::http::idempotency::{Created, Once};
use crate::http::pagination;
use crate::http::pagination::{PageQuery, Paging, NEWEST};
use crate::openapi::path;
use crate::state::AppState;
use crate::{keyed_by_id, page_type};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create_settlement)
        .service(list_settlements)
        .service(get_settlement)
        .service(record_payment);
}

sharing_fields! {
    // The currency and the recipient (a party or a named beneficiary) of a
    // settlement's line, and of each payment made against it.
    {
        #[schema(value_type = crate::schema::CurrencyCode)]
        pub currency: String,
        /// The party, for a party recipient.
        #[schema(format = Uuid)]
        pub party_id: Option<String>,
        /// The beneficiary's name, for a beneficiary.
        pub beneficiary_name: Option<String>,
    }

    /// What one recipient is owed by the settlement, and how much is paid.
    #[derive(Debug, Serialize, ToSchema)]
    pub struct SettlementLine {} {
        /// What the recipient is owed for the period: `allocated_minor −
        /// expenses_share_minor + reimbursed_minor`; negative when it owes the
        /// others (nothing is paid to it then). Never changes; the amounts of
        /// a settlement sum exactly to the period's net sales.
        pub amount_minor: i64,
        /// From the period's sales minus its refunds.
        pub allocated_minor: i64,
        /// Its part of the period's approved expenses (split by the agreement
        /// in force on each expense's day).
        pub expenses_share_minor: i64,
        /// The approved expenses of the period it paid.
        pub reimbursed_minor: i64,
        pub paid_minor: i64,
        /// `amount_minor − paid_minor` (negative: it owes the others).
        pub outstanding_minor: i64,
    }

    #[derive(Debug, Serialize, ToSchema)]
    pub struct Payment {
        #[schema(format = Uuid)]
        pub id: String,
    } {
        pub amount_minor: i64,
        pub paid_at: DateTime<Utc>,
        pub reference: String,
        #[schema(format = Uuid)]
        pub recorded_by: String,
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Settlement {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub partnership_id: String,
    /// The previous settlement's `period_end`; `null` for the first.
    pub period_start: Option<NaiveDate>,
    /// Exclusive: everything that occurred before this day.
    pub period_end: NaiveDate,
    pub lines: Vec<SettlementLine>,
    pub payments: Vec<Payment>,
    #[schema(format = Uuid)]
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

impl From<SettlementView> for Settlement {
    fn from(v: SettlementView) -> Self {
        let lines = v
            .lines
            .iter()
            .map(|l| {
                let paid: i64 = v
                    .payments
                    .iter()
                    .filter(|p| p.line_id == l.id)
                    .map(|p| p.amount_minor)
                    .sum();
                SettlementLine {
                    currency: l.currency.clone(),
                    party_id: l.party_id.clone(),
                    beneficiary_name: l.beneficiary_name.clone(),
                    amount_minor: l.amount_minor,
                    allocated_minor: l.allocated_minor,
                    expenses_share_minor: l.expenses_share_minor,
                    reimbursed_minor: l.reimbursed_minor,
                    paid_minor: paid,
                    outstanding_minor: l.amount_minor - paid,
                }
            })
            .collect();
        let payments = v
            .payments
            .into_iter()
            .filter_map(|p| {
                let line = v.lines.iter().find(|l| l.id == p.line_id)?;
                Some(Payment {
                    currency: line.currency.clone(),
                    party_id: line.party_id.clone(),
                    beneficiary_name: line.beneficiary_name.clone(),
                    id: p.id,
                    amount_minor: p.amount_minor,
                    paid_at: utc(p.paid_at),
                    reference: p.reference,
                    recorded_by: p.recorded_by,
                })
            })
            .collect();
        let s = v.settlement;
        Self {
            id: s.id,
            partnership_id: s.partnership_id,
            period_start: s.period_start,
            period_end: s.period_end,
            lines,
            payments,
            created_by: s.created_by,
            created_at: utc(s.created_at),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSettlement {
    /// Settle everything that occurred before this day (after the previous
    /// settlement); not after today.
    pub period_end: NaiveDate,
}

/// Settle a period (accepted parties; `Idempotency-Key` required). Sales
/// dated inside a settled period are refused afterwards (409). Writes
/// `settlement.created` to the outbox.
#[utoipa::path(
    tag = "revenue",
    operation_id = "createSettlement",
    request_body = NewSettlement,
    params(path::Partnership, crate::http::extract::RequiredIdempotencyKeyHeader),
    security(("bearer_auth" = [])),
    responses(
        (status = 201, description = "The settlement", body = Settlement,
            headers(("Location" = String, description = "The settlement"))),
        crate::openapi::WriteProblems,
    )
)]
#[post("/partnerships/{id}/settlements")]
pub async fn create_settlement(
    state: web::Data<AppState>,
    user: User,
    Id(id): Id,
    key: IdempotencyKey,
    body: Body<NewSettlement>,
) -> Reply {
    let viewer = user.viewer();
    let partnership_id = id.to_string();
    let route = format!("create-settlement:{partnership_id}");
    Once::required(&state, user.key(), key, route)
        .write(body.into_inner(), move |conn, request| {
            let body: Settlement =
                store::create(conn, &partnership_id, &viewer, request.period_end)?.into();
            Ok(Created::new(&body)?.location(format!("/v1/settlements/{}", body.id)))
        })
        .await
}

page_type!(SettlementPage, Settlement);
keyed_by_id!(Settlement);

/// A partnership's settlements, newest first.
#[utoipa::path(
    tag = "revenue",
    operation_id = "listSettlements",
    params(path::Partnership, PageQuery),
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "One page of settlements", body = SettlementPage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when more pages follow"))),
        crate::openapi::ReadProblems,
    )
)]
#[get("/partnerships/{id}/settlements")]
pub async fn list_settlements(
    state: web::Data<AppState>,
    user: User,
    Id(id): Id,
    paging: Paging,
) -> Reply {
    pagination::belonging::<Settlement, _>(&state, &paging, NEWEST, user, id, store::list).await
}

/// A settlement with paid and outstanding amounts per recipient.
#[utoipa::path(
    tag = "revenue",
    operation_id = "getSettlement",
    params(path::Settlement),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "The settlement", body = Settlement), crate::openapi::ReadProblems)
)]
#[get("/settlements/{id}")]
pub async fn get_settlement(state: web::Data<AppState>, user: User, Id(id): Id) -> Reply {
    let viewer = user.viewer();
    let body: Settlement = state
        .db(move |conn| Ok(store::find(conn, &id, &viewer)?.into()))
        .await?;
    Ok(HttpResponse::Ok().json(body))
}

/// A settlement's recipient: a party or a beneficiary by name.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum PaymentRecipient {
    PartyId(Uuid),
    BeneficiaryName(String),
}

impl PartialSchema for PaymentRecipient {
    fn schema() -> RefOr<Schema> {
        crate::schema::one_member_of(
            vec![
                (
                    "party_id",
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
                        .into(),
                ),
                (
                    "beneficiary_name",
                    crate::schema::OrganizationName::schema(),
                ),
            ],
            "`{\"party_id\": …}` or `{\"beneficiary_name\": …}`.",
        )
    }
}

impl ToSchema for PaymentRecipient {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("PaymentRecipient")
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPayment {
    /// `{"party_id": …}` or `{"beneficiary_name": …}`.
    pub recipient: PaymentRecipient,
    #[schema(minimum = 1)]
    #[serde(deserialize_with = "super::whole_number")]
    pub amount_minor: i64,
    /// Needed only when the recipient is owed in several currencies.
    #[serde(default)]
    #[schema(value_type = Option<crate::schema::CurrencyCode>)]
    pub currency: Option<String>,
    pub paid_at: DateTime<Utc>,
    #[schema(value_type = crate::schema::ReasonText)]
    pub reference: String,
}

/// Record a payment made outside the platform (accepted parties;
/// `Idempotency-Key` required). Paying a recipient more than is
/// outstanding → 422.
#[utoipa::path(
    tag = "revenue",
    operation_id = "recordPayment",
    request_body = NewPayment,
    params(path::Settlement, crate::http::extract::RequiredIdempotencyKeyHeader),
    security(("bearer_auth" = [])),
    responses(
        (status = 201, description = "The settlement with the payment", body = Settlement,
            headers(("Location" = String, description = "The settlement"))),
        crate::openapi::WriteProblems,
    )
)]
#[post("/settlements/{id}/payments")]
pub async fn record_payment(
    state: web::Data<AppState>,
    user: User,
    Id(id): Id,
    key: IdempotencyKey,
    body: Body<NewPayment>,
) -> Reply {
    let viewer = user.viewer();
    let settlement_id = id.to_string();
    let route = format!("record-payment:{settlement_id}");
    Once::required(&state, user.key(), key, route)
        .write(body.into_inner(), move |conn, request| {
            let (amount, reference) = accounted_amount(
                request.amount_minor,
                "reference",
                &request.reference,
                REFERENCE,
            )?;
            let payee = match request.recipient {
                PaymentRecipient::PartyId(p) => Payee {
                    party_id: Some(p.to_string()),
                    beneficiary_name: None,
                    currency: request.currency,
                },
                PaymentRecipient::BeneficiaryName(n) => Payee {
                    party_id: None,
                    beneficiary_name: Some(n.trim().to_owned()),
                    currency: request.currency,
                },
            };
            let paid_at = persistence::truncate_micros(request.paid_at.naive_utc());
            let body: Settlement = store::pay(
                conn,
                &settlement_id,
                &viewer,
                &payee,
                amount,
                paid_at,
                &reference,
            )?
            .into();
            Ok(Created::new(&body)?.location(format!("/v1/settlements/{settlement_id}")))
        })
        .await
}
