//! Mastodon and Lemmy end to end: two Mastodon instances and two Lemmy
//! instances that share federated copies, boosts, Link paging, an access
//! token, and a 429 and a 502 on the way; every status, post and comment is
//! counted once.

use crate::mentions;
use crate::server::{Route, TestServer};
use crate::write_config;
use std::path::Path;

const QUERY: &str =
    r#"(nordkorea* OR "north korea") AND (russland* OR russia* OR putin OR kursk) NOT fußball"#;
const TOKEN: &str = "b-token-4f1c9e";
const JSON: &str = "application/json; charset=utf-8";

fn fixture(path: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn source<'a>(report: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    report["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no source {name} in {report}"))
}

fn statuses(server: &TestServer, path: &str) -> Vec<u16> {
    server.requests_to(path).iter().map(|l| l.status).collect()
}

const TAG: &str = "/api/v1/timelines/tag/nordkorea";

/// Instance A: `#nordkorea` in two pages linked by `Link`, page 2 first
/// answering 429 with `Retry-After: 1`; rate-limit headers as Mastodon sends them.
fn serve_mastodon_a(a: &TestServer) {
    let next = format!(
        "<{}>; rel=\"next\", <{}>; rel=\"prev\"",
        a.url(&format!("{TAG}?limit=40&max_id=113499000000000555")),
        a.url(&format!("{TAG}?limit=40&min_id=113500000000000001"))
    );
    a.route(
        TAG,
        Route::ok(JSON, fixture("mastodon/a-tag-nordkorea-1.json"))
            .with_header("link", &next)
            .with_header("x-ratelimit-limit", "300")
            .with_header("x-ratelimit-remaining", "298")
            .with_header("x-ratelimit-reset", "2099-01-01T00:00:00.000Z"),
    );
    a.route(
        &format!("{TAG}?limit=40&max_id=113499000000000555"),
        Route::ok(JSON, fixture("mastodon/a-tag-nordkorea-2.json"))
            .with_header(
                "link",
                &format!(
                    "<{}>; rel=\"prev\"",
                    a.url(&format!("{TAG}?limit=40&min_id=113500000000000900"))
                ),
            )
            .fail_first(429, &[("retry-after", "1")]),
    );
}

/// Instance B (with a token): `#nordkorea` in two pages, and one search
/// answer for every term.
fn serve_mastodon_b(b: &TestServer) {
    let next = format!(
        "<{}>; rel=\"next\"",
        b.url(&format!("{TAG}?limit=40&max_id=113500000000000444"))
    );
    b.route(
        TAG,
        Route::ok(JSON, fixture("mastodon/b-tag-nordkorea-1.json")).with_header("link", &next),
    );
    b.route(
        &format!("{TAG}?limit=40&max_id=113500000000000444"),
        Route::ok(JSON, fixture("mastodon/b-tag-nordkorea-2.json")),
    );
    b.route(
        "/api/v2/search",
        Route::ok(JSON, fixture("mastodon/b-search.json")),
    );
}

const LEMMY_SEARCH: &str =
    "/api/v3/search?q=nordkorea&type_=All&listing_type=All&sort=New&page=1&limit=50";

fn config(ma: &str, mb: &str, la: &str, lb: &str) -> String {
    format!(
        r##"
[database]
path = "mentions.db"

[crawler]
user_agent = "mentions-test/1.0 (+https://example.org/bot)"
timeout = "5s"
retries = 2

[[topic]]
name = "nk-ru"
query = '{QUERY}'

[[source]]
name = "masto-a"
type = "mastodon"
url = "{ma}"
hashtags = ["#nordkorea"]
lookback = "36500d"

[[source]]
name = "masto-b"
type = "mastodon"
url = "{mb}"
hashtags = ["nordkorea"]
access_token = "{TOKEN}"
lookback = "36500d"

[[source]]
name = "lemmy-a"
type = "lemmy"
url = "{la}"
search = "nordkorea"
lookback = "36500d"

[[source]]
name = "lemmy-b"
type = "lemmy"
url = "{lb}"
search = "nordkorea"
lookback = "36500d"
"##
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fediverse_copies_boosts_and_comments_count_once() {
    let (ma, mb, la, lb) = (
        TestServer::start().await,
        TestServer::start().await,
        TestServer::start().await,
        TestServer::start().await,
    );
    serve_mastodon_a(&ma);
    serve_mastodon_b(&mb);
    la.route(
        LEMMY_SEARCH,
        Route::ok(JSON, fixture("lemmy/l1-search-nordkorea.json")).fail_first(502, &[]),
    );
    lb.route(
        LEMMY_SEARCH,
        Route::ok(JSON, fixture("lemmy/l2-search-nordkorea.json")),
    );
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &config(&ma.url(""), &mb.url(""), &la.url("/"), &lb.url("")),
    );

    // The A instances first, so that which source stored a shared item first is fixed.
    let first = mentions(
        &config,
        &["crawl", "--source", "masto-a", "--source", "lemmy-a"],
    )
    .await;
    assert_eq!(first.code, 0, "{first:?}");
    let all = mentions(&config, &["crawl"]).await;
    assert_eq!(all.code, 0, "{all:?}");
    for run in [&first, &all] {
        assert!(!run.stdout.contains(TOKEN) && !run.stderr.contains(TOKEN));
    }

    let mut args = vec!["report", "--topic", "nk-ru", "--format", "json"];
    args.extend(crate::ALL_TIME);
    let report = mentions(&config, &args).await.json();
    // Social: alice's status (only `#<span>Nordkorea</span>` names the country), bob's
    // (boosted on A and seen directly on A and B), dave's (on A and B), erin's (content
    // warning "Nordkorea, Russland"), frank's (B's page 2), ida's (only boosted, on B's
    // page 2), grace's (only in B's search).
    // karl's status is about football. Forum: post 4711 and 9001 (each on both instances)
    // and comment 555; comment 93012 (on both) names no topic words itself — a comment
    // counts on its own words, not its post's title — and the football post and its
    // comment do not match.
    assert_eq!(
        report["counts"],
        serde_json::json!({"web": 0, "social": 7, "forum": 3}),
        "{report:#}"
    );
    assert_eq!(report["total"], 10);
    assert_eq!(source(&report, "masto-a")["mentions"], 3);
    assert_eq!(source(&report, "masto-b")["mentions"], 4);
    assert_eq!(source(&report, "lemmy-a")["mentions"], 2);
    assert_eq!(source(&report, "lemmy-b")["mentions"], 1);
    for s in report["sources"].as_array().unwrap() {
        assert!(s["last_error"].is_null(), "{s}");
    }

    // A: page 1 on both crawls; page 2 once, after a 429. No token, no search.
    let a_targets: Vec<String> = ma.log().iter().map(|l| l.target.clone()).collect();
    assert_eq!(
        a_targets,
        [
            "/api/v1/timelines/tag/nordkorea?limit=40",
            "/api/v1/timelines/tag/nordkorea?limit=40&max_id=113499000000000555",
            "/api/v1/timelines/tag/nordkorea?limit=40&max_id=113499000000000555",
            // The second crawl: page 1 brings nothing new, so page 2 is not asked for.
            "/api/v1/timelines/tag/nordkorea?limit=40",
        ]
    );
    assert_eq!(statuses(&ma, TAG), [200, 429, 200, 200]);
    assert!(ma
        .log()
        .iter()
        .all(|l| l.headers.get("authorization").is_none()));

    // B: two timeline pages, then one search per positive term, all with the token.
    let b_targets: Vec<String> = mb.log().iter().map(|l| l.target.clone()).collect();
    assert_eq!(
        b_targets,
        [
            "/api/v1/timelines/tag/nordkorea?limit=40",
            "/api/v1/timelines/tag/nordkorea?limit=40&max_id=113500000000000444",
            "/api/v2/search?q=nordkorea&type=statuses&limit=40",
            "/api/v2/search?q=%22north+korea%22&type=statuses&limit=40",
            "/api/v2/search?q=russland&type=statuses&limit=40",
            "/api/v2/search?q=russia&type=statuses&limit=40",
            "/api/v2/search?q=putin&type=statuses&limit=40",
            "/api/v2/search?q=kursk&type=statuses&limit=40",
        ]
    );
    let bearer = format!("Bearer {TOKEN}");
    assert!(mb
        .log()
        .iter()
        .all(|l| l.headers.get("authorization").unwrap() == bearer.as_str()));

    // Lemmy A: a 502, then the page (and the page again on the second crawl); B once.
    assert_eq!(statuses(&la, "/api/v3/search"), [502, 200, 200]);
    assert_eq!(statuses(&lb, "/api/v3/search"), [200]);
    assert_eq!(la.log()[0].target, LEMMY_SEARCH);

    // Crawling again changes nothing.
    let again = mentions(&config, &["crawl"]).await;
    assert_eq!(again.code, 0, "{again:?}");
    let report2 = mentions(&config, &args).await.json();
    assert_eq!(report2["counts"], report["counts"]);
    assert_eq!(report2["total"], 10);
}
