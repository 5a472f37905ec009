-- The writer checks the retention cutoff itself (store/mentions.rs reads
-- retention.mentions_before once per crawl and skips an older item as the
-- trigger's RAISE(IGNORE) did). With the trigger every mention INSERT was a
-- multi-write statement, for which SQLite keeps a statement journal.
DROP TRIGGER mention_older_than_retention;

-- Three WITHOUT ROWID tables take their most selective column first in
-- their primary key. SQLite compares a key's first integer column in a fast
-- path and only goes on to the general record comparison when it is equal:
-- with `topic_id` or `source_id` first (equal for most neighbours) nearly
-- every comparison of a lookup or insert took the slow path. Columns, rows
-- and the order each lookup returns (by fingerprint, by mention, by key)
-- stay as they were.
CREATE TABLE simhash_band_new (
    topic_id   INTEGER NOT NULL,
    host_id    INTEGER NOT NULL,
    band       INTEGER NOT NULL,
    simhash    INTEGER NOT NULL,
    mention_id INTEGER,
    PRIMARY KEY (band, host_id, topic_id, simhash)
) WITHOUT ROWID;
INSERT INTO simhash_band_new (topic_id, host_id, band, simhash, mention_id)
SELECT topic_id, host_id, band, simhash, mention_id FROM simhash_band
ORDER BY band, host_id, topic_id, simhash;
DROP TABLE simhash_band;
ALTER TABLE simhash_band_new RENAME TO simhash_band;

CREATE TABLE headline_new (
    topic_id   INTEGER NOT NULL,
    key        INTEGER NOT NULL,
    at         INTEGER NOT NULL,
    news       INTEGER NOT NULL,
    mention_id INTEGER NOT NULL,
    PRIMARY KEY (key, topic_id, mention_id)
) WITHOUT ROWID;
INSERT INTO headline_new (topic_id, key, at, news, mention_id)
SELECT topic_id, key, at, news, mention_id FROM headline
ORDER BY key, topic_id, mention_id;
DROP TABLE headline;
ALTER TABLE headline_new RENAME TO headline;

CREATE TABLE seen_new (
    source_id  INTEGER NOT NULL REFERENCES source(id),
    key        INTEGER NOT NULL,
    first_seen INTEGER NOT NULL,
    PRIMARY KEY (key, source_id)
) WITHOUT ROWID;
INSERT INTO seen_new (source_id, key, first_seen)
SELECT source_id, key, first_seen FROM seen ORDER BY key, source_id;
DROP TABLE seen;
ALTER TABLE seen_new RENAME TO seen;
CREATE INDEX seen_first_seen ON seen (first_seen);
