//! Shared costs: an accepted party records what it paid for the
//! partnership (materials, a booth fee, travel, …); another accepted party
//! approves or rejects it. Seen by those who see the partnership's money.

use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use domain::expense::{
    self as rules, ExpenseCategory as CategoryRule, ExpenseFields, ExpenseStatus,
};
use persistence::expenses::{self as store, ExpenseRow, NewExpense};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::utc;
use crate::auth::principal::User;
use crate::error::Reply;
use crate::http::extract::{Body, Id, IdempotencyKey};
use crate::http::idempotency::{Created, Once};
use crate::http::pagination::{self, PageQuery, Paging, NEWEST};
use crate::openapi::path;
use crate::state::AppState;
use crate::{keyed_by_id, page_type};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(record_expense)
        .service(list_expenses)
        .service(get_expense)
        .service(decide_expense);
}

mirror_enum!(ExpenseCategory <=> CategoryRule { Materials, Booth, Travel, Marketing, Other });
mirror_enum!(ExpenseState <=> ExpenseStatus { Pending, Approved, Rejected });

#[derive(Debug, Serialize, ToSchema)]
pub struct Expense {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub partnership_id: String,
    pub amount_minor: i64,
    #[schema(value_type = crate::schema::CurrencyCode)]
    pub currency: String,
    pub description: String,
    pub category: ExpenseCategory,
    pub incurred_on: NaiveDate,
    /// The accepted party that paid.
    #[schema(format = Uuid)]
    pub paid_by: String,
    pub receipt_url: Option<String>,
    #[schema(format = Uuid)]
    pub event_id: Option<String>,
    /// `approved` at once when the partnership has a single accepted party.
    pub status: ExpenseState,
    /// The account that decided, and the party it decided for.
    #[schema(format = Uuid)]
    pub decided_by: Option<String>,
    #[schema(format = Uuid)]
    pub deciding_party_id: Option<String>,
    pub decision_note: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    #[schema(format = Uuid)]
    pub recorded_by: String,
    pub created_at: DateTime<Utc>,
    pub version: i64,
}

impl From<ExpenseRow> for Expense {
    fn from(r: ExpenseRow) -> Self {
        Self {
            category: r.category().into(),
            status: r.status().into(),
            id: r.id,
            partnership_id: r.partnership_id,
            amount_minor: r.amount_minor,
            currency: r.currency,
            description: r.description,
            incurred_on: r.incurred_on,
            paid_by: r.paid_by,
            receipt_url: r.receipt_url,
            event_id: r.event_id,
            decided_by: r.decided_by,
            deciding_party_id: r.deciding_party,
            decision_note: r.decision_note,
            decided_at: r.decided_at.map(utc),
            recorded_by: r.recorded_by,
            created_at: utc(r.created_at),
            version: r.version,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewExpenseBody {
    #[schema(minimum = 1, maximum = 9007199254740991_i64)]
    #[serde(deserialize_with = "super::whole_number")]
    pub amount_minor: i64,
    /// The currency of the agreement in force on `incurred_on`.
    #[schema(value_type = crate::schema::CurrencyCode)]
    pub currency: String,
    #[schema(value_type = crate::schema::OrganizationName)]
    pub description: String,
    pub category: ExpenseCategory,
    /// Inside no settled period; an agreement must be in force then.
    pub incurred_on: NaiveDate,
    /// An accepted party of the partnership (party id).
    pub paid_by: Uuid,
    #[serde(default)]
    #[schema(value_type = Option<crate::schema::WebUrl>)]
    pub receipt_url: Option<String>,
    /// A market event the partnership organises or takes part in.
    #[serde(default)]
    pub event_id: Option<Uuid>,
}

/// Record a shared cost (accepted parties; `Idempotency-Key` required).
/// Another accepted party decides on it; in a partnership with a single
/// accepted party it is approved at once.
#[utoipa::path(
    tag = "revenue",
    operation_id = "recordExpense",
    request_body = NewExpenseBody,
    params(path::Partnership, crate::http::extract::RequiredIdempotencyKeyHeader),
    security(("bearer_auth" = [])),
    responses(
        (status = 201, description = "The expense", body = Expense,
            headers(("Location" = String, description = "The expense"))),
        crate::openapi::WriteProblems,
    )
)]
#[post("/partnerships/{id}/expenses")]
pub async fn record_expense(
    state: web::Data<AppState>,
    user: User,
    Id(id): Id,
    key: IdempotencyKey,
    body: Body<NewExpenseBody>,
) -> Reply {
    let viewer = user.viewer();
    let partnership_id = id.to_string();
    let route = format!("record-expense:{partnership_id}");
    Once::required(&state, user.key(), key, route)
        .write(body.into_inner(), move |conn, request| {
            let fields = ExpenseFields::parse(
                request.amount_minor,
                &request.currency,
                &request.description,
                request.category.into(),
                request.incurred_on,
                request.receipt_url.as_deref(),
            )?;
            let new = NewExpense {
                fields,
                paid_by: request.paid_by.to_string(),
                event_id: request.event_id.map(|e| e.to_string()),
            };
            let expense = Expense::from(store::record(conn, &partnership_id, &viewer, &new)?);
            Ok(Created::new(&expense)?.location(format!("/v1/expenses/{}", expense.id)))
        })
        .await
}

page_type!(ExpensePage, Expense);
keyed_by_id!(Expense);

/// A partnership's expenses, newest first (those who see its money).
#[utoipa::path(
    tag = "revenue",
    operation_id = "listExpenses",
    params(path::Partnership, PageQuery),
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "One page of expenses", body = ExpensePage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when more pages follow"))),
        crate::openapi::ReadProblems,
    )
)]
#[get("/partnerships/{id}/expenses")]
pub async fn list_expenses(
    state: web::Data<AppState>,
    user: User,
    Id(id): Id,
    paging: Paging,
) -> Reply {
    pagination::belonging::<Expense, _>(&state, &paging, NEWEST, user, id, store::list).await
}

/// Read an expense.
#[utoipa::path(
    tag = "revenue",
    operation_id = "getExpense",
    params(path::Expense),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "The expense", body = Expense), crate::openapi::ReadProblems)
)]
#[get("/expenses/{id}")]
pub async fn get_expense(state: web::Data<AppState>, user: User, Id(id): Id) -> Reply {
    let viewer = user.viewer();
    let row = state
        .db(move |conn| Ok(store::find(conn, &id, &viewer)?))
        .await?;
    Ok(HttpResponse::Ok().json(Expense::from(row)))
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExpenseDecision {
    Approve,
    Reject,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpenseDecisionBody {
    pub decision: ExpenseDecision,
    #[serde(default)]
    #[schema(value_type = crate::schema::DescriptionText)]
    pub note: String,
}

/// Approve or reject a pending expense: an accepted party other than the
/// one that paid (the payer alone: 403; decided already: 409; approving
/// one dated inside a settled period: 409, it may only be rejected).
#[utoipa::path(
    tag = "revenue",
    operation_id = "decideExpense",
    request_body = ExpenseDecisionBody,
    params(path::Expense),
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "The expense, decided", body = Expense),
        crate::openapi::WriteProblems,
    )
)]
#[post("/expenses/{id}/decision")]
pub async fn decide_expense(
    state: web::Data<AppState>,
    user: User,
    Id(id): Id,
    body: Body<ExpenseDecisionBody>,
) -> Reply {
    let viewer = user.viewer();
    let body = body.into_inner();
    let note = rules::note(&body.note)?;
    let approve = matches!(body.decision, ExpenseDecision::Approve);
    let row = state
        .db(move |conn| Ok(store::decide(conn, &id, &viewer, approve, &note)?))
        .await?;
    Ok(HttpResponse::Ok().json(Expense::from(row)))
}
