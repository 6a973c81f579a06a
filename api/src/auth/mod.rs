//! Authentication: access tokens (JWT), password hashing, opaque refresh
//! tokens and the one principal extractor every handler uses.

pub mod jwt;
pub mod password;
pub mod principal;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A new opaque refresh token: 256 bits from the OS CSPRNG.
pub fn new_refresh_token() -> String {
    let mut bytes = [0u8; 32];
    // ThreadRng is a CSPRNG (ChaCha) seeded and periodically reseeded from
    // the operating system.
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What is stored of a refresh token: its SHA-256, hex.
pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
