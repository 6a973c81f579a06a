//! Collectives (cooperatives): membership policies, roles, join
//! applications and the rule that a collective always keeps a coordinator.

use crate::account::text_enum;
use crate::country::CountryCode;
use crate::text::{self, limits, Slug};
use crate::{FieldError, FieldErrors};

/// How artisans join.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MembershipPolicy {
    /// Applying admits at once.
    Open,
    /// Applications wait for a coordinator's decision.
    Application,
    /// Only coordinators add members.
    InviteOnly,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberRole {
    Coordinator,
    Member,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplicationStatus {
    Pending,
    Approved,
    Declined,
}

text_enum!(MembershipPolicy { Open => "open", Application => "application", InviteOnly => "invite_only" });
text_enum!(MemberRole { Coordinator => "coordinator", Member => "member" });
text_enum!(ApplicationStatus { Pending => "pending", Approved => "approved", Declined => "declined" });

impl MembershipPolicy {
    /// What applying does under this policy: `Some(status)` of the new
    /// application, or `None` when artisans cannot apply at all.
    pub fn application_outcome(self) -> Option<ApplicationStatus> {
        match self {
            MembershipPolicy::Open => Some(ApplicationStatus::Approved),
            MembershipPolicy::Application => Some(ApplicationStatus::Pending),
            MembershipPolicy::InviteOnly => None,
        }
    }
}

/// A coordinator's decision on an application. A decline must say why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Approve { note: Option<String> },
    Decline { note: String },
}

impl Decision {
    pub fn new(approve: bool, note: Option<&str>) -> Result<Self, FieldError> {
        let note = note
            .map(|n| text::bounded("note", n, 0, limits::DESCRIPTION, true))
            .transpose()?
            .filter(|n| !n.is_empty());
        match (approve, note) {
            (true, note) => Ok(Decision::Approve { note }),
            (false, Some(note)) => Ok(Decision::Decline { note }),
            (false, None) => Err(FieldError::new(
                "note",
                "required",
                "a decline needs a note",
            )),
        }
    }

    pub fn status(&self) -> ApplicationStatus {
        match self {
            Decision::Approve { .. } => ApplicationStatus::Approved,
            Decision::Decline { .. } => ApplicationStatus::Declined,
        }
    }

    pub fn note(&self) -> Option<&str> {
        match self {
            Decision::Approve { note } => note.as_deref(),
            Decision::Decline { note } => Some(note),
        }
    }
}

/// Whether a change that removes one coordinator (leaving, removal or
/// demotion) may happen, given how many coordinators there are now.
pub fn may_lose_coordinator(coordinators: i64) -> bool {
    coordinators > 1
}

/// The editable fields of a collective, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectiveFields {
    pub name: String,
    pub description: String,
    pub crafts: Vec<String>,
    pub country: Option<String>,
    pub region: Option<String>,
    pub membership_policy: MembershipPolicy,
}

/// A requested change (or, with every field set, a new collective).
#[derive(Debug, Clone, Default)]
pub struct CollectivePatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub crafts: Option<Vec<String>>,
    pub country: Option<Option<String>>,
    pub region: Option<Option<String>>,
    pub membership_policy: Option<MembershipPolicy>,
}

impl CollectivePatch {
    /// Validates the change and applies it to `fields`.
    pub fn apply(self, fields: &mut CollectiveFields) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::default();
        let name = self
            .name
            .and_then(|v| e.take(text::bounded("name", &v, 1, limits::ORG_NAME, false)));
        let description = self.description.and_then(|v| {
            e.take(text::bounded(
                "description",
                &v,
                0,
                limits::DESCRIPTION,
                true,
            ))
        });
        let crafts = self.crafts.and_then(|v| {
            e.take(
                text::unique_list("crafts", &v, limits::SLUG_LIST, Slug::parse)
                    .map(|list| list.into_iter().map(|s| s.as_str().to_owned()).collect()),
            )
        });
        let country = self.country.and_then(|v| {
            e.take(match v {
                Some(c) => CountryCode::parse("country", &c).map(|c| Some(c.into_inner())),
                None => Ok(None),
            })
        });
        let region = self.region.and_then(|v| {
            e.take(match v {
                Some(r) => text::bounded("region", &r, 1, limits::REGION, false).map(Some),
                None => Ok(None),
            })
        });
        if !e.is_empty() {
            return Err(e);
        }
        if let Some(v) = name {
            fields.name = v;
        }
        if let Some(v) = description {
            fields.description = v;
        }
        if let Some(v) = crafts {
            fields.crafts = v;
        }
        if let Some(v) = country {
            fields.country = v;
        }
        if let Some(v) = region {
            fields.region = v;
        }
        if let Some(v) = self.membership_policy {
            fields.membership_policy = v;
        }
        Ok(())
    }

    /// A new collective from a complete request.
    pub fn create(self) -> Result<CollectiveFields, FieldErrors> {
        let mut fields = CollectiveFields {
            name: String::new(),
            description: String::new(),
            crafts: Vec::new(),
            country: None,
            region: None,
            membership_policy: self
                .membership_policy
                .unwrap_or(MembershipPolicy::Application),
        };
        if self.name.is_none() {
            return Err(FieldError::new("name", "required", "is required").into());
        }
        self.apply(&mut fields)?;
        Ok(fields)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_decide_what_applying_does() {
        assert_eq!(
            MembershipPolicy::Open.application_outcome(),
            Some(ApplicationStatus::Approved)
        );
        assert_eq!(
            MembershipPolicy::Application.application_outcome(),
            Some(ApplicationStatus::Pending)
        );
        assert_eq!(MembershipPolicy::InviteOnly.application_outcome(), None);
    }

    #[test]
    fn a_decline_needs_a_note() {
        assert!(Decision::new(false, None).is_err());
        assert!(Decision::new(false, Some("   ")).is_err());
        assert_eq!(
            Decision::new(false, Some("Not weaving")).map(|d| d.status()),
            Ok(ApplicationStatus::Declined)
        );
        assert_eq!(
            Decision::new(true, None).map(|d| d.status()),
            Ok(ApplicationStatus::Approved)
        );
    }

    #[test]
    fn the_last_coordinator_stays() {
        assert!(!may_lose_coordinator(1));
        assert!(may_lose_coordinator(2));
    }

    #[test]
    fn creating_requires_a_name_and_checks_every_field() {
        assert!(CollectivePatch::default().create().is_err());
        let errors = CollectivePatch {
            name: Some(" ".into()),
            crafts: Some(vec!["Bad Slug".into()]),
            country: Some(Some("XX".into())),
            ..Default::default()
        }
        .create()
        .err()
        .map(|e| e.0.into_iter().map(|e| e.field).collect::<Vec<_>>());
        assert_eq!(
            errors,
            Some(vec!["name".into(), "crafts[0]".into(), "country".into()])
        );
    }
}
