//! JSON Feed 1.0 and 1.1 through serde_json, item by item: an item that is
//! not an object is skipped and counted, a field of the wrong type is
//! treated as absent, so one odd item never costs the feed.

use super::markup::{html_twice, literal_plain};
use super::{
    absolute_http, http_url, iso_639_1, link_fields, person_name, FeedDoc, Item, ParseError,
};
use crate::sources::dates::parse_date;
use serde_json::{Map, Value};
use url::Url;

/// Reads a document that starts with `{` or `[`.
pub(super) fn read(body: &str, base: &Url) -> Result<FeedDoc, ParseError> {
    let value: Value = serde_json::from_str(body)
        .map_err(|e| ParseError(format!("the document is not valid JSON: {e}")))?;
    let Some(feed) = value.as_object() else {
        return Err(ParseError(
            "the document is JSON but not a JSON Feed (not an object)".into(),
        ));
    };
    let version = string(feed, "version").unwrap_or_default();
    let Some(number) = version
        .trim()
        .trim_end_matches('/')
        .strip_prefix("https://jsonfeed.org/version/")
        .or_else(|| version.strip_prefix("http://jsonfeed.org/version/"))
    else {
        return Err(ParseError(
            "the document is JSON but not a JSON Feed (no \"version\": \"https://jsonfeed.org/version/1.1\")".into(),
        ));
    };
    let mut doc = FeedDoc {
        version: if number.starts_with("1.1") {
            "json11"
        } else {
            "json1"
        },
        ..FeedDoc::default()
    };
    let feed_author = author(feed);
    let feed_lang = string(feed, "language").and_then(iso_639_1);
    let items = feed.get("items").and_then(Value::as_array);
    let Some(items) = items else {
        doc.warnings
            .push("the JSON Feed has no \"items\" list".to_string());
        return Ok(doc);
    };
    let mut empty = 0;
    for value in items {
        let Some(item) = value.as_object() else {
            doc.skipped += 1;
            continue;
        };
        match to_item(item, base) {
            Some(mut item) => {
                item.author = item.author.or_else(|| feed_author.clone());
                item.lang = item.lang.or_else(|| feed_lang.clone());
                doc.items.push(item);
            }
            None => empty += 1,
        }
    }
    if doc.items.is_empty() && doc.skipped > 0 {
        return Err(ParseError(format!(
            "none of the {} items of the JSON Feed is an object",
            doc.skipped
        )));
    }
    super::summarise(
        &mut doc,
        items.len(),
        empty,
        None,
        "the JSON Feed has no items",
    );
    Ok(doc)
}

fn string<'a>(object: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    object.get(key).and_then(Value::as_str)
}

/// The first named author of `author` (1.0) and `authors` (1.1).
fn author(object: &Map<String, Value>) -> Option<String> {
    let one = object.get("author").into_iter();
    let many = object
        .get("authors")
        .and_then(Value::as_array)
        .into_iter()
        .flatten();
    one.chain(many)
        .filter_map(|a| a.get("name").and_then(Value::as_str))
        .find_map(|name| person_name(literal_plain(name)))
}

/// One item; None when it has neither title nor text.
fn to_item(item: &Map<String, Value>, base: &Url) -> Option<Item> {
    let non_empty = |s: String| (!s.is_empty()).then_some(s);
    let title = string(item, "title").map(literal_plain).unwrap_or_default();
    let text = string(item, "content_html")
        .and_then(|h| non_empty(html_twice(h)))
        .or_else(|| string(item, "content_text").and_then(|t| non_empty(literal_plain(t))))
        .or_else(|| string(item, "summary").and_then(|t| non_empty(literal_plain(t))))
        .unwrap_or_default();
    if title.is_empty() && text.is_empty() {
        return None;
    }
    let (url, parsed_url) = link_fields(
        ["url", "external_url"]
            .iter()
            .filter_map(|key| string(item, key))
            .find_map(|href| absolute_http(href.trim(), base))
            .or_else(|| {
                // An id that is a URL (numbers are ids too, but never URLs).
                http_url(Url::parse(string(item, "id")?.trim()).ok()?)
            }),
    );
    let written = |key| string(item, key).map(str::trim).filter(|s| !s.is_empty());
    let published = written("date_published")
        .and_then(parse_date)
        .or_else(|| written("date_modified").and_then(parse_date));
    let unread_date = written("date_published")
        .or_else(|| written("date_modified"))
        .filter(|_| published.is_none())
        .map(str::to_owned);
    Some(Item {
        url,
        platform_id: None,
        title,
        text,
        author: author(item),
        published,
        lang: string(item, "language").and_then(iso_639_1),
        unread_date,
        publisher: None,
        parsed_url,
    })
}
