-- Secrets at rest become keyed: refresh tokens and API keys are stored as
-- HMAC-SHA-256 fingerprints under a key derived from the server secret,
-- idempotent requests are remembered by a keyed fingerprint and their
-- responses are kept sealed (AEAD). What was stored before (plain SHA-256,
-- responses in clear) cannot be converted, so it is retired: stored
-- responses are forgotten, everyone signs in again, and API keys issued
-- before this version are revoked (issue new ones).
DELETE FROM idempotency_keys;
DELETE FROM refresh_tokens;
UPDATE api_keys
   SET key_hash = 'retired:' || id,
       revoked_at = COALESCE(revoked_at, strftime('%Y-%m-%d %H:%M:%f', 'now'));
