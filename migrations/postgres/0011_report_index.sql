-- A report counts the partial hours at its window's edges from mention
-- rows: topic, time and kind select them, and it reads their source, host
-- and exclusion. With those columns in the index the rows come from the
-- index alone (an index-only scan, once VACUUM has marked the table's
-- pages all-visible) instead of one table page each: at 10 M mentions
-- the edges of a report of ten topics went from ~25 ms to ~4 ms.
-- Building the index holds writes to `mention` back until it is done
-- (about half a minute per 10 M mentions).
DROP INDEX mention_topic_at;
CREATE INDEX mention_topic_at ON mention (topic_id, at, kind) INCLUDE (source_id, host, excluded_by);
