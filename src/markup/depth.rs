//! Nesting capped before the HTML tree builder sees it. html5ever's tree
//! builder looks down its stack of open elements for most tags (is a `<p>`
//! open in scope, where does this end tag close), so a document nested n
//! deep costs n² — 100,000 nested `<div>`s took minutes. Browsers cap the
//! depth of the DOM (Chromium at 512); here one linear pass over the tags
//! follows the tree builder's stack closely enough to know the depth. An
//! element that would open deeper than the cap first closes the deepest
//! half of the open elements: the pass writes their end tags before its
//! start tag (and leaves out their own end tags later), so nesting goes on
//! from half the cap and what nests closely below, such as a listing entry
//! at the bottom of a hostile page, keeps its shape. (Chromium, which caps
//! at 512, opens each deeper element beside the deepest one.) Where an end
//! tag might not close the deepest element (tables, selects, forms,
//! templates), the start tag and its end tag are left out instead, a block
//! element becoming a space so that words on either side stay apart.
//! Documents within the cap pass through unchanged, without a copy.
//!
//! The model errs on the side of counting too deep: where it cannot tell
//! whether the tree builder closes an element (misnested formatting,
//! formatting elements the tree builder re-opens), it keeps the element
//! open, so a document cannot hide its depth from it.

use std::borrow::Cow;
use std::collections::HashMap;

/// What the pass needs to know of an element, by lower-case name.
type Class = u16;
const VOID: Class = 1;
/// Text up to the matching end tag (script, style, title, …).
const RAW: Class = 1 << 1;
/// Start tags that close an open `<p>`.
const CLOSES_P: Class = 1 << 2;
/// The HTML parser's "special" category.
const SPECIAL: Class = 1 << 3;
/// Boundaries of "has an element in scope".
const SCOPE: Class = 1 << 4;
const FORMATTING: Class = 1 << 5;
/// Separates words in text (`BLOCKS` of the text reader).
const BLOCK: Class = 1 << 6;
const HEADING: Class = 1 << 7;
/// Start tags that leave SVG or MathML content.
const BREAKOUT: Class = 1 << 8;
/// Foreign elements whose content is HTML again (`foreignObject`, `mi`, …).
const INTEGRATION: Class = 1 << 9;
/// Elements whose start tag the tree builder never pushes (`html`, `body`).
const MERGED: Class = 1 << 10;
/// `<p>`, the element most start tags look for.
const P: Class = 1 << 11;
/// Boundaries of button scope besides [`SCOPE`].
const BUTTON: Class = 1 << 12;
/// Boundaries of list item scope besides [`SCOPE`] (`ol`, `ul`).
const LIST: Class = 1 << 13;
/// Boundaries of table scope (`html`, `table`, `template`).
const TABLE_SCOPE: Class = 1 << 14;

/// The elements the pass treats specially, sorted by name.
const CLASSES: &[(&str, Class)] = &[
    ("a", FORMATTING),
    ("address", CLOSES_P | SPECIAL | BLOCK),
    ("annotation-xml", INTEGRATION),
    ("applet", SPECIAL | SCOPE),
    ("area", VOID | SPECIAL),
    ("article", CLOSES_P | SPECIAL | BLOCK),
    ("aside", CLOSES_P | SPECIAL | BLOCK),
    ("b", FORMATTING | BREAKOUT),
    ("base", VOID | SPECIAL),
    ("basefont", VOID | SPECIAL),
    ("bgsound", VOID | SPECIAL),
    ("big", FORMATTING | BREAKOUT),
    ("blockquote", CLOSES_P | SPECIAL | BLOCK | BREAKOUT),
    ("body", SPECIAL | MERGED | BREAKOUT),
    ("br", VOID | SPECIAL | BLOCK | BREAKOUT),
    ("button", SPECIAL | BUTTON),
    ("caption", SPECIAL | SCOPE),
    ("center", CLOSES_P | SPECIAL | BREAKOUT),
    ("code", FORMATTING | BREAKOUT),
    ("col", VOID | SPECIAL),
    ("colgroup", SPECIAL),
    ("dd", CLOSES_P | SPECIAL | BLOCK | BREAKOUT),
    ("desc", INTEGRATION),
    ("details", CLOSES_P | SPECIAL),
    ("dialog", CLOSES_P),
    ("dir", CLOSES_P | SPECIAL),
    ("div", CLOSES_P | SPECIAL | BLOCK | BREAKOUT),
    ("dl", CLOSES_P | SPECIAL | BLOCK | BREAKOUT),
    ("dt", CLOSES_P | SPECIAL | BLOCK | BREAKOUT),
    ("em", FORMATTING | BREAKOUT),
    ("embed", VOID | SPECIAL | BREAKOUT),
    ("fieldset", CLOSES_P | SPECIAL),
    ("figcaption", CLOSES_P | SPECIAL | BLOCK),
    ("figure", CLOSES_P | SPECIAL | BLOCK),
    // Leaves SVG only with a color, face or size attribute; counted as
    // leaving always, so that the model never thinks it is in SVG when the
    // tree builder is not.
    ("font", FORMATTING | BREAKOUT),
    ("footer", CLOSES_P | SPECIAL | BLOCK),
    ("foreignobject", INTEGRATION),
    ("form", CLOSES_P | SPECIAL | BLOCK),
    ("frame", VOID | SPECIAL),
    ("frameset", SPECIAL),
    ("h1", CLOSES_P | SPECIAL | BLOCK | HEADING | BREAKOUT),
    ("h2", CLOSES_P | SPECIAL | BLOCK | HEADING | BREAKOUT),
    ("h3", CLOSES_P | SPECIAL | BLOCK | HEADING | BREAKOUT),
    ("h4", CLOSES_P | SPECIAL | BLOCK | HEADING | BREAKOUT),
    ("h5", CLOSES_P | SPECIAL | BLOCK | HEADING | BREAKOUT),
    ("h6", CLOSES_P | SPECIAL | BLOCK | HEADING | BREAKOUT),
    ("head", SPECIAL | MERGED | BREAKOUT),
    ("header", CLOSES_P | SPECIAL | BLOCK),
    ("hgroup", CLOSES_P | SPECIAL),
    ("hr", VOID | CLOSES_P | SPECIAL | BLOCK | BREAKOUT),
    ("html", SPECIAL | SCOPE | MERGED | TABLE_SCOPE),
    ("i", FORMATTING | BREAKOUT),
    ("iframe", RAW | SPECIAL),
    ("image", VOID | BLOCK),
    ("img", VOID | SPECIAL | BLOCK | BREAKOUT),
    ("input", VOID | SPECIAL),
    ("keygen", VOID | SPECIAL),
    ("li", CLOSES_P | SPECIAL | BLOCK | BREAKOUT),
    ("link", VOID | SPECIAL),
    ("listing", CLOSES_P | SPECIAL | BREAKOUT),
    ("main", CLOSES_P | SPECIAL | BLOCK),
    ("marquee", SPECIAL | SCOPE),
    ("menu", CLOSES_P | SPECIAL | BREAKOUT),
    ("meta", VOID | SPECIAL | BREAKOUT),
    ("mi", INTEGRATION),
    ("mn", INTEGRATION),
    ("mo", INTEGRATION),
    ("ms", INTEGRATION),
    ("mtext", INTEGRATION),
    ("nav", CLOSES_P | SPECIAL | BLOCK),
    ("nobr", FORMATTING | BREAKOUT),
    ("noembed", RAW | SPECIAL),
    ("noframes", RAW | SPECIAL),
    ("noscript", RAW | SPECIAL),
    ("object", SPECIAL | SCOPE),
    ("ol", CLOSES_P | SPECIAL | BLOCK | BREAKOUT | LIST),
    ("p", CLOSES_P | SPECIAL | BLOCK | BREAKOUT | P),
    ("param", VOID | SPECIAL),
    ("plaintext", RAW | CLOSES_P | SPECIAL),
    ("pre", CLOSES_P | SPECIAL | BLOCK | BREAKOUT),
    ("ruby", BREAKOUT),
    ("s", FORMATTING | BREAKOUT),
    ("script", RAW | SPECIAL),
    ("search", CLOSES_P | SPECIAL),
    ("section", CLOSES_P | SPECIAL | BLOCK),
    ("select", SPECIAL),
    ("small", FORMATTING | BREAKOUT),
    ("source", VOID | SPECIAL),
    ("span", BREAKOUT),
    ("strike", FORMATTING | BREAKOUT),
    ("strong", FORMATTING | BREAKOUT),
    ("style", RAW | SPECIAL),
    ("sub", BREAKOUT),
    ("summary", CLOSES_P | SPECIAL),
    ("sup", BREAKOUT),
    (
        "table",
        CLOSES_P | SPECIAL | SCOPE | BLOCK | BREAKOUT | TABLE_SCOPE,
    ),
    ("tbody", SPECIAL),
    ("td", SPECIAL | SCOPE | BLOCK),
    ("template", SPECIAL | SCOPE | TABLE_SCOPE),
    ("textarea", RAW | SPECIAL),
    ("tfoot", SPECIAL),
    ("th", SPECIAL | SCOPE | BLOCK),
    ("thead", SPECIAL),
    ("title", RAW | SPECIAL | BLOCK | INTEGRATION),
    ("tr", SPECIAL | BLOCK),
    ("track", VOID | SPECIAL),
    ("tt", FORMATTING | BREAKOUT),
    ("u", FORMATTING | BREAKOUT),
    ("ul", CLOSES_P | SPECIAL | BLOCK | BREAKOUT | LIST),
    ("var", BREAKOUT),
    ("wbr", VOID | SPECIAL),
    ("xmp", RAW | CLOSES_P | SPECIAL),
];

/// A tag name in lower case, borrowed when it already is.
fn lower(name: &str) -> Cow<'_, str> {
    if name.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(name.to_ascii_lowercase())
    } else {
        Cow::Borrowed(name)
    }
}

fn class_of(lower: &str) -> Class {
    CLASSES
        .binary_search_by(|(n, _)| (*n).cmp(lower))
        .ok()
        .and_then(|i| CLASSES.get(i))
        .map_or(0, |(_, c)| *c)
}

/// An element on the modelled stack.
struct Open<'a> {
    /// The name as written (compared without regard to case).
    name: &'a str,
    class: Class,
    /// An SVG or MathML element.
    foreign: bool,
}

impl Open<'_> {
    fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }

    /// Whether its content is HTML (an HTML element or an integration point).
    fn holds_html(&self) -> bool {
        !self.foreign || self.class & INTEGRATION != 0
    }
}

/// Which elements end a look down the stack for an element "in scope".
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scope {
    Default,
    Button,
    ListItem,
    Table,
}

/// What becomes of one tag.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Verdict<'a> {
    Keep,
    /// Left out; a space takes its place when it separates words.
    Drop {
        block: bool,
    },
    /// Kept after end tags for the deepest open elements, named so.
    Close {
        closed: Vec<&'a str>,
    },
}

/// The tree builder's stack of open elements as far as the cap needs it.
struct Model<'a> {
    stack: Vec<Open<'a>>,
    /// Formatting elements the tree builder may still re-open (its list of
    /// active formatting elements, counted from above).
    formatting: usize,
    /// Start tags left out and not yet ended, by lower-case name.
    dropped: HashMap<String, usize>,
    /// Elements ended early to make room, whose own end tag is still to
    /// come, by lower-case name.
    ended: HashMap<String, usize>,
    /// Open `p`, `table` and `form` elements on the stack, so that looking
    /// for one costs nothing when there is none.
    paragraphs: usize,
    tables: usize,
    forms: usize,
    max: usize,
}

impl<'a> Model<'a> {
    fn counter(&mut self, open: &Open<'_>) -> Option<&mut usize> {
        if open.foreign {
            None
        } else if open.class & P != 0 {
            Some(&mut self.paragraphs)
        } else if open.is("table") {
            Some(&mut self.tables)
        } else if open.is("form") {
            Some(&mut self.forms)
        } else {
            None
        }
    }

    fn push_open(&mut self, open: Open<'a>) {
        if let Some(n) = self.counter(&open) {
            *n += 1;
        }
        self.stack.push(open);
    }

    fn pop(&mut self) {
        if let Some(open) = self.stack.pop() {
            if let Some(n) = self.counter(&open) {
                *n = n.saturating_sub(1);
            }
        }
    }

    /// Pops the element at `at` and all above it.
    fn truncate(&mut self, at: usize) {
        while self.stack.len() > at {
            self.pop();
        }
    }

    /// Takes the element at `at` out of the stack, leaving those above it.
    fn remove(&mut self, at: usize) {
        if at < self.stack.len() {
            let open = self.stack.remove(at);
            if let Some(n) = self.counter(&open) {
                *n = n.saturating_sub(1);
            }
        }
    }

    /// The position of the nearest open element named `name` in `scope`.
    fn in_scope(&self, scope: Scope, name: impl Fn(&Open<'a>) -> bool) -> Option<usize> {
        for (at, open) in self.stack.iter().enumerate().rev() {
            if name(open) {
                return Some(at);
            }
            let boundary = if open.foreign {
                open.class & INTEGRATION != 0
            } else {
                let bits = match scope {
                    Scope::Default => SCOPE,
                    Scope::Button => SCOPE | BUTTON,
                    Scope::ListItem => SCOPE | LIST,
                    Scope::Table => TABLE_SCOPE,
                };
                open.class & bits != 0
            };
            if boundary {
                return None;
            }
        }
        None
    }

    /// Pops the nearest element that `name` picks, unless an element that
    /// `stop` picks comes first.
    fn pop_nearest(&mut self, name: impl Fn(&Open<'a>) -> bool, stop: impl Fn(&Open<'a>) -> bool) {
        for at in (0..self.stack.len()).rev() {
            let Some(open) = self.stack.get(at) else {
                return;
            };
            if name(open) {
                self.truncate(at);
                return;
            }
            if stop(open) {
                return;
            }
        }
    }

    /// The tree builder's "close a p element", when one is in button scope.
    fn close_p(&mut self) {
        if self.paragraphs == 0 {
            return;
        }
        if let Some(at) = self.in_scope(Scope::Button, |o| o.class & P != 0 && !o.foreign) {
            self.truncate(at);
        }
    }

    /// Pushes an element; at the cap, in place of the deepest one, or not
    /// at all.
    fn push(&mut self, name: &'a str, lower: &str, class: Class, foreign: bool) -> Verdict<'a> {
        let open = Open {
            name,
            class,
            foreign,
        };
        if self.stack.len() < self.max {
            self.push_open(open);
            return Verdict::Keep;
        }
        // Half the open elements are closed, deepest first, so that what
        // opens next nests as written again. An end tag surely closes the
        // deepest element unless that is part of a table, a select, a form
        // or a template: closing stops there.
        const FRAGILE: &[&str] = &[
            "table", "tbody", "thead", "tfoot", "tr", "td", "th", "caption", "colgroup", "select",
            "option", "optgroup", "form", "template",
        ];
        let mut closed = Vec::new();
        while closed.len() < (self.max / 2).max(1) {
            let Some(top) = self
                .stack
                .last()
                .filter(|top| top.foreign || !FRAGILE.iter().any(|n| top.is(n)))
            else {
                break;
            };
            let (name, formatting) = (top.name, top.class & FORMATTING != 0);
            *self.ended.entry(name.to_ascii_lowercase()).or_default() += 1;
            if formatting {
                self.formatting = self.formatting.saturating_sub(1);
            }
            self.pop();
            closed.push(name);
        }
        if closed.is_empty() {
            *self.dropped.entry(lower.to_owned()).or_default() += 1;
            return Verdict::Drop {
                block: class & BLOCK != 0,
            };
        }
        self.push_open(open);
        Verdict::Close { closed }
    }

    /// A start tag; `raw` is set when its content is text up to its end tag.
    fn start(&mut self, name: &'a str, self_closing: bool) -> (Verdict<'a>, bool) {
        let lower = lower(name);
        let lower = lower.as_ref();
        let class = class_of(lower);
        let in_foreign = self.stack.last().is_some_and(|o| !o.holds_html());
        if in_foreign && class & BREAKOUT != 0 {
            while self.stack.last().is_some_and(|o| o.foreign) {
                self.pop();
            }
        }
        let in_foreign = self.stack.last().is_some_and(|o| !o.holds_html());
        if in_foreign || lower == "svg" || lower == "math" {
            if self_closing {
                return (Verdict::Keep, false);
            }
            return (self.push(name, lower, class, true), false);
        }
        if class & (MERGED | RAW) != 0 {
            if class & CLOSES_P != 0 {
                self.close_p();
            }
            return (Verdict::Keep, class & RAW != 0);
        }
        if class & VOID != 0 {
            if class & CLOSES_P != 0 {
                self.close_p();
            }
            return (Verdict::Keep, false);
        }
        if class & FORMATTING != 0 {
            if lower == "a" {
                let markers = [
                    "td", "th", "caption", "applet", "marquee", "object", "template",
                ];
                if let Some(at) = self
                    .stack
                    .iter()
                    .rposition(|o| o.is("a") || markers.iter().any(|m| o.is(m)))
                    .filter(|at| self.stack.get(*at).is_some_and(|o| o.is("a")))
                {
                    self.end_formatting(at);
                }
            } else if lower == "nobr" {
                if let Some(at) = self.in_scope(Scope::Default, |o| o.is("nobr")) {
                    self.end_formatting(at);
                }
            }
            if self.formatting >= self.max {
                *self.dropped.entry(lower.to_owned()).or_default() += 1;
                return (Verdict::Drop { block: false }, false);
            }
            self.formatting += 1;
            return (self.push(name, lower, class, false), false);
        }
        const TABLE_PARTS: &[&str] = &[
            "caption", "colgroup", "tbody", "thead", "tfoot", "tr", "td", "th",
        ];
        if TABLE_PARTS.contains(&lower) && self.tables == 0 {
            // Outside a table the tree builder ignores table parts.
            return (Verdict::Keep, false);
        }
        match lower {
            "li" => self.pop_nearest(
                |o| o.is("li"),
                |o| o.class & SPECIAL != 0 && !(o.is("address") || o.is("div") || o.is("p")),
            ),
            "dd" | "dt" => self.pop_nearest(
                |o| o.is("dd") || o.is("dt"),
                |o| o.class & SPECIAL != 0 && !(o.is("address") || o.is("div") || o.is("p")),
            ),
            "form" if self.forms > 0 => {
                // A form inside a form is ignored.
                return (Verdict::Keep, false);
            }
            "button" => {
                if let Some(at) = self.in_scope(Scope::Default, |o| o.is("button")) {
                    self.truncate(at);
                }
            }
            "option" | "optgroup" => {
                if self.stack.last().is_some_and(|o| o.is("option")) {
                    self.pop();
                }
                if lower == "optgroup" && self.stack.last().is_some_and(|o| o.is("optgroup")) {
                    self.pop();
                }
            }
            "select" => {
                if let Some(at) = self.stack.iter().rposition(|o| o.is("select")) {
                    // A select inside a select closes it.
                    self.truncate(at);
                    return (Verdict::Keep, false);
                }
            }
            "table" => {
                self.close_p();
                self.pop_nearest(
                    |o| o.is("table"),
                    |o| o.is("td") || o.is("th") || o.is("caption") || o.is("template"),
                );
            }
            "caption" | "colgroup" | "tbody" | "thead" | "tfoot" => self.pop_nearest(
                |o| {
                    ["caption", "colgroup", "tbody", "thead", "tfoot"]
                        .iter()
                        .any(|n| o.is(n))
                },
                |o| o.is("table") || o.is("template") || o.is("html"),
            ),
            "tr" => self.pop_nearest(
                |o| o.is("tr"),
                |o| {
                    ["table", "tbody", "thead", "tfoot", "template", "html"]
                        .iter()
                        .any(|n| o.is(n))
                },
            ),
            "td" | "th" => self.pop_nearest(
                |o| o.is("td") || o.is("th"),
                |o| {
                    ["tr", "table", "tbody", "thead", "tfoot", "template", "html"]
                        .iter()
                        .any(|n| o.is(n))
                },
            ),
            "rb" | "rtc" | "rp" | "rt" => self.pop_nearest(
                |o| ["rb", "rtc", "rp", "rt"].iter().any(|n| o.is(n)),
                |o| o.is("ruby") || o.class & SPECIAL != 0,
            ),
            _ => {}
        }
        if class & CLOSES_P != 0 {
            self.close_p();
        }
        if class & HEADING != 0 && self.stack.last().is_some_and(|o| o.class & HEADING != 0) {
            self.pop();
        }
        (self.push(name, lower, class, false), false)
    }

    /// The end of the formatting element at `at`: the tree builder's
    /// adoption agency pops it only when no special element is open above
    /// it, else it rebuilds the elements in between at the same depth.
    fn end_formatting(&mut self, at: usize) {
        let furthest_block = self
            .stack
            .get(at + 1..)
            .is_some_and(|above| above.iter().any(|o| o.class & SPECIAL != 0));
        if !furthest_block {
            self.truncate(at);
            self.formatting = self.formatting.saturating_sub(1);
        }
    }

    fn end(&mut self, name: &'a str) -> Verdict<'a> {
        let lower = lower(name);
        let lower = lower.as_ref();
        let class = class_of(lower);
        for left in [&mut self.dropped, &mut self.ended] {
            if let Some(n) = left.get_mut(lower).filter(|n| **n > 0) {
                *n -= 1;
                return Verdict::Drop {
                    block: class & BLOCK != 0,
                };
            }
        }
        // In SVG and MathML an end tag closes the nearest foreign element
        // of its name.
        for at in (0..self.stack.len()).rev() {
            match self.stack.get(at) {
                Some(o) if o.foreign && o.is(lower) => {
                    self.truncate(at);
                    return Verdict::Keep;
                }
                Some(o) if o.foreign => {}
                _ => break,
            }
        }
        let html = |n: &'static str| move |o: &Open<'_>| !o.foreign && o.is(n);
        if class & FORMATTING != 0 {
            if let Some(at) = self.in_scope(Scope::Default, |o| !o.foreign && o.is(lower)) {
                self.end_formatting(at);
            }
            return Verdict::Keep;
        }
        let found = match lower {
            "p" => self.in_scope(Scope::Button, |o| o.class & P != 0 && !o.foreign),
            "li" => self.in_scope(Scope::ListItem, html("li")),
            "body" | "html" | "br" => None,
            "form" => {
                // Only the form itself leaves the stack.
                if let Some(at) = self.in_scope(Scope::Default, html("form")) {
                    self.remove(at);
                }
                None
            }
            _ if class & HEADING != 0 => {
                self.in_scope(Scope::Default, |o| !o.foreign && o.class & HEADING != 0)
            }
            "table" | "tbody" | "thead" | "tfoot" | "tr" | "td" | "th" | "caption" | "colgroup" => {
                self.in_scope(Scope::Table, |o| !o.foreign && o.is(lower))
            }
            _ if class & SPECIAL != 0 || class & CLOSES_P != 0 => {
                self.in_scope(Scope::Default, |o| !o.foreign && o.is(lower))
            }
            _ => {
                // Any other end tag: the nearest element of its name, unless
                // a special element comes first.
                let mut found = None;
                for (at, o) in self.stack.iter().enumerate().rev() {
                    if !o.foreign && o.is(lower) {
                        found = Some(at);
                        break;
                    }
                    if o.class & SPECIAL != 0 {
                        break;
                    }
                }
                found
            }
        };
        if let Some(at) = found {
            self.truncate(at);
        }
        Verdict::Keep
    }
}

/// One markup construct at a `<`.
enum Token<'a> {
    /// Not markup: the `<` is text.
    Text,
    /// A comment, doctype or processing instruction, up to `end`.
    Skip {
        end: usize,
    },
    Start {
        name: &'a str,
        end: usize,
        self_closing: bool,
    },
    End {
        name: &'a str,
        end: usize,
    },
}

fn is_space(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | 0x0c | b'\r' | b' ')
}

fn find_byte(bytes: &[u8], from: usize, b: u8) -> Option<usize> {
    Some(from + bytes.get(from..)?.iter().position(|x| *x == b)?)
}

fn find_str(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    let first = *needle.first()?;
    let mut at = from;
    loop {
        let hit = find_byte(bytes, at, first)?;
        if bytes.get(hit..hit + needle.len())? == needle {
            return Some(hit);
        }
        at = hit + 1;
    }
}

/// The end (after `>`) of a tag whose attributes start at `at`, read as
/// the HTML tokenizer reads them, and whether it closes itself (`/>`);
/// None when the input ends inside the tag.
fn tag_end(bytes: &[u8], mut at: usize) -> Option<(usize, bool)> {
    loop {
        while is_space(*bytes.get(at)?) {
            at += 1;
        }
        match *bytes.get(at)? {
            b'>' => return Some((at + 1, false)),
            b'/' => {
                if *bytes.get(at + 1)? == b'>' {
                    return Some((at + 2, true));
                }
                at += 1;
                continue;
            }
            _ => {}
        }
        // An attribute name; its first character may be `=`.
        at += 1;
        while !matches!(*bytes.get(at)?, b'/' | b'>' | b'=') && !is_space(*bytes.get(at)?) {
            at += 1;
        }
        while is_space(*bytes.get(at)?) {
            at += 1;
        }
        if *bytes.get(at)? != b'=' {
            continue;
        }
        at += 1;
        while is_space(*bytes.get(at)?) {
            at += 1;
        }
        match *bytes.get(at)? {
            q @ (b'"' | b'\'') => at = find_byte(bytes, at + 1, q)? + 1,
            b'>' => return Some((at + 1, false)),
            _ => {
                while *bytes.get(at)? != b'>' && !is_space(*bytes.get(at)?) {
                    at += 1;
                }
            }
        }
    }
}

/// The tag name starting at `at` and where it ends.
fn tag_name(html: &str, at: usize) -> Option<(&str, usize)> {
    let bytes = html.as_bytes();
    let mut end = at;
    while !matches!(*bytes.get(end)?, b'/' | b'>') && !is_space(*bytes.get(end)?) {
        end += 1;
    }
    Some((html.get(at..end)?, end))
}

/// The construct at the `<` at `lt`; None when the input ends inside it.
fn token(html: &str, lt: usize, foreign: bool) -> Option<Token<'_>> {
    let bytes = html.as_bytes();
    let next = *bytes.get(lt + 1)?;
    if next == b'!' {
        if bytes.get(lt + 2..lt + 4) == Some(&b"--"[..]) {
            let body = lt + 4;
            if bytes.get(body) == Some(&b'>') {
                return Some(Token::Skip { end: body + 1 });
            }
            if bytes.get(body..body + 2) == Some(&b"->"[..]) {
                return Some(Token::Skip { end: body + 2 });
            }
            let mut at = body;
            loop {
                let dashes = find_str(bytes, at, b"--")?;
                match bytes.get(dashes + 2..)? {
                    [b'>', ..] => return Some(Token::Skip { end: dashes + 3 }),
                    [b'!', b'>', ..] => return Some(Token::Skip { end: dashes + 4 }),
                    _ => at = dashes + 1,
                }
            }
        }
        if foreign && bytes.get(lt + 2..lt + 9) == Some(&b"[CDATA["[..]) {
            let end = find_str(bytes, lt + 9, b"]]>")?;
            return Some(Token::Skip { end: end + 3 });
        }
        return Some(Token::Skip {
            end: find_byte(bytes, lt + 2, b'>')? + 1,
        });
    }
    if next == b'?' {
        return Some(Token::Skip {
            end: find_byte(bytes, lt + 2, b'>')? + 1,
        });
    }
    if next == b'/' {
        let first = *bytes.get(lt + 2)?;
        if first == b'>' {
            return Some(Token::Skip { end: lt + 3 });
        }
        if !first.is_ascii_alphabetic() {
            return Some(Token::Skip {
                end: find_byte(bytes, lt + 2, b'>')? + 1,
            });
        }
        let (name, after) = tag_name(html, lt + 2)?;
        let (end, _) = tag_end(bytes, after)?;
        return Some(Token::End { name, end });
    }
    if next.is_ascii_alphabetic() {
        let (name, after) = tag_name(html, lt + 1)?;
        let (end, self_closing) = tag_end(bytes, after)?;
        return Some(Token::Start {
            name,
            end,
            self_closing,
        });
    }
    Some(Token::Text)
}

/// Where the text of a raw text element (`<script>`, `<title>`, …) that
/// starts at `from` ends: at its own end tag.
fn raw_end(bytes: &[u8], from: usize, name: &str) -> Option<usize> {
    let mut at = from;
    loop {
        let lt = find_str(bytes, at, b"</")?;
        let after = lt + 2 + name.len();
        let named = bytes
            .get(lt + 2..after)
            .is_some_and(|n| n.eq_ignore_ascii_case(name.as_bytes()));
        if named
            && bytes
                .get(after)
                .is_some_and(|b| is_space(*b) || matches!(b, b'/' | b'>'))
        {
            return Some(lt);
        }
        at = lt + 2;
    }
}

/// `html` with every element that would open deeper than `max` left out;
/// borrowed when nothing is.
pub(super) fn cap(html: &str, max: usize) -> Cow<'_, str> {
    let bytes = html.as_bytes();
    let mut model = Model {
        stack: Vec::new(),
        formatting: 0,
        dropped: HashMap::new(),
        ended: HashMap::new(),
        paragraphs: 0,
        tables: 0,
        forms: 0,
        max,
    };
    let mut out: Option<String> = None;
    // Bytes of `html` before this are in `out`.
    let mut copied = 0;
    let mut at = 0;
    while let Some(lt) = find_byte(bytes, at, b'<') {
        let foreign = model.stack.last().is_some_and(|o| !o.holds_html());
        let Some(token) = token(html, lt, foreign) else {
            // The input ends inside this construct: the rest is left as is.
            break;
        };
        let (verdict, end, raw) = match token {
            Token::Text => (Verdict::Keep, lt + 1, None),
            Token::Skip { end } => (Verdict::Keep, end, None),
            Token::Start {
                name,
                end,
                self_closing,
            } => {
                let (verdict, raw) = model.start(name, self_closing);
                (verdict, end, raw.then_some(name))
            }
            Token::End { name, end } => (model.end(name), end, None),
        };
        match verdict {
            Verdict::Keep => {}
            Verdict::Drop { block } => {
                let out = out.get_or_insert_with(|| String::with_capacity(html.len()));
                out.push_str(html.get(copied..lt).unwrap_or_default());
                if block {
                    out.push(' ');
                }
                copied = end;
            }
            Verdict::Close { closed } => {
                let out = out.get_or_insert_with(|| String::with_capacity(html.len() + 64));
                out.push_str(html.get(copied..lt).unwrap_or_default());
                for name in closed {
                    out.push_str("</");
                    out.push_str(name);
                    out.push('>');
                }
                copied = lt;
            }
        }
        at = end;
        if let Some(name) = raw {
            if name.eq_ignore_ascii_case("plaintext") {
                break;
            }
            match raw_end(bytes, end, name) {
                Some(close) => at = close,
                None => break,
            }
        }
    }
    match out {
        None => Cow::Borrowed(html),
        Some(mut out) => {
            out.push_str(html.get(copied..).unwrap_or_default());
            Cow::Owned(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn capped(html: &str, max: usize) -> String {
        cap(html, max).into_owned()
    }

    #[test]
    fn classes_are_sorted() {
        assert!(CLASSES.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn documents_within_the_cap_are_borrowed() {
        let page = "<html><body><div><p>a<p>b<ul><li>c<li>d</ul></div></body></html>";
        assert!(matches!(cap(page, 4), Cow::Borrowed(_)));
    }

    #[test]
    fn deeper_elements_close_the_deepest_half_first() {
        assert_eq!(
            capped("<div><div><div><div><div><div><div>x", 4),
            "<div><div><div><div></div></div><div><div></div></div><div>x"
        );
        // What nests below the cap keeps its shape.
        let page = format!("{}<a><b><i>x</i></b></a>", "<div>".repeat(1000));
        let capped = capped(&page, 8);
        assert!(capped.ends_with("<a><b><i>x</i></b></a>"), "{capped}");
    }

    #[test]
    fn deeper_elements_open_beside_the_deepest() {
        assert_eq!(
            capped("<div><div><div><div>x</div></div></div></div>", 2),
            "<div><div></div><div></div><div>x  </div></div>"
        );
        assert_eq!(
            capped("<span><span><span>x</span></span></span>y", 2),
            "<span><span></span><span>x</span></span>y"
        );
        assert_eq!(
            capped(&"<div>".repeat(5), 3),
            "<div><div><div></div><div></div><div>"
        );
    }

    #[test]
    fn inside_tables_deeper_elements_are_left_out() {
        // An end tag may not close a table part: the tag goes, and a block
        // leaves a space.
        assert_eq!(
            capped("<div><table><tr><td><div>x</div>", 3),
            "<div><table><tr>  x "
        );
    }

    #[test]
    fn self_closing_syntax_counts_only_in_svg_and_mathml() {
        assert_eq!(
            capped("<div/><div/><div/>x", 2),
            "<div/><div/></div><div/>x"
        );
        assert_eq!(capped("<svg><g/><g/><g/>", 2), "<svg><g/><g/><g/>");
        // An HTML element leaves SVG, and `/>` means nothing there again.
        assert_eq!(
            capped("<svg><div/><div/><div/>x", 2),
            "<svg><div/><div/></div><div/>x"
        );
    }

    /// The depth of the DOM html5ever builds.
    fn dom_depth(html: &str) -> usize {
        let doc = scraper::Html::parse_document(html);
        doc.tree
            .nodes()
            .map(|n| n.ancestors().count())
            .max()
            .unwrap_or(0)
    }

    #[test]
    fn hostile_nesting_stays_within_the_cap() {
        const MAX: usize = 16;
        let patterns: &[&str] = &[
            "<div>",
            "<span>x",
            "<b>",
            "<b id={}>",
            "<div/>",
            "<svg><div/>",
            "<b><div></b>",
            "<div><b id={}></div>x",
            "<p><button>",
            "<table><td>",
            "<table><div>",
            "<table><caption><div>",
            "<ul><li>",
            "<dl><dd>",
            "<a href=x><div>",
            "<font><p>",
            "<svg>",
            "<svg><g>",
            "<math><mi>",
            "<select><div>",
            "<template>",
            "<form><div>",
            "<x-a></x-b>",
            "<object>",
            "<nobr><div>",
            "<h1><div>",
            "<b><table>",
            "<i id={}><p>x</p>",
            "<svg><foreignObject>",
            "<tr><td><div>",
        ];
        // Content the tree builder reads as HTML again must not count as
        // SVG, where `/>` closes an element.
        let page = format!(
            "<html><body><svg><font color=red>{}{}</body></html>",
            "<x/>".repeat(2_000),
            "<div>".repeat(2_000)
        );
        let depth = dom_depth(&cap(&page, MAX));
        assert!(depth <= 4 * MAX + 8, "font in SVG: {depth} deep");
        for pattern in patterns {
            let page: String = (0..2_000)
                .map(|i| pattern.replace("{}", &i.to_string()))
                .collect();
            let page = format!("<html><body>{page}</body></html>");
            let depth = dom_depth(&cap(&page, MAX));
            assert!(depth <= 4 * MAX + 8, "{pattern}: {depth} deep");
        }
    }
    #[test]
    fn unterminated_markup_is_left_as_it_is() {
        for page in [
            "<div",
            "<div a=\"",
            "<!-- x",
            "</div",
            "<script>x",
            "<![CDATA[",
            "<",
        ] {
            assert_eq!(
                capped(&format!("<p><p><p>{page}"), 1),
                format!("<p><p><p>{page}")
            );
        }
    }
}
