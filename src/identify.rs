//! Identification (SPEC §4): which stored mention an item is. This module
//! owns the identity rules — platform identity first, then the canonical
//! URL (the page's own `<link rel="canonical">` when its page was fetched),
//! then a fingerprint of the text — and the per-source "seen" keys that tell
//! a crawl which items it evaluated before. The store keeps the SQL side of
//! rule 3 (near-duplicate text by SimHash bands).

use crate::canon;
use crate::config::Topic;
use crate::sources::{fulltext, Item, Kind};
use crate::store::{CrawlBatch, NewMention};
use crate::text;
use std::collections::HashSet;
use url::Url;

/// Longest excerpt stored per mention, in characters.
pub const EXCERPT_CHARS: usize = 280;

/// The evaluation of a source without full-text fetches, as one pure step:
/// items listed twice count once, every item's key is recorded as seen, and
/// matching items become mentions in `batch`. Crawls and benchmarks share it.
pub fn queue_items(batch: &mut CrawlBatch, items: Vec<Item>, kind: Kind, topics: &[&Topic]) {
    let mut this_crawl = HashSet::new();
    for item in items {
        // The canonical link is worked out once, for the key and the identity.
        let link = match item.platform_id {
            Some(_) => None,
            None => link_of(&item),
        };
        let key = key_with_link(&item, link.as_ref());
        if !this_crawl.insert(key) {
            continue;
        }
        batch.seen.push(key);
        batch
            .mentions
            .extend(identify_with_link(&item, None, Some(link), kind, topics));
    }
}

/// The "seen" key of an item as read, before any page fetch: what a crawl
/// uses to drop repeats and to ask which items a source evaluated before.
pub fn item_key(item: &Item) -> u64 {
    key_with_link(item, link_of(item).as_ref())
}

/// `item_key` with the item's canonical link already worked out.
fn key_with_link(item: &Item, link: Option<&Url>) -> u64 {
    if item.platform_id.is_some() {
        return seen_key(&identity_before_fetch(item));
    }
    match link {
        Some(url) => seen_key(url.as_str()),
        None => seen_key(&content_identity(&item.title, &item.text)),
    }
}

/// The canonical form of an item's own link, if it has one (from the URL
/// its reader parsed, when it kept it).
fn link_of(item: &Item) -> Option<Url> {
    match item.parsed_url.get() {
        Some(url) => canon::canonical_http(url.clone()),
        None => item
            .url
            .as_deref()
            .and_then(|u| canon::canonical_str(u, None)),
    }
}

/// The identity an item has before its page is fetched: platform id,
/// canonical link, or a hash of its text.
pub fn identity_before_fetch(item: &Item) -> String {
    if let Some(id) = &item.platform_id {
        return id.clone();
    }
    match link_of(item) {
        Some(url) => url.into(),
        None => content_identity(&item.title, &item.text),
    }
}

/// How the identity of an item known only by its text begins.
pub const TEXT_IDENTITY_PREFIX: &str = "text:";

/// The identity of an item known only by its text: a hash of its
/// normalized title and body.
pub fn content_identity(title: &str, body: &str) -> String {
    let normalized = text::normalize_parts(&[title, "\n", body]);
    format!(
        "{TEXT_IDENTITY_PREFIX}{:016x}",
        xxhash_rust::xxh3::xxh3_64(normalized.as_bytes())
    )
}

/// Longest title made from an untitled item's text, in characters.
const MADE_TITLE_CHARS: usize = 80;

/// A readable title from the first words of `text`: its first sentence when
/// that is short, else the words that fit in 80 characters, with "…".
pub fn title_from_text(text: &str) -> String {
    let text = text.trim();
    let sentence_end = text
        .char_indices()
        .take_while(|(i, _)| *i <= MADE_TITLE_CHARS)
        .find(|(i, c)| {
            matches!(c, '.' | '!' | '?')
                && text[i + c.len_utf8()..].starts_with(char::is_whitespace)
        })
        .map(|(i, c)| i + c.len_utf8());
    match sentence_end {
        Some(end) if end >= 20 => text[..end].to_owned(),
        _ => text::excerpt(text, MADE_TITLE_CHARS),
    }
}

/// The key an identity is remembered by in a source's "seen" list.
pub fn seen_key(identity: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(identity.as_bytes())
}

/// Matches one item against the topics and identifies it (SPEC §4).
pub fn identify(
    item: &Item,
    article: Option<&fulltext::Article>,
    kind: Kind,
    topics: &[&Topic],
) -> Vec<NewMention> {
    identify_with_link(item, article, None, kind, topics)
}

/// `identify` with the item's canonical link (`link_of`) when the caller
/// has worked it out already (`queue_items`); None works it out when needed.
fn identify_with_link(
    item: &Item,
    article: Option<&fulltext::Article>,
    link: Option<Option<Url>>,
    kind: Kind,
    topics: &[&Topic],
) -> Vec<NewMention> {
    let body = match article {
        Some(a) if !a.text.is_empty() => a.text.as_str(),
        _ => item.text.as_str(),
    };
    let title = if item.title.is_empty() {
        article.and_then(|a| a.title.as_deref()).unwrap_or("")
    } else {
        item.title.as_str()
    };
    let normalized = text::normalize_parts(&[title, "\n", body]);
    // About one token per six bytes of normalised text: collected without
    // growing the vector again and again.
    let mut tokens: Vec<&str> = Vec::with_capacity(normalized.len() / 6 + 8);
    tokens.extend(text::token_slices(&normalized));
    let matching: Vec<&&Topic> = topics.iter().filter(|t| t.query.matches(&tokens)).collect();
    if matching.is_empty() {
        return Vec::new();
    }
    let (identity, url, host) = if let Some(id) = &item.platform_id {
        (id.clone(), item.url.clone(), None)
    } else {
        let canonical = article
            .and_then(|a| a.canonical.as_ref())
            .map(canon::canonical)
            .or_else(|| link.unwrap_or_else(|| link_of(item)));
        match canonical {
            Some(c) => {
                // A news search's link is not the publisher's: its host is
                // the publisher's own (rule 4 and the references).
                let host = match &item.publisher {
                    Some(publisher) => Some(publisher.clone()),
                    None => c.host_str().map(str::to_owned),
                };
                (String::from(c), None, host)
            }
            None => (content_identity(title, body), None, None),
        }
    };
    let published = item.published.or_else(|| article.and_then(|a| a.published));
    let lang = item
        .lang
        .clone()
        .or_else(|| article.and_then(|a| a.lang.clone()));
    let simhash = text::fingerprint(&tokens);
    // Comments and some RSS 0.92 items have no title: show their first words.
    let shown_title = if title.trim().is_empty() {
        title_from_text(body)
    } else {
        title.to_owned()
    };
    let excerpt = text::excerpt(body, EXCERPT_CHARS);
    matching
        .into_iter()
        .map(|topic| NewMention {
            topic: topic.name.clone(),
            kind,
            identity: identity.clone(),
            url: url.clone(),
            host: host.clone(),
            title: shown_title.clone(),
            excerpt: excerpt.clone(),
            author: item.author.clone(),
            lang: lang.clone(),
            published,
            simhash,
            seen: item.url.clone().filter(|u| *u != identity),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::Query;

    #[test]
    fn a_link_its_reader_parsed_identifies_as_the_same_link_parsed_again() {
        for link in [
            "https://News.Example.org:443/a/b?utm_source=x&z=1&a=2#frag",
            "http://user:pw@x.org/p;JSESSIONID=ABC?b=2&a=1",
            "https://x.org/ä ö?q=%C3%A4",
        ] {
            let parsed = Url::parse(link).unwrap();
            let read = Item {
                url: Some(parsed.as_str().to_owned()),
                parsed_url: crate::sources::ParsedUrl::of(parsed),
                ..Item::default()
            };
            let plain = Item {
                parsed_url: crate::sources::ParsedUrl::default(),
                ..read.clone()
            };
            assert!(link_of(&read).is_some(), "{link}");
            assert_eq!(link_of(&read), link_of(&plain), "{link}");
            assert_eq!(item_key(&read), item_key(&plain), "{link}");
        }
    }

    #[test]
    fn untitled_items_get_a_title_from_their_first_words() {
        assert_eq!(
            title_from_text("Russland schickt weitere Soldaten. Nordkorea bestätigt das."),
            "Russland schickt weitere Soldaten."
        );
        let long = "Nordkoreanische Truppen sollen nach Angaben aus Kiew in der Region Kursk eingesetzt worden sein und dort schwere Verluste erlitten haben";
        let made = title_from_text(long);
        assert!(made.chars().count() <= MADE_TITLE_CHARS + 1, "{made}");
        assert!(
            made.ends_with('…') && long.starts_with(made.trim_end_matches('…')),
            "{made}"
        );
        assert_eq!(title_from_text("Kurz."), "Kurz.");
        assert_eq!(title_from_text(""), "");
    }

    #[test]
    fn an_untitled_comment_is_stored_with_a_made_title_and_the_same_identity() {
        let topic = Topic {
            name: "nk".into(),
            text: "nordkorea".into(),
            query: Query::parse("nordkorea").unwrap(),
        };
        let item = Item {
            url: Some("https://forum.example.org/t/1#c7".into()),
            text: "Nordkorea schickt Truppen. Das ist neu.".into(),
            ..Item::default()
        };
        let found = identify(&item, None, Kind::Forum, &[&topic]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].title, "Nordkorea schickt Truppen.");
        assert_eq!(found[0].identity, "https://forum.example.org/t/1");
    }
}
