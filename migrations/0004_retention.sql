-- Retention (SPEC §7): mentions older than [database] retention are deleted,
-- and bookkeeping rows older than twice the longest lookback. Times are unix
-- seconds (UTC).

-- Bookkeeping rows are deleted by age: each such table has an index on its
-- time column, so a prune reads only what it deletes.
CREATE INDEX seen_first_seen ON seen (first_seen);

-- When a validator was last stored. Existing ones count from now.
ALTER TABLE http_cache ADD COLUMN stored_at INTEGER NOT NULL DEFAULT 0;
UPDATE http_cache SET stored_at = unixepoch();
CREATE INDEX http_cache_stored_at ON http_cache (stored_at);

-- A crawl updates its source's row before it stores validators, so the
-- source's last run is the crawl's own time (the clock only as a fallback).
CREATE TRIGGER http_cache_stored_on_insert AFTER INSERT ON http_cache
BEGIN
    UPDATE http_cache
    SET stored_at = coalesce((SELECT last_run FROM source WHERE id = NEW.source_id), unixepoch())
    WHERE source_id = NEW.source_id AND url = NEW.url;
END;

CREATE TRIGGER http_cache_stored_on_update AFTER UPDATE OF etag, last_modified ON http_cache
BEGIN
    UPDATE http_cache
    SET stored_at = coalesce((SELECT last_run FROM source WHERE id = NEW.source_id), unixepoch())
    WHERE source_id = NEW.source_id AND url = NEW.url;
END;

-- The mention cutoff retention last applied; no row keeps everything. A
-- crawl does not store a mention older than it again: a feed or sitemap
-- that still lists a deleted item would otherwise bring it back (and its
-- counts) until the next prune.
CREATE TABLE retention (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    mentions_before INTEGER NOT NULL
);

CREATE TRIGGER mention_older_than_retention BEFORE INSERT ON mention
WHEN NEW.at < (SELECT mentions_before FROM retention WHERE id = 1)
BEGIN
    SELECT RAISE(IGNORE);
END;
