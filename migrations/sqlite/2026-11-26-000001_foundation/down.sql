DROP TABLE reviews;
DROP TABLE idempotency_keys;
DROP TABLE api_keys;
DROP TABLE organizations;
DROP TABLE refresh_tokens;
DROP TABLE artisan_tags;
DROP TABLE artisans;
DROP TABLE users;
