-- Same headline from the same publisher (rule 4 of docs/COUNTING.md, "what counts as
-- one mention"): an item of a news search (googlenews, gdelt) and a web
-- item whose hosts are the same publisher (`www.` ignored) and whose
-- normalised titles are equal, dated within 72 hours of each other, are
-- one mention. Times are unix seconds (UTC).

-- One row per mention with a host and a title: key is the XXH3 of the
-- publisher's host without `www.` and the title's tokens (see
-- store::headlines::key), at the mention's time, news 1 when a news search
-- stored it. A new item looks up its key within 72 hours of its time.
CREATE TABLE headline (
    topic_id   INTEGER NOT NULL,
    key        INTEGER NOT NULL,
    at         INTEGER NOT NULL,
    news       INTEGER NOT NULL,
    mention_id INTEGER NOT NULL,
    PRIMARY KEY (topic_id, key, mention_id)
) WITHOUT ROWID;

-- Web mentions stored so far, as far back as a news search reaches (three
-- months) and the 72 hours around it: older ones cannot meet a news item.
-- mentions_headline_key is the same function as a Rust scalar function,
-- registered while migrations run.
INSERT INTO headline (topic_id, key, at, news, mention_id)
SELECT topic_id, k, at, 0, id FROM (
    SELECT topic_id, mentions_headline_key(host, title) AS k, at, id
    FROM mention
    WHERE host IS NOT NULL AND at >= unixepoch() - 96 * 86400
)
WHERE k IS NOT NULL
ORDER BY topic_id, k, id;
