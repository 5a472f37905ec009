-- The writer checks the retention cutoff itself (store/mentions.rs reads
-- retention.mentions_before once per crawl and skips an older item as the
-- trigger's RAISE(IGNORE) did). With the trigger every mention INSERT was a
-- multi-write statement, for which SQLite keeps a statement journal.
DROP TRIGGER mention_older_than_retention;

