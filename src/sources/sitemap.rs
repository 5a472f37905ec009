//! `sitemap` sources: sitemap indexes, urlsets and Google News sitemaps.
//!
//! A small streaming reader over quick-xml. Elements are matched by local
//! name and parent, so any namespace prefix works (`news:title`,
//! `n:title`, a default namespace). A document cut off after some entries
//! (a body cap, a dropped connection) keeps the entries read so far.

use super::dates::parse_date;
use super::feed::iso_639_1;
use super::{Item, ParseError};
use crate::charset::strip_xml_encoding;
use crate::text::collapse_ws;
use chrono::{DateTime, Utc};
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::Event;
use std::cmp::Reverse;
use url::Url;

/// What one sitemap document holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Sitemap {
    /// A sitemap index: the child sitemaps, newest `lastmod` first when given.
    Index(Vec<Url>),
    /// A urlset: one item per `<url>`; title from `news:title`, date from
    /// `news:publication_date`, else `lastmod`.
    Urls(Vec<Item>),
}

/// Which kind of document the root element announced.
#[derive(Clone, Copy, PartialEq)]
enum Root {
    Index,
    Urlset,
}

/// Fields of the `<sitemap>` or `<url>` being read.
#[derive(Default)]
struct Entry {
    loc: Option<String>,
    lastmod: Option<String>,
    news_title: Option<String>,
    news_date: Option<String>,
    news_lang: Option<String>,
}

/// Parses a decoded sitemap document. Relative `<loc>`s resolve against `base`.
pub fn parse(body: &str, base: &Url) -> Result<Sitemap, ParseError> {
    let body = strip_xml_encoding(body);
    let mut reader = quick_xml::Reader::from_str(&body);
    let mut root: Option<Root> = None;
    // Local names of the open elements, root first.
    let mut path: Vec<String> = Vec::new();
    let mut text = String::new();
    let mut entry: Option<Entry> = None;
    let mut children: Vec<(Url, Option<DateTime<Utc>>)> = Vec::new();
    let mut items: Vec<Item> = Vec::new();

    loop {
        let event = match reader.read_event() {
            Ok(event) => event,
            Err(e) => {
                let read_some = !children.is_empty() || !items.is_empty();
                if root.is_some() && read_some {
                    break;
                }
                return Err(ParseError(collapse_ws(&format!(
                    "sitemap is not well-formed XML at byte {}: {e}",
                    reader.error_position()
                ))));
            }
        };
        match event {
            Event::Empty(start) if root.is_none() => {
                // `<urlset/>`: a valid, empty document.
                root = Some(root_kind(start.local_name().as_ref())?);
                break;
            }
            Event::Start(start) if root.is_none() => {
                let name = start.local_name().as_ref().to_string();
                root = Some(root_kind(&name)?);
                path.push(name);
            }
            Event::Start(start) => {
                let name = start.local_name().as_ref().to_string();
                if path.len() == 1 && matches!(name.as_str(), "url" | "sitemap") {
                    entry = Some(Entry::default());
                }
                path.push(name);
                text.clear();
            }
            Event::Text(t) => text.push_str(&t.xml10_content()),
            Event::CData(c) => text.push_str(&c.xml10_content()),
            Event::GeneralRef(r) => {
                if let Ok(Some(c)) = r.resolve_char_ref() {
                    text.push(c);
                } else if let Some(s) = resolve_predefined_entity(&r) {
                    text.push_str(s);
                }
            }
            Event::End(_) => {
                let value = collapse_ws(&text);
                text.clear();
                if let Some(e) = entry.as_mut() {
                    store_field(e, &path, value);
                }
                if path.len() == 2 {
                    if let Some(e) = entry.take() {
                        match root {
                            Some(Root::Index) => children.extend(index_child(e, base)),
                            Some(Root::Urlset) => items.extend(url_item(e, base)),
                            None => {}
                        }
                    }
                }
                path.pop();
            }
            Event::Eof => break,
            _ => {}
        }
    }

    match root {
        Some(Root::Index) => {
            // Stable: undated children keep document order, after dated ones.
            children.sort_by_key(|(_, lastmod)| Reverse(*lastmod));
            Ok(Sitemap::Index(
                children.into_iter().map(|(u, _)| u).collect(),
            ))
        }
        Some(Root::Urlset) => Ok(Sitemap::Urls(items)),
        None => Err(ParseError(
            "not a sitemap: no <urlset> or <sitemapindex> element".to_string(),
        )),
    }
}

/// The document kind announced by the root element's local name.
fn root_kind(name: &str) -> Result<Root, ParseError> {
    match name {
        "sitemapindex" => Ok(Root::Index),
        "urlset" => Ok(Root::Urlset),
        other => Err(ParseError(format!(
            "not a sitemap: root element is <{other}>, not <urlset> or <sitemapindex>"
        ))),
    }
}

/// Files the text of the element at the end of `path` into `entry`.
fn store_field(entry: &mut Entry, path: &[String], value: String) {
    // Fields sit at most five elements deep (urlset/url/news/publication/language):
    // looking deeper would cost every end tag the whole nesting.
    if value.is_empty() || path.len() > 5 {
        return;
    }
    let names: Vec<&str> = path.iter().skip(2).map(String::as_str).collect();
    let slot = match names.as_slice() {
        ["loc"] => &mut entry.loc,
        ["lastmod"] => &mut entry.lastmod,
        ["news", "title"] => &mut entry.news_title,
        ["news", "publication_date"] => &mut entry.news_date,
        ["news", "publication", "language"] => &mut entry.news_lang,
        _ => return,
    };
    if slot.is_none() {
        *slot = Some(value);
    }
}

/// An absolute http(s) URL from a `<loc>`.
fn loc_url(loc: &str, base: &Url) -> Option<Url> {
    let url = base.join(loc).ok()?;
    matches!(url.scheme(), "http" | "https").then_some(url)
}

fn index_child(e: Entry, base: &Url) -> Option<(Url, Option<DateTime<Utc>>)> {
    let url = loc_url(e.loc.as_deref()?, base)?;
    Some((url, e.lastmod.as_deref().and_then(parse_date)))
}

fn url_item(e: Entry, base: &Url) -> Option<Item> {
    let url = loc_url(e.loc.as_deref()?, base)?;
    let published = e
        .news_date
        .as_deref()
        .and_then(parse_date)
        .or_else(|| e.lastmod.as_deref().and_then(parse_date));
    Some(Item {
        url: Some(url.to_string()),
        platform_id: None,
        title: e.news_title.unwrap_or_default(),
        text: String::new(),
        author: None,
        published,
        lang: e.news_lang.as_deref().and_then(iso_639_1),
        unread_date: None,
        publisher: None,
        parsed_url: Default::default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        let path = format!(
            "{}/tests/fixtures/sitemap/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        crate::charset::decode(&bytes, Some("application/xml"))
    }

    fn utc(s: &str) -> Option<DateTime<Utc>> {
        Some(DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc))
    }

    fn base() -> Url {
        Url::parse("https://www.rheinische-abendpost.de/sitemap.xml").unwrap()
    }

    fn urls(sitemap: Sitemap) -> Vec<Item> {
        match sitemap {
            Sitemap::Urls(items) => items,
            Sitemap::Index(_) => panic!("expected a urlset"),
        }
    }

    #[test]
    fn index_sorted_newest_first() {
        let Sitemap::Index(children) = parse(&fixture("index.xml"), &base()).unwrap() else {
            panic!("expected an index");
        };
        let children: Vec<&str> = children.iter().map(Url::as_str).collect();
        assert_eq!(
            children,
            [
                "https://www.rheinische-abendpost.de/sitemaps/news.xml",
                "https://www.rheinische-abendpost.de/sitemaps/archiv-2026-11.xml.gz",
                "https://www.rheinische-abendpost.de/sitemaps/archiv-2026-10.xml.gz",
                "https://www.rheinische-abendpost.de/sitemaps/ressorts.xml",
                "https://www.rheinische-abendpost.de/sitemaps/video.xml?seite=1&typ=clip",
            ]
        );
    }

    #[test]
    fn google_news_sitemap_with_any_prefix() {
        let items = urls(parse(&fixture("news.xml"), &base()).unwrap());
        let de = Some("de".to_string());
        assert_eq!(
            items,
            [
                Item {
                    url: Some("https://www.rheinische-abendpost.de/politik/ausland/nordkorea-russland-soldaten-100.html".into()),
                    title: "Nordkorea schickt weitere Soldaten nach Russland".into(),
                    published: utc("2026-11-24T13:05:00Z"),
                    lang: de.clone(),
                    ..Item::default()
                },
                Item {
                    url: Some("https://www.rheinische-abendpost.de/wirtschaft/gasumlage-streit-102.html".into()),
                    title: "Streit um Gasumlage: „Das ist für viele Haushalte unzumutbar“".into(),
                    published: utc("2026-11-25T08:30:00Z"),
                    lang: de.clone(),
                    ..Item::default()
                },
                Item {
                    url: Some("https://www.rheinische-abendpost.de/kultur/buecher-herbst-103.html".into()),
                    title: "Bücher & Bühne: Die Neuerscheinungen des Herbstes".into(),
                    published: utc("2026-11-25T00:00:00Z"),
                    lang: de,
                    ..Item::default()
                },
                Item {
                    url: Some("https://www.rheinische-abendpost.de/english/north-korea-troops-100.html".into()),
                    title: "North Korea sends more troops to Russia".into(),
                    published: utc("2026-11-24T16:00:00Z"),
                    lang: Some("en".into()),
                    ..Item::default()
                },
            ]
        );
    }

    #[test]
    fn plain_urlset_with_lastmod() {
        let base = Url::parse("https://www.handwerk-blog.example/sitemap.xml").unwrap();
        let items = urls(parse(&fixture("urlset.xml"), &base).unwrap());
        assert_eq!(
            items,
            [
                Item {
                    url: Some(
                        "https://www.handwerk-blog.example/2026/11/fachkraeftemangel-im-handwerk/"
                            .into()
                    ),
                    published: utc("2026-11-23T10:12:45Z"),
                    ..Item::default()
                },
                Item {
                    url: Some("https://www.handwerk-blog.example/2026/11/meisterbonus-nrw/".into()),
                    published: utc("2026-11-20T00:00:00Z"),
                    ..Item::default()
                },
                Item {
                    url: Some("https://www.handwerk-blog.example/kontakt/".into()),
                    ..Item::default()
                },
            ]
        );
    }

    #[test]
    fn prolog_charset_after_decoding() {
        // ISO-8859-1 bytes, declared only in the prolog: decoding to UTF-8
        // must not leave the XML reader thinking the text is still Latin-1.
        let mut bytes = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\" xmlns:news=\"http://www.google.com/schemas/sitemap-news/0.9\"><url><loc>https://www.example.de/a</loc><news:news><news:title>".to_vec();
        bytes.extend_from_slice(b"Gr\xfc\xdfe aus K\xf6ln");
        bytes.extend_from_slice(b"</news:title></news:news></url></urlset>");
        let text = crate::charset::decode(&bytes, Some("text/xml"));
        let items = urls(parse(&text, &base()).unwrap());
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].title, "Grüße aus Köln");
    }

    #[test]
    fn empty_urlset() {
        assert_eq!(
            parse(
                "<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\"/>",
                &base()
            )
            .unwrap(),
            Sitemap::Urls(vec![])
        );
    }

    #[test]
    fn truncated_document_keeps_entries_read() {
        let body = fixture("news.xml");
        let cut = body
            .find("<url>\n    <loc>https://www.rheinische-abendpost.de/kultur")
            .unwrap();
        let truncated = format!(
            "{}<url><loc>https://www.rheinische-abendpost.de/x</loc></urlset>",
            &body[..cut]
        );
        let items = urls(parse(&truncated, &base()).unwrap());
        assert_eq!(items.len(), 2);
        assert_eq!(
            items[1].url.as_deref(),
            Some("https://www.rheinische-abendpost.de/wirtschaft/gasumlage-streit-102.html")
        );
    }

    #[test]
    fn not_a_sitemap() {
        let err = parse("<rss version=\"2.0\"><channel/></rss>", &base()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "not a sitemap: root element is <rss>, not <urlset> or <sitemapindex>"
        );
        let err = parse("<html><body>Not found</body></html>", &base()).unwrap_err();
        assert!(err.to_string().starts_with("not a sitemap"), "{err}");
        assert!(parse("", &base()).is_err());
        let err = parse("<urlset><url><loc>x</url></urlset>", &base()).unwrap_err();
        assert!(!err.to_string().contains('\n'));
        assert!(
            err.to_string()
                .starts_with("sitemap is not well-formed XML"),
            "{err}"
        );
    }
}
