//! The artisan profile: its fields, the rules a change must follow, and
//! what remains of a profile when its owner closes the account.

use crate::country::CountryCode;
use crate::text::{self, limits, DisplayName, Slug};
use crate::{FieldError, FieldErrors};

/// What an artisan is open to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpenTo {
    pub collaboration: bool,
    pub mentoring: bool,
    pub being_mentored: bool,
}

/// One of the [`OpenTo`] flags, as used by the `open_to` filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenToKind {
    Collaboration,
    Mentoring,
    BeingMentored,
}

/// The owner-editable part of a profile, every value already validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileFields {
    pub display_name: String,
    pub bio: String,
    pub crafts: Vec<String>,
    pub skills_offered: Vec<String>,
    pub skills_wanted: Vec<String>,
    pub cultural_traditions: Vec<String>,
    pub country: Option<String>,
    pub region: Option<String>,
    pub languages: Vec<String>,
    pub open_to: OpenTo,
    pub discoverable_by_partners: bool,
    pub communities: Vec<String>,
    pub links: Vec<String>,
}

/// The name a closed account's profile is shown under.
pub const FORMER_MEMBER_NAME: &str = "Former member";

impl ProfileFields {
    /// A new member's profile: only the name is known; nothing is shared
    /// with partners until the artisan consents.
    pub fn new_member(display_name: DisplayName) -> Self {
        Self::with_name_only(display_name.into_inner())
    }

    /// What is left after the owner closes the account: no personal field
    /// survives, only the id that other people's records point to.
    pub fn former_member() -> Self {
        Self::with_name_only(FORMER_MEMBER_NAME.to_owned())
    }

    fn with_name_only(display_name: String) -> Self {
        Self {
            display_name,
            bio: String::new(),
            crafts: Vec::new(),
            skills_offered: Vec::new(),
            skills_wanted: Vec::new(),
            cultural_traditions: Vec::new(),
            country: None,
            region: None,
            languages: Vec::new(),
            open_to: OpenTo::default(),
            discoverable_by_partners: false,
            communities: Vec::new(),
            links: Vec::new(),
        }
    }
}

/// A requested change to [`OpenTo`]; absent flags stay as they are.
#[derive(Debug, Clone, Copy, Default)]
pub struct OpenToPatch {
    pub collaboration: Option<bool>,
    pub mentoring: Option<bool>,
    pub being_mentored: Option<bool>,
}

/// A requested change to a profile, as the client sent it. `None` leaves a
/// field alone; for `country` and `region`, `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct ProfilePatch {
    pub display_name: Option<String>,
    pub bio: Option<String>,
    pub crafts: Option<Vec<String>>,
    pub skills_offered: Option<Vec<String>>,
    pub skills_wanted: Option<Vec<String>>,
    pub cultural_traditions: Option<Vec<String>>,
    pub country: Option<Option<String>>,
    pub region: Option<Option<String>>,
    pub languages: Option<Vec<String>>,
    pub open_to: Option<OpenToPatch>,
    pub discoverable_by_partners: Option<bool>,
    pub communities: Option<Vec<String>>,
    pub links: Option<Vec<String>>,
}

/// A [`ProfilePatch`] whose every value passed validation.
#[derive(Debug, Clone)]
pub struct ValidProfilePatch(ProfilePatch);

fn slugs(field: &str, values: &[String], max: usize) -> Result<Vec<String>, FieldError> {
    text::unique_list(field, values, max, Slug::parse)
        .map(|list| list.into_iter().map(|s| s.as_str().to_owned()).collect())
}

fn validated<T>(
    errors: &mut FieldErrors,
    value: Option<T>,
    check: impl FnOnce(T) -> Result<T, FieldError>,
) -> Option<T> {
    value.and_then(|v| errors.take(check(v)))
}

impl ProfilePatch {
    /// Checks every field and normalises text (trimming); reports all
    /// broken rules together.
    pub fn validate(self) -> Result<ValidProfilePatch, FieldErrors> {
        let mut e = FieldErrors::default();
        let patch = ProfilePatch {
            display_name: validated(&mut e, self.display_name, |v| {
                DisplayName::parse("display_name", &v).map(DisplayName::into_inner)
            }),
            bio: validated(&mut e, self.bio, |v| {
                text::bounded("bio", &v, 0, limits::BIO, true)
            }),
            crafts: validated(&mut e, self.crafts, |v| {
                slugs("crafts", &v, limits::SLUG_LIST)
            }),
            skills_offered: validated(&mut e, self.skills_offered, |v| {
                slugs("skills_offered", &v, limits::SLUG_LIST)
            }),
            skills_wanted: validated(&mut e, self.skills_wanted, |v| {
                slugs("skills_wanted", &v, limits::SLUG_LIST)
            }),
            cultural_traditions: validated(&mut e, self.cultural_traditions, |v| {
                text::unique_list("cultural_traditions", &v, limits::TRADITIONS, |f, s| {
                    text::bounded(f, s, 1, limits::TRADITION, false)
                })
            }),
            country: validated(&mut e, self.country, |v| match v {
                Some(code) => CountryCode::parse("country", &code).map(|c| Some(c.into_inner())),
                None => Ok(None),
            }),
            region: validated(&mut e, self.region, |v| match v {
                Some(region) => {
                    text::bounded("region", &region, 1, limits::REGION, false).map(Some)
                }
                None => Ok(None),
            }),
            languages: validated(&mut e, self.languages, |v| {
                text::unique_list("languages", &v, limits::LANGUAGES, text::language_tag)
            }),
            open_to: self.open_to,
            discoverable_by_partners: self.discoverable_by_partners,
            communities: validated(&mut e, self.communities, |v| {
                slugs("communities", &v, limits::COMMUNITIES)
            }),
            links: validated(&mut e, self.links, |v| {
                text::unique_list("links", &v, limits::LINKS, text::web_url)
            }),
        };
        e.finish(|| ValidProfilePatch(patch))
    }
}

impl ValidProfilePatch {
    /// Applies the change to the current fields.
    pub fn apply(self, fields: &mut ProfileFields) {
        let p = self.0;
        macro_rules! set {
            ($($name:ident),*) => { $( if let Some(v) = p.$name { fields.$name = v; } )* };
        }
        set!(
            display_name,
            bio,
            crafts,
            skills_offered,
            skills_wanted,
            cultural_traditions,
            country,
            region,
            languages,
            discoverable_by_partners,
            communities,
            links
        );
        if let Some(open_to) = p.open_to {
            let current = &mut fields.open_to;
            current.collaboration = open_to.collaboration.unwrap_or(current.collaboration);
            current.mentoring = open_to.mentoring.unwrap_or(current.mentoring);
            current.being_mentored = open_to.being_mentored.unwrap_or(current.being_mentored);
        }
    }
}

/// The parts of a profile that are indexed as tags, for filters and
/// matching.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagKind {
    Craft,
    SkillOffered,
    SkillWanted,
    Community,
}

crate::account::text_enum!(TagKind {
    Craft => "craft",
    SkillOffered => "skill_offered",
    SkillWanted => "skill_wanted",
    Community => "community",
});

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn base() -> ProfileFields {
        let name = DisplayName::parse("display_name", "Rosa Quispe").ok();
        ProfileFields::new_member(name.unwrap_or_else(|| unreachable!()))
    }

    #[test]
    fn reports_every_broken_field() {
        let patch = ProfilePatch {
            display_name: Some("   ".into()),
            crafts: Some(vec!["Weaving".into()]),
            country: Some(Some("Peru".into())),
            languages: Some(vec!["not a tag".into()]),
            ..Default::default()
        };
        let errors = patch.validate().err().map(|e| e.0).unwrap_or_default();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["display_name", "crafts[0]", "country", "languages[0]"]
        );
    }

    #[test]
    fn applies_only_what_was_sent_and_clears_with_null() {
        let mut fields = base();
        fields.region = Some("Cusco".into());
        let patch = ProfilePatch {
            crafts: Some(vec!["weaving".into()]),
            region: Some(None),
            open_to: Some(OpenToPatch {
                mentoring: Some(true),
                ..Default::default()
            }),
            ..Default::default()
        };
        patch.validate().map(|p| p.apply(&mut fields)).ok();
        assert_eq!(fields.crafts, ["weaving"]);
        assert_eq!(fields.region, None);
        assert_eq!(fields.display_name, "Rosa Quispe");
        assert!(fields.open_to.mentoring && !fields.open_to.collaboration);
    }

    #[test]
    fn a_former_member_keeps_nothing_personal() {
        let former = ProfileFields::former_member();
        assert_eq!(former.display_name, FORMER_MEMBER_NAME);
        assert!(former.bio.is_empty() && former.links.is_empty() && former.country.is_none());
        assert!(!former.discoverable_by_partners);
    }

    proptest! {
        #[test]
        fn valid_slug_lists_always_apply(crafts in proptest::collection::btree_set("[a-z0-9-]{1,40}", 0..=20)) {
            let crafts: Vec<String> = crafts.into_iter().collect();
            let mut fields = base();
            let patch = ProfilePatch { crafts: Some(crafts.clone()), ..Default::default() };
            let valid = patch.validate().map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
            valid.apply(&mut fields);
            prop_assert_eq!(fields.crafts, crafts);
        }

        #[test]
        fn oversized_lists_are_rejected(n in 21usize..40) {
            let skills: Vec<String> = (0..n).map(|i| format!("skill-{i}")).collect();
            let patch = ProfilePatch { skills_offered: Some(skills), ..Default::default() };
            prop_assert!(patch.validate().is_err());
        }
    }
}
