-- robots.txt verdicts and host back-offs every node shares, as
-- migrations/0009_host_memory.sql.

CREATE TABLE robots_txt (
    origin     TEXT PRIMARY KEY,
    body       TEXT NOT NULL,
    fetched_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE TABLE host_backoff (
    origin   TEXT PRIMARY KEY,
    until_ms BIGINT NOT NULL,
    reason   TEXT NOT NULL
);
