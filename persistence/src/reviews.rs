//! Reviews of an artisan, newest first.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::reviews;
use crate::{AnyConnection, DbError, Page};

#[derive(Debug, Clone, Queryable)]
pub struct ReviewRow {
    pub id: String,
    pub exchange_id: String,
    pub reviewer_id: String,
    pub subject_id: String,
    pub rating: i16,
    pub comment: String,
    pub created_at: NaiveDateTime,
}

pub fn list_for_subject(
    conn: &mut AnyConnection,
    subject_id: &str,
    before_id: Option<&str>,
    limit: i64,
) -> Result<Page<ReviewRow>, DbError> {
    let mut query = reviews::table
        .filter(reviews::subject_id.eq(subject_id.to_owned()))
        .into_boxed();
    if let Some(id) = before_id {
        query = query.filter(reviews::id.lt(id.to_owned()));
    }
    let rows = query
        .order(reviews::id.desc())
        .limit(limit + 1)
        .load::<ReviewRow>(conn)?;
    Ok(Page::from_overfetch(rows, limit))
}
