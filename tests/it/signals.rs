//! What a crawl says about what it could not read: a document that yields
//! fewer items than it holds (or none) is a warning on the crawl line and in
//! `mentions sources`, never a silent zero; dates a forum writes relative to
//! now are read against the fetch time in `[crawler] timezone`; and a date
//! that cannot be read is logged once per source while the process runs.

use crate::server::{Route, TestServer};
use crate::write_config;
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Timelike, Utc};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

/// A secret in one source's URL, echoed by the site in its pagination.
const LIST_KEY: &str = "lk-Q7zXsecret";

/// Runs the binary with `LIST_KEY` in its environment.
fn run(config: &Path, args: &[&str]) -> crate::Run {
    let out = Command::new(env!("CARGO_BIN_EXE_mentions"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env("RUST_LOG", "mentions=info")
        .env_remove("MENTIONS_CONFIG")
        .env("NO_PROXY", "*")
        .env("LIST_KEY", LIST_KEY)
        .output()
        .expect("the mentions binary runs");
    crate::Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

async fn mentions(config: &Path, args: &[&str]) -> crate::Run {
    let (config, args) = (
        config.to_owned(),
        args.iter().map(|a| (*a).to_owned()).collect::<Vec<_>>(),
    );
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run(&config, &args)
    })
    .await
    .unwrap()
}

fn rss(items: &str) -> String {
    format!("<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\"><channel><title>t</title><link>http://example.org/</link><description>d</description>\n{items}</channel></rss>")
}

/// Titles different enough not to be one mention (same-host SimHash rule).
const TITLES: [&str; 4] = [
    "Nordkorea schickt weitere Soldaten nach Russland",
    "Russland liefert Öl an Nordkorea, berichten Satellitenbilder",
    "Kim Jong Un empfängt Lawrow: Nordkorea und Russland vertiefen Bündnis",
    "Ukraine meldet Granaten aus Nordkorea an der Front in Russland",
];

fn item(base: &str, n: usize, date: &str) -> String {
    format!(
        "<item><title>{}</title><link>{base}/news/{n}.html</link><pubDate>{date}</pubDate></item>\n",
        TITLES[n % TITLES.len()]
    )
}

fn header(extra: &str) -> String {
    format!(
        "[database]\npath = \"m.db\"\n\n[crawler]\nuser_agent = \"mentions-test/1.0\"\ntimeout = \"5s\"\nretries = 0\n{extra}\n[[topic]]\nname = \"nk\"\nquery = \"nordkorea AND russland\"\n"
    )
}

fn source(name: &str, kind: &str, url: &str, more: &str) -> String {
    format!("\n[[source]]\nname = \"{name}\"\ntype = \"{kind}\"\nurl = \"{url}\"\n{more}")
}

/// `name` → the source's object in `sources --format json`.
fn sources(config: &Path) -> serde_json::Value {
    let out = run(config, &["sources", "--format", "json"]);
    assert_eq!(out.code, 0, "{out:?}");
    out.json()
}

fn source_row<'a>(all: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    all.as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no source {name} in {all}"))
}

#[tokio::test]
async fn a_document_read_short_is_a_warning_on_the_crawl_line_and_in_sources() {
    let server = TestServer::start().await;
    let a = server.url("");
    server.route("/robots.txt", Route::status(404));
    let date = "Tue, 24 Nov 2026 10:00:00 +0000";
    // Three items, none with a title or text: nothing to count.
    server.route(
        "/leer.xml",
        Route::ok(
            "application/rss+xml",
            rss(&format!(
                "<item><link>{a}/x/1</link></item><item><link>{a}/x/2</link></item><item><link>{a}/x/3</link></item>"
            )),
        )
        .with_etag("\"leer-1\""),
    );
    // Two good items and one cut off: the download ends inside it.
    server.route(
        "/kaputt.xml",
        Route::ok(
            "application/rss+xml",
            rss(&format!(
                "{}{}<item><title>Nordkorea und Russland: abgeschnitten</title>\n",
                item(&a, 1, date),
                item(&a, 2, date)
            )),
        ),
    );
    // A listing page whose markup changed: `item` matches nothing.
    let redesigned = "<html><body><div class=\"neu\"><h2><a href=\"/n/1\">Nordkorea und Russland</a></h2></div></body></html>";
    server.route(
        "/liste.html",
        Route::ok("text/html; charset=utf-8", redesigned),
    );
    // A listing whose second page (linked with the key) has entries without links.
    server.route(
        &format!("/forum.html?key={LIST_KEY}"),
        Route::ok(
            "text/html; charset=utf-8",
            format!("<html><body><ul><li class=\"e\"><a href=\"/t/1\">Nordkorea und Russland: eins</a></li></ul><a class=\"next\" href=\"/forum.html?key={LIST_KEY}&amp;page=2\">weiter</a></body></html>"),
        ),
    );
    server.route(
        &format!("/forum.html?key={LIST_KEY}&page=2"),
        Route::ok(
            "text/html; charset=utf-8",
            "<html><body><ul><li class=\"e\"><a href=\"/t/2\">Nordkorea und Russland: zwei</a></li><li class=\"e\"><span>Nordkorea und Russland: drei</span></li><li class=\"e\"><span>Nordkorea und Russland: vier</span></li></ul></body></html>",
        ),
    );
    server.route(
        "/sitemap.xml",
        Route::ok(
            "application/xml",
            "<?xml version=\"1.0\"?><urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\"></urlset>",
        ),
    );
    let dir = tempfile::tempdir().unwrap();
    let mut text = header("");
    text += &source("leer", "feed", &server.url("/leer.xml"), "");
    text += &source("kaputt", "feed", &server.url("/kaputt.xml"), "");
    text += &source(
        "liste",
        "html",
        &server.url("/liste.html"),
        "item = \"article.teaser\"\ntitle = \"h2\"\nlink = \"h2 a\"\n",
    );
    text += &source(
        "forum",
        "html",
        &server.url("/forum.html?key=${LIST_KEY}"),
        "item = \"li.e\"\ntitle = \"a, span\"\nlink = \"a\"\nnext = \"a.next\"\nmax_pages = 2\n",
    );
    text += &source("karte", "sitemap", &server.url("/sitemap.xml"), "");
    let config = write_config(dir.path(), &text);

    let out = mentions(&config, &["crawl"]).await;
    assert_eq!(out.code, 0, "warnings are not failures: {out:?}");
    let lines: Vec<&str> = out.stdout.lines().collect();
    let forum_page_2 = format!("{a}/forum.html?key=***&page=2");
    assert_eq!(
        lines,
        [
            "leer: 0 new, 0 already counted, 0 items read; WARNING: none of the 3 items has a title or text".to_owned(),
            "kaputt: 2 new, 0 already counted, 2 items read; WARNING: 1 of 3 items could not be read: ill-formed document: expected `</item>`, but `</channel>` was found".to_owned(),
            format!("liste: 0 new, 0 already counted, 0 items read; WARNING: the `item` selector matches nothing on the page ({} bytes); check the source's selectors", redesigned.len()),
            format!("forum: 2 new, 0 already counted, 2 items read; WARNING: 2 of 3 entries skipped on {forum_page_2} (2 no link)"),
            "karte: 0 new, 0 already counted, 0 items read; WARNING: the sitemap lists no URLs".to_owned(),
        ],
        "{}",
        out.stderr
    );
    let all = sources(&config);
    for (name, line) in ["leer", "kaputt", "liste", "forum", "karte"]
        .iter()
        .zip(&lines)
    {
        let row = source_row(&all, name);
        let warning = line.split_once("; WARNING: ").unwrap().1;
        assert_eq!(row["last_warning"], warning, "{row}");
        assert!(row["last_error"].is_null(), "{row}");
    }
    // The key is not in the database: the warning was stored masked.
    let stored = std::fs::read(dir.path().join("m.db")).unwrap();
    assert!(
        !String::from_utf8_lossy(&stored).contains("Q7zX"),
        "the key is in the database"
    );
    let table = run(&config, &["sources"]);
    let header_line = table.stdout.lines().next().unwrap();
    assert!(
        header_line.ends_with("\tmentions\tlast_warning\tnode"),
        "{header_line}"
    );

    // A 304 re-reads nothing: the warning still holds. A clean read clears it.
    server.route(
        "/kaputt.xml",
        Route::ok(
            "application/rss+xml",
            rss(&(item(&a, 1, date) + &item(&a, 2, date))),
        ),
    );
    let out = mentions(
        &config,
        &["crawl", "--source", "leer", "--source", "kaputt"],
    )
    .await;
    assert_eq!(
        out.stdout, "leer: not modified\nkaputt: 0 new, 2 already counted, 2 items read\n",
        "{}",
        out.stderr
    );
    let all = sources(&config);
    assert_eq!(
        source_row(&all, "leer")["last_warning"],
        "none of the 3 items has a title or text"
    );
    assert!(source_row(&all, "kaputt")["last_warning"].is_null());
}

/// A zone where it is 15:xx now, so that the listing's "heute, 09:15" is
/// past and "gestern" is a whole day back whatever hour the test runs, and
/// the crawl does not cross midnight there.
fn afternoon_zone(now: DateTime<Utc>) -> (chrono_tz::Tz, String) {
    let mut east = 15 - now.hour() as i32;
    if east > 14 {
        east -= 24;
    }
    // IANA's Etc/GMT zones count the other way round.
    let name = match east {
        0 => "Etc/GMT".to_owned(),
        e if e > 0 => format!("Etc/GMT-{e}"),
        e => format!("Etc/GMT+{}", -e),
    };
    (name.parse().unwrap(), name)
}

#[tokio::test]
async fn a_forum_listing_is_read_against_the_fetch_time_in_the_configured_zone() {
    let server = TestServer::start().await;
    server.route("/robots.txt", Route::status(404));
    server.route(
        "/forum/neu.html",
        Route::ok(
            "text/html; charset=utf-8",
            r#"<!DOCTYPE html><html lang="de"><body><div class="topiclist">
<div class="row"><a class="topictitle" href="/forum/t/1">Nordkorea schickt Soldaten nach Russland</a><span class="zeit">vor 3 Stunden</span></div>
<div class="row"><a class="topictitle" href="/forum/t/2">Nordkorea und Russland: Treffen in Moskau</a><span class="zeit">gestern, 14:30</span></div>
<div class="row"><a class="topictitle" href="/forum/t/3">Nordkorea liefert Granaten an Russland</a><span class="zeit">heute, 09:15</span></div>
<div class="row"><a class="topictitle" href="/forum/t/4">Russland und Nordkorea: Archiv</a><span class="zeit">12. März 2025</span></div>
</div></body></html>"#,
        ),
    );
    let before = Utc::now();
    let (tz, zone) = afternoon_zone(before);
    let dir = tempfile::tempdir().unwrap();
    let mut text = header(&format!("timezone = \"{zone}\"\n"));
    text += &source(
        "forum-neu",
        "html",
        &server.url("/forum/neu.html"),
        "kind = \"forum\"\nitem = \".topiclist .row\"\ntitle = \"a.topictitle\"\nlink = \"a.topictitle\"\ndate = \".zeit\"\n",
    );
    let config = write_config(dir.path(), &text);
    let out = mentions(&config, &["crawl"]).await;
    let after = Utc::now();
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        out.stdout,
        "forum-neu: 4 new, 0 already counted, 4 items read\n"
    );
    assert!(
        !out.stderr.contains("cannot read the date"),
        "{}",
        out.stderr
    );

    let conn = rusqlite::Connection::open(dir.path().join("m.db")).unwrap();
    let mut stmt = conn
        .prepare("SELECT identity, at, published_at FROM mention ORDER BY identity")
        .unwrap();
    let rows: Vec<(String, i64, Option<i64>)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let ats: Vec<i64> = rows.iter().map(|r| r.1).collect();
    assert!(
        rows.iter()
            .all(|(_, at, published)| Some(*at) == *published),
        "every date was read: {rows:?}"
    );
    let today = before.with_timezone(&tz).date_naive();
    assert_eq!(today, after.with_timezone(&tz).date_naive());
    let local = |date: NaiveDate, h: u32, m: u32| {
        tz.from_local_datetime(&date.and_hms_opt(h, m, 0).unwrap())
            .unwrap()
            .timestamp()
    };
    // "vor 3 Stunden": three hours before the page was fetched, which was
    // during the crawl.
    let three_hours = Duration::hours(3);
    assert!(
        (before - three_hours).timestamp() <= ats[0] && ats[0] <= (after - three_hours).timestamp(),
        "{} not within {before} .. {after} minus 3 h",
        ats[0]
    );
    assert_eq!(
        ats[1..],
        [
            local(today.pred_opt().unwrap(), 14, 30),
            local(today, 9, 15),
            local(NaiveDate::from_ymd_opt(2025, 3, 12).unwrap(), 0, 0),
        ],
        "{rows:?} in {zone}"
    );
}

/// Feed items whose dates cannot be read, and one that can.
fn undated_feed(base: &str) -> String {
    rss(&[
        item(base, 0, "nächste Woche"),
        item(base, 1, "Tue, 24 Nov 2026 10:00:00 +0000"),
        item(base, 2, "irgendwann"),
        item(base, 3, "bald"),
    ]
    .concat())
}

fn unread_lines(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.contains("cannot read the date"))
        .collect()
}

#[tokio::test]
async fn an_unreadable_date_is_logged_once_per_source() {
    let server = TestServer::start().await;
    let a = server.url("");
    server.route("/robots.txt", Route::status(404));
    server.route(
        "/undatiert.xml",
        Route::ok("application/rss+xml", undated_feed(&a)),
    );
    server.route(
        "/liste.html",
        Route::ok(
            "text/html; charset=utf-8",
            "<html><body><article><h2><a href=\"/a/1\">Analyse: Was Pjöngjang von Moskau bekommt, Nordkorea und Russland im Überblick</a></h2><time>Coming soon</time></article></body></html>",
        ),
    );
    let dir = tempfile::tempdir().unwrap();
    let mut text = header("schedule = \"*/1 * * * * *\"\n");
    text += &source("undatiert", "feed", &server.url("/undatiert.xml"), "");
    text += &source(
        "liste",
        "html",
        &server.url("/liste.html"),
        "item = \"article\"\ntitle = \"h2\"\nlink = \"h2 a\"\ndate = \"time\"\n",
    );
    let config = write_config(dir.path(), &text);

    let out = mentions(&config, &["crawl"]).await;
    assert_eq!(out.code, 0, "{out:?}");
    let logged = unread_lines(&out.stderr);
    assert_eq!(logged.len(), 2, "{}", out.stderr);
    let feed = logged.iter().find(|l| l.contains("undatiert")).unwrap();
    assert!(
        feed.contains(
            "cannot read the date \"nächste Woche\" (and 2 more items); an item dated so counts as undated when it matches"
        ),
        "{feed}"
    );
    let listing = logged.iter().find(|l| l.contains("liste")).unwrap();
    assert!(
        listing.contains("cannot read the date \"Coming soon\";"),
        "{listing}"
    );
    let report = run(&config, &crate::report_all("nk"));
    assert_eq!(
        report.json()["undated"]["web"],
        4,
        "{}\n{}",
        out.stdout,
        report.stdout
    );

    // The service crawls every second: still one line per source.
    let mut daemon = Command::new(env!("CARGO_BIN_EXE_mentions"))
        .arg("--config")
        .arg(&config)
        .arg("run")
        .env("RUST_LOG", "mentions=info")
        .env("NO_PROXY", "*")
        .env_remove("NOTIFY_SOCKET")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    server.clear_log();
    let started = Instant::now();
    while server.requests_to("/undatiert.xml").len() < 3
        || server.requests_to("/liste.html").len() < 3
    {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "the service did not crawl three times"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    Command::new("kill")
        .args(["-TERM", &daemon.id().to_string()])
        .status()
        .unwrap();
    let stopped = tokio::task::spawn_blocking(move || {
        let status = daemon.wait().unwrap();
        let mut err = String::new();
        use std::io::Read;
        daemon
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        (status, err)
    })
    .await
    .unwrap();
    let (status, stderr) = stopped;
    assert!(status.success(), "{status:?}: {stderr}");
    let logged = unread_lines(&stderr);
    assert_eq!(logged.len(), 2, "{stderr}");
    assert!(
        logged.iter().any(|l| l.contains("\"nächste Woche\"")),
        "{stderr}"
    );
    assert!(
        logged.iter().any(|l| l.contains("\"Coming soon\"")),
        "{stderr}"
    );
}
