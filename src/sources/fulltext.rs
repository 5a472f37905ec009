//! Full-text pages: the main text of an article (not navigation, asides,
//! footers, cookie banners or related-article lists), its same-host
//! `rel=canonical`, its publication time, title and language. Readability
//! (`dom_smoothie`) finds the main text; `<article>`, `<main>` or the body
//! are the fallback when it finds nothing.

use crate::sources::html::{base_url, document_lang, parse_when};
use crate::text::{collapse_ws, collect_text, html_to_text};
use chrono::{DateTime, Utc};
use scraper::{ElementRef, Html, Selector};
use url::Url;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Article {
    pub title: Option<String>,
    /// Plain main text.
    pub text: String,
    /// `<link rel="canonical">` when it points to the same host as `page_url`.
    pub canonical: Option<Url>,
    /// `article:published_time` (or equivalent) when present.
    pub published: Option<DateTime<Utc>>,
    /// Primary language subtag of `<html lang>`, lower-cased (`de-DE` → `de`).
    pub lang: Option<String>,
}

/// Reads an article page. Never fails: what cannot be found stays empty.
pub fn extract(html: &str, page_url: &Url) -> Article {
    let doc = crate::markup::parse_document(html);
    let base = base_url(&doc, page_url);
    let mut cleaned = doc.clone();
    strip_boilerplate(&mut cleaned);

    let mut text = if too_complex(&cleaned) {
        String::new()
    } else {
        readability_text(&cleaned.html(), page_url)
    };
    if text.is_empty() {
        text = fallback_text(&cleaned);
    }

    Article {
        title: title(&doc),
        text,
        canonical: canonical(&doc, &base, page_url),
        published: published(&doc),
        lang: document_lang(&doc),
    }
}

fn sel(s: &str) -> Option<Selector> {
    Selector::parse(s).ok()
}

/// First element matching `selector` in the document.
fn first<'a>(doc: &'a Html, selector: &str) -> Option<ElementRef<'a>> {
    let s = sel(selector)?;
    doc.select(&s).next()
}

fn element_text(el: ElementRef<'_>) -> String {
    let mut out = String::new();
    collect_text(*el, &mut out);
    collapse_ws(&out)
}

/// Elements that are never the article: navigation, asides, footers, forms,
/// dialogs and cookie/consent banners, and related-article blocks.
fn is_boilerplate(el: &scraper::node::Element) -> bool {
    const TAGS: &[&str] = &["nav", "aside", "footer", "form", "dialog", "template"];
    const ROLES: &[&str] = &[
        "navigation",
        "complementary",
        "contentinfo",
        "dialog",
        "alertdialog",
        "banner",
        "menu",
        "menubar",
    ];
    // Substrings of an id or class that mark consent banners and link lists.
    const MARKERS: &[&str] = &["cookie", "consent", "gdpr", "related", "recommend"];
    let name = el.name();
    if TAGS.contains(&name) {
        return true;
    }
    if ["html", "body", "main", "article"].contains(&name) {
        return false;
    }
    if el
        .attr("role")
        .is_some_and(|r| ROLES.contains(&r.trim().to_ascii_lowercase().as_str()))
        || el.attr("aria-modal").is_some_and(|v| v.trim() == "true")
        || el.attr("hidden").is_some()
    {
        return true;
    }
    let marked = |s: &str| {
        let s = s.to_ascii_lowercase();
        MARKERS.iter().any(|m| s.contains(m)) || s.starts_with("cmp")
    };
    el.id().is_some_and(marked) || el.classes().any(marked)
}

/// Detaches boilerplate elements so that neither readability nor the
/// fallback can pick their words up.
fn strip_boilerplate(doc: &mut Html) {
    let doomed: Vec<ego_tree::NodeId> = doc
        .tree
        .nodes()
        .filter(|n| n.value().as_element().is_some_and(is_boilerplate))
        .map(|n| n.id())
        .collect();
    for id in doomed {
        if let Some(mut node) = doc.tree.get_mut(id) {
            node.detach();
        }
    }
}

/// Whether readability would take too long: its cost grows with the square
/// of the nesting depth, and real articles are far below these limits.
fn too_complex(doc: &Html) -> bool {
    const MAX_DEPTH: usize = 256;
    const MAX_ELEMENTS: usize = 60_000;
    let (mut depth, mut max_depth, mut elements) = (0usize, 0usize, 0usize);
    for edge in doc.tree.root().traverse() {
        match edge {
            ego_tree::iter::Edge::Open(n) if n.value().is_element() => {
                depth += 1;
                elements += 1;
                max_depth = max_depth.max(depth);
            }
            ego_tree::iter::Edge::Close(n) if n.value().is_element() => {
                depth = depth.saturating_sub(1)
            }
            _ => {}
        }
    }
    max_depth > MAX_DEPTH || elements > MAX_ELEMENTS
}

/// Main text as readability sees it; empty when it finds nothing.
fn readability_text(html: &str, page_url: &Url) -> String {
    // A bug in the third-party extractor must cost one page, not the process.
    let run = std::panic::AssertUnwindSafe(|| {
        let cfg = dom_smoothie::Config {
            disable_json_ld: true,
            ..Default::default()
        };
        let mut r =
            dom_smoothie::Readability::new(html, Some(page_url.as_str()), Some(cfg)).ok()?;
        let article = r.parse().ok()?;
        Some(html_to_text(&article.content))
    });
    std::panic::catch_unwind(run)
        .ok()
        .flatten()
        .unwrap_or_default()
}

/// The longest `<article>`, else `<main>`, else the body.
fn fallback_text(doc: &Html) -> String {
    for selector in ["article", "main, [role=main]"] {
        let Some(s) = sel(selector) else { continue };
        // A match inside another has no more text than it: only the
        // outermost are read, so nested matches cost one walk, not one each.
        let (mut best, mut best_len) = (String::new(), 0);
        let mut last: Option<ego_tree::NodeId> = None;
        for el in doc.select(&s) {
            if last.is_some_and(|taken| el.ancestors().any(|a| a.id() == taken)) {
                continue;
            }
            last = Some(el.id());
            let text = element_text(el);
            let len = text.chars().count();
            if len >= best_len {
                (best, best_len) = (text, len);
            }
        }
        if !best.is_empty() {
            return best;
        }
    }
    first(doc, "body").map(element_text).unwrap_or_default()
}

/// `og:title`, else `<title>`, else the first `<h1>`.
fn title(doc: &Html) -> Option<String> {
    let og = first(doc, r#"meta[property="og:title"][content]"#)
        .and_then(|m| m.value().attr("content"))
        .map(collapse_ws);
    og.filter(|t| !t.is_empty())
        .or_else(|| {
            first(doc, "title")
                .map(|t| collapse_ws(&t.text().collect::<String>()))
                .filter(|t| !t.is_empty())
        })
        .or_else(|| first(doc, "h1").map(element_text).filter(|t| !t.is_empty()))
}

/// `<link rel="canonical">`, resolved, when it is on the page's own host.
fn canonical(doc: &Html, base: &Url, page_url: &Url) -> Option<Url> {
    let links = sel("link[rel][href]")?;
    let href = doc
        .select(&links)
        .find(|l| {
            l.value().attr("rel").is_some_and(|rel| {
                rel.split_ascii_whitespace()
                    .any(|t| t.eq_ignore_ascii_case("canonical"))
            })
        })?
        .value()
        .attr("href")?
        .trim();
    if href.is_empty() {
        return None;
    }
    let url = base.join(href).ok()?;
    let same_host = url.host_str().is_some() && url.host_str() == page_url.host_str();
    (matches!(url.scheme(), "http" | "https") && same_host).then_some(url)
}

/// Publication time: `article:published_time`, microdata `datePublished`,
/// JSON-LD `datePublished`, `<meta name="date">`, then `<time datetime>`
/// inside the `<article>`.
fn published(doc: &Html) -> Option<DateTime<Utc>> {
    meta_published(doc)
        .or_else(|| microdata_published(doc))
        .or_else(|| json_ld_published(doc))
        .or_else(|| meta_date(doc))
        .or_else(|| {
            let s = sel("article time[datetime]")?;
            doc.select(&s)
                .filter_map(|t| t.value().attr("datetime"))
                .find_map(parse_when)
        })
}

fn meta_published(doc: &Html) -> Option<DateTime<Utc>> {
    let s = sel("meta[property][content]")?;
    doc.select(&s)
        .filter(|m| {
            m.value()
                .attr("property")
                .is_some_and(|p| p.trim().eq_ignore_ascii_case("article:published_time"))
        })
        .filter_map(|m| m.value().attr("content"))
        .find_map(parse_when)
}

fn microdata_published(doc: &Html) -> Option<DateTime<Utc>> {
    let s = sel("[itemprop~=datePublished]")?;
    doc.select(&s).find_map(|el| {
        let v = el.value();
        ["content", "datetime"]
            .iter()
            .filter_map(|a| v.attr(a))
            .find_map(parse_when)
    })
}

fn meta_date(doc: &Html) -> Option<DateTime<Utc>> {
    const NAMES: &[&str] = &[
        "date",
        "pubdate",
        "publishdate",
        "dc.date.issued",
        "dcterms.created",
    ];
    let s = sel("meta[name][content]")?;
    doc.select(&s)
        .filter(|m| {
            m.value()
                .attr("name")
                .is_some_and(|n| NAMES.contains(&n.trim().to_ascii_lowercase().as_str()))
        })
        .filter_map(|m| m.value().attr("content"))
        .find_map(parse_when)
}

/// `datePublished` from JSON-LD blocks (also inside `@graph` and nested
/// objects); an article-typed object wins over others such as a `WebPage`.
fn json_ld_published(doc: &Html) -> Option<DateTime<Utc>> {
    let s = sel("script[type]")?;
    let mut found: Vec<(bool, DateTime<Utc>)> = Vec::new();
    for script in doc.select(&s) {
        let is_ld = script.value().attr("type").is_some_and(|t| {
            t.trim()
                .to_ascii_lowercase()
                .starts_with("application/ld+json")
        });
        if !is_ld {
            continue;
        }
        let raw: String = script.text().collect();
        if let Some(value) = parse_json_ld(&raw) {
            walk_json_ld(&value, 0, &mut found);
        }
    }
    found
        .iter()
        .find(|(article, _)| *article)
        .or_else(|| found.first())
        .map(|(_, d)| *d)
}

/// JSON-LD as sites write it: sometimes wrapped in CDATA or comment markers
/// or followed by a stray semicolon.
fn parse_json_ld(raw: &str) -> Option<serde_json::Value> {
    let mut s = raw.trim();
    for prefix in ["//<![CDATA[", "<![CDATA[", "<!--"] {
        s = s.strip_prefix(prefix).unwrap_or(s).trim();
    }
    for suffix in ["//]]>", "]]>", "-->", ";"] {
        s = s.strip_suffix(suffix).unwrap_or(s).trim();
    }
    serde_json::from_str(s).ok()
}

fn is_article_type(obj: &serde_json::Map<String, serde_json::Value>) -> bool {
    let is_article = |t: &str| t.ends_with("Article") || t.ends_with("Posting") || t == "Report";
    match obj.get("@type") {
        Some(serde_json::Value::String(t)) => is_article(t),
        Some(serde_json::Value::Array(ts)) => ts.iter().filter_map(|t| t.as_str()).any(is_article),
        _ => false,
    }
}

fn walk_json_ld(value: &serde_json::Value, depth: usize, found: &mut Vec<(bool, DateTime<Utc>)>) {
    // Real JSON-LD is shallow; the limit guards against hostile nesting.
    if depth > 16 {
        return;
    }
    match value {
        serde_json::Value::Array(items) => {
            for v in items {
                walk_json_ld(v, depth + 1, found);
            }
        }
        serde_json::Value::Object(obj) => {
            let date = match obj.get("datePublished") {
                Some(serde_json::Value::String(s)) => parse_when(s),
                Some(serde_json::Value::Array(a)) => {
                    a.iter().filter_map(|v| v.as_str()).find_map(parse_when)
                }
                _ => None,
            };
            if let Some(d) = date {
                found.push((is_article_type(obj), d));
            }
            for (key, v) in obj {
                if key != "datePublished" {
                    walk_json_ld(v, depth + 1, found);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> Option<DateTime<Utc>> {
        DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|d| d.with_timezone(&Utc))
    }

    fn url(s: &str) -> Url {
        Url::parse(s).expect("test URL")
    }

    fn assert_has(text: &str, wanted: &[&str]) {
        for w in wanted {
            assert!(text.contains(w), "missing {w:?} in {text:?}");
        }
    }

    fn assert_lacks(text: &str, unwanted: &[&str]) {
        for u in unwanted {
            assert!(!text.contains(u), "unexpected {u:?} in {text:?}");
        }
    }

    #[test]
    fn german_news_article() {
        let html = include_str!("../../tests/fixtures/fulltext/artikel_de.html");
        let page = url("https://www.rheinischer-anzeiger.de/politik/nordkorea-soldaten-kursk-russland-93671.html?utm_source=rss");
        let a = extract(html, &page);
        assert_eq!(
            a.title.as_deref(),
            Some("Nordkoreanische Soldaten erstmals in Kursk gesichtet")
        );
        assert_eq!(
            a.canonical,
            Some(url("https://www.rheinischer-anzeiger.de/politik/nordkorea-soldaten-kursk-russland-93671.html"))
        );
        assert_eq!(a.published, utc("2026-11-24T13:05:00Z"));
        assert_eq!(a.lang.as_deref(), Some("de"));
        assert_has(
            &a.text,
            &[
                "Seoul – Nach Angaben des südkoreanischen Geheimdienstes NIS sind nordkoreanische Einheiten erstmals direkt an Kampfhandlungen in der Region Kursk beteiligt.",
                "Eine unabhängige Bestätigung gibt es bislang nicht.",
                "Der ukrainische Präsident sprach am Dienstag von einer „neuen Eskalationsstufe“.",
                "Auch in Peking werde die Entwicklung mit Sorge verfolgt, heißt es aus Diplomatenkreisen.",
            ],
        );
        assert_lacks(
            &a.text,
            &[
                // cookie banner
                "Cookies",
                "Einwilligung",
                "Privatsphäre",
                // navigation and breadcrumbs
                "Wirtschaft",
                "E-Paper",
                "Startseite",
                // "Lesen Sie auch" box and "Mehr zum Thema"
                "Sanktionen",
                "Mehr zum Thema",
                "Eurofighter",
                "Rentenreform",
                "Abschlusserklärung",
                // recommendations, newsletter, footers
                "Hochwasser",
                "Tabellenführer",
                "Newsletter",
                "Postfach",
                "Teilen",
                "Impressum",
                "Datenschutzerklärung",
                "GmbH",
            ],
        );
    }

    #[test]
    fn english_article_json_ld_date_and_foreign_canonical() {
        let html = include_str!("../../tests/fixtures/fulltext/article_en.html");
        let page = url("https://harbourledger.example/2026/11/baltic-premiums-sanctions/");
        let a = extract(html, &page);
        assert_eq!(
            a.title.as_deref(),
            Some("Shipping insurers raise Baltic premiums after sanctions update - Harbour Ledger")
        );
        // The canonical names a syndication partner's host: ignored.
        assert_eq!(a.canonical, None);
        // The NewsArticle's date, not the WebPage's nor the "updated" <time>.
        assert_eq!(a.published, utc("2026-11-24T08:00:00Z"));
        assert_eq!(a.lang.as_deref(), Some("en"));
        assert_has(
            &a.text,
            &[
                "War-risk premiums for vessels calling at Baltic ports rose sharply on Tuesday after the latest sanctions package took effect, brokers in London said.",
                "one Lloyd’s broker said.",
                "Freight rates on the affected lanes climbed eleven percent week on week.",
                "Analysts expect premiums to stay elevated until the enforcement guidance is clarified early next year.",
            ],
        );
        assert_lacks(
            &a.text,
            &[
                "Accept All Cookies",
                "personalise",
                "Podcasts",
                "Skip to content",
                "Rotterdam",
                "Tanker rates",
                "Most read",
                "Suez",
                "Container glut",
                "Privacy Policy",
                "WordPress",
            ],
        );
    }

    #[test]
    fn relative_same_host_canonical_and_fallback_dates() {
        let html = r#"<html><head><title> Kurz </title>
            <link rel="Canonical" href="/a/42?ref=x">
            <meta name="DATE" content="24.11.2026 14:05"></head>
            <body><article><p>Kurzer Text.</p></article></body></html>"#;
        let a = extract(html, &url("https://example.org/a/42?utm_medium=feed"));
        assert_eq!(a.canonical, Some(url("https://example.org/a/42?ref=x")));
        assert_eq!(a.title.as_deref(), Some("Kurz"));
        assert_eq!(a.published, utc("2026-11-24T14:05:00Z"));
        assert_eq!(a.lang, None);
        assert_eq!(a.text, "Kurzer Text.");

        // `www.` is another host; a <time> inside the article is the last resort.
        let html = r#"<html lang="fr"><head><link rel="canonical" href="https://www.example.org/a/42">
            </head><body><nav>Menu</nav><article><time datetime="2026-11-20T10:00:00Z">20 nov.</time>
            <p>Bonjour.</p></article></body></html>"#;
        let a = extract(html, &url("https://example.org/a/42"));
        assert_eq!(a.canonical, None);
        assert_eq!(a.published, utc("2026-11-20T10:00:00Z"));
        assert_eq!(a.lang.as_deref(), Some("fr"));
        assert_eq!(a.title, None);
    }

    #[test]
    fn microdata_date_and_json_ld_oddities() {
        let html = r#"<html><head>
            <script type="application/ld+json">
            //<![CDATA[
            {"@context":"https://schema.org","@graph":[
              {"@type":"WebPage","datePublished":"2026-11-01T00:00:00Z"},
              {"@type":"BlogPosting","datePublished":"2026-11-02T06:30:00+01:00"}]};
            //]]>
            </script></head><body><article><p>x</p></article></body></html>"#;
        let a = extract(html, &url("https://example.org/b"));
        assert_eq!(a.published, utc("2026-11-02T05:30:00Z"));

        // Microdata comes before JSON-LD.
        let html = r#"<html><head>
            <script type="application/ld+json">{"@type":"NewsArticle","datePublished":"2026-01-01T00:00:00Z"}</script>
            </head><body><article><span itemprop="datePublished" content="2026-11-03T12:00:00Z">3. Nov.</span></article></body></html>"#;
        let a = extract(html, &url("https://example.org/c"));
        assert_eq!(a.published, utc("2026-11-03T12:00:00Z"));

        // Broken JSON-LD and unparseable dates leave `published` empty.
        let html = r#"<html><head><meta property="article:published_time" content="gestern">
            <script type="application/ld+json">{"datePublished": </script></head>
            <body><p>Text ohne Datum.</p></body></html>"#;
        let a = extract(html, &url("https://example.org/d"));
        assert_eq!(a.published, None);
        assert_eq!(a.text, "Text ohne Datum.");
    }

    #[test]
    fn hostile_input_does_not_panic() {
        let deep = format!(
            "<html><head><script type=\"application/ld+json\">{}</script></head><body>{}x{}</body></html>",
            "[".repeat(5000),
            "<div>".repeat(3000),
            "</div>".repeat(3000)
        );
        // Too deep for readability: the body fallback still finds the text.
        let a = extract(&deep, &url("https://example.org/"));
        assert_eq!(a.published, None);
        assert_eq!(a.text, "x");
        for junk in [
            "",
            "\u{0}",
            "<",
            "<html><body></body></html>",
            "plain text only",
        ] {
            let a = extract(junk, &url("https://example.org/"));
            assert_eq!(a.canonical, None);
        }
        assert_eq!(
            extract("plain text only", &url("https://example.org/")).text,
            "plain text only"
        );
    }
}
