//! `html` sources: any listing page read by CSS selectors. `item` selects each
//! entry; title, link, date, text and author select inside it; `next` selects
//! the next-page link on the whole page. Links resolve against `<base href>`
//! (itself resolved against the page URL) or the page URL.

use super::dates::{parse_date, parse_date_in, DateContext};
use super::{Item, ParseError};
use crate::text::{collapse_ws, collect_text};
use chrono::{DateTime, Utc};
use scraper::{ElementRef, Html, Selector};
use url::Url;

/// Compiled selectors of one `html` source.
#[derive(Debug, Clone)]
pub struct Selectors {
    pub item: scraper::Selector,
    pub title: scraper::Selector,
    pub link: scraper::Selector,
    pub date: Option<scraper::Selector>,
    pub text: Option<scraper::Selector>,
    pub author: Option<scraper::Selector>,
    pub next: Option<scraper::Selector>,
}

/// One selector as written in the config could not be compiled.
#[derive(Debug, Clone, thiserror::Error)]
#[error("invalid CSS selector `{selector}` for `{key}`: {message}")]
pub struct SelectorError {
    pub key: &'static str,
    pub selector: String,
    pub message: String,
}

/// Raw selector strings as written in the config.
#[derive(Debug, Clone, Default)]
pub struct SelectorSpec {
    pub item: String,
    pub title: String,
    pub link: String,
    pub date: Option<String>,
    pub text: Option<String>,
    pub author: Option<String>,
    pub next: Option<String>,
}

/// Compiles one selector, naming the config key in the error.
fn compile_one(key: &'static str, selector: &str) -> Result<Selector, SelectorError> {
    let err = |message: String| SelectorError {
        key,
        selector: selector.to_string(),
        message,
    };
    if selector.trim().is_empty() {
        return Err(err("the selector is empty".to_string()));
    }
    Selector::parse(selector).map_err(|e| err(e.to_string()))
}

fn compile_opt(
    key: &'static str,
    selector: &Option<String>,
) -> Result<Option<Selector>, SelectorError> {
    selector.as_deref().map(|s| compile_one(key, s)).transpose()
}

impl Selectors {
    pub fn compile(spec: &SelectorSpec) -> Result<Selectors, SelectorError> {
        Ok(Selectors {
            item: compile_one("item", &spec.item)?,
            title: compile_one("title", &spec.title)?,
            link: compile_one("link", &spec.link)?,
            date: compile_opt("date", &spec.date)?,
            text: compile_opt("text", &spec.text)?,
            author: compile_opt("author", &spec.author)?,
            next: compile_opt("next", &spec.next)?,
        })
    }
}

/// One listing page: its items and the next page, if any.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Page {
    pub items: Vec<Item>,
    pub next: Option<Url>,
    /// Elements the `item` selector matched, with or without an item each.
    pub entries: usize,
    /// Entries skipped because `title` matched no text in them.
    pub no_title: usize,
    /// Entries skipped because they had no usable link.
    pub no_link: usize,
}

/// Reads one listing page, absolute dates only (a time without a zone is
/// UTC); see [`parse_in`].
pub fn parse(body: &str, page_url: &Url, selectors: &Selectors) -> Result<Page, ParseError> {
    read(body, page_url, selectors, None)
}

/// Reads one listing page, its dates against `dates` (the fetch time and
/// the configured timezone, for `vor 3 Stunden` and `gestern, 14:30`).
/// Entries without a title or a usable link are skipped (and counted); a
/// page where `item` matches nothing is an empty page. HTML parsing is
/// lenient, so any body yields a page and no error.
pub fn parse_in(
    body: &str,
    page_url: &Url,
    selectors: &Selectors,
    dates: &DateContext,
) -> Result<Page, ParseError> {
    read(body, page_url, selectors, Some(dates))
}

fn read(
    body: &str,
    page_url: &Url,
    selectors: &Selectors,
    dates: Option<&DateContext>,
) -> Result<Page, ParseError> {
    let doc = crate::markup::parse_document(body);
    let base = base_url(&doc, page_url);
    let lang = document_lang(&doc);

    let mut page = Page::default();
    for entry in doc.select(&selectors.item) {
        page.entries += 1;
        let title = match selectors.title_text(entry) {
            Some(t) => t,
            None => {
                page.no_title += 1;
                continue;
            }
        };
        let url = match item_link(entry, &selectors.link, &base) {
            Some(u) => u,
            None => {
                page.no_link += 1;
                continue;
            }
        };
        let mut unread_date = None;
        let published = selectors.date.as_ref().and_then(|sel| {
            entry
                .select(sel)
                .find_map(|el| match element_date(el, dates) {
                    Ok(d) => Some(d),
                    Err(unread) => {
                        if unread_date.is_none() {
                            unread_date = unread;
                        }
                        None
                    }
                })
        });
        if published.is_some() {
            unread_date = None;
        }
        let text = selectors
            .text
            .as_ref()
            .map(|sel| joined_text(entry, sel))
            .unwrap_or_default();
        let author = selectors
            .author
            .as_ref()
            .and_then(|sel| entry.select(sel).map(element_text).find(|s| !s.is_empty()));
        page.items.push(Item {
            url: Some(url.to_string()),
            platform_id: None,
            title,
            text,
            author,
            published,
            lang: lang.clone(),
            unread_date,
            publisher: None,
            parsed_url: Default::default(),
        });
    }

    page.next = selectors.next.as_ref().and_then(|sel| {
        let target = doc
            .select(sel)
            .next()
            .and_then(|el| element_href(el, &base))?;
        (!same_page(&target, page_url)).then_some(target)
    });

    Ok(page)
}

impl Selectors {
    /// Plain text of the first non-empty title match.
    fn title_text(&self, entry: ElementRef<'_>) -> Option<String> {
        entry
            .select(&self.title)
            .map(element_text)
            .find(|s| !s.is_empty())
    }
}

/// The page's `<base href>` resolved against the page URL, else the page URL.
pub(crate) fn base_url(doc: &Html, page_url: &Url) -> Url {
    let Ok(sel) = Selector::parse("base[href]") else {
        return page_url.clone();
    };
    doc.select(&sel)
        .next()
        .and_then(|b| b.value().attr("href"))
        .and_then(|href| page_url.join(href.trim()).ok())
        .filter(is_web_url)
        .unwrap_or_else(|| page_url.clone())
}

/// Primary language subtag of `<html lang>`, lower-cased (`de-DE` → `de`).
pub(crate) fn document_lang(doc: &Html) -> Option<String> {
    let lang = doc.root_element().value().attr("lang")?;
    let primary = lang.trim().split(['-', '_']).next()?.to_ascii_lowercase();
    (primary.len() == 2 && primary.chars().all(|c| c.is_ascii_alphabetic())).then_some(primary)
}

fn is_web_url(u: &Url) -> bool {
    matches!(u.scheme(), "http" | "https")
}

/// Resolves an `href` value; only http(s) targets count as links.
fn resolve(href: &str, base: &Url) -> Option<Url> {
    let href = href.trim();
    if href.is_empty() {
        return None;
    }
    base.join(href).ok().filter(is_web_url)
}

/// The element's own `href`, else that of its first descendant `a[href]`.
fn element_href(el: ElementRef<'_>, base: &Url) -> Option<Url> {
    if let Some(href) = el.value().attr("href") {
        return resolve(href, base);
    }
    el.descendants()
        .filter_map(ElementRef::wrap)
        .find(|d| d.value().name() == "a" && d.value().attr("href").is_some())
        .and_then(|a| a.value().attr("href"))
        .and_then(|href| resolve(href, base))
}

/// The entry's link: the first `link` match that yields one, else the entry's
/// own `href` when the entry is itself an `<a>`.
fn item_link(entry: ElementRef<'_>, link: &Selector, base: &Url) -> Option<Url> {
    entry
        .select(link)
        .find_map(|el| element_href(el, base))
        .or_else(|| {
            (entry.value().name() == "a")
                .then(|| entry.value().attr("href"))
                .flatten()
                .and_then(|href| resolve(href, base))
        })
}

/// Visible text of an element, white space collapsed.
fn element_text(el: ElementRef<'_>) -> String {
    let mut out = String::new();
    collect_text(*el, &mut out);
    collapse_ws(&out)
}

/// Text of all matches joined with a space; a match nested in an earlier
/// match is skipped so that its text is not counted twice.
fn joined_text(entry: ElementRef<'_>, sel: &Selector) -> String {
    // Matches come in document order, so a match nested in an earlier one
    // is nested in the last one taken.
    let mut last: Option<ego_tree::NodeId> = None;
    let mut parts: Vec<String> = Vec::new();
    for el in entry.select(sel) {
        if last.is_some_and(|taken| el.ancestors().any(|a| a.id() == taken)) {
            continue;
        }
        last = Some(el.id());
        let t = element_text(el);
        if !t.is_empty() {
            parts.push(t);
        }
    }
    parts.join(" ")
}

/// A date from an element, read against `dates`: its `datetime`, `content`
/// or `title` attribute, then a descendant's `datetime`, then its text.
/// When none reads, the text it could not read (the element's own text,
/// else the first attribute), or None when the element held nothing.
fn element_date(
    el: ElementRef<'_>,
    dates: Option<&DateContext>,
) -> Result<DateTime<Utc>, Option<String>> {
    let read = |s: &str| match dates {
        Some(cx) => parse_date_in(s, cx),
        None => parse_date(s),
    };
    let v = el.value();
    let attrs = ["datetime", "content", "title"]
        .iter()
        .filter_map(|a| v.attr(a))
        .chain(
            el.descendants()
                .filter_map(ElementRef::wrap)
                .filter_map(|d| d.value().attr("datetime")),
        );
    let mut first = None;
    for s in attrs {
        let s = s.trim();
        if s.is_empty() {
            continue;
        }
        if let Some(d) = read(s) {
            return Ok(d);
        }
        first.get_or_insert(s);
    }
    let text = element_text(el);
    if text.is_empty() {
        return Err(first.map(str::to_owned));
    }
    read(&text).ok_or(Some(text))
}

/// A trimmed, non-empty string read by `dates::parse_date`.
pub(crate) fn parse_when(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    crate::sources::dates::parse_date(s)
}

/// Whether two URLs name the same page, ignoring the fragment.
fn same_page(a: &Url, b: &Url) -> bool {
    let mut a = a.clone();
    let mut b = b.clone();
    a.set_fragment(None);
    b.set_fragment(None);
    a == b
}

#[cfg(test)]
impl Selectors {
    /// Selectors from `[item, title, link, date, text, author, next]`, as
    /// the config compiles them; "" means unset. For tests.
    pub(crate) fn from_list(s: [&str; 7]) -> Selectors {
        let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
        Selectors::compile(&SelectorSpec {
            item: s[0].into(),
            title: s[1].into(),
            link: s[2].into(),
            date: opt(s[3]),
            text: opt(s[4]),
            author: opt(s[5]),
            next: opt(s[6]),
        })
        .expect("selectors compile")
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

    fn opt(s: &str) -> Option<String> {
        (!s.is_empty()).then(|| s.to_string())
    }

    fn selectors(s: [&str; 7]) -> Selectors {
        Selectors::from_list(s)
    }

    fn item(
        link: &str,
        title: &str,
        text: &str,
        author: Option<&str>,
        published: Option<DateTime<Utc>>,
        lang: &str,
    ) -> Item {
        Item {
            url: Some(link.into()),
            platform_id: None,
            title: title.into(),
            text: text.into(),
            author: author.map(Into::into),
            published,
            lang: opt(lang),
            unread_date: None,
            publisher: None,
            parsed_url: Default::default(),
        }
    }

    #[test]
    fn german_news_listing_with_time_datetime() {
        let body = include_str!("../../tests/fixtures/html/news_listing_de.html");
        let sel = selectors([
            "article.teaser",
            ".teaser__headline",
            "a.teaser__link",
            "time",
            ".teaser__text",
            ".teaser__author",
            "nav.pagination a[rel=next]",
        ]);
        let page = parse(
            body,
            &url("https://www.rheinischer-anzeiger.de/politik/"),
            &sel,
        )
        .unwrap();
        let want = vec![
            item(
                "https://www.rheinischer-anzeiger.de/politik/nordkorea-soldaten-kursk-russland-93671.html",
                "Nordkoreanische Soldaten erstmals in Kursk gesichtet",
                "Südkoreas Geheimdienst meldet mehrere Tausend Soldaten an der Front. Moskau schweigt, Kiew spricht von einer \u{201e}neuen Eskalationsstufe\u{201c}.",
                Some("Von Anna Becker"),
                utc("2026-11-24T13:05:00Z"),
                "de",
            ),
            item(
                "https://www.rheinischer-anzeiger.de/politik/landtag-haushalt-einigung-93660.html",
                "Koalition einigt sich auf Haushalt & Schuldenbremse",
                "Nach zwölf Stunden Verhandlungen steht der Etat für 2027. Die Opposition kündigt eine Klage an.",
                None,
                utc("2026-11-24T08:30:00Z"),
                "de",
            ),
            // The ad has no headline and the live teaser only a javascript: link.
            item(
                "https://www.rheinischer-anzeiger.de/politik/ausland/g20-gipfel-rio-abschlusserklaerung-93641.html?utm_source=ressort",
                "Gipfel in Rio endet mit knapper Abschlusserklärung",
                "",
                Some("Von Jonas Wirth und Lea Sommer"),
                utc("2026-11-23T00:00:00Z"),
                "de",
            ),
        ];
        assert_eq!(page.items, want);
        assert_eq!(
            page.next,
            Some(url("https://www.rheinischer-anzeiger.de/politik/seite-2/"))
        );
    }

    #[test]
    fn german_text_dates_base_href_and_self_next() {
        let body = include_str!("../../tests/fixtures/html/press_list_de_textdates.html");
        let sel = selectors([
            ".mod_newslist .layout_latest",
            "h2",
            "h2 a",
            ".info .date",
            ".ce_text",
            ".info .author",
            ".pagination li.next a",
        ]);
        let page_url = url("https://www.stadt-beispielheim.de/presse/mitteilungen.html?page_n12=3");
        let page = parse(body, &page_url, &sel).unwrap();
        let base = "https://www.stadt-beispielheim.de/presse/mitteilungen/";
        let want = vec![
            item(
                &format!("{base}stadtrat-beschliesst-neues-radwegekonzept.html"),
                "Stadtrat beschließt neues Radwegekonzept",
                "Mit 28 zu 11 Stimmen hat der Stadtrat am Montagabend das Radwegekonzept 2030 verabschiedet.",
                Some("von Pressestelle"),
                utc("2026-11-24T14:05:00Z"),
                "de",
            ),
            item(
                &format!("{base}weihnachtsmarkt-oeffnet-am-freitag.html"),
                "Weihnachtsmarkt öffnet am Freitag",
                "Der Beispielheimer Weihnachtsmarkt öffnet am 27. November um 11 Uhr.",
                Some("von Pressestelle"),
                utc("2026-11-23T09:15:00Z"),
                "de",
            ),
            item(
                &format!("{base}sperrung-der-rheinbruecke.html"),
                "Sperrung der Rheinbrücke",
                "Wegen Bauarbeiten ist die Rheinbrücke vom 30. November bis 4. Dezember voll gesperrt.",
                None,
                utc("2026-11-20T00:00:00Z"),
                "de",
            ),
        ];
        assert_eq!(page.items, want);
        // The last page's "Weiter" points at itself.
        assert_eq!(page.next, None);
    }

    #[test]
    fn english_text_dates_and_abbr_title() {
        let body = include_str!("../../tests/fixtures/html/newsroom_en_textdates.html");
        let sel = selectors([
            "li.press-item",
            ".press-item__title",
            ".press-item__title a",
            ".press-item__date",
            ".press-item__summary",
            "",
            "a.next",
        ]);
        let page_url = url("https://www.northwind-shipping.example/newsroom/");
        let page = parse(body, &page_url, &sel).unwrap();
        let base = "https://www.northwind-shipping.example/newsroom/";
        let want = vec![
            item(
                &format!("{base}2026/11/northwind-suspends-baltic-route/"),
                "Northwind suspends Baltic route after sanctions update",
                "The company will reroute four container vessels via Gdańsk.",
                None,
                utc("2026-11-24T14:05:00Z"),
                "en",
            ),
            item(
                &format!("{base}2026/11/q3-results/"),
                "Third-quarter results: revenue up 4 %",
                "Freight volumes recovered in September.",
                None,
                utc("2026-11-23T09:30:00Z"),
                "en",
            ),
            item(
                &format!("{base}2026/09/new-ceo/"),
                "Board appoints new chief executive",
                "",
                None,
                utc("2026-09-03T00:00:00Z"),
                "en",
            ),
            Item {
                // Kept for the crawl's log.
                unread_date: Some("Coming soon".into()),
                ..item(
                    &format!("{base}2026/12/annual-report/"),
                    "Annual report 2026",
                    "",
                    None,
                    None,
                    "en",
                )
            },
        ];
        assert_eq!(page.items, want);
        assert_eq!(page.next, Some(url(&format!("{base}page/2/"))));
    }

    const PHPBB_SID: &str = "sid=9b1f4c2ad07e83b56f1a2c4e8d9b0a17";

    #[test]
    fn phpbb_search_results_as_posts() {
        let body = include_str!("../../tests/fixtures/html/phpbb33_search_posts.html");
        let sel = selectors([
            ".search.post",
            "h3 a",
            "h3 a",
            ".search-result-date",
            ".content",
            ".author .username, .author .username-coloured",
            ".pagination li.next a",
        ]);
        let page_url = url(&format!(
            "https://forum.example/search.php?keywords=nordkorea&{PHPBB_SID}"
        ));
        let page = parse(body, &page_url, &sel).unwrap();
        let post = |p: u32| format!("https://forum.example/viewtopic.php?p={p}&{PHPBB_SID}#p{p}");
        let want = vec![
            item(
                &post(48211),
                "Re: Nordkoreanische Truppen in Russland",
                "Mara hat geschrieben: ↑Di 24. Nov 2026, 11:40Gibt es dafür eine Quelle? Ja, der südkoreanische Geheimdienst NIS hat heute bestätigt, dass die Einheiten bei Kursk stehen. Hier der Bericht: https://www.example-news.kr/nis-report",
                Some("Kalle"),
                utc("2026-11-24T14:05:00Z"),
                "de",
            ),
            item(
                &post(48102),
                "Nordkoreanische Truppen in Russland",
                "Laut Reuters sollen bis zu 10.000 nordkoreanische Soldaten in Russland ausgebildet werden. Was haltet ihr davon?",
                Some("Mara"),
                utc("2026-11-23T21:17:00Z"),
                "de",
            ),
            Item {
                // "Heute, 08:12" is relative: no date without the fetch time.
                unread_date: Some("Heute, 08:12".into()),
                ..item(
                    &post(48230),
                    "Nachrichten-Überblick \"Woche 48\"",
                    "Nordkorea, Haushalt, Wetter.",
                    Some("Gast"),
                    None,
                    "de",
                )
            },
        ];
        assert_eq!(page.items, want);
        // Against the fetch time in Berlin it is today at 08:12 there.
        let cx = DateContext::new(
            utc("2026-11-30T10:00:00Z").unwrap(),
            chrono_tz::Europe::Berlin,
        );
        let read = parse_in(body, &page_url, &sel, &cx).unwrap();
        assert_eq!(read.items[2].published, utc("2026-11-30T07:12:00Z"));
        assert_eq!(read.items[2].unread_date, None);
        assert_eq!(
            page.next,
            Some(url(&format!(
                "https://forum.example/search.php?st=0&sk=t&sd=d&sr=posts&keywords=nordkorea&{PHPBB_SID}&start=25"
            )))
        );
    }

    #[test]
    fn phpbb_search_results_as_topics() {
        let body = include_str!("../../tests/fixtures/html/phpbb33_search_topics.html");
        let sel = selectors([
            "ul.topiclist.topics li.row",
            "a.topictitle",
            "a.topictitle",
            "div.responsive-hide time",
            "",
            "div.responsive-hide .username",
            ".pagination li.next a",
        ]);
        let sid = "sid=4e0b7d1c92af35e6d8c0b1a2f3e4d5c6";
        let page_url = url(&format!(
            "https://forum.example/search.php?keywords=sanctions&sr=topics&{sid}"
        ));
        let page = parse(body, &page_url, &sel).unwrap();
        let want = vec![
            item(
                &format!("https://forum.example/viewtopic.php?t=881&{sid}"),
                "Baltic shipping and the new sanctions package",
                "",
                Some("harbourmaster"),
                utc("2026-11-23T18:40:00Z"),
                "en",
            ),
            item(
                &format!("https://forum.example/viewtopic.php?t=702&{sid}"),
                "Insurance premiums after the sanctions",
                "",
                Some("ledger"),
                utc("2026-10-02T07:05:00Z"),
                "en",
            ),
        ];
        assert_eq!(page.items, want);
        assert_eq!(page.next, None);
    }

    #[test]
    fn xenforo2_thread_list() {
        let body = include_str!("../../tests/fixtures/html/xenforo2_thread_list.html");
        let sel = selectors([
            ".structItem--thread",
            ".structItem-title a[data-tp-primary]",
            ".structItem-startDate a",
            ".structItem-startDate time",
            "",
            ".structItem-parts .username",
            "a.pageNav-jump--next",
        ]);
        let host = "https://www.debattenforum.example";
        let page_url = url(&format!("{host}/forums/politik-weltgeschehen.12/"));
        let page = parse(body, &page_url, &sel).unwrap();
        let want = vec![
            item(
                &format!("{host}/threads/forenregeln-fuer-politische-diskussionen.4417/"),
                "Forenregeln für politische Diskussionen",
                "",
                Some("Redaktion"),
                utc("2024-01-08T09:00:00Z"),
                "de",
            ),
            item(
                &format!("{host}/threads/nordkoreanische-soldaten-in-kursk.5530/"),
                "Nordkoreanische Soldaten in Kursk",
                "",
                Some("Ostwind"),
                utc("2026-11-24T13:05:00Z"),
                "de",
            ),
            item(
                &format!(
                    "{host}/threads/was-bedeutet-die-wehrpflicht-debatte-fuer-studenten.5527/"
                ),
                "Was bedeutet die Wehrpflicht-Debatte für Studenten?",
                "",
                Some("Gast_Marie"),
                utc("2026-11-23T21:31:00Z"),
                "de",
            ),
        ];
        assert_eq!(page.items, want);
        assert_eq!(
            page.next,
            Some(url(&format!(
                "{host}/forums/politik-weltgeschehen.12/page-2"
            )))
        );
    }

    #[test]
    fn vbulletin5_search_results() {
        let body = include_str!("../../tests/fixtures/html/vbulletin5_search.html");
        let sel = selectors([
            "li.b-post",
            ".b-post__title",
            "a.b-post__count",
            "time[itemprop=dateCreated]",
            ".js-post__content-text",
            ".b-userinfo__details .author",
            "a.js-pagenav-next-button",
        ]);
        let host = "https://www.militaergeschichte-forum.example";
        let search = format!("{host}/search?searchJSON=%7B%22keywords%22%3A%22kursk%22%7D");
        let page = parse(body, &url(&search), &sel).unwrap();
        let want = vec![
            item(
                &format!("{host}/forum/zeitgeschichte/osteuropa/20514-kursk-1943-und-2026-ein-vergleich-der-lagen"),
                "Kursk 1943 und 2026 – ein Vergleich der Lagen",
                "Die aktuelle Lage um Kursk erinnert viele an 1943. Aber die Kräfteverhältnisse sind völlig anders.",
                Some("Panzergrenadier"),
                utc("2026-11-24T14:05:00Z"),
                "de",
            ),
            item(
                // A relative permalink resolves against <base href>.
                &format!("{host}/forum/zeitgeschehen/aktuelle-konflikte/20488-nordkoreanische-truppen-an-der-kursk-front?p=20530#post20530"),
                "AW: Nordkoreanische Truppen an der Kursk-Front",
                "Zitat von Ostfront-Leser: Woher kommen die Zahlen? Die Zahlen stammen aus dem Lagebericht des britischen Verteidigungsministeriums.",
                Some("Feldgrau"),
                utc("2026-11-24T11:40:00Z"),
                "de",
            ),
        ];
        assert_eq!(page.items, want);
        assert_eq!(page.next, Some(url(&format!("{search}&p=2"))));
    }

    #[test]
    fn discourse_crawler_topic_list() {
        let body = include_str!("../../tests/fixtures/html/discourse_crawler_latest.html");
        let sel = selectors([
            "tr.topic-list-item",
            "a.raw-topic-link",
            "a.raw-topic-link",
            "td:last-child",
            ".excerpt",
            "",
            "a[rel=next]",
        ]);
        let host = "https://talk.openpolicy.example";
        let page = parse(body, &url(&format!("{host}/c/world-affairs/7")), &sel).unwrap();
        let want = vec![
            item(
                &format!("{host}/t/about-the-world-affairs-category/12"),
                "About the World Affairs category",
                "Discussion of international relations. Please cite sources for factual claims.",
                None,
                utc("2024-03-02T00:00:00Z"),
                "en",
            ),
            item(
                &format!("{host}/t/north-korean-troops-near-kursk-what-we-know/4821"),
                "North Korean troops near Kursk: what we know",
                "",
                None,
                utc("2026-11-24T00:00:00Z"),
                "en",
            ),
            item(
                &format!("{host}/t/g20-communique-tracker/4790"),
                "G20 communiqué tracker",
                "",
                None,
                utc("2026-11-19T00:00:00Z"),
                "en",
            ),
        ];
        assert_eq!(page.items, want);
        assert_eq!(
            page.next,
            Some(url(&format!("{host}/c/world-affairs/7?page=1")))
        );
    }

    #[test]
    fn item_that_is_a_link_and_link_without_href() {
        let body = r#"<html><body><div class="cards">
            <a class="card" href="/a/1"><h3>Eins</h3><span class="d">24.11.2026 14:05</span></a>
            <a class="card" href="/a/2"><h3>  </h3></a>
            <div class="card"><h3>Drei</h3><p>kein Link</p></div>
            <div class="card"><h3>Vier <a href="mailto:x@example.org">Mail</a></h3></div>
            <div class="card"><h3>Fünf <a name="x">Anker</a> <a href="/a/5?x=1&amp;y=2#c">mehr</a></h3></div>
        </div></body></html>"#;
        let sel = selectors([".card", "h3", "h3", "span.d", "", "", ""]);
        let page = parse(body, &url("https://example.org/liste/"), &sel).unwrap();
        let want = vec![
            item(
                "https://example.org/a/1",
                "Eins",
                "",
                None,
                utc("2026-11-24T14:05:00Z"),
                "",
            ),
            item(
                "https://example.org/a/5?x=1&y=2#c",
                "Fünf Anker mehr",
                "",
                None,
                None,
                "",
            ),
        ];
        assert_eq!(page.items, want);
        assert_eq!(page.next, None);
    }

    #[test]
    fn nested_text_matches_count_once() {
        let body = r#"<ul><li><a href="https://example.org/x">X</a>
            <div class="t">Außen <div class="t">innen</div></div><p class="t">Zweiter Absatz</p></li></ul>"#;
        let sel = selectors(["li", "a", "a", "", ".t", "", ""]);
        let page = parse(body, &url("https://example.org/"), &sel).unwrap();
        assert_eq!(page.items.len(), 1);
        assert_eq!(page.items[0].text, "Außen innen Zweiter Absatz");
    }

    /// A German forum's topic list: relative dates, read against the fetch
    /// time in Berlin; a date that cannot be read is kept for the log.
    const FORUM_DE: &str = r#"<html lang="de"><body><ul class="topics">
<li class="topic"><a class="t" href="/t/101">Nordkorea schickt Truppen nach Russland</a><span class="when">vor 3 Stunden</span></li>
<li class="topic"><a class="t" href="/t/102">Putin empfängt Kim in Moskau</a><span class="when">gestern, 14:30</span></li>
<li class="topic"><a class="t" href="/t/103">Pjöngjang und Moskau: Abkommen</a><span class="when">heute, 09:15</span></li>
<li class="topic"><a class="t" href="/t/104">Archiv: Kursk im Frühjahr</a><span class="when">12. März 2025</span></li>
<li class="topic"><a class="t" href="/t/105">Ohne lesbares Datum</a><span class="when">letzten Dienstag irgendwann</span></li>
<li class="topic"><span class="t">Ohne Link</span><span class="when">heute</span></li>
</ul></body></html>"#;

    #[test]
    fn forum_dates_are_read_against_the_fetch_time_in_the_timezone() {
        let sel = selectors(["li.topic", ".t", "a.t", ".when", "", "", ""]);
        // 10:00 UTC is 11:00 in Berlin (CET) on 25 November.
        let fetched = utc("2026-11-25T10:00:00Z").unwrap();
        let cx = DateContext::new(fetched, chrono_tz::Europe::Berlin);
        let page = parse_in(FORUM_DE, &url("https://forum.example.de/"), &sel, &cx).unwrap();
        let dates: Vec<_> = page
            .items
            .iter()
            .map(|i| (i.published, i.unread_date.as_deref()))
            .collect();
        assert_eq!(
            dates,
            [
                (utc("2026-11-25T07:00:00Z"), None),
                (utc("2026-11-24T13:30:00Z"), None),
                (utc("2026-11-25T08:15:00Z"), None),
                (utc("2025-03-11T23:00:00Z"), None),
                (None, Some("letzten Dienstag irgendwann")),
            ]
        );
        assert_eq!((page.entries, page.no_title, page.no_link), (6, 0, 1));
        // Without a context only absolute dates are read, in UTC.
        let plain = parse(FORUM_DE, &url("https://forum.example.de/"), &sel).unwrap();
        let read: Vec<_> = plain.items.iter().map(|i| i.published).collect();
        assert_eq!(read, [None, None, None, utc("2025-03-12T00:00:00Z"), None]);
        assert_eq!(plain.items[0].unread_date.as_deref(), Some("vor 3 Stunden"));
    }

    #[test]
    fn nothing_matched_is_an_empty_page() {
        let body = include_str!("../../tests/fixtures/html/news_listing_de.html");
        let sel = selectors(["li.no-such-item", "h2", "a", "", "", "", ""]);
        let page = parse(
            body,
            &url("https://www.rheinischer-anzeiger.de/politik/"),
            &sel,
        )
        .unwrap();
        assert_eq!(
            page,
            Page {
                entries: 0,
                ..Page::default()
            }
        );
        for junk in ["", "{\"items\": []}", "\u{0}\u{1}<<<>>>&&&", "<html"] {
            let page = parse(junk, &url("https://example.org/"), &sel).unwrap();
            assert_eq!(
                page,
                Page {
                    entries: 0,
                    ..Page::default()
                }
            );
        }
    }

    #[test]
    fn selector_errors_name_key_and_selector() {
        let good = SelectorSpec {
            item: "article".into(),
            title: "h2".into(),
            link: "a".into(),
            ..Default::default()
        };
        assert!(Selectors::compile(&good).is_ok());

        let bad_item = SelectorSpec {
            item: "article[".into(),
            ..good.clone()
        };
        let err = Selectors::compile(&bad_item).unwrap_err();
        assert_eq!((err.key, err.selector.as_str()), ("item", "article["));
        assert!(
            err.to_string()
                .starts_with("invalid CSS selector `article[` for `item`: "),
            "{err}"
        );

        let empty_title = SelectorSpec {
            title: "  ".into(),
            ..good.clone()
        };
        let err = Selectors::compile(&empty_title).unwrap_err();
        assert_eq!(err.key, "title");
        assert_eq!(err.message, "the selector is empty");

        let bad_date = SelectorSpec {
            date: Some("time::".into()),
            ..good.clone()
        };
        let err = Selectors::compile(&bad_date).unwrap_err();
        assert_eq!((err.key, err.selector.as_str()), ("date", "time::"));

        let bad_next = SelectorSpec {
            next: Some("a >> b".into()),
            ..good
        };
        assert_eq!(Selectors::compile(&bad_next).unwrap_err().key, "next");
    }
}
