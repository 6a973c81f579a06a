//! Skill matching, computed from the `artisan_tags` index (primary key
//! `(kind, value, artisan_id)`): every lookup is a range scan of the
//! artisans who offer (or want) one of a handful of skills, never a scan
//! of all profiles.
//!
//! The order is computed (score, then same country, then id), so the
//! keyset is the triple of the last row: each page recomputes the ranked
//! candidates and continues strictly after that triple, which neither
//! repeats nor skips a candidate while the underlying skills stay put.

use std::cmp::Reverse;
use std::collections::BTreeMap;

use diesel::dsl::exists;
use diesel::prelude::*;
use domain::exchange::score;

use crate::artisans::TagKind;
use crate::schema::{artisan_tags, artisans};
use crate::{AnyConnection, DbError, Page};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// They teach something I want and want something I teach.
    Reciprocal,
    /// They teach something I want.
    Learn,
}

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

type Key = (Reverse<i64>, Reverse<bool>, String);

/// (artisan id, skill, display name, country).
type TaggedRow = (String, String, String, Option<String>);

impl Match {
    fn key(&self) -> Key {
        (
            Reverse(self.score),
            Reverse(self.same_country),
            self.artisan_id.clone(),
        )
    }
}

impl After {
    fn key(&self) -> Key {
        (
            Reverse(self.score),
            Reverse(self.same_country),
            self.id.clone(),
        )
    }
}

fn my_skills(conn: &mut AnyConnection, me: &str, kind: TagKind) -> Result<Vec<String>, DbError> {
    Ok(artisan_tags::table
        .filter(artisan_tags::kind.eq(kind.as_str()))
        .filter(artisan_tags::artisan_id.eq(me))
        .select(artisan_tags::value)
        .load(conn)?)
}

/// The artisans (other than `me`, still members) with a `kind` tag in
/// `values`; for reciprocal matching also with a `back_kind` tag in
/// `back_values`. Returns (artisan, skill, name, country) rows.
fn tagged(
    conn: &mut AnyConnection,
    me: &str,
    kind: TagKind,
    values: &[String],
    back: Option<(TagKind, &[String])>,
) -> Result<Vec<TaggedRow>, DbError> {
    let other = diesel::alias!(artisan_tags as other);
    let mut query = artisan_tags::table
        .inner_join(artisans::table)
        .filter(artisan_tags::kind.eq(kind.as_str()))
        .filter(artisan_tags::value.eq_any(values))
        .filter(artisan_tags::artisan_id.ne(me))
        .filter(artisans::former_member.eq(false))
        .select((
            artisan_tags::artisan_id,
            artisan_tags::value,
            artisans::display_name,
            artisans::country,
        ))
        .into_boxed();
    if let Some((back_kind, back_values)) = back {
        query = query.filter(exists(
            other
                .filter(other.field(artisan_tags::kind).eq(back_kind.as_str()))
                .filter(other.field(artisan_tags::value).eq_any(back_values))
                .filter(
                    other
                        .field(artisan_tags::artisan_id)
                        .eq(artisan_tags::artisan_id),
                ),
        ));
    }
    Ok(query.load(conn)?)
}

/// One page of matches for `me`, best first.
pub fn matches(
    conn: &mut AnyConnection,
    me: &str,
    mode: Mode,
    after: Option<&After>,
    limit: i64,
) -> Result<Page<Match>, DbError> {
    let wanted = my_skills(conn, me, TagKind::SkillWanted)?;
    let offered = my_skills(conn, me, TagKind::SkillOffered)?;
    let my_country = artisans::table
        .find(me)
        .select(artisans::country)
        .first::<Option<String>>(conn)
        .optional()?
        .flatten();
    if wanted.is_empty() || (mode == Mode::Reciprocal && offered.is_empty()) {
        return Ok(Page::from_overfetch(Vec::new(), limit));
    }
    let reciprocal = mode == Mode::Reciprocal;
    let mut found: BTreeMap<String, Match> = BTreeMap::new();
    let teachers = tagged(
        conn,
        me,
        TagKind::SkillOffered,
        &wanted,
        reciprocal.then_some((TagKind::SkillWanted, offered.as_slice())),
    )?;
    for (id, skill, display_name, country) in teachers {
        found
            .entry(id.clone())
            .or_insert_with(|| Match {
                same_country: country.is_some() && country == my_country,
                artisan_id: id,
                display_name,
                country,
                they_teach: Vec::new(),
                you_teach: Vec::new(),
                score: 0,
            })
            .they_teach
            .push(skill);
    }
    if reciprocal {
        let learners = tagged(
            conn,
            me,
            TagKind::SkillWanted,
            &offered,
            Some((TagKind::SkillOffered, wanted.as_slice())),
        )?;
        for (id, skill, _, _) in learners {
            if let Some(m) = found.get_mut(&id) {
                m.you_teach.push(skill);
            }
        }
    }
    let mut ranked: Vec<Match> = found
        .into_values()
        .map(|mut m| {
            m.they_teach.sort();
            m.you_teach.sort();
            m.score = score(m.they_teach.len(), m.you_teach.len());
            m
        })
        .filter(|m| !reciprocal || !m.you_teach.is_empty())
        .collect();
    if let Some(after) = after {
        let cursor = after.key();
        ranked.retain(|m| m.key() > cursor);
    }
    let take = usize::try_from(limit + 1).unwrap_or(usize::MAX);
    if ranked.len() > take {
        ranked.select_nth_unstable_by_key(take, Match::key);
        ranked.truncate(take);
    }
    ranked.sort_by_key(Match::key);
    Ok(Page::from_overfetch(ranked, limit))
}
