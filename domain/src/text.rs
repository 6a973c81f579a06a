//! Validated text newtypes: e-mail addresses, passwords, display names,
//! slugs, language tags and links. Constructors return a [`FieldError`]
//! naming the field so callers can collect every problem at once.

use serde::Serialize;

use crate::FieldError;

/// Maximum lengths, in characters, shared with the API schema.
pub mod limits {
    pub const EMAIL: usize = 254;
    pub const PASSWORD_MIN: usize = 10;
    pub const PASSWORD_MAX: usize = 128;
    pub const DISPLAY_NAME: usize = 80;
    pub const BIO: usize = 2000;
    pub const SLUG: usize = 40;
    pub const SLUG_LIST: usize = 20;
    pub const COMMUNITIES: usize = 10;
    pub const TRADITION: usize = 80;
    pub const TRADITIONS: usize = 10;
    pub const REGION: usize = 100;
    pub const LANGUAGE_TAG: usize = 35;
    pub const LANGUAGES: usize = 10;
    pub const LINK: usize = 2048;
    pub const LINKS: usize = 10;
    pub const ORG_NAME: usize = 120;
    pub const ORG_DESCRIPTION: usize = 2000;
    pub const DESCRIPTION: usize = 2000;
    pub const KEY_NAME: usize = 80;
    pub const SEARCH_QUERY: usize = 100;
}

fn char_len(s: &str) -> usize {
    s.chars().count()
}

/// Rejects control characters (other than newlines and tabs in long text).
fn has_control(s: &str, allow_newlines: bool) -> bool {
    s.chars()
        .any(|c| c.is_control() && !(allow_newlines && matches!(c, '\n' | '\r' | '\t')))
}

/// A name or title: one line of 1 to [`limits::ORG_NAME`] characters.
pub fn title(field: &str, value: &str) -> Result<String, FieldError> {
    bounded(field, value, 1, limits::ORG_NAME, false)
}

/// Prose that may be empty: up to [`limits::DESCRIPTION`] characters,
/// over several lines.
pub fn prose(field: &str, value: &str) -> Result<String, FieldError> {
    bounded(field, value, 0, limits::DESCRIPTION, true)
}

/// Free text with a maximum length; optionally required to be non-blank.
pub fn bounded(
    field: &str,
    value: &str,
    min: usize,
    max: usize,
    multiline: bool,
) -> Result<String, FieldError> {
    let trimmed = value.trim();
    let len = char_len(trimmed);
    if len < min {
        return Err(FieldError::new(
            field,
            "too_short",
            format!("must have at least {min} non-blank character(s)"),
        ));
    }
    if len > max {
        return Err(FieldError::new(
            field,
            "too_long",
            format!("must have at most {max} characters"),
        ));
    }
    if has_control(trimmed, multiline) {
        return Err(FieldError::new(
            field,
            "invalid_characters",
            "must not contain control characters",
        ));
    }
    Ok(trimmed.to_owned())
}

/// An e-mail address, kept as given (trimmed) with a lower-cased key for
/// case-insensitive uniqueness.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        let value = value.trim();
        let invalid = || FieldError::new(field, "invalid_email", "must be an e-mail address");
        if char_len(value) > limits::EMAIL {
            return Err(FieldError::new(
                field,
                "too_long",
                format!("must have at most {} characters", limits::EMAIL),
            ));
        }
        let (local, domain) = value.rsplit_once('@').ok_or_else(invalid)?;
        let valid_domain = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && domain
                .chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '.');
        if local.is_empty()
            || local.starts_with('.')
            || local.ends_with('.')
            || local.contains("..")
            || local.contains('@')
            || local.chars().any(|c| c.is_whitespace() || c.is_control())
            || !valid_domain
        {
            return Err(invalid());
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The uniqueness key: the whole address lower-cased.
    pub fn normalized(&self) -> String {
        self.0.to_lowercase()
    }
}

/// A password that satisfies the length policy; never printed.
pub struct Password(String);

impl Password {
    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        let len = char_len(value);
        if !(limits::PASSWORD_MIN..=limits::PASSWORD_MAX).contains(&len) {
            return Err(FieldError::new(
                field,
                "length",
                format!(
                    "must have between {} and {} characters",
                    limits::PASSWORD_MIN,
                    limits::PASSWORD_MAX
                ),
            ));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

/// A display name: 1–80 characters, trimmed, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        bounded(field, value, 1, limits::DISPLAY_NAME, false).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A craft, skill or community slug: `[a-z0-9-]{1,40}`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Slug(String);

impl Slug {
    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        let ok = (1..=limits::SLUG).contains(&value.len())
            && value
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(Self(value.to_owned()))
        } else {
            Err(FieldError::new(
                field,
                "pattern",
                "must be 1-40 characters of a-z, 0-9 and '-'",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Parses a list of items with a maximum size and no duplicates.
pub fn unique_list<T: PartialEq>(
    field: &str,
    values: &[String],
    max: usize,
    parse: impl Fn(&str, &str) -> Result<T, FieldError>,
) -> Result<Vec<T>, FieldError> {
    if values.len() > max {
        return Err(FieldError::new(
            field,
            "too_many",
            format!("must have at most {max} items"),
        ));
    }
    let mut parsed: Vec<T> = Vec::with_capacity(values.len());
    for (i, value) in values.iter().enumerate() {
        let item = parse(&format!("{field}[{i}]"), value)?;
        if parsed.contains(&item) {
            return Err(FieldError::new(
                format!("{field}[{i}]"),
                "duplicate",
                "appears more than once",
            ));
        }
        parsed.push(item);
    }
    Ok(parsed)
}

/// A BCP 47 language tag, checked for shape (`es`, `qu-PE`, `zh-Hant-TW`).
pub fn language_tag(field: &str, value: &str) -> Result<String, FieldError> {
    let mut parts = value.split('-');
    let primary_ok = parts
        .next()
        .is_some_and(|p| (2..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphabetic()));
    let rest_ok =
        parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()));
    if primary_ok && rest_ok && value.len() <= limits::LANGUAGE_TAG {
        Ok(value.to_owned())
    } else {
        Err(FieldError::new(
            field,
            "invalid_language_tag",
            "must be a BCP 47 language tag such as 'es' or 'qu-PE'",
        ))
    }
}

/// An absolute `http`/`https` URL with a host and no whitespace.
pub fn web_url(field: &str, value: &str) -> Result<String, FieldError> {
    let invalid = || FieldError::new(field, "invalid_url", "must be an absolute http(s) URL");
    if char_len(value) > limits::LINK {
        return Err(FieldError::new(
            field,
            "too_long",
            format!("must have at most {} characters", limits::LINK),
        ));
    }
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"))
        .ok_or_else(invalid)?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    if !host_ok || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid());
    }
    Ok(value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn slugs_accept_exactly_the_pattern(s in "\\PC{0,50}") {
            let expected = !s.is_empty() && s.len() <= 40
                && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            prop_assert_eq!(Slug::parse("f", &s).is_ok(), expected);
        }

        #[test]
        fn valid_slugs_round_trip(s in "[a-z0-9-]{1,40}") {
            let slug = Slug::parse("f", &s).map_err(|e| TestCaseError::fail(e.message))?;
            prop_assert_eq!(slug.as_str(), s.as_str());
        }

        #[test]
        fn email_key_is_case_insensitive(local in "[a-zA-Z0-9_%+-]{1,10}(\\.[a-zA-Z0-9_%+-]{1,10})?", domain in "[a-zA-Z0-9-]{1,20}\\.[a-zA-Z]{2,6}") {
            let a = Email::parse("email", &format!("{local}@{domain}")).map_err(|e| TestCaseError::fail(e.message))?;
            let b = Email::parse("email", &format!("{}@{}", local.to_uppercase(), domain.to_uppercase())).map_err(|e| TestCaseError::fail(e.message))?;
            prop_assert_eq!(a.normalized(), b.normalized());
        }

        #[test]
        fn password_length_policy(len in 0usize..200) {
            let pw: String = "é".repeat(len);
            prop_assert_eq!(Password::parse("password", &pw).is_ok(), (10..=128).contains(&len));
        }

        #[test]
        fn display_names_are_trimmed_and_bounded(s in "\\PC{0,100}") {
            match DisplayName::parse("display_name", &s) {
                Ok(name) => {
                    prop_assert_eq!(name.as_str(), s.trim());
                    prop_assert!((1..=80).contains(&name.as_str().chars().count()));
                }
                Err(_) => {
                    let n = s.trim().chars().count();
                    prop_assert!(n == 0 || n > 80 || s.trim().chars().any(char::is_control));
                }
            }
        }

        #[test]
        fn language_tags_of_the_documented_shape_pass(p in "[a-z]{2,3}", r in proptest::option::of("[A-Z]{2}")) {
            let tag = match r { Some(r) => format!("{p}-{r}"), None => p };
            prop_assert!(language_tag("languages[0]", &tag).is_ok());
        }
    }

    #[test]
    fn rejects_malformed_emails() {
        for bad in [
            "",
            "a",
            "a@",
            "@b.c",
            "a@b",
            "a b@c.de",
            "a@b..",
            "a@.b",
            "a.@b.cd",
            ".a@b.cd",
            "a..b@c.de",
        ] {
            assert!(Email::parse("email", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn lists_reject_duplicates_and_overflow() {
        let dup = vec!["weaving".to_owned(), "weaving".to_owned()];
        let err = unique_list("crafts", &dup, 20, Slug::parse).err();
        assert_eq!(err.map(|e| e.field), Some("crafts[1]".to_owned()));
        let many: Vec<String> = (0..21).map(|i| format!("c{i}")).collect();
        assert_eq!(
            unique_list("crafts", &many, 20, Slug::parse)
                .err()
                .map(|e| e.code),
            Some("too_many")
        );
    }

    #[test]
    fn urls_need_a_scheme_and_host() {
        assert!(web_url("links[0]", "https://example.org/shop").is_ok());
        for bad in ["ftp://x.org", "https://", "example.org", "https://a b.org"] {
            assert!(web_url("links[0]", bad).is_err(), "{bad}");
        }
    }
}
