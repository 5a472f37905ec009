//! `html` sources: any listing page read by CSS selectors. `item` selects each
//! entry; title, link, date, text and author select inside it; `next` selects
//! the next-page link on the whole page. Links resolve against `<base href>`
//! (itself resolved against the page URL) or the page URL.

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
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub items: Vec<Item>,
    pub next: Option<Url>,
}

/// Reads one listing page. Entries without a title or a usable link are
/// skipped; a page where `item` matches nothing is an empty page.
pub fn parse(body: &str, page_url: &Url, selectors: &Selectors) -> Result<Page, ParseError> {
    let doc = Html::parse_document(body);
    let base = base_url(&doc, page_url);
    let lang = document_lang(&doc);

    let mut items = Vec::new();
    for entry in doc.select(&selectors.item) {
        let title = match selectors.title_text(entry) {
            Some(t) => t,
            None => continue,
        };
        let url = match item_link(entry, &selectors.link, &base) {
            Some(u) => u,
            None => continue,
        };
        let published = selectors
            .date
            .as_ref()
            .and_then(|sel| entry.select(sel).find_map(element_date));
        let text = selectors
            .text
            .as_ref()
            .map(|sel| joined_text(entry, sel))
            .unwrap_or_default();
        let author = selectors
            .author
            .as_ref()
            .and_then(|sel| entry.select(sel).map(element_text).find(|s| !s.is_empty()));
        items.push(Item {
            url: Some(url.to_string()),
            platform_id: None,
            title,
            text,
            author,
            published,
            lang: lang.clone(),
        });
    }

    let next = selectors.next.as_ref().and_then(|sel| {
        let target = doc
            .select(sel)
            .next()
            .and_then(|el| element_href(el, &base))?;
        (!same_page(&target, page_url)).then_some(target)
    });

    Ok(Page { items, next })
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
fn base_url(doc: &Html, page_url: &Url) -> Url {
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
    let mut taken: Vec<ego_tree::NodeId> = Vec::new();
    let mut parts: Vec<String> = Vec::new();
    for el in entry.select(sel) {
        if el.ancestors().any(|a| taken.contains(&a.id())) {
            continue;
        }
        taken.push(el.id());
        let t = element_text(el);
        if !t.is_empty() {
            parts.push(t);
        }
    }
    parts.join(" ")
}

/// A date from an element: its `datetime`, `content` or `title` attribute,
/// then a descendant's `datetime`, then its text.
fn element_date(el: ElementRef<'_>) -> Option<DateTime<Utc>> {
    let v = el.value();
    ["datetime", "content", "title"]
        .iter()
        .filter_map(|a| v.attr(a))
        .find_map(parse_when)
        .or_else(|| {
            el.descendants()
                .filter_map(ElementRef::wrap)
                .filter_map(|d| d.value().attr("datetime"))
                .find_map(parse_when)
        })
        .or_else(|| parse_when(&element_text(el)))
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
