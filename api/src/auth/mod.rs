//! Authentication: access tokens (JWT), password hashing, opaque refresh
//! tokens, the keys derived from the server secret, and the one principal
//! extractor every handler uses.

pub mod jwt;
pub mod keys;
pub mod password;
pub mod principal;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;

/// A new opaque refresh token: 256 bits from the OS CSPRNG.
pub fn new_refresh_token() -> String {
    let mut bytes = [0u8; 32];
    // ThreadRng is a CSPRNG (ChaCha) seeded and periodically reseeded from
    // the operating system.
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}
