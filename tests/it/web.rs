//! The counting path for web sources, end to end: feeds in several formats
//! and charsets, a sitemap, an HTML listing and full-text pages, with every
//! kind of duplicate SPEC §4 names.

use crate::server::{Behavior, Route, TestServer};
use crate::{fixture, mentions, write_config};

const QUERY: &str = r#"(nordkorea* OR "north korea" OR pjöngjang) AND (russland* OR russia* OR putin OR kursk OR moskau) NOT fußball"#;
const WINDOW: [&str; 4] = [
    "--from",
    "2026-11-01T00:00:00Z",
    "--to",
    "2026-12-01T00:00:00Z",
];

struct Site {
    server: TestServer,
    a: String,
    b: String,
}

impl Site {
    async fn start() -> Site {
        let server = TestServer::start().await;
        let a = server.url("");
        let b = server.url_as_localhost("");
        Site { server, a, b }
    }

    fn fixture(&self, name: &str) -> Vec<u8> {
        fixture(name, &self.a, &self.b)
    }

    fn serve_all(&self) {
        let s = &self.server;
        s.route(
            "/robots.txt",
            Route::ok("text/plain", self.fixture("robots.txt")),
        );
        s.route(
            "/politik/rss.xml",
            Route::ok("application/rss+xml", self.fixture("rss-latin1.xml"))
                .with_etag("\"rss-v1\"")
                .fail_first(503, &[("retry-after", "1")]),
        );
        s.route(
            "/ausland/atom.xml",
            Route::ok(
                "application/atom+xml; charset=utf-8",
                self.fixture("atom.xml"),
            )
            .behave(Behavior::Gzip)
            .with_etag("\"atom-v1\""),
        );
        s.route(
            "/analyse/feed.json",
            Route::ok("application/feed+json", self.fixture("feed.json")),
        );
        for (path, file) in [
            ("/analyse/buendnis.html", "analyse-buendnis.html"),
            (
                "/analyse/buendnis-druckversion.html",
                "analyse-buendnis-druck.html",
            ),
            ("/analyse/kommentar.html", "analyse-kommentar.html"),
            ("/private/lieferungen.html", "private-lieferungen.html"),
        ] {
            s.route(
                path,
                Route::ok("text/html; charset=utf-8", self.fixture(file)),
            );
        }
        s.route(
            "/news-sitemap.xml",
            Route::ok("application/xml", self.fixture("news-sitemap.xml")),
        );
        s.route(
            "/politik/liste.html",
            Route::ok("text/html; charset=utf-8", self.fixture("liste.html")),
        );
        s.route(
            "/agentur/rss.xml",
            Route::ok(
                "application/rss+xml; charset=utf-8",
                self.fixture("agentur.xml"),
            ),
        );
    }

    fn config(&self) -> String {
        let (a, b) = (&self.a, &self.b);
        format!(
            r#"
[database]
path = "mentions.db"

[crawler]
user_agent = "mentions-test/1.0 (+https://example.org/bot)"
timeout = "5s"
retries = 2

[report]
language = "de"

[[topic]]
name = "nk-ru"
query = '{QUERY}'

[[source]]
name = "politik-rss"
type = "feed"
url = "{a}/politik/rss.xml"

[[source]]
name = "ausland-atom"
type = "feed"
url = "{a}/ausland/atom.xml"

[[source]]
name = "analysen"
type = "feed"
url = "{a}/analyse/feed.json"
full_text = true
# The recorded items are from November 2026; keep them in reach whenever the test runs.
lookback = "36500d"

[[source]]
name = "news-sitemap"
type = "sitemap"
url = "{a}/news-sitemap.xml"

[[source]]
name = "liste"
type = "html"
url = "{a}/politik/liste.html"
item = "article.teaser"
title = "h2"
link = "a"
date = "time, .date"
text = "p.teaser-text"

[[source]]
name = "agentur"
type = "feed"
url = "{b}/agentur/rss.xml"
"#
        )
    }
}

fn source<'a>(report: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    report["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no source {name} in {report}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_sources_count_each_mention_once() {
    let site = Site::start().await;
    site.serve_all();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &site.config());

    let crawl = mentions(&config, &["crawl"]).await;
    assert_eq!(crawl.code, 0, "{crawl:?}");
    assert_eq!(
        crawl.stdout.lines().count(),
        6,
        "one line per source: {}",
        crawl.stdout
    );

    let mut args = vec!["report", "--topic", "nk-ru", "--format", "json"];
    args.extend(WINDOW);
    let report = mentions(&config, &args).await.json();
    // politik-rss: granaten (only through "Pjöngjang"), soldaten-kursk, delegation;
    // ausland-atom: gipfel, troops (the delegation entry is a duplicate);
    // analysen: buendnis (through its page; the print copy is the same text on the same host,
    //           the robots-disallowed page is never fetched, the comment matches only in navigation);
    // news-sitemap: raketen; liste: meinung (raketen is a duplicate);
    // agentur: the syndicated granaten copy on another host.
    assert_eq!(
        report["counts"],
        serde_json::json!({"web": 9, "social": 0, "forum": 0}),
        "{report:#}"
    );
    assert_eq!(report["total"], 9);
    assert_eq!(
        report["references"],
        serde_json::json!([{"domain": "127.0.0.1", "mentions": 8}, {"domain": "localhost", "mentions": 1}])
    );
    assert_eq!(source(&report, "analysen")["mentions"], 1);
    assert_eq!(source(&report, "agentur")["mentions"], 1);
    let per_source: u64 = report["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["mentions"].as_u64().unwrap())
        .sum();
    assert_eq!(per_source, 9);
    for s in report["sources"].as_array().unwrap() {
        assert!(s["last_error"].is_null(), "{s}");
        assert!(s["last_success"].is_string(), "{s}");
    }

    // robots.txt: the disallowed page was never requested.
    assert!(site
        .server
        .requests_to("/private/lieferungen.html")
        .is_empty());
    // 503 with Retry-After once, then the feed.
    let rss: Vec<u16> = site
        .server
        .requests_to("/politik/rss.xml")
        .iter()
        .map(|l| l.status)
        .collect();
    assert_eq!(rss, [503, 200]);

    // Nothing new: no count changes, and the feed is asked conditionally.
    site.server.clear_log();
    let again = mentions(&config, &["crawl"]).await;
    assert_eq!(again.code, 0, "{again:?}");
    let report2 = mentions(&config, &args).await.json();
    assert_eq!(report2["counts"], report["counts"]);
    let repeat = site.server.requests_to("/politik/rss.xml");
    assert_eq!(repeat.len(), 1);
    assert_eq!(
        repeat[0].headers.get("if-none-match").unwrap(),
        "\"rss-v1\""
    );
    assert_eq!(repeat[0].status, 304);
    assert!(
        again.stdout.contains("politik-rss: not modified"),
        "{}",
        again.stdout
    );
    // Full-text pages are fetched once, not on every crawl.
    assert!(site.server.requests_to("/analyse/buendnis.html").is_empty());

    // The server adds items: exactly those are added.
    // The feed is ISO-8859-1: bytes map one to one to the first 256 code points.
    let rss2: String = site
        .fixture("rss-latin1.xml")
        .iter()
        .map(|&b| b as char)
        .collect();
    let added = format!(
        "<item>\n<title>Russland bestätigt Ankunft nordkoreanischer Truppen</title>\n<link>{}/politik/ankunft.html</link>\n<pubDate>Wed, 25 Nov 2026 09:00:00 +0100</pubDate>\n</item>\n<item>",
        site.a
    );
    let rss2 = rss2.replacen("<item>", &added, 1);
    let latin1: Vec<u8> = rss2.chars().map(|c| c as u32 as u8).collect();
    site.server.route(
        "/politik/rss.xml",
        Route::ok("application/rss+xml", latin1).with_etag("\"rss-v2\""),
    );
    let sitemap2 = String::from_utf8(site.fixture("news-sitemap.xml")).unwrap().replacen(
        "<url>",
        &format!(
            "<url><loc>{}/politik/kursk-offensive.html</loc><news:news><news:publication><news:name>Beispiel-Zeitung</news:name><news:language>de</news:language></news:publication><news:publication_date>2026-11-25T08:00:00+01:00</news:publication_date><news:title>Kursk: Nordkoreas Truppen an der Front</news:title></news:news></url>\n  <url>",
            site.a
        ),
        1,
    );
    site.server
        .route("/news-sitemap.xml", Route::ok("application/xml", sitemap2));
    let third = mentions(&config, &["crawl"]).await;
    assert_eq!(third.code, 0, "{third:?}");
    assert!(
        third.stdout.contains("politik-rss: 1 new"),
        "{}",
        third.stdout
    );
    assert!(
        third.stdout.contains("news-sitemap: 1 new"),
        "{}",
        third.stdout
    );
    let report3 = mentions(&config, &args).await.json();
    assert_eq!(report3["counts"]["web"], 11);

    // The text footer, exactly.
    let mut text_args = vec!["report", "--topic", "nk-ru", "--lang", "de"];
    text_args.extend(WINDOW);
    let text = mentions(&config, &text_args).await;
    assert_eq!(
        text.stdout,
        "nk-ru · 2026-11-01 00:00 – 2026-12-01 00:00 UTC\nReferenz 1  127.0.0.1\nReferenz 2  localhost\nQuellen gesamt\nWeb: 11, Social: 0, Foren: 0\n"
    );
    let mut csv_args = vec!["report", "--format", "csv"];
    csv_args.extend(WINDOW);
    let csv = mentions(&config, &csv_args).await;
    assert_eq!(
        csv.stdout,
        "topic,from,to,web,social,forum,total\nnk-ru,2026-11-01T00:00:00Z,2026-12-01T00:00:00Z,11,0,0,11\n"
    );
}

/// Items without a readable date count at the time they were first seen,
/// and the JSON report says how many of each kind that was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn items_without_a_readable_date_are_counted_as_undated() {
    let server = TestServer::start().await;
    let base = server.url("");
    let yesterday = (chrono::Utc::now() - chrono::Duration::days(1)).to_rfc2822();
    server.route("/robots.txt", Route::status(404));
    server.route(
        "/feed.xml",
        Route::ok(
            "application/rss+xml",
            format!(
                r#"<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>x</title><link>{base}/</link><description>x</description>
<item><title>Nordkorea und Russland: datiert</title><link>{base}/a.html</link><pubDate>{yesterday}</pubDate></item>
<item><title>Nordkorea und Russland: ohne Datum</title><link>{base}/b.html</link></item>
<item><title>Nordkorea und Russland: unlesbar</title><link>{base}/c.html</link><pubDate>irgendwann, keine Ahnung</pubDate></item>
<item><title>Wetter: ohne Datum</title><link>{base}/d.html</link></item>
</channel></rss>"#
            ),
        ),
    );
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &format!(
            "[[topic]]\nname = \"nk\"\nquery = \"nordkorea AND russland\"\n\n[[source]]\nname = \"f\"\ntype = \"feed\"\nurl = \"{base}/feed.xml\"\n"
        ),
    );
    let crawl = mentions(&config, &["crawl"]).await;
    assert_eq!(crawl.code, 0, "{crawl:?}");
    // A window that ends after now: undated items are timed at the crawl.
    let to = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let from = (chrono::Utc::now() - chrono::Duration::days(7)).to_rfc3339();
    let report = mentions(
        &config,
        &[
            "report", "--topic", "nk", "--from", &from, "--to", &to, "--format", "json",
        ],
    )
    .await
    .json();
    assert_eq!(
        report["counts"],
        serde_json::json!({"web": 3, "social": 0, "forum": 0}),
        "{report:#}\n{crawl:?}"
    );
    assert_eq!(
        report["undated"],
        serde_json::json!({"web": 2, "social": 0, "forum": 0})
    );
}
