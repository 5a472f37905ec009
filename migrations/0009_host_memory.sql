-- What the HTTP client learnt about a host, kept beyond one process so a
-- restarted daemon or the next `mentions crawl` does not ask again and, on
-- PostgreSQL, so every node uses what one node learnt (src/http/memory.rs).
-- An origin is scheme://host:port. Times are unix seconds (UTC) unless the
-- column says milliseconds. A row is overwritten when its origin is
-- fetched again, expired rows are ignored, and retention deletes rows older
-- than twice the longest lookback with the other bookkeeping rows.

-- A robots.txt that was read (or found absent, 4xx): trusted until
-- expires_at (24 h after fetched_at). body is what was read, at most
-- 500 KiB as UTF-8 without NUL; '' disallows nothing. An unreachable or
-- 5xx robots.txt is never stored: it closes the host for one crawl only.
CREATE TABLE robots_txt (
    origin     TEXT PRIMARY KEY,
    body       TEXT NOT NULL,
    fetched_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);

-- A host that asked to be left alone (Retry-After on a 429 or 503) or whose
-- rate-limit budget is spent (X-RateLimit-Remaining: 0), until until_ms
-- (unix milliseconds, at most an hour after it was set).
CREATE TABLE host_backoff (
    origin   TEXT PRIMARY KEY,
    until_ms INTEGER NOT NULL,
    reason   TEXT NOT NULL
);
