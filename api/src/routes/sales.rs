//! Sales and refunds of a partnership. Visible to its parties (and
//! admins); recorded by accepted parties only, always under an
//! `Idempotency-Key` (these are money endpoints).

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use domain::agreement::Terms;
use domain::sale::{accounted_amount, Channel as ChannelRule, SaleFields, REASON};
use persistence::sales::{self as store, LineRow, NewSale, RefundRow, SaleView};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::convert;
use super::utc;
use crate::auth::principal::User;
use crate::error::{ApiError, Reply};
use crate::http::extract::{Body, Id, IdempotencyKey};
use crate::http::idempotency::{Created, Once};
use crate::http::pagination;
use crate::http::pagination::{PageQuery, Paging, NEWEST};
use crate::openapi::path;
use crate::state::AppState;
use crate::views::Recipient;
use crate::{keyed_by_id, page_type};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(record_sale)
        .service(list_sales)
        .service(get_sale)
        .service(refund_sale)
        .service(payouts)
        .service(get_statement);
}

mirror_enum!(SaleChannel <=> ChannelRule { MarketEvent, Online, Wholesale, Other });

/// One recipient's part of a sale (positive) or of a refund (negative).
#[derive(Debug, Serialize, ToSchema)]
pub struct AllocationLine {
    /// The position of the share in the agreement's `revenue_split`.
    pub share_index: i32,
    pub recipient: Recipient,
    pub amount_minor: i64,
    /// The refund this line belongs to; `null` for the sale's own lines.
    #[schema(format = Uuid)]
    pub refund_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Refund {
    #[schema(format = Uuid)]
    pub id: String,
    pub amount_minor: i64,
    pub reason: String,
    #[schema(format = Uuid)]
    pub recorded_by: String,
    pub created_at: DateTime<Utc>,
}

impl From<RefundRow> for Refund {
    fn from(r: RefundRow) -> Self {
        Self {
            id: r.id,
            amount_minor: r.amount_minor,
            reason: r.reason,
            recorded_by: r.recorded_by,
            created_at: utc(r.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Sale {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub partnership_id: String,
    /// The agreement in force at `occurred_at`, which split the sale.
    #[schema(format = Uuid)]
    pub agreement_id: String,
    /// That agreement's content hash.
    pub content_hash: String,
    pub amount_minor: i64,
    pub refunded_minor: i64,
    #[schema(value_type = crate::schema::CurrencyCode)]
    pub currency: String,
    pub occurred_at: DateTime<Utc>,
    pub description: String,
    pub channel: SaleChannel,
    #[schema(format = Uuid)]
    pub event_id: Option<String>,
    pub item_sku: Option<String>,
    pub external_ref: Option<String>,
    #[schema(format = Uuid)]
    pub recorded_by: String,
    pub created_at: DateTime<Utc>,
    /// The sale's lines (summing to `amount_minor`), then each refund's
    /// (negative, each refund's summing to its amount).
    pub lines: Vec<AllocationLine>,
    pub refunds: Vec<Refund>,
}

fn line(terms: &Terms, l: LineRow) -> Result<AllocationLine, ApiError> {
    let share = usize::try_from(l.share_index)
        .ok()
        .and_then(|i| terms.shares().get(i))
        .ok_or_else(|| ApiError::internal("allocation line without its share"))?;
    Ok(AllocationLine {
        share_index: l.share_index,
        recipient: convert(&share.recipient)?,
        amount_minor: l.amount_minor,
        refund_id: l.refund_id,
    })
}

impl TryFrom<SaleView> for Sale {
    type Error = ApiError;

    fn try_from(v: SaleView) -> Result<Sale, ApiError> {
        let terms = v.terms;
        let s = v.sale;
        Ok(Sale {
            channel: ChannelRule::parse(&s.channel)
                .unwrap_or(ChannelRule::Other)
                .into(),
            lines: v
                .lines
                .into_iter()
                .map(|l| line(&terms, l))
                .collect::<Result<_, _>>()?,
            refunds: v.refunds.into_iter().map(Refund::from).collect(),
            id: s.id,
            partnership_id: s.partnership_id,
            agreement_id: s.agreement_id,
            content_hash: s.content_hash,
            amount_minor: s.amount_minor,
            refunded_minor: s.refunded_minor,
            currency: s.currency,
            occurred_at: utc(s.occurred_at),
            description: s.description,
            event_id: s.event_id,
            item_sku: s.item_sku,
            external_ref: s.external_ref,
            recorded_by: s.recorded_by,
            created_at: utc(s.created_at),
        })
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSaleBody {
    /// Minor units of `currency` (> 0).
    #[schema(minimum = 1, maximum = 9007199254740991_i64)]
    #[serde(deserialize_with = "super::whole_number")]
    pub amount_minor: i64,
    /// The governing agreement's currency.
    #[schema(value_type = crate::schema::CurrencyCode)]
    pub currency: String,
    /// When the sale happened; decides the agreement that splits it.
    pub occurred_at: DateTime<Utc>,
    #[serde(default)]
    #[schema(value_type = crate::schema::DescriptionText)]
    pub description: String,
    pub channel: SaleChannel,
    #[serde(default)]
    pub event_id: Option<Uuid>,
    #[serde(default)]
    #[schema(max_length = 64)]
    pub item_sku: Option<String>,
    #[serde(default)]
    #[schema(max_length = 200)]
    pub external_ref: Option<String>,
}

/// Record a sale (accepted parties; `Idempotency-Key` required). It is
/// split at once among the recipients of the agreement in force at
/// `occurred_at`; the lines are stored with the sale and never change.
#[utoipa::path(
    tag = "revenue",
    operation_id = "recordSale",
    request_body = NewSaleBody,
    params(path::Partnership, crate::http::extract::RequiredIdempotencyKeyHeader),
    security(("bearer_auth" = [])),
    responses(
        (status = 201, description = "The sale with its allocation lines", body = Sale,
            headers(("Location" = String, description = "The sale"))),
        crate::openapi::WriteProblems,
    )
)]
#[post("/partnerships/{id}/sales")]
pub async fn record_sale(
    state: web::Data<AppState>,
    user: User,
    Id(id): Id,
    key: IdempotencyKey,
    body: Body<NewSaleBody>,
) -> Reply {
    let viewer = user.viewer();
    let partnership_id = id.to_string();
    let route = format!("record-sale:{partnership_id}");
    Once::required(&state, user.key(), key, route)
        .write(body.into_inner(), move |conn, request| {
            let fields = SaleFields::new(
                request.amount_minor,
                &request.currency,
                &request.description,
                request.event_id.map(|e| e.to_string()).as_deref(),
                request.item_sku.as_deref(),
                request.external_ref.as_deref(),
            )?;
            let new = NewSale {
                fields,
                channel: request.channel.into(),
                occurred_at: persistence::truncate_micros(request.occurred_at.naive_utc()),
            };
            let body = Sale::try_from(store::record(conn, &partnership_id, &viewer, &new)?)?;
            Ok(Created::new(&body)?.location(format!("/v1/sales/{}", body.id)))
        })
        .await
}

page_type!(SalePage, Sale);
keyed_by_id!(Sale);

/// A partnership's sales, newest first, with their lines.
#[utoipa::path(
    tag = "revenue",
    operation_id = "listSales",
    params(path::Partnership, PageQuery),
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "One page of sales", body = SalePage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when more pages follow"))),
        crate::openapi::ReadProblems,
    )
)]
#[get("/partnerships/{id}/sales")]
pub async fn list_sales(
    state: web::Data<AppState>,
    user: User,
    Id(id): Id,
    paging: Paging,
) -> Reply {
    pagination::belonging::<Sale, _>(&state, &paging, NEWEST, user, id, store::list).await
}

/// A sale with its lines and refunds.
#[utoipa::path(
    tag = "revenue",
    operation_id = "getSale",
    params(path::Sale),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "The sale", body = Sale), crate::openapi::ReadProblems)
)]
#[get("/sales/{id}")]
pub async fn get_sale(state: web::Data<AppState>, user: User, Id(id): Id) -> Reply {
    let viewer = user.viewer();
    let body = state
        .db(move |conn| {
            let view = store::find(conn, &id, &viewer)?;
            Sale::try_from(view)
        })
        .await?;
    Ok(HttpResponse::Ok().json(body))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRefund {
    /// At most what is left unrefunded of the sale.
    #[schema(minimum = 1, maximum = 9007199254740991_i64)]
    #[serde(deserialize_with = "super::whole_number")]
    pub amount_minor: i64,
    #[schema(value_type = crate::schema::ReasonText)]
    pub reason: String,
}

/// Refund (part of) a sale (accepted parties; `Idempotency-Key`
/// required): negative lines in proportion to what each recipient still
/// holds from the sale.
#[utoipa::path(
    tag = "revenue",
    operation_id = "refundSale",
    request_body = NewRefund,
    params(path::Sale, crate::http::extract::RequiredIdempotencyKeyHeader),
    security(("bearer_auth" = [])),
    responses(
        (status = 201, description = "The sale with the refund's lines", body = Sale,
            headers(("Location" = String, description = "The sale"))),
        crate::openapi::WriteProblems,
    )
)]
#[post("/sales/{id}/refunds")]
pub async fn refund_sale(
    state: web::Data<AppState>,
    user: User,
    Id(id): Id,
    key: IdempotencyKey,
    body: Body<NewRefund>,
) -> Reply {
    let viewer = user.viewer();
    let sale_id = id.to_string();
    let route = format!("refund-sale:{sale_id}");
    Once::required(&state, user.key(), key, route)
        .write(body.into_inner(), move |conn, request| {
            let (amount, reason) =
                accounted_amount(request.amount_minor, "reason", &request.reason, REASON)?;
            let (_, view) = store::refund(conn, &sale_id, &viewer, amount, &reason)?;
            let body = Sale::try_from(view)?;
            Ok(Created::new(&body)?.location(format!("/v1/sales/{sale_id}")))
        })
        .await
}

/// `[from 00:00, the day after to 00:00)`; open ends stay inside what
/// both databases store (years 1–9999).
fn period(
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<(chrono::NaiveDateTime, chrono::NaiveDateTime), ApiError> {
    if let (Some(f), Some(t)) = (from, to) {
        if t < f {
            return Err(ApiError::bad_param(
                "to",
                "before_from",
                "must not be before from",
            ));
        }
    }
    let (earliest, latest) = store::all_time();
    let start = from.unwrap_or(earliest).and_time(chrono::NaiveTime::MIN);
    let end = to
        .and_then(|t| t.succ_opt())
        .unwrap_or(latest)
        .and_time(chrono::NaiveTime::MIN);
    Ok((start, end))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeriodQuery {
    /// First day of the period (inclusive); default: the beginning.
    pub from: Option<NaiveDate>,
    /// Last day of the period (inclusive); default: no end.
    pub to: Option<NaiveDate>,
}

payout_fields! {
    /// One recipient's money in the period: its share of the sales that
    /// occurred in the period, less what refunds recorded in the period took
    /// back.
    #[derive(Debug, Serialize, ToSchema)]
    // + party_id, beneficiary_name, gross_minor, refunded_minor, net_minor
    pub struct RecipientPayout {} {}
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CurrencyPayouts {
    #[schema(value_type = crate::schema::CurrencyCode)]
    pub currency: String,
    /// Sales in the period minus refunds in the period (from the sales and
    /// refunds themselves); the recipients' `net_minor` sum to exactly this.
    pub net_sales_minor: i64,
    pub recipients: Vec<RecipientPayout>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Payouts {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub currencies: Vec<CurrencyPayouts>,
}

/// What each recipient is owed from the partnership's sales in a period
/// (sales by `occurred_at`, refunds by the day they were recorded).
#[utoipa::path(
    tag = "revenue",
    operation_id = "getPayouts",
    params(path::Partnership, PeriodQuery),
    security(("bearer_auth" = [])),
    responses((status = 200, description = "Per currency and recipient", body = Payouts), crate::openapi::ReadProblems)
)]
#[get("/partnerships/{id}/payouts")]
pub async fn payouts(
    state: web::Data<AppState>,
    user: User,
    Id(id): Id,
    query: web::Query<PeriodQuery>,
) -> Reply {
    let viewer = user.viewer();
    let PeriodQuery { from, to } = query.into_inner();
    let (start, end) = period(from, to)?;
    let report = state
        .db(move |conn| Ok(store::payout_report(conn, &id, &viewer, start, end)?))
        .await?;
    let currencies = report
        .into_iter()
        .map(|c| {
            let recipients = c
                .recipients
                .into_iter()
                .map(|p| {
                    Ok(RecipientPayout {
                        net_minor: p.net()?,
                        party_id: p.party_id,
                        beneficiary_name: p.beneficiary_name,
                        gross_minor: p.gross,
                        refunded_minor: p.refunded,
                    })
                })
                .collect::<Result<_, ApiError>>()?;
            Ok(CurrencyPayouts {
                currency: c.currency,
                net_sales_minor: c.net_sales,
                recipients,
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    Ok(HttpResponse::Ok().json(Payouts {
        from,
        to,
        currencies,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatementQuery {
    /// First day (inclusive); default: the beginning.
    pub from: Option<NaiveDate>,
    /// Last day (inclusive); default: no end.
    pub to: Option<NaiveDate>,
    /// Only lines in this currency.
    #[param(value_type = Option<crate::schema::CurrencyCode>)]
    pub currency: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StatementLineKind {
    Sale,
    Refund,
}

/// One of your allocation lines.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatementLine {
    /// The sale's `occurred_at`, or when the refund was recorded.
    pub date: DateTime<Utc>,
    pub kind: StatementLineKind,
    #[schema(format = Uuid)]
    pub partnership_id: String,
    #[schema(format = Uuid)]
    pub sale_id: String,
    #[schema(format = Uuid)]
    pub refund_id: Option<String>,
    #[schema(format = Uuid)]
    pub agreement_id: String,
    #[schema(value_type = crate::schema::CurrencyCode)]
    pub currency: String,
    pub amount_minor: i64,
    /// The sale's description, or the refund's reason.
    pub description: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CurrencyTotal {
    #[schema(value_type = crate::schema::CurrencyCode)]
    pub currency: String,
    pub amount_minor: i64,
}

/// Your lines across all partnerships (as an artisan party), with totals
/// per currency.
#[derive(Debug, Serialize, ToSchema)]
pub struct Statement {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub lines: Vec<StatementLine>,
    pub totals: Vec<CurrencyTotal>,
}

/// `amount_minor` in major units with the currency's exponent (`-1250`,
/// PEN → `-12.50`; JPY → `-1250`).
fn major_units(amount_minor: i64, currency: &str) -> String {
    let exponent = domain::money::Currency::parse("currency", currency)
        .map(|c| u32::from(c.exponent()))
        .unwrap_or(0);
    let scale = 10_i64.pow(exponent);
    let sign = if amount_minor < 0 { "-" } else { "" };
    let abs = amount_minor.unsigned_abs();
    let scale_u = scale.unsigned_abs();
    if exponent == 0 {
        return format!("{sign}{abs}");
    }
    format!(
        "{sign}{}.{:0width$}",
        abs / scale_u,
        abs % scale_u,
        width = exponent as usize
    )
}

/// A CSV field (RFC 4180 quoting). Text that a spreadsheet would run as a
/// formula (`=`, `+`, `-`, `@` first) is prefixed with `'`.
fn csv_text(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

fn statement_csv(body: &Statement) -> String {
    let mut out = String::from(
        "date,kind,partnership_id,sale_id,refund_id,agreement_id,currency,amount_minor,amount,description\r\n",
    );
    for l in &body.lines {
        let kind = match l.kind {
            StatementLineKind::Sale => "sale",
            StatementLineKind::Refund => "refund",
        };
        out.push_str(&format!(
            "{},{kind},{},{},{},{},{},{},{},{}\r\n",
            l.date.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            l.partnership_id,
            l.sale_id,
            l.refund_id.as_deref().unwrap_or(""),
            l.agreement_id,
            l.currency,
            l.amount_minor,
            major_units(l.amount_minor, &l.currency),
            csv_text(&l.description),
        ));
    }
    for t in &body.totals {
        out.push_str(&format!(
            "total,,,,,,{},{},{},\r\n",
            t.currency,
            t.amount_minor,
            major_units(t.amount_minor, &t.currency)
        ));
    }
    out
}

/// Your statement: every allocation line of yours (as an artisan party) in
/// the period, sales by `occurred_at` and refunds by their date, with
/// totals per currency. With `Accept: text/csv`, the same as CSV: a header
/// row, one row per line, then one `total` row per currency.
#[utoipa::path(
    tag = "revenue",
    operation_id = "getStatement",
    params(StatementQuery),
    security(("bearer_auth" = [])),
    responses(
        (status = 200, description = "Your lines and totals", content(
            (Statement = "application/json"),
            (String = "text/csv"),
        )),
        crate::openapi::ReadProblems,
    )
)]
#[get("/me/statement")]
pub async fn get_statement(
    state: web::Data<AppState>,
    user: User,
    req: HttpRequest,
    query: web::Query<StatementQuery>,
) -> Reply {
    let StatementQuery { from, to, currency } = query.into_inner();
    let (start, end) = period(from, to)?;
    let currency = currency
        .map(|c| {
            domain::money::Currency::parse("currency", &c)
                .map(|c| c.code().to_owned())
                .map_err(|e| ApiError::bad_param("currency", e.code, e.message))
        })
        .transpose()?;
    let rows = state
        .db(move |conn| {
            Ok(store::statement(
                conn,
                &user.id,
                start,
                end,
                currency.as_deref(),
            )?)
        })
        .await?;
    let mut totals: Vec<CurrencyTotal> = Vec::new();
    let lines: Vec<StatementLine> = rows
        .into_iter()
        .map(|r| {
            match totals.iter_mut().find(|t| t.currency == r.line.currency) {
                // Stored amounts whose total an i64 cannot hold are refused,
                // never wrapped (as the database's sums are).
                Some(t) => {
                    t.amount_minor = t
                        .amount_minor
                        .checked_add(r.line.amount_minor)
                        .ok_or_else(|| ApiError::internal("a statement total overflows"))?;
                }
                None => totals.push(CurrencyTotal {
                    currency: r.line.currency.clone(),
                    amount_minor: r.line.amount_minor,
                }),
            }
            Ok(StatementLine {
                date: utc(r.dated),
                kind: if r.line.refund_id.is_some() {
                    StatementLineKind::Refund
                } else {
                    StatementLineKind::Sale
                },
                partnership_id: r.partnership_id,
                sale_id: r.line.sale_id,
                refund_id: r.line.refund_id,
                agreement_id: r.line.agreement_id,
                currency: r.line.currency,
                amount_minor: r.line.amount_minor,
                description: r.description,
            })
        })
        .collect::<Result<_, ApiError>>()?;
    totals.sort_by(|a, b| a.currency.cmp(&b.currency));
    let body = Statement {
        from,
        to,
        lines,
        totals,
    };
    let wants_csv = req
        .headers()
        .get(actix_web::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/csv"));
    if wants_csv {
        Ok(HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header((
                actix_web::http::header::CONTENT_DISPOSITION,
                "attachment; filename=\"statement.csv\"",
            ))
            .body(statement_csv(&body)))
    } else {
        Ok(HttpResponse::Ok().json(body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn major_units_follow_the_currency_exponent() {
        assert_eq!(major_units(-1250, "PEN"), "-12.50");
        assert_eq!(major_units(5, "PEN"), "0.05");
        assert_eq!(major_units(1250, "JPY"), "1250");
        assert_eq!(major_units(1001, "BHD"), "1.001");
        assert_eq!(major_units(i64::MIN, "USD"), "-92233720368547758.08");
    }

    #[test]
    fn csv_text_quotes_and_defuses_formulas() {
        assert_eq!(csv_text("Two scarves"), "Two scarves");
        assert_eq!(csv_text("Scarves, red"), "\"Scarves, red\"");
        assert_eq!(csv_text("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_text("=SUM(A1:A9)"), "'=SUM(A1:A9)");
        assert_eq!(csv_text("line\nbreak"), "\"line\nbreak\"");
    }
}
