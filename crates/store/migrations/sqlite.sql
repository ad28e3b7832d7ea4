-- Backroom schema, SQLite dialect. Kept column-for-column identical to postgres.sql.
CREATE TABLE IF NOT EXISTS events (
    seq          INTEGER PRIMARY KEY,
    source       TEXT    NOT NULL,
    id           TEXT    NOT NULL,
    type         TEXT    NOT NULL,
    occurred_at  INTEGER NOT NULL,  -- microseconds since the Unix epoch, UTC
    recorded_at  INTEGER NOT NULL,
    subject      TEXT    NOT NULL,  -- JSON
    data         TEXT    NOT NULL   -- JSON
);
CREATE UNIQUE INDEX IF NOT EXISTS events_source_id ON events (source, id);
CREATE INDEX IF NOT EXISTS events_type_seq ON events (type, seq);
CREATE INDEX IF NOT EXISTS events_occurred_at ON events (occurred_at);

-- One row per location ('l:<code>') and item ('i:<key>') an event names, to filter the log.
CREATE TABLE IF NOT EXISTS event_subjects (
    key  TEXT    NOT NULL,
    seq  INTEGER NOT NULL,
    PRIMARY KEY (key, seq)
) WITHOUT ROWID;

-- Quantities and amounts are fixed-point integers with four decimal places.
CREATE TABLE IF NOT EXISTS stock_positions (
    location         TEXT    NOT NULL,
    item             TEXT    NOT NULL,
    unit             TEXT    NOT NULL,
    on_hand          INTEGER NOT NULL,
    in_transit       INTEGER NOT NULL,
    counted_seq      INTEGER,
    last_counted_at  INTEGER,
    last_seq         INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    PRIMARY KEY (location, item)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS daily_sales (
    location       TEXT    NOT NULL,
    item           TEXT    NOT NULL,
    business_day   TEXT    NOT NULL,  -- YYYY-MM-DD
    currency       TEXT    NOT NULL,
    sold           INTEGER NOT NULL,
    returned       INTEGER NOT NULL,
    revenue        INTEGER NOT NULL,
    refunded       INTEGER NOT NULL,
    transactions   INTEGER NOT NULL,
    last_seq       INTEGER NOT NULL,
    PRIMARY KEY (location, item, business_day, currency)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS api_keys (
    id          TEXT    PRIMARY KEY,
    name        TEXT    NOT NULL,
    prefix      TEXT    NOT NULL,
    hash        TEXT    NOT NULL UNIQUE,  -- hex SHA-256 of the whole key
    roles       TEXT    NOT NULL,         -- JSON array of role names
    scopes      TEXT    NOT NULL,         -- JSON array of location codes; empty = whole company
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);
