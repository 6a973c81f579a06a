//! The matching index: for every skill offered, skill wanted and country, a
//! bitmap of the ordinals of the current members who have it
//! (`skill_postings`), with one dense ordinal per artisan
//! (`artisan_ordinals`).
//!
//! It is derived data: the profiles (`artisans`, `artisan_tags`) are the
//! source of truth. Every profile write moves the artisan's bits in the
//! same transaction ([`reindex`]); while the index is marked stale
//! (`derived_indexes`) writes skip it and [`rebuild`] recomputes it from
//! the profiles. A writer reads the stale flag `FOR SHARE` and a rebuild
//! locks it exclusively, so no profile write falls between a rebuild's
//! reads and its commit.

use std::collections::{BTreeMap, BTreeSet};

use diesel::prelude::*;
use domain::matching::Bitmap;
use domain::profile::ProfileFields;

use crate::schema::{artisan_ordinals, artisan_tags, artisans, derived_indexes, skill_postings};
use crate::{sql_text, write_tx, AnyConnection, StoreError};
use domain::profile::TagKind;

const NAME: &str = "skill_postings";
/// The kind of the per-country bitmaps.
pub(crate) const COUNTRY: &str = "country";

/// The `(kind, value)` bitmaps an artisan's bit is set in.
pub(crate) type Keys = BTreeSet<(&'static str, String)>;

/// A member's skills and country; a former member is in no bitmap.
pub(crate) fn keys(fields: &ProfileFields, former_member: bool) -> Keys {
    if former_member {
        return Keys::new();
    }
    let tagged = |kind: TagKind, values: &[String]| {
        values
            .iter()
            .map(move |v| (kind.as_str(), v.clone()))
            .collect::<Vec<_>>()
    };
    tagged(TagKind::SkillOffered, &fields.skills_offered)
        .into_iter()
        .chain(tagged(TagKind::SkillWanted, &fields.skills_wanted))
        .chain(fields.country.iter().map(|c| (COUNTRY, c.clone())))
        .collect()
}

fn ordinal(value: i64) -> u64 {
    u64::try_from(value).expect("ordinals are positive")
}

/// The artisan's ordinal, if the index knows them.
fn ordinal_of(conn: &mut AnyConnection, artisan_id: &str) -> Result<Option<u64>, StoreError> {
    Ok(artisan_ordinals::table
        .filter(artisan_ordinals::artisan_id.eq(artisan_id))
        .select(artisan_ordinals::ordinal)
        .first::<i64>(conn)
        .optional()?
        .map(ordinal))
}

/// The ordinal of an artisan, given the next free one if they have none
/// yet (a new profile, or one written by a version without the index);
/// `true` when it is new, so no bitmap has it yet.
fn ordinal_or_next(conn: &mut AnyConnection, artisan_id: &str) -> Result<(u64, bool), StoreError> {
    if let Some(known) = ordinal_of(conn, artisan_id)? {
        return Ok((known, false));
    }
    diesel::insert_into(artisan_ordinals::table)
        .values(artisan_ordinals::artisan_id.eq(artisan_id))
        .execute(conn)?;
    let new = ordinal_of(conn, artisan_id)?.ok_or(StoreError::NotFound)?;
    Ok((new, true))
}

/// Whether writers must leave the index alone; on PostgreSQL the flag row
/// stays share-locked until the writer's transaction ends, so a rebuild
/// (which locks it exclusively) waits for the writer, and the other way
/// round. SQLite runs one write transaction at a time anyway.
fn stale_for_writer(conn: &mut AnyConnection) -> Result<bool, StoreError> {
    let flag = derived_indexes::table
        .find(NAME)
        .select(derived_indexes::stale);
    Ok(match conn {
        AnyConnection::Postgresql(pg) => flag.for_share().first(pg)?,
        AnyConnection::Sqlite(sqlite) => flag.first(sqlite)?,
    })
}

/// Moves the artisan's bit from the `before` keys to the `after` keys,
/// inside the caller's write transaction. Bitmap rows are locked in key
/// order, so two writers never wait on each other in a cycle.
pub(crate) fn reindex(
    conn: &mut AnyConnection,
    artisan_id: &str,
    before: &Keys,
    after: &Keys,
) -> Result<(), StoreError> {
    let (ordinal, new) = ordinal_or_next(conn, artisan_id)?;
    let none = Keys::new();
    let before = if new { &none } else { before };
    if before == after || stale_for_writer(conn)? {
        return Ok(());
    }
    for key in before.symmetric_difference(after) {
        set_bit(conn, key, ordinal, after.contains(key))?;
    }
    Ok(())
}

fn set_bit(
    conn: &mut AnyConnection,
    (kind, value): &(&'static str, String),
    ordinal: u64,
    on: bool,
) -> Result<(), StoreError> {
    // The first artisan with a skill creates its row; a concurrent creator
    // of the same row is not an error.
    sql_text(
        "INSERT INTO skill_postings (kind, value) VALUES ($1, $2) ON CONFLICT DO NOTHING"
            .to_owned(),
    )
    .bind::<diesel::sql_types::Text, _>(*kind)
    .bind::<diesel::sql_types::Text, _>(value.clone())
    .execute(conn)?;
    let row = skill_postings::table.find((*kind, value));
    let bits = row.select(skill_postings::bits);
    let stored: Vec<u8> = match conn {
        AnyConnection::Postgresql(pg) => bits.for_update().first(pg)?,
        AnyConnection::Sqlite(sqlite) => bits.first(sqlite)?,
    };
    let mut bitmap = Bitmap::from_bytes(stored);
    bitmap.set(ordinal, on);
    diesel::update(row)
        .set(skill_postings::bits.eq(bitmap.into_bytes()))
        .execute(conn)?;
    Ok(())
}

/// The bitmaps a seeker's matches are counted from.
pub(crate) struct SeekerBitmaps {
    /// Who offers each skill the seeker wants.
    pub teachers: Vec<Bitmap>,
    /// Who wants each skill the seeker offers (when asked for).
    pub learners: Vec<Bitmap>,
    /// Who shares the seeker's country.
    pub compatriots: Option<Bitmap>,
}

/// Loads, in one query, the bitmaps of the skills the seeker wants (as
/// offered), of the skills they offer (as wanted; `None` to skip) and of
/// their country. Skills nobody has have no row and count as empty.
pub(crate) fn seeker_bitmaps(
    conn: &mut AnyConnection,
    wanted: &[String],
    offered: Option<&[String]>,
    country: Option<&str>,
) -> Result<SeekerBitmaps, StoreError> {
    let (offered_kind, wanted_kind) = (
        TagKind::SkillOffered.as_str(),
        TagKind::SkillWanted.as_str(),
    );
    let mut query = skill_postings::table
        .filter(
            skill_postings::kind
                .eq(offered_kind)
                .and(skill_postings::value.eq_any(wanted)),
        )
        .select((skill_postings::kind, skill_postings::bits))
        .into_boxed();
    if let Some(offered) = offered {
        query = query.or_filter(
            skill_postings::kind
                .eq(wanted_kind)
                .and(skill_postings::value.eq_any(offered)),
        );
    }
    if let Some(country) = country {
        query = query.or_filter(
            skill_postings::kind
                .eq(COUNTRY)
                .and(skill_postings::value.eq(country)),
        );
    }
    let mut loaded = SeekerBitmaps {
        teachers: Vec::new(),
        learners: Vec::new(),
        compatriots: None,
    };
    for (kind, bits) in query.load::<(String, Vec<u8>)>(conn)? {
        let bitmap = Bitmap::from_bytes(bits);
        match kind.as_str() {
            COUNTRY => loaded.compatriots = Some(bitmap),
            k if k == offered_kind => loaded.teachers.push(bitmap),
            _ => loaded.learners.push(bitmap),
        }
    }
    Ok(loaded)
}

/// Marks the index stale: profile writes stop maintaining it until the
/// next [`rebuild`] (used while demo data is loaded in bulk).
pub fn mark_stale(conn: &mut AnyConnection) -> Result<(), StoreError> {
    write_tx(conn, |conn| {
        diesel::update(derived_indexes::table.find(NAME))
            .set(derived_indexes::stale.eq(true))
            .execute(conn)?;
        Ok(())
    })
}

/// Rebuilds the index if it is marked stale (after the migration that
/// created it, or an interrupted bulk load); returns whether it did.
pub fn rebuild_if_stale(conn: &mut AnyConnection) -> Result<bool, StoreError> {
    write_tx(conn, |conn| {
        if !lock_flag(conn)? {
            return Ok(false);
        }
        rebuild_locked(conn)?;
        Ok(true)
    })
}

/// Recomputes every bitmap from the profiles and marks the index fresh;
/// returns the number of bitmaps.
pub fn rebuild(conn: &mut AnyConnection) -> Result<usize, StoreError> {
    write_tx(conn, |conn| {
        lock_flag(conn)?;
        rebuild_locked(conn)
    })
}

/// Locks the flag row exclusively (an `UPDATE` that changes nothing) and
/// returns whether the index is stale.
fn lock_flag(conn: &mut AnyConnection) -> Result<bool, StoreError> {
    let flag = derived_indexes::table.find(NAME);
    diesel::update(flag)
        .set(derived_indexes::stale.eq(derived_indexes::stale))
        .execute(conn)?;
    Ok(flag.select(derived_indexes::stale).first(conn)?)
}

fn rebuild_locked(conn: &mut AnyConnection) -> Result<usize, StoreError> {
    diesel::sql_query(
        "INSERT INTO artisan_ordinals (artisan_id) SELECT id FROM artisans \
         WHERE id NOT IN (SELECT artisan_id FROM artisan_ordinals) ORDER BY id",
    )
    .execute(conn)?;
    diesel::delete(skill_postings::table).execute(conn)?;
    let mut index: BTreeMap<(String, String), Bitmap> = BTreeMap::new();
    let members = artisans::table
        .inner_join(artisan_ordinals::table)
        .filter(artisans::former_member.eq(false));
    let skills = [
        TagKind::SkillOffered.as_str(),
        TagKind::SkillWanted.as_str(),
    ];
    // One posting list at a time keeps memory bounded by the largest list.
    let keys: Vec<(String, String)> = artisan_tags::table
        .filter(artisan_tags::kind.eq_any(skills))
        .select((artisan_tags::kind, artisan_tags::value))
        .distinct()
        .load(conn)?;
    for (kind, value) in keys {
        let ordinals: Vec<i64> = members
            .inner_join(artisan_tags::table)
            .filter(artisan_tags::kind.eq(&kind))
            .filter(artisan_tags::value.eq(&value))
            .select(artisan_ordinals::ordinal)
            .load(conn)?;
        let bitmap = index.entry((kind, value)).or_default();
        for o in ordinals {
            bitmap.set(ordinal(o), true);
        }
    }
    let countries: Vec<(Option<String>, i64)> = members
        .filter(artisans::country.is_not_null())
        .select((artisans::country, artisan_ordinals::ordinal))
        .load(conn)?;
    for (country, o) in countries {
        if let Some(country) = country {
            index
                .entry((COUNTRY.to_owned(), country))
                .or_default()
                .set(ordinal(o), true);
        }
    }
    let count = index.len();
    for ((kind, value), bitmap) in index {
        diesel::insert_into(skill_postings::table)
            .values((
                skill_postings::kind.eq(kind),
                skill_postings::value.eq(value),
                skill_postings::bits.eq(bitmap.into_bytes()),
            ))
            .execute(conn)?;
    }
    diesel::update(derived_indexes::table.find(NAME))
        .set(derived_indexes::stale.eq(false))
        .execute(conn)?;
    Ok(count)
}
