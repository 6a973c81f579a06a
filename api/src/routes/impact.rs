//! Impact figures for partner organizations (API keys with `impact:read`):
//! per month, for everyone or one country and/or primary craft, with
//! every figure drawn from fewer than five artisans suppressed — and the
//! figures that would let a subtraction reveal one suppressed too
//! ([`domain::impact`]).

use actix_web::{get, web, HttpResponse};
use chrono::Utc;
use domain::impact::{self, Cell, GroupRow, Month, Period, MIN_CONTRIBUTORS};
use persistence::impact::{self as store, Grouping, ImpactRows};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::principal::{scope, Granted};
use crate::error::Reply;
use crate::http::params::{country_param, param_error, slug_param};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get_impact);
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImpactQuery {
    /// Only artisans of this country (ISO 3166-1 alpha-2).
    pub country: Option<String>,
    /// Only artisans whose primary craft (the first they list) is this.
    pub craft: Option<String>,
    /// First month, `YYYY-MM` (default: eleven months before `to`).
    #[param(pattern = "^[0-9]{4}-[0-9]{2}$", example = "2026-01")]
    pub from: Option<String>,
    /// Last month, `YYYY-MM`, included (default: the current month). At
    /// most 24 months in all.
    #[param(pattern = "^[0-9]{4}-[0-9]{2}$", example = "2026-12")]
    pub to: Option<String>,
}

/// One count; `value` is `null` when `suppressed`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImpactCount {
    pub value: Option<i64>,
    pub suppressed: bool,
}

/// Hours of confirmed skill-exchange sessions (two decimals); `value` is
/// `null` when `suppressed`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImpactHours {
    pub value: Option<f64>,
    pub suppressed: bool,
}

/// Revenue in one currency, in minor units, after refunds: what sales
/// brought in, what went to artisans and what to beneficiaries. All three
/// are `null` when `suppressed`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImpactRevenue {
    #[schema(value_type = crate::schema::CurrencyCode)]
    pub currency: String,
    pub gross_minor: Option<i64>,
    pub to_artisans_minor: Option<i64>,
    pub to_beneficiaries_minor: Option<i64>,
    pub suppressed: bool,
}

/// The figures of one month.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImpactMonth {
    /// `YYYY-MM`.
    pub month: String,
    /// Artisans who sold, signed, taught or learned, hosted a workshop or
    /// applied to a program in the month.
    pub artisans_active: ImpactCount,
    /// Partnerships with at least one artisan of the cell that recorded a
    /// sale or a signature in the month.
    pub partnerships_active: ImpactCount,
    /// Agreements that came into force in the month.
    pub agreements_signed: ImpactCount,
    /// Sales of partnerships with an artisan of the cell, per currency.
    pub revenue: Vec<ImpactRevenue>,
    pub exchange_hours: ImpactHours,
    /// Workshops hosted by artisans of the cell that started in the month.
    pub workshops_held: ImpactCount,
    pub program_applications: ImpactCount,
}

/// Impact figures for a period.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImpactReport {
    pub country: Option<String>,
    pub craft: Option<String>,
    pub from: String,
    pub to: String,
    /// Figures drawn from fewer distinct artisans than this are suppressed.
    pub min_contributors: i64,
    pub months: Vec<ImpactMonth>,
}

/// Impact figures per month for everyone, a country, a primary craft or
/// both (scope `impact:read`). A figure drawn from fewer than five
/// distinct artisans is `null` with `suppressed: true`, and so is one
/// that, subtracted from or added to other answers, would reveal such a
/// figure (see the API design notes, "Impact").
#[utoipa::path(
    tag = "impact",
    operation_id = "getImpact",
    params(ImpactQuery),
    security(("api_key" = [])),
    responses(
        (status = 200, description = "The figures, month by month", body = ImpactReport),
        crate::openapi::ReadProblems,
    )
)]
#[get("/impact")]
pub async fn get_impact(
    state: web::Data<AppState>,
    _: Granted<scope::ImpactRead>,
    query: web::Query<ImpactQuery>,
) -> Reply {
    let cell = Cell {
        country: country_param("country", &query.country)?,
        craft: slug_param("craft", &query.craft)?,
    };
    let period = Period::parse(
        query.from.as_deref(),
        query.to.as_deref(),
        Utc::now().date_naive(),
    )
    .map_err(param_error)?;
    let grouping = Grouping {
        by_country: cell.country.is_some(),
        by_craft: cell.craft.is_some(),
    };
    let rows = state
        .db(move |conn| {
            Ok(store::figures(
                conn,
                grouping,
                period.from.first_day(),
                period.end(),
            )?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(report(&cell, &period, &rows)))
}

fn report(cell: &Cell, period: &Period, rows: &ImpactRows) -> ImpactReport {
    ImpactReport {
        country: cell.country.clone(),
        craft: cell.craft.clone(),
        from: period.from.label(),
        to: period.to.label(),
        min_contributors: MIN_CONTRIBUTORS,
        months: period
            .months()
            .into_iter()
            .map(|month| month_figures(cell, month, rows))
            .collect(),
    }
}

fn month_figures(cell: &Cell, month: Month, rows: &ImpactRows) -> ImpactMonth {
    let label = month.label();
    let decide = |figure: &[GroupRow]| {
        let of_month: Vec<&GroupRow> = figure.iter().filter(|r| r.month == label).collect();
        impact::decide(cell, &of_month)
    };
    let count = |figure: &[GroupRow], value: fn(&GroupRow) -> i64| {
        let decided = decide(figure);
        ImpactCount {
            suppressed: decided.is_none(),
            value: decided.as_ref().map(value),
        }
    };
    let entities = |r: &GroupRow| r.entities;
    let exchange = decide(&rows.exchange);
    ImpactMonth {
        artisans_active: count(&rows.artisans_active, |r| r.contributors),
        partnerships_active: count(&rows.partnerships_active, entities),
        agreements_signed: count(&rows.agreements_signed, entities),
        revenue: revenue(cell, &label, &rows.revenue),
        exchange_hours: ImpactHours {
            suppressed: exchange.is_none(),
            value: exchange.map(|r| (r.sums[0] as f64 / 60.0 * 100.0).round() / 100.0),
        },
        workshops_held: count(&rows.workshops_held, entities),
        program_applications: count(&rows.program_applications, entities),
        month: label,
    }
}

/// One entry per currency the cell sold in; each currency is its own
/// figure, with its own contributors.
fn revenue(cell: &Cell, month: &str, rows: &[GroupRow]) -> Vec<ImpactRevenue> {
    let country = cell.country.as_deref().unwrap_or("");
    let craft = cell.craft.as_deref().unwrap_or("");
    let mut currencies: Vec<&str> = rows
        .iter()
        .filter(|r| r.month == month && r.country == country && r.craft == craft)
        .map(|r| r.currency.as_str())
        .collect();
    currencies.sort_unstable();
    currencies.dedup();
    currencies
        .into_iter()
        .map(|currency| {
            let of_currency: Vec<&GroupRow> = rows
                .iter()
                .filter(|r| r.month == month && r.currency == currency)
                .collect();
            let sums = impact::decide(cell, &of_currency).map(|r| r.sums);
            ImpactRevenue {
                currency: currency.to_owned(),
                gross_minor: sums.map(|s| s[0]),
                to_artisans_minor: sums.map(|s| s[1]),
                to_beneficiaries_minor: sums.map(|s| s[2]),
                suppressed: sums.is_none(),
            }
        })
        .collect()
}
