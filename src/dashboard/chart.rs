//! The chart of mentions over time: one stacked bar per hour (windows up to
//! 72 h) or per UTC day, web at the bottom, then social, then forums, and
//! the alert crossings of the topic marked in red. Drawn as SVG on the
//! server: the dashboard inlines it (each bar a link that lists its
//! mentions), and `mentions report --format svg` writes it as a standalone
//! document for cron jobs.
//!
//! The output is deterministic: the same window and database give the same
//! bytes. Every bar segment is a `rect.mark` with `data-kind` and
//! `data-count`, inside a `.bucket` element with `data-start` and
//! `data-end`, so tests and scripts can read the figures back; all colours
//! are presentation attributes, so the SVG needs no stylesheet.

use super::words::{number, words};
use crate::config::Lang;
use crate::report::{kind_label, Window};
use crate::sources::Kind;
use crate::store::{Bucket, Reads, SeriesPoint, StoreError};
use chrono::{DateTime, SecondsFormat, Timelike, Utc};
use maud::{html, Markup};

/// Windows up to this long are drawn per hour.
pub const HOURLY_UP_TO: chrono::Duration = chrono::Duration::hours(72);
/// The longest window the chart draws (one bar per day).
pub const MAX_DAYS: i64 = 366;

const WIDTH: f64 = 960.0;
const HEIGHT: f64 = 320.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 44.0;
const BOTTOM: f64 = 40.0;
const INK: &str = "#1f2328";
const MUTED: &str = "#57606a";
const GRID: &str = "#d0d7de";
const ALERT: &str = "#b3261e";

/// Kinds bottom to top, with their colours (contrast at least 3:1 on white).
pub const KINDS: [(Kind, &str); 3] = [
    (Kind::Web, "#1f5fa8"),
    (Kind::Social, "#b35900"),
    (Kind::Forum, "#2b7a4b"),
];

/// An alert crossing to mark: the alert's window and what it counted.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertMark {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub count: u64,
    /// `threshold 50` or `factor 3`.
    pub trigger: String,
}

/// What the chart shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    pub topic: String,
    pub window: Window,
    pub bucket: Bucket,
    pub points: Vec<SeriesPoint>,
    pub alerts: Vec<AlertMark>,
}

/// Per hour up to 72 h, per day beyond.
pub fn bucket_for(window: Window) -> Bucket {
    if window.to - window.from <= HOURLY_UP_TO {
        Bucket::Hour
    } else {
        Bucket::Day
    }
}

/// Whether the chart can draw `window` (at most `MAX_DAYS`).
pub fn drawable(window: Window) -> Result<(), String> {
    if window.to - window.from > chrono::Duration::days(MAX_DAYS) {
        Err(format!(
            "the chart covers at most {MAX_DAYS} days; pick a shorter window"
        ))
    } else {
        Ok(())
    }
}

/// Reads the chart of `topic` for `window` (which must be `drawable`):
/// the same counts `report` gives, bucket by bucket.
pub fn load(store: &dyn Reads, topic: &str, window: Window) -> Result<Chart, StoreError> {
    let bucket = bucket_for(window);
    let points = store.series(topic, window.from, window.to, bucket)?;
    let alerts = store
        .alert_crossings(topic, window.from, window.to)?
        .into_iter()
        .map(|a| AlertMark {
            start: a.window_start,
            end: a.window_start
                + chrono::Duration::seconds(i64::try_from(a.window_secs).unwrap_or(i64::MAX / 4)),
            count: a.count,
            trigger: a.trigger,
        })
        .collect();
    Ok(Chart {
        topic: topic.to_owned(),
        window,
        bucket,
        points,
        alerts,
    })
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A coordinate with one decimal: stable text for the same input.
fn c(v: f64) -> String {
    format!("{v:.1}")
}

/// The grid step and the top of the y axis for a largest bar of `max`.
fn y_scale(max: u64) -> (u64, u64) {
    let mut step = 1u64;
    loop {
        for m in [1, 2, 5] {
            let s = step.saturating_mul(m);
            if max.div_ceil(s) <= 5 {
                return (s, max.div_ceil(s).max(1) * s);
            }
        }
        step = step.saturating_mul(10);
    }
}

/// A time as the page and the text report write it.
pub fn time_label(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M").to_string()
}

/// A bucket for people: `2026-11-24` for a whole day, else its ends
/// (`2026-11-24 14:00–15:00`, `2026-11-24 16:23–24:00`).
pub fn bucket_label(p: &SeriesPoint, bucket: Bucket) -> String {
    let whole = (p.end - p.start).num_seconds() == bucket.secs();
    let next_midnight = p
        .start
        .date_naive()
        .succ_opt()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc());
    if bucket == Bucket::Day && whole {
        p.start.format("%Y-%m-%d").to_string()
    } else if p.end.date_naive() == p.start.date_naive() {
        format!("{}–{}", time_label(p.start), p.end.format("%H:%M"))
    } else if Some(p.end) == next_midnight {
        format!("{}–24:00", time_label(p.start))
    } else {
        format!("{} – {}", time_label(p.start), time_label(p.end))
    }
}

fn axis_label(t: DateTime<Utc>, bucket: Bucket, lang: Lang) -> String {
    let date = match lang {
        Lang::En => t.format("%b %-d").to_string(),
        Lang::De => t.format("%-d.%-m.").to_string(),
    };
    match bucket {
        Bucket::Hour if t.hour() != 0 => t.format("%H:%M").to_string(),
        _ => date,
    }
}

/// The chart as an `<svg>` element. With `link`, each bar is a link to the
/// URL it returns for that bucket, and each legend entry to the one for
/// that kind (`kind_link`).
pub fn svg(
    chart: &Chart,
    lang: Lang,
    link: Option<&dyn Fn(&SeriesPoint) -> String>,
    kind_link: Option<&dyn Fn(Kind) -> String>,
) -> Markup {
    let w = words(lang);
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let (from, to) = (chart.window.from.timestamp(), chart.window.to.timestamp());
    let span = (to - from).max(1) as f64;
    let x = |t: DateTime<Utc>| LEFT + (t.timestamp().clamp(from, to) - from) as f64 / span * plot_w;
    let max = chart
        .points
        .iter()
        .map(|p| p.counts.total())
        .max()
        .unwrap_or(0);
    let (step, top) = y_scale(max);
    let per = plot_h / top as f64;
    let base = TOP + plot_h;
    let heading = format!(
        "{} · {} – {} UTC",
        chart.topic,
        time_label(chart.window.from),
        time_label(chart.window.to)
    );
    let per_what = match chart.bucket {
        Bucket::Hour => w.chart_per_hour,
        Bucket::Day => w.chart_per_day,
    };
    // Axis labels on every k-th bucket boundary, at most about 12.
    let boundaries: Vec<DateTime<Utc>> = chart
        .points
        .iter()
        .map(|p| p.start)
        .filter(|t| t.timestamp() % chart.bucket.secs() == 0)
        .collect();
    let every = match chart.bucket {
        Bucket::Hour => [1, 2, 3, 6, 12, 24]
            .into_iter()
            .find(|k| boundaries.len() as i64 / k <= 12)
            .unwrap_or(24),
        Bucket::Day => [1, 2, 7, 14, 28, 56]
            .into_iter()
            .find(|k| boundaries.len() as i64 / k <= 12)
            .unwrap_or(56),
    };
    let labelled: Vec<DateTime<Utc>> = boundaries
        .into_iter()
        .filter(|t| match chart.bucket {
            Bucket::Hour => i64::from(t.hour()) % every == 0,
            Bucket::Day => (t.timestamp() / 86_400) % every == 0,
        })
        .collect();
    let bar = |p: &SeriesPoint| -> Markup {
        let (x0, x1) = (x(p.start), x(p.end));
        let bw = ((x1 - x0) * 0.8).max(0.5);
        let bx = x0 + (x1 - x0 - bw) / 2.0;
        let title = format!(
            "{}: {}",
            bucket_label(p, chart.bucket),
            KINDS
                .iter()
                .map(|&(k, _)| format!("{} {}", kind_label(k, lang), number(count(p, k), lang)))
                .collect::<Vec<_>>()
                .join(", ")
        );
        // Stacked upwards: each segment starts where the one below ends.
        let mut y = base;
        let segments: Vec<(Kind, &str, u64, f64, f64)> = KINDS
            .iter()
            .map(|&(kind, colour)| {
                let n = count(p, kind);
                let h = n as f64 * per;
                y -= h;
                (kind, colour, n, y, h)
            })
            .collect();
        let rects = html! {
            title { (title) }
            @for (kind, colour, n, y, h) in segments {
                rect.mark data-kind=(kind.as_str()) data-count=(n) x=(c(bx)) y=(c(y)) width=(c(bw)) height=(c(h)) fill=(colour) {}
            }
        };
        match link {
            Some(link) => html! {
                a.bucket href=(link(p)) data-start=(rfc3339(p.start)) data-end=(rfc3339(p.end)) { (rects) }
            },
            None => html! {
                g.bucket data-start=(rfc3339(p.start)) data-end=(rfc3339(p.end)) { (rects) }
            },
        }
    };
    html! {
        svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox=(format!("0 0 {WIDTH} {HEIGHT}"))
            width=(WIDTH) height=(HEIGHT) role=(if link.is_some() { "group" } else { "img" })
            font-family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif" font-size="12" {
            title { (w.chart) " · " (heading) }
            desc {
                (per_what) ". "
                @for (i, &(kind, _)) in KINDS.iter().enumerate() {
                    @if i > 0 { ", " }
                    (kind_label(kind, lang)) " " (number(chart.points.iter().map(|p| count(p, kind)).sum(), lang))
                }
                "."
            }
            rect x="0" y="0" width=(WIDTH) height=(HEIGHT) fill="#ffffff" {}
            text x=(LEFT) y="18" fill=(INK) font-size="14" font-weight="600" { (heading) }
            text x=(LEFT) y="34" fill=(MUTED) { (w.chart) ", " (per_what) }
            // Legend, right-aligned: each kind a swatch and its name.
            @for (i, &(kind, colour)) in KINDS.iter().enumerate() {
                @let lx = WIDTH - RIGHT - 270.0 + i as f64 * 90.0;
                @let entry = html! {
                    rect x=(c(lx)) y="10" width="12" height="12" fill=(colour) {}
                    text x=(c(lx + 17.0)) y="20" fill=(INK) { (kind_label(kind, lang)) }
                };
                @match kind_link {
                    Some(l) => { a.legend href=(l(kind)) data-kind=(kind.as_str()) { (entry) } }
                    None => { g.legend data-kind=(kind.as_str()) { (entry) } }
                }
            }
            // Grid and y labels.
            @for i in 0..=(top / step) {
                @let v = i * step;
                @let gy = base - v as f64 * per;
                line x1=(LEFT) x2=(c(WIDTH - RIGHT)) y1=(c(gy)) y2=(c(gy)) stroke=(GRID) stroke-width="1" {}
                text x=(c(LEFT - 6.0)) y=(c(gy + 4.0)) text-anchor="end" fill=(MUTED) { (number(v, lang)) }
            }
            @for t in &labelled {
                line x1=(c(x(*t))) x2=(c(x(*t))) y1=(c(base)) y2=(c(base + 5.0)) stroke=(MUTED) stroke-width="1" {}
                text x=(c(x(*t))) y=(c(base + 18.0)) text-anchor="middle" fill=(MUTED) { (axis_label(*t, chart.bucket, lang)) }
            }
            g.bars { @for p in &chart.points { (bar(p)) } }
            line x1=(LEFT) x2=(c(WIDTH - RIGHT)) y1=(c(base)) y2=(c(base)) stroke=(INK) stroke-width="1" {}
            @for a in &chart.alerts {
                @let ax = x(a.start.max(chart.window.from));
                g.alert data-start=(rfc3339(a.start)) data-end=(rfc3339(a.end)) data-count=(a.count) {
                    title {
                        (w.alert) ": " (a.trigger) " · " (number(a.count, lang)) " " (w.mentions_word)
                        ", " (time_label(a.start)) " – " (time_label(a.end)) " UTC"
                    }
                    line x1=(c(ax)) x2=(c(ax)) y1=(c(TOP - 2.0)) y2=(c(base)) stroke=(ALERT) stroke-width="1.5" stroke-dasharray="4 3" {}
                    path d=(format!("M{} {}l-5 -8h10z", c(ax), c(TOP - 2.0))) fill=(ALERT) {}
                }
            }
            text x=(c(WIDTH - RIGHT)) y=(c(HEIGHT - 6.0)) text-anchor="end" fill=(MUTED) { "UTC" }
        }
    }
}

fn count(p: &SeriesPoint, kind: Kind) -> u64 {
    match kind {
        Kind::Web => p.counts.web,
        Kind::Social => p.counts.social,
        Kind::Forum => p.counts.forum,
    }
}

/// The charts as one standalone SVG document, one below the other.
pub fn document(charts: &[Chart], lang: Lang) -> String {
    let height = HEIGHT * charts.len().max(1) as f64;
    let body = html! {
        svg xmlns="http://www.w3.org/2000/svg" width=(WIDTH) height=(height)
            viewBox=(format!("0 0 {WIDTH} {height}")) {
            @for (i, chart) in charts.iter().enumerate() {
                g transform=(format!("translate(0 {})", HEIGHT * i as f64)) { (svg(chart, lang, None, None)) }
            }
        }
    };
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&body.into_string());
    out.push('\n');
    out
}

/// The chart's figures as rows: bucket label, counts per kind, total.
pub fn rows(chart: &Chart) -> impl Iterator<Item = (String, &SeriesPoint)> + '_ {
    chart
        .points
        .iter()
        .map(|p| (bucket_label(p, chart.bucket), p))
}

/// For templates: the kind's count in a point.
pub fn kind_count(p: &SeriesPoint, kind: Kind) -> u64 {
    count(p, kind)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::KindCounts;
    use chrono::TimeZone;

    fn t(h: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, 0, 0, 0).unwrap() + chrono::Duration::minutes(h)
    }

    fn chart() -> Chart {
        let window = Window {
            from: t(30),
            to: t(3 * 60),
        };
        Chart {
            topic: "nk <\"&\">".into(),
            window,
            bucket: Bucket::Hour,
            points: vec![
                SeriesPoint {
                    start: t(30),
                    end: t(60),
                    counts: KindCounts {
                        web: 1,
                        social: 0,
                        forum: 2,
                    },
                },
                SeriesPoint {
                    start: t(60),
                    end: t(120),
                    counts: KindCounts {
                        web: 4,
                        social: 3,
                        forum: 0,
                    },
                },
                SeriesPoint {
                    start: t(120),
                    end: t(180),
                    counts: KindCounts::default(),
                },
            ],
            alerts: vec![AlertMark {
                start: t(60),
                end: t(120),
                count: 7,
                trigger: "threshold 5".into(),
            }],
        }
    }

    #[test]
    fn scales_to_round_steps() {
        assert_eq!(y_scale(0), (1, 1));
        assert_eq!(y_scale(5), (1, 5));
        assert_eq!(y_scale(7), (2, 8));
        assert_eq!(y_scale(23), (5, 25));
        assert_eq!(y_scale(480), (100, 500));
        assert_eq!(y_scale(999_999), (200_000, 1_000_000));
    }

    #[test]
    fn one_mark_per_bucket_and_kind_with_heights_in_proportion() {
        let doc = document(&[chart()], Lang::De);
        assert!(doc.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg "));
        // Well-formed XML, names escaped.
        let mut reader = quick_xml::Reader::from_str(&doc);
        let mut marks = Vec::new();
        loop {
            match reader.read_event().unwrap() {
                quick_xml::events::Event::Eof => break,
                quick_xml::events::Event::Start(e) if e.local_name().as_ref() == "rect" => {
                    let get = |name: &str| {
                        e.attributes()
                            .flatten()
                            .find(|a| a.key.as_ref() == name)
                            .map(|a| a.value.to_string())
                    };
                    if let (Some(kind), Some(n), Some(h)) =
                        (get("data-kind"), get("data-count"), get("height"))
                    {
                        marks.push((kind, n.parse::<u64>().unwrap(), h.parse::<f64>().unwrap()));
                    }
                }
                _ => {}
            }
        }
        let counts: Vec<(&str, u64)> = marks.iter().map(|(k, n, _)| (k.as_str(), *n)).collect();
        assert_eq!(
            counts,
            [
                ("web", 1),
                ("social", 0),
                ("forum", 2),
                ("web", 4),
                ("social", 3),
                ("forum", 0),
                ("web", 0),
                ("social", 0),
                ("forum", 0)
            ]
        );
        // y axis to 8 (step 2): 236 px for 8 mentions.
        for (_, n, h) in &marks {
            assert!((h - *n as f64 * 236.0 / 8.0).abs() < 0.06, "{n} {h}");
        }
        assert!(doc.contains("nk &lt;&quot;&amp;&quot;&gt;"), "{doc}");
        assert!(doc.contains("Alarm: threshold 5 · 7 Erwähnungen"));
        assert_eq!(doc, document(&[chart()], Lang::De));
    }

    #[test]
    fn links_when_asked() {
        let link = |p: &SeriesPoint| format!("/?lfrom={}", p.start.timestamp());
        let kind = |k: Kind| format!("/?kind={}", k.as_str());
        let html = svg(&chart(), Lang::En, Some(&link), Some(&kind)).into_string();
        assert_eq!(html.matches("<a class=\"bucket\"").count(), 3);
        assert!(html.contains("href=\"/?kind=forum\""));
        assert!(html.contains("2026-11-24 00:30–01:00: Web 1, Social 0, Forums 2"));
    }
}
