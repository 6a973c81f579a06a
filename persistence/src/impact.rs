//! The aggregates behind impact figures: for each figure one query over
//! the period, grouped by month and — when the request filters by them —
//! by country and primary craft, so that [`domain::impact::decide`] sees
//! every group it compares the asked-for cell with.
//!
//! Each figure's query has the shape
//! `SELECT month, country, craft, currency, COUNT(DISTINCT artisan),
//! COUNT(DISTINCT entity), SUM(v1), SUM(v2), SUM(v3) FROM (source) GROUP BY
//! …`, where a source row either names a contributing artisan or carries
//! values (never both where that would count a value once per artisan).
//! The period filter of every source is served by an index
//! (migration `000021_impact`).

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Text, Timestamp};
use domain::impact::GroupRow;

use crate::{sql_text, AnyConnection, StoreError};

/// What one request groups by.
#[derive(Debug, Clone, Copy)]
pub struct Grouping {
    pub by_country: bool,
    pub by_craft: bool,
}

/// The rows of every figure for one period.
#[derive(Debug, Default)]
pub struct ImpactRows {
    pub artisans_active: Vec<GroupRow>,
    pub partnerships_active: Vec<GroupRow>,
    pub agreements_signed: Vec<GroupRow>,
    /// `sums` = gross, to artisans, to beneficiaries; per currency.
    pub revenue: Vec<GroupRow>,
    /// `sums[0]` = minutes of confirmed sessions.
    pub exchange: Vec<GroupRow>,
    pub workshops_held: Vec<GroupRow>,
    pub program_applications: Vec<GroupRow>,
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = Text)]
    month: String,
    #[diesel(sql_type = Text)]
    country: String,
    #[diesel(sql_type = Text)]
    craft: String,
    #[diesel(sql_type = Text)]
    currency: String,
    #[diesel(sql_type = BigInt)]
    contributors: i64,
    #[diesel(sql_type = BigInt)]
    entities: i64,
    #[diesel(sql_type = BigInt)]
    v1: i64,
    #[diesel(sql_type = BigInt)]
    v2: i64,
    #[diesel(sql_type = BigInt)]
    v3: i64,
}

impl From<Row> for GroupRow {
    fn from(r: Row) -> Self {
        Self {
            month: r.month,
            country: r.country,
            craft: r.craft,
            currency: r.currency,
            contributors: r.contributors,
            entities: r.entities,
            sums: [r.v1, r.v2, r.v3],
        }
    }
}

/// `$1`/`$2`: the period (from, end exclusive) as timestamps, or as dates
/// where the source compares dates only; `$3`/`$4`: the same as dates
/// after timestamps. `{C}` and `{K}`: the country and craft keys of
/// artisan `a`; `{M:column}`: the month of a column.
const ARTISANS_ACTIVE: &str = "\
SELECT act.artisan_id AS artisan_id, act.artisan_id AS entity, act.month AS month, {C} AS country, {K} AS craft, \
       '' AS currency, 0 AS v1, 0 AS v2, 0 AS v3 \
FROM ( \
  SELECT pp.artisan_id AS artisan_id, {M:s.occurred_at} AS month \
    FROM sales s JOIN allocation_lines l ON l.sale_id = s.id JOIN partnership_parties pp ON pp.id = l.party_id \
   WHERE s.occurred_at >= $1 AND s.occurred_at < $2 AND pp.artisan_id IS NOT NULL \
  UNION ALL \
  SELECT pp.artisan_id, {M:sg.signed_at} \
    FROM agreement_signatures sg JOIN partnership_parties pp ON pp.id = sg.party_id \
   WHERE sg.signed_at >= $1 AND sg.signed_at < $2 AND pp.artisan_id IS NOT NULL \
  UNION ALL \
  SELECT es.taught_by, {M:es.held_on} FROM exchange_sessions es \
   WHERE es.status = 'confirmed' AND es.held_on >= $3 AND es.held_on < $4 \
  UNION ALL \
  SELECT es.learner_id, {M:es.held_on} FROM exchange_sessions es \
   WHERE es.status = 'confirmed' AND es.held_on >= $3 AND es.held_on < $4 \
  UNION ALL \
  SELECT w.host_id, {M:w.starts_at} FROM workshops w WHERE w.starts_at >= $1 AND w.starts_at < $2 \
  UNION ALL \
  SELECT pa.artisan_id, {M:pa.created_at} FROM program_applications pa \
   WHERE pa.created_at >= $1 AND pa.created_at < $2 \
) act JOIN artisans a ON a.id = act.artisan_id";

/// A partnership is active in a month it recorded a sale or a signature.
const PARTNERSHIPS_ACTIVE: &str = "\
SELECT pp.artisan_id AS artisan_id, act.partnership_id AS entity, act.month AS month, {C} AS country, {K} AS craft, \
       '' AS currency, 0 AS v1, 0 AS v2, 0 AS v3 \
FROM ( \
  SELECT DISTINCT s.partnership_id AS partnership_id, {M:s.occurred_at} AS month FROM sales s \
   WHERE s.occurred_at >= $1 AND s.occurred_at < $2 \
  UNION \
  SELECT ag.partnership_id, {M:sg.signed_at} \
    FROM agreement_signatures sg JOIN agreements ag ON ag.id = sg.agreement_id \
   WHERE sg.signed_at >= $1 AND sg.signed_at < $2 \
) act \
JOIN partnership_parties pp ON pp.partnership_id = act.partnership_id AND pp.status = 'accepted' \
JOIN artisans a ON a.id = pp.artisan_id";

const AGREEMENTS_SIGNED: &str = "\
SELECT pp.artisan_id AS artisan_id, ag.id AS entity, {M:ag.activated_at} AS month, {C} AS country, {K} AS craft, \
       '' AS currency, 0 AS v1, 0 AS v2, 0 AS v3 \
FROM agreements ag \
JOIN partnership_parties pp ON pp.partnership_id = ag.partnership_id AND pp.status = 'accepted' \
JOIN artisans a ON a.id = pp.artisan_id \
WHERE ag.activated_at >= $1 AND ag.activated_at < $2";

/// Values: every allocation line of the sales of partnerships with a party
/// in the group, once per group (`m` is distinct per partnership and
/// group). Contributors: the accepted artisan parties of those sales.
const REVENUE: &str = "\
SELECT CAST(NULL AS TEXT) AS artisan_id, CAST(NULL AS TEXT) AS entity, {M:s.occurred_at} AS month, \
       m.country AS country, m.craft AS craft, s.currency AS currency, l.amount_minor AS v1, \
       CASE WHEN lp.artisan_id IS NOT NULL THEN l.amount_minor ELSE 0 END AS v2, \
       CASE WHEN l.beneficiary_name IS NOT NULL THEN l.amount_minor ELSE 0 END AS v3 \
FROM sales s \
JOIN (SELECT DISTINCT pp.partnership_id AS partnership_id, {C} AS country, {K} AS craft \
        FROM partnership_parties pp JOIN artisans a ON a.id = pp.artisan_id WHERE pp.status = 'accepted') m \
  ON m.partnership_id = s.partnership_id \
JOIN allocation_lines l ON l.sale_id = s.id \
LEFT JOIN partnership_parties lp ON lp.id = l.party_id \
WHERE s.occurred_at >= $1 AND s.occurred_at < $2 \
UNION ALL \
SELECT pp.artisan_id, CAST(NULL AS TEXT), ps.month, {C}, {K}, ps.currency, 0, 0, 0 \
FROM (SELECT DISTINCT s.partnership_id AS partnership_id, {M:s.occurred_at} AS month, s.currency AS currency \
        FROM sales s WHERE s.occurred_at >= $1 AND s.occurred_at < $2) ps \
JOIN partnership_parties pp ON pp.partnership_id = ps.partnership_id AND pp.status = 'accepted' \
JOIN artisans a ON a.id = pp.artisan_id";

/// Values: each confirmed session's minutes once per group one of its two
/// artisans is in. Contributors: both artisans.
const EXCHANGE: &str = "\
SELECT CAST(NULL AS TEXT) AS artisan_id, v.session_id AS entity, v.month AS month, v.country AS country, \
       v.craft AS craft, '' AS currency, v.minutes AS v1, 0 AS v2, 0 AS v3 \
FROM ( \
  SELECT es.id AS session_id, {M:es.held_on} AS month, {C} AS country, {K} AS craft, es.minutes AS minutes \
    FROM exchange_sessions es JOIN artisans a ON a.id = es.taught_by \
   WHERE es.status = 'confirmed' AND es.held_on >= $1 AND es.held_on < $2 \
  UNION \
  SELECT es.id, {M:es.held_on}, {C}, {K}, es.minutes \
    FROM exchange_sessions es JOIN artisans a ON a.id = es.learner_id \
   WHERE es.status = 'confirmed' AND es.held_on >= $1 AND es.held_on < $2 \
) v \
UNION ALL \
SELECT a.id, CAST(NULL AS TEXT), {M:es.held_on}, {C}, {K}, '', 0, 0, 0 \
  FROM exchange_sessions es JOIN artisans a ON a.id IN (es.taught_by, es.learner_id) \
 WHERE es.status = 'confirmed' AND es.held_on >= $1 AND es.held_on < $2";

/// Workshops counted where their host is.
const WORKSHOPS_HELD: &str = "\
SELECT w.host_id AS artisan_id, w.id AS entity, {M:w.starts_at} AS month, {C} AS country, {K} AS craft, \
       '' AS currency, 0 AS v1, 0 AS v2, 0 AS v3 \
FROM workshops w JOIN artisans a ON a.id = w.host_id \
WHERE w.starts_at >= $1 AND w.starts_at < $2";

const PROGRAM_APPLICATIONS: &str = "\
SELECT pa.artisan_id AS artisan_id, pa.id AS entity, {M:pa.created_at} AS month, {C} AS country, {K} AS craft, \
       '' AS currency, 0 AS v1, 0 AS v2, 0 AS v3 \
FROM program_applications pa JOIN artisans a ON a.id = pa.artisan_id \
WHERE pa.created_at >= $1 AND pa.created_at < $2";

/// Every figure's groups for the period `[from, end)`.
pub fn figures(
    conn: &mut AnyConnection,
    grouping: Grouping,
    from: NaiveDate,
    end: NaiveDate,
) -> Result<ImpactRows, StoreError> {
    let mut run = |source: &str, binds: Binds| aggregate(conn, source, binds, grouping, from, end);
    Ok(ImpactRows {
        artisans_active: run(ARTISANS_ACTIVE, Binds::TimestampsThenDates)?,
        partnerships_active: run(PARTNERSHIPS_ACTIVE, Binds::Timestamps)?,
        agreements_signed: run(AGREEMENTS_SIGNED, Binds::Timestamps)?,
        revenue: run(REVENUE, Binds::Timestamps)?,
        exchange: run(EXCHANGE, Binds::Dates)?,
        workshops_held: run(WORKSHOPS_HELD, Binds::Timestamps)?,
        program_applications: run(PROGRAM_APPLICATIONS, Binds::Timestamps)?,
    })
}

/// How a source takes the period: a statement must bind exactly the
/// parameters its text names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Binds {
    Timestamps,
    Dates,
    TimestampsThenDates,
}

fn aggregate(
    conn: &mut AnyConnection,
    source: &str,
    binds: Binds,
    grouping: Grouping,
    from: NaiveDate,
    end: NaiveDate,
) -> Result<Vec<GroupRow>, StoreError> {
    let key = |on: bool, column: &str| {
        if on {
            format!("COALESCE(a.{column}, '')")
        } else {
            "''".to_owned()
        }
    };
    let source = month_expressions(source)
        .replace("{C}", &key(grouping.by_country, "country"))
        .replace("{K}", &key(grouping.by_craft, "primary_craft"));
    let sql = format!(
        "SELECT month, country, craft, currency, \
                COUNT(DISTINCT artisan_id) AS contributors, COUNT(DISTINCT entity) AS entities, \
                CAST(COALESCE(SUM(v1), 0) AS BIGINT) AS v1, CAST(COALESCE(SUM(v2), 0) AS BIGINT) AS v2, \
                CAST(COALESCE(SUM(v3), 0) AS BIGINT) AS v3 \
         FROM ({source}) f GROUP BY month, country, craft, currency"
    );
    let midnight = |day: NaiveDate| -> NaiveDateTime { day.and_time(chrono::NaiveTime::MIN) };
    let mut query = sql_text(sql);
    if binds != Binds::Dates {
        query = query
            .bind::<Timestamp, _>(midnight(from))
            .bind::<Timestamp, _>(midnight(end));
    }
    if binds != Binds::Timestamps {
        query = query.bind::<Date, _>(from).bind::<Date, _>(end);
    }
    let rows: Vec<Row> = query.load(conn)?;
    Ok(rows.into_iter().map(GroupRow::from).collect())
}

/// `{M:column}` → the `YYYY-MM` of a date or timestamp column, the same
/// text on both databases.
fn month_expressions(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    let mut rest = source;
    while let Some(start) = rest.find("{M:") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 3..];
        let end = after.find('}').unwrap_or(after.len());
        out.push_str(&format!("substr(CAST({} AS TEXT), 1, 7)", &after[..end]));
        rest = after.get(end + 1..).unwrap_or("");
    }
    out.push_str(rest);
    out
}
