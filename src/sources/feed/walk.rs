//! RSS 0.9x/1.0/2.0 and Atom 0.3/1.0 in one pass over the tags, the way
//! feedparser reads them: elements by local name whatever the default
//! namespace (`content:encoded`, `dc:*`, `media:*` and `atom:link` by the
//! prefix their namespace is bound to), each `<item>` or `<entry>` read on
//! its own. A field's text is the raw slice between its tags, converted only
//! when the item is complete.
//!
//! Broken structure is repaired the way HTML parsers repair it: an end tag
//! closes the elements left open inside the one it names, a stray end tag
//! is ignored, a field left open ends where the next field starts, and an
//! item left open ends where the next one starts. An item still open when
//! its channel or the document ends is dropped, with the reason: it may have
//! been cut off mid-field.

use super::markup::{html_twice, literal_plain, xml_text, Mode};
use super::xml::{attribute, attributes, split_name, Tag, Tokenizer};
use super::{absolute_http, http_url, iso_639_1, link_fields, person_name, Item};
use crate::sources::dates::parse_date;
use chrono::{DateTime, Utc};
use url::Url;

/// Elements nested deeper than this are skipped (browsers cap the same way).
pub(super) const MAX_DEPTH: usize = 256;

/// What a prefix stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ns {
    /// No prefix, or a prefix bound to an RSS or Atom namespace.
    Core,
    Atom,
    Dc,
    Dcterms,
    Content,
    Media,
    Itunes,
    Other,
}

/// `name` in lower case, in `buf` (names longer than it read as unknown).
fn lower<'b>(name: &str, buf: &'b mut [u8; 24]) -> &'b str {
    let Some(out) = buf.get_mut(..name.len()) else {
        return "";
    };
    for (o, b) in out.iter_mut().zip(name.bytes()) {
        *o = b.to_ascii_lowercase();
    }
    std::str::from_utf8(out).unwrap_or_default()
}

/// The namespace of a URI, as feedparser groups them.
fn ns_of_uri(uri: &str) -> Ns {
    match uri.trim() {
        "http://www.w3.org/2005/Atom" | "http://purl.org/atom/ns#" => Ns::Atom,
        "http://purl.org/dc/elements/1.1/" => Ns::Dc,
        "http://purl.org/dc/terms/" => Ns::Dcterms,
        "http://purl.org/rss/1.0/modules/content/" => Ns::Content,
        "http://search.yahoo.com/mrss/" | "http://search.yahoo.com/mrss" => Ns::Media,
        "http://www.itunes.com/dtds/podcast-1.0.dtd" => Ns::Itunes,
        "http://purl.org/rss/1.0/"
        | "http://my.netscape.com/rdf/simple/0.9/"
        | "http://backend.userland.com/rss"
        | "http://backend.userland.com/rss2"
        | "http://blogs.law.harvard.edu/tech/rss" => Ns::Core,
        _ => Ns::Other,
    }
}

/// The namespace of a prefix nobody declared: the one it is always used for.
fn ns_of_prefix(prefix: &str) -> Ns {
    match lower(prefix, &mut [0; 24]) {
        "atom" | "atom10" | "atom03" => Ns::Atom,
        "dc" => Ns::Dc,
        "dcterms" => Ns::Dcterms,
        "content" => Ns::Content,
        "media" => Ns::Media,
        "itunes" => Ns::Itunes,
        "rss" => Ns::Core,
        _ => Ns::Other,
    }
}

/// How an Atom text construct (or an RSS field) is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Construct {
    /// Plain text; only character references are markup.
    Text,
    Html,
    Xhtml,
    /// Base64 or another media type: not text.
    Skip,
}

/// The construct named by a `type` (and Atom 0.3 `mode`) attribute.
fn construct(attrs: &str, typed: bool) -> Construct {
    if !typed {
        return Construct::Html;
    }
    if attribute(attrs, "mode").is_some_and(|m| m.eq_ignore_ascii_case("base64")) {
        return Construct::Skip;
    }
    let Some(t) = attribute(attrs, "type") else {
        return Construct::Text;
    };
    let t = t.trim().to_ascii_lowercase();
    match t.as_str() {
        "" | "text" | "text/plain" => Construct::Text,
        "html" | "text/html" => Construct::Html,
        "xhtml" | "application/xhtml+xml" => Construct::Xhtml,
        _ if t.ends_with("+xml") || t.ends_with("/xml") => Construct::Xhtml,
        _ if t.starts_with("text/") => Construct::Text,
        _ => Construct::Skip,
    }
}

/// Plain text of a construct.
fn construct_plain(raw: &str, c: Construct) -> String {
    match c {
        Construct::Text => literal_plain(&xml_text(raw, Mode::Text)),
        Construct::Html => html_twice(&xml_text(raw, Mode::Html)),
        Construct::Xhtml => html_twice(&xml_text(raw, Mode::Xhtml)),
        Construct::Skip => String::new(),
    }
}

/// A field whose text is read when it closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Title(Construct),
    /// `dc:title`, `media:title`: used when there is no title.
    OtherTitle(Construct),
    Link,
    Id,
    Summary(Construct),
    Content(Construct),
    /// `dc:description`, `media:description`: used when there is no text.
    OtherSummary(Construct),
    Published,
    Updated,
    Created,
    /// `dc:creator`, RSS `author`, Atom `author/name`; `feed` at channel level.
    Author {
        feed: bool,
    },
    /// `itunes:author`: used when there is no other author.
    ItunesAuthor,
    /// `dc:language` of an item, or `language`/`dc:language` of the channel.
    Language {
        feed: bool,
    },
}

impl Field {
    /// Fields that never hold markup end where a sibling field starts.
    fn holds_markup(self) -> bool {
        matches!(
            self,
            Field::Summary(_) | Field::Content(_) | Field::OtherSummary(_)
        )
    }
}

/// Whether a start tag inside an open `field` of an item is really the
/// item's next field, the open one lacking its end tag. Fields that hold
/// markup end only at elements HTML does not have.
fn ends_field(field: Field, ns: Ns, local: &str) -> bool {
    let mut buf = [0; 24];
    let l = lower(local, &mut buf);
    let not_html = matches!(
        (ns, l),
        (
            Ns::Atom | Ns::Dc | Ns::Dcterms | Ns::Content | Ns::Media | Ns::Itunes,
            _
        ) | (
            Ns::Core,
            "pubdate"
                | "guid"
                | "description"
                | "category"
                | "comments"
                | "enclosure"
                | "author"
                | "published"
                | "updated"
                | "issued"
                | "modified"
                | "created"
                | "id"
        )
    );
    not_html
        || (!field.holds_markup()
            && ns == Ns::Core
            && matches!(l, "title" | "link" | "summary" | "content" | "source"))
}

/// The part an open element plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Other,
    Item,
    /// `media:group`, whose children count as the item's.
    Group,
    /// Atom `author` (with `name`) or RSS `author` (text).
    Person {
        feed: bool,
    },
    Field(Field),
    /// Markup inside a field.
    Inner,
}

struct Open<'a> {
    name: &'a str,
    role: Role,
    /// Offset after the start tag.
    content_start: usize,
    has_children: bool,
}

/// An item as read so far: raw slices, converted when it closes.
#[derive(Default)]
struct Draft<'a> {
    title: Option<(&'a str, Construct)>,
    other_title: Option<(&'a str, Construct)>,
    content: Option<(&'a str, Construct)>,
    summary: Option<(&'a str, Construct)>,
    other_summary: Option<(&'a str, Construct)>,
    page_link: Option<Url>,
    other_link: Option<Url>,
    id: Option<&'a str>,
    published: Option<DateTime<Utc>>,
    updated: Option<DateTime<Utc>>,
    created: Option<DateTime<Utc>>,
    /// The first date element whose text could not be read.
    unread_date: Option<String>,
    author: Option<String>,
    itunes_author: Option<String>,
    /// `xml:lang` on the content element, then in effect on the item.
    content_lang: Option<&'a str>,
    item_lang: Option<&'a str>,
    dc_language: Option<&'a str>,
}

/// What the walk found.
#[derive(Default)]
pub(super) struct Walked {
    pub items: Vec<Item>,
    /// `<item>`/`<entry>` elements seen.
    pub found: usize,
    /// Items dropped because their XML broke, and the first reason.
    pub broken: usize,
    pub first_break: Option<String>,
    /// Items without title and text.
    pub empty: usize,
    pub feed_lang: Option<String>,
    pub feed_author: Option<String>,
}

pub(super) struct Walker<'a> {
    src: &'a str,
    base: &'a Url,
    atom: bool,
    prefixes: Vec<(&'a str, Ns)>,
    stack: Vec<Open<'a>>,
    /// Start tags beyond [`MAX_DEPTH`] not yet closed.
    overflow: usize,
    /// `xml:lang` and `xml:base` declarations by stack depth.
    langs: Vec<(usize, Option<&'a str>)>,
    bases: Vec<(usize, Url)>,
    item_at: Option<usize>,
    field_at: Option<usize>,
    draft: Draft<'a>,
    out: Walked,
}

impl<'a> Walker<'a> {
    /// A walker for a document whose root start tag has these attributes.
    pub(super) fn new(src: &'a str, base: &'a Url, atom: bool, root_attrs: &'a str) -> Self {
        let prefixes = attributes(root_attrs)
            .filter_map(|(name, value)| {
                let prefix = name.strip_prefix("xmlns:")?;
                Some((prefix, ns_of_uri(value)))
            })
            .collect();
        Walker {
            src,
            base,
            atom,
            prefixes,
            stack: Vec::new(),
            overflow: 0,
            langs: Vec::new(),
            bases: Vec::new(),
            item_at: None,
            field_at: None,
            draft: Draft::default(),
            out: Walked::default(),
        }
    }

    /// Reads every tag from the root start tag on.
    pub(super) fn run(mut self, tags: Tokenizer<'a>, root: Tag<'a>) -> Walked {
        for tag in std::iter::once(root).chain(tags) {
            match tag {
                Tag::Start {
                    name,
                    attrs,
                    self_closing,
                    start,
                    end,
                } => self.start(name, attrs, self_closing, start, end),
                Tag::End { name, start } => self.end(name, start),
            }
        }
        if let Some(at) = self.item_at {
            let name = self.stack.get(at).map_or("item", |o| o.name);
            self.drop_item(format!(
                "ill-formed document: `<{name}>` is not closed before the end of the document"
            ));
        }
        self.out
    }

    fn ns(&self, prefix: Option<&str>) -> Ns {
        let Some(prefix) = prefix else {
            return Ns::Core;
        };
        self.prefixes
            .iter()
            .find(|(p, _)| *p == prefix)
            .map_or_else(|| ns_of_prefix(prefix), |(_, ns)| *ns)
    }

    fn current_base(&self) -> &Url {
        self.bases.last().map_or(self.base, |(_, url)| url)
    }

    fn current_lang(&self) -> Option<&'a str> {
        self.langs.last().and_then(|(_, lang)| *lang)
    }

    /// Whether a start tag opens an item.
    fn is_item(&self, ns: Ns, local: &str) -> bool {
        matches!(ns, Ns::Core | Ns::Atom)
            && (local.eq_ignore_ascii_case("item") || local.eq_ignore_ascii_case("entry"))
    }

    /// The role of a child of an item (or of its `media:group`).
    fn item_child(&mut self, ns: Ns, local: &str, attrs: &'a str, self_closing: bool) -> Role {
        let typed = self.atom || ns == Ns::Atom;
        let mut buf = [0; 24];
        let field = match (ns, lower(local, &mut buf)) {
            (Ns::Core | Ns::Atom, "title") => Field::Title(construct(attrs, typed)),
            (Ns::Dc, "title") => Field::OtherTitle(Construct::Html),
            (Ns::Media, "title") => Field::OtherTitle(construct(attrs, true)),
            (Ns::Core | Ns::Atom, "link") => {
                if let Some(href) = attribute(attrs, "href") {
                    let rel = attribute(attrs, "rel").map(str::trim);
                    let page =
                        rel.is_none_or(|r| r.is_empty() || r.eq_ignore_ascii_case("alternate"));
                    self.add_link(href, page);
                    return Role::Other;
                }
                Field::Link
            }
            (Ns::Core, "guid") | (Ns::Core | Ns::Atom, "id") => Field::Id,
            (Ns::Core, "description") => Field::Summary(Construct::Html),
            (Ns::Core | Ns::Atom, "summary") => Field::Summary(construct(attrs, typed)),
            (Ns::Core | Ns::Atom, "content") => {
                if attribute(attrs, "src").is_some() {
                    return Role::Other;
                }
                if self.draft.content.is_none() {
                    let lang = attributes(attrs).find(|(n, _)| *n == "xml:lang");
                    self.draft.content_lang = lang.map(|(_, v)| v).filter(|v| !v.trim().is_empty());
                }
                Field::Content(construct(attrs, typed))
            }
            (Ns::Content, "encoded") => Field::Content(Construct::Html),
            (Ns::Dc, "description") => Field::OtherSummary(Construct::Html),
            (Ns::Media, "description") => {
                let html = attribute(attrs, "type").is_some_and(|t| t.eq_ignore_ascii_case("html"));
                Field::OtherSummary(if html {
                    Construct::Html
                } else {
                    Construct::Text
                })
            }
            (Ns::Core, "pubdate")
            | (Ns::Core | Ns::Atom, "published" | "issued")
            | (Ns::Dc, "date")
            | (Ns::Dcterms, "issued") => Field::Published,
            (Ns::Core | Ns::Atom, "updated" | "modified") | (Ns::Dcterms, "modified") => {
                Field::Updated
            }
            (Ns::Core | Ns::Atom, "created") | (Ns::Dcterms, "created") => Field::Created,
            (Ns::Core | Ns::Atom, "author") => return Role::Person { feed: false },
            (Ns::Dc, "creator") => Field::Author { feed: false },
            (Ns::Itunes, "author") => Field::ItunesAuthor,
            (Ns::Dc, "language") => Field::Language { feed: false },
            (Ns::Media, "group") => return Role::Group,
            _ => return Role::Other,
        };
        if self_closing {
            Role::Other
        } else {
            Role::Field(field)
        }
    }

    /// The role of a child of the channel (or of an Atom feed).
    fn channel_child(&self, ns: Ns, local: &str) -> Role {
        match (ns, lower(local, &mut [0; 24])) {
            (Ns::Core, "language") | (Ns::Dc, "language") => {
                Role::Field(Field::Language { feed: true })
            }
            (Ns::Dc, "creator") => Role::Field(Field::Author { feed: true }),
            (Ns::Core | Ns::Atom, "author") if self.atom => Role::Person { feed: true },
            _ => Role::Other,
        }
    }

    fn start(
        &mut self,
        name: &'a str,
        attrs: &'a str,
        self_closing: bool,
        start: usize,
        end: usize,
    ) {
        if self.overflow > 0 || self.stack.len() >= MAX_DEPTH {
            if !self_closing {
                self.overflow += 1;
            }
            return;
        }
        let (prefix, local) = split_name(name);
        let ns = self.ns(prefix);
        // Inside a field everything is markup, unless a text field was left
        // open and the next field of its item starts.
        if let Some(at) = self.field_at {
            let open = self.stack.get(at).map(|o| o.role);
            let sibling = match open {
                Some(Role::Field(f)) if self.item_at.is_some() => {
                    self.is_item(ns, local) || ends_field(f, ns, local)
                }
                _ => false,
            };
            if sibling {
                self.close_to(at, start);
            } else {
                self.push(name, Role::Inner, end, self_closing);
                return;
            }
        }
        let is_item = self.is_item(ns, local);
        if let (true, Some(at)) = (is_item, self.item_at) {
            // A forgotten `</item>`: the next item closes it.
            self.close_to(at, start);
        }
        let depth = self.stack.len();
        if !attrs.is_empty() && attrs.contains("xml:") {
            self.declare(depth, attrs);
        }
        if is_item {
            self.open_item(attrs);
            let at = self.stack.len();
            self.push(name, Role::Item, end, self_closing);
            if self_closing {
                self.finish_item();
            } else {
                self.item_at = Some(at);
            }
            return;
        }
        let parent = self.stack.last().map(|o| (o.role, o.name));
        let role = match (self.item_at, parent) {
            (Some(_), Some((Role::Item | Role::Group, _))) => {
                self.item_child(ns, local, attrs, self_closing)
            }
            (Some(_), Some((Role::Person { feed }, _))) if local.eq_ignore_ascii_case("name") => {
                Role::Field(Field::Author { feed })
            }
            (None, Some((Role::Person { feed: true }, _)))
                if local.eq_ignore_ascii_case("name") =>
            {
                Role::Field(Field::Author { feed: true })
            }
            (None, Some((_, parent_name)))
                if depth == 1 || split_name(parent_name).1.eq_ignore_ascii_case("channel") =>
            {
                self.channel_child(ns, local)
            }
            _ => Role::Other,
        };
        self.push(name, role, end, self_closing);
    }

    /// Records `xml:lang` and `xml:base` declared on an element at `depth`.
    fn declare(&mut self, depth: usize, attrs: &'a str) {
        for (name, value) in attributes(attrs) {
            match name {
                "xml:lang" => {
                    let lang = value.trim();
                    self.langs.push((depth, (!lang.is_empty()).then_some(lang)));
                }
                "xml:base" => {
                    let value = xml_text(value.trim(), Mode::Text);
                    if let Ok(url) = self.current_base().join(&value) {
                        self.bases.push((depth, url));
                    }
                }
                _ => {}
            }
        }
    }

    fn push(&mut self, name: &'a str, role: Role, content_start: usize, self_closing: bool) {
        if let Some(parent) = self.stack.last_mut() {
            parent.has_children = true;
        }
        if self_closing {
            self.forget_declarations(self.stack.len());
            return;
        }
        if let Role::Field(_) = role {
            self.field_at = Some(self.stack.len());
        }
        self.stack.push(Open {
            name,
            role,
            content_start,
            has_children: false,
        });
    }

    fn forget_declarations(&mut self, depth: usize) {
        while self.langs.last().is_some_and(|(d, _)| *d >= depth) {
            self.langs.pop();
        }
        while self.bases.last().is_some_and(|(d, _)| *d >= depth) {
            self.bases.pop();
        }
    }

    fn end(&mut self, name: &'a str, start: usize) {
        if self.overflow > 0 {
            self.overflow -= 1;
            return;
        }
        let Some(at) = self
            .stack
            .iter()
            .rposition(|o| o.name.eq_ignore_ascii_case(name))
        else {
            // An end tag nothing opened.
            return;
        };
        if let Some(item) = self.item_at {
            if at < item {
                let top = self.stack.last().map_or("item", |o| o.name);
                self.drop_item(format!(
                    "ill-formed document: expected `</{top}>`, but `</{name}>` was found"
                ));
            }
        }
        self.close_to(at, start);
    }

    /// Closes the element at `at` and everything opened inside it, their
    /// content ending at offset `end`.
    fn close_to(&mut self, at: usize, end: usize) {
        while self.stack.len() > at {
            let Some(open) = self.stack.pop() else {
                break;
            };
            let depth = self.stack.len();
            let raw = self
                .src
                .get(open.content_start..end.max(open.content_start))
                .unwrap_or_default();
            match open.role {
                Role::Field(field) => {
                    self.field_at = None;
                    self.finish_field(field, raw);
                }
                Role::Person { feed } if !open.has_children => {
                    self.finish_field(Field::Author { feed }, raw);
                }
                Role::Item => self.finish_item(),
                _ => {}
            }
            self.forget_declarations(depth);
        }
    }

    fn open_item(&mut self, attrs: &'a str) {
        self.out.found += 1;
        self.draft = Draft {
            item_lang: self.current_lang(),
            // RSS 1.0 names the item's page in `rdf:about`.
            id: attribute(attrs, "rdf:about"),
            ..Draft::default()
        };
    }

    /// Drops the open item and everything inside it.
    fn drop_item(&mut self, reason: String) {
        let Some(at) = self.item_at.take() else {
            return;
        };
        self.out.broken += 1;
        self.out.first_break.get_or_insert(reason);
        if self.field_at.is_some_and(|f| f >= at) {
            self.field_at = None;
        }
        self.stack.truncate(at);
        self.forget_declarations(at);
        self.draft = Draft::default();
    }

    fn add_link(&mut self, href: &str, page: bool) {
        if self.draft.page_link.is_some() || (!page && self.draft.other_link.is_some()) {
            return;
        }
        let href = xml_text(href, Mode::Text);
        let Some(url) = absolute_http(href.trim(), self.current_base()) else {
            return;
        };
        if page {
            self.draft.page_link = Some(url);
        } else {
            self.draft.other_link = Some(url);
        }
    }

    fn finish_field(&mut self, field: Field, raw: &'a str) {
        let d = &mut self.draft;
        match field {
            Field::Title(c) => {
                d.title.get_or_insert((raw, c));
            }
            Field::OtherTitle(c) => {
                d.other_title.get_or_insert((raw, c));
            }
            Field::Link => self.add_link(raw, true),
            Field::Id => {
                d.id.get_or_insert(raw);
            }
            Field::Summary(c) => {
                d.summary.get_or_insert((raw, c));
            }
            Field::Content(c) => {
                d.content.get_or_insert((raw, c));
            }
            Field::OtherSummary(c) => {
                d.other_summary.get_or_insert((raw, c));
            }
            Field::Published | Field::Updated | Field::Created => {
                let slot = match field {
                    Field::Published => &mut d.published,
                    Field::Updated => &mut d.updated,
                    _ => &mut d.created,
                };
                if slot.is_none() {
                    let written = xml_text(raw, Mode::Text);
                    *slot = parse_date(&written);
                    let written = written.trim();
                    if slot.is_none() && !written.is_empty() && d.unread_date.is_none() {
                        d.unread_date = Some(written.to_owned());
                    }
                }
            }
            Field::Author { feed } => {
                let slot = if feed {
                    &mut self.out.feed_author
                } else {
                    &mut d.author
                };
                if slot.is_none() {
                    *slot = person_name(literal_plain(&xml_text(raw, Mode::Text)));
                }
            }
            Field::ItunesAuthor => {
                if d.itunes_author.is_none() {
                    d.itunes_author = person_name(literal_plain(&xml_text(raw, Mode::Text)));
                }
            }
            Field::Language { feed: false } => {
                d.dc_language.get_or_insert(raw);
            }
            Field::Language { feed: true } => {
                if self.out.feed_lang.is_none() {
                    self.out.feed_lang = iso_639_1(&xml_text(raw, Mode::Text));
                }
            }
        }
    }

    /// Turns the draft into an item; one without title and text is counted.
    fn finish_item(&mut self) {
        self.item_at = None;
        let d = std::mem::take(&mut self.draft);
        let non_empty = |s: String| (!s.is_empty()).then_some(s);
        let title = d
            .title
            .and_then(|(raw, c)| non_empty(construct_plain(raw, c)))
            .or_else(|| {
                d.other_title
                    .and_then(|(raw, c)| non_empty(construct_plain(raw, c)))
            })
            .unwrap_or_default();
        let text = d
            .content
            .and_then(|(raw, c)| non_empty(construct_plain(raw, c)))
            .or_else(|| {
                d.summary
                    .and_then(|(raw, c)| non_empty(construct_plain(raw, c)))
            })
            .or_else(|| {
                d.other_summary
                    .and_then(|(raw, c)| non_empty(construct_plain(raw, c)))
            })
            .unwrap_or_default();
        if title.is_empty() && text.is_empty() {
            self.out.empty += 1;
            return;
        }
        let (url, parsed_url) = link_fields(d.page_link.or(d.other_link).or_else(|| {
            let id = xml_text(d.id?, Mode::Text);
            http_url(Url::parse(id.trim()).ok()?)
        }));
        let lang = d
            .content_lang
            .and_then(iso_639_1)
            .or_else(|| d.item_lang.and_then(iso_639_1))
            .or_else(|| {
                d.dc_language
                    .and_then(|raw| iso_639_1(&xml_text(raw, Mode::Text)))
            });
        let published = d.published.or(d.updated).or(d.created);
        self.out.items.push(Item {
            url,
            platform_id: None,
            title,
            text,
            author: d.author.or(d.itunes_author),
            published,
            lang,
            unread_date: d.unread_date.filter(|_| published.is_none()),
            publisher: None,
            parsed_url,
        });
    }
}
