-- Shared market events (pop-ups, festivals, exhibitions, fairs), organised
-- by a partnership or a collective, and the artisans taking part.

CREATE TABLE market_events (
    id                       TEXT PRIMARY KEY,
    name                     TEXT NOT NULL,
    kind                     TEXT NOT NULL CHECK (kind IN ('pop_up', 'festival', 'exhibition', 'fair')),
    venue                    TEXT NOT NULL,
    city                     TEXT NOT NULL,
    country                  TEXT NOT NULL,
    starts_at                TIMESTAMP NOT NULL,
    ends_at                  TIMESTAMP NOT NULL,
    organizer_partnership_id TEXT REFERENCES partnerships (id),
    organizer_collective_id  TEXT REFERENCES collectives (id),
    booth_cost_minor         BIGINT CHECK (booth_cost_minor >= 0),
    booth_currency           TEXT,
    capacity                 BIGINT CHECK (capacity > 0),
    description              TEXT NOT NULL,
    status                   TEXT NOT NULL CHECK (status IN ('scheduled', 'cancelled')),
    cancel_reason            TEXT,
    created_by               TEXT NOT NULL REFERENCES users (id),
    created_at               TIMESTAMP NOT NULL,
    updated_at               TIMESTAMP NOT NULL,
    version                  BIGINT NOT NULL,
    CHECK ((organizer_partnership_id IS NULL) <> (organizer_collective_id IS NULL)),
    CHECK ((booth_cost_minor IS NULL) = (booth_currency IS NULL)),
    CHECK ((status = 'cancelled') = (cancel_reason IS NOT NULL)),
    CHECK (ends_at > starts_at)
);
-- The listing: keyset on (starts_at, id), optionally within a country.
CREATE INDEX market_events_starts ON market_events (starts_at, id);
CREATE INDEX market_events_country ON market_events (country, starts_at, id);
CREATE INDEX market_events_partnership ON market_events (organizer_partnership_id)
    WHERE organizer_partnership_id IS NOT NULL;
CREATE INDEX market_events_collective ON market_events (organizer_collective_id)
    WHERE organizer_collective_id IS NOT NULL;

-- One row per arrival: leaving keeps the row (status `left`); joining
-- again is a new arrival at the back. `arrival` numbers arrivals within
-- the event under the event's row lock, so join order never depends on
-- clocks.
CREATE TABLE event_participants (
    id         TEXT PRIMARY KEY,
    event_id   TEXT NOT NULL REFERENCES market_events (id),
    artisan_id TEXT NOT NULL REFERENCES artisans (id),
    arrival    BIGINT NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('participating', 'waitlisted', 'left')),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version    BIGINT NOT NULL
);
CREATE UNIQUE INDEX event_participants_arrival ON event_participants (event_id, arrival);
CREATE UNIQUE INDEX event_participants_once
    ON event_participants (event_id, artisan_id) WHERE status <> 'left';
CREATE INDEX event_participants_artisan ON event_participants (artisan_id, event_id);

-- An event's sales summary reads the sales naming it.
CREATE INDEX sales_event ON sales (event_id, partnership_id, currency) WHERE event_id IS NOT NULL;
