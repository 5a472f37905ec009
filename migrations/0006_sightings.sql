-- Seeing what was counted: every sighting merged into a mention and the rule
-- that merged it, and exclusions that take mentions out of the counts while
-- keeping them stored. Times are unix seconds (UTC).

-- Times a mention was seen, the first included: one for each source and
-- form (URL or platform identity) it was seen in. NULL for mentions stored
-- before sightings were recorded.
ALTER TABLE mention ADD COLUMN sightings INTEGER;

-- The exclusion that takes this mention out of every count; NULL while it
-- counts.
ALTER TABLE mention ADD COLUMN excluded_by INTEGER;

-- One row per (mention, source, form as seen): a source re-listing the same
-- item on every poll is one sighting, not one per poll. rule: 0 first,
-- 1 url (same canonical URL), 2 identity (same platform identity), 3 text
-- (same text on the same host; detail is the Hamming distance), 4 headline.
-- url holds the form as seen when it differs from the mention's identity.
CREATE TABLE sighting (
    mention_id INTEGER NOT NULL,
    source_id  INTEGER NOT NULL,
    form       INTEGER NOT NULL,
    seen_at    INTEGER NOT NULL,
    rule       INTEGER NOT NULL,
    detail     INTEGER,
    url        TEXT,
    PRIMARY KEY (mention_id, source_id, form)
) WITHOUT ROWID;

-- Retention deletes sightings by age.
CREATE INDEX sighting_seen_at ON sighting (seen_at);

-- what: 'mention' (one mention, by id), 'domain' (a web host or platform
-- instance, for one topic or all) or 'author' (an author within a source).
-- Domain and author exclusions also hold for mentions stored later.
CREATE TABLE exclusion (
    id         INTEGER PRIMARY KEY,
    what       TEXT NOT NULL,
    topic_id   INTEGER,
    domain     TEXT,
    source_id  INTEGER,
    author     TEXT,
    reason     TEXT,
    created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX exclusion_rule ON exclusion (what, coalesce(topic_id, 0), coalesce(domain, ''), coalesce(source_id, 0), coalesce(author, ''))
    WHERE what != 'mention';

CREATE INDEX mention_excluded ON mention (excluded_by) WHERE excluded_by IS NOT NULL;

-- The instance (host) a platform mention was seen on, lower-case: with a
-- web mention's host, the mention's domain for listing and exclusions.
ALTER TABLE mention ADD COLUMN instance TEXT;
UPDATE mention SET instance = lower(CASE WHEN instr(rest, '/') > 0 THEN substr(rest, 1, instr(rest, '/') - 1) ELSE rest END)
FROM (
    SELECT id AS mention_id,
           CASE WHEN link LIKE 'https://%' THEN substr(link, 9)
                WHEN link LIKE 'http://%' THEN substr(link, 8) END AS rest
    FROM (SELECT id, coalesce(url, identity) AS link FROM mention WHERE host IS NULL)
)
WHERE mention.id = mention_id AND rest IS NOT NULL AND rest != '';

-- Listing and excluding by domain read a domain's mentions in time order.
CREATE INDEX mention_host_at ON mention (host, topic_id, at) WHERE host IS NOT NULL;
CREATE INDEX mention_instance_at ON mention (instance, topic_id, at) WHERE instance IS NOT NULL;

-- Which mention a stored fingerprint belongs to, so a near-duplicate merge
-- names the mention it joined.
ALTER TABLE simhash_band ADD COLUMN mention_id INTEGER;
CREATE INDEX mention_fingerprint_tmp ON mention (topic_id, host, simhash);
UPDATE simhash_band SET mention_id = (
    SELECT min(m.id) FROM mention m
    WHERE m.topic_id = simhash_band.topic_id
      AND m.host = (SELECT name FROM host WHERE id = simhash_band.host_id)
      AND m.simhash = simhash_band.simhash
);
DROP INDEX mention_fingerprint_tmp;
