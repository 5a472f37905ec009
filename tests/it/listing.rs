//! Seeing what was counted, end to end: two feeds and a forum feed that
//! share articles, and two Mastodon instances that share statuses, crawled
//! by the real binary; then `list` against `report` for whole and partial
//! windows, `explain` of merged mentions and of URLs that are none,
//! `exclude`/`include` moving the counts at once (also for items that
//! arrive later), and `/api/mentions` paging while the daemon crawls.

use crate::server::{Route, TestServer};
use crate::{mentions, write_config, Run};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const QUERY: &str = r#"(nordkorea* OR "north korea" OR pjöngjang) AND (russland* OR russia* OR putin OR kursk OR moskau)"#;
const DAY: (&str, &str) = ("2026-11-24T00:00:00Z", "2026-11-25T00:00:00Z");
/// Starts and ends inside hours: 08:30 to 10:25.
const PARTIAL: (&str, &str) = ("2026-11-24T08:30:00Z", "2026-11-24T10:25:00Z");
const JSON: &str = "application/json; charset=utf-8";

fn item(title: &str, link: &str, date: Option<&str>, text: &str) -> String {
    let date = date
        .map(|d| format!("<pubDate>{d}</pubDate>"))
        .unwrap_or_default();
    format!("<item><title>{title}</title><link>{link}</link>{date}<description>{text}</description></item>\n")
}

fn rss(title: &str, items: &[String]) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rss version=\"2.0\"><channel><title>{title}</title><link>http://example.org/</link><description>x</description>\n{}</channel></rss>",
        items.concat()
    )
}

/// The newspaper's feed: two matching articles (one link with tracking
/// parameters), one that matches nothing, one on the other host that
/// matches both topics, and one without a date.
fn zeitung(a: &str, b: &str, extra: &[String]) -> String {
    let mut items = vec![
        item(
            "Nordkorea liefert Raketen an Russland",
            &format!("{a}/politik/raketen.html?utm_source=rss&amp;utm_medium=feed"),
            Some("Tue, 24 Nov 2026 08:10:00 +0000"),
            "Die Lieferungen gehen weiter.",
        ),
        item(
            "Nordkoreas Kim trifft Putin in Moskau, Raketen im Gepäck",
            &format!("{a}/politik/gipfel.html"),
            Some("Tue, 24 Nov 2026 09:40:00 +0000"),
            "Ein Treffen mit \"Folgen\".",
        ),
        item(
            "Bundestag berät den Haushalt",
            &format!("{a}/politik/haushalt.html"),
            Some("Tue, 24 Nov 2026 10:00:00 +0000"),
            "Die Debatte dauert an.",
        ),
        item(
            "Nordkoreanische Soldaten bei Kursk gesichtet",
            &format!("{b}/ticker/kursk.html"),
            Some("Tue, 24 Nov 2026 10:20:00 +0000"),
            "Berichte aus der Region.",
        ),
        item(
            "Pjöngjang schickt Granaten nach Russland",
            &format!("{a}/politik/granaten.html"),
            None,
            "Ohne Datum.",
        ),
    ];
    items.extend_from_slice(extra);
    rss("Zeitung", &items)
}

/// The agency: the newspaper's two articles in their canonical forms, and
/// one of its own on the other host.
fn agentur(a: &str, b: &str, extra: &[String]) -> String {
    let mut items = vec![
        item(
            "Nordkorea liefert Raketen an Russland",
            &format!("{a}/politik/raketen.html"),
            Some("Tue, 24 Nov 2026 08:12:00 +0000"),
            "Die Lieferungen gehen weiter.",
        ),
        item(
            "Nordkoreas Kim trifft Putin in Moskau, Raketen im Gepäck",
            &format!("{a}/politik/gipfel.html#kommentare"),
            Some("Tue, 24 Nov 2026 09:41:00 +0000"),
            "Ein Treffen mit \"Folgen\".",
        ),
        item(
            "Russland bestätigt Lieferungen aus Nordkorea",
            &format!("{b}/agentur/lieferungen.html"),
            Some("Tue, 24 Nov 2026 11:05:00 +0000"),
            "Moskau äußert sich.",
        ),
    ];
    items.extend_from_slice(extra);
    rss("Agentur", &items)
}

/// A forum's feed, configured as kind forum.
fn forum(a: &str) -> String {
    rss(
        "Forum",
        &[
            item(
                "Nordkorea und Russland: was wissen wir?",
                &format!("{a}/forum/t/1"),
                Some("Tue, 24 Nov 2026 10:30:00 +0000"),
                "Sammelthread.",
            ),
            item(
                "Kursk: Nordkoreas Truppen an der Front",
                &format!("{a}/forum/t/2"),
                Some("Tue, 24 Nov 2026 11:50:00 +0000"),
                "Neue Bilder.",
            ),
        ],
    )
}

fn status(id: &str, user: &str, link: &str, content: &str) -> String {
    format!(
        r#"{{"id":"{id}","created_at":"2026-11-24T10:{min}:00.000Z","in_reply_to_id":null,"sensitive":false,"spoiler_text":"","visibility":"public","language":"de","uri":"https://social.example/users/{user}/statuses/{id}","url":"{link}","replies_count":0,"reblogs_count":0,"favourites_count":0,"edited_at":null,"content":"{content}","reblog":null,"account":{{"id":"{id}0","username":"{user}","acct":"{user}","display_name":"{user}","url":"https://social.example/@{user}"}},"media_attachments":[],"mentions":[],"tags":[],"emojis":[],"card":null,"poll":null}}"#,
        min = &id[id.len() - 2..],
    )
}

/// The statuses as an instance serves them: on social.example itself, or
/// as a federated copy on mastodon.example (another link, the same uri).
fn timeline(home: bool) -> String {
    let link = |user: &str, id: &str| {
        if home {
            format!("https://social.example/@{user}/{id}")
        } else {
            format!("https://mastodon.example/@{user}@social.example/{id}")
        }
    };
    let anna = "11300000000000011";
    let bob = "11300000000000013";
    let carl = "11300000000000014";
    format!(
        "[{},{},{}]",
        status(
            anna,
            "anna",
            &link("anna", anna),
            "<p>Nordkorea schickt weitere Soldaten nach #Russland</p>"
        ),
        status(
            bob,
            "bob",
            &link("bob", bob),
            "<p>Putin dankt #Nordkorea</p>"
        ),
        status(
            carl,
            "carl",
            &link("carl", carl),
            "<p>Nordkorea: Wetter in Pjöngjang heute sonnig</p>"
        ),
    )
}

struct Site {
    web: TestServer,
    masto_a: TestServer,
    masto_b: TestServer,
}

impl Site {
    async fn start() -> Site {
        let site = Site {
            web: TestServer::start().await,
            masto_a: TestServer::start().await,
            masto_b: TestServer::start().await,
        };
        for s in [&site.web, &site.masto_a, &site.masto_b] {
            s.route("/robots.txt", Route::status(404));
        }
        site.serve(&[], &[]);
        site.masto_a.route(
            "/api/v1/timelines/tag/nordkorea",
            Route::ok(JSON, timeline(true)),
        );
        site.masto_b.route(
            "/api/v1/timelines/tag/nordkorea",
            Route::ok(JSON, timeline(false)),
        );
        site
    }

    fn a(&self) -> String {
        self.web.url("")
    }

    fn b(&self) -> String {
        self.web.url_as_localhost("")
    }

    /// Serves the feeds, with `zeitung` and `agentur` extra items.
    fn serve(&self, zeitung_extra: &[String], agentur_extra: &[String]) {
        let (a, b) = (self.a(), self.b());
        let feed = "application/rss+xml; charset=utf-8";
        self.web.route(
            "/zeitung.xml",
            Route::ok(feed, zeitung(&a, &b, zeitung_extra)),
        );
        self.web.route(
            "/agentur.xml",
            Route::ok(feed, agentur(&a, &b, agentur_extra)),
        );
        self.web.route("/forum.xml", Route::ok(feed, forum(&a)));
    }

    fn config(&self, dir: &Path, head: &str) -> std::path::PathBuf {
        let a = self.a();
        write_config(
            dir,
            &format!(
                r##"{head}
[crawler]
user_agent = "mentions-test/1.0 (+https://example.org/bot)"
timeout = "5s"
retries = 0

[[topic]]
name = "nk-ru"
query = '{QUERY}'

[[topic]]
name = "kursk"
query = 'kursk'

[[source]]
name = "zeitung"
type = "feed"
url = "{a}/zeitung.xml"

[[source]]
name = "agentur"
type = "feed"
url = "{a}/agentur.xml"

[[source]]
name = "forum"
type = "feed"
kind = "forum"
url = "{a}/forum.xml"

[[source]]
name = "fedi-a"
type = "mastodon"
url = "{ma}"
hashtags = ["#nordkorea"]
lookback = "36500d"

[[source]]
name = "fedi-b"
type = "mastodon"
url = "{mb}"
hashtags = ["#nordkorea"]
lookback = "36500d"
"##,
                ma = self.masto_a.url(""),
                mb = self.masto_b.url(""),
            ),
        )
    }
}

async fn ok(config: &Path, args: &[&str]) -> Run {
    let run = mentions(config, args).await;
    assert_eq!(run.code, 0, "{args:?}: {run:?}");
    run
}

/// `list --format json` for a topic (or all) and window: its rows.
async fn rows(
    config: &Path,
    topic: Option<&str>,
    window: (&str, &str),
    extra: &[&str],
) -> Vec<Value> {
    let mut args = vec![
        "list", "--format", "json", "--from", window.0, "--to", window.1,
    ];
    if let Some(t) = topic {
        args.extend(["--topic", t]);
    }
    args.extend(extra);
    let out = ok(config, &args).await.json();
    let keys: Vec<&String> = out.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["mentions"], "{out}");
    out["mentions"].as_array().unwrap().clone()
}

/// `report --format json` counts for a topic and window.
async fn counts(config: &Path, topic: &str, window: (&str, &str)) -> Value {
    let report = ok(
        config,
        &[
            "report", "--topic", topic, "--format", "json", "--from", window.0, "--to", window.1,
        ],
    )
    .await
    .json();
    report["counts"].clone()
}

fn per_kind(rows: &[Value]) -> Value {
    let n = |k: &str| rows.iter().filter(|r| r["kind"] == k).count();
    json!({"web": n("web"), "social": n("social"), "forum": n("forum")})
}

fn titles(rows: &[Value]) -> Vec<&str> {
    rows.iter().map(|r| r["title"].as_str().unwrap()).collect()
}

fn row<'a>(rows: &'a [Value], title: &str) -> &'a Value {
    rows.iter()
        .find(|r| r["title"] == title)
        .unwrap_or_else(|| panic!("no row {title:?} in {rows:#?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_explain_and_exclusions_agree_with_the_report() {
    let site = Site::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = site.config(dir.path(), "");
    let (a, b) = (site.a(), site.b());

    // Nothing stored yet: a reading command exits 3.
    let missing = mentions(&config, &["list"]).await;
    assert_eq!(missing.code, 3, "{missing:?}");

    // Instance A first, so that which source stored a shared status first is fixed.
    ok(
        &config,
        &["crawl", "--source", "zeitung", "--source", "fedi-a"],
    )
    .await;
    ok(&config, &["crawl"]).await;

    // Rows per kind equal the report for every topic, whole and partial windows.
    for window in [DAY, PARTIAL] {
        for topic in ["nk-ru", "kursk"] {
            let listed = rows(&config, Some(topic), window, &[]).await;
            assert_eq!(
                per_kind(&listed),
                counts(&config, topic, window).await,
                "{topic} {window:?}: {listed:#?}"
            );
        }
    }
    let day = rows(&config, Some("nk-ru"), DAY, &[]).await;
    // Web: raketen and gipfel (each also from the agency), kursk, lieferungen;
    // social: anna and bob (carl names no partner); forum: both threads. Newest first.
    assert_eq!(
        titles(&day),
        [
            "Kursk: Nordkoreas Truppen an der Front",
            "Russland bestätigt Lieferungen aus Nordkorea",
            "Nordkorea und Russland: was wissen wir?",
            "Nordkoreanische Soldaten bei Kursk gesichtet",
            "Putin dankt #Nordkorea",
            "Nordkorea schickt weitere Soldaten nach #Russland",
            "Nordkoreas Kim trifft Putin in Moskau, Raketen im Gepäck",
            "Nordkorea liefert Raketen an Russland",
        ]
    );
    assert_eq!(per_kind(&day), json!({"web": 4, "social": 2, "forum": 2}));
    let partial = rows(&config, Some("nk-ru"), PARTIAL, &[]).await;
    assert_eq!(
        per_kind(&partial),
        json!({"web": 2, "social": 2, "forum": 0})
    );

    // Every field, in order.
    let raketen = row(&day, "Nordkorea liefert Raketen an Russland");
    let fields: Vec<&String> = raketen.as_object().unwrap().keys().collect();
    let mut sorted = fields.clone();
    sorted.sort();
    let mut expected = vec![
        "at",
        "author",
        "domain",
        "excerpt",
        "id",
        "kind",
        "lang",
        "sightings",
        "source",
        "title",
        "topic",
        "undated",
        "url",
    ];
    expected.sort();
    assert_eq!(sorted, expected);
    assert_eq!(raketen["topic"], "nk-ru");
    assert_eq!(raketen["kind"], "web");
    assert_eq!(raketen["at"], "2026-11-24T08:10:00Z");
    assert_eq!(raketen["source"], "zeitung");
    assert_eq!(raketen["domain"], "127.0.0.1");
    assert_eq!(raketen["url"], format!("{a}/politik/raketen.html"));
    assert_eq!(raketen["excerpt"], "Die Lieferungen gehen weiter.");
    assert_eq!(raketen["sightings"], 2);
    assert_eq!(raketen["undated"], false);
    let anna = row(&day, "Nordkorea schickt weitere Soldaten nach #Russland");
    assert_eq!(anna["kind"], "social");
    assert_eq!(anna["source"], "fedi-a");
    assert_eq!(anna["domain"], "social.example");
    assert_eq!(anna["author"], "anna");
    assert_eq!(
        anna["url"],
        "https://social.example/@anna/11300000000000011"
    );
    assert_eq!(anna["sightings"], 2);
    assert_eq!(
        row(&day, "Nordkorea und Russland: was wissen wir?")["kind"],
        "forum"
    );

    // Without --topic: every topic, rows carrying theirs.
    let all = rows(&config, None, DAY, &[]).await;
    let kursk = rows(&config, Some("kursk"), DAY, &[]).await;
    assert_eq!(all.len(), day.len() + kursk.len());
    assert_eq!(all[..day.len()], day[..]);
    assert!(all[day.len()..].iter().all(|r| r["topic"] == "kursk"));

    // The undated item is listed at the time it was first seen.
    let recent = rows(
        &config,
        Some("nk-ru"),
        ("2000-01-01T00:00:00Z", "2100-01-01T00:00:00Z"),
        &["--search", "pjöngjang"],
    )
    .await;
    assert_eq!(
        titles(&recent),
        ["Pjöngjang schickt Granaten nach Russland"]
    );
    assert_eq!(recent[0]["undated"], true);
    // `--since` ends now, and a window excludes its end: past the crawl's second first.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let since = ok(
        &config,
        &[
            "list", "--topic", "nk-ru", "--since", "1h", "--format", "ndjson",
        ],
    )
    .await;
    let since: Vec<Value> = since
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(titles(&since), ["Pjöngjang schickt Granaten nach Russland"]);
    let report = ok(
        &config,
        &[
            "report", "--topic", "nk-ru", "--since", "1h", "--format", "json",
        ],
    )
    .await
    .json();
    assert_eq!(report["counts"], per_kind(&since));

    // Filters: kind, source, domain, search.
    let f = |extra: &'static [&'static str]| {
        let config = config.clone();
        async move { titles(&rows(&config, Some("nk-ru"), DAY, extra).await).len() }
    };
    assert_eq!(f(&["--kind", "web", "--kind", "forum"]).await, 6);
    assert_eq!(f(&["--source", "agentur"]).await, 1);
    assert_eq!(f(&["--domain", "localhost"]).await, 2);
    assert_eq!(
        f(&["--domain", "social.example", "--kind", "social"]).await,
        2
    );
    assert_eq!(f(&["--search", "raketen OR truppen"]).await, 3);
    let bad = mentions(&config, &["list", "--search", "putin AND (kursk"]).await;
    assert_eq!(bad.code, 2, "{bad:?}");
    assert!(
        bad.stderr.contains("--search") && bad.stderr.contains("position 11"),
        "{}",
        bad.stderr
    );
    let bad = mentions(&config, &["list", "--source", "zeitungg"]).await;
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("\"zeitungg\""), "{}", bad.stderr);
    let bad = mentions(&config, &["list", "--topic", "nk"]).await;
    assert_eq!(bad.code, 2);

    // ndjson: the same rows; csv: a header and the fields in order.
    let nd = ok(
        &config,
        &[
            "list", "--topic", "nk-ru", "--from", DAY.0, "--to", DAY.1, "--format", "ndjson",
        ],
    )
    .await;
    let nd: Vec<Value> = nd
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(nd, day);
    let csv = ok(
        &config,
        &[
            "list", "--topic", "nk-ru", "--from", DAY.0, "--to", DAY.1, "--format", "csv",
        ],
    )
    .await
    .stdout;
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "id,topic,kind,at,source,domain,author,title,url,excerpt,lang,sightings,undated"
    );
    assert_eq!(lines.len(), 1 + day.len());
    let gipfel = row(
        &day,
        "Nordkoreas Kim trifft Putin in Moskau, Raketen im Gepäck",
    );
    assert!(lines.contains(&format!(
        "{},nk-ru,web,2026-11-24T09:40:00Z,zeitung,127.0.0.1,,\"Nordkoreas Kim trifft Putin in Moskau, Raketen im Gepäck\",{a}/politik/gipfel.html,\"Ein Treffen mit \"\"Folgen\"\".\",{},2,false",
        gipfel["id"],
        gipfel["lang"].as_str().unwrap_or_default()
    ).as_str()), "{csv}");

    // Text: a heading, the rows asked for, and how many more there are.
    let text = ok(
        &config,
        &[
            "list", "--topic", "nk-ru", "--from", DAY.0, "--to", DAY.1, "--limit", "3",
        ],
    )
    .await
    .stdout;
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "nk-ru · 2026-11-24 00:00 – 2026-11-25 00:00 UTC");
    assert!(
        lines[1].contains("time (UTC)") && lines[1].ends_with("url"),
        "{text}"
    );
    assert_eq!(lines.len(), 2 + 3 + 1, "{text}");
    assert!(
        lines[2].contains("2026-11-24 11:50  forum   forum "),
        "{text}"
    );
    assert!(lines[5].starts_with("… 5 more"), "{text}");

    // explain by id: both URL forms under rule `url`, the terms that matched.
    let id = raketen["id"].as_i64().unwrap().to_string();
    let x = ok(&config, &["explain", &id, "--format", "json"])
        .await
        .json();
    let keys: Vec<&String> = x.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 3, "{x:#}");
    assert_eq!(&x["mention"], raketen);
    assert_eq!(x["matched"], json!(["nordkorea*", "russland*"]));
    let seen: Vec<(&str, &str, &str)> = x["sightings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["source"].as_str().unwrap(),
                s["rule"].as_str().unwrap(),
                s["url"].as_str().unwrap(),
            )
        })
        .collect();
    let tracked = format!("{a}/politik/raketen.html?utm_source=rss&utm_medium=feed");
    let canonical = format!("{a}/politik/raketen.html");
    assert_eq!(
        seen,
        [
            ("zeitung", "first", tracked.as_str()),
            ("agentur", "url", canonical.as_str())
        ]
    );
    assert_eq!(
        x["sightings"][1]["detail"],
        format!("canonical URL {canonical}")
    );
    assert_eq!(x["sightings"][0]["detail"], Value::Null);
    // The same by any form of its URL, and as text.
    let by_url = ok(
        &config,
        &[
            "explain",
            &format!("{tracked}&utm_campaign=x#top"),
            "--format",
            "json",
        ],
    )
    .await
    .json();
    assert_eq!(by_url, x);
    let text = ok(&config, &["explain", &id]).await.stdout;
    assert!(
        text.starts_with(&format!(
            "mention {id} · topic nk-ru · web · 2026-11-24 08:10 UTC\n"
        )),
        "{text}"
    );
    assert!(
        text.contains("  matched   nordkorea*, russland*\n"),
        "{text}"
    );
    assert!(
        text.contains(&format!("  zeitung           first     {tracked}\n")),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "  agentur           url       {canonical}  (canonical URL {canonical})\n"
        )),
        "{text}"
    );

    // A status seen on two instances: rule `identity`, with the other instance's link.
    let x = ok(
        &config,
        &[
            "explain",
            "https://social.example/@anna/11300000000000011",
            "--format",
            "json",
        ],
    )
    .await
    .json();
    assert_eq!(x["mention"]["id"], anna["id"]);
    assert_eq!(x["sightings"][1]["source"], "fedi-b");
    assert_eq!(x["sightings"][1]["rule"], "identity");
    assert_eq!(
        x["sightings"][1]["url"],
        "https://mastodon.example/@anna@social.example/11300000000000011"
    );

    // A URL that is a mention of two topics: one explanation each (or the one asked for).
    let kursk_url = format!("{b}/ticker/kursk.html");
    let both = ok(&config, &["explain", &kursk_url, "--format", "json"])
        .await
        .json();
    let topics: Vec<&str> = both
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["mention"]["topic"].as_str().unwrap())
        .collect();
    assert_eq!(topics, ["nk-ru", "kursk"]);
    assert_eq!(both[1]["matched"], json!(["kursk"]));
    let one = ok(
        &config,
        &[
            "explain", &kursk_url, "--topic", "kursk", "--format", "json",
        ],
    )
    .await
    .json();
    assert_eq!(one, both[1]);

    // Seen but no mention; never seen: exit 0, what is known is the answer.
    // No such id: exit 1.
    let haushalt = mentions(
        &config,
        &[
            "explain",
            &format!("{a}/politik/haushalt.html?utm_source=x"),
        ],
    )
    .await;
    assert_eq!(haushalt.code, 0, "{haushalt:?}");
    assert!(
        haushalt.stdout.contains("is not a mention"),
        "{}",
        haushalt.stdout
    );
    assert!(
        haushalt.stdout.contains("  seen by zeitung on "),
        "{}",
        haushalt.stdout
    );
    assert!(
        haushalt
            .stdout
            .contains("  it did not match topic nk-ru\n  it did not match topic kursk\n"),
        "{}",
        haushalt.stdout
    );
    let haushalt = mentions(
        &config,
        &[
            "explain",
            &format!("{a}/politik/haushalt.html"),
            "--format",
            "json",
        ],
    )
    .await;
    assert_eq!(haushalt.code, 0);
    let h = haushalt.json();
    assert_eq!(h["mention"], Value::Null);
    assert_eq!(h["seen"].as_array().unwrap().len(), 1);
    assert_eq!(h["seen"][0]["source"], "zeitung");
    assert_eq!(h["not_matched"], json!(["nk-ru", "kursk"]));
    let carl = mentions(
        &config,
        &[
            "explain",
            "https://social.example/users/carl/statuses/11300000000000014",
            "--format",
            "json",
        ],
    )
    .await;
    assert_eq!(carl.code, 0);
    let carl = carl.json();
    let seen: BTreeSet<&str> = carl["seen"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["source"].as_str().unwrap())
        .collect();
    assert_eq!(seen, BTreeSet::from(["fedi-a", "fedi-b"]));
    assert_eq!(carl["not_matched"], json!(["nk-ru", "kursk"]));
    let never = mentions(
        &config,
        &[
            "explain",
            &format!("{a}/politik/nie.html"),
            "--format",
            "json",
        ],
    )
    .await;
    assert_eq!(never.code, 0);
    assert_eq!(never.json()["seen"], json!([]));
    let none = mentions(&config, &["explain", "999999"]).await;
    assert_eq!(none.code, 1);
    assert!(
        none.stdout.is_empty() && none.stderr.contains("no mention has id 999999"),
        "{none:?}"
    );

    // Excluding a domain for one topic moves its report and list at once.
    let before_kursk = counts(&config, "kursk", DAY).await;
    let ex = ok(
        &config,
        &[
            "exclude",
            "--domain",
            "localhost",
            "--topic",
            "nk-ru",
            "--reason",
            "Testdomain",
        ],
    )
    .await;
    assert!(
        ex.stdout.starts_with("excluded 2 mentions of localhost"),
        "{}",
        ex.stdout
    );
    assert!(
        ex.stdout.contains("for topic nk-ru") && ex.stdout.contains("later items are excluded too"),
        "{}",
        ex.stdout
    );
    let after = rows(&config, Some("nk-ru"), DAY, &[]).await;
    assert_eq!(per_kind(&after), json!({"web": 2, "social": 2, "forum": 2}));
    assert_eq!(counts(&config, "nk-ru", DAY).await, per_kind(&after));
    assert_eq!(counts(&config, "kursk", DAY).await, before_kursk);
    let excluded = rows(&config, Some("nk-ru"), DAY, &["--excluded"]).await;
    assert_eq!(
        titles(&excluded),
        [
            "Russland bestätigt Lieferungen aus Nordkorea",
            "Nordkoreanische Soldaten bei Kursk gesichtet"
        ]
    );
    let rule = excluded[0]["excluded_by"].as_i64().unwrap();

    // A later item of the domain arrives excluded.
    site.serve(
        &[],
        &[item(
            "Nordkorea und Russland vertiefen Zusammenarbeit",
            &format!("{b}/agentur/zusammenarbeit.html"),
            Some("Tue, 24 Nov 2026 11:30:00 +0000"),
            "Neue Abkommen.",
        )],
    );
    let crawl = ok(&config, &["crawl", "--source", "agentur"]).await;
    assert!(crawl.stdout.contains("1 excluded"), "{}", crawl.stdout);
    assert_eq!(
        counts(&config, "nk-ru", DAY).await,
        json!({"web": 2, "social": 2, "forum": 2})
    );
    assert_eq!(
        rows(&config, Some("nk-ru"), DAY, &["--excluded"])
            .await
            .len(),
        3
    );
    let listed = ok(&config, &["exclusions", "--format", "json"])
        .await
        .json();
    assert_eq!(
        listed,
        json!([{
            "id": rule, "what": "domain", "mention": null, "domain": "localhost", "author": null,
            "topic": "nk-ru", "source": null, "reason": "Testdomain",
            "created": listed[0]["created"], "mentions": 3
        }])
    );
    let x = ok(
        &config,
        &[
            "explain",
            &excluded[0]["id"].to_string(),
            "--format",
            "json",
        ],
    )
    .await
    .json();
    assert_eq!(x["excluded"]["id"], rule);
    assert_eq!(x["excluded"]["reason"], "Testdomain");

    // One mention by id, and back.
    let anna_id = anna["id"].to_string();
    let ex = ok(
        &config,
        &["exclude", &anna_id, &anna_id, "--reason", "wrong topic"],
    )
    .await;
    assert_eq!(
        ex.stdout,
        format!(
            "excluded mention {anna_id} of nk-ru (social.example: Nordkorea schickt weitere Soldaten nach #Russland)\n"
        )
    );
    assert_eq!(
        counts(&config, "nk-ru", DAY).await,
        json!({"web": 2, "social": 1, "forum": 2})
    );
    let text = ok(&config, &["exclusions"]).await.stdout;
    assert!(
        text.contains("wrong topic") && text.contains("Testdomain"),
        "{text}"
    );
    let inc = ok(&config, &["include", &anna_id]).await;
    assert_eq!(
        inc.stdout,
        format!("mention {anna_id} of nk-ru counts again\n")
    );
    assert_eq!(
        counts(&config, "nk-ru", DAY).await,
        json!({"web": 2, "social": 2, "forum": 2})
    );

    // include of one mention the domain rule holds: it counts, the rule stays.
    let one = excluded[1]["id"].to_string();
    let inc = ok(&config, &["include", &one]).await;
    assert!(
        inc.stdout.contains("counts again; exclusion") && inc.stdout.contains("still holds"),
        "{}",
        inc.stdout
    );
    assert_eq!(counts(&config, "nk-ru", DAY).await["web"], 3);
    // Removing the rule restores the rest.
    let inc = ok(&config, &["include", "--exclusion", &rule.to_string()]).await;
    assert!(
        inc.stdout
            .contains("2 mentions count again; later items are no longer excluded"),
        "{}",
        inc.stdout
    );
    let back = rows(&config, Some("nk-ru"), DAY, &[]).await;
    assert_eq!(per_kind(&back), json!({"web": 5, "social": 2, "forum": 2}));
    assert_eq!(counts(&config, "nk-ru", DAY).await, per_kind(&back));
    assert_eq!(ok(&config, &["exclusions"]).await.stdout, "no exclusions\n");

    // Usage errors exit 2 and change nothing.
    for args in [
        &["exclude", "999999"][..],
        &["exclude", "--domain", "a b"],
        &["exclude", "--domain", "x.example", "--topic", "nope"],
        &["exclude", "--author", "anna", "--source", "nope"],
        &["exclude"],
        &["include", "--exclusion", "999"],
        &["list", "--limit", "0"],
    ] {
        let run = mentions(&config, args).await;
        assert_eq!(run.code, 2, "{args:?}: {run:?}");
    }
    assert_eq!(counts(&config, "nk-ru", DAY).await, per_kind(&back));
}

/// `mentions run` with the endpoint, killed when dropped.
struct Daemon {
    child: Child,
}

impl Daemon {
    fn start(config: &Path) -> Daemon {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_mentions"));
        cmd.arg("--config")
            .arg(config)
            .arg("run")
            .env("RUST_LOG", "mentions=warn")
            .env_remove("MENTIONS_CONFIG")
            .env_remove("NOTIFY_SOCKET")
            .env("NO_PROXY", "*")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        Daemon {
            child: cmd.spawn().expect("mentions run starts"),
        }
    }

    fn assert_running(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!("mentions run exited early with {status}");
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Api {
    base: String,
    token: &'static str,
    client: reqwest::Client,
}

impl Api {
    /// GET with the token: status and JSON body.
    async fn get(&self, path: &str) -> (u16, Value) {
        self.get_as(path, Some(self.token)).await
    }

    async fn get_as(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        let mut req = self.client.get(format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let kind = resp
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned());
        let body = resp.text().await.unwrap();
        assert_eq!(kind.as_deref(), Some("application/json"), "{path}: {body}");
        (
            status,
            serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}")),
        )
    }
}

/// Polls `check` every 100 ms for up to `limit`.
async fn eventually<F, Fut>(limit: Duration, daemon: &mut Daemon, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        daemon.assert_running();
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_pages_each_row_once_while_the_daemon_crawls() {
    let site = Site::start().await;
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let token = "listing-token-5b0e2a9c41";
    let config = site.config(
        dir.path(),
        &format!("[server]\nlisten = \"127.0.0.1:{port}\"\ntoken = \"{token}\"\n"),
    );
    // Every source every second.
    let text = std::fs::read_to_string(&config).unwrap().replace(
        "retries = 0\n",
        "retries = 0\nschedule = \"*/1 * * * * *\"\n",
    );
    std::fs::write(&config, text).unwrap();
    let mut daemon = Daemon::start(&config);
    let api = Api {
        base: format!("http://127.0.0.1:{port}"),
        token,
        client: crate::http_client()
            .no_proxy()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap(),
    };
    let day = format!("topic=nk-ru&from={}&to={}", DAY.0, DAY.1);
    let report = format!("/api/report?{day}");
    // Every source has brought its items.
    let ready = eventually(Duration::from_secs(20), &mut daemon, || async {
        let Ok(resp) = api
            .client
            .get(format!("{}{report}", api.base))
            .bearer_auth(token)
            .send()
            .await
        else {
            return false;
        };
        let Ok(body) = resp.text().await else {
            return false;
        };
        let v: Value = serde_json::from_str(&body).unwrap_or_default();
        let all_ran = v["sources"]
            .as_array()
            .is_some_and(|s| s.len() == 5 && s.iter().all(|s| s["last_success"].is_string()));
        all_ran && v["counts"] == json!({"web": 4, "social": 2, "forum": 2})
    })
    .await;
    assert!(ready, "the first crawls did not land");

    // The token guards both endpoints.
    for path in ["/api/mentions", "/api/mentions/1"] {
        assert_eq!(api.get_as(path, None).await.0, 401, "{path}");
        assert_eq!(api.get_as(path, Some("wrong")).await.0, 401, "{path}");
    }

    // One page with everything: the rows `list --format json` prints.
    let (status, all) = api.get(&format!("/api/mentions?{day}&limit=1000")).await;
    assert_eq!(status, 200, "{all}");
    assert_eq!(all["next"], Value::Null);
    let cli = rows(&config, Some("nk-ru"), DAY, &[]).await;
    assert_eq!(all["mentions"].as_array().unwrap(), &cli);

    // Pages of three; between the first and the second a crawl brings an
    // item older than the cursor and one newer.
    let (_, first) = api.get(&format!("/api/mentions?{day}&limit=3")).await;
    let mut paged: Vec<Value> = first["mentions"].as_array().unwrap().clone();
    assert_eq!(paged.len(), 3);
    let mut next = first["next"].as_str().expect("a next cursor").to_owned();
    let a = site.a();
    site.serve(
        &[
            item(
                "Nordkorea und Russland: Nacht der Manöver",
                &format!("{a}/politik/manoever.html"),
                Some("Tue, 24 Nov 2026 01:00:00 +0000"),
                "Früh.",
            ),
            item(
                "Nordkorea und Russland: Abendlage",
                &format!("{a}/politik/abend.html"),
                Some("Tue, 24 Nov 2026 11:59:00 +0000"),
                "Spät.",
            ),
        ],
        &[],
    );
    let landed = eventually(Duration::from_secs(20), &mut daemon, || async {
        api.get(&report).await.1["counts"]["web"] == 6
    })
    .await;
    assert!(landed, "the new items were not crawled");
    loop {
        let (status, page) = api
            .get(&format!("/api/mentions?{day}&limit=3&cursor={next}"))
            .await;
        assert_eq!(status, 200, "{page}");
        paged.extend(page["mentions"].as_array().unwrap().iter().cloned());
        match page["next"].as_str() {
            Some(c) => next = c.to_owned(),
            None => break,
        }
    }
    let ids: Vec<i64> = paged.iter().map(|r| r["id"].as_i64().unwrap()).collect();
    let unique: BTreeSet<i64> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "a row came twice: {paged:#?}");
    let mut expected: Vec<&str> = titles(&cli);
    expected.push("Nordkorea und Russland: Nacht der Manöver");
    assert_eq!(
        titles(&paged),
        expected,
        "the older new item once, the newer one not at all"
    );
    // Pages are in listing order.
    let at: Vec<&str> = paged.iter().map(|r| r["at"].as_str().unwrap()).collect();
    assert!(at.windows(2).all(|w| w[0] >= w[1]), "{at:?}");

    // Repeated filters, and every topic at once.
    let (_, some) = api
        .get(&format!(
            "/api/mentions?{day}&kind=web&kind=forum&source=zeitung&source=forum"
        ))
        .await;
    let sources: BTreeSet<&str> = some["mentions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["source"].as_str().unwrap())
        .collect();
    assert_eq!(sources, BTreeSet::from(["zeitung", "forum"]));
    // Which of the newspaper and the agency stored a shared article first is
    // up to the scheduler: compare with the whole listing, filtered here.
    let (_, whole) = api.get(&format!("/api/mentions?{day}")).await;
    let expected: Vec<&Value> = whole["mentions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["source"] == "zeitung" || r["source"] == "forum")
        .collect();
    assert!(expected.len() >= 5, "{whole:#}");
    assert_eq!(
        some["mentions"]
            .as_array()
            .unwrap()
            .iter()
            .collect::<Vec<_>>(),
        expected
    );
    let (_, q) = api
        .get(&format!(
            "/api/mentions?{day}&q=%22soldaten%22%20OR%20truppen&domain=127.0.0.1"
        ))
        .await;
    assert_eq!(
        titles(q["mentions"].as_array().unwrap()),
        ["Kursk: Nordkoreas Truppen an der Front"]
    );
    let mut every = Vec::new();
    let mut cursor = String::new();
    loop {
        let (_, page) = api
            .get(&format!(
                "/api/mentions?from={}&to={}&limit=4{cursor}",
                DAY.0, DAY.1
            ))
            .await;
        every.extend(page["mentions"].as_array().unwrap().iter().cloned());
        match page["next"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
    }
    let nk: Vec<&Value> = every.iter().filter(|r| r["topic"] == "nk-ru").collect();
    let kursk: Vec<&Value> = every.iter().filter(|r| r["topic"] == "kursk").collect();
    assert_eq!((nk.len(), kursk.len()), (10, 2), "{every:#?}");
    assert!(every[..10].iter().all(|r| r["topic"] == "nk-ru"));

    // One mention: the JSON of `explain`.
    let id = paged[0]["id"].as_i64().unwrap();
    let (status, x) = api.get(&format!("/api/mentions/{id}")).await;
    assert_eq!(status, 200);
    let cli = ok(&config, &["explain", &id.to_string(), "--format", "json"])
        .await
        .json();
    assert_eq!(x, cli);

    // Errors are JSON with the right status.
    for (path, expected) in [
        (format!("/api/mentions?{day}&cursor=zz"), 400),
        (
            format!("/api/mentions?{day}&cursor={}", "3a".repeat(8)),
            400,
        ),
        (
            "/api/mentions?topic=kursk&cursor=".to_owned() + &next_for_other_topic(),
            400,
        ),
        (format!("/api/mentions?{day}&limit=0"), 400),
        (format!("/api/mentions?{day}&limit=1001"), 400),
        (format!("/api/mentions?{day}&kind=blog"), 400),
        (format!("/api/mentions?{day}&q=(putin"), 400),
        (format!("/api/mentions?{day}&source=nope"), 400),
        (format!("/api/mentions?{day}&sort=asc"), 400),
        (
            "/api/mentions?topic=nk-ru&since=48h&from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z"
                .to_owned(),
            400,
        ),
        ("/api/mentions?topic=nk-ru&since=100000d".to_owned(), 400),
        ("/api/mentions?topic=nope".to_owned(), 404),
        ("/api/mentions/999999".to_owned(), 404),
        ("/api/mentions/abc".to_owned(), 400),
    ] {
        let (status, body) = api.get(&path).await;
        assert_eq!(status, expected, "{path}: {body}");
        assert!(body["error"].is_string(), "{path}: {body}");
    }
    let (_, body) = api.get(&format!("/api/mentions?{day}&q=(putin")).await;
    assert!(
        body["error"].as_str().unwrap().contains("position 1"),
        "{body}"
    );
    daemon.assert_running();
}

/// A well-formed cursor of the topic nk-ru, handed to a listing of kursk.
fn next_for_other_topic() -> String {
    "1:1:nk-ru".bytes().map(|b| format!("{b:02x}")).collect()
}
