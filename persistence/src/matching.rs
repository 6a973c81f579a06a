//! Skill matching, computed from the matching index
//! ([`crate::skill_index`]): the seeker's own skills name a handful of
//! bitmaps (who offers each skill I want, who wants each skill I offer, who
//! shares my country), the ranking is counted from those bitmaps
//! ([`domain::matching::tiers`]), and the database is asked only for the
//! ids needed to order the tiers that reach the page. No step reads the
//! profile of an artisan who is not on the page.
//!
//! The order is computed (score, then same country, then id), so the
//! keyset is the triple of the last row: each page ranks the candidates
//! again and continues strictly after that triple, which neither repeats
//! nor skips a candidate while the underlying skills stay put.

use diesel::prelude::*;
use domain::matching::{tiers, Seeker, Tier};

use crate::schema::{artisan_ordinals, artisan_tags, artisans};
use crate::skill_index;
use crate::{AnyConnection, Page, StoreError};
use domain::profile::TagKind;

pub use domain::matching::Mode;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    pub artisan_id: String,
    pub display_name: String,
    pub country: Option<String>,
    pub they_teach: Vec<String>,
    pub you_teach: Vec<String>,
    pub score: i64,
    pub same_country: bool,
}

/// Where a page ended: the ranking key of its last match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct After {
    pub score: i64,
    pub same_country: bool,
    pub id: String,
}

/// The seeker's (wanted, offered) skills, read through the
/// `artisan_tags (artisan_id)` index: filtering on `kind` as well would let
/// SQLite's planner pick the primary key's `kind` prefix and scan every tag
/// of that kind.
fn my_skills(conn: &mut AnyConnection, me: &str) -> Result<(Vec<String>, Vec<String>), StoreError> {
    let tags: Vec<(String, String)> = artisan_tags::table
        .filter(artisan_tags::artisan_id.eq(me))
        .select((artisan_tags::kind, artisan_tags::value))
        .load(conn)?;
    let of = |kind: TagKind| {
        tags.iter()
            .filter(|(k, _)| k == kind.as_str())
            .map(|(_, v)| v.clone())
            .collect::<Vec<_>>()
    };
    Ok((of(TagKind::SkillWanted), of(TagKind::SkillOffered)))
}

/// Most ordinals bound in one query (SQLite allows 32 766 parameters).
const ORDINALS_PER_QUERY: usize = 10_000;

/// The first `take` ids of a tier in id order, after `after_id` if given,
/// asking for at most `per_query` ordinals at a time.
fn first_ids(
    conn: &mut AnyConnection,
    tier: &Tier,
    after_id: Option<&str>,
    take: usize,
    per_query: usize,
) -> Result<Vec<String>, StoreError> {
    let mut ids = Vec::new();
    for chunk in tier.ordinals.chunks(per_query) {
        let chunk: Vec<i64> = chunk.iter().map(|&o| o as i64).collect();
        let mut query = artisan_ordinals::table
            .filter(artisan_ordinals::ordinal.eq_any(chunk))
            .select(artisan_ordinals::artisan_id)
            .order(artisan_ordinals::artisan_id.asc())
            .limit(take as i64)
            .into_boxed();
        if let Some(after_id) = after_id {
            query = query.filter(artisan_ordinals::artisan_id.gt(after_id.to_owned()));
        }
        ids.extend(query.load::<String>(conn)?);
    }
    ids.sort();
    ids.truncate(take);
    Ok(ids)
}

/// The page's (id, score, same country), best first: whole tiers are
/// skipped until the keyset position, and each tier that reaches the page
/// is ordered by id in the database.
fn ranked(
    conn: &mut AnyConnection,
    tiers: &[Tier],
    after: Option<&After>,
    take: usize,
) -> Result<Vec<(String, i64, bool)>, StoreError> {
    let mut page = Vec::new();
    for tier in tiers {
        if page.len() == take {
            break;
        }
        let after_id = match after {
            Some(a) if (tier.score, tier.same_country) > (a.score, a.same_country) => continue,
            Some(a) if (tier.score, tier.same_country) == (a.score, a.same_country) => {
                Some(a.id.as_str())
            }
            _ => None,
        };
        for id in first_ids(conn, tier, after_id, take - page.len(), ORDINALS_PER_QUERY)? {
            page.push((id, tier.score, tier.same_country));
        }
    }
    Ok(page)
}

/// One page of matches for `me`, best first.
pub fn matches(
    conn: &mut AnyConnection,
    me: &str,
    mode: Mode,
    after: Option<&After>,
    limit: i64,
) -> Result<Page<Match>, StoreError> {
    let (wanted, offered) = my_skills(conn, me)?;
    if wanted.is_empty() || (mode == Mode::Reciprocal && offered.is_empty()) {
        return Ok(Page::from_overfetch(Vec::new(), limit));
    }
    let (my_country, my_ordinal) = artisans::table
        .left_join(artisan_ordinals::table)
        .filter(artisans::id.eq(me))
        .select((artisans::country, artisan_ordinals::ordinal.nullable()))
        .first::<(Option<String>, Option<i64>)>(conn)
        .optional()?
        .unwrap_or_default();
    let learners_wanted = (mode == Mode::Reciprocal).then_some(offered.as_slice());
    let bitmaps =
        skill_index::seeker_bitmaps(conn, &wanted, learners_wanted, my_country.as_deref())?;
    let seeker = Seeker {
        ordinal: my_ordinal.and_then(|o| u64::try_from(o).ok()),
        teachers: &bitmaps.teachers,
        learners: &bitmaps.learners,
        compatriots: bitmaps.compatriots.as_ref(),
    };
    let take = usize::try_from(limit + 1).unwrap_or(1);
    let rows = ranked(conn, &tiers(mode, &seeker), after, take)?;
    // Names, countries and overlapping skills of the artisans on the page.
    let ids: Vec<&str> = rows.iter().map(|(id, _, _)| id.as_str()).collect();
    let profiles: Vec<(String, String, Option<String>)> = artisans::table
        .filter(artisans::id.eq_any(&ids))
        .select((artisans::id, artisans::display_name, artisans::country))
        .load(conn)?;
    let mine: Vec<&String> = wanted.iter().chain(&offered).collect();
    let tags: Vec<(String, String, String)> = artisan_tags::table
        .filter(artisan_tags::artisan_id.eq_any(&ids))
        .filter(artisan_tags::value.eq_any(&mine))
        .order(artisan_tags::value.asc())
        .select((
            artisan_tags::artisan_id,
            artisan_tags::kind,
            artisan_tags::value,
        ))
        .load(conn)?;
    let skills = |artisan: &str, kind: TagKind, among: &[String]| -> Vec<String> {
        tags.iter()
            .filter(|(id, k, v)| id == artisan && k == kind.as_str() && among.contains(v))
            .map(|(_, _, v)| v.clone())
            .collect()
    };
    let matches = rows
        .into_iter()
        .filter_map(|(id, score, same_country)| {
            let (_, display_name, country) = profiles.iter().find(|(p, _, _)| *p == id)?;
            Some(Match {
                they_teach: skills(&id, TagKind::SkillOffered, &wanted),
                you_teach: if mode == Mode::Reciprocal {
                    skills(&id, TagKind::SkillWanted, &offered)
                } else {
                    Vec::new()
                },
                score,
                same_country,
                display_name: display_name.clone(),
                country: country.clone(),
                artisan_id: id,
            })
        })
        .collect();
    Ok(Page::from_overfetch(matches, limit))
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::connection::SimpleConnection;
    use diesel::Connection;

    /// A tier larger than one query's worth of ordinals is ordered by id
    /// across the chunks, from the keyset position on.
    #[test]
    fn tiers_are_ordered_by_id_across_chunks() {
        let mut conn = AnyConnection::Sqlite(
            diesel::SqliteConnection::establish(":memory:").expect("in-memory SQLite"),
        );
        conn.batch_execute(
            "CREATE TABLE artisan_ordinals (ordinal INTEGER PRIMARY KEY, artisan_id TEXT NOT NULL UNIQUE)",
        )
        .expect("table");
        // Ids in an order unrelated to the ordinals.
        let ids: Vec<String> = (1..=25)
            .map(|n| format!("id-{:02}", (n * 7) % 25))
            .collect();
        for id in &ids {
            diesel::insert_into(artisan_ordinals::table)
                .values(artisan_ordinals::artisan_id.eq(id))
                .execute(&mut conn)
                .expect("insert");
        }
        let tier = Tier {
            score: 2,
            same_country: false,
            ordinals: (1..=25).filter(|o| o % 5 != 0).collect(),
        };
        let mut expected: Vec<String> = tier
            .ordinals
            .iter()
            .map(|&o| ids[o as usize - 1].clone())
            .collect();
        expected.sort();
        for per_query in [1, 3, 7, ORDINALS_PER_QUERY] {
            let first = first_ids(&mut conn, &tier, None, 6, per_query).expect("ids");
            assert_eq!(first, expected[..6], "{per_query} per query");
            let next = first_ids(&mut conn, &tier, Some(&first[5]), 100, per_query).expect("ids");
            assert_eq!(next, expected[6..], "{per_query} per query");
        }
    }
}
