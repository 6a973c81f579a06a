//! Skill matching, computed from the `artisan_tags` index (primary key
//! `(kind, value, artisan_id)`): every lookup is a range scan of the
//! artisans who offer (or want) one of a handful of skills, never a scan
//! of all profiles.
//!
//! The order is computed (score, then same country, then id), so the
//! keyset is the triple of the last row: each page ranks the candidates
//! again in the database and continues strictly after that triple, which
//! neither repeats nor skips a candidate while the underlying skills stay
//! put.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};

use crate::artisans::TagKind;
use crate::schema::{artisan_tags, artisans};
use crate::{sql_literal as literal, AnyConnection, DbError, Page};

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

/// The seeker's (wanted, offered) skills, read through the
/// `artisan_tags (artisan_id)` index: filtering on `kind` as well would let
/// SQLite's planner pick the primary key's `kind` prefix and scan every tag
/// of that kind.
fn my_skills(conn: &mut AnyConnection, me: &str) -> Result<(Vec<String>, Vec<String>), DbError> {
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

fn literals(values: &[String]) -> String {
    values
        .iter()
        .map(|v| literal(v))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The artisan looking for matches.
struct Seeker<'a> {
    id: &'a str,
    country: Option<&'a str>,
    /// Skills they want (others must offer one).
    wanted: &'a [String],
    /// Skills they offer (reciprocal matches must want one).
    offered: &'a [String],
}

#[derive(QueryableByName)]
struct Ranked {
    #[diesel(sql_type = Text)]
    artisan_id: String,
    #[diesel(sql_type = Text)]
    display_name: String,
    #[diesel(sql_type = Nullable<Text>)]
    country: Option<String>,
    #[diesel(sql_type = BigInt)]
    score: i64,
    #[diesel(sql_type = BigInt)]
    same_country: i64,
}

/// The ranked page, computed in one statement: the posting lists of the
/// skills I want (as `skill_offered`) and offer (as `skill_wanted`) are
/// read from the `(kind, value, artisan_id)` primary key, grouped per
/// artisan, filtered (reciprocal: both sides), ordered and cut at the
/// keyset position, so only `limit + 1` rows leave the database. Written as
/// SQL text because diesel's query builder cannot group a filtered union
/// this way; it is the same text on both databases.
fn ranked(
    conn: &mut AnyConnection,
    me: &Seeker<'_>,
    mode: Mode,
    after: Option<&After>,
    limit: i64,
) -> Result<Vec<Ranked>, DbError> {
    let (wanted, offered) = (me.wanted, me.offered);
    let me_id = literal(me.id);
    // Each branch is a range scan of the primary key (kind, value,
    // artisan_id) that needs no table row (an index-only scan).
    let mut branches = vec![format!(
        "SELECT artisan_id, 1 AS teach, 0 AS learn FROM artisan_tags \
         WHERE kind = 'skill_offered' AND value IN ({}) AND artisan_id <> {me_id}",
        literals(wanted)
    )];
    let having = match mode {
        Mode::Reciprocal => {
            branches.push(format!(
                "SELECT artisan_id, 0 AS teach, 1 AS learn FROM artisan_tags \
                 WHERE kind = 'skill_wanted' AND value IN ({}) AND artisan_id <> {me_id}",
                literals(offered)
            ));
            "SUM(teach) > 0 AND SUM(learn) > 0"
        }
        Mode::Learn => "SUM(teach) > 0",
    };
    let same = match me.country {
        Some(c) => format!("CASE WHEN a.country = {} THEN 1 ELSE 0 END", literal(c)),
        None => "0".to_owned(),
    };
    let keyset = match after {
        Some(a) => {
            let same_after = i64::from(a.same_country);
            format!(
                " AND (c.score < {s} OR (c.score = {s} AND ({same} < {same_after} OR ({same} = {same_after} AND c.artisan_id > {id}))))",
                s = a.score,
                id = literal(&a.id),
            )
        }
        None => String::new(),
    };
    let sql = format!(
        "SELECT c.artisan_id, a.display_name, a.country, c.score, CAST({same} AS BIGINT) AS same_country \
         FROM (SELECT artisan_id, CAST(COUNT(*) AS BIGINT) AS score FROM ({union}) t \
               GROUP BY artisan_id HAVING {having}) c \
         JOIN artisans a ON a.id = c.artisan_id \
         WHERE NOT a.former_member{keyset} \
         ORDER BY c.score DESC, same_country DESC, c.artisan_id ASC LIMIT {take}",
        union = branches.join(" UNION ALL "),
        take = limit + 1,
    );
    Ok(diesel::sql_query(sql).load::<Ranked>(conn)?)
}

/// One page of matches for `me`, best first.
pub fn matches(
    conn: &mut AnyConnection,
    me: &str,
    mode: Mode,
    after: Option<&After>,
    limit: i64,
) -> Result<Page<Match>, DbError> {
    let (wanted, offered) = my_skills(conn, me)?;
    if wanted.is_empty() || (mode == Mode::Reciprocal && offered.is_empty()) {
        return Ok(Page::from_overfetch(Vec::new(), limit));
    }
    let my_country = artisans::table
        .find(me)
        .select(artisans::country)
        .first::<Option<String>>(conn)
        .optional()?
        .flatten();
    let seeker = Seeker {
        id: me,
        country: my_country.as_deref(),
        wanted: &wanted,
        offered: &offered,
    };
    let rows = ranked(conn, &seeker, mode, after, limit)?;
    // The overlapping skills of the (at most limit + 1) artisans on the page.
    let ids: Vec<&str> = rows.iter().map(|r| r.artisan_id.as_str()).collect();
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
        .map(|r| Match {
            they_teach: skills(&r.artisan_id, TagKind::SkillOffered, &wanted),
            you_teach: if mode == Mode::Reciprocal {
                skills(&r.artisan_id, TagKind::SkillWanted, &offered)
            } else {
                Vec::new()
            },
            score: r.score,
            same_country: r.same_country == 1,
            artisan_id: r.artisan_id,
            display_name: r.display_name,
            country: r.country,
        })
        .collect();
    Ok(Page::from_overfetch(matches, limit))
}
