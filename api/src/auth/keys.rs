//! Keys derived from the server secret (`JWT_SECRET`), so that nothing
//! stored is a secret in clear or under a fast unkeyed hash:
//!
//! - keyed fingerprints (HMAC-SHA-256) of refresh tokens, API keys, the
//!   bodies of idempotent requests (a registration carries a password) and
//!   of anonymous idempotency scopes. A database dump alone does not let
//!   anyone test a guess against them.
//! - sealed copies (XChaCha20-Poly1305, a random 192-bit nonce each) of the
//!   responses the idempotency store replays, since some of them hand out a
//!   secret once (a new API key). The seal is bound to its context (the
//!   principal and key it was stored under), so a copy moved to another row
//!   does not open.
//!
//! Each key is derived with HKDF-SHA-256 under its own label, so no two
//! uses share a key, and the JWT signing key is none of them. Changing the
//! server secret invalidates all of it at once: access tokens, refresh
//! tokens, API keys (re-issue them) and stored responses (their keys then
//! answer 409 instead of running the request a second time).

use base64::engine::general_purpose::STANDARD_NO_PAD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use domain::api_key::{ApiKeySecret, KeySpec};
use persistence::api_keys::{self, ApiKeyRow, NewApiKey};
use persistence::AnyConnection;

use crate::error::ApiError;
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

/// What a fingerprint is of; part of the MAC input, so a fingerprint made
/// for one purpose never equals one made for another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    RefreshToken,
    ApiKey,
    IdempotentRequest,
    AnonymousScope,
}

impl Purpose {
    fn label(self) -> &'static [u8] {
        match self {
            Purpose::RefreshToken => b"refresh-token",
            Purpose::ApiKey => b"api-key",
            Purpose::IdempotentRequest => b"idempotent-request",
            Purpose::AnonymousScope => b"anonymous-scope",
        }
    }
}

const NONCE_LEN: usize = 24;

#[derive(Clone)]
pub struct Keyring {
    fingerprint: [u8; 32],
    seal: XChaCha20Poly1305,
}

fn derive(server_secret: &[u8], label: &[u8]) -> [u8; 32] {
    let mut key = [0u8; 32];
    // 32 bytes are far below HKDF-SHA-256's limit of 255 × 32.
    let _ = Hkdf::<Sha256>::new(None, server_secret).expand(label, &mut key);
    key
}

impl Keyring {
    pub fn derive(server_secret: &[u8]) -> Self {
        let seal_key = derive(server_secret, b"artisan-commons seal v1");
        Self {
            fingerprint: derive(server_secret, b"artisan-commons fingerprint v1"),
            seal: XChaCha20Poly1305::new(&seal_key.into()),
        }
    }

    /// Lower-case hex HMAC-SHA-256 of `purpose ‖ 0 ‖ parts[0] ‖ 0 ‖ …`.
    pub fn fingerprint(&self, purpose: Purpose, parts: &[&[u8]]) -> String {
        let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(&self.fingerprint) else {
            unreachable!("HMAC accepts keys of any length");
        };
        mac.update(purpose.label());
        for part in parts {
            mac.update(&[0]);
            mac.update(part);
        }
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// What is stored of a refresh token.
    pub fn refresh_token(&self, token: &str) -> String {
        self.fingerprint(Purpose::RefreshToken, &[token.as_bytes()])
    }

    /// What is stored of an API key, and how a presented one is found.
    pub fn api_key(&self, secret: &ApiKeySecret) -> String {
        self.fingerprint(Purpose::ApiKey, &[secret.expose().as_bytes()])
    }

    /// `plaintext` encrypted and authenticated, bound to `context`;
    /// base64 of nonce ‖ ciphertext.
    pub fn seal(&self, plaintext: &[u8], context: &[u8]) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let payload = Payload {
            msg: plaintext,
            aad: context,
        };
        let Ok(ciphertext) = self.seal.encrypt(&XNonce::from(nonce), payload) else {
            unreachable!("XChaCha20-Poly1305 encrypts any message under 256 GiB");
        };
        let mut out = nonce.to_vec();
        out.extend(ciphertext);
        STANDARD_NO_PAD.encode(out)
    }

    /// The plaintext of a [`Keyring::seal`] made under the same secret
    /// and context; `None` otherwise.
    pub fn open(&self, sealed: &str, context: &[u8]) -> Option<Vec<u8>> {
        let bytes = STANDARD_NO_PAD.decode(sealed).ok()?;
        if bytes.len() < NONCE_LEN {
            return None;
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().ok()?;
        let payload = Payload {
            msg: ciphertext,
            aad: context,
        };
        self.seal.decrypt(&XNonce::from(nonce), payload).ok()
    }
}

/// A new API key: CSPRNG randomness with a checksum, and the keyed
/// fingerprint that is all the database will hold of it.
pub struct MintedKey {
    pub secret: ApiKeySecret,
    fingerprint: String,
}

impl Keyring {
    pub fn mint_api_key(&self) -> MintedKey {
        let mut random = [0u8; 24];
        rand::rng().fill_bytes(&mut random);
        let secret = ApiKeySecret::from_random(random);
        let fingerprint = self.api_key(&secret);
        MintedKey {
            secret,
            fingerprint,
        }
    }
}

/// Stores a minted key for an existing organization (used by the API and
/// the CLI). The plaintext exists only in the minted value.
pub fn issue_api_key(
    conn: &mut AnyConnection,
    organization_id: &str,
    minted: &MintedKey,
    spec: KeySpec,
) -> Result<ApiKeyRow, ApiError> {
    persistence::organizations::find(conn, organization_id)?.ok_or(ApiError::NotFound)?;
    Ok(api_keys::create(
        conn,
        NewApiKey {
            organization_id,
            name: spec.name,
            prefix: minted.secret.display_prefix().to_owned(),
            key_hash: minted.fingerprint.clone(),
            scopes: spec.scopes,
            expires_at: spec.expires_at,
        },
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::Digest;

    fn keys() -> Keyring {
        Keyring::derive(b"a-server-secret-that-is-long-enough-01")
    }

    #[test]
    fn fingerprints_are_keyed_and_separated_by_purpose() {
        let secret = b"ac_0123456789abcdef";
        let a = keys().fingerprint(Purpose::ApiKey, &[secret]);
        assert_eq!(a, keys().fingerprint(Purpose::ApiKey, &[secret]));
        assert_eq!(a.len(), 64);
        let plain: String = Sha256::digest(secret)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_ne!(a, plain, "not the unkeyed SHA-256");
        assert_ne!(a, keys().fingerprint(Purpose::RefreshToken, &[secret]));
        assert_ne!(
            a,
            Keyring::derive(b"another-server-secret-long-enough-0001")
                .fingerprint(Purpose::ApiKey, &[secret])
        );
        // Parts are delimited: ("ab", "c") is not ("a", "bc").
        assert_ne!(
            keys().fingerprint(Purpose::ApiKey, &[b"ab", b"c"]),
            keys().fingerprint(Purpose::ApiKey, &[b"a", b"bc"])
        );
    }

    #[test]
    fn sealed_copies_open_only_in_their_context_and_unchanged() {
        let keys = keys();
        let sealed = keys.seal(b"{\"key\":\"ac_secret\"}", b"user:1\0k-1");
        assert!(!sealed.contains("ac_secret"));
        assert_eq!(
            keys.open(&sealed, b"user:1\0k-1").as_deref(),
            Some(&b"{\"key\":\"ac_secret\"}"[..])
        );
        assert_eq!(keys.open(&sealed, b"user:2\0k-1"), None, "other row");
        assert_eq!(
            Keyring::derive(b"another-server-secret-long-enough-0001")
                .open(&sealed, b"user:1\0k-1"),
            None,
            "other secret"
        );
        let mut tampered = STANDARD_NO_PAD.decode(&sealed).expect("base64");
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert_eq!(
            keys.open(&STANDARD_NO_PAD.encode(tampered), b"user:1\0k-1"),
            None
        );
        assert_ne!(
            sealed,
            keys.seal(b"{\"key\":\"ac_secret\"}", b"user:1\0k-1")
        );
        assert_eq!(keys.open("not base64!", b""), None);
        assert_eq!(keys.open("", b""), None);
    }
}
