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
//! (migration `000021_impact`). Sales are read from their monthly totals
//! (`impact_sale_months`, migration `000023`), which [`add_sales`] keeps in
//! the transaction that writes allocation lines: a report reads a few rows
//! per partnership and month, however many sales there were.

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Text, Timestamp};
use domain::impact::{GroupRow, Month};

use crate::{placeholder_row, sql_text, AnyConnection, StoreError};

/// An allocation line as the monthly sale totals count it: its recipient
/// party (`None` for a beneficiary) and amount.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Received<'a> {
    pub(crate) party_id: Option<&'a str>,
    pub(crate) amount: i64,
}

/// Adds the allocation lines of a sale of `partnership_id` that occurred
/// on `day` (or of a refund of it) to the monthly sale totals, in the
/// caller's transaction: one `INSERT … ON CONFLICT DO UPDATE`, the same on
/// both databases. Sales of one partnership are serialised by its lock,
/// and the totals are per partnership, so two writers never race for a row.
pub(crate) fn add_sales(
    conn: &mut AnyConnection,
    partnership_id: &str,
    day: NaiveDate,
    currency: &str,
    lines: &[Received<'_>],
) -> Result<(), StoreError> {
    let mut per_party: BTreeMap<&str, i64> = BTreeMap::new();
    for line in lines {
        let total = per_party.entry(line.party_id.unwrap_or("")).or_insert(0);
        *total = total
            .checked_add(line.amount)
            .ok_or(StoreError::Corrupt("a sale's lines overflow"))?;
    }
    if per_party.is_empty() {
        return Ok(());
    }
    const COLUMNS: usize = 5;
    let rows: Vec<String> = (0..per_party.len())
        .map(|i| placeholder_row(i * COLUMNS + 1, COLUMNS))
        .collect();
    let mut insert = sql_text(format!(
        "INSERT INTO impact_sale_months (month, partnership_id, currency, party_id, amount_minor) VALUES {} \
         ON CONFLICT (month, partnership_id, currency, party_id) \
         DO UPDATE SET amount_minor = impact_sale_months.amount_minor + excluded.amount_minor",
        rows.join(", ")
    ));
    let month = Month::of(day).label();
    for (party, amount) in per_party {
        insert = insert
            .bind::<Text, _>(month.clone())
            .bind::<Text, _>(partnership_id.to_owned())
            .bind::<Text, _>(currency.to_owned())
            .bind::<Text, _>(party.to_owned())
            .bind::<BigInt, _>(amount);
    }
    insert.execute(conn)?;
    Ok(())
}

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
  SELECT pp.artisan_id AS artisan_id, r.month AS month \
    FROM impact_sale_months r JOIN partnership_parties pp ON pp.id = r.party_id \
   WHERE r.month >= {M:$1} AND r.month < {M:$2} AND pp.artisan_id IS NOT NULL \
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
  SELECT DISTINCT r.partnership_id AS partnership_id, r.month AS month FROM impact_sale_months r \
   WHERE r.month >= {M:$1} AND r.month < {M:$2} \
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

/// Values: the monthly sale totals of partnerships with a party in the
/// group, once per group (`m` is distinct per partnership and group).
/// Contributors: the accepted artisan parties of those partnerships.
const REVENUE: &str = "\
SELECT CAST(NULL AS TEXT) AS artisan_id, CAST(NULL AS TEXT) AS entity, r.month AS month, \
       m.country AS country, m.craft AS craft, r.currency AS currency, r.amount_minor AS v1, \
       CASE WHEN lp.artisan_id IS NOT NULL THEN r.amount_minor ELSE 0 END AS v2, \
       CASE WHEN r.party_id = '' THEN r.amount_minor ELSE 0 END AS v3 \
FROM impact_sale_months r \
JOIN (SELECT DISTINCT pp.partnership_id AS partnership_id, {C} AS country, {K} AS craft \
        FROM partnership_parties pp JOIN artisans a ON a.id = pp.artisan_id WHERE pp.status = 'accepted') m \
  ON m.partnership_id = r.partnership_id \
LEFT JOIN partnership_parties lp ON lp.id = r.party_id \
WHERE r.month >= {M:$1} AND r.month < {M:$2} \
UNION ALL \
SELECT pp.artisan_id, CAST(NULL AS TEXT), ps.month, {C}, {K}, ps.currency, 0, 0, 0 \
FROM (SELECT DISTINCT r.partnership_id AS partnership_id, r.month AS month, r.currency AS currency \
        FROM impact_sale_months r WHERE r.month >= {M:$1} AND r.month < {M:$2}) ps \
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
    // Planned with its period each time: how many rows it reads depends on it.
    let mut query = sql_text(sql).planned_each_call();
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

/// `{M:column}` → the `YYYY-MM` of a date or timestamp column (or
/// parameter), the same text on both databases.
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
