//! Agreements of a partnership: drafts, signatures, activation,
//! amendments and the audit trail — stored here, decided in
//! `domain::agreement` (load → decide → save).
//!
//! An agreement is visible exactly when its partnership is. Every change
//! locks the partnership row first inside its write transaction, loads the
//! agreement and its [`Context`] (accepted parties, the agreements in
//! force, the one it amends), asks the domain aggregate, and writes the
//! events it returns ([`save`]): rows, signatures, the audit trail and the
//! outbox. Under that lock the changes of one partnership's agreements
//! happen one after the other — a signature and an edit, two final
//! signatures, two amendments never interleave — which is what makes "a
//! signature counts only for the hash it named" and "at most one agreement
//! in force per date" hold on both databases.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use domain::agreement::{
    draft, replay, Agreement, AgreementEvent, AgreementKind, AgreementRefusal, AgreementStatus,
    Amended, Context, EventKind, Governing, Recorded, Terms,
};
use domain::notification::NotificationKind;
use domain::partnership::{party_status_at, PartyStatus, Reach};
use domain::precondition::Precondition;
use domain::webhook::EventType;
use domain::{FieldError, FieldErrors};
use serde_json::json;

use crate::error::unless_taken;
use crate::notifications::{self, About};
use crate::partnerships::{self, PartnershipRow, PartyRow, Roster, Viewer};
use crate::schema::{agreement_events, agreement_signatures, agreements, organizations};
use crate::{campaigns, now, outbox, write_tx, AnyConnection, Backend, Page, Seek, StoreError};

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = agreements)]
pub struct AgreementRow {
    pub id: String,
    pub partnership_id: String,
    pub kind: String,
    pub supersedes: Option<String>,
    pub status: String,
    pub terms: String,
    pub content_hash: String,
    pub currency: String,
    pub effective_from: NaiveDate,
    pub effective_until: Option<NaiveDate>,
    pub superseded_from: Option<NaiveDate>,
    pub superseded_by: Option<String>,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub activated_at: Option<NaiveDateTime>,
    pub revision: i64,
    pub version: i64,
}

impl AgreementRow {
    pub fn kind(&self) -> AgreementKind {
        AgreementKind::parse(&self.kind).unwrap_or(AgreementKind::Original)
    }

    pub fn status(&self) -> AgreementStatus {
        AgreementStatus::parse(&self.status).unwrap_or(AgreementStatus::Declined)
    }

    /// The dates it is meant to govern.
    pub fn dates(&self) -> (NaiveDate, Option<NaiveDate>) {
        (self.effective_from, self.effective_until)
    }

    /// The stored terms. The column holds the canonical document this
    /// crate wrote, so it always parses; a corrupt value would be a bug.
    pub fn terms(&self) -> Result<Terms, StoreError> {
        Terms::from_document(&self.terms).ok_or(StoreError::Corrupt("stored terms are unreadable"))
    }
}

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = agreement_signatures)]
pub struct SignatureRow {
    pub id: String,
    pub agreement_id: String,
    pub revision: i64,
    pub party_id: String,
    pub content_hash: String,
    pub signed_by: String,
    pub signed_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = agreement_events)]
pub struct EventRow {
    pub id: String,
    pub agreement_id: String,
    pub kind: String,
    pub version: i64,
    pub content_hash: String,
    pub actor_id: Option<String>,
    pub party_id: Option<String>,
    pub related_agreement_id: Option<String>,
    pub note: Option<String>,
    pub occurred_at: NaiveDateTime,
    /// The document after a `created` or `edited` event.
    pub document: Option<String>,
}

/// An agreement with what a reader needs beside it: the signatures that
/// count (those on its current revision) and the partnership's accepted
/// parties (who must sign).
#[derive(Debug, Clone)]
pub struct AgreementView {
    pub row: AgreementRow,
    pub signatures: Vec<SignatureRow>,
    pub accepted_parties: Vec<String>,
}

/// Who acts, and for which party when they speak for several.
#[derive(Debug, Clone)]
pub struct Actor {
    pub viewer: Viewer,
    pub party_id: Option<String>,
}

fn find_row(conn: &mut AnyConnection, id: &str) -> Result<AgreementRow, StoreError> {
    agreements::table
        .find(id)
        .first::<AgreementRow>(conn)
        .optional()?
        .ok_or(StoreError::NotFound)
}

/// The agreement if the viewer reads its partnership and, for a party
/// that left, it was made before they left.
pub fn find(
    conn: &mut AnyConnection,
    id: &str,
    viewer: &Viewer,
) -> Result<AgreementRow, StoreError> {
    find_with_horizon(conn, id, viewer).map(|(row, _)| row)
}

fn find_with_horizon(
    conn: &mut AnyConnection,
    id: &str,
    viewer: &Viewer,
) -> Result<(AgreementRow, Option<NaiveDateTime>), StoreError> {
    let row = find_row(conn, id)?;
    partnerships::find_visible(conn, &row.partnership_id, viewer, Reach::Read)?;
    let horizon = partnerships::horizon(conn, &row.partnership_id, viewer)?;
    if horizon.is_some_and(|until| row.created_at > until) {
        return Err(StoreError::NotFound);
    }
    Ok((row, horizon))
}

/// An agreement's partnership, locked, with its roster.
struct Locked {
    partnership: PartnershipRow,
    roster: Roster,
}

/// Locks the partnership (visibility checked) and reads its roster under
/// that lock.
fn lock_partnership(
    conn: &mut AnyConnection,
    partnership_id: &str,
    viewer: &Viewer,
) -> Result<Locked, StoreError> {
    let partnership = partnerships::lock(conn, partnership_id, viewer, Reach::Read)?;
    let roster = Roster::load(conn, partnership_id, viewer)?;
    Ok(Locked {
        partnership,
        roster,
    })
}

/// Locks the agreement's partnership and reads the agreement afresh under
/// that lock.
fn lock(
    conn: &mut AnyConnection,
    id: &str,
    viewer: &Viewer,
) -> Result<(AgreementRow, Locked), StoreError> {
    let partnership_id = find_row(conn, id)?.partnership_id;
    let locked = lock_partnership(conn, &partnership_id, viewer)?;
    let row = find_row(conn, id)?;
    // A party that left does not see agreements made after it left, on
    // write paths either (a 403 would tell that they exist).
    if locked
        .roster
        .horizon()?
        .is_some_and(|until| row.created_at > until)
    {
        return Err(StoreError::NotFound);
    }
    Ok((row, locked))
}

/// The accepted party the actor acts for (the domain chooses among those
/// they speak for).
fn acting_party(roster: &Roster, actor: &Actor) -> Result<PartyRow, StoreError> {
    let spoken = roster.spoken_for();
    let ids: Vec<&str> = spoken.iter().map(|party| party.id.as_str()).collect();
    let chosen = domain::partnership::acting_party(&ids, actor.party_id.as_deref())?;
    Ok(spoken[chosen].clone())
}

/// The actor speaks for an accepted party (any: drafting, editing and
/// amending do not act for one party in particular).
fn accepted_speaker(roster: &Roster) -> Result<(), StoreError> {
    let spoken = roster.spoken_for();
    let ids: Vec<&str> = spoken.iter().map(|party| party.id.as_str()).collect();
    Ok(domain::partnership::speaks_for_a_party(&ids)?)
}

/// The partnership's activated, governing agreements (terminations only
/// end others) whose dates can meet `from`–`until`, as a query to select
/// from; which of them governs a given day is the domain's
/// ([`domain::agreement::InForce::window`]).
pub(crate) fn governing(
    partnership_id: &str,
    (from, until): (NaiveDate, Option<NaiveDate>),
) -> agreements::BoxedQuery<'_, Backend> {
    let activated = [
        AgreementStatus::Active.as_str(),
        AgreementStatus::Superseded.as_str(),
        AgreementStatus::Terminated.as_str(),
    ];
    let query = agreements::table
        .filter(agreements::partnership_id.eq(partnership_id))
        .filter(agreements::status.eq_any(activated))
        .filter(agreements::kind.ne(AgreementKind::Termination.as_str()))
        .filter(
            agreements::effective_until
                .is_null()
                .or(agreements::effective_until.ge(from)),
        )
        .filter(
            agreements::superseded_from
                .is_null()
                .or(agreements::superseded_from.gt(from)),
        )
        .into_boxed();
    match until {
        Some(until) => query.filter(agreements::effective_from.le(until)),
        None => query,
    }
}

/// What the decisions on agreements of this partnership need, read under
/// its lock: its status, accepted parties, the governing agreements whose
/// dates can meet `from`–`until` (the dates being decided on; the exact
/// check is the domain's), and the agreement `supersedes` names, if any.
fn context(
    conn: &mut AnyConnection,
    partnership: &PartnershipRow,
    accepted_parties: Vec<String>,
    supersedes: Option<&str>,
    dates: (NaiveDate, Option<NaiveDate>),
) -> Result<Context, StoreError> {
    let governing = governing(&partnership.id, dates)
        .select((
            agreements::id,
            agreements::effective_from,
            agreements::effective_until,
            agreements::superseded_from,
        ))
        .load::<(String, NaiveDate, Option<NaiveDate>, Option<NaiveDate>)>(conn)?
        .into_iter()
        .map(
            |(id, effective_from, effective_until, superseded_from)| Governing {
                id,
                effective_from,
                effective_until,
                superseded_from,
            },
        )
        .collect();
    let amended = supersedes
        .map(|id| find_row(conn, id))
        .transpose()?
        .map(|a| Amended {
            status: a.status(),
            effective_from: a.effective_from,
            id: a.id,
        });
    Ok(Context {
        partnership: partnership.status(),
        accepted_parties,
        governing,
        amended,
    })
}

fn dates(terms: &Terms) -> (NaiveDate, Option<NaiveDate>) {
    (terms.effective_from(), terms.effective_until())
}

/// The agreement as its decisions see it.
fn aggregate(conn: &mut AnyConnection, row: &AgreementRow) -> Result<Agreement, StoreError> {
    Ok(Agreement {
        id: row.id.clone(),
        kind: row.kind(),
        status: row.status(),
        terms: row.terms()?,
        content_hash: row.content_hash.clone(),
        signed: current_signatures(conn, row)?
            .into_iter()
            .map(|s| s.party_id)
            .collect(),
    })
}

/// Ids in the terms name what exists (SPEC §2): every beneficiary's
/// organization is registered, every campaign exists and is open on the
/// agreement's `effective_from` ([`campaigns::share_errors`]).
fn check_references(conn: &mut AnyConnection, terms: &Terms) -> Result<(), StoreError> {
    let mut errors = FieldErrors::default();
    for (field, id) in terms.organization_ids() {
        let known = organizations::table
            .find(id)
            .count()
            .get_result::<i64>(conn)?;
        if known == 0 {
            errors.push(FieldError::unknown(field));
        }
    }
    for error in campaigns::share_errors(conn, terms)?.0 {
        errors.push(error);
    }
    Ok(errors.finish(|| ())?)
}

/// One entry of the audit trail.
struct Record<'a> {
    kind: EventKind,
    actor: Option<&'a str>,
    party: Option<&'a str>,
    related: Option<&'a str>,
    note: Option<&'a str>,
}

fn record(
    conn: &mut AnyConnection,
    row: &AgreementRow,
    entry: Record<'_>,
) -> Result<(), StoreError> {
    let event = EventRow {
        id: uuid::Uuid::now_v7().to_string(),
        agreement_id: row.id.clone(),
        kind: entry.kind.as_str().to_owned(),
        version: row.version,
        content_hash: row.content_hash.clone(),
        actor_id: entry.actor.map(str::to_owned),
        party_id: entry.party.map(str::to_owned),
        related_agreement_id: entry.related.map(str::to_owned),
        note: entry.note.map(str::to_owned),
        occurred_at: now(),
        document: matches!(entry.kind, EventKind::Created | EventKind::Edited)
            .then(|| row.terms.clone()),
    };
    diesel::insert_into(agreement_events::table)
        .values(&event)
        .execute(conn)?;
    let notice = match entry.kind {
        EventKind::Created | EventKind::Edited => {
            Some(NotificationKind::AgreementAwaitingSignature)
        }
        EventKind::Activated => Some(NotificationKind::AgreementActivated),
        EventKind::Declined => Some(NotificationKind::AgreementDeclined),
        _ => None,
    };
    if let Some(kind) = notice {
        let parties = notifications::accepted_speakers(conn, &row.partnership_id)?;
        notifications::notify(
            conn,
            kind,
            parties,
            entry.actor,
            &About {
                kind: "agreement",
                id: &row.id,
                data: json!({"partnership_id": row.partnership_id, "version": row.version}),
            },
        )?;
    }
    Ok(())
}

fn set_terms(row: &mut AgreementRow, terms: &Terms) {
    let kind = row.kind();
    row.terms = terms.canonical_json(kind);
    row.content_hash = terms.content_hash(kind);
    row.currency = terms.currency().to_owned();
    row.effective_from = terms.effective_from();
    row.effective_until = terms.effective_until();
}

fn insert(
    conn: &mut AnyConnection,
    partnership_id: &str,
    kind: AgreementKind,
    supersedes: Option<&str>,
    terms: &Terms,
    creator: &str,
) -> Result<AgreementRow, StoreError> {
    let at = now();
    let mut row = AgreementRow {
        id: uuid::Uuid::now_v7().to_string(),
        partnership_id: partnership_id.to_owned(),
        kind: kind.as_str().to_owned(),
        supersedes: supersedes.map(str::to_owned),
        status: AgreementStatus::Draft.as_str().to_owned(),
        terms: String::new(),
        content_hash: String::new(),
        currency: String::new(),
        effective_from: terms.effective_from(),
        effective_until: None,
        superseded_from: None,
        superseded_by: None,
        created_by: creator.to_owned(),
        created_at: at,
        updated_at: at,
        activated_at: None,
        revision: 1,
        version: 1,
    };
    set_terms(&mut row, terms);
    diesel::insert_into(agreements::table)
        .values(&row)
        .execute(conn)
        .map_err(unless_taken(AgreementRefusal::AmendmentOpen))?;
    record(
        conn,
        &row,
        Record {
            kind: EventKind::Created,
            actor: Some(creator),
            party: None,
            related: supersedes,
            note: None,
        },
    )?;
    Ok(row)
}

/// Writes what a decision caused: the agreement's row, signatures, the
/// amended agreement's end, the audit trail and the outbox.
fn save(
    conn: &mut AnyConnection,
    row: &mut AgreementRow,
    events: Vec<AgreementEvent>,
    actor: &str,
) -> Result<(), StoreError> {
    for event in events {
        let entry = |kind| Record {
            kind,
            actor: Some(actor),
            party: None,
            related: None,
            note: None,
        };
        match event {
            AgreementEvent::Edited(terms) => {
                set_terms(row, &terms);
                row.revision += 1;
                bump(conn, row)?;
                record(conn, row, entry(EventKind::Edited))?;
            }
            AgreementEvent::Signed { party } => {
                let signature = SignatureRow {
                    id: uuid::Uuid::now_v7().to_string(),
                    agreement_id: row.id.clone(),
                    revision: row.revision,
                    party_id: party.clone(),
                    content_hash: row.content_hash.clone(),
                    signed_by: actor.to_owned(),
                    signed_at: now(),
                };
                diesel::insert_into(agreement_signatures::table)
                    .values(&signature)
                    .execute(conn)
                    .map_err(unless_taken(AgreementRefusal::AlreadySigned))?;
                bump_version(conn, row)?;
                record(
                    conn,
                    row,
                    Record {
                        party: Some(&party),
                        ..entry(EventKind::Signed)
                    },
                )?;
            }
            AgreementEvent::Declined { party, reason } => {
                row.status = AgreementStatus::Declined.as_str().to_owned();
                bump(conn, row)?;
                record(
                    conn,
                    row,
                    Record {
                        party: Some(&party),
                        note: Some(&reason),
                        ..entry(EventKind::Declined)
                    },
                )?;
            }
            AgreementEvent::Activated => {
                row.status = AgreementStatus::Active.as_str().to_owned();
                row.activated_at = Some(now());
                bump(conn, row)?;
                record(
                    conn,
                    row,
                    Record {
                        related: row.supersedes.as_deref(),
                        ..entry(EventKind::Activated)
                    },
                )?;
                outbox::record(
                    conn,
                    EventType::AgreementActivated,
                    &json!({
                        "agreement_id": row.id,
                        "partnership_id": row.partnership_id,
                        "kind": row.kind,
                        "content_hash": row.content_hash,
                        "effective_from": row.effective_from,
                        "supersedes": row.supersedes,
                    }),
                )?;
            }
            AgreementEvent::AmendedEnded {
                amended,
                status,
                from,
            } => {
                let mut old = find_row(conn, &amended)?;
                old.status = status.as_str().to_owned();
                old.superseded_from = Some(from);
                old.superseded_by = Some(row.id.clone());
                bump(conn, &mut old)?;
                let kind = if status == AgreementStatus::Terminated {
                    EventKind::Terminated
                } else {
                    EventKind::Superseded
                };
                record(
                    conn,
                    &old,
                    Record {
                        related: Some(&row.id),
                        ..entry(kind)
                    },
                )?;
                outbox::record(
                    conn,
                    EventType::AgreementSuperseded,
                    &json!({
                        "agreement_id": old.id,
                        "partnership_id": old.partnership_id,
                        "status": old.status,
                        "superseded_by": row.id,
                        "superseded_from": from,
                    }),
                )?;
            }
        }
    }
    Ok(())
}

/// Bumps the version of a row whose columns stay as they are (a
/// signature: the signatures that count are rows of their own).
fn bump_version(conn: &mut AnyConnection, row: &mut AgreementRow) -> Result<(), StoreError> {
    let version = next_version(row);
    diesel::update(agreements::table.find(&row.id))
        .set(version)
        .execute(conn)?;
    Ok(())
}

/// Writes the row's changed columns and bumps its version.
fn bump(conn: &mut AnyConnection, row: &mut AgreementRow) -> Result<(), StoreError> {
    let version = next_version(row);
    diesel::update(agreements::table.find(&row.id))
        .set((
            agreements::status.eq(&row.status),
            agreements::terms.eq(&row.terms),
            agreements::content_hash.eq(&row.content_hash),
            agreements::currency.eq(&row.currency),
            agreements::effective_from.eq(row.effective_from),
            agreements::effective_until.eq(row.effective_until),
            agreements::revision.eq(row.revision),
            agreements::superseded_from.eq(row.superseded_from),
            agreements::superseded_by.eq(&row.superseded_by),
            agreements::activated_at.eq(row.activated_at),
            version,
        ))
        .execute(conn)?;
    Ok(())
}

/// Advances the row's version and `updated_at`; the columns to write.
fn next_version(
    row: &mut AgreementRow,
) -> (
    diesel::dsl::Eq<agreements::version, i64>,
    diesel::dsl::Eq<agreements::updated_at, NaiveDateTime>,
) {
    row.version += 1;
    row.updated_at = now();
    (
        agreements::version.eq(row.version),
        agreements::updated_at.eq(row.updated_at),
    )
}

/// The signatures that count for `row`: those on its current revision
/// naming its current hash.
fn current_signatures(
    conn: &mut AnyConnection,
    row: &AgreementRow,
) -> Result<Vec<SignatureRow>, StoreError> {
    Ok(agreement_signatures::table
        .filter(agreement_signatures::agreement_id.eq(&row.id))
        .filter(agreement_signatures::revision.eq(row.revision))
        .filter(agreement_signatures::content_hash.eq(&row.content_hash))
        .order(agreement_signatures::id.asc())
        .load(conn)?)
}

/// An accepted party drafts the partnership's (first or next) agreement
/// ([`domain::agreement::draft`]).
pub fn create(
    conn: &mut AnyConnection,
    partnership_id: &str,
    actor: &Actor,
    terms: &Terms,
) -> Result<AgreementRow, StoreError> {
    write_tx(conn, |conn| {
        let locked = lock_partnership(conn, partnership_id, &actor.viewer)?;
        accepted_speaker(&locked.roster)?;
        let ctx = context(
            conn,
            &locked.partnership,
            locked.roster.accepted(),
            None,
            dates(terms),
        )?;
        draft(AgreementKind::Original, terms, &ctx)?;
        check_references(conn, terms)?;
        insert(
            conn,
            partnership_id,
            AgreementKind::Original,
            None,
            terms,
            &actor.viewer.id,
        )
    })
}

/// An accepted party edits a draft ([`Agreement::edit`]): `change` turns
/// the current terms into the new ones; a new revision clears every
/// signature.
pub fn edit(
    conn: &mut AnyConnection,
    id: &str,
    actor: &Actor,
    expected: &Precondition,
    change: impl FnOnce(&Terms) -> Result<Terms, FieldErrors>,
) -> Result<AgreementRow, StoreError> {
    write_tx(conn, |conn| {
        let (mut row, locked) = lock(conn, id, &actor.viewer)?;
        accepted_speaker(&locked.roster)?;
        // A broken body is reported before a stale version (422 before 412).
        let terms = change(&row.terms()?)?;
        if !expected.admits(row.version) {
            return Err(StoreError::Stale);
        }
        let ctx = context(
            conn,
            &locked.partnership,
            locked.roster.accepted(),
            row.supersedes.as_deref(),
            dates(&terms),
        )?;
        let events = aggregate(conn, &row)?.edit(terms.clone(), &ctx)?;
        check_references(conn, &terms)?;
        save(conn, &mut row, events, &actor.viewer.id)?;
        Ok(row)
    })
}

/// The calling party signs the hash it saw ([`Agreement::sign`]); the last
/// signature activates the agreement.
pub fn sign(
    conn: &mut AnyConnection,
    id: &str,
    actor: &Actor,
    content_hash: &str,
) -> Result<AgreementRow, StoreError> {
    party_action(
        conn,
        id,
        actor,
        Agreement::completed_by,
        |agreement, party, ctx| Ok(agreement.sign(party, content_hash, ctx)?),
    )
}

/// An accepted party's action on an agreement, load → decide → save:
/// `decide` turns the aggregate into events, given the acting party's id
/// and the agreement's context. The governing agreements and the amended
/// one are read only when `activates` says the action may activate the
/// agreement (the domain's answer; the other decisions do not look at
/// them).
fn party_action(
    conn: &mut AnyConnection,
    id: &str,
    actor: &Actor,
    activates: fn(&Agreement, &str, &[String]) -> bool,
    decide: impl FnOnce(Agreement, &str, &Context) -> Result<Vec<AgreementEvent>, StoreError>,
) -> Result<AgreementRow, StoreError> {
    write_tx(conn, |conn| {
        let (mut row, locked) = lock(conn, id, &actor.viewer)?;
        let party = acting_party(&locked.roster, actor)?;
        let agreement = aggregate(conn, &row)?;
        let accepted_parties = locked.roster.accepted();
        let ctx = if activates(&agreement, &party.id, &accepted_parties) {
            context(
                conn,
                &locked.partnership,
                accepted_parties,
                row.supersedes.as_deref(),
                row.dates(),
            )?
        } else {
            Context {
                partnership: locked.partnership.status(),
                accepted_parties,
                governing: Vec::new(),
                amended: None,
            }
        };
        let events = decide(agreement, &party.id, &ctx)?;
        save(conn, &mut row, events, &actor.viewer.id)?;
        Ok(row)
    })
}

/// After parties left (a closed account, a party leaving): drafts of the
/// partnership that every remaining accepted party has signed activate
/// ([`Agreement::activate_if_complete`]). A draft that cannot (it names a
/// party no longer accepted, or its dates now meet another agreement's)
/// stays a draft for the parties to edit.
pub(crate) fn activate_fully_signed(
    conn: &mut AnyConnection,
    partnership_id: &str,
    actor: &str,
) -> Result<(), StoreError> {
    let partnership = partnerships::find_row(conn, partnership_id)?;
    let accepted = partnerships::accepted_among(&partnerships::parties(conn, partnership_id)?);
    let drafts = agreements::table
        .filter(agreements::partnership_id.eq(partnership_id))
        .filter(agreements::status.eq(AgreementStatus::Draft.as_str()))
        .order(agreements::id.asc())
        .load::<AgreementRow>(conn)?;
    for mut row in drafts {
        let ctx = context(
            conn,
            &partnership,
            accepted.clone(),
            row.supersedes.as_deref(),
            row.dates(),
        )?;
        if let Ok(events) = aggregate(conn, &row)?.activate_if_complete(&ctx) {
            save(conn, &mut row, events, actor)?;
        }
    }
    Ok(())
}

/// An accepted party declines a draft ([`Agreement::decline`]); it cannot
/// be signed or edited afterwards.
pub fn decline(
    conn: &mut AnyConnection,
    id: &str,
    actor: &Actor,
    reason: &str,
) -> Result<AgreementRow, StoreError> {
    party_action(
        conn,
        id,
        actor,
        |_, _, _| false,
        |agreement, party, _| Ok(agreement.decline(party, reason)?),
    )
}

/// What an amendment changes up front: its kind and dates. The rest of
/// the terms are copied from the amended agreement for editing.
#[derive(Debug, Clone)]
pub struct Amendment {
    pub kind: AgreementKind,
    pub effective_from: NaiveDate,
    pub effective_until: Option<NaiveDate>,
}

/// An accepted party opens an amendment (or termination) of an active
/// agreement ([`Agreement::amend`]): a new draft superseding it, with its
/// terms copied.
pub fn amend(
    conn: &mut AnyConnection,
    id: &str,
    actor: &Actor,
    amendment: &Amendment,
) -> Result<AgreementRow, StoreError> {
    write_tx(conn, |conn| {
        let (row, locked) = lock(conn, id, &actor.viewer)?;
        accepted_speaker(&locked.roster)?;
        let dates = (amendment.effective_from, amendment.effective_until);
        let ctx = context(
            conn,
            &locked.partnership,
            locked.roster.accepted(),
            Some(&row.id),
            dates,
        )?;
        let terms = aggregate(conn, &row)?.amend(
            amendment.kind,
            amendment.effective_from,
            amendment.effective_until,
            &ctx,
        )?;
        check_references(conn, &terms)?;
        insert(
            conn,
            &row.partnership_id,
            amendment.kind,
            Some(&row.id),
            &terms,
            &actor.viewer.id,
        )
    })
}

/// Adds the current signatures and the accepted parties to each row.
pub fn views(
    conn: &mut AnyConnection,
    rows: Vec<AgreementRow>,
) -> Result<Vec<AgreementView>, StoreError> {
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let signatures = agreement_signatures::table
        .filter(agreement_signatures::agreement_id.eq_any(ids))
        .order(agreement_signatures::id.asc())
        .load::<SignatureRow>(conn)?;
    let mut partnership_ids: Vec<&str> = rows.iter().map(|r| r.partnership_id.as_str()).collect();
    partnership_ids.dedup();
    let mut accepted = Vec::with_capacity(partnership_ids.len());
    for pid in partnership_ids {
        let parties = partnerships::parties(conn, pid)?;
        accepted.push((pid.to_owned(), partnerships::accepted_among(&parties)));
    }
    Ok(rows
        .into_iter()
        .map(|row| {
            let signatures = signatures
                .iter()
                .filter(|s| {
                    s.agreement_id == row.id
                        && s.revision == row.revision
                        && s.content_hash == row.content_hash
                })
                .cloned()
                .collect();
            let accepted_parties = accepted
                .iter()
                .find(|(pid, _)| *pid == row.partnership_id)
                .map(|(_, parties)| parties.clone())
                .unwrap_or_default();
            AgreementView {
                row,
                signatures,
                accepted_parties,
            }
        })
        .collect())
}

/// The agreements as the viewer may see them: as they are, or — for a
/// reader whose parties all left — as they stood when the last of them left
/// (state, terms, signatures and who had accepted, replayed from the audit
/// trail).
pub fn views_for(
    conn: &mut AnyConnection,
    rows: Vec<AgreementRow>,
    viewer: &Viewer,
) -> Result<Vec<AgreementView>, StoreError> {
    let Some(first) = rows.first() else {
        return Ok(Vec::new());
    };
    let horizon = partnerships::horizon(conn, &first.partnership_id, viewer)?;
    let views = views(conn, rows)?;
    match horizon {
        None => Ok(views),
        Some(until) => views
            .into_iter()
            .map(|view| as_it_stood(conn, view, until))
            .collect(),
    }
}

fn as_it_stood(
    conn: &mut AnyConnection,
    mut view: AgreementView,
    until: NaiveDateTime,
) -> Result<AgreementView, StoreError> {
    let trail: Vec<Recorded<NaiveDateTime>> = agreement_events::table
        .filter(agreement_events::agreement_id.eq(&view.row.id))
        .filter(agreement_events::occurred_at.le(until))
        .order(agreement_events::id.asc())
        .load::<EventRow>(conn)?
        .into_iter()
        .map(|e| Recorded {
            kind: EventKind::parse(&e.kind).unwrap_or(EventKind::Signed),
            version: e.version,
            content_hash: e.content_hash,
            document: e.document,
            at: e.occurred_at,
        })
        .collect();
    let Some(stood) = replay(&trail) else {
        return Err(StoreError::NotFound);
    };
    let row = &mut view.row;
    if let Some(terms) = stood.document.as_deref().and_then(Terms::from_document) {
        row.currency = terms.currency().to_owned();
        row.effective_from = terms.effective_from();
        row.effective_until = terms.effective_until();
        row.terms = terms.canonical_json(row.kind());
    }
    row.status = stood.status.as_str().to_owned();
    row.version = stood.version;
    row.revision = stood.revision;
    row.content_hash = stood.content_hash;
    row.activated_at = stood.activated_at;
    row.updated_at = stood.updated_at;
    if !stood.ended {
        row.superseded_from = None;
        row.superseded_by = None;
    }
    view.signatures = agreement_signatures::table
        .filter(agreement_signatures::agreement_id.eq(&row.id))
        .filter(agreement_signatures::revision.eq(row.revision))
        .filter(agreement_signatures::content_hash.eq(&row.content_hash))
        .filter(agreement_signatures::signed_at.le(until))
        .order(agreement_signatures::id.asc())
        .load(conn)?;
    view.accepted_parties = partnerships::parties(conn, &row.partnership_id)?
        .into_iter()
        .filter(|p| {
            party_status_at(p.status(), p.created_at, p.updated_at, p.left_at, until)
                == Some(PartyStatus::Accepted)
        })
        .map(|p| p.id)
        .collect();
    Ok(view)
}

/// A partnership's agreements, newest first.
pub fn list(
    conn: &mut AnyConnection,
    partnership_id: &str,
    viewer: &Viewer,
    status: Option<AgreementStatus>,
    seek: Seek<'_>,
) -> Result<Page<AgreementRow>, StoreError> {
    partnerships::find_visible(conn, partnership_id, viewer, Reach::Read)?;
    let mut query = agreements::table
        .filter(agreements::partnership_id.eq(partnership_id))
        .into_boxed();
    if let Some(until) = partnerships::horizon(conn, partnership_id, viewer)? {
        query = query.filter(agreements::created_at.le(until));
    }
    if let Some(status) = status {
        query = query.filter(agreements::status.eq(status.as_str()));
    }
    let rows = newest_first!(query, agreements, seek).load::<AgreementRow>(conn)?;
    Ok(Page::from_overfetch(rows, seek.limit))
}

/// The audit trail of an agreement, oldest first.
pub fn events(
    conn: &mut AnyConnection,
    id: &str,
    viewer: &Viewer,
    seek: Seek<'_>,
) -> Result<Page<EventRow>, StoreError> {
    let (_, horizon) = find_with_horizon(conn, id, viewer)?;
    let mut query = agreement_events::table
        .filter(agreement_events::agreement_id.eq(id))
        .into_boxed();
    if let Some(until) = horizon {
        query = query.filter(agreement_events::occurred_at.le(until));
    }
    if let Some(after) = seek.after {
        query = query.filter(agreement_events::id.gt(after.to_owned()));
    }
    let rows = query
        .order(agreement_events::id.asc())
        .limit(seek.limit + 1)
        .load::<EventRow>(conn)?;
    Ok(Page::from_overfetch(rows, seek.limit))
}

/// Whether an active agreement (not a termination) names the party: it
/// signed the agreement's current revision, as every accepted party named
/// in the terms must have.
pub(crate) fn names_party_in_force(
    conn: &mut AnyConnection,
    party_id: &str,
) -> Result<bool, StoreError> {
    let count = agreement_signatures::table
        .inner_join(
            agreements::table.on(agreement_signatures::agreement_id
                .eq(agreements::id)
                .and(agreement_signatures::revision.eq(agreements::revision))),
        )
        .filter(agreement_signatures::party_id.eq(party_id))
        .filter(agreements::status.eq(AgreementStatus::Active.as_str()))
        .filter(agreements::kind.ne(AgreementKind::Termination.as_str()))
        .count()
        .get_result::<i64>(conn)?;
    Ok(count > 0)
}
