-- As migrations/0010_writer.sql: the writer checks the
-- retention cutoff itself (store/postgres/commit.rs reads it once per
-- crawl, under the exclusion table's SHARE lock, which the retention job
-- takes in SHARE ROW EXCLUSIVE mode to record a new cutoff).
DROP TRIGGER mention_older_than_retention ON mention;
DROP FUNCTION mention_older_than_retention();

-- The once-per-UTC-day claim of a cluster's retention (day: unix day
-- number), one row per day: the node that inserts it first runs that day's
-- retention. Claims were fire-time claims (`source_fire`) of the first
-- source under the key -(day + 1); those are carried over.
CREATE TABLE retention_claim (
    day        BIGINT PRIMARY KEY,
    node       TEXT NOT NULL,
    claimed_at BIGINT NOT NULL
);
INSERT INTO retention_claim (day, node, claimed_at)
SELECT DISTINCT ON (fire_at) -fire_at - 1, node, claimed_at
FROM source_fire WHERE fire_at < 0
ORDER BY fire_at, claimed_at;
DELETE FROM source_fire WHERE fire_at < 0;
