//! Spike alerts (`[[alert]]`, SPEC §8): count new mentions per window,
//! fire a webhook once per crossing, record it, list with `mentions alerts`.
//!
//! Windows are aligned to the unix epoch (`floor(t / window) * window`) and
//! count mentions by their time (`mention.at`). Each check evaluates the
//! current window and the one just ended (mentions published before a window
//! closed are often crawled after it). A crossing is recorded in the `alert`
//! table under a UNIQUE (alert, window) key before anything is sent, so a
//! window fires at most once across restarts and concurrent checks; its
//! webhook delivery is then claimed, attempted and retried at later checks
//! with backoff until it is delivered or `MAX_ATTEMPTS` is reached.

use crate::config::{AlertConfig, AlertTrigger, Settings};
use crate::http::{HttpClient, HttpSettings, Request};
use crate::store::postgres::Postgres;
use crate::store::{
    with_store, Backend, FiredAlert, KindCounts, NewAlert, Reference, SharedStore, Store,
    StoreError,
};
use chrono::{DateTime, SecondsFormat, Utc};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// The trailing span a factor alert's baseline averages over.
pub const BASELINE_SPAN: Duration = Duration::from_secs(7 * 24 * 3600);
/// Delivery attempts (checks) per fired alert before it is given up.
pub const MAX_ATTEMPTS: u32 = 10;
/// Wait after the first failed delivery; doubles per failure up to `RETRY_MAX`.
const RETRY_FIRST: Duration = Duration::from_secs(60);
const RETRY_MAX: Duration = Duration::from_secs(3600);

/// The start of the aligned window holding `t`.
pub fn window_start(t: DateTime<Utc>, window: Duration) -> DateTime<Utc> {
    let w = window_secs(window) as i64;
    let start = t.timestamp().div_euclid(w) * w;
    DateTime::from_timestamp(start, 0).unwrap_or(t)
}

/// A window's length in whole seconds (at least one).
pub fn window_secs(window: Duration) -> u64 {
    window.as_secs().clamp(1, i64::MAX as u64 / 4)
}

/// Average mentions per window over `BASELINE_SPAN`, from the total in that span.
pub fn baseline(total_in_span: u64, window: Duration) -> f64 {
    let windows = BASELINE_SPAN.as_secs_f64() / window_secs(window) as f64;
    total_in_span as f64 / windows
}

/// Whether a window holding `count` mentions crosses `trigger`.
pub fn crossed(trigger: AlertTrigger, count: u64, baseline: Option<f64>) -> bool {
    match trigger {
        AlertTrigger::Threshold(n) => count >= n,
        AlertTrigger::Factor(f) => match baseline {
            // A topic without history has no average to be a multiple of.
            Some(b) if b > 0.0 => count >= 1 && count as f64 >= f * b,
            _ => false,
        },
    }
}

/// `threshold 50` or `factor 3`.
pub fn trigger_text(trigger: AlertTrigger) -> String {
    match trigger {
        AlertTrigger::Threshold(n) => format!("threshold {n}"),
        AlertTrigger::Factor(f) => format!("factor {f}"),
    }
}

/// Names an `[[alert]]` entry in the database: its topic, window, trigger and
/// a hash of its webhook (the URL itself may hold a secret token).
pub fn alert_key(topic: &str, alert: &AlertConfig) -> String {
    format!(
        "{topic}|{}s|{}|{:016x}",
        window_secs(alert.window),
        trigger_text(alert.trigger),
        xxhash_rust::xxh3::xxh3_64(alert.webhook.as_str().as_bytes())
    )
}

/// The wait before the next delivery attempt after `failures` failed ones.
pub fn retry_delay(failures: u32) -> Duration {
    let factor = 1u32
        .checked_shl(failures.saturating_sub(1))
        .unwrap_or(u32::MAX);
    RETRY_FIRST.saturating_mul(factor).min(RETRY_MAX)
}

/// How long a check holds an alert it is delivering: every attempt of the
/// client plus its longest waits, and a margin.
fn lease(http: &HttpSettings) -> Duration {
    let attempts = http.retries.saturating_add(1);
    http.timeout
        .saturating_mul(attempts)
        .saturating_add(Duration::from_secs(60).saturating_mul(attempts))
}

/// The webhook's scheme and host only, for messages (its path may be a secret).
fn redacted(url: &Url) -> String {
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    format!(
        "{}://{}{port}/…",
        url.scheme(),
        url.host_str().unwrap_or_default()
    )
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn add(t: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(d)
        .ok()
        .and_then(|d| t.checked_add_signed(d))
        .unwrap_or(t)
}

fn sub(t: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(d)
        .ok()
        .and_then(|d| t.checked_sub_signed(d))
        .unwrap_or(DateTime::UNIX_EPOCH)
}

/// One configured alert, with what evaluating it needs (owned, for the blocking task).
#[derive(Debug, Clone)]
struct Watch {
    key: String,
    topic: String,
    window: Duration,
    trigger: AlertTrigger,
    webhook: Url,
}

fn watches(settings: &Settings) -> Vec<Watch> {
    settings
        .alerts
        .iter()
        .filter_map(|a| {
            let topic = settings.topics.get(a.topic)?.name.clone();
            Some(Watch {
                key: alert_key(&topic, a),
                topic,
                window: a.window,
                trigger: a.trigger,
                webhook: a.webhook.clone(),
            })
        })
        .collect()
}

/// Evaluates one alert for the window starting at `start`; records and
/// returns it when it crossed and had not fired for that window yet.
fn evaluate(
    store: &mut Store,
    watch: &Watch,
    start: DateTime<Utc>,
    now: DateTime<Utc>,
    top: usize,
) -> Result<Option<NewAlert>, StoreError> {
    if store.alert_fired(&watch.key, start)? {
        return Ok(None);
    }
    let end = add(start, Duration::from_secs(window_secs(watch.window)));
    let counts = store.counts(&watch.topic, start, end)?;
    let count = counts.total();
    let baseline = match watch.trigger {
        AlertTrigger::Threshold(_) => None,
        AlertTrigger::Factor(_) => {
            let before = store.counts(&watch.topic, sub(start, BASELINE_SPAN), start)?;
            Some(baseline(before.total(), watch.window))
        }
    };
    if !crossed(watch.trigger, count, baseline) {
        return Ok(None);
    }
    let references = store.references(&watch.topic, start, end, top)?;
    let alert = new_alert(watch, (start, end), now, counts, baseline, references);
    Ok(store.record_alert(&alert)?.map(|_| alert))
}

/// `evaluate` on PostgreSQL: the crossing is recorded under the UNIQUE
/// (alert, window) key, so of several nodes that see it, one records it.
async fn evaluate_postgres(
    pg: &Postgres,
    watch: &Watch,
    start: DateTime<Utc>,
    now: DateTime<Utc>,
    top: usize,
) -> Result<Option<NewAlert>, StoreError> {
    if pg.alert_fired(&watch.key, start).await? {
        return Ok(None);
    }
    let end = add(start, Duration::from_secs(window_secs(watch.window)));
    let counts = pg.window_counts(&watch.topic, start, end).await?;
    let baseline = match watch.trigger {
        AlertTrigger::Threshold(_) => None,
        AlertTrigger::Factor(_) => {
            let before = pg
                .window_counts(&watch.topic, sub(start, BASELINE_SPAN), start)
                .await?;
            Some(baseline(before.total(), watch.window))
        }
    };
    if !crossed(watch.trigger, counts.total(), baseline) {
        return Ok(None);
    }
    let references = pg.references(&watch.topic, start, end, top).await?;
    let alert = new_alert(watch, (start, end), now, counts, baseline, references);
    Ok(pg.record_alert(&alert).await?.map(|_| alert))
}

/// The record and webhook body of a window that crossed its trigger.
fn new_alert(
    watch: &Watch,
    (start, end): (DateTime<Utc>, DateTime<Utc>),
    now: DateTime<Utc>,
    counts: KindCounts,
    baseline: Option<f64>,
    references: Vec<Reference>,
) -> NewAlert {
    let count = counts.total();
    let references: Vec<serde_json::Value> = references
        .into_iter()
        .map(|r| serde_json::json!({"domain": r.domain, "mentions": r.mentions}))
        .collect();
    let payload = serde_json::json!({
        "topic": watch.topic,
        "window_start": rfc3339(start),
        "window_end": rfc3339(end),
        "count": count,
        "counts": {"web": counts.web, "social": counts.social, "forum": counts.forum},
        "baseline": baseline,
        "top_references": references,
    });
    NewAlert {
        key: watch.key.clone(),
        topic: watch.topic.clone(),
        window_secs: window_secs(watch.window),
        trigger: trigger_text(watch.trigger),
        window_start: start,
        fired_at: now,
        count,
        baseline,
        payload: payload.to_string(),
    }
}

/// Evaluates every configured alert at `now`; fires and records those that crossed.
pub async fn check(
    settings: &Settings,
    store: &SharedStore,
    http: &HttpClient,
    now: DateTime<Utc>,
) {
    check_backend(settings, &Backend::Sqlite(Arc::clone(store)), http, now).await;
}

/// `check` on either store. On PostgreSQL every node checks; each window
/// is recorded once across the nodes and each delivery claimed by one.
pub async fn check_backend(
    settings: &Settings,
    backend: &Backend,
    http: &HttpClient,
    now: DateTime<Utc>,
) {
    let watches = watches(settings);
    if watches.is_empty() {
        return;
    }
    let top = settings.report.top_references;
    let fired = match backend {
        Backend::Sqlite(store) => evaluate_sqlite(store, &watches, now, top).await,
        Backend::Postgres(pg) => {
            let mut fired = Vec::new();
            for watch in &watches {
                let current = window_start(now, watch.window);
                let previous = sub(current, Duration::from_secs(window_secs(watch.window)));
                for start in [previous, current] {
                    match evaluate_postgres(pg, watch, start, now, top).await {
                        Ok(Some(alert)) => fired.push(alert),
                        Ok(None) => {}
                        Err(e) => tracing::warn!(topic = %watch.topic, "alert not evaluated: {e}"),
                    }
                }
            }
            fired
        }
    };
    for alert in &fired {
        tracing::info!(
            topic = %alert.topic,
            window_start = %rfc3339(alert.window_start),
            count = alert.count,
            trigger = %alert.trigger,
            "alert fired"
        );
    }
    deliver_due(&watches, backend, http, now).await;
}

/// Evaluates the current and the previous window of every alert on the SQLite store.
async fn evaluate_sqlite(
    store: &SharedStore,
    watches: &[Watch],
    now: DateTime<Utc>,
    top: usize,
) -> Vec<NewAlert> {
    let evaluated = watches.to_vec();
    with_store(store, move |store| {
        let mut fired = Vec::new();
        for watch in &evaluated {
            let current = window_start(now, watch.window);
            let previous = sub(current, Duration::from_secs(window_secs(watch.window)));
            for start in [previous, current] {
                match evaluate(store, watch, start, now, top) {
                    Ok(Some(alert)) => fired.push(alert),
                    Ok(None) => {}
                    Err(e) => tracing::warn!(topic = %watch.topic, "alert not evaluated: {e}"),
                }
            }
        }
        Ok(fired)
    })
    .await
    .unwrap_or_else(|e| {
        tracing::warn!("alerts not evaluated: {e}");
        Vec::new()
    })
}

/// Claims the undelivered alerts that are due and POSTs each to its webhook.
async fn deliver_due(watches: &[Watch], store: &Backend, http: &HttpClient, now: DateTime<Utc>) {
    let webhooks: HashMap<String, Url> = watches
        .iter()
        .map(|w| (w.key.clone(), w.webhook.clone()))
        .collect();
    let keys: Vec<String> = webhooks.keys().cloned().collect();
    let until = add(now, lease(http.settings()));
    let claimed = match store {
        Backend::Sqlite(store) => {
            with_store(store, move |s| {
                s.claim_alert_deliveries(&keys, now, until, MAX_ATTEMPTS)
            })
            .await
        }
        Backend::Postgres(pg) => pg
            .claim_alert_deliveries(&keys, now, until, MAX_ATTEMPTS)
            .await
            .map_err(StoreError::from),
    };
    let claimed = match claimed {
        Ok(claimed) => claimed,
        Err(e) => {
            tracing::warn!("alerts not delivered: {e}");
            return;
        }
    };
    let started = std::time::Instant::now();
    let sends = claimed.into_iter().filter_map(|pending| {
        let url = webhooks.get(&pending.key)?.clone();
        Some(async move {
            let outcome = match serde_json::from_str::<serde_json::Value>(&pending.payload) {
                Ok(body) => http
                    .fetch(Request::post_json(url.clone(), &body))
                    .await
                    .map(|_| ())
                    .map_err(|e| {
                        let e = e.to_string().replace(url.as_str(), &redacted(&url));
                        // Other spellings of the URL (a proxy's, a client's) keep their secrets hidden.
                        crate::secrets::mask(&e).into_owned()
                    }),
                Err(e) => Err(format!("the stored alert is not JSON: {e}")),
            };
            (pending, url, outcome)
        })
    });
    let results = futures_util::future::join_all(sends).await;
    let finished = add(now, started.elapsed());
    for (pending, url, outcome) in results {
        let failures = pending.attempts.saturating_add(1);
        let retry_at = (failures < MAX_ATTEMPTS).then(|| add(finished, retry_delay(failures)));
        match &outcome {
            Ok(()) => tracing::info!(webhook = %redacted(&url), "alert delivered"),
            Err(e) if retry_at.is_some() => {
                tracing::warn!(attempt = failures, "alert not delivered, will retry: {e}")
            }
            Err(e) => tracing::error!(attempts = failures, "alert not delivered, giving up: {e}"),
        }
        let id = pending.id;
        let written = match store {
            Backend::Sqlite(store) => {
                with_store(store, move |s| {
                    s.finish_alert_delivery(id, finished, outcome, retry_at)
                })
                .await
            }
            Backend::Postgres(pg) => pg
                .finish_alert_delivery(id, finished, outcome, retry_at)
                .await
                .map_err(StoreError::from),
        };
        if let Err(e) = written {
            tracing::warn!("the outcome of an alert delivery was not recorded: {e}");
        }
    }
}

/// How a fired alert's delivery stands, in a few words.
pub fn delivery_state(alert: &FiredAlert) -> String {
    let error = alert
        .last_error
        .as_deref()
        .unwrap_or("no answer yet")
        .replace(['\t', '\n', '\r'], " ");
    match (alert.delivered_at, alert.next_attempt) {
        (Some(t), _) => format!("delivered {}", rfc3339(t)),
        (None, Some(next)) if alert.attempts == 0 => {
            format!("pending, first attempt due {}", rfc3339(next))
        }
        (None, Some(next)) => format!(
            "retrying: {} failed attempt{}, next {}; last error: {error}",
            alert.attempts,
            if alert.attempts == 1 { "" } else { "s" },
            rfc3339(next)
        ),
        (None, None) => format!(
            "failed after {} attempts; last error: {error}",
            alert.attempts
        ),
    }
}

/// The text of `mentions alerts`: one tab-separated line per fired alert, newest first.
pub fn render_list(alerts: &[FiredAlert], since: DateTime<Utc>) -> String {
    if alerts.is_empty() {
        return format!("No alerts fired since {}.\n", rfc3339(since));
    }
    let mut out =
        "fired\ttopic\twindow_start\twindow_end\ttrigger\tcount\tbaseline\tdelivery\n".to_owned();
    for a in alerts {
        let end = add(a.window_start, Duration::from_secs(a.window_secs));
        let baseline = a
            .baseline
            .map_or_else(|| "-".to_owned(), |b| format!("{b:.2}"));
        out.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
            rfc3339(a.fired_at),
            a.topic.replace(['\t', '\n'], " "),
            rfc3339(a.window_start),
            rfc3339(end),
            a.trigger,
            a.count,
            baseline,
            delivery_state(a)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::Kind;
    use crate::store::{CrawlBatch, NewMention};
    use axum::extract::State;
    use axum::http::StatusCode;
    use chrono::TimeZone;
    use std::path::Path;
    use std::sync::{Arc, Mutex};

    fn t(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(secs, 0).unwrap()
    }

    /// 2026-11-25T16:00:00Z, a whole hour.
    const HOUR_16: i64 = 1_795_622_400;

    #[test]
    fn windows_are_aligned_to_the_epoch() {
        let hour = Duration::from_secs(3600);
        assert_eq!(rfc3339(t(HOUR_16)), "2026-11-25T16:00:00Z");
        assert_eq!(window_start(t(HOUR_16), hour), t(HOUR_16));
        assert_eq!(window_start(t(HOUR_16 + 3599), hour), t(HOUR_16));
        assert_eq!(window_start(t(HOUR_16 + 3600), hour), t(HOUR_16 + 3600));
        assert_eq!(window_start(t(HOUR_16 - 1), hour), t(HOUR_16 - 3600));
        let quarter = Duration::from_secs(900);
        assert_eq!(window_start(t(HOUR_16 + 1799), quarter), t(HOUR_16 + 900));
        let day = Duration::from_secs(86_400);
        assert_eq!(
            rfc3339(window_start(t(HOUR_16 + 5), day)),
            "2026-11-25T00:00:00Z"
        );
        // Before the epoch, floor, not truncation toward zero.
        assert_eq!(window_start(t(-1), hour), t(-3600));
        // A sub-second window counts as one second.
        assert_eq!(window_start(t(17), Duration::from_millis(500)), t(17));
    }

    #[test]
    fn threshold_fires_at_the_threshold_and_above() {
        let trig = AlertTrigger::Threshold(50);
        assert!(!crossed(trig, 0, None));
        assert!(!crossed(trig, 49, None));
        assert!(crossed(trig, 50, None));
        assert!(crossed(trig, 51, None));
    }

    #[test]
    fn factor_compares_with_the_seven_day_average_per_window() {
        let hour = Duration::from_secs(3600);
        // 7 days hold 168 hourly windows.
        assert_eq!(baseline(336, hour), 2.0);
        assert_eq!(baseline(0, hour), 0.0);
        assert_eq!(baseline(14, Duration::from_secs(86_400)), 2.0);
        let trig = AlertTrigger::Factor(3.0);
        assert!(!crossed(trig, 5, Some(2.0)));
        assert!(crossed(trig, 6, Some(2.0)));
        // No history: no average to be a multiple of.
        assert!(!crossed(trig, 100, Some(0.0)));
        assert!(!crossed(trig, 100, None));
        // A tiny baseline still needs at least one mention.
        assert!(!crossed(AlertTrigger::Factor(0.5), 0, Some(0.01)));
        assert!(crossed(AlertTrigger::Factor(0.5), 1, Some(0.01)));
    }

    #[test]
    fn retries_back_off_up_to_an_hour() {
        assert_eq!(retry_delay(1), Duration::from_secs(60));
        assert_eq!(retry_delay(2), Duration::from_secs(120));
        assert_eq!(retry_delay(3), Duration::from_secs(240));
        assert_eq!(retry_delay(7), Duration::from_secs(3600));
        assert_eq!(retry_delay(40), Duration::from_secs(3600));
    }

    #[test]
    fn keys_name_the_entry_without_the_webhook_url() {
        let alert = AlertConfig {
            topic: 0,
            window: Duration::from_secs(3600),
            trigger: AlertTrigger::Threshold(5),
            webhook: Url::parse("https://hooks.example.org/T000/SECRET").unwrap(),
        };
        let key = alert_key("nk", &alert);
        assert!(key.starts_with("nk|3600s|threshold 5|"), "{key}");
        assert!(!key.contains("SECRET"), "{key}");
        let other = AlertConfig {
            webhook: Url::parse("https://hooks.example.org/T000/OTHER").unwrap(),
            ..alert.clone()
        };
        assert_ne!(alert_key("nk", &other), key);
        assert_eq!(
            redacted(&alert.webhook),
            "https://hooks.example.org/…".to_owned()
        );
    }

    /// A webhook receiver: records each POST body and answers the queued
    /// statuses first, then 204.
    #[derive(Clone, Default)]
    struct Receiver {
        bodies: Arc<Mutex<Vec<serde_json::Value>>>,
        statuses: Arc<Mutex<Vec<u16>>>,
    }

    async fn receive(State(r): State<Receiver>, body: String) -> StatusCode {
        let value = serde_json::from_str(&body).unwrap_or(serde_json::Value::String(body));
        r.bodies.lock().unwrap().push(value);
        let mut statuses = r.statuses.lock().unwrap();
        let status = if statuses.is_empty() {
            204
        } else {
            statuses.remove(0)
        };
        StatusCode::from_u16(status).unwrap()
    }

    impl Receiver {
        async fn start() -> (Receiver, std::net::SocketAddr) {
            let r = Receiver::default();
            let app = axum::Router::new()
                .route("/hook", axum::routing::post(receive))
                .with_state(r.clone());
            let addr = crate::http::testing::serve(app).await;
            (r, addr)
        }

        fn bodies(&self) -> Vec<serde_json::Value> {
            self.bodies.lock().unwrap().clone()
        }
    }

    fn settings(alerts: &str) -> Settings {
        let text = format!(
            r#"
[database]
path = "unused.db"

[crawler]
timeout = "2s"
retries = 0

[report]
top_references = 2

[[topic]]
name = "nk"
query = "nordkorea"

[[topic]]
name = "quiet"
query = "schweiz"
{alerts}
"#
        );
        Settings::parse(&text, Path::new("config.toml")).unwrap()
    }

    /// Stores `n` mentions of `topic` at time `at`, web items on `host`
    /// (one social post in every fourth), each a distinct item.
    fn store_mentions(store: &SharedStore, topic: &str, host: &str, n: usize, at: i64) {
        store
            .lock()
            .unwrap()
            .commit(&mentions_batch(topic, host, n, at))
            .unwrap();
    }

    /// The crawl that `store_mentions` commits.
    fn mentions_batch(topic: &str, host: &str, n: usize, at: i64) -> CrawlBatch {
        let mut batch = CrawlBatch::new("s", "feed", Kind::Web, t(at));
        for i in 0..n {
            let social = i % 4 == 3;
            batch.mentions.push(NewMention {
                topic: topic.into(),
                kind: if social { Kind::Social } else { Kind::Web },
                identity: format!("https://{host}/{at}/{i}"),
                url: None,
                host: (!social).then(|| host.to_owned()),
                title: format!("item {i}"),
                excerpt: String::new(),
                author: None,
                lang: None,
                published: Some(t(at)),
                // Unrelated texts: SimHashes far apart, so no near-duplicates.
                simhash: xxhash_rust::xxh3::xxh3_64(format!("{host}/{at}/{i}").as_bytes()),
                seen: None,
            });
        }
        batch
    }

    /// Three nodes on one PostgreSQL database check the same alerts at the
    /// same moment: each crossing is recorded and POSTed once, with the
    /// body the SQLite store gives for the same mentions.
    #[tokio::test(flavor = "multi_thread", worker_threads = 3)]
    async fn on_postgres_three_nodes_fire_each_window_once_as_sqlite_does() {
        use crate::store::postgres::testdb::TestDb;
        use crate::store::postgres::PgTarget;
        let Some(db) = TestDb::create("alerts").await else {
            return;
        };
        let (rx, addr) = Receiver::start().await;
        let (sqlite_rx, sqlite_addr) = Receiver::start().await;
        let alerts = |addr: std::net::SocketAddr| {
            format!(
                r#"
[[alert]]
topic = "nk"
window = "1h"
threshold = 3
webhook = "http://{addr}/hook"

[[alert]]
topic = "nk"
window = "1h"
factor = 2.0
webhook = "http://{addr}/hook"

[[alert]]
topic = "quiet"
window = "1h"
threshold = 3
webhook = "http://{addr}/hook"
"#
            )
        };
        let sqlite_settings = settings(&alerts(sqlite_addr));
        let settings = settings(&alerts(addr));
        let http = HttpClient::build(settings.http.clone(), false).unwrap();
        let target = PgTarget::parse(db.url()).unwrap();
        let mut nodes = Vec::new();
        for _ in 0..3 {
            nodes.push(Backend::Postgres(Box::new(
                Postgres::connect(&target, 2).await.unwrap(),
            )));
        }
        let sqlite = Backend::Sqlite(crate::store::shared(Store::open_in_memory().unwrap()));
        // A day before: history for the factor's baseline (7 d, 168 windows).
        let batches = [
            mentions_batch("nk", "www.merkur.de", 84, HOUR_16 - 86_400),
            mentions_batch("nk", "www.merkur.de", 2, HOUR_16 + 60),
            mentions_batch("nk", "www.sueddeutsche.de", 4, HOUR_16 + 120),
            mentions_batch("quiet", "nzz.ch", 1, HOUR_16 + 60),
        ];
        for batch in batches {
            nodes[0].commit(batch.clone()).await.unwrap();
            sqlite.commit(batch).await.unwrap();
        }
        let now = t(HOUR_16 + 1800);
        tokio::join!(
            check_backend(&settings, &nodes[0], &http, now),
            check_backend(&settings, &nodes[1], &http, now),
            check_backend(&settings, &nodes[2], &http, now),
        );
        check_backend(&sqlite_settings, &sqlite, &http, now).await;
        // Threshold 3 and factor 2 (6 >= 2 x 0.5) crossed; "quiet" did not.
        let mut bodies = rx.bodies();
        assert_eq!(bodies.len(), 2, "{bodies:?}");
        let mut expected = sqlite_rx.bodies();
        let by_text = |v: &serde_json::Value| v.to_string();
        bodies.sort_by_key(by_text);
        expected.sort_by_key(by_text);
        assert_eq!(bodies, expected);
        assert_eq!(bodies[0]["count"], 6);
        assert_eq!(
            bodies.iter().filter(|b| b["baseline"] == 0.5).count(),
            1,
            "{bodies:?}"
        );
        // Checked again by every node: nothing more fires or is sent.
        for node in &nodes {
            check_backend(&settings, node, &http, t(HOUR_16 + 3599)).await;
        }
        assert_eq!(rx.bodies().len(), 2);
        let Backend::Postgres(pg) = &nodes[2] else {
            unreachable!()
        };
        let client = pg.client().await.unwrap();
        let rows = client
            .query(
                "SELECT topic, count, attempts, delivered_at FROM alert ORDER BY key",
                &[],
            )
            .await
            .unwrap();
        assert_eq!(rows.len(), 2);
        for r in rows {
            assert_eq!(r.get::<_, String>(0), "nk");
            assert_eq!(r.get::<_, i64>(1), 6);
            assert_eq!(r.get::<_, i64>(2), 1, "delivered by one node, once");
            assert_eq!(r.get::<_, Option<i64>>(3), Some(HOUR_16 + 1800));
        }
    }

    fn fired(store: &SharedStore) -> Vec<FiredAlert> {
        store.lock().unwrap().fired_alerts(t(0)).unwrap()
    }

    #[tokio::test]
    async fn a_crossing_fires_once_per_window_and_again_in_a_later_window() {
        let (rx, addr) = Receiver::start().await;
        let settings = settings(&format!(
            r#"
[[alert]]
topic = "nk"
window = "1h"
threshold = 3
webhook = "http://{addr}/hook"

[[alert]]
topic = "quiet"
window = "1h"
threshold = 3
webhook = "http://{addr}/hook"
"#
        ));
        let http = HttpClient::build(settings.http.clone(), false).unwrap();
        let store: SharedStore = crate::store::shared(Store::open_in_memory().unwrap());
        let now = t(HOUR_16 + 1800);

        // Two mentions: below the threshold; "quiet" has one, also below.
        store_mentions(&store, "nk", "www.merkur.de", 2, HOUR_16 + 60);
        store_mentions(&store, "quiet", "nzz.ch", 1, HOUR_16 + 60);
        check(&settings, &store, &http, now).await;
        assert!(rx.bodies().is_empty());
        assert!(fired(&store).is_empty());

        // Four more (one a social post): six in the window, it crosses.
        store_mentions(&store, "nk", "www.sueddeutsche.de", 4, HOUR_16 + 120);
        check(&settings, &store, &http, now).await;
        assert_eq!(
            rx.bodies(),
            [serde_json::json!({
                "topic": "nk",
                "window_start": "2026-11-25T16:00:00Z",
                "window_end": "2026-11-25T17:00:00Z",
                "count": 6,
                "counts": {"web": 5, "social": 1, "forum": 0},
                "baseline": null,
                "top_references": [
                    {"domain": "www.sueddeutsche.de", "mentions": 3},
                    {"domain": "www.merkur.de", "mentions": 2},
                ],
            })]
        );
        // More mentions and more checks in the same window: no second POST.
        store_mentions(&store, "nk", "www.faz.net", 5, HOUR_16 + 600);
        check(&settings, &store, &http, now).await;
        check(&settings, &store, &http, t(HOUR_16 + 3599)).await;
        assert_eq!(rx.bodies().len(), 1);
        let rows = fired(&store);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].topic, "nk");
        assert_eq!(rows[0].count, 6);
        assert_eq!(rows[0].trigger, "threshold 3");
        assert_eq!(rows[0].fired_at, now);
        assert_eq!(rows[0].delivered_at, Some(now));
        assert_eq!(rows[0].attempts, 1);

        // The next window fires only when it crosses again.
        let next = HOUR_16 + 3600;
        store_mentions(&store, "nk", "www.merkur.de", 2, next + 10);
        check(&settings, &store, &http, t(next + 20)).await;
        assert_eq!(rx.bodies().len(), 1);
        store_mentions(&store, "nk", "www.zeit.de", 1, next + 30);
        check(&settings, &store, &http, t(next + 40)).await;
        let bodies = rx.bodies();
        assert_eq!(bodies.len(), 2);
        assert_eq!(bodies[1]["window_start"], "2026-11-25T17:00:00Z");
        assert_eq!(bodies[1]["count"], 3);
        // "quiet" never crossed.
        assert!(bodies.iter().all(|b| b["topic"] == "nk"));
    }

    #[tokio::test]
    async fn mentions_crawled_after_their_window_closed_still_fire_it() {
        let (rx, addr) = Receiver::start().await;
        let settings = settings(&format!(
            "[[alert]]\ntopic = \"nk\"\nwindow = \"1h\"\nthreshold = 2\nwebhook = \"http://{addr}/hook\"\n"
        ));
        let http = HttpClient::build(settings.http.clone(), false).unwrap();
        let store: SharedStore = crate::store::shared(Store::open_in_memory().unwrap());
        // Published at 15:59, first crawled at 16:05.
        store_mentions(&store, "nk", "www.merkur.de", 2, HOUR_16 - 60);
        check(&settings, &store, &http, t(HOUR_16 + 300)).await;
        let bodies = rx.bodies();
        assert_eq!(bodies.len(), 1);
        assert_eq!(bodies[0]["window_start"], "2026-11-25T15:00:00Z");
        assert_eq!(bodies[0]["count"], 2);
        // Two windows later it is out of reach.
        store_mentions(&store, "nk", "www.zeit.de", 2, HOUR_16 - 3000);
        check(&settings, &store, &http, t(HOUR_16 + 3700)).await;
        assert_eq!(rx.bodies().len(), 1);
    }

    #[tokio::test]
    async fn factor_alerts_fire_against_the_trailing_week() {
        let (rx, addr) = Receiver::start().await;
        let settings = settings(&format!(
            "[[alert]]\ntopic = \"nk\"\nwindow = \"1d\"\nfactor = 3.0\nwebhook = \"http://{addr}/hook\"\n"
        ));
        let http = HttpClient::build(settings.http.clone(), false).unwrap();
        let store: SharedStore = crate::store::shared(Store::open_in_memory().unwrap());
        let day_start = window_start(t(HOUR_16), Duration::from_secs(86_400)).timestamp();
        let now = t(day_start + 12 * 3600);
        // No history: nothing fires whatever the count.
        store_mentions(&store, "nk", "a.example", 5, day_start + 60);
        check(&settings, &store, &http, now).await;
        assert!(rx.bodies().is_empty());

        // 14 mentions over the 7 days before: 2 a day; 8 beyond the week do not count.
        store_mentions(&store, "nk", "b.example", 10, day_start - 86_400);
        store_mentions(&store, "nk", "c.example", 4, day_start - 7 * 86_400);
        store_mentions(&store, "nk", "d.example", 8, day_start - 7 * 86_400 - 1);
        // Yesterday's window crosses too: 10 ≥ 3 × 12/7 (its own week holds c and d).
        check(&settings, &store, &http, now).await;
        let bodies = rx.bodies();
        let today: Vec<_> = bodies
            .iter()
            .filter(|b| b["window_start"] == rfc3339(t(day_start)))
            .collect();
        assert_eq!(today.len(), 0, "5 < 3 × 2: {bodies:?}");
        assert_eq!(bodies.len(), 1);
        assert_eq!(bodies[0]["count"], 10);
        assert_eq!(bodies[0]["window_start"], rfc3339(t(day_start - 86_400)));
        assert_eq!(bodies[0]["baseline"].as_f64(), Some(12.0 / 7.0));

        store_mentions(&store, "nk", "e.example", 1, day_start + 120);
        check(&settings, &store, &http, now).await;
        let bodies = rx.bodies();
        assert_eq!(bodies.len(), 2);
        assert_eq!(bodies[1]["window_start"], rfc3339(t(day_start)));
        assert_eq!(bodies[1]["count"], 6);
        assert_eq!(bodies[1]["baseline"], 2.0);
        let rows = fired(&store);
        assert_eq!(rows[0].baseline, Some(2.0));
        assert_eq!(rows[0].trigger, "factor 3");
    }

    #[tokio::test]
    async fn a_failed_delivery_is_retried_later_without_firing_again() {
        let (rx, addr) = Receiver::start().await;
        rx.statuses.lock().unwrap().extend([500, 404]);
        let settings = settings(&format!(
            "[[alert]]\ntopic = \"nk\"\nwindow = \"1h\"\nthreshold = 1\nwebhook = \"http://{addr}/hook\"\n"
        ));
        let http = HttpClient::build(settings.http.clone(), false).unwrap();
        let store: SharedStore = crate::store::shared(Store::open_in_memory().unwrap());
        store_mentions(&store, "nk", "www.merkur.de", 1, HOUR_16 + 60);
        let now = HOUR_16 + 120;
        check(&settings, &store, &http, t(now)).await;
        assert_eq!(rx.bodies().len(), 1);
        let rows = fired(&store);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].attempts, 1);
        assert_eq!(rows[0].delivered_at, None);
        let error = rows[0].last_error.clone().unwrap();
        assert_eq!(
            error,
            format!("http://127.0.0.1:{}/… answered HTTP 500", addr.port())
        );
        assert_eq!(rows[0].next_attempt, Some(t(now + 60)));
        assert!(delivery_state(&rows[0]).starts_with("retrying: 1 failed attempt, next "));

        // Not due yet: no request.
        check(&settings, &store, &http, t(now + 59)).await;
        assert_eq!(rx.bodies().len(), 1);
        // Due: the same body again; 404 this time, then two minutes' wait.
        check(&settings, &store, &http, t(now + 60)).await;
        assert_eq!(rx.bodies().len(), 2);
        assert_eq!(fired(&store)[0].next_attempt, Some(t(now + 180)));
        check(&settings, &store, &http, t(now + 180)).await;
        let bodies = rx.bodies();
        assert_eq!(bodies.len(), 3);
        assert_eq!(bodies[0], bodies[2]);
        let rows = fired(&store);
        assert_eq!(rows.len(), 1, "retries do not fire the window again");
        assert_eq!(rows[0].attempts, 3);
        assert_eq!(rows[0].delivered_at, Some(t(now + 180)));
        assert_eq!(rows[0].last_error, None);
        check(&settings, &store, &http, t(now + 4000)).await;
        assert_eq!(rx.bodies().len(), 3);
    }

    #[tokio::test]
    async fn delivery_gives_up_after_the_last_attempt() {
        let (rx, addr) = Receiver::start().await;
        rx.statuses.lock().unwrap().extend([503; 20]);
        let settings = settings(&format!(
            "[[alert]]\ntopic = \"nk\"\nwindow = \"1h\"\nthreshold = 1\nwebhook = \"http://{addr}/hook\"\n"
        ));
        let http = HttpClient::build(settings.http.clone(), false).unwrap();
        let store: SharedStore = crate::store::shared(Store::open_in_memory().unwrap());
        store_mentions(&store, "nk", "www.merkur.de", 1, HOUR_16 + 60);
        let mut now = HOUR_16 + 120;
        for _ in 0..MAX_ATTEMPTS + 3 {
            check(&settings, &store, &http, t(now)).await;
            now += 3600;
        }
        assert_eq!(rx.bodies().len(), MAX_ATTEMPTS as usize);
        let rows = fired(&store);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].attempts, MAX_ATTEMPTS);
        assert_eq!(rows[0].next_attempt, None);
        assert!(
            delivery_state(&rows[0]).starts_with("failed after 10 attempts; last error: "),
            "{}",
            delivery_state(&rows[0])
        );
    }

    #[tokio::test]
    async fn concurrent_checks_fire_and_deliver_once() {
        let (rx, addr) = Receiver::start().await;
        let settings = settings(&format!(
            "[[alert]]\ntopic = \"nk\"\nwindow = \"1h\"\nthreshold = 1\nwebhook = \"http://{addr}/hook\"\n"
        ));
        let http = HttpClient::build(settings.http.clone(), false).unwrap();
        let store: SharedStore = crate::store::shared(Store::open_in_memory().unwrap());
        store_mentions(&store, "nk", "www.merkur.de", 3, HOUR_16 + 60);
        let now = t(HOUR_16 + 120);
        futures_util::future::join_all((0..6).map(|_| check(&settings, &store, &http, now))).await;
        assert_eq!(rx.bodies().len(), 1);
        assert_eq!(fired(&store).len(), 1);
    }

    #[test]
    fn the_list_shows_newest_first_with_delivery_state() {
        let store = Store::open_in_memory().unwrap();
        assert_eq!(
            render_list(&store.fired_alerts(t(0)).unwrap(), t(HOUR_16)),
            "No alerts fired since 2026-11-25T16:00:00Z.\n"
        );
        let alert = |key: &str, window_start: i64, fired_at: i64, baseline| FiredAlert {
            id: 1,
            key: key.into(),
            topic: "nk".into(),
            window_secs: 3600,
            trigger: "threshold 5".into(),
            window_start: t(window_start),
            fired_at: t(fired_at),
            count: 7,
            baseline,
            payload: "{}".into(),
            attempts: 1,
            delivered_at: Some(t(fired_at + 1)),
            last_error: None,
            next_attempt: None,
        };
        let pending = FiredAlert {
            attempts: 2,
            delivered_at: None,
            last_error: Some("http://127.0.0.1:9/… answered\tHTTP 502".into()),
            next_attempt: Some(t(HOUR_16 + 7500)),
            trigger: "factor 3".into(),
            ..alert("b", HOUR_16 + 3600, HOUR_16 + 3700, Some(2.0 / 3.0))
        };
        let list = render_list(&[pending, alert("a", HOUR_16, HOUR_16 + 100, None)], t(0));
        assert_eq!(
            list,
            "fired\ttopic\twindow_start\twindow_end\ttrigger\tcount\tbaseline\tdelivery\n\
             2026-11-25T17:01:40Z\tnk\t2026-11-25T17:00:00Z\t2026-11-25T18:00:00Z\tfactor 3\t7\t0.67\t\
             retrying: 2 failed attempts, next 2026-11-25T18:05:00Z; last error: http://127.0.0.1:9/… answered HTTP 502\n\
             2026-11-25T16:01:40Z\tnk\t2026-11-25T16:00:00Z\t2026-11-25T17:00:00Z\tthreshold 5\t7\t-\t\
             delivered 2026-11-25T16:01:41Z\n"
        );
    }
}
