//! `feed` sources: RSS 0.9x/1.0/2.0, Atom 0.3/1.0 and JSON Feed 1.0/1.1,
//! detected from the content and read the way Python's feedparser reads
//! them — the reference feed tools are measured against.
//!
//! The reader is written by hand over a small lenient tokenizer instead of
//! using feed-rs: a feed reader for a counter must recover item by item,
//! and feed-rs stops at the first XML error (one unescaped `&`, a `&nbsp;`,
//! a control character, a missing `</item>`), drops every element of an
//! `<rss>` that declares a default namespace, and rejects RSS without a
//! `version`. Here a broken item costs that item and is reported, never the
//! feed, and a document that yields no items says why ([`read`]). The tags
//! come from a small tokenizer (xml.rs) rather than quick-xml, which stops
//! for good at an unterminated comment, CDATA section or tag and reads
//! `I <3 Berlin` as a tag; the tokenizer reads those as text.
//!
//! The mapping is what it was with feed-rs: absolute links (against
//! `xml:base` or the document URL), plain-text title and body (content
//! before summary or description), the first author, a UTC date read by
//! [`parse_date`](super::dates::parse_date), and the declared language as an
//! ISO 639-1 code. Time is linear in the input: the tokenizer never scans a
//! byte twice after a failed search, and nesting is capped at 256 elements.

mod json;
mod markup;
mod walk;
mod xml;

use super::{Item, ParseError};
use url::Url;
use xml::{attribute, split_name, Tag, Tokenizer};

/// A feed document as read: its items and what could not be read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeedDoc {
    pub items: Vec<Item>,
    /// Items whose markup broke and which were dropped.
    pub skipped: usize,
    /// Why the document yielded fewer items than it holds, or none; for
    /// the crawl line and `sources`.
    pub warnings: Vec<String>,
    /// The format in feedparser's words: `rss20`, `rss10`, `rss090`,
    /// `rss091u`, `rss092`, `rss093`, `rss094`, `rss` (no or an unknown
    /// version), `atom10`, `atom03`, `atom`, `json1`, `json11`.
    pub version: &'static str,
}

/// Parses a decoded feed document. Relative links resolve against `base`.
pub fn parse(body: &str, base: &Url) -> Result<Vec<Item>, ParseError> {
    read(body, base).map(|doc| doc.items)
}

/// Reads a decoded feed document (the caller has turned the bytes into
/// text already, so an encoding named in the XML prolog is ignored).
/// Relative links resolve against `base`.
///
/// A document that is not a feed, or whose every item is broken, is an
/// error naming the reason; a feed without items, or with some items
/// dropped, is read with a warning.
pub fn read(body: &str, base: &Url) -> Result<FeedDoc, ParseError> {
    let text = body.trim_start_matches(|c: char| c == '\u{feff}' || c.is_whitespace());
    if text.is_empty() {
        return Err(ParseError("the document is empty".into()));
    }
    if text.starts_with(['{', '[']) {
        return json::read(text, base);
    }
    let mut tags = Tokenizer::new(text);
    let Some(root) = tags.find(|t| matches!(t, Tag::Start { .. })) else {
        return Err(ParseError(format!(
            "the document is neither XML nor JSON (it starts with {:?})",
            text.chars().take(40).collect::<String>()
        )));
    };
    let Tag::Start { name, attrs, .. } = root else {
        return Err(ParseError("the document has no root element".into()));
    };
    let (version, atom, item_word) = detect(text, name, attrs)?;
    let walked = walk::Walker::new(text, base, atom, attrs).run(tags, root);
    let mut doc = FeedDoc {
        items: walked.items,
        skipped: walked.broken,
        version,
        ..FeedDoc::default()
    };
    if doc.items.is_empty() && doc.skipped > 0 {
        let reason = walked.first_break.unwrap_or_default();
        let more = match doc.skipped {
            1 => String::new(),
            n => format!(" (and in the other {} <{item_word}> elements)", n - 1),
        };
        return Err(ParseError(format!(
            "unable to parse XML: Parser error: {reason}{more}"
        )));
    }
    for item in &mut doc.items {
        if item.lang.is_none() {
            item.lang.clone_from(&walked.feed_lang);
        }
        if item.author.is_none() {
            item.author.clone_from(&walked.feed_author);
        }
    }
    let none = format!("the document's root is <{name}> but it has no <{item_word}> elements");
    summarise(
        &mut doc,
        walked.found,
        walked.empty,
        walked.first_break.as_deref(),
        &none,
    );
    Ok(doc)
}

/// The feedparser version, whether the document is Atom, and the name of
/// its items; an error naming what the document is when it is not a feed.
fn detect(
    text: &str,
    name: &str,
    attrs: &str,
) -> Result<(&'static str, bool, &'static str), ParseError> {
    let local = split_name(name).1.to_ascii_lowercase();
    let declares = |uri: &str| attrs.contains(uri);
    Ok(match local.as_str() {
        "rss" => {
            let version = match attribute(attrs, "version").map(str::trim) {
                Some("0.91") => "rss091u",
                Some("0.92") => "rss092",
                Some("0.93") => "rss093",
                Some("0.94") => "rss094",
                Some(v) if v.starts_with("2.") => "rss20",
                _ => "rss",
            };
            (version, false, "item")
        }
        "rdf" => {
            let version = if declares("http://my.netscape.com/rdf/simple/0.9/") {
                "rss090"
            } else {
                "rss10"
            };
            (version, false, "item")
        }
        "channel" => ("rss", false, "item"),
        "feed" | "entry" => {
            let version = match attribute(attrs, "version").map(str::trim) {
                Some("0.3") => "atom03",
                Some("0.2") => "atom02",
                Some("0.1") => "atom01",
                _ if declares("http://www.w3.org/2005/Atom") => "atom10",
                _ => "atom",
            };
            (version, true, "entry")
        }
        "html" | "head" | "body" => {
            return Err(ParseError(
                "the document is an HTML page, not a feed".into(),
            ));
        }
        _ if text
            .get(..14)
            .is_some_and(|s| s.eq_ignore_ascii_case("<!doctype html")) =>
        {
            return Err(ParseError(
                "the document is an HTML page, not a feed".into(),
            ));
        }
        "urlset" | "sitemapindex" => {
            return Err(ParseError(format!(
                "the document is a sitemap (<{name}>), not a feed"
            )));
        }
        _ => {
            return Err(ParseError(format!(
                "the document's root element is <{name}>, not a feed (<rss>, <rdf:RDF> or <feed>)"
            )));
        }
    })
}

/// Adds the warnings of a document with `found` items, `empty` of them
/// without title and text; `none` says what an empty document lacks.
fn summarise(doc: &mut FeedDoc, found: usize, empty: usize, first_break: Option<&str>, none: &str) {
    if found == 0 {
        doc.warnings.push(none.to_string());
        return;
    }
    if doc.skipped > 0 {
        doc.warnings.push(format!(
            "{} of {found} items could not be read: {}",
            doc.skipped,
            first_break.unwrap_or("not an object")
        ));
    }
    if doc.items.is_empty() && empty > 0 {
        doc.warnings
            .push(format!("none of the {found} items has a title or text"));
    }
}

/// `href` resolved against `base`, if the result is an http(s) URL.
fn absolute_http(href: &str, base: &Url) -> Option<Url> {
    if href.is_empty() {
        return None;
    }
    http_url(base.join(href).ok()?)
}

/// `url` if it is an http(s) URL (an item's link, or an id that is one).
fn http_url(url: Url) -> Option<Url> {
    matches!(url.scheme(), "http" | "https").then_some(url)
}

/// An item's `url` and the parsed form it came from.
fn link_fields(link: Option<Url>) -> (Option<String>, super::ParsedUrl) {
    match link {
        Some(url) => (Some(url.as_str().to_owned()), super::ParsedUrl::of(url)),
        None => (None, super::ParsedUrl::default()),
    }
}

/// A person's name from an author field (plain text), read as feedparser reads
/// `email (Name)` and `Name <email>`: the e-mail address is not the name.
fn person_name(text: String) -> Option<String> {
    let name = if text.contains('@') {
        let words: Vec<&str> = text
            .split_whitespace()
            .filter(|word| !word.contains('@'))
            .collect();
        words
            .join(" ")
            .trim_matches(|c: char| {
                c.is_whitespace() || matches!(c, '(' | ')' | '<' | '>' | '[' | ']')
            })
            .to_string()
    } else {
        text
    };
    (!name.is_empty()).then_some(name)
}

/// The primary subtag of a language tag as an ISO 639-1 code: `de-DE` → `de`.
pub fn iso_639_1(tag: &str) -> Option<String> {
    let primary = tag.trim().split(['-', '_']).next()?;
    (primary.len() == 2 && primary.bytes().all(|b| b.is_ascii_alphabetic()))
        .then(|| primary.to_ascii_lowercase())
}

#[cfg(test)]
mod lenient_tests;
#[cfg(test)]
mod props;
#[cfg(test)]
mod tests;
