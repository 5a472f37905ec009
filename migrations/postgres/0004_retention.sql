-- Retention, as migrations/0004_retention.sql, with SQLite's triggers as
-- PL/pgSQL trigger functions. `mentions migrate` copies rows as they are:
-- it sets mentions.copying for its transactions, and the triggers then
-- leave the row alone.

CREATE INDEX seen_first_seen ON seen (first_seen);

ALTER TABLE http_cache ADD COLUMN stored_at BIGINT NOT NULL DEFAULT 0;
CREATE INDEX http_cache_stored_at ON http_cache (stored_at);

-- A validator's time is its source's last run (the clock only as a fallback).
CREATE FUNCTION http_cache_stored() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('mentions.copying', true) = 'on' THEN
        RETURN NEW;
    END IF;
    NEW.stored_at := coalesce(
        (SELECT last_run FROM source WHERE id = NEW.source_id),
        floor(extract(epoch FROM now()))::bigint);
    RETURN NEW;
END;
$$;

CREATE TRIGGER http_cache_stored_on_insert BEFORE INSERT ON http_cache
    FOR EACH ROW EXECUTE FUNCTION http_cache_stored();
CREATE TRIGGER http_cache_stored_on_update BEFORE UPDATE OF etag, last_modified ON http_cache
    FOR EACH ROW EXECUTE FUNCTION http_cache_stored();

-- The mention cutoff retention last applied; no row keeps everything.
CREATE TABLE retention (
    id              BIGINT PRIMARY KEY CHECK (id = 1),
    mentions_before BIGINT NOT NULL
);

-- A mention older than the cutoff is not stored again (SQLite: RAISE(IGNORE)).
CREATE FUNCTION mention_older_than_retention() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('mentions.copying', true) = 'on' THEN
        RETURN NEW;
    END IF;
    IF NEW.at < (SELECT mentions_before FROM retention WHERE id = 1) THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER mention_older_than_retention BEFORE INSERT ON mention
    FOR EACH ROW EXECUTE FUNCTION mention_older_than_retention();
