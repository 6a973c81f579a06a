//! Exchanges between two artisans, their sessions, reviews, and the time
//! ledger they feed.
//!
//! An exchange exists only for its two parties (404 for everyone else).
//! Every change locks the exchange row first inside its write
//! transaction, so a confirmation and a status change never interleave. A
//! confirmed session writes its two ledger entries (teacher +, learner −)
//! in the same transaction, so the platform-wide sum stays 0.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use domain::exchange::{
    Action, ExchangeKind, ExchangeRefusal, ExchangeStatus, Proposal, SessionStatus, Side,
};
use domain::notification::NotificationKind;

use serde_json::json;

use crate::notifications::{self, About};
use crate::reviews::{self, NewReview, ReviewRow};
use crate::schema::{exchange_sessions, exchanges, time_ledger};
use crate::sum::sum_bigint;
use crate::users;
use crate::{json_list, now, parse_json_list, write_tx, AnyConnection, Page, Seek, StoreError};

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = exchanges)]
pub struct ExchangeRow {
    pub id: String,
    pub kind: String,
    pub proposer_id: String,
    pub partner_id: String,
    pub proposer_teaches: String,
    pub partner_teaches: String,
    pub message: String,
    pub proposed_minutes: i64,
    pub status: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

impl ExchangeRow {
    pub fn kind(&self) -> ExchangeKind {
        ExchangeKind::parse(&self.kind).unwrap_or(ExchangeKind::Swap)
    }

    pub fn status(&self) -> ExchangeStatus {
        ExchangeStatus::parse(&self.status).unwrap_or(ExchangeStatus::Cancelled)
    }

    /// The caller's side, if they are a party.
    pub fn side(&self, artisan: &str) -> Option<Side> {
        if self.proposer_id == artisan {
            Some(Side::Proposer)
        } else if self.partner_id == artisan {
            Some(Side::Partner)
        } else {
            None
        }
    }

    /// The other party.
    pub fn other(&self, artisan: &str) -> &str {
        if self.proposer_id == artisan {
            &self.partner_id
        } else {
            &self.proposer_id
        }
    }

    /// The skills `artisan` teaches in this exchange.
    pub fn teaches(&self, artisan: &str) -> Vec<String> {
        parse_json_list(if self.proposer_id == artisan {
            &self.proposer_teaches
        } else {
            &self.partner_teaches
        })
    }
}

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = exchange_sessions)]
pub struct SessionRow {
    pub id: String,
    pub exchange_id: String,
    pub taught_by: String,
    pub learner_id: String,
    pub skill: String,
    pub minutes: i64,
    pub held_on: NaiveDate,
    pub recorded_by: String,
    pub status: String,
    pub confirmed_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = time_ledger)]
pub struct LedgerRow {
    pub id: String,
    pub artisan_id: String,
    pub minutes: i64,
    pub counterparty_id: String,
    pub session_id: Option<String>,
    pub registration_id: Option<String>,
    pub created_at: NaiveDateTime,
}

/// What a ledger transfer is for.
pub enum Reason<'a> {
    Session(&'a str),
    Registration(&'a str),
}

/// Moves `minutes` from `payer` to `payee` as two entries in the caller's
/// transaction.
pub(crate) fn transfer(
    conn: &mut AnyConnection,
    payer: &str,
    payee: &str,
    minutes: i64,
    reason: &Reason<'_>,
) -> Result<(), StoreError> {
    let at = now();
    let (session_id, registration_id) = match reason {
        Reason::Session(id) => (Some((*id).to_owned()), None),
        Reason::Registration(id) => (None, Some((*id).to_owned())),
    };
    for (artisan, counterparty, amount) in [(payee, payer, minutes), (payer, payee, -minutes)] {
        let entry = LedgerRow {
            id: uuid::Uuid::now_v7().to_string(),
            artisan_id: artisan.to_owned(),
            minutes: amount,
            counterparty_id: counterparty.to_owned(),
            session_id: session_id.clone(),
            registration_id: registration_id.clone(),
            created_at: at,
        };
        diesel::insert_into(time_ledger::table)
            .values(&entry)
            .execute(conn)?;
    }
    Ok(())
}

/// Proposes an exchange to `partner_id` (for a mentorship, the mentor).
pub fn propose(
    conn: &mut AnyConnection,
    proposer: &str,
    partner_id: &str,
    proposal: &Proposal,
) -> Result<ExchangeRow, StoreError> {
    write_tx(conn, |conn| {
        users::hold_actor(conn, proposer)?;
        users::hold_current(conn, partner_id, "partner_id")?;
        insert_proposal(conn, proposer, partner_id, proposal)
    })
}

fn insert_proposal(
    conn: &mut AnyConnection,
    proposer: &str,
    partner_id: &str,
    proposal: &Proposal,
) -> Result<ExchangeRow, StoreError> {
    let at = now();
    let row = ExchangeRow {
        id: uuid::Uuid::now_v7().to_string(),
        kind: proposal.kind.as_str().to_owned(),
        proposer_id: proposer.to_owned(),
        partner_id: partner_id.to_owned(),
        proposer_teaches: json_list(&proposal.i_teach),
        partner_teaches: json_list(&proposal.they_teach),
        message: proposal.message.clone(),
        proposed_minutes: proposal.proposed_minutes,
        status: ExchangeStatus::Proposed.as_str().to_owned(),
        created_at: at,
        updated_at: at,
        version: 1,
    };
    diesel::insert_into(exchanges::table)
        .values(&row)
        .execute(conn)?;
    Ok(row)
}

/// The exchange has `viewer` on one of its two sides.
fn party_to(
    viewer: &str,
) -> diesel::dsl::Or<
    diesel::dsl::Eq<exchanges::proposer_id, &str>,
    diesel::dsl::Eq<exchanges::partner_id, &str>,
> {
    exchanges::proposer_id
        .eq(viewer)
        .or(exchanges::partner_id.eq(viewer))
}

/// The exchange if `viewer` is one of its parties.
pub fn find(conn: &mut AnyConnection, id: &str, viewer: &str) -> Result<ExchangeRow, StoreError> {
    exchanges::table
        .find(id)
        .filter(party_to(viewer))
        .first::<ExchangeRow>(conn)
        .optional()?
        .ok_or(StoreError::NotFound)
}

/// Locks the exchange row (`lock_row!`: changes one after another) and
/// reads it, for its two sides only.
fn lock(conn: &mut AnyConnection, id: &str, viewer: &str) -> Result<ExchangeRow, StoreError> {
    lock_row!(conn, exchanges::table.find(id).filter(party_to(viewer)))?.ok_or(StoreError::NotFound)
}

/// Accept, decline, complete or cancel, as the caller's side allows.
pub fn act(
    conn: &mut AnyConnection,
    id: &str,
    viewer: &str,
    action: Action,
) -> Result<ExchangeRow, StoreError> {
    write_tx(conn, |conn| {
        users::hold_actor(conn, viewer)?;
        let mut row = lock(conn, id, viewer)?;
        let side = row.side(viewer).ok_or(StoreError::NotFound)?;
        let next = row.status().after(action, side)?;
        set_status(conn, &mut row, next)?;
        Ok(row)
    })
}

/// The viewer's exchanges (either side), newest first.
pub fn list(
    conn: &mut AnyConnection,
    viewer: &str,
    status: Option<ExchangeStatus>,
    seek: Seek<'_>,
) -> Result<Page<ExchangeRow>, StoreError> {
    let mut query = exchanges::table
        .filter(
            exchanges::proposer_id
                .eq(viewer.to_owned())
                .or(exchanges::partner_id.eq(viewer.to_owned())),
        )
        .into_boxed();
    if let Some(status) = status {
        query = query.filter(exchanges::status.eq(status.as_str()));
    }
    let rows = newest_first!(query, exchanges, seek).load::<ExchangeRow>(conn)?;
    Ok(Page::from_overfetch(rows, seek.limit))
}

/// The sessions of the given exchanges, oldest first.
pub fn sessions_of(
    conn: &mut AnyConnection,
    ids: &[String],
) -> Result<Vec<SessionRow>, StoreError> {
    Ok(exchange_sessions::table
        .filter(exchange_sessions::exchange_id.eq_any(ids))
        .order(exchange_sessions::id.asc())
        .load(conn)?)
}

/// A session to record.
pub struct NewSession<'a> {
    pub taught_by: &'a str,
    pub skill: &'a str,
    pub minutes: i64,
    pub held_on: NaiveDate,
}

/// Either party records a session of an accepted exchange; the teacher
/// must be a party and the skill one they teach in this exchange.
pub fn record_session(
    conn: &mut AnyConnection,
    exchange_id: &str,
    viewer: &str,
    session: &NewSession<'_>,
) -> Result<SessionRow, StoreError> {
    write_tx(conn, |conn| {
        let exchange = lock(conn, exchange_id, viewer)?;
        let teaches = exchange
            .teaches(session.taught_by)
            .iter()
            .any(|s| s == session.skill);
        exchange
            .status()
            .may_record_session(exchange.side(session.taught_by), teaches)?;
        let row = SessionRow {
            id: uuid::Uuid::now_v7().to_string(),
            exchange_id: exchange_id.to_owned(),
            taught_by: session.taught_by.to_owned(),
            learner_id: exchange.other(session.taught_by).to_owned(),
            skill: session.skill.to_owned(),
            minutes: session.minutes,
            held_on: session.held_on,
            recorded_by: viewer.to_owned(),
            status: SessionStatus::Pending.as_str().to_owned(),
            confirmed_at: None,
            created_at: now(),
        };
        diesel::insert_into(exchange_sessions::table)
            .values(&row)
            .execute(conn)?;
        notifications::notify(
            conn,
            NotificationKind::SessionAwaitingConfirmation,
            vec![exchange.proposer_id.clone(), exchange.partner_id.clone()],
            Some(viewer),
            &About {
                kind: "exchange_session",
                id: &row.id,
                data: json!({"exchange_id": exchange_id, "skill": row.skill, "minutes": row.minutes}),
            },
        )?;
        Ok(row)
    })
}

/// The party who did not record a session confirms it; its hours move in
/// the ledger in the same transaction.
pub fn confirm_session(
    conn: &mut AnyConnection,
    exchange_id: &str,
    session_id: &str,
    viewer: &str,
) -> Result<SessionRow, StoreError> {
    write_tx(conn, |conn| {
        let exchange = lock(conn, exchange_id, viewer)?;
        let mut session = exchange_sessions::table
            .find(session_id)
            .filter(exchange_sessions::exchange_id.eq(exchange_id))
            .first::<SessionRow>(conn)
            .optional()?
            .ok_or(StoreError::NotFound)?;
        let current = SessionStatus::parse(&session.status).unwrap_or(SessionStatus::Confirmed);
        exchange
            .status()
            .may_confirm_session(session.recorded_by == viewer, current)?;
        session.status = SessionStatus::Confirmed.as_str().to_owned();
        session.confirmed_at = Some(now());
        diesel::update(exchange_sessions::table.find(session_id))
            .set((
                exchange_sessions::status.eq(&session.status),
                exchange_sessions::confirmed_at.eq(session.confirmed_at),
            ))
            .execute(conn)?;
        transfer(
            conn,
            &session.learner_id,
            &session.taught_by,
            session.minutes,
            &Reason::Session(&session.id),
        )?;
        Ok(session)
    })
}

/// A party reviews the other after the exchange is completed; once each.
pub fn review(
    conn: &mut AnyConnection,
    exchange_id: &str,
    viewer: &str,
    rating: i16,
    comment: &str,
) -> Result<ReviewRow, StoreError> {
    write_tx(conn, |conn| {
        let exchange = lock(conn, exchange_id, viewer)?;
        if exchange.status() != ExchangeStatus::Completed {
            return Err(ExchangeRefusal::NotCompleted.into());
        }
        reviews::insert(
            conn,
            NewReview {
                exchange_id,
                reviewer_id: viewer,
                subject_id: exchange.other(viewer),
                rating,
                comment,
            },
        )
    })
}

/// The viewer's ledger entries, newest first, and their balance.
pub fn ledger(
    conn: &mut AnyConnection,
    artisan: &str,
    seek: Seek<'_>,
) -> Result<(Page<LedgerRow>, i64), StoreError> {
    let query = time_ledger::table
        .filter(time_ledger::artisan_id.eq(artisan.to_owned()))
        .into_boxed();
    let rows = newest_first!(query, time_ledger, seek).load::<LedgerRow>(conn)?;
    let balance = time_ledger::table
        .filter(time_ledger::artisan_id.eq(artisan))
        .select(sum_bigint(time_ledger::minutes))
        .first::<Option<i64>>(conn)?
        .unwrap_or(0);
    Ok((Page::from_overfetch(rows, seek.limit), balance))
}

/// Closing an account (part of `departures::close_account`, in its
/// transaction): every open exchange of the person ends
/// ([`ExchangeStatus::on_account_closed`]).
pub(crate) fn on_account_closed(
    conn: &mut AnyConnection,
    artisan_id: &str,
) -> Result<(), StoreError> {
    let open = [
        ExchangeStatus::Proposed.as_str(),
        ExchangeStatus::Accepted.as_str(),
    ];
    let ids: Vec<String> = exchanges::table
        .filter(
            exchanges::proposer_id
                .eq(artisan_id)
                .or(exchanges::partner_id.eq(artisan_id)),
        )
        .filter(exchanges::status.eq_any(open))
        .order(exchanges::id.asc())
        .select(exchanges::id)
        .load(conn)?;
    for id in ids {
        let mut row = lock(conn, &id, artisan_id)?;
        let Some(side) = row.side(artisan_id) else {
            continue;
        };
        if let Some(next) = row.status().on_account_closed(side) {
            set_status(conn, &mut row, next)?;
        }
    }
    Ok(())
}

fn set_status(
    conn: &mut AnyConnection,
    row: &mut ExchangeRow,
    next: ExchangeStatus,
) -> Result<(), StoreError> {
    row.status = next.as_str().to_owned();
    row.version += 1;
    row.updated_at = now();
    diesel::update(exchanges::table.find(&row.id))
        .set((
            exchanges::status.eq(&row.status),
            exchanges::version.eq(row.version),
            exchanges::updated_at.eq(row.updated_at),
        ))
        .execute(conn)?;
    Ok(())
}
