-- Rule 4 looks for a stored headline within 72 hours of an item. With the
-- rows of a key ordered by mention id it had to read every row of the key
-- and compare times, so a publisher that reuses one title (a daily
-- newsletter, a live ticker) made each new item's lookup longer than the
-- last. Ordered by time within the key, the lookup reads only the window.
-- A headline's time is its mention's, which never changes.
CREATE TABLE headline_by_time (
    topic_id   INTEGER NOT NULL,
    key        INTEGER NOT NULL,
    at         INTEGER NOT NULL,
    news       INTEGER NOT NULL,
    mention_id INTEGER NOT NULL,
    PRIMARY KEY (topic_id, key, at, mention_id)
) WITHOUT ROWID;

INSERT INTO headline_by_time (topic_id, key, at, news, mention_id)
SELECT topic_id, key, at, news, mention_id FROM headline;

DROP TABLE headline;
ALTER TABLE headline_by_time RENAME TO headline;
