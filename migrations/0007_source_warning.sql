-- What the last crawl of a source read less of than the source holds (items
-- skipped, a document without items, a selector that matches nothing), so
-- that `mentions sources` shows it: zero items is never a silent success.
-- NULL when the last crawl read cleanly; a crawl answered 304 keeps it.
ALTER TABLE source ADD COLUMN last_warning TEXT;
