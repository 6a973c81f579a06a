//! The inbox of each account. [`notify`] is called inside the transaction
//! of the change it reports, so a notification exists exactly when its
//! change does; who hears of it is [`domain::notification::recipients`]
//! (never the person who caused it).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use domain::collective::MemberRole;
use domain::notification::{self as rules, NotificationKind};
use domain::partnership::PartyStatus;
use serde_json::Value;

use crate::schema::{collective_members, notifications, partnership_parties};
use crate::{now, AnyConnection, Page, Seek, StoreError};

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = notifications)]
pub struct NotificationRow {
    pub id: String,
    pub user_id: String,
    pub kind: String,
    pub subject_type: String,
    pub subject_id: String,
    pub actor_id: Option<String>,
    pub data: String,
    pub read_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

/// What a notification is about: the kind of object and its id, with a few
/// fields to show without another request.
#[derive(Debug, Clone)]
pub(crate) struct About<'a> {
    pub(crate) kind: &'a str,
    pub(crate) id: &'a str,
    pub(crate) data: Value,
}

/// Writes `kind` about `about` to everyone `concerned` except `actor`.
pub(crate) fn notify(
    conn: &mut AnyConnection,
    kind: NotificationKind,
    concerned: Vec<String>,
    actor: Option<&str>,
    about: &About<'_>,
) -> Result<(), StoreError> {
    let at = now();
    for user in rules::recipients(concerned, actor) {
        diesel::insert_into(notifications::table)
            .values(&NotificationRow {
                id: uuid::Uuid::now_v7().to_string(),
                user_id: user,
                kind: kind.as_str().to_owned(),
                subject_type: about.kind.to_owned(),
                subject_id: about.id.to_owned(),
                actor_id: actor.map(str::to_owned),
                data: about.data.to_string(),
                read_at: None,
                created_at: at,
            })
            .execute(conn)?;
    }
    Ok(())
}

/// The people who speak for the parties: the artisan of an artisan party,
/// the coordinators of a collective party.
pub(crate) fn speakers(
    conn: &mut AnyConnection,
    party_ids: &[String],
) -> Result<Vec<String>, StoreError> {
    let parties: Vec<(Option<String>, Option<String>)> = partnership_parties::table
        .filter(partnership_parties::id.eq_any(party_ids))
        .order(partnership_parties::id.asc())
        .select((
            partnership_parties::artisan_id,
            partnership_parties::collective_id,
        ))
        .load(conn)?;
    let collectives: Vec<&String> = parties.iter().filter_map(|(_, c)| c.as_ref()).collect();
    let coordinators: Vec<String> = collective_members::table
        .filter(collective_members::collective_id.eq_any(collectives))
        .filter(collective_members::role.eq(MemberRole::Coordinator.as_str()))
        .order(collective_members::artisan_id.asc())
        .select(collective_members::artisan_id)
        .load(conn)?;
    Ok(parties
        .iter()
        .filter_map(|(artisan, _)| artisan.clone())
        .chain(coordinators)
        .collect())
}

/// The people who speak for the partnership's accepted parties.
pub(crate) fn accepted_speakers(
    conn: &mut AnyConnection,
    partnership_id: &str,
) -> Result<Vec<String>, StoreError> {
    let accepted: Vec<String> = partnership_parties::table
        .filter(partnership_parties::partnership_id.eq(partnership_id))
        .filter(partnership_parties::status.eq(PartyStatus::Accepted.as_str()))
        .select(partnership_parties::id)
        .load(conn)?;
    speakers(conn, &accepted)
}

/// The account's notifications, newest first (only unread ones if asked).
pub fn list(
    conn: &mut AnyConnection,
    user_id: &str,
    unread_only: bool,
    seek: Seek<'_>,
) -> Result<Page<NotificationRow>, StoreError> {
    let mut query = notifications::table
        .filter(notifications::user_id.eq(user_id))
        .into_boxed();
    if unread_only {
        query = query.filter(notifications::read_at.is_null());
    }
    let rows = newest_first!(query, notifications, seek).load::<NotificationRow>(conn)?;
    Ok(Page::from_overfetch(rows, seek.limit))
}

/// How many of the account's notifications are unread (the badge).
pub fn unread_count(conn: &mut AnyConnection, user_id: &str) -> Result<i64, StoreError> {
    Ok(notifications::table
        .filter(notifications::user_id.eq(user_id))
        .filter(notifications::read_at.is_null())
        .count()
        .get_result(conn)?)
}

/// Marks the account's notifications up to and including `up_to`, one of
/// its own, read (ids are time-ordered, so this is "everything I have
/// seen"; anything else is a 422 naming `up_to`); returns what is still
/// unread.
pub fn mark_read(conn: &mut AnyConnection, user_id: &str, up_to: &str) -> Result<i64, StoreError> {
    crate::write_tx(conn, |conn| {
        let mine = notifications::table
            .filter(notifications::id.eq(up_to))
            .filter(notifications::user_id.eq(user_id))
            .count()
            .get_result::<i64>(conn)?;
        if mine == 0 {
            return Err(domain::FieldError::unknown("up_to").into());
        }
        diesel::update(
            notifications::table
                .filter(notifications::user_id.eq(user_id))
                .filter(notifications::read_at.is_null())
                .filter(notifications::id.le(up_to)),
        )
        .set(notifications::read_at.eq(now()))
        .execute(conn)?;
        unread_count(conn, user_id)
    })
}
