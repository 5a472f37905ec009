-- Alerts fired (SPEC §8). One row per [[alert]] entry and window: the UNIQUE
-- key makes a window fire at most once, across restarts and concurrent checks.
-- Times are unix seconds (UTC).

CREATE TABLE alert (
    id            INTEGER PRIMARY KEY,
    -- names the [[alert]] entry: topic, window, trigger and a hash of the webhook URL
    key           TEXT NOT NULL,
    topic         TEXT NOT NULL,
    window_secs   INTEGER NOT NULL,
    -- "threshold 50" or "factor 3"
    trigger       TEXT NOT NULL,
    window_start  INTEGER NOT NULL,
    fired_at      INTEGER NOT NULL,
    count         INTEGER NOT NULL,
    -- average mentions per window over the 7 days before it (factor alerts)
    baseline      REAL,
    -- the JSON body POSTed to the webhook, kept so a retry sends the same
    payload       TEXT NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    delivered_at  INTEGER,
    last_error    TEXT,
    -- when the next delivery attempt is due; NULL once delivered
    next_attempt  INTEGER,
    -- a check delivering this alert holds it until then
    claimed_until INTEGER,
    UNIQUE (key, window_start)
);

CREATE INDEX alert_fired_at ON alert (fired_at);
CREATE INDEX alert_pending ON alert (next_attempt) WHERE delivered_at IS NULL;
