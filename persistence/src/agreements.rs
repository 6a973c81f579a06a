//! Agreements of a partnership: drafts, signatures, activation,
//! amendments and the audit trail.
//!
//! An agreement is visible exactly when its partnership is. Every change
//! first touches the partnership row inside its write transaction, so the
//! changes of one partnership's agreements happen one after the other:
//! a signature and an edit, or two final signatures, or two amendments,
//! never interleave. That is what makes "a signature counts only for the
//! hash it named" and "at most one agreement in force per date" hold on
//! both databases.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use domain::agreement::{
    check_amendment, fully_signed, replay, AgreementKind, AgreementStatus, EventKind, InForce,
    Recorded, Terms,
};
use domain::partnership::{party_status_at, PartnershipStatus, PartyStatus, Reach};
use domain::precondition::Precondition;
use domain::webhook::EventType;
use domain::{FieldError, FieldErrors};
use serde_json::json;

use crate::partnerships::{self, PartnershipRow, PartyRow, Viewer};
use crate::schema::{agreement_events, agreement_signatures, agreements, organizations};
use crate::{now, outbox, write_tx, AnyConnection, DbError, Page};

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

    /// The stored terms. The column holds the canonical document this
    /// crate wrote, so it always parses; a corrupt value would be a bug.
    pub fn terms(&self) -> Result<Terms, DbError> {
        Terms::from_document(&self.terms).ok_or(DbError::Refused("stored terms are unreadable"))
    }

    /// The dates this agreement governs (none for drafts, declined ones and
    /// terminations).
    fn window(&self) -> Option<InForce> {
        if !self.status().was_activated() || !self.kind().governs() {
            return None;
        }
        InForce::window(
            self.effective_from,
            self.effective_until,
            self.superseded_from,
        )
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

fn find_row(conn: &mut AnyConnection, id: &str) -> Result<AgreementRow, DbError> {
    agreements::table
        .find(id)
        .first::<AgreementRow>(conn)
        .optional()?
        .ok_or(DbError::NotFound)
}

/// The agreement if the viewer reads its partnership and, for a party
/// that left, it was made before they left.
pub fn find(conn: &mut AnyConnection, id: &str, viewer: &Viewer) -> Result<AgreementRow, DbError> {
    find_with_horizon(conn, id, viewer).map(|(row, _)| row)
}

fn find_with_horizon(
    conn: &mut AnyConnection,
    id: &str,
    viewer: &Viewer,
) -> Result<(AgreementRow, Option<NaiveDateTime>), DbError> {
    let row = find_row(conn, id)?;
    partnerships::find_visible(conn, &row.partnership_id, viewer, Reach::Read)?;
    let horizon = partnerships::horizon(conn, &row.partnership_id, viewer)?;
    if horizon.is_some_and(|until| row.created_at > until) {
        return Err(DbError::NotFound);
    }
    Ok((row, horizon))
}

/// Locks the agreement's partnership (visibility checked) and reads the
/// agreement afresh under that lock.
fn lock(
    conn: &mut AnyConnection,
    id: &str,
    viewer: &Viewer,
) -> Result<(AgreementRow, PartnershipRow), DbError> {
    let partnership_id = find_row(conn, id)?.partnership_id;
    let partnership = partnerships::lock(conn, &partnership_id, viewer, Reach::Read)?;
    let row = find_row(conn, id)?;
    // A party that left does not see agreements made after it left, on
    // write paths either (a 403 would tell that they exist).
    if partnerships::horizon(conn, &partnership_id, viewer)?
        .is_some_and(|until| row.created_at > until)
    {
        return Err(DbError::NotFound);
    }
    Ok((row, partnership))
}

fn accepted_parties(
    conn: &mut AnyConnection,
    partnership_id: &str,
) -> Result<Vec<String>, DbError> {
    Ok(partnerships::parties(conn, partnership_id)?
        .into_iter()
        .filter(|p| p.status() == PartyStatus::Accepted)
        .map(|p| p.id)
        .collect())
}

/// The accepted party the actor acts for: the one named, or the only one
/// they speak for.
fn acting_party<E>(
    conn: &mut AnyConnection,
    partnership_id: &str,
    actor: &Actor,
) -> Result<PartyRow, E>
where
    E: From<DbError> + From<FieldErrors>,
{
    let mut spoken = partnerships::spoken_for(conn, partnership_id, &actor.viewer.id)?;
    match &actor.party_id {
        Some(id) => spoken
            .into_iter()
            .find(|p| &p.id == id)
            .ok_or_else(|| partnerships::NOT_A_PARTY.into()),
        None if spoken.len() > 1 => Err(FieldErrors::from(FieldError::new(
            "party_id",
            "required",
            "you speak for several parties of this partnership; name the one you act for",
        ))
        .into()),
        None => spoken.pop().ok_or_else(|| partnerships::NOT_A_PARTY.into()),
    }
}

fn require_active(partnership: &PartnershipRow) -> Result<(), DbError> {
    match partnership.status() {
        PartnershipStatus::Active => Ok(()),
        PartnershipStatus::Forming => Err(DbError::Refused(
            "agreements are made once the partnership is active (two accepted parties)",
        )),
        _ => Err(DbError::Refused("this partnership has ended")),
    }
}

fn require_draft(row: &AgreementRow) -> Result<(), DbError> {
    if row.status() == AgreementStatus::Draft {
        Ok(())
    } else {
        Err(DbError::Refused(
            "only a draft can change; an active agreement changes by amendment",
        ))
    }
}

/// The rules that need the partnership: every named party is an accepted
/// one, named organizations exist, an amendment takes effect after the
/// agreement it amends, and no other agreement is in force on the dates
/// this one would govern.
fn check_terms<E>(
    conn: &mut AnyConnection,
    partnership_id: &str,
    this: Option<&str>,
    kind: AgreementKind,
    amended: Option<&AgreementRow>,
    terms: &Terms,
) -> Result<(), E>
where
    E: From<DbError> + From<FieldErrors>,
{
    terms.check_parties(&accepted_parties(conn, partnership_id)?)?;
    check_references(conn, terms)?;
    if let Some(amended) = amended {
        check_amendment(kind, amended.effective_from, terms)?;
    }
    if !kind.governs() {
        return Ok(());
    }
    let Some(window) = InForce::window(terms.effective_from, terms.effective_until, None) else {
        return Ok(());
    };
    // Only activated, governing agreements whose dates can meet the window
    // (the exact check, with the amended one's cut, follows below).
    let activated = [
        AgreementStatus::Active.as_str(),
        AgreementStatus::Superseded.as_str(),
        AgreementStatus::Terminated.as_str(),
    ];
    let mut candidates = agreements::table
        .filter(agreements::partnership_id.eq(partnership_id))
        .filter(agreements::status.eq_any(activated))
        .filter(agreements::kind.ne(AgreementKind::Termination.as_str()))
        .filter(
            agreements::effective_until
                .is_null()
                .or(agreements::effective_until.ge(window.from)),
        )
        .filter(
            agreements::superseded_from
                .is_null()
                .or(agreements::superseded_from.gt(window.from)),
        )
        .into_boxed();
    if let Some(until) = window.until {
        candidates = candidates.filter(agreements::effective_from.le(until));
    }
    let others = candidates
        .load::<AgreementRow>(conn)
        .map_err(DbError::from)?;
    for mut other in others {
        if Some(other.id.as_str()) == this {
            continue;
        }
        if amended.is_some_and(|a| a.id == other.id) {
            // Superseded as of this one's first day.
            other.superseded_from = Some(
                other
                    .superseded_from
                    .map_or(terms.effective_from, |d| d.min(terms.effective_from)),
            );
        }
        if other.window().is_some_and(|w| w.overlaps(&window)) {
            return Err(DbError::Refused(
                "another agreement of this partnership is in force on some of these dates",
            )
            .into());
        }
    }
    Ok(())
}

/// Ids in the terms name what exists (SPEC §2): every beneficiary's
/// organization is registered, every campaign is a giving-back campaign.
/// Campaigns are not open yet (SPEC §8), so no campaign id names one.
fn check_references(conn: &mut AnyConnection, terms: &Terms) -> Result<(), DbError> {
    let mut errors = FieldErrors::default();
    for (field, id) in terms.organization_ids() {
        let known = organizations::table
            .find(id)
            .count()
            .get_result::<i64>(conn)?;
        if known == 0 {
            errors.push(FieldError::new(
                field,
                "unknown",
                "names no registered organization",
            ));
        }
    }
    for (field, _) in terms.campaign_ids() {
        errors.push(FieldError::new(
            field,
            "unknown",
            "names no giving-back campaign",
        ));
    }
    errors.finish(|| ()).map_err(DbError::Invalid)
}

fn record(
    conn: &mut AnyConnection,
    row: &AgreementRow,
    kind: EventKind,
    actor: Option<&str>,
    party: Option<&str>,
    related: Option<&str>,
    note: Option<&str>,
) -> Result<(), DbError> {
    let event = EventRow {
        id: uuid::Uuid::now_v7().to_string(),
        agreement_id: row.id.clone(),
        kind: kind.as_str().to_owned(),
        version: row.version,
        content_hash: row.content_hash.clone(),
        actor_id: actor.map(str::to_owned),
        party_id: party.map(str::to_owned),
        related_agreement_id: related.map(str::to_owned),
        note: note.map(str::to_owned),
        occurred_at: now(),
        document: matches!(kind, EventKind::Created | EventKind::Edited).then(|| row.terms.clone()),
    };
    diesel::insert_into(agreement_events::table)
        .values(&event)
        .execute(conn)?;
    Ok(())
}

fn insert(
    conn: &mut AnyConnection,
    partnership_id: &str,
    kind: AgreementKind,
    supersedes: Option<&str>,
    terms: &Terms,
    creator: &str,
) -> Result<AgreementRow, DbError> {
    let at = now();
    let row = AgreementRow {
        id: uuid::Uuid::now_v7().to_string(),
        partnership_id: partnership_id.to_owned(),
        kind: kind.as_str().to_owned(),
        supersedes: supersedes.map(str::to_owned),
        status: AgreementStatus::Draft.as_str().to_owned(),
        terms: terms.canonical_json(kind),
        content_hash: terms.content_hash(kind),
        currency: terms.revenue_split.currency.clone(),
        effective_from: terms.effective_from,
        effective_until: terms.effective_until,
        superseded_from: None,
        superseded_by: None,
        created_by: creator.to_owned(),
        created_at: at,
        updated_at: at,
        activated_at: None,
        revision: 1,
        version: 1,
    };
    diesel::insert_into(agreements::table)
        .values(&row)
        .execute(conn)
        .map_err(|e| match crate::error::duplicate_as("amendment")(e) {
            DbError::Duplicate(_) => DbError::Refused(
                "an amendment of this agreement is already open; sign or decline it first",
            ),
            other => other,
        })?;
    record(
        conn,
        &row,
        EventKind::Created,
        Some(creator),
        None,
        supersedes,
        None,
    )?;
    Ok(row)
}

/// An accepted party drafts the partnership's (first or next) agreement.
pub fn create<E>(
    conn: &mut AnyConnection,
    partnership_id: &str,
    actor: &Actor,
    terms: &Terms,
) -> Result<AgreementRow, E>
where
    E: From<DbError> + From<FieldErrors> + From<diesel::result::Error>,
{
    write_tx(conn, |conn| {
        let partnership = partnerships::lock(conn, partnership_id, &actor.viewer, Reach::Read)?;
        acting_party::<E>(conn, partnership_id, actor)?;
        require_active(&partnership)?;
        check_terms::<E>(
            conn,
            partnership_id,
            None,
            AgreementKind::Original,
            None,
            terms,
        )?;
        Ok(insert(
            conn,
            partnership_id,
            AgreementKind::Original,
            None,
            terms,
            &actor.viewer.id,
        )?)
    })
}

/// An accepted party edits a draft: `change` turns the current terms into
/// the new ones. The revision and version go up and every signature stops
/// counting.
pub fn edit<E>(
    conn: &mut AnyConnection,
    id: &str,
    actor: &Actor,
    expected: &Precondition,
    change: impl FnOnce(Terms) -> Result<Terms, FieldErrors>,
) -> Result<AgreementRow, E>
where
    E: From<DbError> + From<FieldErrors> + From<diesel::result::Error>,
{
    write_tx(conn, |conn| {
        let (mut row, partnership) = lock(conn, id, &actor.viewer)?;
        acting_party::<E>(conn, &row.partnership_id, actor)?;
        // A broken body is reported before a stale version (422 before 412).
        let terms = change(row.terms()?)?;
        if !expected.admits(row.version) {
            return Err(DbError::StaleVersion.into());
        }
        require_draft(&row)?;
        require_active(&partnership)?;
        let amended = row
            .supersedes
            .as_deref()
            .map(|s| find_row(conn, s))
            .transpose()?;
        check_terms::<E>(
            conn,
            &row.partnership_id,
            Some(id),
            row.kind(),
            amended.as_ref(),
            &terms,
        )?;
        let kind = row.kind();
        row.terms = terms.canonical_json(kind);
        row.content_hash = terms.content_hash(kind);
        row.currency = terms.revenue_split.currency.clone();
        row.effective_from = terms.effective_from;
        row.effective_until = terms.effective_until;
        row.revision += 1;
        row.version += 1;
        row.updated_at = now();
        diesel::update(agreements::table.find(id))
            .set((
                agreements::terms.eq(&row.terms),
                agreements::content_hash.eq(&row.content_hash),
                agreements::currency.eq(&row.currency),
                agreements::effective_from.eq(row.effective_from),
                agreements::effective_until.eq(row.effective_until),
                agreements::revision.eq(row.revision),
                agreements::version.eq(row.version),
                agreements::updated_at.eq(row.updated_at),
            ))
            .execute(conn)?;
        record(
            conn,
            &row,
            EventKind::Edited,
            Some(&actor.viewer.id),
            None,
            None,
            None,
        )?;
        Ok(row)
    })
}

fn bump(conn: &mut AnyConnection, row: &mut AgreementRow) -> Result<(), DbError> {
    row.version += 1;
    row.updated_at = now();
    diesel::update(agreements::table.find(&row.id))
        .set((
            agreements::status.eq(&row.status),
            agreements::superseded_from.eq(row.superseded_from),
            agreements::superseded_by.eq(&row.superseded_by),
            agreements::activated_at.eq(row.activated_at),
            agreements::version.eq(row.version),
            agreements::updated_at.eq(row.updated_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// The signatures that count for `row`: those on its current revision
/// naming its current hash.
fn current_signatures(
    conn: &mut AnyConnection,
    row: &AgreementRow,
) -> Result<Vec<SignatureRow>, DbError> {
    Ok(agreement_signatures::table
        .filter(agreement_signatures::agreement_id.eq(&row.id))
        .filter(agreement_signatures::revision.eq(row.revision))
        .filter(agreement_signatures::content_hash.eq(&row.content_hash))
        .order(agreement_signatures::id.asc())
        .load(conn)?)
}

/// The calling party signs the hash it saw. When every accepted party
/// has signed the current hash the agreement becomes active and, if it
/// amends one, that one is superseded (or terminated) as of this one's
/// `effective_from`.
pub fn sign<E>(
    conn: &mut AnyConnection,
    id: &str,
    actor: &Actor,
    content_hash: &str,
) -> Result<AgreementRow, E>
where
    E: From<DbError> + From<FieldErrors> + From<diesel::result::Error>,
{
    write_tx(conn, |conn| {
        let (mut row, partnership) = lock(conn, id, &actor.viewer)?;
        let party = acting_party::<E>(conn, &row.partnership_id, actor)?;
        require_draft(&row)?;
        require_active(&partnership)?;
        if content_hash != row.content_hash {
            return Err(DbError::Refused(
                "content_hash is not the agreement's current hash: it changed since you read it; read it again",
            )
            .into());
        }
        let signature = SignatureRow {
            id: uuid::Uuid::now_v7().to_string(),
            agreement_id: row.id.clone(),
            revision: row.revision,
            party_id: party.id.clone(),
            content_hash: row.content_hash.clone(),
            signed_by: actor.viewer.id.clone(),
            signed_at: now(),
        };
        diesel::insert_into(agreement_signatures::table)
            .values(&signature)
            .execute(conn)
            .map_err(|e| match crate::error::duplicate_as("signature")(e) {
                DbError::Duplicate(_) => {
                    DbError::Refused("this party has already signed this version")
                }
                other => other,
            })?;
        bump(conn, &mut row)?;
        record(
            conn,
            &row,
            EventKind::Signed,
            Some(&actor.viewer.id),
            Some(&party.id),
            None,
            None,
        )?;
        let required = accepted_parties(conn, &row.partnership_id)?;
        let signed: Vec<String> = current_signatures(conn, &row)?
            .into_iter()
            .map(|s| s.party_id)
            .collect();
        if fully_signed(&required, &signed) {
            activate::<E>(conn, &mut row, &actor.viewer.id)?;
        }
        Ok(row)
    })
}

/// After parties left (a closed account, a party leaving): every draft of
/// the partnership that each remaining accepted party has signed becomes
/// active, exactly as the last signature would have made it, if the rest of
/// the activation rule still holds. A draft that names a party no longer
/// accepted cannot activate; it stays a draft for the parties to edit.
pub(crate) fn activate_fully_signed(
    conn: &mut AnyConnection,
    partnership_id: &str,
    actor: &str,
) -> Result<(), DbError> {
    let drafts = agreements::table
        .filter(agreements::partnership_id.eq(partnership_id))
        .filter(agreements::status.eq(AgreementStatus::Draft.as_str()))
        .order(agreements::id.asc())
        .load::<AgreementRow>(conn)?;
    let required = accepted_parties(conn, partnership_id)?;
    for mut draft in drafts {
        let signed: Vec<String> = current_signatures(conn, &draft)?
            .into_iter()
            .map(|s| s.party_id)
            .collect();
        if required.is_empty() || !fully_signed(&required, &signed) {
            continue;
        }
        match activate::<DbError>(conn, &mut draft, actor) {
            Ok(()) | Err(DbError::Refused(_) | DbError::Invalid(_)) => {}
            Err(other) => return Err(other),
        }
    }
    Ok(())
}

fn activate<E>(conn: &mut AnyConnection, row: &mut AgreementRow, actor: &str) -> Result<(), E>
where
    E: From<DbError> + From<FieldErrors>,
{
    let terms = row.terms()?;
    let amended = row
        .supersedes
        .as_deref()
        .map(|s| find_row(conn, s))
        .transpose()?;
    if let Some(amended) = &amended {
        if amended.status() != AgreementStatus::Active {
            return Err(DbError::Refused("the agreement this amends is no longer active").into());
        }
    }
    check_terms::<E>(
        conn,
        &row.partnership_id,
        Some(&row.id),
        row.kind(),
        amended.as_ref(),
        &terms,
    )?;
    row.status = AgreementStatus::Active.as_str().to_owned();
    row.activated_at = Some(now());
    bump(conn, row)?;
    record(
        conn,
        row,
        EventKind::Activated,
        Some(actor),
        None,
        row.supersedes.as_deref(),
        None,
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
    if let Some(mut old) = amended {
        let (status, event) = if row.kind() == AgreementKind::Termination {
            (AgreementStatus::Terminated, EventKind::Terminated)
        } else {
            (AgreementStatus::Superseded, EventKind::Superseded)
        };
        old.status = status.as_str().to_owned();
        old.superseded_from = Some(row.effective_from);
        old.superseded_by = Some(row.id.clone());
        bump(conn, &mut old)?;
        record(conn, &old, event, Some(actor), None, Some(&row.id), None)?;
        outbox::record(
            conn,
            EventType::AgreementSuperseded,
            &json!({
                "agreement_id": old.id,
                "partnership_id": old.partnership_id,
                "status": old.status,
                "superseded_by": row.id,
                "superseded_from": row.effective_from,
            }),
        )?;
    }
    Ok(())
}

/// An accepted party declines a draft; it cannot be signed or edited
/// afterwards.
pub fn decline<E>(
    conn: &mut AnyConnection,
    id: &str,
    actor: &Actor,
    reason: &str,
) -> Result<AgreementRow, E>
where
    E: From<DbError> + From<FieldErrors> + From<diesel::result::Error>,
{
    write_tx(conn, |conn| {
        let (mut row, _) = lock(conn, id, &actor.viewer)?;
        let party = acting_party::<E>(conn, &row.partnership_id, actor)?;
        require_draft(&row)?;
        row.status = AgreementStatus::Declined.as_str().to_owned();
        bump(conn, &mut row)?;
        record(
            conn,
            &row,
            EventKind::Declined,
            Some(&actor.viewer.id),
            Some(&party.id),
            None,
            Some(reason),
        )?;
        Ok(row)
    })
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
/// agreement: a new draft superseding it, with its terms copied.
pub fn amend<E>(
    conn: &mut AnyConnection,
    id: &str,
    actor: &Actor,
    amendment: &Amendment,
) -> Result<AgreementRow, E>
where
    E: From<DbError> + From<FieldErrors> + From<diesel::result::Error>,
{
    write_tx(conn, |conn| {
        let (row, partnership) = lock(conn, id, &actor.viewer)?;
        acting_party::<E>(conn, &row.partnership_id, actor)?;
        require_active(&partnership)?;
        if row.status() != AgreementStatus::Active {
            return Err(
                DbError::Refused("only an active agreement can be amended or terminated").into(),
            );
        }
        let mut terms = row.terms()?;
        terms.effective_from = amendment.effective_from;
        terms.effective_until = amendment.effective_until;
        let terms = terms.validate()?;
        check_terms::<E>(
            conn,
            &row.partnership_id,
            None,
            amendment.kind,
            Some(&row),
            &terms,
        )?;
        Ok(insert(
            conn,
            &row.partnership_id,
            amendment.kind,
            Some(&row.id),
            &terms,
            &actor.viewer.id,
        )?)
    })
}

/// Adds the current signatures and the accepted parties to each row.
pub fn views(
    conn: &mut AnyConnection,
    rows: Vec<AgreementRow>,
) -> Result<Vec<AgreementView>, DbError> {
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let signatures = agreement_signatures::table
        .filter(agreement_signatures::agreement_id.eq_any(ids))
        .order(agreement_signatures::id.asc())
        .load::<SignatureRow>(conn)?;
    let mut partnership_ids: Vec<&str> = rows.iter().map(|r| r.partnership_id.as_str()).collect();
    partnership_ids.dedup();
    let mut accepted = Vec::with_capacity(partnership_ids.len());
    for pid in partnership_ids {
        accepted.push((pid.to_owned(), accepted_parties(conn, pid)?));
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
) -> Result<Vec<AgreementView>, DbError> {
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
) -> Result<AgreementView, DbError> {
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
        return Err(DbError::NotFound);
    };
    let row = &mut view.row;
    if let Some(terms) = stood.document.as_deref().and_then(Terms::from_document) {
        row.currency = terms.revenue_split.currency.clone();
        row.effective_from = terms.effective_from;
        row.effective_until = terms.effective_until;
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
    before_id: Option<&str>,
    limit: i64,
) -> Result<Page<AgreementRow>, DbError> {
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
    if let Some(id) = before_id {
        query = query.filter(agreements::id.lt(id.to_owned()));
    }
    let rows = query
        .order(agreements::id.desc())
        .limit(limit + 1)
        .load::<AgreementRow>(conn)?;
    Ok(Page::from_overfetch(rows, limit))
}

/// The audit trail of an agreement, oldest first.
pub fn events(
    conn: &mut AnyConnection,
    id: &str,
    viewer: &Viewer,
    after_id: Option<&str>,
    limit: i64,
) -> Result<Page<EventRow>, DbError> {
    let (_, horizon) = find_with_horizon(conn, id, viewer)?;
    let mut query = agreement_events::table
        .filter(agreement_events::agreement_id.eq(id))
        .into_boxed();
    if let Some(until) = horizon {
        query = query.filter(agreement_events::occurred_at.le(until));
    }
    if let Some(after) = after_id {
        query = query.filter(agreement_events::id.gt(after.to_owned()));
    }
    let rows = query
        .order(agreement_events::id.asc())
        .limit(limit + 1)
        .load::<EventRow>(conn)?;
    Ok(Page::from_overfetch(rows, limit))
}

/// Whether an active agreement (not a termination) names the party: it
/// signed the agreement's current revision, as every accepted party named
/// in the terms must have.
pub(crate) fn names_party_in_force(
    conn: &mut AnyConnection,
    party_id: &str,
) -> Result<bool, DbError> {
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
