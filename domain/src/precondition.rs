//! Optimistic concurrency: which versions an `If-Match` header admits.
//!
//! Every mutable resource carries an integer `version`; its ETag is the
//! strong entity-tag `"<version>"`. `If-Match` is evaluated as RFC 9110
//! §13.1.1 says: it may list several entity-tags, and the condition holds
//! when one of them strongly matches the current ETag. Weak tags, tags of
//! another server and well-formed garbage never match (→ 412 where the
//! version is compared); only a value that is not entity-tag syntax at all
//! is malformed (→ 400). `*` would skip the check, so it counts as missing.

/// The versions a conditional write accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Precondition(Vec<i64>);

/// Why an `If-Match` value cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IfMatchError {
    /// `*`: it would match any version, so the write would not be
    /// conditional at all (treated as missing → 428).
    Any,
    /// Not a list of entity-tags (→ 400).
    Malformed,
}

impl Precondition {
    /// Exactly this version (for callers inside the service).
    pub fn exactly(version: i64) -> Self {
        Self(vec![version])
    }

    /// Whether a resource at `version` satisfies the condition.
    pub fn admits(&self, version: i64) -> bool {
        self.0.contains(&version)
    }

    /// Parses the value of an `If-Match` header (RFC 9110: `"*"` or a
    /// comma-separated list of `[W/]"opaque"` tags; empty list elements
    /// are allowed, at least one tag is required).
    pub fn parse_if_match(value: &[u8]) -> Result<Self, IfMatchError> {
        let trimmed = value.trim_ascii();
        if trimmed == b"*" {
            return Err(IfMatchError::Any);
        }
        let mut versions = Vec::new();
        let mut tags = 0usize;
        let mut rest = trimmed;
        loop {
            rest = skip_separators(rest);
            if rest.is_empty() {
                break;
            }
            let (tag, after) = entity_tag(rest).ok_or(IfMatchError::Malformed)?;
            tags += 1;
            if let EntityTag::Strong(opaque) = tag {
                if let Some(version) = version_of(opaque) {
                    versions.push(version);
                }
            }
            let after = after.trim_ascii_start();
            match after.first() {
                None => rest = after,
                Some(b',') => rest = after,
                Some(_) => return Err(IfMatchError::Malformed),
            }
        }
        if tags == 0 {
            return Err(IfMatchError::Malformed);
        }
        Ok(Self(versions))
    }
}

/// The strong ETag of a version.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

enum EntityTag<'a> {
    Strong(&'a [u8]),
    Weak,
}

fn skip_separators(mut rest: &[u8]) -> &[u8] {
    while let Some((first, tail)) = rest.split_first() {
        if matches!(first, b',' | b' ' | b'\t') {
            rest = tail;
        } else {
            break;
        }
    }
    rest
}

/// One `[W/]"etagc*"` at the start of `input`, and what follows it.
fn entity_tag(input: &[u8]) -> Option<(EntityTag<'_>, &[u8])> {
    let (weak, quoted) = match input.strip_prefix(b"W/") {
        Some(rest) => (true, rest),
        None => (false, input),
    };
    let inner = quoted.strip_prefix(b"\"")?;
    let end = inner.iter().position(|&b| b == b'"')?;
    let opaque = &inner[..end];
    // etagc = %x21 / %x23-7E / obs-text
    if !opaque
        .iter()
        .all(|&b| b == 0x21 || (0x23..=0x7e).contains(&b) || b >= 0x80)
    {
        return None;
    }
    let tag = if weak {
        EntityTag::Weak
    } else {
        EntityTag::Strong(opaque)
    };
    Some((tag, &inner[end + 1..]))
}

/// The version an opaque tag of ours names: a decimal number as we write
/// it (no sign, no leading zeros), within `i64`.
fn version_of(opaque: &[u8]) -> Option<i64> {
    let text = std::str::from_utf8(opaque).ok()?;
    let canonical = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    canonical.then(|| text.parse().ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(value: &str) -> Result<Precondition, IfMatchError> {
        Precondition::parse_if_match(value.as_bytes())
    }

    #[test]
    fn our_strong_tag_matches_its_version_only() {
        let p = parse("\"3\"").expect("valid");
        assert!(p.admits(3));
        assert!(!p.admits(4));
    }

    #[test]
    fn a_list_matches_any_of_its_strong_tags() {
        let p = parse("\"xyzzy\", W/\"4\" ,\"7\",,  \"9\"").expect("valid");
        assert!(p.admits(7) && p.admits(9));
        assert!(!p.admits(4), "a weak tag never matches strongly");
    }

    #[test]
    fn well_formed_tags_that_are_not_ours_are_valid_but_match_nothing() {
        for value in [
            "\"bogus\"",
            "W/\"3\"",
            "\"03\"",
            "\"\"",
            "\"-1\"",
            "\"99999999999999999999\"",
        ] {
            let p = parse(value).unwrap_or_else(|e| panic!("{value}: {e:?}"));
            assert!((0..5).all(|v| !p.admits(v)), "{value}");
        }
    }

    #[test]
    fn star_counts_as_missing() {
        assert_eq!(parse("*"), Err(IfMatchError::Any));
        assert_eq!(parse(" * "), Err(IfMatchError::Any));
    }

    #[test]
    fn what_is_not_entity_tag_syntax_is_malformed() {
        for value in [
            "3",
            "bogus",
            "\"3",
            "\"3\" \"4\"",
            "W/3",
            "\"a\"b",
            "",
            " , ",
            "*, \"3\"",
            "\"a\u{7f}\"",
        ] {
            assert_eq!(parse(value), Err(IfMatchError::Malformed), "{value:?}");
        }
    }

    #[test]
    fn obs_text_is_allowed_inside_a_tag() {
        assert!(Precondition::parse_if_match(b"\"caf\xc3\xa9\"").is_ok());
    }

    proptest! {
        #[test]
        fn any_version_round_trips_through_its_etag(version in 0i64..i64::MAX) {
            let p = parse(&etag(version)).expect("our own tag parses");
            prop_assert!(p.admits(version));
            prop_assert!(!p.admits(version.wrapping_add(1)));
        }

        #[test]
        fn parsing_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = Precondition::parse_if_match(&bytes);
        }
    }
}
