//! `report`, `list`, `explain` and `exclusions` read PostgreSQL when the
//! config sets `[database] url`: the same crawls committed to an SQLite
//! file (`Store::commit`) and to a database of this test's own
//! (`Postgres::commit`), then each command run by the binary on both
//! configs must print the same JSON (mention ids aside: each backend
//! numbers its own), and the numbers it prints are checked exactly.

use crate::postgres::testdb::TestDb;
use crate::postgres::{assert_no_password, with_password};
use crate::{mentions, write_config, Run};
use chrono::{DateTime, TimeZone, Utc};
use mentions::sources::Kind;
use mentions::store::postgres::{PgTarget, Postgres};
use mentions::store::{CrawlBatch, ExcludeTarget, NewMention, Store};
use serde_json::Value;
use std::path::Path;

const T0: i64 = 1_795_000_000; // 2026-11-18 11:06:40 UTC

fn time(t: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(t, 0).unwrap()
}

fn article(host: &str, n: i64, title: &str, at: Option<i64>) -> NewMention {
    let identity = format!("https://{host}/news/{n}");
    NewMention {
        topic: "nk".into(),
        kind: Kind::Web,
        identity: identity.clone(),
        url: None,
        host: Some(host.into()),
        title: title.into(),
        excerpt: "Nordkorea schickt Truppen nach Kursk, sagt die Regierung.".into(),
        author: None,
        lang: Some("de".into()),
        published: at.map(time),
        simhash: xxhash_rust::xxh3::xxh3_64(identity.as_bytes()),
        seen: None,
    }
}

fn toot(n: i64, author: &str, at: i64) -> NewMention {
    NewMention {
        topic: "nk".into(),
        kind: Kind::Social,
        identity: format!("https://m.example/users/{author}/statuses/{n}"),
        url: Some(format!("https://m.example/@{author}/{n}")),
        host: None,
        title: String::new(),
        excerpt: format!("Kursk: Truppen aus Nordkorea #{n}"),
        author: Some(author.into()),
        lang: None,
        published: Some(time(at)),
        simhash: n as u64 * 0x9e37_79b9,
        seen: Some(format!("https://m.example/@{author}/{n}")),
    }
}

/// Article `n` of feed-a: on zeit, taz or (every third) the excluded domain.
fn feed_a(n: i64) -> NewMention {
    let host = ["www.zeit.example", "taz.example", "spam.example"][n as usize % 3];
    let title = if n % 2 == 0 {
        "Nordkorea schickt Truppen"
    } else {
        "Kursk Offensive gestoppt"
    };
    article(host, n, title, Some(T0 - n * 1000))
}

/// Two feeds (the second sees four of the first's articles again, one
/// with a tracking parameter, and six of its own), a Mastodon account, an
/// undated item, and six items of a domain excluded by rule: 21 web and 6
/// social mentions count in the window.
fn crawls() -> Vec<CrawlBatch> {
    let mut out = Vec::new();
    let mut a = CrawlBatch::new("feed-a", "feed", Kind::Web, time(T0 + 3 * 3600));
    a.mentions = (0..20).map(feed_a).collect();
    a.mentions.push(article(
        "taz.example",
        99,
        "Undatiert: Truppen in Kursk",
        None,
    ));
    out.push(a);
    let mut b = CrawlBatch::new("feed-b", "feed", Kind::Web, time(T0 + 4 * 3600));
    for n in [0, 1, 3, 4] {
        let mut m = feed_a(n);
        if n == 3 {
            m.seen = Some(format!("{}?utm_source=feed-b", m.identity));
        }
        b.mentions.push(m);
    }
    for n in 30..36 {
        b.mentions.push(article(
            "www.zeit.example",
            n,
            "Nordkorea schickt Truppen",
            Some(T0 - 500 - n),
        ));
    }
    out.push(b);
    let mut m = CrawlBatch::new("masto", "mastodon", Kind::Social, time(T0 + 5 * 3600));
    for n in 0..6 {
        m.mentions.push(toot(n, "kim", T0 - n * 700));
    }
    out.push(m);
    out
}

/// The SQLite file and the PostgreSQL database, with the same crawls and
/// the same domain rule; the two configs.
async fn both(dir: &Path, db: &TestDb) -> (std::path::PathBuf, std::path::PathBuf) {
    let mut store = Store::open(&dir.join("m.db")).unwrap();
    store
        .exclude(
            &ExcludeTarget::Domain {
                domain: "spam.example".into(),
                topic: None,
            },
            Some("link farm"),
            time(T0 - 86_400),
        )
        .unwrap()
        .unwrap();
    let pg = Postgres::connect(&PgTarget::parse(db.url()).unwrap(), 2)
        .await
        .unwrap();
    pg.client()
        .await
        .unwrap()
        .batch_execute(&format!(
            "INSERT INTO exclusion (what, domain, reason, created_at)
             VALUES ('domain', 'spam.example', 'link farm', {})",
            T0 - 86_400
        ))
        .await
        .unwrap();
    for b in crawls() {
        assert_eq!(store.commit(&b).unwrap(), pg.commit(b).await.unwrap());
    }
    drop(store);
    let rest = "[[topic]]\nname = \"nk\"\nquery = \"nordkorea OR kursk\"\n\n\
                [[source]]\nname = \"feed-a\"\ntype = \"feed\"\nurl = \"http://127.0.0.1:9/a.xml\"\n\n\
                [[source]]\nname = \"feed-b\"\ntype = \"feed\"\nurl = \"http://127.0.0.1:9/b.xml\"\n";
    let sqlite_dir = dir.join("sqlite");
    let pg_dir = dir.join("pg");
    std::fs::create_dir_all(&sqlite_dir).unwrap();
    std::fs::create_dir_all(&pg_dir).unwrap();
    let sqlite = write_config(
        &sqlite_dir,
        &format!(
            "[database]\npath = \"{}\"\n\n{rest}",
            dir.join("m.db").display()
        ),
    );
    let postgres = write_config(
        &pg_dir,
        &format!(
            "[database]\nurl = \"{}\"\n\n{rest}",
            with_password(db.url())
        ),
    );
    (sqlite, postgres)
}

/// `value` without the mentions' ids (`id` of each listed row or explained
/// mention; exclusion rules keep theirs, which both backends number alike).
fn without_ids(mut value: Value) -> Value {
    fn strip(v: &mut Value) {
        match v {
            Value::Object(map) => {
                if map.contains_key("topic") && map.contains_key("kind") {
                    map.remove("id");
                }
                map.values_mut().for_each(strip);
            }
            Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    strip(&mut value);
    value
}

async fn run_both(sqlite: &Path, pg: &Path, args: &[&str]) -> (Run, Run) {
    let a = mentions(sqlite, args).await;
    let b = mentions(pg, args).await;
    assert_eq!(a.code, 0, "SQLite {args:?}: {a:?}");
    assert_eq!(b.code, 0, "PostgreSQL {args:?}: {b:?}");
    assert_no_password(&b);
    (a, b)
}

/// The same JSON from both; returns it.
async fn same_json(sqlite: &Path, pg: &Path, args: &[&str]) -> Value {
    let (a, b) = run_both(sqlite, pg, args).await;
    let (a, b) = (without_ids(a.json()), without_ids(b.json()));
    assert_eq!(a, b, "{args:?}");
    a
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reading_commands_print_the_same_on_postgres_as_on_sqlite() {
    let Some(db) = TestDb::create("it read commands").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (sqlite, pg) = both(dir.path(), &db).await;
    // A window with partial hours at both edges.
    let (from, to) = ("2026-11-17T17:30:00Z", "2026-11-18T16:10:00Z");
    let window = ["--from", from, "--to", to];
    let with = |extra: &[&'static str]| -> Vec<&'static str> {
        let mut v: Vec<&str> = vec!["--from", from, "--to", to];
        v.extend_from_slice(extra);
        v
    };

    let report = same_json(
        &sqlite,
        &pg,
        &[
            &["report"][..],
            &window,
            &["--format", "json", "--topic", "nk"],
        ]
        .concat(),
    )
    .await;
    // 20 articles of feed-a: 6 on spam.example excluded, 14 counted, and
    // the undated one (counted at its crawl's time); feed-b adds 6 of its own.
    assert_eq!(report["counts"]["web"], 21, "{report}");
    assert_eq!(report["counts"]["social"], 6, "{report}");
    assert_eq!(report["undated"]["web"], 1, "{report}");
    assert_eq!(report["references"][0]["domain"], "www.zeit.example");
    assert_eq!(report["references"][0]["mentions"], 13);
    let (a, b) = run_both(
        &sqlite,
        &pg,
        &[&["report"][..], &window, &["--format", "svg"]].concat(),
    )
    .await;
    assert_eq!(a.stdout, b.stdout);
    assert!(a.stdout.contains("<svg"), "{a:?}");
    let (a, b) = run_both(&sqlite, &pg, &[&["report"][..], &window].concat()).await;
    assert_eq!(a.stdout, b.stdout);

    let all = same_json(
        &sqlite,
        &pg,
        &[&["list"][..], &with(&["--format", "json"])].concat(),
    )
    .await;
    let rows = all["mentions"].as_array().unwrap();
    assert_eq!(rows.len(), 27);
    for args in [
        with(&["--kind", "social"]),
        with(&["--domain", "zeit.example"]),
        with(&["--source", "feed-b", "--source", "masto"]),
        with(&["--search", "offensive"]),
        with(&["--excluded"]),
        with(&["--limit", "4"]),
        with(&[
            "--kind",
            "web",
            "--search",
            "truppen -kursk",
            "--limit",
            "2",
        ]),
    ] {
        let json = same_json(
            &sqlite,
            &pg,
            &[&["list"][..], &args, &["--format", "json"]].concat(),
        )
        .await;
        let n = json["mentions"].as_array().unwrap().len();
        assert!(n > 0, "{args:?}");
        let (a, b) = run_both(
            &sqlite,
            &pg,
            &[&["list"][..], &args, &["--format", "csv"]].concat(),
        )
        .await;
        // CSV rows start with the id: compare what follows it.
        let tail = |s: &str| -> Vec<String> {
            s.lines()
                .map(|l| l.split_once(',').map_or(l, |x| x.1).to_owned())
                .collect()
        };
        assert_eq!(tail(&a.stdout), tail(&b.stdout), "{args:?}");
    }
    let excluded = same_json(
        &sqlite,
        &pg,
        &[&["list"][..], &with(&["--excluded", "--format", "json"])].concat(),
    )
    .await;
    assert_eq!(excluded["mentions"].as_array().unwrap().len(), 6);
    let social = same_json(
        &sqlite,
        &pg,
        &[
            &["list"][..],
            &with(&["--kind", "social", "--format", "json"]),
        ]
        .concat(),
    )
    .await;
    assert_eq!(social["mentions"].as_array().unwrap().len(), 6);

    // explain by URL (seen in another form too), by each backend's id, and a URL never seen.
    let url = "https://www.zeit.example/news/3?utm_source=feed-b";
    let x = same_json(&sqlite, &pg, &["explain", url, "--format", "json"]).await;
    assert_eq!(x["sightings"].as_array().unwrap().len(), 2, "{x}");
    same_json(
        &sqlite,
        &pg,
        &["explain", "https://spam.example/news/2", "--format", "json"],
    )
    .await;
    let never = same_json(
        &sqlite,
        &pg,
        &["explain", "https://never.example/x", "--format", "json"],
    )
    .await;
    assert_eq!(never["mention"], Value::Null);
    let ids = |config: &Path| {
        let config = config.to_owned();
        async move {
            let run = mentions(&config, &["list", "--since", "36500d", "--format", "json"]).await;
            run.json()["mentions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["id"].as_i64().unwrap())
                .collect::<Vec<_>>()
        }
    };
    let (ids_a, ids_b) = (ids(&sqlite).await, ids(&pg).await);
    assert_eq!(ids_a.len(), ids_b.len());
    for (a, b) in ids_a.iter().zip(&ids_b).step_by(4) {
        let x = mentions(&sqlite, &["explain", &a.to_string(), "--format", "json"]).await;
        let y = mentions(&pg, &["explain", &b.to_string(), "--format", "json"]).await;
        assert_eq!((x.code, y.code), (0, 0), "{y:?}");
        assert_eq!(without_ids(x.json()), without_ids(y.json()));
    }
    let run = mentions(&pg, &["explain", "987654321"]).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("no mention has id 987654321"),
        "{run:?}"
    );

    let rules = same_json(&sqlite, &pg, &["exclusions", "--format", "json"]).await;
    assert_eq!(rules[0]["what"], "domain");
    assert_eq!(rules[0]["mentions"], 6);
    let (a, b) = run_both(&sqlite, &pg, &["exclusions"]).await;
    assert_eq!(a.stdout, b.stdout);
}

/// A server of `config`'s settings on a port of its own, in this process.
async fn serve(config: &Path, shutdown: &tokio_util::sync::CancellationToken) -> String {
    let settings = mentions::config::Settings::load(config).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    mentions::server::serve_on(
        listener,
        mentions::server::Handle {
            settings: mentions::live::LiveSettings::new(settings),
            healthy: std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true)),
            token: None,
        },
        shutdown.clone(),
    );
    base
}

async fn get(client: &reqwest::Client, url: &str) -> (u16, String) {
    let resp = client.get(url).send().await.unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

/// Every page of `/api/mentions` from `base`: the rows, ids aside.
async fn api_pages(client: &reqwest::Client, base: &str, query: &str) -> Vec<Value> {
    let mut rows = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let url = match &next {
            None => format!("{base}/api/mentions?{query}"),
            Some(c) => format!("{base}/api/mentions?{query}&cursor={c}"),
        };
        let (status, body) = get(client, &url).await;
        assert_eq!(status, 200, "{url}: {body}");
        let page: Value = serde_json::from_str(&body).unwrap();
        let got = page["mentions"].as_array().unwrap().clone();
        assert!(got.len() <= 4, "{url}");
        rows.extend(got.into_iter().map(without_ids));
        match page["next"].as_str() {
            Some(c) => next = Some(c.to_owned()),
            None => return rows,
        }
    }
}

/// The server's reads (API and dashboard) go through the PostgreSQL pool
/// when the config sets `[database] url`, and answer as on SQLite.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_and_dashboard_read_postgres_as_sqlite() {
    let Some(db) = TestDb::create("it read server").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (sqlite, pg) = both(dir.path(), &db).await;
    let shutdown = tokio_util::sync::CancellationToken::new();
    let (a, b) = (serve(&sqlite, &shutdown).await, serve(&pg, &shutdown).await);
    let client = crate::http_client().no_proxy().build().unwrap();
    let window = "from=2026-11-17T17:30:00Z&to=2026-11-18T16:10:00Z";

    let report = |base: String| {
        let client = client.clone();
        async move {
            let (status, body) =
                get(&client, &format!("{base}/api/report?topic=nk&{window}")).await;
            assert_eq!(status, 200, "{body}");
            serde_json::from_str::<Value>(&body).unwrap()
        }
    };
    let (ra, rb) = (report(a.clone()).await, report(b.clone()).await);
    assert_eq!(ra, rb);
    assert_eq!(rb["counts"]["web"], 21, "{rb}");
    assert_eq!(rb["counts"]["social"], 6, "{rb}");

    for query in [
        format!("topic=nk&{window}&limit=4"),
        format!("topic=nk&{window}&limit=4&kind=social"),
        format!("topic=nk&{window}&limit=4&domain=zeit.example&q=truppen"),
    ] {
        let (pa, pb) = (
            api_pages(&client, &a, &query).await,
            api_pages(&client, &b, &query).await,
        );
        assert_eq!(pa, pb, "{query}");
        assert!(!pb.is_empty(), "{query}");
    }
    let all = api_pages(&client, &b, &format!("topic=nk&{window}&limit=4")).await;
    assert_eq!(all.len(), 27);

    // One mention explained by each backend's id: the one at the same place in the list.
    let first_id = |base: String| {
        let client = client.clone();
        async move {
            let (_, body) = get(
                &client,
                &format!("{base}/api/mentions?topic=nk&{window}&limit=1"),
            )
            .await;
            serde_json::from_str::<Value>(&body).unwrap()["mentions"][0]["id"]
                .as_i64()
                .unwrap()
        }
    };
    let (ia, ib) = (first_id(a.clone()).await, first_id(b.clone()).await);
    let (sa, xa) = get(&client, &format!("{a}/api/mentions/{ia}")).await;
    let (sb, xb) = get(&client, &format!("{b}/api/mentions/{ib}")).await;
    assert_eq!((sa, sb), (200, 200), "{xb}");
    assert_eq!(
        without_ids(serde_json::from_str(&xa).unwrap()),
        without_ids(serde_json::from_str(&xb).unwrap())
    );
    let (status, _) = get(&client, &format!("{b}/api/mentions/987654321")).await;
    assert_eq!(status, 404);

    // The dashboard's page and its download.
    let (status, page) = get(&client, &format!("{b}/?topic=nk&{window}")).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("www.zeit.example"), "{page}");
    let (status, csv) = get(&client, &format!("{b}/mentions.csv?topic=nk&{window}")).await;
    assert_eq!(status, 200, "{csv}");
    assert_eq!(csv.lines().count(), 28, "{csv}");
    let (_, csv_a) = get(&client, &format!("{a}/mentions.csv?topic=nk&{window}")).await;
    let tail = |s: &str| -> Vec<String> {
        s.lines()
            .map(|l| l.split_once(',').map_or(l, |x| x.1).to_owned())
            .collect()
    };
    assert_eq!(tail(&csv_a), tail(&csv));

    // /metrics: the database gauges, from PostgreSQL's count tables.
    let gauges = |base: String| {
        let client = client.clone();
        async move {
            let (status, body) = get(&client, &format!("{base}/metrics")).await;
            assert_eq!(status, 200, "{body}");
            body.lines()
                .filter(|l| {
                    l.starts_with("mentions_stored{")
                        || l.starts_with("mentions_last_success_timestamp_seconds{")
                })
                .map(str::to_owned)
                .collect::<Vec<_>>()
        }
    };
    let (ga, gb) = (gauges(a.clone()).await, gauges(b.clone()).await);
    assert_eq!(ga, gb);
    assert!(
        gb.contains(&"mentions_stored{topic=\"nk\",kind=\"web\"} 21".to_owned()),
        "{gb:?}"
    );
    assert_eq!(gb.len(), 5, "{gb:?}");
    shutdown.cancel();
}

/// `text` with each `older than YYYY-MM-DD HH:MM UTC` cut (two prunes a
/// moment apart may straddle a minute).
fn without_cutoffs(text: &str) -> String {
    text.lines()
        .map(|l| match (l.find(" older than "), l.find(" UTC")) {
            (Some(a), Some(b)) if b > a => format!("{}{}", &l[..a], &l[b + 4..]),
            _ => l.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `exclude`, `include`, `alerts` and `prune` change and read PostgreSQL
/// when the config sets `[database] url`, and print what they print on
/// SQLite for the same rows (mention ids aside), with the same effect on
/// what `list`, `exclusions` and `report` show.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writing_commands_do_on_postgres_what_they_do_on_sqlite() {
    let Some(db) = TestDb::create("it write commands").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (sqlite, pg) = both(dir.path(), &db).await;
    let window = [
        "--from",
        "2026-11-17T17:30:00Z",
        "--to",
        "2026-11-18T16:10:00Z",
    ];
    let report = || {
        let (sqlite, pg) = (sqlite.clone(), pg.clone());
        async move {
            let args = [
                &["report"][..],
                &window,
                &["--format", "json", "--topic", "nk"],
            ]
            .concat();
            same_json(&sqlite, &pg, &args).await
        }
    };
    // The exclusions, without when each was made (the two runs may be a
    // second apart) or the id of the mention an exclusion by id names.
    let same_rules = || {
        let (sqlite, pg) = (sqlite.clone(), pg.clone());
        async move {
            let (a, b) = run_both(&sqlite, &pg, &["exclusions", "--format", "json"]).await;
            let strip = |mut v: Value| {
                for rule in v.as_array_mut().unwrap() {
                    let rule = rule.as_object_mut().unwrap();
                    rule.remove("created");
                    rule.remove("mention");
                }
                v
            };
            let (a, b) = (strip(a.json()), strip(b.json()));
            assert_eq!(a, b);
            a
        }
    };
    let same_text = |args: Vec<&'static str>| {
        let (sqlite, pg) = (sqlite.clone(), pg.clone());
        async move {
            let (a, b) = run_both(&sqlite, &pg, &args).await;
            assert_eq!(a.stdout, b.stdout, "{args:?}");
            a.stdout
        }
    };

    let out = same_text(vec![
        "exclude",
        "--domain",
        "www.TAZ.example",
        "--topic",
        "nk",
        "--reason",
        "paywall",
    ])
    .await;
    assert_eq!(
        out,
        "excluded 8 mentions of taz.example (and www.taz.example) for topic nk (exclusion 2); later items are excluded too\n"
    );
    let out = same_text(vec!["exclude", "--author", "KIM", "--source", "masto"]).await;
    assert!(
        out.starts_with("excluded 6 mentions by KIM from source masto (exclusion 3)"),
        "{out}"
    );
    // The same rule again changes nothing.
    let out = same_text(vec!["exclude", "--domain", "taz.example", "--topic", "nk"]).await;
    assert!(
        out.starts_with("excluded 0 mentions of taz.example"),
        "{out}"
    );
    assert!(out.contains("; 8 more were excluded already"), "{out}");
    for config in [&sqlite, &pg] {
        let run = mentions(config, &["exclude", "--author", "x", "--source", "feed-z"]).await;
        assert_eq!(run.code, 2, "{run:?}");
        assert!(run.stderr.contains("no source named \"feed-z\""), "{run:?}");
    }

    // By id: the first two listed on each backend (the same mentions), one twice.
    let ids = |config: &Path| {
        let config = config.to_owned();
        async move {
            let run = mentions(
                &config,
                &[&["list"][..], &window, &["--format", "json"]].concat(),
            )
            .await;
            run.json()["mentions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["id"].as_i64().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    let (a, b) = (ids(&sqlite).await, ids(&pg).await);
    assert_eq!(a.len(), b.len());
    let by_id = |config: &Path, args: Vec<String>| {
        let config = config.to_owned();
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let run = mentions(&config, &args).await;
            assert_eq!(run.code, 0, "{run:?}");
            run.stdout
        }
    };
    let excluded_a = by_id(
        &sqlite,
        vec!["exclude".into(), a[0].clone(), a[1].clone(), a[0].clone()],
    )
    .await;
    let excluded_b = by_id(
        &pg,
        vec!["exclude".into(), b[0].clone(), b[1].clone(), b[0].clone()],
    )
    .await;
    let unnumbered = |text: &str, ids: &[String]| {
        let mut text = text.to_owned();
        for (i, id) in ids.iter().enumerate().take(2) {
            text = text.replace(&format!("mention {id} "), &format!("mention #{i} "));
        }
        text
    };
    assert_eq!(unnumbered(&excluded_a, &a), unnumbered(&excluded_b, &b));
    assert_eq!(excluded_a.lines().count(), 2, "{excluded_a}");
    let rules = same_rules().await;
    assert_eq!(rules.as_array().unwrap().len(), 5, "{rules}");
    let excluded = same_json(
        &sqlite,
        &pg,
        &[&["list"][..], &window, &["--excluded", "--format", "json"]].concat(),
    )
    .await;
    assert_eq!(
        excluded["mentions"].as_array().unwrap().len(),
        6 + 8 + 6 + 2
    );
    let counts = report().await;
    assert_eq!(counts["counts"]["social"], 0, "{counts}");

    // Include: one by id, then the author rule whole.
    let included_a = by_id(&sqlite, vec!["include".into(), a[1].clone()]).await;
    let included_b = by_id(&pg, vec!["include".into(), b[1].clone()]).await;
    assert_eq!(unnumbered(&included_a, &a), unnumbered(&included_b, &b));
    let out = same_text(vec!["include", "--exclusion", "3"]).await;
    assert!(out.starts_with("removed exclusion 3 ("), "{out}");
    assert!(
        out.ends_with("): 6 mentions count again; later items are no longer excluded\n"),
        "{out}"
    );
    let counts = report().await;
    assert_eq!(counts["counts"]["social"], 6, "{counts}");

    // Alerts fired, as the alert check records them on each backend.
    let mut store = Store::open(&dir.path().join("m.db")).unwrap();
    let postgres = Postgres::connect(&PgTarget::parse(db.url()).unwrap(), 2)
        .await
        .unwrap();
    let now = Utc::now().timestamp();
    for (i, ago) in [(0, 7200), (1, 600)] {
        let alert = mentions::store::NewAlert {
            key: format!("nk-1h-{i}"),
            topic: "nk".into(),
            window_secs: 3600,
            trigger: "threshold 5".into(),
            window_start: time(now - ago - 3600),
            fired_at: time(now - ago),
            count: 7 + i,
            baseline: (i == 1).then_some(1.5),
            payload: "{}".into(),
        };
        assert!(store.record_alert(&alert).unwrap().is_some());
        assert!(postgres.record_alert(&alert).await.unwrap().is_some());
    }
    drop(store);
    for since in [
        &["alerts"][..],
        &["alerts", "--since", "1h"],
        &["alerts", "--since", "30d"],
    ] {
        let (x, y) = run_both(&sqlite, &pg, since).await;
        assert_eq!(x.stdout, y.stdout, "{since:?}");
    }
    let (x, _) = run_both(&sqlite, &pg, &["alerts", "--since", "30d"]).await;
    assert_eq!(x.stdout.lines().count(), 3, "{x:?}");
    assert!(x.stdout.contains("\tthreshold 5\t8\t1.50\t"), "{x:?}");
    assert!(x.stdout.contains("\tthreshold 5\t7\t-\t"), "{x:?}");
    let (x, _) = run_both(&sqlite, &pg, &["alerts", "--since", "1h"]).await;
    assert_eq!(x.stdout.lines().count(), 2, "{x:?}");

    // Prune with a retention that cuts at T0 - 250 s: feed-b's own
    // articles, older feed-a ones and toots go; the report and the list agree.
    let retention = Utc::now().timestamp() - (T0 - 250);
    for config in [&sqlite, &pg] {
        let text = std::fs::read_to_string(config).unwrap();
        let text = text.replacen(
            "[database]\n",
            &format!("[database]\nretention = \"{retention}s\"\n"),
            1,
        );
        std::fs::write(config, text).unwrap();
    }
    let (x, y) = run_both(&sqlite, &pg, &["prune"]).await;
    assert_eq!(without_cutoffs(&x.stdout), without_cutoffs(&y.stdout));
    assert!(x.stdout.starts_with("mentions: "), "{x:?}");
    assert!(!x.stdout.starts_with("mentions: 0 "), "{x:?}");
    let kept = same_json(
        &sqlite,
        &pg,
        &[&["list"][..], &window, &["--format", "json"]].concat(),
    )
    .await;
    assert!(!kept["mentions"].as_array().unwrap().is_empty());
    report().await;
    same_rules().await;
    // Nothing left to remove.
    let (x, y) = run_both(&sqlite, &pg, &["prune"]).await;
    assert_eq!(without_cutoffs(&x.stdout), without_cutoffs(&y.stdout));
    assert!(x.stdout.starts_with("mentions: 0 "), "{x:?}");
}

/// `backup FILE` with `[database] url` writes an SQLite database file from
/// one snapshot of PostgreSQL: it passes `check`, and `report`, `list`,
/// `exclusions` and `sources` read the same from it as from PostgreSQL
/// (and from the SQLite database the same crawls went to).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_of_postgres_is_an_sqlite_file_that_reads_the_same() {
    let Some(db) = TestDb::create("it backup").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (sqlite, pg) = both(dir.path(), &db).await;
    let file = dir.path().join("copy.db");
    let run = mentions(&pg, &["backup", file.to_str().unwrap()]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert_no_password(&run);
    assert!(
        run.stdout
            .starts_with(&format!("backup: wrote {} (33 mentions, ", file.display())),
        "{run:?}"
    );
    assert!(run.stdout.ends_with(", integrity ok)\n"), "{run:?}");
    // Only the file: no journal or partial copy beside it.
    let mut left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.contains("copy"))
        .collect();
    left.sort();
    assert_eq!(left, ["copy.db"]);
    // Again without --force: refused; with it: replaced.
    let again = mentions(&pg, &["backup", file.to_str().unwrap()]).await;
    assert_eq!(again.code, 2, "{again:?}");
    let forced = mentions(&pg, &["backup", file.to_str().unwrap(), "--force"]).await;
    assert_eq!(forced.code, 0, "{forced:?}");

    let rest = std::fs::read_to_string(&sqlite).unwrap();
    let rest = &rest[rest.find("[[topic]]").unwrap()..];
    let copy_dir = dir.path().join("copy");
    std::fs::create_dir_all(&copy_dir).unwrap();
    let copy = write_config(
        &copy_dir,
        &format!("[database]\npath = \"{}\"\n\n{rest}", file.display()),
    );
    let check = mentions(&copy, &["check"]).await;
    assert_eq!(check.code, 0, "{check:?}");
    let window = [
        "--from",
        "2026-11-17T17:30:00Z",
        "--to",
        "2026-11-18T16:10:00Z",
    ];
    for args in [
        [
            &["report"][..],
            &window,
            &["--format", "json", "--topic", "nk"],
        ]
        .concat(),
        [&["list"][..], &window, &["--format", "json"]].concat(),
        [&["list"][..], &window, &["--excluded", "--format", "json"]].concat(),
        vec!["exclusions", "--format", "json"],
    ] {
        // Ids and all: the copy keeps PostgreSQL's.
        let (from_pg, from_copy) = run_both(&pg, &copy, &args).await;
        assert_eq!(from_pg.json(), from_copy.json(), "{args:?}");
        same_json(&sqlite, &copy, &args).await;
    }
    let (from_pg, from_copy) = run_both(&pg, &copy, &["sources", "--format", "json"]).await;
    let names = |v: Value| -> Vec<(Value, Value)> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| (s["name"].clone(), s["mentions"].clone()))
            .collect()
    };
    assert_eq!(names(from_pg.json()), names(from_copy.json()));
}
