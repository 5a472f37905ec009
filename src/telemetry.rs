//! Prometheus metrics for `GET /metrics`: the process-wide recorder, the
//! counters the crawl records (fetches, errors, HTTP status classes, crawls,
//! new mentions per source), and the gauges read from the database at
//! scrape time (mentions stored per topic and kind, last success per
//! source), so they are exact and survive restarts. Without an installed
//! recorder (plain `mentions crawl`) the recording calls do nothing.

use crate::http::{FetchError, Fetched};
use crate::store::{Reads, StoreError};
use chrono::{DateTime, Utc};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::fmt::Write as _;
use std::sync::OnceLock;

pub const FETCHES: &str = "mentions_fetches_total";
pub const FETCH_ERRORS: &str = "mentions_fetch_errors_total";
pub const HTTP_RESPONSES: &str = "mentions_http_responses_total";
pub const CRAWLS: &str = "mentions_crawls_total";
pub const NEW_MENTIONS: &str = "mentions_new_mentions_total";
pub const STORED: &str = "mentions_stored";
pub const LAST_SUCCESS: &str = "mentions_last_success_timestamp_seconds";
pub const STORE_ERRORS: &str = "mentions_store_errors_total";

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the Prometheus recorder once per process and returns its handle;
/// None when another recorder was installed first.
pub fn install() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| match PrometheusBuilder::new().install_recorder() {
            Ok(handle) => {
                describe();
                Some(handle)
            }
            Err(e) => {
                tracing::warn!("metrics are unavailable: {e}");
                None
            }
        })
        .as_ref()
}

/// HELP lines for the recorded metrics.
pub fn describe() {
    metrics::describe_counter!(
        FETCHES,
        "HTTP fetches made for a source (feeds, sitemaps, listing and full-text pages)"
    );
    metrics::describe_counter!(FETCH_ERRORS, "Fetches for a source that failed");
    metrics::describe_counter!(
        HTTP_RESPONSES,
        "Fetch results per source by HTTP status class (error: no HTTP answer)"
    );
    metrics::describe_counter!(CRAWLS, "Crawls of a source by outcome");
    metrics::describe_counter!(NEW_MENTIONS, "New mentions a source stored");
    metrics::describe_counter!(
        STORE_ERRORS,
        "Crawls of a source the database could not store (disk full, read-only, locked)"
    );
}

/// `2xx`…`5xx` for a status code, `error` for anything else.
pub fn status_class(status: u16) -> &'static str {
    match status {
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        500..=599 => "5xx",
        _ => "error",
    }
}

/// Records one `HttpClient::fetch` made for `source`. A fetch robots.txt
/// forbids sent nothing, so it counts as a fetch but not as an error or a response.
pub fn record_fetch(source: &str, result: &Result<Fetched, FetchError>) {
    let source = source.to_owned();
    metrics::counter!(FETCHES, "source" => source.clone()).increment(1);
    let class = match result {
        Ok(fetched) => status_class(fetched.status),
        Err(FetchError::RobotsDisallowed { .. }) => return,
        Err(FetchError::Status { status, .. }) => status_class(*status),
        Err(_) => "error",
    };
    if result.is_err() {
        metrics::counter!(FETCH_ERRORS, "source" => source.clone()).increment(1);
    }
    metrics::counter!(HTTP_RESPONSES, "source" => source, "class" => class).increment(1);
}

/// Records the end of one crawl of `source`.
pub fn record_crawl(source: &str, ok: bool, new_mentions: u64) {
    let outcome = if ok { "ok" } else { "failed" };
    metrics::counter!(CRAWLS, "source" => source.to_owned(), "outcome" => outcome).increment(1);
    metrics::counter!(NEW_MENTIONS, "source" => source.to_owned()).increment(new_mentions);
}

/// Records a crawl of `source` that could not be written to the database.
pub fn record_store_error(source: &str) {
    metrics::counter!(STORE_ERRORS, "source" => source.to_owned()).increment(1);
}

/// Escapes a label value for the text exposition format.
pub fn label_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// The database gauges in Prometheus text: mentions stored per topic and
/// kind for the configured `topics`, and the last successful crawl of each
/// configured source in `sources` that has had one.
pub fn database_gauges(
    store: &dyn Reads,
    topics: &[&str],
    sources: &[&str],
) -> Result<String, StoreError> {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# HELP {STORED} Distinct mentions stored per topic and kind\n# TYPE {STORED} gauge"
    );
    for topic in topics {
        let counts = store.counts(topic, DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC)?;
        let name = label_value(topic);
        for (kind, n) in [
            ("web", counts.web),
            ("social", counts.social),
            ("forum", counts.forum),
        ] {
            let _ = writeln!(out, "{STORED}{{topic=\"{name}\",kind=\"{kind}\"}} {n}");
        }
    }
    let health = store.source_health()?;
    let _ = writeln!(
        out,
        "# HELP {LAST_SUCCESS} Unix time of the last successful crawl of a source\n# TYPE {LAST_SUCCESS} gauge"
    );
    for source in sources {
        let last = health
            .iter()
            .find(|h| h.name == *source)
            .and_then(|h| h.last_success);
        if let Some(t) = last {
            let _ = writeln!(
                out,
                "{LAST_SUCCESS}{{source=\"{}\"}} {}",
                label_value(source),
                t.timestamp()
            );
        }
    }
    Ok(out)
}

/// The whole `/metrics` body: the recorded counters, then the database gauges.
pub fn render(handle: Option<&PrometheusHandle>, gauges: &str) -> String {
    let mut out = match handle {
        Some(h) => {
            h.run_upkeep();
            h.render()
        }
        None => String::new(),
    };
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(gauges);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::Kind;
    use crate::store::{CrawlBatch, NewMention, Store};
    use url::Url;

    fn fetched(status: u16) -> Fetched {
        Fetched {
            status,
            final_url: Url::parse("https://news.example.org/feed.xml").unwrap(),
            headers: http::HeaderMap::new(),
            body: Vec::new(),
            validators: Default::default(),
        }
    }

    fn sample(scrape: &str, name: &str, labels: &[(&str, &str)]) -> Option<String> {
        scrape
            .lines()
            .filter(|l| !l.starts_with('#'))
            .find(|l| {
                l.starts_with(&format!("{name}{{"))
                    && labels
                        .iter()
                        .all(|(k, v)| l.contains(&format!("{k}=\"{v}\"")))
            })
            .and_then(|l| l.rsplit(' ').next())
            .map(str::to_owned)
    }

    #[test]
    fn status_classes() {
        assert_eq!(status_class(200), "2xx");
        assert_eq!(status_class(204), "2xx");
        assert_eq!(status_class(304), "3xx");
        assert_eq!(status_class(404), "4xx");
        assert_eq!(status_class(429), "4xx");
        assert_eq!(status_class(503), "5xx");
        assert_eq!(status_class(101), "error");
        assert_eq!(status_class(600), "error");
    }

    #[test]
    fn fetches_are_counted_per_source_and_status_class() {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        let url = Url::parse("https://news.example.org/feed.xml").unwrap();
        metrics::with_local_recorder(&recorder, || {
            describe();
            record_fetch("tagesschau", &Ok(fetched(200)));
            record_fetch("tagesschau", &Ok(fetched(304)));
            record_fetch(
                "tagesschau",
                &Err(FetchError::Status {
                    url: url.clone(),
                    status: 503,
                }),
            );
            record_fetch(
                "tagesschau",
                &Err(FetchError::Timeout {
                    url: url.clone(),
                    secs: 20,
                }),
            );
            record_fetch(
                "tagesschau",
                &Err(FetchError::RobotsDisallowed {
                    host: "news.example.org".into(),
                    url: url.clone(),
                }),
            );
            record_fetch("spiegel", &Ok(fetched(200)));
            record_crawl("tagesschau", false, 0);
            record_crawl("spiegel", true, 4);
            record_crawl("spiegel", true, 1);
        });
        let text = handle.render();
        let s = |name, labels: &[(&str, &str)]| sample(&text, name, labels);
        assert_eq!(
            s(FETCHES, &[("source", "tagesschau")]).as_deref(),
            Some("5")
        );
        assert_eq!(s(FETCHES, &[("source", "spiegel")]).as_deref(), Some("1"));
        assert_eq!(
            s(FETCH_ERRORS, &[("source", "tagesschau")]).as_deref(),
            Some("2")
        );
        assert_eq!(s(FETCH_ERRORS, &[("source", "spiegel")]), None);
        for (class, n) in [("2xx", "1"), ("3xx", "1"), ("5xx", "1"), ("error", "1")] {
            assert_eq!(
                s(
                    HTTP_RESPONSES,
                    &[("source", "tagesschau"), ("class", class)]
                )
                .as_deref(),
                Some(n),
                "{class}\n{text}"
            );
        }
        assert_eq!(
            s(
                HTTP_RESPONSES,
                &[("source", "tagesschau"), ("class", "4xx")]
            ),
            None
        );
        assert_eq!(
            s(CRAWLS, &[("source", "tagesschau"), ("outcome", "failed")]).as_deref(),
            Some("1")
        );
        assert_eq!(
            s(CRAWLS, &[("source", "spiegel"), ("outcome", "ok")]).as_deref(),
            Some("2")
        );
        assert_eq!(
            s(NEW_MENTIONS, &[("source", "spiegel")]).as_deref(),
            Some("5")
        );
        assert!(
            text.contains(&format!("# TYPE {FETCHES} counter")),
            "{text}"
        );
        assert!(text.contains(&format!("# HELP {CRAWLS} ")), "{text}");
    }

    fn mention(topic: &str, kind: Kind, identity: &str, simhash: u64) -> NewMention {
        NewMention {
            topic: topic.into(),
            kind,
            identity: identity.into(),
            url: Some(identity.into()),
            host: Url::parse(identity)
                .ok()
                .and_then(|u| u.host_str().map(str::to_owned)),
            title: format!("Bericht {identity}"),
            excerpt: String::new(),
            author: None,
            lang: Some("de".into()),
            published: DateTime::parse_from_rfc3339("2026-11-24T08:00:00Z")
                .ok()
                .map(|t| t.with_timezone(&Utc)),
            simhash,
            seen: None,
        }
    }

    #[test]
    fn database_gauges_are_exact_per_topic_and_kind() {
        let mut store = Store::open_in_memory().unwrap();
        let started = DateTime::parse_from_rfc3339("2026-11-25T16:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let mut batch = CrawlBatch::new("politik", "feed", Kind::Web, started);
        batch.mentions = vec![
            mention("nk-ru", Kind::Web, "https://news.example.org/a", 0),
            // Many bits apart: another text on the same host, not a copy.
            mention("nk-ru", Kind::Web, "https://news.example.org/bb", u64::MAX),
            mention("nk-ru", Kind::Web, "https://other.example.net/ccc", 0),
        ];
        store.commit(&batch).unwrap();

        let topics = ["nk-ru", "say \"hi\""];
        let text = database_gauges(&store, &topics, &["politik", "neu"]).unwrap();
        let expected_stored = [
            "mentions_stored{topic=\"nk-ru\",kind=\"web\"} 3",
            "mentions_stored{topic=\"nk-ru\",kind=\"social\"} 0",
            "mentions_stored{topic=\"nk-ru\",kind=\"forum\"} 0",
            "mentions_stored{topic=\"say \\\"hi\\\"\",kind=\"web\"} 0",
        ];
        for line in expected_stored {
            assert!(text.lines().any(|l| l == line), "{line}\n{text}");
        }
        assert!(
            text.lines().any(|l| l
                == format!(
                    "mentions_last_success_timestamp_seconds{{source=\"politik\"}} {}",
                    started.timestamp()
                )),
            "{text}"
        );
        // A source that never succeeded has no sample rather than a made-up time.
        assert!(!text.contains("source=\"neu\""), "{text}");

        let scrape =
            prometheus_parse::Scrape::parse(render(None, &text).lines().map(|l| Ok(l.to_owned())))
                .unwrap();
        let stored: Vec<_> = scrape
            .samples
            .iter()
            .filter(|s| s.metric == STORED)
            .collect();
        assert_eq!(stored.len(), 6);
        let web = stored
            .iter()
            .find(|s| s.labels.get("kind") == Some("web") && s.labels.get("topic") == Some("nk-ru"))
            .unwrap();
        assert_eq!(web.value, prometheus_parse::Value::Gauge(3.0));
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label_value("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
        assert_eq!(label_value("nk-ru"), "nk-ru");
    }
}
