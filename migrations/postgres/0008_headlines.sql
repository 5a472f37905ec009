-- Same headline from the same publisher (rule 4), as
-- migrations/0008_headlines.sql. SQLite's file also computes keys for the
-- mentions it holds (with a Rust function registered while it runs); a
-- PostgreSQL database has none when this runs, and `mentions migrate`
-- copies the headline rows SQLite already computed.
CREATE TABLE headline (
    topic_id   BIGINT NOT NULL,
    key        BIGINT NOT NULL,
    at         BIGINT NOT NULL,
    news       BIGINT NOT NULL,
    mention_id BIGINT NOT NULL,
    PRIMARY KEY (topic_id, key, mention_id)
);
