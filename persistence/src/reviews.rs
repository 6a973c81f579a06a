//! Reviews of an artisan, newest first.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::reviews;
use crate::{AnyConnection, Page, Seek, StoreError};

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
    seek: Seek<'_>,
) -> Result<Page<ReviewRow>, StoreError> {
    let query = reviews::table
        .filter(reviews::subject_id.eq(subject_id.to_owned()))
        .into_boxed();
    let rows = newest_first!(query, reviews, seek).load::<ReviewRow>(conn)?;
    Ok(Page::from_overfetch(rows, seek.limit))
}

/// A review to record: one per reviewer and exchange.
pub struct NewReview<'a> {
    pub exchange_id: &'a str,
    pub reviewer_id: &'a str,
    pub subject_id: &'a str,
    pub rating: i16,
    pub comment: &'a str,
}

/// Records a review and folds it into the subject's rating in the same
/// transaction, so the profile's average and count always match the rows.
/// A second review by the same reviewer of the same exchange is refused
/// (`AlreadyReviewed`).
pub fn insert(conn: &mut AnyConnection, review: NewReview<'_>) -> Result<ReviewRow, StoreError> {
    use crate::error::unless_taken;
    use crate::schema::artisans;
    use domain::refusal::ExchangeRefusal;

    let row = ReviewRow {
        id: domain::ids::ReviewId::new().to_string(),
        exchange_id: review.exchange_id.to_owned(),
        reviewer_id: review.reviewer_id.to_owned(),
        subject_id: review.subject_id.to_owned(),
        rating: review.rating,
        comment: review.comment.to_owned(),
        created_at: crate::now(),
    };
    crate::write_tx(conn, |conn| {
        diesel::insert_into(reviews::table)
            .values((
                reviews::id.eq(&row.id),
                reviews::exchange_id.eq(&row.exchange_id),
                reviews::reviewer_id.eq(&row.reviewer_id),
                reviews::subject_id.eq(&row.subject_id),
                reviews::rating.eq(row.rating),
                reviews::comment.eq(&row.comment),
                reviews::created_at.eq(row.created_at),
            ))
            .execute(conn)
            .map_err(unless_taken(ExchangeRefusal::AlreadyReviewed))?;
        diesel::update(artisans::table.find(&row.subject_id))
            .set((
                artisans::rating_sum.eq(artisans::rating_sum + i64::from(row.rating)),
                artisans::rating_count.eq(artisans::rating_count + 1),
            ))
            .execute(conn)?;
        Ok(row)
    })
}
