-- Undated mentions (published_at IS NULL), as migrations/0005_undated.sql.
CREATE INDEX mention_undated ON mention (topic_id, at, kind) WHERE published_at IS NULL;
