//! Dashboard benchmark on the 10 M-mention database the report and listing
//! benchmarks share: the server-side work of one dashboard view — the page's
//! data (`dashboard::data::load`: report, previous window, chart series,
//! alert crossings, top domains and sources, health, the list's first page
//! and its count) and rendering the HTML — for windows up to 90 days, plus
//! a filtered list, a bar's part and a second page. Prints the bytes of the
//! HTML and of the embedded assets (stylesheet, script, icon). The figures
//! are checked against a direct COUNT over the mention rows.
//!
//! `cargo bench --bench dashboard -- [--mentions N] [--runs N]`

mod common;
#[path = "common/store10m.rs"]
mod store10m;

use chrono::DateTime;
use common::*;
use mentions::dashboard::{data, params::View};
use mentions::store::Store;
use std::time::Instant;
use store10m::*;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2] * 1000.0
}

fn timed<T>(runs: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut times = Vec::new();
    let mut out = None;
    for _ in 0..runs {
        let t0 = Instant::now();
        out = Some(f());
        times.push(t0.elapsed().as_secs_f64());
    }
    (median(times), out.expect("runs > 0"))
}

/// Counted mentions of `topic` in `[from, to)` matching `extra` (SQL), from the rows.
fn direct(conn: &rusqlite::Connection, topic: &str, from: i64, to: i64, extra: &str) -> u64 {
    conn.query_row(
        &format!(
            "SELECT count(*) FROM mention JOIN topic ON topic.id = topic_id
             WHERE topic.name = ?1 AND at >= ?2 AND at < ?3 AND excluded_by IS NULL AND {extra}"
        ),
        (topic, from, to),
        |r| r.get::<_, i64>(0),
    )
    .expect("count") as u64
}

fn rfc(t: i64) -> String {
    DateTime::from_timestamp(t, 0)
        .expect("time")
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn main() {
    let mut mentions = 10_000_000u64;
    let mut runs = 20usize;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--mentions" => mentions = it.next().and_then(|v| v.parse().ok()).unwrap_or(mentions),
            "--runs" => runs = it.next().and_then(|v| v.parse().ok()).unwrap_or(runs),
            _ => {}
        }
    }
    let end = END;
    let db = database(mentions, end);
    let mut config = format!("[database]\n{}\n\n", database_path(&db));
    for t in 0..TOPICS_N {
        config.push_str(&format!(
            "[[topic]]\nname = \"topic-{t}\"\nquery = 'word{t}'\n\n"
        ));
    }
    for s in 0..SOURCES_N {
        config.push_str(&format!(
            "[[source]]\nname = \"source-{s:03}\"\ntype = \"feed\"\nkind = \"{}\"\nurl = \"http://127.0.0.1:9/feed/{s}.xml\"\n\n",
            kind_of(s).as_str()
        ));
    }
    let config_path = out_dir().join("dashboard-config.toml");
    std::fs::write(&config_path, config).expect("write config");
    let settings = mentions::config::Settings::load(&config_path).expect("config loads");
    // As the endpoint reads: a read-only connection.
    let store = Store::open_read_only(&db).expect("open");
    let conn = rusqlite::Connection::open(&db).expect("open");
    let now = DateTime::from_timestamp(end, 0).expect("now");
    println!("dashboard: {mentions} mentions, {TOPICS_N} topics, {SOURCES_N} sources, {DAYS} days; medians of {runs} runs");
    println!(
        "  view                                 data (ms)  render (ms)  HTML bytes  listed   check"
    );
    let mut failed = false;
    let mut worst = 0f64;
    let mut html_90d = 0usize;
    let views: Vec<(&str, String)> = vec![
        ("24 h", "topic=topic-3&since=24h".into()),
        ("7 d", "topic=topic-3&since=7d".into()),
        ("30 d", "topic=topic-3&since=30d".into()),
        ("90 d", "topic=topic-3&since=90d".into()),
        (
            "90 d, from-to",
            format!(
                "topic=topic-3&from={}&to={}",
                rfc(end - 90 * 86_400),
                rfc(end)
            ),
        ),
        (
            "90 d, one domain",
            "topic=topic-3&since=90d&domain=www.site07.example".into(),
        ),
        (
            "90 d, kind social",
            "topic=topic-3&since=90d&kind=social".into(),
        ),
        (
            "90 d, one day (bar)",
            format!(
                "topic=topic-3&since=90d&lfrom={}&lto={}",
                rfc(end - 10 * 86_400 - 1_234),
                rfc(end - 9 * 86_400 - 1_234)
            ),
        ),
    ];
    for (name, query) in &views {
        let view = View::parse(query, &settings, now).expect("view");
        let (ms, page) = timed(runs, || data::load(&store, &settings, &view).expect("load"));
        let (render_ms, html) = timed(runs, || {
            mentions::dashboard::render_page(&view, &page, &settings)
        });
        let w = view.list_window();
        let extra = if !view.domains.is_empty() {
            "host = 'www.site07.example'"
        } else if !view.kinds.is_empty() {
            "kind = 1"
        } else {
            "1"
        };
        let want = direct(
            &conn,
            "topic-3",
            w.from.timestamp(),
            w.to.timestamp(),
            extra,
        );
        let whole = direct(
            &conn,
            "topic-3",
            view.window.from.timestamp(),
            view.window.to.timestamp(),
            "1",
        );
        let ok = page.listed == want
            && page.report.total == whole
            && page.chart.as_ref().is_ok_and(|c| {
                c.points.iter().map(|p| p.counts.total()).sum::<u64>() == page.report.total
            });
        failed |= !ok;
        if name.starts_with("90 d") {
            worst = worst.max(ms + render_ms);
        }
        if *name == "90 d" {
            html_90d = html.len();
            // For a look at what the bytes are.
            let _ = std::fs::write(out_dir().join("dashboard-90d.html"), &html);
        }
        println!(
            "  {name:<34} {ms:9.2}  {render_ms:11.2}  {:10}  {:7}  {}",
            html.len(),
            page.listed,
            if ok { "OK" } else { "DIFFERS" }
        );
        // The second page of the same view.
        if *name == "90 d" {
            let cursor = page.next.expect("a second page");
            let next = view.next_page(cursor, page.rows.len() as u64);
            let (ms, second) = timed(runs, || data::load(&store, &settings, &next).expect("load"));
            println!("  {:<34} {ms:9.2}", "90 d, second page");
            failed |= second.rows.first().map(|m| (m.at_secs, m.id)) >= Some(cursor);
        }
    }
    let assets = mentions::dashboard::asset_bytes();
    println!(
        "page weight, 90 d: HTML {html_90d} bytes + assets {assets} bytes = {} bytes ({:.0} KB)",
        html_90d + assets,
        (html_90d + assets) as f64 / 1000.0
    );
    println!(
        "dashboard_worst_90d_ms={worst:.1} dashboard_page_bytes={}",
        html_90d + assets
    );
    if failed {
        eprintln!("a check failed");
        std::process::exit(2);
    }
}
