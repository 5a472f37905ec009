//! The `alert` table (migration 0002): recording a fired alert once per
//! window, claiming undelivered ones for a delivery attempt, writing how the
//! attempt went, and listing what fired.

use super::{Store, StoreError};
use chrono::{DateTime, TimeZone, Utc};

/// An alert that crossed its trigger in one window, ready to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAlert {
    /// Names the `[[alert]]` entry (see `alerts::alert_key`).
    pub key: String,
    pub topic: String,
    pub window_secs: u64,
    /// `threshold 50` or `factor 3`.
    pub trigger: String,
    pub window_start: DateTime<Utc>,
    pub fired_at: DateTime<Utc>,
    pub count: u64,
    pub baseline: Option<f64>,
    /// The JSON body for the webhook.
    pub payload: String,
}

/// An undelivered alert claimed by one check for one delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingDelivery {
    pub id: i64,
    pub key: String,
    pub payload: String,
    /// Attempts made before this one.
    pub attempts: u32,
}

/// A recorded alert, as `mentions alerts` lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct FiredAlert {
    pub id: i64,
    pub key: String,
    pub topic: String,
    pub window_secs: u64,
    pub trigger: String,
    pub window_start: DateTime<Utc>,
    pub fired_at: DateTime<Utc>,
    pub count: u64,
    pub baseline: Option<f64>,
    pub payload: String,
    pub attempts: u32,
    pub delivered_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// When the next delivery attempt is due; None once delivered.
    pub next_attempt: Option<DateTime<Utc>>,
}

fn time(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, 0)
        .single()
        .unwrap_or(DateTime::UNIX_EPOCH)
}

impl Store {
    /// Whether the alert `key` already fired for the window starting at `window_start`.
    pub fn alert_fired(&self, key: &str, window_start: DateTime<Utc>) -> Result<bool, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT 1 FROM alert WHERE key = ?1 AND window_start = ?2")?;
        Ok(stmt.exists((key, window_start.timestamp()))?)
    }

    /// Records a fired alert, due for delivery at once. Returns its id, or
    /// None when this alert already fired for that window (another check
    /// got there first): a window fires at most once.
    pub fn record_alert(&mut self, alert: &NewAlert) -> Result<Option<i64>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "INSERT INTO alert (key, topic, window_secs, trigger, window_start, fired_at,
                                count, baseline, payload, next_attempt)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?6)
             ON CONFLICT (key, window_start) DO NOTHING
             RETURNING id",
        )?;
        let mut rows = stmt.query((
            &alert.key,
            &alert.topic,
            i64::try_from(alert.window_secs).unwrap_or(i64::MAX),
            &alert.trigger,
            alert.window_start.timestamp(),
            alert.fired_at.timestamp(),
            i64::try_from(alert.count).unwrap_or(i64::MAX),
            alert.baseline,
            &alert.payload,
        ))?;
        Ok(match rows.next()? {
            Some(row) => Some(row.get(0)?),
            None => None,
        })
    }

    /// Claims, in one statement, the undelivered alerts of `keys` whose next
    /// attempt is due at `now`, that have had fewer than `max_attempts`
    /// attempts and that no other check holds; each is held until `until`.
    pub fn claim_alert_deliveries(
        &mut self,
        keys: &[String],
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        max_attempts: u32,
    ) -> Result<Vec<PendingDelivery>, StoreError> {
        let keys = serde_json::to_string(keys).unwrap_or_else(|_| "[]".to_owned());
        let mut stmt = self.conn.prepare_cached(
            "UPDATE alert SET claimed_until = ?1
             WHERE delivered_at IS NULL AND next_attempt IS NOT NULL AND next_attempt <= ?2
               AND attempts < ?3
               AND (claimed_until IS NULL OR claimed_until <= ?2)
               AND key IN (SELECT value FROM json_each(?4))
             RETURNING id, key, payload, attempts",
        )?;
        let rows = stmt.query_map(
            (until.timestamp(), now.timestamp(), max_attempts, keys),
            |r| {
                Ok(PendingDelivery {
                    id: r.get(0)?,
                    key: r.get(1)?,
                    payload: r.get(2)?,
                    attempts: r.get(3)?,
                })
            },
        )?;
        let mut claimed: Vec<PendingDelivery> = rows.collect::<Result<_, _>>()?;
        claimed.sort_by_key(|p| p.id);
        Ok(claimed)
    }

    /// Writes how one delivery attempt ended and releases the claim.
    /// `Ok(())` marks the alert delivered at `now`; `Err(reason)` keeps it
    /// undelivered, due again at `retry_at` (None: no more attempts).
    pub fn finish_alert_delivery(
        &mut self,
        id: i64,
        now: DateTime<Utc>,
        outcome: Result<(), String>,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        match outcome {
            Ok(()) => self.conn.execute(
                "UPDATE alert SET attempts = attempts + 1, delivered_at = ?2, last_error = NULL,
                                  next_attempt = NULL, claimed_until = NULL
                 WHERE id = ?1",
                (id, now.timestamp()),
            )?,
            Err(reason) => self.conn.execute(
                "UPDATE alert SET attempts = attempts + 1, last_error = ?2,
                                  next_attempt = ?3, claimed_until = NULL
                 WHERE id = ?1",
                (id, reason, retry_at.map(|t| t.timestamp())),
            )?,
        };
        Ok(())
    }

    /// Alerts fired at or after `since`, newest first.
    pub fn fired_alerts(&self, since: DateTime<Utc>) -> Result<Vec<FiredAlert>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, key, topic, window_secs, trigger, window_start, fired_at, count, baseline,
                    payload, attempts, delivered_at, last_error, next_attempt
             FROM alert WHERE fired_at >= ?1 ORDER BY fired_at DESC, id DESC",
        )?;
        let rows = stmt.query_map([since.timestamp()], fired_alert)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The crossings of `topic` whose alert window overlaps `[from, to)`,
    /// oldest window first: what a chart of that window marks.
    pub fn alert_crossings(
        &self,
        topic: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<FiredAlert>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, key, topic, window_secs, trigger, window_start, fired_at, count, baseline,
                    payload, attempts, delivered_at, last_error, next_attempt
             FROM alert WHERE topic = ?1 AND window_start < ?3 AND window_start + window_secs > ?2
             ORDER BY window_start, id",
        )?;
        let rows = stmt.query_map((topic, from.timestamp(), to.timestamp()), fired_alert)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

fn fired_alert(r: &rusqlite::Row<'_>) -> rusqlite::Result<FiredAlert> {
    Ok(FiredAlert {
        id: r.get(0)?,
        key: r.get(1)?,
        topic: r.get(2)?,
        window_secs: r.get::<_, i64>(3)?.max(0) as u64,
        trigger: r.get(4)?,
        window_start: time(r.get(5)?),
        fired_at: time(r.get(6)?),
        count: r.get::<_, i64>(7)?.max(0) as u64,
        baseline: r.get(8)?,
        payload: r.get(9)?,
        attempts: r.get(10)?,
        delivered_at: r.get::<_, Option<i64>>(11)?.map(time),
        last_error: r.get(12)?,
        next_attempt: r.get::<_, Option<i64>>(13)?.map(time),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> DateTime<Utc> {
        time(secs)
    }

    fn alert(key: &str, window_start: i64, fired_at: i64) -> NewAlert {
        NewAlert {
            key: key.to_owned(),
            topic: "nk".to_owned(),
            window_secs: 3600,
            trigger: "threshold 5".to_owned(),
            window_start: at(window_start),
            fired_at: at(fired_at),
            count: 7,
            baseline: None,
            payload: "{\"count\":7}".to_owned(),
        }
    }

    #[test]
    fn crossings_are_the_topics_windows_that_overlap() {
        let mut store = Store::open_in_memory().unwrap();
        for (key, start) in [("k", 0), ("k", 3600), ("k", 7200), ("k", 10_800)] {
            store.record_alert(&alert(key, start, start + 100)).unwrap();
        }
        let mut other = alert("o", 3600, 3700);
        other.topic = "other".into();
        store.record_alert(&other).unwrap();
        let starts = |from: i64, to: i64| -> Vec<i64> {
            store
                .alert_crossings("nk", at(from), at(to))
                .unwrap()
                .iter()
                .map(|a| a.window_start.timestamp())
                .collect()
        };
        // [3600, 7200) overlaps a window from 7199; [7200, 10800) does not reach 7200 exclusive.
        assert_eq!(starts(7199, 7200), [3600]);
        assert_eq!(starts(3000, 10_800), [0, 3600, 7200]);
        assert!(starts(20_000, 30_000).is_empty());
    }

    #[test]
    fn a_window_is_recorded_once_per_key() {
        let mut store = Store::open_in_memory().unwrap();
        let first = store.record_alert(&alert("k", 3600, 3700)).unwrap();
        assert!(first.is_some());
        assert_eq!(store.record_alert(&alert("k", 3600, 3800)).unwrap(), None);
        assert!(store.alert_fired("k", at(3600)).unwrap());
        assert!(!store.alert_fired("k", at(7200)).unwrap());
        assert!(store
            .record_alert(&alert("other", 3600, 3800))
            .unwrap()
            .is_some());
        assert!(store
            .record_alert(&alert("k", 7200, 7300))
            .unwrap()
            .is_some());
        let listed = store.fired_alerts(at(0)).unwrap();
        let order: Vec<(&str, i64)> = listed
            .iter()
            .map(|a| (a.key.as_str(), a.fired_at.timestamp()))
            .collect();
        assert_eq!(order, [("k", 7300), ("other", 3800), ("k", 3700)]);
        assert_eq!(store.fired_alerts(at(3800)).unwrap().len(), 2);
    }

    #[test]
    fn a_claimed_alert_is_not_claimed_twice_until_released_or_expired() {
        let mut store = Store::open_in_memory().unwrap();
        let id = store
            .record_alert(&alert("k", 3600, 3700))
            .unwrap()
            .unwrap();
        store.record_alert(&alert("gone", 3600, 3700)).unwrap();
        let keys = ["k".to_owned()];
        // Not due before it fired.
        assert!(store
            .claim_alert_deliveries(&keys, at(3699), at(4000), 10)
            .unwrap()
            .is_empty());
        let claimed = store
            .claim_alert_deliveries(&keys, at(3700), at(4000), 10)
            .unwrap();
        assert_eq!(
            claimed,
            [PendingDelivery {
                id,
                key: "k".into(),
                payload: "{\"count\":7}".into(),
                attempts: 0
            }]
        );
        // Held by the first claim.
        assert!(store
            .claim_alert_deliveries(&keys, at(3800), at(4100), 10)
            .unwrap()
            .is_empty());
        // A claim whose holder died expires.
        assert_eq!(
            store
                .claim_alert_deliveries(&keys, at(4000), at(4300), 10)
                .unwrap()
                .len(),
            1
        );
        store
            .finish_alert_delivery(id, at(4010), Err("HTTP 500".into()), Some(at(4100)))
            .unwrap();
        assert!(store
            .claim_alert_deliveries(&keys, at(4099), at(4400), 10)
            .unwrap()
            .is_empty());
        // One attempt made: with a limit of one, it is not claimed again.
        assert!(store
            .claim_alert_deliveries(&keys, at(4100), at(4400), 1)
            .unwrap()
            .is_empty());
        let again = store
            .claim_alert_deliveries(&keys, at(4100), at(4400), 10)
            .unwrap();
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].attempts, 1);
        store
            .finish_alert_delivery(id, at(4110), Ok(()), None)
            .unwrap();
        assert!(store
            .claim_alert_deliveries(&keys, at(9999), at(10000), 10)
            .unwrap()
            .is_empty());
        let listed = store.fired_alerts(at(0)).unwrap();
        let k = listed.iter().find(|a| a.key == "k").unwrap();
        assert_eq!(k.attempts, 2);
        assert_eq!(k.delivered_at, Some(at(4110)));
        assert_eq!(k.last_error, None);
        assert_eq!(k.next_attempt, None);
        let gone = listed.iter().find(|a| a.key == "gone").unwrap();
        assert_eq!((gone.attempts, gone.delivered_at), (0, None));
    }
}
