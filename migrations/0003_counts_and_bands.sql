-- Exact counts kept at insert time, so reports add up whole hours and days
-- instead of counting millions of rows, and a pigeonhole index for the
-- same-host near-duplicate rule (SPEC §4 rule 3), so a new mention is
-- compared with a handful of fingerprints instead of every one of its host.
-- Existing rows are carried over below; times are unix seconds (UTC).

CREATE TABLE host (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);
INSERT INTO host (name) SELECT DISTINCT host FROM mention WHERE host IS NOT NULL ORDER BY host;

-- Two 64-bit fingerprints within Hamming distance 3 agree exactly on at least
-- one of their four 16-bit bands. band = position * 65536 + the band's bits.
CREATE TABLE simhash_band (
    topic_id INTEGER NOT NULL,
    host_id  INTEGER NOT NULL,
    band     INTEGER NOT NULL,
    simhash  INTEGER NOT NULL,
    PRIMARY KEY (topic_id, host_id, band, simhash)
) WITHOUT ROWID;
INSERT OR IGNORE INTO simhash_band
SELECT m.topic_id, h.id, p.n * 65536 + ((m.simhash >> (16 * p.n)) & 65535), m.simhash
FROM mention m
JOIN host h ON h.name = m.host
CROSS JOIN (SELECT 0 AS n UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3) p;

-- Mentions per topic, time bucket, source and kind. span is 3600 (hours),
-- 86400 (UTC days), 691200 or 5529600 (8 and 64 days from the epoch);
-- bucket is the bucket's start, a multiple of span.
CREATE TABLE count_source (
    topic_id  INTEGER NOT NULL,
    span      INTEGER NOT NULL,
    bucket    INTEGER NOT NULL,
    source_id INTEGER NOT NULL,
    kind      INTEGER NOT NULL,
    n         INTEGER NOT NULL,
    PRIMARY KEY (topic_id, span, bucket, source_id, kind)
) WITHOUT ROWID;

-- Web mentions per topic, time bucket and host, with the earliest mention
-- time in the bucket (the references' tie-break).
CREATE TABLE count_host (
    topic_id INTEGER NOT NULL,
    span     INTEGER NOT NULL,
    bucket   INTEGER NOT NULL,
    host_id  INTEGER NOT NULL,
    n        INTEGER NOT NULL,
    first    INTEGER NOT NULL,
    PRIMARY KEY (topic_id, span, bucket, host_id)
) WITHOUT ROWID;

INSERT INTO count_source
SELECT topic_id, s.span, at - ((at % s.span) + s.span) % s.span AS b, source_id, kind, count(*)
FROM mention CROSS JOIN (SELECT 3600 AS span UNION ALL SELECT 86400 UNION ALL SELECT 691200 UNION ALL SELECT 5529600) s
GROUP BY topic_id, s.span, b, source_id, kind;

INSERT INTO count_host
SELECT m.topic_id, s.span, m.at - ((m.at % s.span) + s.span) % s.span AS b, h.id, count(*), min(m.at)
FROM mention m
JOIN host h ON h.name = m.host
CROSS JOIN (SELECT 3600 AS span UNION ALL SELECT 86400 UNION ALL SELECT 691200 UNION ALL SELECT 5529600) s
WHERE m.kind = 0
GROUP BY m.topic_id, s.span, b, h.id;

-- Mentions stored per source, all topics, all time (`sources`, reports).
ALTER TABLE source ADD COLUMN mentions INTEGER NOT NULL DEFAULT 0;
UPDATE source SET mentions = (SELECT count(*) FROM mention WHERE mention.source_id = source.id);

-- The near-duplicate scan and the per-source counts no longer read these.
DROP INDEX mention_topic_host;
DROP INDEX mention_source_at;
