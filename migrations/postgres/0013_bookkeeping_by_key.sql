-- Every crawled item writes a `seen` row and every sighting a `sighting`
-- row; an index on their time columns cost each of those writes a second
-- B-tree entry, and retention was its only reader (once a day). Retention
-- now finds their old rows by walking the primary key in windows
-- (store/retention.rs), so the two indexes go.
DROP INDEX seen_first_seen;
DROP INDEX sighting_seen_at;
