-- The matching index: one bitmap of artisan ordinals per skill offered,
-- skill wanted and country, derived from artisan_tags and artisans (the
-- source of truth) and rebuilt from them whenever it is marked stale.

-- A dense number per artisan: the bit position in every bitmap.
CREATE TABLE artisan_ordinals (
    ordinal    BIGSERIAL PRIMARY KEY,
    artisan_id TEXT NOT NULL UNIQUE REFERENCES artisans (id)
);
INSERT INTO artisan_ordinals (artisan_id) SELECT id FROM artisans ORDER BY id;

-- kind is 'skill_offered', 'skill_wanted' or 'country'; bit n of bits
-- (byte n / 8, mask 1 << n % 8) is set when the current member with
-- ordinal n has that skill or country. Former members have no bits.
CREATE TABLE skill_postings (
    kind  TEXT NOT NULL,
    value TEXT NOT NULL,
    bits  BYTEA NOT NULL DEFAULT ''::bytea,
    PRIMARY KEY (kind, value)
);
-- Sparse random bitmaps barely compress, and they are rewritten on every
-- profile edit that touches them: store them uncompressed (out of line).
ALTER TABLE skill_postings ALTER COLUMN bits SET STORAGE EXTERNAL;

-- Derived indexes that must be rebuilt before they are read again (set by
-- this migration and while demo data is bulk-loaded).
CREATE TABLE derived_indexes (
    name  TEXT PRIMARY KEY,
    stale BOOLEAN NOT NULL
);
INSERT INTO derived_indexes (name, stale) VALUES ('skill_postings', TRUE);
