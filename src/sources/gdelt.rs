//! `gdelt` sources: the GDELT DOC 2.0 API in `artlist` mode,
//! `/api/v2/doc/doc?query=…&mode=artlist&format=json&maxrecords=250&sort=datedesc&timespan=…`.
//!
//! GDELT lists news articles worldwide with the publisher's own URL (so the
//! same-URL rule ties them to the publisher's feed items), their title, the
//! time GDELT saw them (`seendate`), their language and the publisher's
//! country. An answer holds at most 250 articles, newest first; a full
//! answer splits the time range at its oldest article and the older part is
//! asked again, up to `max_pages` calls a crawl. The API covers the last
//! three months, so the range never reaches further back.
//!
//! GDELT allows one request every 5 seconds and sheds load with 429 even
//! below that, so every `gdelt` source of the process shares one request
//! spacing. Its errors come back as text or HTML pages, not JSON: the
//! error quotes their first line. It is an API, not a crawl: robots.txt is
//! not consulted.

use super::context::Context;
use super::paging::{Harvest, Listing, Page, Pager, Stop};
use super::{Item, ParseError};
use crate::http::interval::Spacing;
use crate::http::{FetchError, Request};
use crate::text::collapse_ws;
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Deserialize;
use std::time::Duration;
use url::Url;

/// Requests to GDELT from this process: one every 5 seconds.
pub static SPACING: Spacing = Spacing::new(Duration::from_secs(5));

/// The most articles one answer holds.
pub const MAX_RECORDS: usize = 250;

/// How far back the API reaches; no request asks for more.
pub const MAX_SPAN: Duration = Duration::from_secs(90 * 86_400);

/// The shortest `timespan` the API takes.
const MIN_SPAN: Duration = Duration::from_secs(15 * 60);

/// One article of an answer; every field optional so an odd one is skipped,
/// not the answer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Article {
    pub url: Option<String>,
    pub title: Option<String>,
    /// `20261130T101500Z`: when GDELT saw the article.
    pub seendate: Option<String>,
    pub domain: Option<String>,
    /// In English words: `German`.
    pub language: Option<String>,
    /// In English words: `Germany`.
    pub sourcecountry: Option<String>,
}

/// An `artlist` answer, read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Answer {
    pub items: Vec<Item>,
    /// Articles listed, with or without an item each.
    pub articles: usize,
    /// Articles without a usable URL or title.
    pub skipped: usize,
    /// The oldest `seendate` of the answer.
    pub oldest: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
struct Root {
    #[serde(default)]
    articles: Vec<serde_json::Value>,
}

/// Reads an `artlist` JSON answer. An empty body or `{}` is an answer
/// without articles; anything that is not JSON is an error quoting its
/// first line (GDELT reports errors as text or HTML pages).
pub fn parse(body: &str) -> Result<Answer, ParseError> {
    let text = body.trim_start_matches(|c: char| c == '\u{feff}' || c.is_whitespace());
    if text.is_empty() {
        return Ok(Answer::default());
    }
    if !text.starts_with('{') {
        return Err(ParseError(format!(
            "GDELT answered with text, not JSON: {}",
            quote(&error_line(text))
        )));
    }
    // GDELT writes control characters into titles unescaped; as spaces
    // the document is JSON again.
    let cleaned: String = text
        .chars()
        .map(|c| if c < ' ' { ' ' } else { c })
        .collect();
    let root: Root =
        serde_json::from_str(&cleaned).map_err(|e| ParseError(format!("not JSON: {e}")))?;
    let mut answer = Answer {
        articles: root.articles.len(),
        ..Answer::default()
    };
    for value in root.articles {
        let Ok(article) = Article::deserialize(&value) else {
            answer.skipped += 1;
            continue;
        };
        let seen = article.seendate.as_deref().and_then(parse_seendate);
        if let Some(t) = seen {
            answer.oldest = Some(answer.oldest.map_or(t, |o| o.min(t)));
        }
        match article_item(article, seen) {
            Some(item) => answer.items.push(item),
            None => answer.skipped += 1,
        }
    }
    Ok(answer)
}

fn article_item(a: Article, seen: Option<DateTime<Utc>>) -> Option<Item> {
    let url = Url::parse(a.url.as_deref()?.trim()).ok()?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return None;
    }
    let title = collapse_ws(a.title.as_deref()?);
    if title.is_empty() {
        return None;
    }
    Some(Item {
        url: Some(url.to_string()),
        platform_id: None,
        title,
        text: String::new(),
        author: None,
        published: seen,
        lang: a
            .language
            .as_deref()
            .and_then(language_code)
            .map(str::to_owned),
        unread_date: a.seendate.filter(|_| seen.is_none()),
        publisher: None,
        parsed_url: Default::default(),
    })
}

/// `20261130T101500Z` as a UTC time.
pub fn parse_seendate(s: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(s.trim(), "%Y%m%dT%H%M%SZ")
        .ok()
        .map(|t| t.and_utc())
}

/// The first line of an error page worth quoting: the first line of text
/// in an HTML page's body (its title when the body has none), else the
/// first non-empty line.
pub fn error_line(body: &str) -> String {
    fn first(s: &str) -> Option<String> {
        s.lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .map(str::to_owned)
    }
    if body.trim_start().starts_with('<') {
        let doc = scraper::Html::parse_document(body);
        let texts = |selector: &str| -> Option<String> {
            let selector = scraper::Selector::parse(selector).ok()?;
            doc.select(&selector).find_map(|el| {
                el.descendants().find_map(|n| {
                    let text = n.value().as_text()?;
                    let hidden = n.ancestors().any(|a| {
                        a.value()
                            .as_element()
                            .is_some_and(|e| matches!(e.name(), "script" | "style"))
                    });
                    if hidden {
                        None
                    } else {
                        first(text)
                    }
                })
            })
        };
        if let Some(line) = texts("body").or_else(|| texts("title")) {
            return line;
        }
    }
    first(body).unwrap_or_default()
}

/// Longest part of an error page quoted, in characters.
const QUOTE_CHARS: usize = 200;

/// A line of an error page in double quotes, escaped, `…` after a cut.
fn quote(line: &str) -> String {
    let mut chars = line.chars();
    let head: String = chars.by_ref().take(QUOTE_CHARS).collect();
    let cut = if chars.next().is_some() { "…" } else { "" };
    format!("{head:?}{cut}")
}

/// GDELT's English language names as ISO 639-1 codes.
const LANGUAGES: &[(&str, &str)] = &[
    ("afrikaans", "af"),
    ("albanian", "sq"),
    ("arabic", "ar"),
    ("armenian", "hy"),
    ("azerbaijani", "az"),
    ("basque", "eu"),
    ("belarusian", "be"),
    ("bengali", "bn"),
    ("bosnian", "bs"),
    ("bulgarian", "bg"),
    ("catalan", "ca"),
    ("chinese", "zh"),
    ("croatian", "hr"),
    ("czech", "cs"),
    ("danish", "da"),
    ("dutch", "nl"),
    ("english", "en"),
    ("estonian", "et"),
    ("finnish", "fi"),
    ("french", "fr"),
    ("galician", "gl"),
    ("georgian", "ka"),
    ("german", "de"),
    ("greek", "el"),
    ("gujarati", "gu"),
    ("hebrew", "he"),
    ("hindi", "hi"),
    ("hungarian", "hu"),
    ("icelandic", "is"),
    ("indonesian", "id"),
    ("italian", "it"),
    ("japanese", "ja"),
    ("kannada", "kn"),
    ("kazakh", "kk"),
    ("korean", "ko"),
    ("latvian", "lv"),
    ("lithuanian", "lt"),
    ("macedonian", "mk"),
    ("malay", "ms"),
    ("malayalam", "ml"),
    ("marathi", "mr"),
    ("mongolian", "mn"),
    ("nepali", "ne"),
    ("norwegian", "no"),
    ("persian", "fa"),
    ("polish", "pl"),
    ("portuguese", "pt"),
    ("punjabi", "pa"),
    ("romanian", "ro"),
    ("russian", "ru"),
    ("serbian", "sr"),
    ("sinhala", "si"),
    ("sinhalese", "si"),
    ("slovak", "sk"),
    ("slovenian", "sl"),
    ("spanish", "es"),
    ("swahili", "sw"),
    ("swedish", "sv"),
    ("tagalog", "tl"),
    ("tamil", "ta"),
    ("telugu", "te"),
    ("thai", "th"),
    ("turkish", "tr"),
    ("ukrainian", "uk"),
    ("urdu", "ur"),
    ("vietnamese", "vi"),
];

/// The ISO 639-1 code of a language GDELT names in English.
pub fn language_code(name: &str) -> Option<&'static str> {
    let name = name.trim().to_ascii_lowercase();
    LANGUAGES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, code)| *code)
}

/// The query for a source's topics when it sets none: their positive terms,
/// several in GDELT's `(a OR b)` form. None when there is no term.
pub fn default_query(terms: &[String]) -> Option<String> {
    match terms.len() {
        0 => None,
        1 => terms.first().cloned(),
        _ => Some(format!("({})", terms.join(" OR "))),
    }
}

/// The query with the source's `sourcelang:` and `sourcecountry:` filters.
pub fn full_query(query: &str, sourcelang: Option<&str>, sourcecountry: Option<&str>) -> String {
    let mut q = query.to_owned();
    if let Some(l) = sourcelang {
        q.push_str(&format!(" sourcelang:{l}"));
    }
    if let Some(c) = sourcecountry {
        q.push_str(&format!(" sourcecountry:{c}"));
    }
    q
}

/// `timespan` for a lookback: minutes, hours or days, at least 15
/// minutes and at most three months (90 days).
pub fn timespan(lookback: Duration) -> String {
    let span = lookback.clamp(MIN_SPAN, MAX_SPAN).as_secs();
    if span >= 86_400 {
        format!("{}d", span.div_ceil(86_400).min(90))
    } else if span >= 3600 {
        format!("{}h", span.div_ceil(3600))
    } else {
        format!("{}min", span.div_ceil(60))
    }
}

/// `YYYYMMDDHHMMSS`, as `startdatetime` and `enddatetime` take it.
fn gdelt_time(t: DateTime<Utc>) -> String {
    t.format("%Y%m%d%H%M%S").to_string()
}

/// Where a call's time range ends: None for the first call (the whole
/// `timespan` up to now), else the end of an older part of the range.
pub type RangeEnd = Option<DateTime<Utc>>;

/// The request URL under `base` for one call.
pub fn request_url(base: &Url, query: &str, lookback: Duration, range: Range) -> Url {
    let mut url = base.clone();
    if let Ok(mut segments) = url.path_segments_mut() {
        segments.pop_if_empty().extend(["api", "v2", "doc", "doc"]);
    }
    url.set_fragment(None);
    {
        let mut pairs = url.query_pairs_mut();
        pairs
            .clear()
            .append_pair("query", query)
            .append_pair("mode", "artlist")
            .append_pair("format", "json")
            .append_pair("maxrecords", &MAX_RECORDS.to_string())
            .append_pair("sort", "datedesc");
        match range {
            Range::Timespan => {
                pairs.append_pair("timespan", &timespan(lookback));
            }
            Range::Between(start, end) => {
                pairs
                    .append_pair("startdatetime", &gdelt_time(start))
                    .append_pair("enddatetime", &gdelt_time(end));
            }
        }
    }
    url
}

/// The time range of one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Range {
    /// The lookback up to now, as `timespan`.
    Timespan,
    /// From the start of the lookback to an end before now.
    Between(DateTime<Utc>, DateTime<Utc>),
}

/// One source's calls: the first asks for the whole lookback; a full answer
/// splits the range at its oldest article, and the part up to that article
/// is asked next.
struct Calls<'s> {
    base: &'s Url,
    query: &'s str,
    spacing: &'s Spacing,
    /// The start of the lookback (at most three months back).
    start: DateTime<Utc>,
    /// More than a call's worth of articles share one second: the range
    /// cannot be split further.
    crowded: Option<DateTime<Utc>>,
}

impl Listing for Calls<'_> {
    type Cursor = RangeEnd;
    type Error = String;
    /// A full answer is always followed by the older part of its range.
    const STOPS: &'static [Stop] = &[Stop::Empty, Stop::NothingNew];

    async fn page(&mut self, ctx: &Context<'_>, end: &RangeEnd) -> Result<Page<RangeEnd>, String> {
        let range = match end {
            None => Range::Timespan,
            Some(end) => Range::Between(self.start, *end),
        };
        let url = request_url(self.base, self.query, ctx.lookback, range);
        self.spacing.wait().await;
        let mut fetched = match ctx.fetch(Request::api_get(url.clone())).await {
            Ok(f) => f,
            Err(FetchError::Status { status: 429, url }) => {
                self.spacing.back_off(Duration::from_secs(60)).await;
                return Err(format!(
                    "{url} answered HTTP 429 (too many requests) after every retry; GDELT allows one request every 5 seconds per client, and this process waits a minute before asking again"
                ));
            }
            Err(e) => return Err(e.to_string()),
        };
        let body = fetched.take_text();
        let answer = parse(&body).map_err(|e| format!("{url}: {e}"))?;
        let mut next = None;
        if answer.articles >= MAX_RECORDS {
            // The part of the range up to (and including) the oldest
            // article is asked again; a second that holds a whole answer
            // cannot be split.
            let current_end = end.unwrap_or(ctx.now);
            match answer.oldest {
                Some(oldest) => {
                    let split = oldest + chrono::Duration::seconds(1);
                    if split < current_end && oldest > self.start {
                        next = Some(Some(split));
                    } else if oldest > self.start {
                        self.crowded = Some(oldest);
                    }
                }
                None => self.crowded = end.or(Some(ctx.now)),
            }
        }
        let mut page = Page::new(answer.items, next);
        page.entries = answer.articles;
        if answer.skipped > 0 {
            page = page.with_warning(format!(
                "{} of {} articles skipped (no usable URL or title)",
                answer.skipped, answer.articles
            ));
        }
        Ok(page)
    }
}

/// Reads the source's query over its lookback (at most three months),
/// splitting the range while answers are full, at most `max_pages` calls,
/// each after this process's turn at `spacing`.
pub async fn read(
    ctx: &Context<'_>,
    base: &Url,
    sourcelang: Option<&str>,
    sourcecountry: Option<&str>,
    spacing: &Spacing,
) -> Harvest {
    let Some(query) = ctx.search_terms.first() else {
        return Harvest {
            error: Some(
                "nothing to search for: set query for this source or give its topics a term that is not under NOT"
                    .to_owned(),
            ),
            ..Harvest::default()
        };
    };
    let query = full_query(query, sourcelang, sourcecountry);
    let span = chrono::Duration::from_std(ctx.lookback.clamp(MIN_SPAN, MAX_SPAN))
        .unwrap_or_else(|_| chrono::Duration::days(90));
    let mut calls = Calls {
        base,
        query: &query,
        spacing,
        start: ctx.now - span,
        crowded: None,
    };
    let mut pager = Pager::new(ctx);
    let result = pager.run(&mut calls, None).await;
    let crowded = calls.crowded;
    let mut harvest = pager.into_harvest();
    match result {
        Ok(Stop::MaxPages) => harvest.warnings.push(format!(
            "GDELT holds more articles than {} calls of {MAX_RECORDS} bring; the oldest are not read (raise max_pages, narrow the query or shorten the lookback)",
            ctx.max_pages.max(1)
        )),
        Ok(_) => {}
        Err(e) => harvest.error = Some(e),
    }
    if let Some(t) = crowded {
        harvest.warnings.push(format!(
            "more than {MAX_RECORDS} articles were seen by GDELT at {}; the time range cannot be split further and the rest of them are not read",
            t.format("%Y-%m-%d %H:%M:%S UTC")
        ));
    }
    harvest
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::testing::serve;
    use crate::sources::context::testing::{self, all_known, nothing_known};
    use crate::sources::context::KnownFn;
    use axum::extract::{Query as Params, State};
    use axum::http::StatusCode;
    use axum::response::{IntoResponse, Response};
    use axum::routing::get;
    use axum::Router;
    use chrono::TimeZone;
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};

    fn fixture(name: &str) -> String {
        let path = format!("{}/tests/fixtures/gdelt/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
    }

    #[test]
    fn articles_carry_the_publishers_url_title_time_and_language() {
        let answer = parse(&fixture("artlist.json")).unwrap();
        assert_eq!((answer.articles, answer.skipped), (5, 1));
        assert_eq!(answer.oldest, Some(at(2026, 11, 29, 6, 30, 0)));
        let first = &answer.items[0];
        assert_eq!(
            first,
            &Item {
                url: Some(
                    "https://www.sueddeutsche.de/politik/nordkorea-russland-soldaten-1.7123456"
                        .into()
                ),
                platform_id: None,
                title: "Nordkorea schickt weitere Soldaten nach Russland".into(),
                text: String::new(),
                author: None,
                published: Some(at(2026, 11, 30, 10, 15, 0)),
                lang: Some("de".into()),
                unread_date: None,
                publisher: None,
                parsed_url: Default::default(),
            }
        );
        let langs: Vec<Option<&str>> = answer.items.iter().map(|i| i.lang.as_deref()).collect();
        assert_eq!(langs, [Some("de"), Some("en"), Some("fr"), None]);
        // A title with a control character in it still reads.
        assert_eq!(
            answer.items[2].title,
            "La Corée du Nord envoie des troupes en Russie"
        );
        // An unreadable seendate is kept, for the undated log.
        assert_eq!(answer.items[3].published, None);
        assert_eq!(answer.items[3].unread_date.as_deref(), Some("gestern"));
    }

    #[test]
    fn empty_answers_and_error_pages() {
        assert_eq!(parse("").unwrap(), Answer::default());
        assert_eq!(parse("{}\n").unwrap(), Answer::default());
        assert_eq!(parse("{\"articles\": []}").unwrap(), Answer::default());
        assert_eq!(
            parse("The specified phrase is too short.\nPlease try again.")
                .unwrap_err()
                .0,
            "GDELT answered with text, not JSON: \"The specified phrase is too short.\""
        );
        assert_eq!(
            parse(&fixture("error.html")).unwrap_err().0,
            "GDELT answered with text, not JSON: \"Your search contained a keyword that appears too commonly in the GDELT database to search for.\""
        );
        assert!(parse("{\"articles\": [")
            .unwrap_err()
            .0
            .starts_with("not JSON"));
    }

    #[test]
    fn queries_spans_and_urls() {
        let terms = vec!["nordkorea".to_owned(), "\"north korea\"".to_owned()];
        assert_eq!(
            default_query(&terms).as_deref(),
            Some("(nordkorea OR \"north korea\")")
        );
        assert_eq!(default_query(&terms[..1]).as_deref(), Some("nordkorea"));
        assert_eq!(default_query(&[]), None);
        assert_eq!(
            full_query("kursk", Some("german"), Some("gm")),
            "kursk sourcelang:german sourcecountry:gm"
        );
        assert_eq!(timespan(Duration::from_secs(7 * 86_400)), "7d");
        assert_eq!(timespan(Duration::from_secs(36_500 * 86_400)), "90d");
        assert_eq!(timespan(Duration::from_secs(5 * 3600 + 1)), "6h");
        assert_eq!(timespan(Duration::from_secs(60)), "15min");
        let base = Url::parse("https://api.gdeltproject.org").unwrap();
        assert_eq!(
            request_url(&base, "kursk sourcelang:german", Duration::from_secs(86_400), Range::Timespan).as_str(),
            "https://api.gdeltproject.org/api/v2/doc/doc?query=kursk+sourcelang%3Agerman&mode=artlist&format=json&maxrecords=250&sort=datedesc&timespan=1d"
        );
        assert_eq!(
            request_url(
                &base,
                "kursk",
                Duration::from_secs(86_400),
                Range::Between(at(2026, 11, 23, 12, 0, 0), at(2026, 11, 30, 6, 30, 1))
            )
            .as_str(),
            "https://api.gdeltproject.org/api/v2/doc/doc?query=kursk&mode=artlist&format=json&maxrecords=250&sort=datedesc&startdatetime=20261123120000&enddatetime=20261130063001"
        );
        assert_eq!(language_code(" German "), Some("de"));
        assert_eq!(language_code("Klingon"), None);
        assert_eq!(
            parse_seendate("20261130T101500Z"),
            Some(at(2026, 11, 30, 10, 15, 0))
        );
        assert_eq!(parse_seendate("2026-11-30"), None);
    }

    /// `n` articles seen one minute apart, newest first, ending at `newest`.
    fn articles(n: usize, newest: DateTime<Utc>, host: &str) -> String {
        let list: Vec<serde_json::Value> = (0..n)
            .map(|i| {
                let seen = newest - chrono::Duration::minutes(i as i64);
                serde_json::json!({
                    "url": format!("https://{host}/artikel/{}", seen.timestamp()),
                    "url_mobile": "",
                    "title": format!("Kursk-Meldung {}", seen.timestamp()),
                    "seendate": seen.format("%Y%m%dT%H%M%SZ").to_string(),
                    "socialimage": "",
                    "domain": host,
                    "language": "German",
                    "sourcecountry": "Germany"
                })
            })
            .collect();
        serde_json::json!({ "articles": list }).to_string()
    }

    type Seen = Arc<Mutex<Vec<HashMap<String, String>>>>;

    /// A GDELT stand-in answering each call from `answer` (by its parameters).
    async fn gdelt(answer: fn(&HashMap<String, String>) -> (StatusCode, String)) -> (Url, Seen) {
        let seen: Seen = Arc::default();
        let app =
            Router::new()
                .route(
                    "/api/v2/doc/doc",
                    get(
                        move |State(seen): State<Seen>,
                              Params(q): Params<HashMap<String, String>>| async move {
                            let (status, body) = answer(&q);
                            seen.lock().unwrap().push(q);
                            let mut r: Response = body.into_response();
                            *r.status_mut() = status;
                            r
                        },
                    ),
                )
                .with_state(seen.clone());
        let addr = serve(app).await;
        (Url::parse(&format!("http://{addr}")).unwrap(), seen)
    }

    #[tokio::test]
    async fn a_full_answer_splits_the_range_and_asks_for_the_older_part() {
        // 250 articles up to 12:00, then 40 more before the oldest of them.
        let (base, seen) = gdelt(|q| {
            let body = if q.contains_key("timespan") {
                articles(MAX_RECORDS, at(2026, 11, 25, 12, 0, 0), "www.merkur.de")
            } else {
                let oldest = at(2026, 11, 25, 12, 0, 0) - chrono::Duration::minutes(249);
                // The split second itself comes again: a repeat, dropped.
                articles(41, oldest, "www.merkur.de")
            };
            (StatusCode::OK, body)
        })
        .await;
        let http = testing::client(0);
        let known: &KnownFn<'_> = &nothing_known;
        let ctx = testing::context(&http, known, "gd", &["kursk"], 7);
        let spacing = Spacing::new(Duration::from_millis(20));
        let harvest = read(&ctx, &base, Some("german"), None, &spacing).await;
        assert_eq!(harvest.error, None);
        assert_eq!(harvest.warnings, Vec::<String>::new());
        assert_eq!(harvest.items.len(), 290);
        assert_eq!(harvest.stops, [Stop::NoNextPage]);
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[0]["query"], "kursk sourcelang:german");
        assert_eq!(seen[0]["timespan"], "7d");
        assert_eq!(
            (
                seen[0]["mode"].as_str(),
                seen[0]["format"].as_str(),
                seen[0]["maxrecords"].as_str(),
                seen[0]["sort"].as_str()
            ),
            ("artlist", "json", "250", "datedesc")
        );
        assert!(!seen[1].contains_key("timespan"));
        // From the lookback's start to just past the oldest article of the first answer.
        assert_eq!(seen[1]["startdatetime"], "20261118120000");
        assert_eq!(seen[1]["enddatetime"], "20261125075101");
    }

    #[tokio::test]
    async fn full_answers_stop_at_max_pages_with_a_warning() {
        let (base, seen) = gdelt(|q| {
            let newest = match q.get("enddatetime") {
                None => at(2026, 11, 25, 12, 0, 0),
                Some(end) => {
                    NaiveDateTime::parse_from_str(end, "%Y%m%d%H%M%S")
                        .unwrap()
                        .and_utc()
                        - chrono::Duration::seconds(1)
                }
            };
            (
                StatusCode::OK,
                articles(MAX_RECORDS, newest, "www.merkur.de"),
            )
        })
        .await;
        let http = testing::client(0);
        let known: &KnownFn<'_> = &nothing_known;
        let mut ctx = testing::context(&http, known, "gd", &["kursk"], 7);
        ctx.max_pages = 3;
        let harvest = read(&ctx, &base, None, None, &Spacing::new(Duration::ZERO)).await;
        assert_eq!(seen.lock().unwrap().len(), 3);
        // Each later answer repeats the oldest article of the one before.
        assert_eq!(harvest.items.len(), 3 * MAX_RECORDS - 2);
        assert_eq!(
            harvest.warnings,
            ["GDELT holds more articles than 3 calls of 250 bring; the oldest are not read (raise max_pages, narrow the query or shorten the lookback)"]
        );
    }

    #[tokio::test]
    async fn a_second_that_holds_a_whole_answer_cannot_be_split() {
        let (base, seen) = gdelt(|_| {
            let one_time: Vec<serde_json::Value> = (0..MAX_RECORDS)
                .map(|i| {
                    serde_json::json!({
                        "url": format!("https://www.merkur.de/a/{i}"),
                        "title": format!("Meldung {i}"),
                        "seendate": "20261125T120000Z",
                        "language": "German"
                    })
                })
                .collect();
            (
                StatusCode::OK,
                serde_json::json!({ "articles": one_time }).to_string(),
            )
        })
        .await;
        let http = testing::client(0);
        let known: &KnownFn<'_> = &nothing_known;
        let ctx = testing::context(&http, known, "gd", &["kursk"], 7);
        let harvest = read(&ctx, &base, None, None, &Spacing::new(Duration::ZERO)).await;
        assert_eq!(harvest.items.len(), MAX_RECORDS);
        // The first call ends at now (12:00:00); the split would end at 12:00:01.
        assert_eq!(seen.lock().unwrap().len(), 1);
        assert_eq!(
            harvest.warnings,
            ["more than 250 articles were seen by GDELT at 2026-11-25 12:00:00 UTC; the time range cannot be split further and the rest of them are not read"]
        );
    }

    #[tokio::test]
    async fn a_known_answer_is_not_split() {
        let (base, seen) = gdelt(|_| {
            (
                StatusCode::OK,
                articles(MAX_RECORDS, at(2026, 11, 25, 12, 0, 0), "www.merkur.de"),
            )
        })
        .await;
        let http = testing::client(0);
        let known: &KnownFn<'_> = &all_known;
        let ctx = testing::context(&http, known, "gd", &["kursk"], 7);
        let harvest = read(&ctx, &base, None, None, &Spacing::new(Duration::ZERO)).await;
        assert_eq!(harvest.stops, [Stop::NothingNew]);
        assert_eq!(seen.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn error_pages_and_refusals_fail_the_source() {
        let (base, _) = gdelt(|_| (StatusCode::OK, fixture("error.html"))).await;
        let http = testing::client(0);
        let known: &KnownFn<'_> = &nothing_known;
        let ctx = testing::context(&http, known, "gd", &["the"], 7);
        let harvest = read(&ctx, &base, None, None, &Spacing::new(Duration::ZERO)).await;
        let error = harvest.error.unwrap();
        assert!(
            error.ends_with(": GDELT answered with text, not JSON: \"Your search contained a keyword that appears too commonly in the GDELT database to search for.\""),
            "{error}"
        );

        let (base, seen) = gdelt(|_| {
            (
                StatusCode::TOO_MANY_REQUESTS,
                "Please limit requests to one every 5 seconds or contact kalev.leetaru5@gmail.com for larger queries.".into(),
            )
        })
        .await;
        let spacing = Spacing::new(Duration::from_secs(5));
        let harvest = read(&ctx, &base, None, None, &spacing).await;
        let error = harvest.error.unwrap();
        assert!(error.contains("HTTP 429"), "{error}");
        assert_eq!(seen.lock().unwrap().len(), 1);
        assert!(spacing.wait_now().await > Duration::from_secs(55));
    }
}
