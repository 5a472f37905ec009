//! HTML as the crawler reads it, in time linear in the input whatever the
//! document: plain text of an HTML fragment ([`html_to_text`]), the visible
//! text below a DOM node ([`collect_text`]) and DOMs for the parsers that
//! select elements ([`parse_document`]).
//!
//! Text is read in one pass without a DOM when the markup is simple enough
//! to follow (paragraphs, inline formatting, lists, links, images, common
//! entities: `fast.rs`), and from html5ever's DOM otherwise; both give the
//! same text (property tests check it). Every DOM is built from the
//! document with its nesting capped at [`MAX_DEPTH`] (`depth.rs`), as
//! browsers cap theirs: html5ever's tree builder costs the square of the
//! depth, and 100,000 nested `<div>`s took minutes.

mod depth;
mod entities;
mod fast;

use scraper::{Html, Node};
use std::borrow::Cow;

pub(crate) use fast::{numeric, position, semicolon};

/// How deep elements nest in the DOMs built here; elements that would open
/// deeper are left out (their content stays). Chromium caps at 512.
pub const MAX_DEPTH: usize = 256;

/// Elements whose content is never text a reader sees.
const SKIPPED: &[&str] = &["script", "style", "template", "noscript", "head", "svg"];

/// Elements that separate words: their boundaries become spaces.
const BLOCKS: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "br",
    "dd",
    "div",
    "dl",
    "dt",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "li",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "table",
    "td",
    "th",
    "tr",
    "ul",
    "img",
    "title",
];

/// An HTML document's DOM, its nesting capped at [`MAX_DEPTH`].
pub fn parse_document(html: &str) -> Html {
    Html::parse_document(&depth::cap(html, MAX_DEPTH))
}

/// An HTML fragment's DOM (read as the content of a `<body>`), its nesting
/// capped at [`MAX_DEPTH`].
pub fn parse_fragment(html: &str) -> Html {
    Html::parse_fragment(&depth::cap(html, MAX_DEPTH))
}

/// Strips tags, drops scripts and styles, decodes entities and collapses
/// white space. Plain text without `<` or `&` is returned unchanged but for
/// white space.
pub fn html_to_text(html: &str) -> String {
    if !html.contains('<') && !html.contains('&') {
        return collapse_ws(html);
    }
    plain_text(html, true, true).text
}

/// Plain text read from markup, and whether it may still be markup.
pub(crate) struct Text {
    pub text: String,
    /// Whether a `<` or `&` is in the text.
    pub specials: bool,
}

/// The text of an HTML fragment ([`html_to_text`]); with `tags` false only
/// character references are markup and `<` is text; with `controls` false
/// control characters other than white space are dropped.
pub(crate) fn plain_text(html: &str, tags: bool, controls: bool) -> Text {
    if let Some(plain) = fast::fast(html, tags, controls) {
        return Text {
            text: plain.out,
            specials: plain.specials,
        };
    }
    let source: Cow<'_, str> = if tags {
        Cow::Borrowed(html)
    } else {
        Cow::Owned(html.replace('<', "&lt;"))
    };
    let text = dom_text(&source);
    let text = if !controls && text.chars().any(is_control) {
        collapse_ws(&text.replace(is_control, ""))
    } else {
        text
    };
    Text {
        text,
        specials: true,
    }
}

fn is_control(c: char) -> bool {
    c.is_control() && !c.is_whitespace()
}

/// The text of an HTML fragment read from its DOM.
pub(crate) fn dom_text(html: &str) -> String {
    let doc = parse_fragment(html);
    let mut out = String::with_capacity(html.len());
    collect_text(doc.tree.root(), &mut out);
    collapse_ws(&out)
}

fn is_skipped(node: ego_tree::NodeRef<'_, Node>) -> bool {
    node.value()
        .as_element()
        .is_some_and(|e| SKIPPED.contains(&e.name()))
}

/// Appends the visible text below `node` to `out`: one walk over the
/// subtree, counting the skipped elements (scripts, styles, …) it is in.
pub fn collect_text(node: ego_tree::NodeRef<'_, Node>, out: &mut String) {
    let mut skipped = node.ancestors().filter(|a| is_skipped(*a)).count();
    for edge in node.traverse() {
        match edge {
            ego_tree::iter::Edge::Open(n) => match n.value() {
                Node::Text(t) if skipped == 0 => out.push_str(t),
                Node::Element(e) => {
                    if SKIPPED.contains(&e.name()) {
                        skipped += 1;
                    }
                    if BLOCKS.contains(&e.name()) {
                        out.push(' ');
                    }
                }
                _ => {}
            },
            ego_tree::iter::Edge::Close(n) => {
                if let Node::Element(e) = n.value() {
                    if SKIPPED.contains(&e.name()) {
                        skipped = skipped.saturating_sub(1);
                    }
                    if BLOCKS.contains(&e.name()) {
                        out.push(' ');
                    }
                }
            }
        }
    }
}

/// Collapses runs of white space to one space and trims the ends.
pub fn collapse_ws(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Pieces of HTML: what the fast path reads and what it leaves to the
    /// DOM, control characters included.
    const PIECES: &[&str] = &[
        "<p>",
        "</p>",
        "<b>",
        "</b>",
        "<i>",
        "</i>",
        "<a href=x>",
        "</a>",
        "<span>",
        "</span>",
        "<div>",
        "</div>",
        "<ul>",
        "</ul>",
        "<li>",
        "</li>",
        "<dd>",
        "<dt>",
        "<h2>",
        "</h3>",
        "<br>",
        "</br>",
        "<hr>",
        "<wbr>",
        "<img src=x>",
        "<table><td>",
        "</table>",
        "<script>",
        "</script>",
        "<x-y>",
        "<!-- c -->",
        "&amp;",
        "&lt;",
        "&nbsp;",
        "&eacute;",
        "&#8211;",
        "&#1;",
        "&#150;",
        "&",
        "<",
        "Wort",
        "Straße",
        " ",
        "\n",
        "\u{a0}",
        "\u{0}",
        "\u{1}",
        "\u{7f}",
        "\u{85}",
        "\u{9f}",
        "\u{b}",
        "\u{feff}",
    ];

    fn html_like() -> impl Strategy<Value = String> {
        prop::collection::vec(prop::sample::select(PIECES), 0..40).prop_map(|p| p.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]

        /// Whichever way the text is read, it is the DOM's.
        #[test]
        fn text_equals_the_dom_text(html in html_like()) {
            prop_assert_eq!(plain_text(&html, true, true).text, dom_text(&html), "{:?}", html);
        }
    }

    #[test]
    fn strips_tags_and_keeps_words_apart() {
        assert_eq!(html_to_text("<p>eins</p><p>zwei</p>"), "eins zwei");
        assert_eq!(html_to_text("a<script>var x=1;</script>b"), "ab");
        assert_eq!(html_to_text("a<b>b</b>c"), "abc");
        // A stray end tag of an element that is not open is ignored, except
        // `</p>` and `</br>`, which make an element.
        assert_eq!(html_to_text("&amp;</div>&amp;"), "&&");
        assert_eq!(html_to_text("&amp;</h4>&amp;"), "&&");
        assert_eq!(html_to_text("&amp;</p>&amp;"), "& &");
        assert_eq!(html_to_text("&amp;</br>&amp;"), "& &");
        // Control characters stay, as the DOM keeps them; NUL does not.
        assert_eq!(html_to_text("<p>a\u{1}b\u{0}c</p>"), "a\u{1}bc");
        assert_eq!(dom_text("<p>a\u{1}b\u{0}c</p>"), "a\u{1}bc");
    }

    #[test]
    fn collect_text_skips_what_is_below_a_skipped_ancestor() {
        let doc = parse_document(
            "<html><body><svg><text id=n>hidden</text></svg><p id=v>seen <b>too</b></p></body></html>",
        );
        let text_of = |id: &str| {
            let sel = scraper::Selector::parse(&format!("#{id}")).unwrap();
            let el = doc.select(&sel).next().unwrap();
            let mut out = String::new();
            collect_text(*el, &mut out);
            collapse_ws(&out)
        };
        assert_eq!(text_of("v"), "seen too");
        assert_eq!(text_of("n"), "");
    }

    #[test]
    fn deep_documents_are_capped_and_keep_their_text() {
        let page = format!(
            "<html><body>{}<p class=x>Nordkorea</p>{}und Russland</body></html>",
            "<div>".repeat(10_000),
            "</div>".repeat(10_000)
        );
        let doc = parse_document(&page);
        let depth = doc
            .tree
            .nodes()
            .map(|n| n.ancestors().count())
            .max()
            .unwrap();
        assert!(depth <= MAX_DEPTH + 4, "{depth}");
        let sel = scraper::Selector::parse("p.x").unwrap();
        assert_eq!(doc.select(&sel).count(), 1);
        assert_eq!(html_to_text(&page), "Nordkorea und Russland");
    }
}
