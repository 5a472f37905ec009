-- Mentions whose source gave no readable date (published_at IS NULL) are
-- "undated": their time is when they were first seen. Reports count them per
-- kind, so this partial index keeps that count cheap. Existing rows need no
-- change: an undated mention already has no published_at.
CREATE INDEX mention_undated ON mention (topic_id, at, kind) WHERE published_at IS NULL;
