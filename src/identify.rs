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

/// Longest excerpt stored per mention, in characters.
pub const EXCERPT_CHARS: usize = 280;

/// The evaluation of a source without full-text fetches, as one pure step:
/// items listed twice count once, every item's key is recorded as seen, and
/// matching items become mentions in `batch`. Crawls and benchmarks share it.
pub fn queue_items(batch: &mut CrawlBatch, items: Vec<Item>, kind: Kind, topics: &[&Topic]) {
    let mut this_crawl = HashSet::new();
    for item in items {
        let key = item_key(&item);
        if !this_crawl.insert(key) {
            continue;
        }
        batch.seen.push(key);
        batch.mentions.extend(identify(&item, None, kind, topics));
    }
}

/// The "seen" key of an item as read, before any page fetch: what a crawl
/// uses to drop repeats and to ask which items a source evaluated before.
pub fn item_key(item: &Item) -> u64 {
    seen_key(&identity_before_fetch(item))
}

/// The identity an item has before its page is fetched: platform id,
/// canonical link, or a hash of its text.
pub fn identity_before_fetch(item: &Item) -> String {
    if let Some(id) = &item.platform_id {
        return id.clone();
    }
    match item
        .url
        .as_deref()
        .and_then(|u| canon::canonical_str(u, None))
    {
        Some(url) => url.to_string(),
        None => content_identity(&item.title, &item.text),
    }
}

/// The identity of an item known only by its text: a hash of its
/// normalized title and body.
pub fn content_identity(title: &str, body: &str) -> String {
    let normalized = text::normalize(&format!("{title}\n{body}"));
    format!(
        "text:{:016x}",
        xxhash_rust::xxh3::xxh3_64(normalized.as_bytes())
    )
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
    let body = match article {
        Some(a) if !a.text.is_empty() => a.text.as_str(),
        _ => item.text.as_str(),
    };
    let title = if item.title.is_empty() {
        article.and_then(|a| a.title.as_deref()).unwrap_or("")
    } else {
        item.title.as_str()
    };
    let normalized = text::normalize(&format!("{title}\n{body}"));
    let tokens: Vec<&str> = text::token_slices(&normalized).collect();
    let matching: Vec<&&Topic> = topics.iter().filter(|t| t.query.matches(&tokens)).collect();
    if matching.is_empty() {
        return Vec::new();
    }
    let link = item
        .url
        .as_deref()
        .and_then(|u| canon::canonical_str(u, None));
    let (identity, url, host) = if let Some(id) = &item.platform_id {
        (id.clone(), item.url.clone(), None)
    } else {
        let canonical = article
            .and_then(|a| a.canonical.as_ref())
            .map(canon::canonical)
            .or(link);
        match canonical {
            Some(c) => {
                let host = c.host_str().map(str::to_owned);
                (c.to_string(), None, host)
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
    let excerpt = text::excerpt(body, EXCERPT_CHARS);
    matching
        .into_iter()
        .map(|topic| NewMention {
            topic: topic.name.clone(),
            kind,
            identity: identity.clone(),
            url: url.clone(),
            host: host.clone(),
            title: title.to_owned(),
            excerpt: excerpt.clone(),
            author: item.author.clone(),
            lang: lang.clone(),
            published,
            simhash,
        })
        .collect()
}
