-- Co-branded collections: limited editions of a partnership, each item
-- crediting the parties that made it and the tradition behind it.
CREATE TABLE collections (
    id             TEXT PRIMARY KEY,
    partnership_id TEXT NOT NULL REFERENCES partnerships (id),
    name           TEXT NOT NULL,
    story          TEXT NOT NULL,
    launch_on      DATE,
    status         TEXT NOT NULL CHECK (status IN ('draft', 'published')),
    created_by     TEXT NOT NULL REFERENCES users (id),
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL,
    version        BIGINT NOT NULL
);
CREATE INDEX collections_partnership ON collections (partnership_id, id);
-- The catalogue: published collections, newest first.
CREATE INDEX collections_published ON collections (id) WHERE status = 'published';

CREATE TABLE collection_items (
    id             TEXT PRIMARY KEY,
    collection_id  TEXT NOT NULL REFERENCES collections (id),
    partnership_id TEXT NOT NULL REFERENCES partnerships (id),
    position       INTEGER NOT NULL,
    sku            TEXT NOT NULL,
    name           TEXT NOT NULL,
    description    TEXT NOT NULL,
    price_minor    BIGINT NOT NULL CHECK (price_minor > 0),
    currency       TEXT NOT NULL,
    edition_size   BIGINT CHECK (edition_size > 0),
    tradition      TEXT,
    credit_line    TEXT,
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL,
    version        BIGINT NOT NULL
);
-- A sale names an item by its sku: unique within the partnership.
CREATE UNIQUE INDEX collection_items_sku ON collection_items (partnership_id, sku);
CREATE UNIQUE INDEX collection_items_position ON collection_items (collection_id, position);

-- The parties credited for an item, in the order given.
CREATE TABLE collection_contributors (
    item_id       TEXT NOT NULL REFERENCES collection_items (id),
    position      INTEGER NOT NULL,
    collection_id TEXT NOT NULL REFERENCES collections (id),
    party_id      TEXT NOT NULL REFERENCES partnership_parties (id),
    PRIMARY KEY (item_id, position)
);
-- The catalogue's craft and country filters go from parties to collections.
CREATE INDEX collection_contributors_party ON collection_contributors (party_id, collection_id);

-- A collection's performance: the sales of each of its skus, summed from
-- the index alone.
CREATE INDEX sales_item ON sales (partnership_id, item_sku, currency, amount_minor, refunded_minor)
    WHERE item_sku IS NOT NULL;
