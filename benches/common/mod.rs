//! What the benchmarks share: a deterministic corpus of RSS feeds in German
//! and English whose expected mention counts are known in advance, and the
//! few measurements (peak RSS, CPU time) read from /proc.

#![allow(dead_code)]

use std::fmt::Write as _;

/// The two topics of every benchmark, as a config would write them.
pub const TOPICS: &[(&str, &str)] = &[
    (
        "nordkorea-russland",
        r#"(nordkorea* OR "north korea") AND (russland* OR russia* OR putin OR kursk) NOT fußball"#,
    ),
    (
        "klima",
        r#"(klimawandel OR "climate change" OR klimaschutz*) NOT werbung"#,
    ),
];

/// Items per feed document and new stories per document (the rest repeat
/// the previous document, as a feed polled again does).
pub const ITEMS_PER_FEED: usize = 250;
pub const NEW_PER_FEED: usize = 200;

const DE: &[&str] = &[
    "die",
    "der",
    "das",
    "und",
    "mit",
    "für",
    "nach",
    "über",
    "unter",
    "bei",
    "gegen",
    "wegen",
    "Regierung",
    "Bundestag",
    "Ministerin",
    "Minister",
    "Kanzler",
    "Opposition",
    "Haushalt",
    "Entwurf",
    "Gesetz",
    "Gericht",
    "Urteil",
    "Kommission",
    "Bericht",
    "Studie",
    "Experten",
    "Wirtschaft",
    "Inflation",
    "Zinsen",
    "Banken",
    "Börse",
    "Unternehmen",
    "Arbeitsplätze",
    "Gewerkschaft",
    "Tarifverhandlungen",
    "Streik",
    "Bahn",
    "Flughafen",
    "Verkehr",
    "Straße",
    "Brücke",
    "Sanierung",
    "Schulen",
    "Lehrer",
    "Kinder",
    "Familien",
    "Rente",
    "Pflege",
    "Krankenhaus",
    "Ärzte",
    "Gesundheit",
    "Impfung",
    "Wetter",
    "Sturm",
    "Hochwasser",
    "Hitze",
    "Sommer",
    "Winter",
    "Montag",
    "Dienstag",
    "Mittwoch",
    "Donnerstag",
    "Freitag",
    "Samstag",
    "Sonntag",
    "Woche",
    "Jahr",
    "Monat",
    "heute",
    "gestern",
    "morgen",
    "bereits",
    "weiterhin",
    "deutlich",
    "schnell",
    "langsam",
    "wichtig",
    "schwierig",
    "möglich",
    "neue",
    "alte",
    "große",
    "kleine",
    "erste",
    "letzte",
    "weitere",
    "sagte",
    "erklärte",
    "kündigte",
    "forderte",
    "kritisierte",
    "bestätigte",
    "berichtete",
    "meldete",
    "Polizei",
    "Feuerwehr",
    "Einsatz",
    "Stadt",
    "Gemeinde",
    "Bürgermeister",
    "Landrat",
    "Bayern",
    "Berlin",
    "Hamburg",
    "München",
    "Köln",
    "Frankfurt",
    "Stuttgart",
    "Dresden",
    "Leipzig",
    "Europa",
    "Brüssel",
    "Paris",
    "Washington",
    "Peking",
    "Kiew",
    "Ukraine",
    "China",
    "Frankreich",
    "Polen",
    "Österreich",
    "Schweiz",
    "Wahl",
    "Umfrage",
    "Partei",
    "Koalition",
    "Streit",
    "Einigung",
    "Gipfel",
    "Treffen",
    "Gespräche",
    "Verhandlungen",
    "Abkommen",
    "Vertrag",
    "Sanktionen",
    "Soldaten",
    "Truppen",
    "Armee",
    "Waffen",
    "Raketen",
    "Angriff",
    "Front",
    "Grenze",
    "Flüchtlinge",
    "Hilfe",
    "Millionen",
    "Milliarden",
    "Euro",
    "Prozent",
    "Zahl",
    "Preise",
    "Energie",
    "Strom",
    "Gas",
    "Heizung",
    "Wärmepumpe",
    "Windkraft",
    "Solar",
    "Netz",
    "Digitalisierung",
    "Internet",
    "Daten",
    "Sicherheit",
    "Forschung",
    "Universität",
    "Kultur",
    "Theater",
    "Musik",
    "Museum",
    "Ausstellung",
    "Bundesliga",
    "Trainer",
    "Mannschaft",
    "Spiel",
    "Tore",
    "Sieg",
    "Niederlage",
    "Meisterschaft",
    "Gemeinderat",
    "Straßenbahn",
    "Großprojekt",
    "Außenpolitik",
];

const EN: &[&str] = &[
    "the",
    "a",
    "of",
    "and",
    "with",
    "for",
    "after",
    "over",
    "under",
    "against",
    "amid",
    "government",
    "parliament",
    "minister",
    "president",
    "opposition",
    "budget",
    "draft",
    "law",
    "court",
    "ruling",
    "commission",
    "report",
    "study",
    "experts",
    "economy",
    "inflation",
    "rates",
    "banks",
    "markets",
    "companies",
    "jobs",
    "union",
    "talks",
    "strike",
    "rail",
    "airport",
    "traffic",
    "road",
    "bridge",
    "repairs",
    "schools",
    "teachers",
    "children",
    "families",
    "pensions",
    "care",
    "hospital",
    "doctors",
    "health",
    "vaccine",
    "weather",
    "storm",
    "flooding",
    "heat",
    "summer",
    "winter",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
    "week",
    "year",
    "month",
    "today",
    "yesterday",
    "tomorrow",
    "already",
    "still",
    "sharply",
    "quickly",
    "slowly",
    "important",
    "difficult",
    "possible",
    "new",
    "old",
    "large",
    "small",
    "first",
    "last",
    "further",
    "said",
    "explained",
    "announced",
    "demanded",
    "criticised",
    "confirmed",
    "reported",
    "police",
    "firefighters",
    "city",
    "council",
    "mayor",
    "governor",
    "London",
    "Manchester",
    "Leeds",
    "Glasgow",
    "Dublin",
    "Brussels",
    "Paris",
    "Washington",
    "Beijing",
    "Kyiv",
    "Ukraine",
    "China",
    "France",
    "Poland",
    "Austria",
    "election",
    "poll",
    "party",
    "coalition",
    "dispute",
    "agreement",
    "summit",
    "meeting",
    "negotiations",
    "treaty",
    "sanctions",
    "soldiers",
    "troops",
    "army",
    "weapons",
    "missiles",
    "attack",
    "frontline",
    "border",
    "refugees",
    "aid",
    "millions",
    "billions",
    "pounds",
    "dollars",
    "percent",
    "number",
    "prices",
    "energy",
    "power",
    "gas",
    "heating",
    "wind",
    "solar",
    "grid",
    "internet",
    "data",
    "security",
    "research",
    "university",
    "culture",
    "theatre",
    "music",
    "museum",
    "exhibition",
    "league",
    "coach",
    "team",
    "match",
    "goals",
    "victory",
    "defeat",
    "championship",
    "officials",
    "spokesperson",
    "analysts",
    "investors",
    "voters",
];

/// Words that make an item match (never in the vocabularies above).
const KOREA: &[&str] = &["Nordkorea", "Nordkoreas", "North Korea", "nordkoreanische"];
const RUSSIA: &[&str] = &[
    "Russland",
    "Russlands",
    "Putin",
    "Kursk",
    "Russia",
    "Kremlchef Putin",
];
const CLIMATE: &[&str] = &[
    "Klimawandel",
    "climate change",
    "Klimaschutzgesetz",
    "Klimaschutz",
];

/// The text of one story, before any copying: which topics it matches is
/// decided here, so the benchmark knows its expected counts.
#[derive(Debug, Clone)]
pub struct Story {
    pub title: String,
    pub body: String,
    /// Bit 0: matches topic 0; bit 1: matches topic 1.
    pub topics: u8,
}

fn words(rng: &mut fastrand::Rng, vocab: &[&str], n: usize, out: &mut String) {
    for i in 0..n {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(vocab[rng.usize(..vocab.len())]);
        if i % 11 == 10 {
            out.push('.');
        }
    }
}

/// Story `k` of source `s`, deterministic.
pub fn base_story(s: usize, k: usize) -> Story {
    let mut rng = fastrand::Rng::with_seed((s as u64) << 32 | k as u64);
    let vocab = if s.is_multiple_of(2) { DE } else { EN };
    let mut title = String::new();
    let n = 6 + rng.usize(..5);
    words(&mut rng, vocab, n, &mut title);
    let mut body = String::new();
    let n = 40 + rng.usize(..40);
    words(&mut rng, vocab, n, &mut body);
    // Half the stories match: 45 % the first topic, 45 % the second, 10 % both.
    let roll = rng.u32(..1000);
    let mut topics = 0u8;
    let mut inject: Vec<&str> = Vec::new();
    if roll < 500 {
        let which = rng.u32(..100);
        if which < 55 {
            topics |= 1;
            inject.push(KOREA[rng.usize(..KOREA.len())]);
            inject.push(RUSSIA[rng.usize(..RUSSIA.len())]);
        }
        if which >= 45 {
            topics |= 2;
            inject.push(CLIMATE[rng.usize(..CLIMATE.len())]);
        }
    } else if roll < 560 {
        // Near misses: one side of the first topic, or its excluded word.
        match rng.u32(..3) {
            0 => inject.push(KOREA[rng.usize(..KOREA.len())]),
            1 => inject.push(RUSSIA[rng.usize(..RUSSIA.len())]),
            _ => {
                inject.extend(["Nordkorea", "Russland", "Fußball-WM"]);
            }
        }
    } else if roll < 580 {
        inject.extend(["Klimaschutz", "Werbung"]);
    }
    for (i, w) in inject.into_iter().enumerate() {
        if i == 0 && rng.bool() {
            title.push(' ');
            title.push_str(w);
        } else {
            body.push(' ');
            body.push_str(w);
            body.push_str(" und");
        }
    }
    Story {
        title,
        body,
        topics,
    }
}

/// The host a source publishes on: two sources (sections) per host.
pub fn host(s: usize) -> String {
    if (s / 2).is_multiple_of(2) {
        format!("www.zeitung{}.de", s / 2)
    } else {
        format!("www.news{}.example.com", s / 2)
    }
}

/// How an entry of a feed relates to other entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Copy {
    /// An original story.
    Original,
    /// The previous story's text under another URL on the same host: not counted.
    SameHost,
    /// Another host's story verbatim, on this host: counted (another publication).
    Agency,
    /// The sibling section's story with the same URL: not counted.
    Section,
}

pub fn copy_kind(s: usize, k: usize) -> Copy {
    match k % 50 {
        7 => Copy::SameHost,
        13 => Copy::Agency,
        21 if s.is_multiple_of(2) => Copy::Section,
        _ => Copy::Original,
    }
}

/// Link (with tracking parameters, as feeds send them), text and topics of story `k` of source `s`.
pub fn entry(s: usize, k: usize, sources: usize) -> (String, Story) {
    let h = host(s);
    match copy_kind(s, k) {
        Copy::Original => (
            format!("https://{h}/politik/{s}-{k}.html?utm_source=rss&utm_medium=feed"),
            base_story(s, k),
        ),
        Copy::SameHost => (
            format!("https://{h}/amp/{s}-{}.html", k - 1),
            base_story(s, k - 1),
        ),
        Copy::Agency => (
            format!("https://{h}/agentur/{s}-{k}.html"),
            base_story((s + 2) % sources, k),
        ),
        Copy::Section => (
            format!(
                "https://{}/politik/{}-{k}.html?utm_source=rss",
                host(s + 1),
                s + 1
            ),
            base_story(s + 1, k),
        ),
    }
}

/// Expected mentions per topic for `sources` sources crawled `docs` times each.
pub fn expected(sources: usize, docs: usize) -> [u64; 2] {
    let stories = NEW_PER_FEED * (docs - 1) + ITEMS_PER_FEED;
    let mut counts = [0u64; 2];
    for s in 0..sources {
        for k in 0..stories {
            let story = match copy_kind(s, k) {
                Copy::SameHost | Copy::Section => continue,
                Copy::Agency => base_story((s + 2) % sources, k),
                Copy::Original => base_story(s, k),
            };
            for (t, c) in counts.iter_mut().enumerate() {
                if story.topics & (1 << t) != 0 {
                    *c += 1;
                }
            }
        }
    }
    counts
}

/// Feed document `d` of source `s`: RSS 2.0, 250 items, HTML in the descriptions.
pub fn feed_document(s: usize, d: usize, sources: usize) -> String {
    let h = host(s);
    let lang = if s.is_multiple_of(2) {
        "de-DE"
    } else {
        "en-GB"
    };
    let mut out = String::with_capacity(ITEMS_PER_FEED * 900);
    let _ = write!(
        out,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\n<channel>\n<title>Quelle {s}</title>\n<link>https://{h}/</link>\n<description>Nachrichten</description>\n<language>{lang}</language>\n"
    );
    let first = d * NEW_PER_FEED;
    // Newest first, as feeds list them.
    for k in (first..first + ITEMS_PER_FEED).rev() {
        let (link, story) = entry(s, k, sources);
        // Minutes back from a fixed base, so every run stores the same times.
        let minutes = (100_000 - k.min(99_999)) as i64 + s as i64;
        let date = chrono::DateTime::from_timestamp(1_767_225_600 - minutes * 60, 0)
            .unwrap_or_default()
            .to_rfc2822();
        let link = link.replace('&', "&amp;");
        let html = description_html(&h, s, k, &story.body);
        // Outlets send descriptions either as CDATA or as escaped markup.
        let description = if k.is_multiple_of(2) {
            format!("<![CDATA[{html}]]>")
        } else {
            xml_escape(&html)
        };
        let _ = write!(
            out,
            "<item>\n<title>{}</title>\n<link>{link}</link>\n<guid isPermaLink=\"true\">{link}</guid>\n<pubDate>{date}</pubDate>\n<dc:creator>Redaktion {}</dc:creator>\n<description>{description}</description>\n</item>\n",
            xml_escape(&story.title), s % 7
        );
    }
    out.push_str("</channel>\n</rss>\n");
    out
}

/// A description as outlets write it: a teaser image, two paragraphs with
/// emphasis, typographic quotes and non-breaking spaces as entities, and a
/// "read more" link. Markup never splits a word, so the words (and the
/// expected counts) are those of `body`.
fn description_html(host: &str, s: usize, k: usize, body: &str) -> String {
    let words: Vec<&str> = body.split(' ').collect();
    let half = words.len() / 2;
    let mut out = format!(
        "<img src=\"https://{host}/bilder/{s}-{k}.jpg\" alt=\"Symbolbild\" width=\"640\" height=\"360\" /><p>&bdquo;"
    );
    for (i, w) in words.iter().enumerate() {
        if i == half {
            out.push_str("</p><p>");
        } else if i > 0 {
            out.push_str(if i % 9 == 4 { "&nbsp;" } else { " " });
        }
        if i == 3 {
            out.push_str("&ldquo; ");
        }
        if i % 13 == 6 {
            let _ = write!(out, "<strong>{w}</strong>");
        } else {
            out.push_str(w);
        }
    }
    let _ = write!(
        out,
        "</p><p><a href=\"https://{host}/politik/{s}-{k}.html?utm_campaign=rss\" rel=\"nofollow\">Weiterlesen&nbsp;&raquo;</a></p>"
    );
    out
}

/// `&`, `<` and `>` as XML entities.
fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Peak resident set size of this process so far, in bytes.
pub fn peak_rss() -> u64 {
    proc_status_kb("VmHWM:") * 1024
}

/// Reads a `kB` line of /proc/self/status.
fn proc_status_kb(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

/// The `[database]` line of an SQLite file at `db`.
pub fn database_path(db: &std::path::Path) -> String {
    format!("path = {:?}", db.display().to_string())
}

/// A config of `sources` feed sources named `quelle-N`, each for both
/// topics, with `source(N)` as the rest of the source's table (its `url`
/// line and any other); `database` is the `[database]` table's body and
/// `crawler` is put in before the topics (a `[crawler]` table, or nothing).
pub fn feed_sources_config(
    database: &str,
    crawler: &str,
    sources: usize,
    source: impl Fn(usize) -> String,
) -> String {
    let mut config = format!("[database]\n{database}\n\n{crawler}{}", topics_toml());
    for s in 0..sources {
        let _ = write!(
            config,
            "[[source]]\nname = \"quelle-{s}\"\ntype = \"feed\"\n{}\n",
            source(s)
        );
    }
    config
}

/// Removes the database at `db` with its WAL files, for a run from nothing.
pub fn remove_database(db: &std::path::Path) {
    for ext in ["", "-wal", "-shm"] {
        let mut path = db.as_os_str().to_owned();
        path.push(ext);
        let _ = std::fs::remove_file(path);
    }
}

/// The config text of the benchmark topics.
pub fn topics_toml() -> String {
    let mut out = String::new();
    for (name, query) in TOPICS {
        let _ = writeln!(out, "[[topic]]\nname = \"{name}\"\nquery = '{query}'\n");
    }
    out
}

pub fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// Where generated corpora and databases go (git-ignored).
pub fn out_dir() -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("bench-out");
    let _ = std::fs::create_dir_all(&dir);
    dir
}

/// CPU time the calling thread has run so far, in nanoseconds
/// (`clock_gettime(CLOCK_THREAD_CPUTIME_ID)`).
pub fn thread_cpu_ns() -> u64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    t.tv_sec as u64 * 1_000_000_000 + t.tv_nsec as u64
}

/// User + system CPU time of this process so far, all threads, in seconds.
pub fn process_cpu_s() -> f64 {
    cpu_s_of("self")
}

/// User + system CPU time of process `pid` (a number, or `self`) so far,
/// all threads, in seconds (/proc/PID/stat, clock ticks of 10 ms); 0 when
/// it cannot be read.
pub fn cpu_s_of(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name, which is in parentheses.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after ')'.
    let ticks = f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0);
    ticks as f64 / 100.0
}

/// Serves `docs` as `/feed/{i}.xml` (RSS, UTF-8) on 127.0.0.1 on a runtime
/// thread of its own; returns the runtime (the server stops when it is
/// dropped) and the port.
pub fn serve_feeds(docs: std::sync::Arc<Vec<String>>) -> (tokio::runtime::Runtime, u16) {
    use axum::extract::{Path as UrlPath, State};
    use axum::http::header;
    use axum::response::IntoResponse;
    async fn serve_feed(
        State(docs): State<std::sync::Arc<Vec<String>>>,
        UrlPath(name): UrlPath<String>,
    ) -> axum::response::Response {
        let body = name
            .strip_suffix(".xml")
            .and_then(|n| n.parse::<usize>().ok())
            .and_then(|i| docs.get(i))
            .cloned();
        match body {
            Some(b) => (
                [(header::CONTENT_TYPE, "application/rss+xml; charset=utf-8")],
                b,
            )
                .into_response(),
            None => axum::http::StatusCode::NOT_FOUND.into_response(),
        }
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let app = axum::Router::new()
        .route("/feed/{name}", axum::routing::get(serve_feed))
        .with_state(docs);
    rt.spawn(async move { axum::serve(listener, app).await });
    (rt, port)
}

/// What `/usr/bin/time` measured of one process, and its output.
pub struct Timed {
    pub output: std::process::Output,
    /// Seconds from start to exit, measured here.
    pub wall: f64,
    pub peak_rss_kib: f64,
    /// CPU seconds in user and system mode.
    pub user: f64,
    pub sys: f64,
}

/// Runs `command` (a program and its arguments, a profiler's in front if
/// wanted) under `/usr/bin/time`, which writes its figures to `time_file`,
/// with `RUST_LOG=warn`; panics with its stderr when it fails.
pub fn run_timed(command: &[&std::ffi::OsStr], time_file: &std::path::Path) -> Timed {
    let t0 = std::time::Instant::now();
    let output = std::process::Command::new("/usr/bin/time")
        .args(["-f", "%M %U %S", "-o"])
        .arg(time_file)
        .args(command)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run under /usr/bin/time");
    let wall = t0.elapsed().as_secs_f64();
    assert!(
        output.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let time = std::fs::read_to_string(time_file).unwrap_or_default();
    let f: Vec<f64> = time
        .split_whitespace()
        .filter_map(|v| v.parse().ok())
        .collect();
    let field = |i: usize| f.get(i).copied().unwrap_or(0.0);
    Timed {
        output,
        wall,
        peak_rss_kib: field(0),
        user: field(1),
        sys: field(2),
    }
}
