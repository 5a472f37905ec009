//! Finding sources: OPML out of one config and into another, and
//! `discover` against local sites.

use crate::server::{Route, TestServer};
use crate::{fixture, mentions, write_config};

const TOPIC: &str = "[[topic]]\nname = \"nk\"\nquery = 'nordkorea AND russland'\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opml_round_trip_between_two_configs() {
    let from = tempfile::tempdir().unwrap();
    let exported = write_config(
        from.path(),
        &format!(
            r#"{TOPIC}
[[source]]
name = "sueddeutsche-politik"
type = "feed"
url = "https://rss.sueddeutsche.de/rss/Politik"

[[source]]
name = "merkur-politik"
type = "feed"
url = "https://www.merkur.de/politik/rssfeed.rdf"

[[source]]
name = "news-sitemap"
type = "sitemap"
url = "https://www.merkur.de/news-sitemap.xml"

[[source]]
name = "hn"
type = "hackernews"
"#
        ),
    );
    // Only the config is read: no database is needed, none is made.
    let opml = mentions(&exported, &["sources", "--format", "opml"]).await;
    assert_eq!(opml.code, 0, "{opml:?}");
    assert!(!from.path().join("mentions.db").exists());
    assert!(
        opml.stdout
            .starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<opml version=\"2.0\">"),
        "{}",
        opml.stdout
    );
    assert_eq!(opml.stdout.matches("<outline ").count(), 2, "feeds only");

    let to = tempfile::tempdir().unwrap();
    let existing = format!(
        r#"{TOPIC}
[[source]]
name = "sueddeutsche-politik"
type = "feed"
url = "https://rss.sueddeutsche.de/rss/Topthemen"

[[source]]
name = "merkur"
type = "feed"
url = "https://www.merkur.de/politik/rssfeed.rdf"
"#
    );
    let config = write_config(to.path(), &existing);
    let file = to.path().join("abos.opml");
    std::fs::write(&file, &opml.stdout).unwrap();
    let imported = mentions(&config, &["import", file.to_str().unwrap()]).await;
    assert_eq!(imported.code, 0, "{imported:?}");
    let blocks = imported.stdout;
    assert!(
        blocks.contains(
            "# sueddeutsche-politik\n[[source]]\nname = \"sueddeutsche-politik-2\"\ntype = \"feed\"\nurl = \"https://rss.sueddeutsche.de/rss/Politik\"\n"
        ),
        "{blocks}"
    );
    assert!(
        blocks.contains("is already configured as source \"merkur\""),
        "{blocks}"
    );
    // Appended, the blocks make a valid config with one more source.
    std::fs::write(&config, format!("{existing}\n{blocks}")).unwrap();
    let check = mentions(&config, &["check"]).await;
    assert_eq!(check.code, 0, "{check:?}");
    assert!(
        check.stdout.contains("sueddeutsche-politik-2"),
        "{}",
        check.stdout
    );

    let missing = mentions(&config, &["import", "nirgends.opml"]).await;
    assert_eq!(missing.code, 2, "{missing:?}");
    assert!(
        missing.stderr.contains("cannot read nirgends.opml"),
        "{}",
        missing.stderr
    );
    std::fs::write(&file, "<rss version=\"2.0\"><channel/></rss>").unwrap();
    let not_opml = mentions(&config, &["import", file.to_str().unwrap()]).await;
    assert_eq!(not_opml.code, 2, "{not_opml:?}");
    assert!(
        not_opml
            .stderr
            .contains("is not an OPML file: the root element is <rss>, not <opml>"),
        "{}",
        not_opml.stderr
    );
}

fn rss(a: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Beispiel-Zeitung – Politik</title><link>{a}/politik/</link>
<item><title>Nordkorea schickt weitere Soldaten nach Russland</title><link>{a}/politik/soldaten.html</link><pubDate>Mon, 30 Nov 2026 10:15:00 +0100</pubDate></item>
<item><title>Putin empfängt Kim in Moskau</title><link>{a}/politik/gipfel.html</link><pubDate>Sun, 29 Nov 2026 12:00:00 +0100</pubDate></item>
<item><title>Ohne Datum</title><link>{a}/politik/ohne.html</link></item>
</channel></rss>"#
    )
}

const ATOM: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Beispiel-Zeitung</title><id>urn:beispiel</id><updated>2026-11-30T08:00:00Z</updated>
<entry><title>Kursk: Die Lage am Morgen</title><id>urn:beispiel:1</id><link href="/kursk-lage.html"/><updated>2026-11-30T08:00:00Z</updated></entry>
</feed>"#;

const PLAIN_PAGE: &str = "<!doctype html><html><head><title>Lokalblatt</title></head><body><h1>Lokalblatt</h1></body></html>";

fn discover_config(dir: &std::path::Path, private: bool) -> std::path::PathBuf {
    write_config(
        dir,
        &format!(
            "[crawler]\nuser_agent = \"mentions-test/1.0\"\ntimeout = \"5s\"\nretries = 0\nallow_private_networks = {private}\n\n{TOPIC}\n\
             [[source]]\nname = \"beispiel-zeitung-politik\"\ntype = \"feed\"\nurl = \"https://example.org/feed\"\n"
        ),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discover_reads_what_sites_announce_then_common_paths_then_sitemaps() {
    // A newspaper that announces its feeds and names sitemaps in robots.txt.
    let paper = TestServer::start().await;
    let a = paper.url("");
    paper.route(
        "/",
        Route::ok(
            "text/html; charset=utf-8",
            format!(
                r#"<!doctype html><html><head><title>Beispiel-Zeitung</title>
<link rel="alternate" type="application/rss+xml" title="Beispiel-Zeitung – Politik" href="/politik/rss.xml">
<link rel="alternate" type="application/atom+xml" href="{a}/atom.xml">
<link rel="alternate" type="application/rss+xml" title="Kaputt" href="/kaputt.xml">
<link rel="alternate" type="application/rss+xml" title="Intern" href="/intern/rss.xml">
</head><body><h1>Beispiel-Zeitung</h1></body></html>"#
            ),
        ),
    );
    paper.route(
        "/politik/rss.xml",
        Route::ok("application/rss+xml", rss(&a)),
    );
    paper.route("/atom.xml", Route::ok("application/atom+xml", ATOM));
    paper.route("/kaputt.xml", Route::ok("text/html", PLAIN_PAGE));
    paper.route("/intern/rss.xml", Route::ok("application/rss+xml", rss(&a)));
    paper.route(
        "/robots.txt",
        Route::ok(
            "text/plain",
            format!("User-agent: *\nDisallow: /intern/\n\nSitemap: {a}/sitemap.xml\nSitemap: {a}/news-sitemap.xml\n"),
        ),
    );
    paper.route(
        "/sitemap.xml",
        Route::ok(
            "application/xml",
            format!(
                r#"<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>{a}/sitemap-2026-10.xml</loc><lastmod>2026-10-31</lastmod></sitemap>
<sitemap><loc>{a}/sitemap-2026-11.xml</loc><lastmod>2026-11-30</lastmod></sitemap>
</sitemapindex>"#
            ),
        ),
    );
    paper.route(
        "/sitemap-2026-11.xml",
        Route::ok(
            "application/xml",
            format!(
                r#"<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>{a}/politik/soldaten.html</loc><lastmod>2026-11-30T09:20:00Z</lastmod></url>
<url><loc>{a}/politik/gipfel.html</loc><lastmod>2026-11-29T11:05:00Z</lastmod></url>
</urlset>"#
            ),
        ),
    );
    paper.route(
        "/news-sitemap.xml",
        Route::ok("application/xml", fixture("news-sitemap.xml", &a, &a)),
    );

    // A blog that announces nothing but keeps its feed at a common path.
    let blog = TestServer::start().await;
    let b = blog.url("");
    blog.route("/", Route::ok("text/html", PLAIN_PAGE));
    blog.route("/feed", Route::status(404));
    blog.route("/rss", Route::ok("text/html", PLAIN_PAGE));
    blog.route("/rss.xml", Route::ok("application/rss+xml", rss(&b)));
    blog.route("/feed.xml", Route::ok("application/rss+xml", rss(&b)));
    blog.route("/robots.txt", Route::status(404));

    // A site with nothing to offer, and one that shuts robots out.
    let empty = TestServer::start().await;
    empty.route("/", Route::ok("text/html", PLAIN_PAGE));
    let closed = TestServer::start().await;
    closed.route(
        "/robots.txt",
        Route::ok("text/plain", "User-agent: *\nDisallow: /\n"),
    );
    closed.route("/", Route::ok("text/html", PLAIN_PAGE));

    let dir = tempfile::tempdir().unwrap();
    let config = discover_config(dir.path(), true);
    let run = mentions(
        &config,
        &[
            "discover",
            &format!("{a}/"),
            &b,
            &empty.url("/"),
            &closed.url("/start"),
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{run:?}");
    let (e, c) = (empty.url(""), closed.url(""));
    let expected = format!(
        r#"# Found at {a}/:
# {a}/kaputt.xml is announced as a feed but is not one that can be read
# robots.txt of 127.0.0.1 disallows {a}/intern/rss.xml

# RSS 2.0 feed: 3 items, newest 2026-11-30 09:15 UTC
[[source]]
name = "beispiel-zeitung-politik-2"
type = "feed"
url = "{a}/politik/rss.xml"

# Atom feed: 1 item, newest 2026-11-30 08:00 UTC
[[source]]
name = "beispiel-zeitung"
type = "feed"
url = "{a}/atom.xml"

# news sitemap: 3 URLs, newest 2026-11-24 11:10 UTC
[[source]]
name = "127-0-0-1-news-sitemap"
type = "sitemap"
url = "{a}/news-sitemap.xml"

# sitemap index of 2 sitemaps; the newest is a sitemap: 2 URLs, newest 2026-11-30 09:20 UTC
[[source]]
name = "127-0-0-1-sitemap"
type = "sitemap"
url = "{a}/sitemap.xml"

# Found at {b}/:

# RSS 2.0 feed: 3 items, newest 2026-11-30 09:15 UTC
[[source]]
name = "lokalblatt"
type = "feed"
url = "{b}/rss.xml"

# Found no feeds or sitemaps at {e}/.

# Found no feeds or sitemaps at {c}/start.
# robots.txt of 127.0.0.1 disallows {c}/start

"#,
    );
    assert_eq!(run.stdout, expected);
    // Common paths stop at the first feed; robots.txt shut the closed site's paths too.
    assert!(blog.requests_to("/feed.xml").is_empty());
    assert!(closed.requests_to("/feed").is_empty());
    assert!(paper.requests_to("/intern/rss.xml").is_empty());
    // The blocks are ready to append.
    let parsed: toml::Table = toml::from_str(&run.stdout).unwrap();
    assert_eq!(parsed["source"].as_array().unwrap().len(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discover_keeps_to_public_addresses_unless_allowed() {
    let site = TestServer::start().await;
    site.route("/", Route::ok("text/html", PLAIN_PAGE));
    let dir = tempfile::tempdir().unwrap();
    let config = discover_config(dir.path(), false);
    let run = mentions(&config, &["discover", &site.url("/")]).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout
            .contains("127.0.0.1 is a private or local address"),
        "{}",
        run.stdout
    );
    assert!(site.log().is_empty(), "nothing was fetched");
    assert!(
        run.stderr.contains("private or local address"),
        "{}",
        run.stderr
    );
    let typo = mentions(&config, &["discover", "mailto:redaktion@example.org"]).await;
    assert_eq!(typo.code, 2, "{typo:?}");
    assert!(
        typo.stderr.contains("is not a web address"),
        "{}",
        typo.stderr
    );
}
