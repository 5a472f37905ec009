-- What the last crawl of a source read less of, as migrations/0007_source_warning.sql.
ALTER TABLE source ADD COLUMN last_warning TEXT;
