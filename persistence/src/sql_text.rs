//! Statements written as SQL text, prepared once per connection.

use diesel::expression::AsExpression;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::result::Error;
use diesel::sql_types::Untyped;
use diesel::{QueryResult, RunQueryDsl};

use crate::Backend;

/// A statement written as SQL text, for the few shapes the query builder
/// cannot express through `MultiConnection` (multi-row `VALUES`, `ON
/// CONFLICT`, `CASE`) or that a hot path runs often. Values always travel
/// as bind parameters, never in the text: `$n` stands for the `n`-th value
/// bound, wherever it appears, and each appearance is sent as a parameter
/// of its own, numbered as the backend numbers them. Every value bound must
/// be named, and every `$n` bound (else executing it is an error). `$n` is
/// found anywhere in the text, string literals and comments included: none
/// may hold one.
///
/// Each connection prepares such a statement once and then reuses it,
/// finding it again by its text and bind types: PostgreSQL parses it once
/// (and plans it with the values of its first runs, then, where that costs
/// no more, once for all). diesel prepares none of its own SQL text
/// (`sql_query`), no `UPDATE`, no `ON CONFLICT … DO UPDATE` and, on
/// PostgreSQL, no `INSERT` of a row with an optional field: the number of
/// their texts is unbounded, and so would be the statements kept on the
/// server. The text of a `SqlText` must therefore be a function of counts
/// and flags only, so that a connection holds a few shapes of each. A
/// statement whose best plan depends on its values (a report over a
/// period) is planned on each call instead: [`SqlText::planned_each_call`].
pub(crate) struct SqlText<'f> {
    parts: Vec<Part>,
    /// The values the text names, by index, each once, in order.
    named: Vec<usize>,
    values: Vec<Box<dyn QueryFragment<Backend> + Send + 'f>>,
    prepared: bool,
}

/// A run of text, or the place of a value (its index among those bound).
enum Part {
    Text(String),
    Value(usize),
}

pub(crate) fn sql_text<'f>(sql: String) -> SqlText<'f> {
    let parts = parts(&sql);
    let mut named: Vec<usize> = parts
        .iter()
        .filter_map(|part| match part {
            Part::Value(i) => Some(*i),
            Part::Text(_) => None,
        })
        .collect();
    named.sort_unstable();
    named.dedup();
    SqlText {
        parts,
        named,
        values: Vec::new(),
        prepared: true,
    }
}

/// Splits `sql` at each `$n`.
fn parts(sql: &str) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut text = String::new();
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '$' || !chars.peek().is_some_and(char::is_ascii_digit) {
            text.push(c);
            continue;
        }
        let mut n = 0_usize;
        while let Some(digit) = chars.peek().and_then(|d| d.to_digit(10)) {
            n = n.saturating_mul(10).saturating_add(digit as usize);
            chars.next();
        }
        parts.push(Part::Text(std::mem::take(&mut text)));
        // `$0` names no value; it is reported as unbound.
        parts.push(Part::Value(n.wrapping_sub(1)));
    }
    parts.push(Part::Text(text));
    parts
}

impl<'f> SqlText<'f> {
    /// Binds the next value: the first bound is `$1`.
    pub(crate) fn bind<T, V>(mut self, value: V) -> Self
    where
        V: AsExpression<T>,
        V::Expression: QueryFragment<Backend> + Send + 'f,
        T: diesel::sql_types::SqlType + diesel::expression::TypedExpressionType,
    {
        self.values.push(Box::new(value.as_expression()));
        self
    }

    /// Sends the statement unprepared, to be planned with its values on
    /// every call.
    pub(crate) fn planned_each_call(mut self) -> Self {
        self.prepared = false;
        self
    }

    /// An error unless the text names exactly the values bound.
    fn check_binds(&self) -> QueryResult<()> {
        let bound = self.values.len();
        let unbound = self.named.iter().find(|&&i| i >= bound);
        let unnamed = (0..bound).find(|i| self.named.binary_search(i).is_err());
        let problem = match (unbound, unnamed) {
            (Some(i), _) => format!(
                "SQL text names ${} but binds only {bound}",
                i.wrapping_add(1)
            ),
            (None, Some(i)) => format!("SQL text binds a value it never names (${})", i + 1),
            (None, None) => return Ok(()),
        };
        Err(Error::QueryBuilderError(problem.into()))
    }
}

impl QueryFragment<Backend> for SqlText<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Backend>) -> QueryResult<()> {
        self.check_binds()?;
        if !self.prepared {
            out.unsafe_to_cache_prepared();
        }
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_sql(text),
                Part::Value(i) => {
                    if let Some(value) = self.values.get(*i) {
                        value.walk_ast(out.reborrow())?;
                    }
                }
            }
        }
        Ok(())
    }
}

impl QueryId for SqlText<'_> {
    type QueryId = ();
    // No static id: the statement cache keys it by its text.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for SqlText<'_> {
    type SqlType = Untyped;
}

impl<C> RunQueryDsl<C> for SqlText<'_> {}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use diesel::connection::InstrumentationEvent;
    use diesel::dsl::sql;
    use diesel::sql_types::{BigInt, Text};
    use diesel::{Connection, RunQueryDsl, SqliteConnection};

    use super::sql_text;
    use crate::AnyConnection;

    /// An in-memory SQLite connection, and PostgreSQL's when
    /// `TEST_DATABASE_URL` names it.
    pub(crate) fn connections() -> Vec<AnyConnection> {
        let mut out = vec![AnyConnection::Sqlite(
            SqliteConnection::establish(":memory:").expect("in-memory SQLite"),
        )];
        if let Ok(url) = std::env::var("TEST_DATABASE_URL") {
            out.push(AnyConnection::establish(&url).expect("TEST_DATABASE_URL"));
        }
        out
    }

    /// Counts the statements the connection puts in its statement cache.
    pub(crate) fn count_cached(conn: &mut AnyConnection) -> Arc<AtomicUsize> {
        let cached = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&cached);
        conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
            if let InstrumentationEvent::CacheQuery { .. } = event {
                counter.fetch_add(1, Ordering::SeqCst);
            }
        });
        cached
    }

    fn total(conn: &mut AnyConnection) -> i64 {
        diesel::select(sql::<BigInt>(
            "(SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM sql_text_probe)",
        ))
        .get_result(conn)
        .expect("sum")
    }

    #[test]
    fn each_shape_is_prepared_once_and_bound_afresh() {
        for mut conn in connections() {
            diesel::sql_query(
                "CREATE TEMPORARY TABLE sql_text_probe (n BIGINT NOT NULL, label TEXT)",
            )
            .execute(&mut conn)
            .expect("table");
            let cached = count_cached(&mut conn);
            for n in [1_i64, 20, 300] {
                sql_text("INSERT INTO sql_text_probe (n) VALUES ($1)".to_owned())
                    .bind::<BigInt, _>(n)
                    .execute(&mut conn)
                    .expect("one row");
            }
            assert_eq!(cached.load(Ordering::SeqCst), 1, "one shape, prepared once");
            assert_eq!(total(&mut conn), 321, "each execution wrote its own value");
            // A value named twice, and values named out of order.
            sql_text(
                "INSERT INTO sql_text_probe (n, label) VALUES ($2, $1), ($2 * 10, $1)".to_owned(),
            )
            .bind::<Text, _>("pair")
            .bind::<BigInt, _>(4_000_i64)
            .execute(&mut conn)
            .expect("two rows");
            assert_eq!(
                cached.load(Ordering::SeqCst),
                2,
                "another shape, its own statement"
            );
            assert_eq!(total(&mut conn), 44_321);
            let labelled: i64 = diesel::select(sql::<BigInt>(
                "(SELECT COUNT(*) FROM sql_text_probe WHERE label = 'pair')",
            ))
            .get_result(&mut conn)
            .expect("count");
            assert_eq!(labelled, 2);
            // diesel's own SQL text is planned on every call.
            diesel::sql_query("INSERT INTO sql_text_probe (n) VALUES (5)")
                .execute(&mut conn)
                .expect("plain");
            assert_eq!(cached.load(Ordering::SeqCst), 2);
        }
    }

    #[test]
    fn text_and_values_must_agree() {
        for mut conn in connections() {
            for (text, bound, expected) in [
                ("SELECT $2", 1, "names $2 but binds only 1"),
                ("SELECT $1", 2, "never names ($2)"),
            ] {
                let mut query = sql_text(text.to_owned());
                for value in 0..bound {
                    query = query.bind::<BigInt, _>(value);
                }
                let err = query.execute(&mut conn).expect_err(expected);
                assert!(err.to_string().contains(expected), "{err}");
            }
        }
    }

    #[test]
    fn planned_each_call_is_not_kept() {
        for mut conn in connections() {
            let cached = count_cached(&mut conn);
            let n: Vec<Answer> = sql_text("SELECT $1 AS n".to_owned())
                .bind::<BigInt, _>(7_i64)
                .planned_each_call()
                .load(&mut conn)
                .expect("select");
            assert_eq!(n.first().map(|a| a.n), Some(7));
            assert_eq!(cached.load(Ordering::SeqCst), 0);
        }
    }

    #[derive(diesel::QueryableByName)]
    struct Answer {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
}
