-- Identity, artisan profiles, partner organizations and the shared
-- idempotency store. Ids are UUID v7 text; times are UTC `timestamp`
-- (microseconds); list columns hold JSON arrays of strings.

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT,
    email_key     TEXT UNIQUE,
    password_hash TEXT,
    role          TEXT NOT NULL CHECK (role IN ('artisan', 'admin')),
    status        TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'closed')),
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL
);

CREATE TABLE artisans (
    id                       TEXT PRIMARY KEY REFERENCES users (id),
    display_name             TEXT NOT NULL,
    name_key                 TEXT NOT NULL,
    search_text              TEXT NOT NULL,
    bio                      TEXT NOT NULL,
    crafts                   TEXT NOT NULL,
    skills_offered           TEXT NOT NULL,
    skills_wanted            TEXT NOT NULL,
    cultural_traditions      TEXT NOT NULL,
    country                  TEXT,
    region                   TEXT,
    languages                TEXT NOT NULL,
    open_to_collaboration    BOOLEAN NOT NULL,
    open_to_mentoring        BOOLEAN NOT NULL,
    open_to_being_mentored   BOOLEAN NOT NULL,
    discoverable_by_partners BOOLEAN NOT NULL,
    communities              TEXT NOT NULL,
    links                    TEXT NOT NULL,
    rating_sum               BIGINT NOT NULL DEFAULT 0,
    rating_count             BIGINT NOT NULL DEFAULT 0,
    former_member            BOOLEAN NOT NULL DEFAULT FALSE,
    created_at               TIMESTAMP NOT NULL,
    updated_at               TIMESTAMP NOT NULL,
    version                  BIGINT NOT NULL
);
CREATE INDEX artisans_name_key ON artisans (name_key, id);
CREATE INDEX artisans_country ON artisans (country, id);

-- One row per (craft | skill_offered | skill_wanted | community) of a
-- profile, so that filters are index lookups rather than JSON scans.
CREATE TABLE artisan_tags (
    kind       TEXT NOT NULL,
    value      TEXT NOT NULL,
    artisan_id TEXT NOT NULL REFERENCES artisans (id) ON DELETE CASCADE,
    PRIMARY KEY (kind, value, artisan_id)
);
CREATE INDEX artisan_tags_artisan ON artisan_tags (artisan_id);

CREATE TABLE refresh_tokens (
    id         TEXT PRIMARY KEY,
    family_id  TEXT NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at    TIMESTAMP,
    revoked_at TIMESTAMP
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);

CREATE TABLE organizations (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    website     TEXT,
    country     TEXT,
    description TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    version     BIGINT NOT NULL
);

CREATE TABLE api_keys (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    name            TEXT NOT NULL,
    prefix          TEXT NOT NULL,
    key_hash        TEXT NOT NULL UNIQUE,
    scopes          TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    last_used_at    TIMESTAMP,
    expires_at      TIMESTAMP,
    revoked_at      TIMESTAMP
);
CREATE INDEX api_keys_organization ON api_keys (organization_id, id);

CREATE TABLE idempotency_keys (
    principal         TEXT NOT NULL,
    idempotency_key   TEXT NOT NULL,
    request_hash      TEXT NOT NULL,
    state             TEXT NOT NULL CHECK (state IN ('in_flight', 'done')),
    response_status   INTEGER,
    response_body     TEXT,
    response_headers  TEXT,
    created_at        TIMESTAMP NOT NULL,
    PRIMARY KEY (principal, idempotency_key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- Reviews of completed skill exchanges; written by the exchange workflow.
CREATE TABLE reviews (
    id          TEXT PRIMARY KEY,
    exchange_id TEXT NOT NULL,
    reviewer_id TEXT NOT NULL REFERENCES users (id),
    subject_id  TEXT NOT NULL REFERENCES artisans (id),
    rating      SMALLINT NOT NULL CHECK (rating BETWEEN 1 AND 5),
    comment     TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    UNIQUE (exchange_id, reviewer_id)
);
CREATE INDEX reviews_subject ON reviews (subject_id, id);
