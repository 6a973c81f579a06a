//! Partner API keys: format, checksum and scopes.
//!
//! A key reads `ac_<48 hex: 192 random bits><8 hex checksum>`. The prefix
//! makes a leaked key recognisable (secret scanners can match it); the
//! checksum (first 4 bytes of SHA-256 over the rest) rejects a mistyped key
//! without a database lookup. Only a keyed fingerprint of the whole key is
//! stored (the api crate's `auth::keys`).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDateTime};
use sha2::{Digest, Sha256};

use crate::text::{self, limits};
use crate::{FieldError, FieldErrors};

pub const KEY_PREFIX: &str = "ac_";
const BODY_HEX: usize = 48;
const CHECKSUM_HEX: usize = 8;
/// How many leading characters of a key are stored and shown to identify it.
pub const DISPLAY_PREFIX_LEN: usize = KEY_PREFIX.len() + 8;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn checksum(prefixed_body: &str) -> String {
    hex(&Sha256::digest(prefixed_body.as_bytes())[..CHECKSUM_HEX / 2])
}

/// A plaintext API key. It exists only while being issued or checked.
pub struct ApiKeySecret(String);

impl ApiKeySecret {
    /// Builds a key from 24 bytes of CSPRNG output supplied by the caller.
    pub fn from_random(random: [u8; BODY_HEX / 2]) -> Self {
        let body = format!("{KEY_PREFIX}{}", hex(&random));
        let sum = checksum(&body);
        Self(format!("{body}{sum}"))
    }

    /// Accepts a presented key only if prefix, length, alphabet and checksum
    /// are right.
    pub fn parse(presented: &str) -> Option<Self> {
        let rest = presented.strip_prefix(KEY_PREFIX)?;
        if rest.len() != BODY_HEX + CHECKSUM_HEX
            || !rest
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return None;
        }
        let (body, sum) = presented.split_at(KEY_PREFIX.len() + BODY_HEX);
        (checksum(body) == sum).then(|| Self(presented.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The identifying prefix shown in listings.
    pub fn display_prefix(&self) -> &str {
        &self.0[..DISPLAY_PREFIX_LEN]
    }
}

impl fmt::Debug for ApiKeySecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKeySecret({}…)", self.display_prefix())
    }
}

/// What a partner key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    DirectoryRead,
    ProgramsWrite,
    ImpactRead,
    WebhooksManage,
    /// Read the partnerships shared with the organization.
    PartnershipsRead,
}

impl Scope {
    pub const ALL: [Scope; 5] = [
        Scope::DirectoryRead,
        Scope::ProgramsWrite,
        Scope::ImpactRead,
        Scope::WebhooksManage,
        Scope::PartnershipsRead,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::DirectoryRead => "directory:read",
            Scope::ProgramsWrite => "programs:write",
            Scope::ImpactRead => "impact:read",
            Scope::WebhooksManage => "webhooks:manage",
            Scope::PartnershipsRead => "partnerships:read",
        }
    }
}

impl FromStr for Scope {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scope::ALL
            .into_iter()
            .find(|scope| scope.as_str() == s)
            .ok_or_else(|| format!("unknown scope '{s}'"))
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A key to issue, validated: a name, 1 to 5 distinct scopes, an
/// optional expiry in the future.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySpec {
    pub name: String,
    pub scopes: Vec<Scope>,
    pub expires_at: Option<NaiveDateTime>,
}

impl KeySpec {
    /// Checks the request (`expires_at` as RFC 3339, compared with `now`);
    /// every problem is reported together.
    pub fn parse(
        name: &str,
        mut scopes: Vec<Scope>,
        expires_at: Option<&str>,
        now: NaiveDateTime,
    ) -> Result<KeySpec, FieldErrors> {
        let mut errors = FieldErrors::default();
        let name = errors.take(text::bounded("name", name, 1, limits::KEY_NAME, false));
        scopes.sort_unstable();
        if scopes.is_empty() || scopes.len() > Scope::ALL.len() {
            errors.push(FieldError::new(
                "scopes",
                "size",
                format!("must list 1 to {} scopes", Scope::ALL.len()),
            ));
        }
        if scopes.windows(2).any(|w| w[0] == w[1]) {
            errors.push(FieldError::new(
                "scopes",
                "duplicate",
                "lists a scope more than once",
            ));
        }
        let expires_at = expires_at.and_then(|t| {
            errors.take(
                DateTime::parse_from_rfc3339(t)
                    .map(|t| t.naive_utc())
                    .map_err(|_| {
                        FieldError::new(
                            "expires_at",
                            "invalid_time",
                            "must be an RFC 3339 date-time",
                        )
                    }),
            )
        });
        if expires_at.is_some_and(|t| t <= now) {
            errors.push(FieldError::new(
                "expires_at",
                "in_past",
                "must be in the future",
            ));
        }
        errors.finish(|| KeySpec {
            name: name.unwrap_or_default(),
            scopes,
            expires_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn issued_keys_parse_back(random in proptest::array::uniform24(any::<u8>())) {
            let key = ApiKeySecret::from_random(random);
            prop_assert_eq!(key.expose().len(), 3 + 48 + 8);
            let parsed = ApiKeySecret::parse(key.expose());
            prop_assert!(parsed.is_some_and(|p| p.expose() == key.expose()));
        }

        #[test]
        fn any_single_character_typo_is_rejected(random in proptest::array::uniform24(any::<u8>()), pos in 3usize..59, c in "[0-9a-f]") {
            let key = ApiKeySecret::from_random(random);
            let mut typo = key.expose().to_owned();
            let original = &typo[pos..=pos];
            prop_assume!(original != c);
            typo.replace_range(pos..=pos, &c);
            prop_assert!(ApiKeySecret::parse(&typo).is_none());
        }
    }

    #[test]
    fn scopes_round_trip() {
        for scope in Scope::ALL {
            assert_eq!(scope.as_str().parse::<Scope>(), Ok(scope));
        }
        assert!("admin".parse::<Scope>().is_err());
    }

    #[test]
    fn a_key_spec_has_a_name_distinct_scopes_and_a_future_expiry() {
        let now: NaiveDateTime = "2026-06-01T00:00:00".parse().expect("time");
        let spec = KeySpec::parse(
            "sync",
            vec![Scope::ImpactRead, Scope::DirectoryRead],
            None,
            now,
        )
        .expect("valid");
        assert_eq!(spec.scopes, [Scope::DirectoryRead, Scope::ImpactRead]);
        let codes = |r: Result<KeySpec, FieldErrors>| {
            r.err()
                .map(|e| e.0.iter().map(|e| e.code).collect::<Vec<_>>())
                .unwrap_or_default()
        };
        assert_eq!(
            codes(KeySpec::parse(
                "",
                vec![Scope::ImpactRead, Scope::ImpactRead],
                Some("2026-01-01T00:00:00Z"),
                now
            )),
            ["too_short", "duplicate", "in_past"]
        );
        assert_eq!(
            codes(KeySpec::parse("k", vec![], Some("tomorrow"), now)),
            ["size", "invalid_time"]
        );
    }
}
