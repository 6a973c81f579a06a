//! Partner organizations: what registering one takes.

use crate::country::CountryCode;
use crate::text::{self, limits};
use crate::FieldErrors;

/// A partner organization's fields, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganizationFields {
    pub name: String,
    pub website: Option<String>,
    pub country: Option<String>,
    pub description: String,
}

impl OrganizationFields {
    /// Every field checked; all problems reported together.
    pub fn parse(
        name: &str,
        website: Option<&str>,
        country: Option<&str>,
        description: &str,
    ) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let name = errors.take(text::title("name", name));
        let website = website.and_then(|w| errors.take(text::web_url("website", w)));
        let country = country
            .and_then(|c| errors.take(CountryCode::parse("country", c)))
            .map(CountryCode::into_inner);
        let description = errors.take(text::bounded(
            "description",
            description,
            0,
            limits::ORG_DESCRIPTION,
            true,
        ));
        errors.finish(|| OrganizationFields {
            name: name.unwrap_or_default(),
            website,
            country,
            description: description.unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_is_checked_at_once() {
        let ok = OrganizationFields::parse(" Aid ", Some("https://aid.example"), Some("US"), "");
        assert_eq!(ok.map(|o| o.name), Ok("Aid".into()));
        let fields: Vec<String> =
            OrganizationFields::parse("", Some("ftp://x"), Some("XX"), &"d".repeat(3000))
                .err()
                .map(|e| e.0.into_iter().map(|e| e.field).collect())
                .unwrap_or_default();
        assert_eq!(fields, ["name", "website", "country", "description"]);
    }
}
