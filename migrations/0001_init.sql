-- Initial schema. Times are unix seconds (UTC). Kinds: 0 web, 1 social, 2 forum.

CREATE TABLE topic (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);

CREATE TABLE source (
    id                   INTEGER PRIMARY KEY,
    name                 TEXT NOT NULL UNIQUE,
    type                 TEXT NOT NULL,
    kind                 INTEGER NOT NULL,
    cursor               TEXT,
    last_run             INTEGER,
    last_success         INTEGER,
    last_error           TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0
);

-- Validators for conditional GET, per fetched URL of a source.
CREATE TABLE http_cache (
    source_id     INTEGER NOT NULL REFERENCES source(id),
    url           TEXT NOT NULL,
    etag          TEXT,
    last_modified TEXT,
    PRIMARY KEY (source_id, url)
) WITHOUT ROWID;

-- Items a source has already evaluated (XXH3 of the item's identity), so
-- full-text pages are fetched once and paging can stop on known pages.
CREATE TABLE seen (
    source_id  INTEGER NOT NULL REFERENCES source(id),
    key        INTEGER NOT NULL,
    first_seen INTEGER NOT NULL,
    PRIMARY KEY (source_id, key)
) WITHOUT ROWID;

-- One row per mention: an item counted once per topic (SPEC §4).
CREATE TABLE mention (
    id           INTEGER PRIMARY KEY,
    topic_id     INTEGER NOT NULL REFERENCES topic(id),
    source_id    INTEGER NOT NULL REFERENCES source(id),
    kind         INTEGER NOT NULL,
    -- canonical URL for web items, platform identity otherwise
    identity     TEXT NOT NULL,
    -- link to show; NULL when it equals identity
    url          TEXT,
    -- lower-case host of the canonical URL (web items), for references and SimHash
    host         TEXT,
    title        TEXT NOT NULL,
    excerpt      TEXT NOT NULL,
    author       TEXT,
    lang         TEXT,
    published_at INTEGER,
    first_seen   INTEGER NOT NULL,
    -- the mention's time: published_at, else first_seen
    at           INTEGER NOT NULL,
    simhash      INTEGER NOT NULL,
    UNIQUE (topic_id, identity)
);

CREATE INDEX mention_topic_at ON mention (topic_id, at, kind);
CREATE INDEX mention_topic_host ON mention (topic_id, host, simhash) WHERE host IS NOT NULL;
CREATE INDEX mention_source_at ON mention (source_id, topic_id, at);
