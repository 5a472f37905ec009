//! News searches end to end: Google News RSS against a local stand-in,
//! counted for the publishers its items name.

use crate::server::{Route, TestServer};
use crate::{fixture, mentions, write_config};
use std::path::Path;

const QUERY: &str =
    r#"(nordkorea* OR "north korea" OR kim) AND (russland* OR russia* OR putin OR kursk)"#;
const WINDOW: [&str; 4] = [
    "--from",
    "2026-11-01T00:00:00Z",
    "--to",
    "2026-12-01T00:00:00Z",
];

/// A recorded payload from tests/fixtures/NAME.
fn recorded(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn config(sources: &str) -> String {
    format!(
        r#"
[database]
path = "mentions.db"

[crawler]
user_agent = "mentions-test/1.0 (+https://example.org/bot)"
timeout = "5s"
retries = 0

[report]
language = "de"

[[topic]]
name = "nk-ru"
query = '{QUERY}'
{sources}
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn google_news_counts_for_the_publishers() {
    let server = TestServer::start().await;
    server.route(
        "/rss/search",
        Route::ok(
            "application/xml; charset=utf-8",
            recorded("googlenews/search.xml"),
        ),
    );
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &config(&format!(
            r#"
[[source]]
name = "google-news"
type = "googlenews"
url = "{}"
# The recorded items are from November 2026; keep them in reach whenever the test runs.
lookback = "36500d"
"#,
            server.url("")
        )),
    );
    let crawl = mentions(&config, &["crawl"]).await;
    assert_eq!(crawl.code, 0, "{crawl:?}");
    assert_eq!(
        crawl.stdout.trim(),
        "google-news: 3 new, 0 already counted, 4 items read; WARNING: 1 items without a <source url> skipped (no publisher to count them for)"
    );
    let asked = server.requests_to("/rss/search");
    assert_eq!(asked.len(), 1, "one request per crawl");
    let target = url::Url::parse(&format!("http://x{}", asked[0].target)).unwrap();
    let params: Vec<(String, String)> = target.query_pairs().into_owned().collect();
    assert_eq!(
        params,
        [
            (
                "q".to_owned(),
                r#"(nordkorea OR "north korea" OR kim) (russland OR russia OR putin OR kursk) when:36500d"#.to_owned()
            ),
            ("hl".to_owned(), "de".to_owned()),
            ("gl".to_owned(), "DE".to_owned()),
            ("ceid".to_owned(), "DE:de".to_owned()),
        ]
    );
    assert!(
        asked[0]
            .headers
            .get("user-agent")
            .is_some_and(|ua| ua == "mentions-test/1.0 (+https://example.org/bot)"),
        "{:?}",
        asked[0].headers
    );
    assert!(
        server.requests_to("/robots.txt").is_empty(),
        "an API search, not a crawl"
    );

    let mut args = vec!["report", "--format", "json", "--topic", "nk-ru"];
    args.extend(WINDOW);
    let report = mentions(&config, &args).await.json();
    assert_eq!(
        report["counts"],
        serde_json::json!({"web": 3, "social": 0, "forum": 0})
    );
    // The publishers, not news.google.com; ties go to the earlier mention.
    assert_eq!(
        report["references"],
        serde_json::json!([
            {"domain": "www.merkur.de", "mentions": 1},
            {"domain": "www.tagesschau.de", "mentions": 1},
            {"domain": "www.sueddeutsche.de", "mentions": 1}
        ])
    );

    // The same answer again: nothing new, and still one request.
    server.clear_log();
    let again = mentions(&config, &["crawl"]).await;
    assert_eq!(again.code, 0, "{again:?}");
    assert!(
        again
            .stdout
            .starts_with("google-news: 0 new, 3 already counted, 4 items read"),
        "{}",
        again.stdout
    );
    assert_eq!(server.requests_to("/rss/search").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn google_news_refusing_is_a_failed_source() {
    let server = TestServer::start().await;
    server.route(
        "/rss/search",
        Route::status(429).with_header("retry-after", "1"),
    );
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &config(&format!(
            "\n[[source]]\nname = \"google-news\"\ntype = \"googlenews\"\nurl = \"{}\"\nlanguage = \"en\"\n",
            server.url("")
        )),
    );
    let crawl = mentions(&config, &["crawl"]).await;
    assert_eq!(crawl.code, 1, "{crawl:?}");
    assert!(
        crawl.stdout.contains("FAILED:") && crawl.stdout.contains("HTTP 429"),
        "{}",
        crawl.stdout
    );
    let asked = server.requests_to("/rss/search");
    assert_eq!(asked.len(), 1, "retries = 0");
    assert!(
        asked[0].target.ends_with("&hl=en-US&gl=US&ceid=US%3Aen"),
        "{}",
        asked[0].target
    );
}

/// A GDELT artlist answer listing `articles` (url, title, seendate).
fn artlist(articles: &[(&str, &str, &str)]) -> Vec<u8> {
    let list: Vec<serde_json::Value> = articles
        .iter()
        .map(|(url, title, seen)| {
            serde_json::json!({
                "url": url, "url_mobile": "", "title": title, "seendate": seen,
                "socialimage": "", "domain": "127.0.0.1", "language": "German",
                "sourcecountry": "Germany"
            })
        })
        .collect();
    serde_json::json!({ "articles": list })
        .to_string()
        .into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gdelt_articles_are_the_publishers_own() {
    let server = TestServer::start().await;
    let a = server.url("");
    let article = format!("{a}/politik/soldaten-kursk.html");
    server.route(
        "/api/v2/doc/doc",
        Route::ok(
            "application/json; charset=utf-8",
            artlist(&[
                (
                    &format!("{article}?utm_source=gdelt"),
                    "Nordkorea schickt Soldaten nach Kursk",
                    "20261130T101500Z",
                ),
                (
                    &format!("{a}/wirtschaft/handel.html"),
                    "Russland und Nordkorea: Handel wächst",
                    "20261129T181500Z",
                ),
                (
                    "https://www.example.org/sport/fussball.html",
                    "Fußball: Kim schießt zwei Tore",
                    "20261129T080000Z",
                ),
            ]),
        ),
    );
    server.route(
        "/politik/rss.xml",
        Route::ok(
            "application/rss+xml",
            format!(
                "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Politik</title>\
                 <item><title>Nordkorea schickt Soldaten nach Kursk</title><link>{article}</link>\
                 <pubDate>Mon, 30 Nov 2026 11:02:00 +0100</pubDate><description>Pjöngjang bestätigt die Verlegung nach Russland.</description></item>\
                 </channel></rss>"
            ),
        ),
    );
    server.route("/robots.txt", Route::status(404));
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &config(&format!(
            r#"
[[source]]
name = "gdelt"
type = "gdelt"
url = "{a}"
sourcelang = "german"
# The recorded items are from November 2026; keep them in reach whenever the test runs.
lookback = "36500d"

[[source]]
name = "politik"
type = "feed"
url = "{a}/politik/rss.xml"
"#
        )),
    );
    let crawl = mentions(&config, &["crawl", "--source", "gdelt"]).await;
    assert_eq!(crawl.code, 0, "{crawl:?}");
    assert_eq!(
        crawl.stdout.trim(),
        "gdelt: 2 new, 0 already counted, 3 items read"
    );
    let asked = server.requests_to("/api/v2/doc/doc");
    assert_eq!(asked.len(), 1, "the answer is not full");
    let target = url::Url::parse(&format!("http://x{}", asked[0].target)).unwrap();
    let params: Vec<(String, String)> = target.query_pairs().into_owned().collect();
    let param = |k: &str| {
        params
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(
        param("query"),
        Some(
            r#"(nordkorea OR "north korea" OR kim OR russland OR russia OR putin OR kursk) sourcelang:german"#
        )
    );
    assert_eq!(param("timespan"), Some("90d"));
    assert_eq!(param("maxrecords"), Some("250"));
    assert!(asked[0].headers.contains_key("user-agent"));

    // The publisher's own feed lists the first article: the same URL, one mention.
    let feed = mentions(&config, &["crawl", "--source", "politik"]).await;
    assert_eq!(feed.code, 0, "{feed:?}");
    assert_eq!(
        feed.stdout.trim(),
        "politik: 0 new, 1 already counted, 1 items read"
    );
    let mut args = vec!["report", "--format", "json", "--topic", "nk-ru"];
    args.extend(WINDOW);
    let report = mentions(&config, &args).await.json();
    assert_eq!(
        report["counts"],
        serde_json::json!({"web": 2, "social": 0, "forum": 0})
    );
    assert_eq!(
        report["references"],
        serde_json::json!([{"domain": "127.0.0.1", "mentions": 2}])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gdelt_error_page_is_quoted() {
    let server = TestServer::start().await;
    server.route(
        "/api/v2/doc/doc",
        Route::ok("text/html; charset=utf-8", recorded("gdelt/error.html")),
    );
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &config(&format!(
            "\n[[source]]\nname = \"gdelt\"\ntype = \"gdelt\"\nurl = \"{}\"\nquery = \"the\"\n",
            server.url("")
        )),
    );
    let crawl = mentions(&config, &["crawl"]).await;
    assert_eq!(crawl.code, 1, "{crawl:?}");
    assert!(
        crawl.stdout.trim().ends_with(
            ": GDELT answered with text, not JSON: \"Your search contained a keyword that appears too commonly in the GDELT database to search for.\""
        ),
        "{}",
        crawl.stdout
    );
    let sources = mentions(&config, &["sources", "--format", "json"]).await;
    assert!(
        sources.stdout.contains("appears too commonly"),
        "{}",
        sources.stdout
    );
}

/// The publisher's own feed, on the test server's first host.
fn publisher_feed(a: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Beispiel-Zeitung – Politik</title><link>{a}/politik/</link><language>de</language>
<item><title>Nordkorea schickt weitere Soldaten nach Russland</title><link>{a}/politik/soldaten.html?utm_source=rss</link>
<pubDate>Mon, 30 Nov 2026 10:15:00 +0100</pubDate><description>Pjöngjang bestätigt die Verlegung von 3000 weiteren Soldaten in die Region Kursk.</description></item>
<item><title>Putin empfängt Kim in Moskau</title><link>{a}/politik/gipfel.html</link>
<pubDate>Sun, 29 Nov 2026 12:00:00 +0100</pubDate><description>Der Kreml spricht von einem Besuch unter Freunden.</description></item>
</channel></rss>"#
    )
}

/// A publisher with a feed, and Google News listing one of its articles
/// among others'.
async fn publisher_and_google_news() -> (TestServer, String) {
    let server = TestServer::start().await;
    let (a, b) = (server.url(""), server.url_as_localhost(""));
    server.route("/robots.txt", Route::status(404));
    server.route(
        "/politik/rss.xml",
        Route::ok("application/rss+xml; charset=utf-8", publisher_feed(&a)),
    );
    server.route(
        "/rss/search",
        Route::ok(
            "application/xml; charset=utf-8",
            fixture("googlenews.xml", &a, &b),
        ),
    );
    let config = config(&format!(
        r#"
[[source]]
name = "beispiel-politik"
type = "feed"
url = "{a}/politik/rss.xml"

[[source]]
name = "google-news"
type = "googlenews"
url = "{a}"
# The recorded items are from November 2026; keep them in reach whenever the test runs.
lookback = "36500d"
"#
    ));
    (server, config)
}

/// The report every order of crawls must come to: the shared story once,
/// under the publisher.
async fn assert_one_story_per_publisher(config: &Path) {
    let mut args = vec!["report", "--format", "json", "--topic", "nk-ru"];
    args.extend(WINDOW);
    let report = mentions(config, &args).await.json();
    assert_eq!(
        report["counts"],
        serde_json::json!({"web": 4, "social": 0, "forum": 0}),
        "{report:#}"
    );
    assert_eq!(
        report["references"],
        serde_json::json!([
            {"domain": "127.0.0.1", "mentions": 2},
            {"domain": "localhost", "mentions": 1},
            {"domain": "www.tagesschau.de", "mentions": 1}
        ])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_publishers_feed_first_then_google_news() {
    let (_server, text) = publisher_and_google_news().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &text);
    let feed = mentions(&config, &["crawl", "--source", "beispiel-politik"]).await;
    assert_eq!(
        feed.stdout.trim(),
        "beispiel-politik: 2 new, 0 already counted, 2 items read",
        "{feed:?}"
    );
    let google = mentions(&config, &["crawl", "--source", "google-news"]).await;
    assert_eq!(
        google.stdout.trim(),
        "google-news: 2 new, 1 already counted, 3 items read",
        "{google:?}"
    );
    assert_one_story_per_publisher(&config).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn google_news_first_then_the_publishers_feed() {
    let (_server, text) = publisher_and_google_news().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &text);
    let google = mentions(&config, &["crawl", "--source", "google-news"]).await;
    assert_eq!(
        google.stdout.trim(),
        "google-news: 3 new, 0 already counted, 3 items read",
        "{google:?}"
    );
    let feed = mentions(&config, &["crawl", "--source", "beispiel-politik"]).await;
    assert_eq!(
        feed.stdout.trim(),
        "beispiel-politik: 1 new, 1 already counted, 2 items read",
        "{feed:?}"
    );
    assert_one_story_per_publisher(&config).await;
    // Both at once, in one pass: still one story per publisher.
    let again = mentions(&config, &["crawl"]).await;
    assert_eq!(again.code, 0, "{again:?}");
    assert_one_story_per_publisher(&config).await;
}
