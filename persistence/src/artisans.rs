//! Artisan profiles: the row, its tag index, owner edits under optimistic
//! concurrency, and the filtered keyset listing used by `/v1/artisans` and
//! the partner directory.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use domain::precondition::Precondition;
use domain::profile::{OpenTo, OpenToKind, ProfileFields, ValidProfilePatch};

use crate::schema::{artisan_tags, artisans};
use crate::skill_index::{self, Keys};
use crate::{json_list, now, parse_json_list, write_tx, AnyConnection, Page, StoreError};
use domain::profile::TagKind;

#[derive(Debug, Clone, Queryable, QueryableByName, Insertable)]
#[diesel(table_name = artisans)]
pub struct ArtisanRow {
    pub id: String,
    pub display_name: String,
    pub name_key: String,
    pub search_text: String,
    pub bio: String,
    pub crafts: String,
    pub skills_offered: String,
    pub skills_wanted: String,
    pub cultural_traditions: String,
    pub country: Option<String>,
    pub region: Option<String>,
    pub languages: String,
    pub open_to_collaboration: bool,
    pub open_to_mentoring: bool,
    pub open_to_being_mentored: bool,
    pub discoverable_by_partners: bool,
    pub communities: String,
    pub links: String,
    pub rating_sum: i64,
    pub rating_count: i64,
    pub former_member: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
    /// The first listed craft: the one impact figures count the artisan
    /// under.
    pub primary_craft: Option<String>,
}

/// The sort key of the `name` order: case-folded display name.
pub fn name_key(display_name: &str) -> String {
    display_name.to_lowercase()
}

fn search_text(fields: &ProfileFields) -> String {
    format!("{}\n{}", fields.display_name, fields.bio).to_lowercase()
}

impl ArtisanRow {
    fn new(id: &str, fields: &ProfileFields, at: NaiveDateTime) -> Self {
        let mut row = Self {
            id: id.to_owned(),
            display_name: String::new(),
            name_key: String::new(),
            search_text: String::new(),
            bio: String::new(),
            crafts: String::new(),
            skills_offered: String::new(),
            skills_wanted: String::new(),
            cultural_traditions: String::new(),
            country: None,
            region: None,
            languages: String::new(),
            open_to_collaboration: false,
            open_to_mentoring: false,
            open_to_being_mentored: false,
            discoverable_by_partners: false,
            communities: String::new(),
            links: String::new(),
            rating_sum: 0,
            rating_count: 0,
            former_member: false,
            created_at: at,
            updated_at: at,
            version: 1,
            primary_craft: None,
        };
        row.set_fields(fields);
        row
    }

    fn set_fields(&mut self, f: &ProfileFields) {
        self.display_name = f.display_name.clone();
        self.name_key = name_key(&f.display_name);
        self.search_text = search_text(f);
        self.bio = f.bio.clone();
        self.crafts = json_list(&f.crafts);
        self.primary_craft = f.crafts.first().cloned();
        self.skills_offered = json_list(&f.skills_offered);
        self.skills_wanted = json_list(&f.skills_wanted);
        self.cultural_traditions = json_list(&f.cultural_traditions);
        self.country = f.country.clone();
        self.region = f.region.clone();
        self.languages = json_list(&f.languages);
        self.open_to_collaboration = f.open_to.collaboration;
        self.open_to_mentoring = f.open_to.mentoring;
        self.open_to_being_mentored = f.open_to.being_mentored;
        self.discoverable_by_partners = f.discoverable_by_partners;
        self.communities = json_list(&f.communities);
        self.links = json_list(&f.links);
    }

    /// The owner-editable fields as domain values.
    pub fn fields(&self) -> ProfileFields {
        ProfileFields {
            display_name: self.display_name.clone(),
            bio: self.bio.clone(),
            crafts: parse_json_list(&self.crafts),
            skills_offered: parse_json_list(&self.skills_offered),
            skills_wanted: parse_json_list(&self.skills_wanted),
            cultural_traditions: parse_json_list(&self.cultural_traditions),
            country: self.country.clone(),
            region: self.region.clone(),
            languages: parse_json_list(&self.languages),
            open_to: OpenTo {
                collaboration: self.open_to_collaboration,
                mentoring: self.open_to_mentoring,
                being_mentored: self.open_to_being_mentored,
            },
            discoverable_by_partners: self.discoverable_by_partners,
            communities: parse_json_list(&self.communities),
            links: parse_json_list(&self.links),
        }
    }
}

fn write_tags(
    conn: &mut AnyConnection,
    id: &str,
    fields: &ProfileFields,
) -> Result<(), StoreError> {
    diesel::delete(artisan_tags::table.filter(artisan_tags::artisan_id.eq(id))).execute(conn)?;
    let groups = [
        (TagKind::Craft, &fields.crafts),
        (TagKind::SkillOffered, &fields.skills_offered),
        (TagKind::SkillWanted, &fields.skills_wanted),
        (TagKind::Community, &fields.communities),
    ];
    // Multi-row VALUES is not available through MultiConnection; a profile
    // has at most 70 tags, written inside the caller's transaction.
    for (kind, values) in groups {
        for value in values {
            diesel::insert_into(artisan_tags::table)
                .values((
                    artisan_tags::kind.eq(kind.as_str()),
                    artisan_tags::value.eq(value),
                    artisan_tags::artisan_id.eq(id),
                ))
                .execute(conn)?;
        }
    }
    Ok(())
}

/// Inserts a new profile (inside the registration transaction).
pub fn insert_profile(
    conn: &mut AnyConnection,
    id: &str,
    fields: &ProfileFields,
    at: NaiveDateTime,
) -> Result<ArtisanRow, StoreError> {
    let row = ArtisanRow::new(id, fields, at);
    diesel::insert_into(artisans::table)
        .values(&row)
        .execute(conn)?;
    write_tags(conn, id, fields)?;
    skill_index::reindex(conn, id, &Keys::new(), &skill_index::keys(fields, false))?;
    Ok(row)
}

pub fn find(conn: &mut AnyConnection, id: &str) -> Result<Option<ArtisanRow>, StoreError> {
    Ok(artisans::table
        .find(id)
        .first::<ArtisanRow>(conn)
        .optional()?)
}

/// Replaces the editable fields if `expected` admits the stored version
/// (compared in the `UPDATE` itself, so two concurrent writers with the
/// same version cannot both succeed). Bumps the version.
pub fn replace_profile(
    conn: &mut AnyConnection,
    id: &str,
    expected: &Precondition,
    fields: &ProfileFields,
    former_member: bool,
) -> Result<ArtisanRow, StoreError> {
    let mut row = find(conn, id)?.ok_or(StoreError::NotFound)?;
    if !expected.admits(row.version) {
        return Err(StoreError::Stale);
    }
    let read_version = row.version;
    let indexed_before = skill_index::keys(&row.fields(), row.former_member);
    row.set_fields(fields);
    row.former_member = former_member;
    row.updated_at = now();
    row.version = read_version + 1;
    let changed = diesel::update(
        artisans::table
            .find(id)
            .filter(artisans::version.eq(read_version)),
    )
    .set((
        artisans::display_name.eq(&row.display_name),
        artisans::name_key.eq(&row.name_key),
        artisans::search_text.eq(&row.search_text),
        artisans::bio.eq(&row.bio),
        artisans::crafts.eq(&row.crafts),
        artisans::skills_offered.eq(&row.skills_offered),
        artisans::skills_wanted.eq(&row.skills_wanted),
        artisans::cultural_traditions.eq(&row.cultural_traditions),
        artisans::country.eq(&row.country),
        artisans::region.eq(&row.region),
        artisans::languages.eq(&row.languages),
        (
            artisans::open_to_collaboration.eq(row.open_to_collaboration),
            artisans::open_to_mentoring.eq(row.open_to_mentoring),
            artisans::open_to_being_mentored.eq(row.open_to_being_mentored),
            artisans::discoverable_by_partners.eq(row.discoverable_by_partners),
            artisans::communities.eq(&row.communities),
            artisans::links.eq(&row.links),
            artisans::former_member.eq(row.former_member),
            artisans::updated_at.eq(row.updated_at),
            artisans::version.eq(row.version),
            artisans::primary_craft.eq(&row.primary_craft),
        ),
    ))
    .execute(conn)?;
    if changed == 0 {
        return Err(StoreError::Stale);
    }
    write_tags(conn, id, fields)?;
    skill_index::reindex(
        conn,
        id,
        &indexed_before,
        &skill_index::keys(fields, former_member),
    )?;
    Ok(row)
}

/// The owner's edit: validate-then-apply happens on the current fields
/// inside one write transaction.
pub fn update_profile(
    conn: &mut AnyConnection,
    id: &str,
    expected: &Precondition,
    patch: ValidProfilePatch,
) -> Result<ArtisanRow, StoreError> {
    write_tx(conn, |conn| {
        let current = find(conn, id)?.ok_or(StoreError::NotFound)?;
        if current.former_member {
            return Err(StoreError::NotFound);
        }
        let mut fields = current.fields();
        patch.apply(&mut fields);
        replace_profile(conn, id, expected, &fields, false)
    })
}

/// Filters of the artisan search; every present filter must match.
#[derive(Debug, Clone, Default)]
pub struct ArtisanFilter {
    pub craft: Option<String>,
    pub skill_offered: Option<String>,
    pub skill_wanted: Option<String>,
    pub community: Option<String>,
    pub country: Option<String>,
    pub region: Option<String>,
    pub open_to: Option<OpenToKind>,
    /// Matched case-insensitively as a substring of name and bio.
    pub q: Option<String>,
    /// Only artisans who consented to be shown to partner organizations.
    pub discoverable_only: bool,
}

/// The orders of the artisan search, each a keyset on an index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArtisanOrder {
    /// `id` descending (ids are time-ordered).
    Newest,
    /// `(name_key, id)` ascending.
    Name,
}

/// Where the previous page ended.
#[derive(Debug, Clone)]
pub struct ArtisanAfter {
    pub name_key: String,
    pub id: String,
}

/// A `LIKE … ESCAPE '\\'` pattern matching `q` anywhere, case-folded.
pub(crate) fn like_pattern(q: &str) -> String {
    let escaped = q
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

pub fn list(
    conn: &mut AnyConnection,
    filter: &ArtisanFilter,
    order: ArtisanOrder,
    after: Option<&ArtisanAfter>,
    limit: i64,
) -> Result<Page<ArtisanRow>, StoreError> {
    let mut query = artisans::table
        .filter(artisans::former_member.eq(false))
        .into_boxed();
    let tags = [
        (TagKind::Craft, &filter.craft),
        (TagKind::SkillOffered, &filter.skill_offered),
        (TagKind::SkillWanted, &filter.skill_wanted),
        (TagKind::Community, &filter.community),
    ];
    // `EXISTS` (not `IN`): both databases then walk the sort index and probe
    // the tag index per row, stopping after one page, instead of
    // materialising every artisan with the tag first (measured on SQLite:
    // 0.3 ms instead of 7 ms for a common craft among 100 000 artisans).
    for (kind, value) in tags {
        if let Some(value) = value {
            query = query.filter(diesel::dsl::exists(
                artisan_tags::table
                    .filter(artisan_tags::kind.eq(kind.as_str()))
                    .filter(artisan_tags::value.eq(value.clone()))
                    .filter(artisan_tags::artisan_id.eq(artisans::id)),
            ));
        }
    }
    if let Some(country) = &filter.country {
        query = query.filter(artisans::country.eq(country.clone()));
    }
    if let Some(region) = &filter.region {
        query = query.filter(artisans::region.eq(region.clone()));
    }
    query = match filter.open_to {
        Some(OpenToKind::Collaboration) => query.filter(artisans::open_to_collaboration.eq(true)),
        Some(OpenToKind::Mentoring) => query.filter(artisans::open_to_mentoring.eq(true)),
        Some(OpenToKind::BeingMentored) => query.filter(artisans::open_to_being_mentored.eq(true)),
        None => query,
    };
    if let Some(q) = &filter.q {
        query = query.filter(artisans::search_text.like(like_pattern(q)).escape('\\'));
    }
    if filter.discoverable_only {
        query = query.filter(artisans::discoverable_by_partners.eq(true));
    }
    query = match order {
        ArtisanOrder::Newest => {
            if let Some(after) = after {
                query = query.filter(artisans::id.lt(after.id.clone()));
            }
            query.order(artisans::id.desc())
        }
        ArtisanOrder::Name => {
            if let Some(after) = after {
                query = query.filter(
                    artisans::name_key
                        .gt(after.name_key.clone())
                        .or(artisans::name_key
                            .eq(after.name_key.clone())
                            .and(artisans::id.gt(after.id.clone()))),
                );
            }
            query.order((artisans::name_key.asc(), artisans::id.asc()))
        }
    };
    let rows = query.limit(limit + 1).load::<ArtisanRow>(conn)?;
    Ok(Page::from_overfetch(rows, limit))
}
