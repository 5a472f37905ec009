//! Hostile documents: how long each parser takes on the shapes that used to
//! stall the daemon — a feed description of 100,000 nested `<div>`s, a
//! listing page of 100,000 nested `<div>`s (about 0.6 MB each) and a page
//! of 200,000 sibling paragraphs. Prints seconds per parser and shape; the
//! figures go into BENCHMARKS.md.
//!
//! `cargo bench --bench hostile -- [--only SHAPE] [--depth N] [--siblings N]`
//!
//! SHAPE is `feed`, `listing` or `siblings`; `--depth` and `--siblings`
//! scale the documents (defaults 100000 and 200000).

use mentions::sources::html::{SelectorSpec, Selectors};
use mentions::sources::{feed, fulltext, html, telegram};
use mentions::text::html_to_text;
use std::time::Instant;
use url::Url;

struct Args {
    only: Option<String>,
    depth: usize,
    siblings: usize,
}

fn args() -> Args {
    let mut a = Args {
        only: None,
        depth: 100_000,
        siblings: 200_000,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--only" => a.only = it.next(),
            "--depth" => a.depth = it.next().and_then(|v| v.parse().ok()).unwrap_or(a.depth),
            "--siblings" => {
                a.siblings = it.next().and_then(|v| v.parse().ok()).unwrap_or(a.siblings)
            }
            _ => {} // cargo passes --bench
        }
    }
    a
}

/// One listing entry, as the selectors below find it.
const ITEM: &str = r#"<article class="teaser"><h2 class="teaser__headline"><a class="teaser__link" href="/a">Nordkorea und Russland</a></h2><time datetime="2026-11-24T12:00:00Z">24.11.</time><p class="teaser__text">Text</p></article>"#;

/// The opening of a Telegram message, up to its text.
const MESSAGE: &str = r#"<div class="tgme_widget_message" data-post="chan/5"><div class="tgme_widget_message_bubble"><div class="tgme_widget_message_text">"#;

fn selectors() -> Selectors {
    Selectors::compile(&SelectorSpec {
        item: "article.teaser".into(),
        title: ".teaser__headline".into(),
        link: "a.teaser__link".into(),
        date: Some("time".into()),
        text: Some(".teaser__text".into()),
        author: None,
        next: Some("nav.pagination a[rel=next]".into()),
    })
    .expect("the bench's selectors compile")
}

/// Runs `f` once and prints how long it took.
fn time<T>(shape: &str, parser: &str, bytes: usize, f: impl FnOnce() -> T) -> T {
    let started = Instant::now();
    let out = f();
    let took = started.elapsed().as_secs_f64();
    println!(
        "{shape:<10} {parser:<14} {:>8.2} MB {took:>9.3} s",
        bytes as f64 / 1e6
    );
    out
}

fn main() {
    let a = args();
    let page_url = Url::parse("https://www.example.org/liste/").expect("URL");
    let wanted = |shape: &str| a.only.as_deref().is_none_or(|o| o == shape);
    println!(
        "{:<10} {:<14} {:>11} {:>11}",
        "shape", "parser", "size", "time"
    );

    if wanted("feed") {
        // One item whose description is 100,000 nested <div>s in CDATA.
        let description = format!(
            "<![CDATA[{}Nordkorea und Russland{}]]>",
            "<div>".repeat(a.depth),
            "</div>".repeat(a.depth / 100)
        );
        let doc = format!(
            "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>t</title><item><title>Meldung</title><link>https://www.example.org/a</link><description>{description}</description></item></channel></rss>"
        );
        let items = time("feed", "feed::parse", doc.len(), || {
            feed::parse(&doc, &page_url)
        })
        .expect("the feed reads");
        assert_eq!(items.len(), 1);
        assert!(items[0].text.contains("Nordkorea und Russland"));
        time("feed", "html_to_text", description.len(), || {
            html_to_text(&description)
        });
    }

    if wanted("listing") {
        let page = format!(
            "<html><body>{}{ITEM}{}</body></html>",
            "<div>".repeat(a.depth),
            "</div>".repeat(a.depth / 100)
        );
        let read = time("listing", "html::parse", page.len(), || {
            html::parse(&page, &page_url, &selectors())
        })
        .expect("html never fails");
        assert_eq!(read.items.len(), 1);
        time("listing", "fulltext", page.len(), || {
            fulltext::extract(&page, &page_url)
        });
        time("listing", "html_to_text", page.len(), || {
            html_to_text(&page)
        });
        let page = format!(
            "<html><body>{}{MESSAGE}Text</body></html>",
            "<div>".repeat(a.depth)
        );
        time("listing", "telegram", page.len(), || {
            telegram::parse_page(&page)
        });
    }

    if wanted("siblings") {
        let paragraphs = "<p>Ein Satz.</p>".repeat(a.siblings);
        let page = format!("<html><body>{paragraphs}</body></html>");
        time("siblings", "html::parse", page.len(), || {
            html::parse(&page, &page_url, &selectors())
        })
        .expect("html never fails");
        time("siblings", "fulltext", page.len(), || {
            fulltext::extract(&page, &page_url)
        });
        time("siblings", "html_to_text", page.len(), || {
            html_to_text(&page)
        });
        time("siblings", "telegram", page.len(), || {
            telegram::parse_page(&page)
        });
        let doc = format!(
            "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>t</title><item><title>Meldung</title><link>https://www.example.org/a</link><description><![CDATA[{paragraphs}]]></description></item></channel></rss>"
        );
        time("siblings", "feed::parse", doc.len(), || {
            feed::parse(&doc, &page_url)
        })
        .expect("the feed reads");
        // Paragraphs never closed: each one closes the one before.
        let page = format!(
            "<html><body>{}</body></html>",
            "<p>Ein Satz.".repeat(a.siblings)
        );
        time("siblings", "unclosed, html", page.len(), || {
            html::parse(&page, &page_url, &selectors())
        })
        .expect("html never fails");
        time("siblings", "unclosed, text", page.len(), || {
            html_to_text(&page)
        });
        // One listing entry whose text is every paragraph.
        let page = format!(
            "<html><body><article class=\"teaser\"><h2 class=\"teaser__headline\"><a class=\"teaser__link\" href=\"/a\">Titel</a></h2>{}</article></body></html>",
            "<p class=\"teaser__text\">Ein Satz.</p>".repeat(a.siblings)
        );
        let read = time("siblings", "entry text", page.len(), || {
            html::parse(&page, &page_url, &selectors())
        })
        .expect("html never fails");
        assert_eq!(read.items.len(), 1);
    }
}
