//! Sums of amounts and minutes, summed by the database.

use diesel::backend::Backend;
use diesel::dsl::AssumeNotNull;
use diesel::expression::{
    is_aggregate, AppearsOnTable, Expression, SelectableExpression, ValidGrouping,
};
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Nullable};
use diesel::{NullableExpressionMethods, QueryResult};

/// `CAST(SUM(expr) AS BIGINT)`: the sum of a `BIGINT` expression as a
/// `BIGINT` on both databases (PostgreSQL sums `bigint` into `numeric`;
/// a sum past `i64` is an error on both, never a rounded number). `NULL`
/// over no rows. A typed expression rather than an SQL fragment, so that
/// the statement it is in is prepared once per connection (diesel never
/// caches a statement that holds a fragment).
pub fn sum_bigint<E: Expression<SqlType = BigInt>>(expr: E) -> SumBigInt<E> {
    SumBigInt(expr)
}

/// [`sum_bigint`] per group of a `GROUP BY`: every group has a row, so
/// its sum is never `NULL`.
pub fn group_sum<E: Expression<SqlType = BigInt>>(expr: E) -> AssumeNotNull<SumBigInt<E>> {
    sum_bigint(expr).assume_not_null()
}

/// See [`sum_bigint`].
#[derive(Debug, Clone, Copy, QueryId)]
pub struct SumBigInt<E>(E);

impl<E: Expression<SqlType = BigInt>> Expression for SumBigInt<E> {
    type SqlType = Nullable<BigInt>;
}

impl<E, QS> AppearsOnTable<QS> for SumBigInt<E>
where
    E: AppearsOnTable<QS>,
    Self: Expression,
{
}

impl<E, QS> SelectableExpression<QS> for SumBigInt<E>
where
    E: SelectableExpression<QS>,
    Self: AppearsOnTable<QS>,
{
}

impl<E, GroupBy> ValidGrouping<GroupBy> for SumBigInt<E> {
    type IsAggregate = is_aggregate::Yes;
}

impl<E: QueryFragment<DB>, DB: Backend> QueryFragment<DB> for SumBigInt<E> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("CAST(SUM(");
        self.0.walk_ast(out.reborrow())?;
        out.push_sql(") AS BIGINT)");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use diesel::prelude::*;

    use super::{group_sum, sum_bigint};
    use crate::sql_text::tests::{connections, count_cached};

    diesel::table! {
        sum_probe (id) {
            id -> Integer,
            label -> Text,
            n -> BigInt,
        }
    }

    #[test]
    fn a_sum_is_a_bigint_past_i32_null_over_no_rows_and_prepared_once() {
        for mut conn in connections() {
            diesel::sql_query(
                "CREATE TEMPORARY TABLE sum_probe (id INTEGER PRIMARY KEY, label TEXT NOT NULL, \
                 n BIGINT NOT NULL)",
            )
            .execute(&mut conn)
            .expect("table");
            diesel::sql_query(
                "INSERT INTO sum_probe (id, label, n) VALUES \
                 (1, 'a', 3000000000), (2, 'a', 4000000000), (3, 'a', -5), (4, 'b', 7)",
            )
            .execute(&mut conn)
            .expect("rows");
            let cached = count_cached(&mut conn);
            for _ in 0..3 {
                let grouped: Vec<(String, i64)> = sum_probe::table
                    .group_by(sum_probe::label)
                    .select((sum_probe::label, group_sum(sum_probe::n)))
                    .order(sum_probe::label.asc())
                    .load(&mut conn)
                    .expect("grouped");
                assert_eq!(
                    grouped,
                    [("a".to_owned(), 6_999_999_995), ("b".to_owned(), 7)]
                );
            }
            let none: Option<i64> = sum_probe::table
                .filter(sum_probe::label.eq("c"))
                .select(sum_bigint(sum_probe::n))
                .first(&mut conn)
                .expect("over no rows");
            assert_eq!(none, None);
            assert_eq!(
                cached.load(Ordering::SeqCst),
                2,
                "two statements, each prepared once"
            );
        }
    }
}
