//! `telegram` sources: public channel previews `/s/CHANNEL`, older pages
//! with `?before=ID`. Each message of the preview page becomes one item
//! identified as `telegram:channel/id`; its text is the bubble's own text
//! div only, so a reply's quoted message and a link preview never count.

use super::context::Context;
use super::paging::{Harvest, Listing, Page as Paged, Pager, RateLimited};
use super::Item;
use crate::budget::Budget;
use crate::http::Request;
use chrono::{DateTime, Utc};
use ego_tree::NodeRef;
use scraper::{ElementRef, Node, Selector};
use std::sync::LazyLock;
use url::Url;

/// Compiles one of this module's fixed selectors (all are tested to parse).
fn selector(css: &str) -> Option<Selector> {
    Selector::parse(css).ok()
}

static MESSAGE: LazyLock<Option<Selector>> =
    LazyLock::new(|| selector("div.tgme_widget_message[data-post]"));
/// Direct child only: a reply's quote sits deeper, inside `.tgme_widget_message_reply`.
static TEXT: LazyLock<Option<Selector>> =
    LazyLock::new(|| selector(".tgme_widget_message_bubble > .tgme_widget_message_text"));
static OWNER: LazyLock<Option<Selector>> =
    LazyLock::new(|| selector(".tgme_widget_message_owner_name"));
static FORWARDED: LazyLock<Option<Selector>> = LazyLock::new(|| {
    selector(".tgme_widget_message_forwarded_from .tgme_widget_message_forwarded_from_name")
});
static DATE: LazyLock<Option<Selector>> =
    LazyLock::new(|| selector(".tgme_widget_message_date time[datetime]"));
static ANY_TIME: LazyLock<Option<Selector>> = LazyLock::new(|| selector("time[datetime]"));
static MORE_BEFORE: LazyLock<Option<Selector>> =
    LazyLock::new(|| selector(".js-messages_more[data-before], .tme_messages_more[data-before]"));
static HISTORY: LazyLock<Option<Selector>> =
    LazyLock::new(|| selector(".tgme_channel_history, .js-message_history"));

/// One preview page, read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Page {
    /// Messages that have text, in page order (oldest first).
    pub items: Vec<Item>,
    /// How many messages the page shows, with or without text.
    pub messages: usize,
    /// The smallest message id on the page.
    pub smallest_id: Option<u64>,
    /// The oldest message time on the page.
    pub oldest: Option<DateTime<Utc>>,
    /// `data-before` of the "older messages" link, when the page has one.
    pub more_before: Option<u64>,
    /// Whether the page is a channel preview at all (has a message history).
    pub has_history: bool,
}

impl Page {
    /// The `before` value of the next older page, if there is one.
    pub fn next_before(&self, current: Option<u64>) -> Option<u64> {
        if self.messages == 0 {
            return None;
        }
        let next = self.more_before.or(self.smallest_id)?;
        // Ids start at 1: before=1 has nothing older; a page that does not go
        // back further than the last one would loop.
        (next > 1 && current.is_none_or(|c| next < c)).then_some(next)
    }
}

/// Reads one `/s/CHANNEL` page. Never fails: markup it does not understand
/// yields fewer items.
pub fn parse_page(body: &str) -> Page {
    let doc = crate::markup::parse_document(body);
    let mut page = Page {
        has_history: HISTORY
            .as_ref()
            .is_some_and(|s| doc.select(s).next().is_some()),
        more_before: MORE_BEFORE.as_ref().and_then(|s| {
            doc.select(s)
                .filter_map(|a| a.value().attr("data-before"))
                .find_map(|v| v.trim().parse::<u64>().ok())
        }),
        ..Page::default()
    };
    let Some(message_sel) = MESSAGE.as_ref() else {
        return page;
    };
    for message in doc.select(message_sel) {
        let Some((channel, id)) = message.value().attr("data-post").and_then(split_post) else {
            continue;
        };
        page.messages += 1;
        page.smallest_id = Some(page.smallest_id.map_or(id, |s| s.min(id)));
        let published = message_date(message);
        if let Some(t) = published {
            page.oldest = Some(page.oldest.map_or(t, |o| o.min(t)));
        }
        // "Channel created", "pinned a message" and the like are not posts.
        if message.value().classes().any(|c| c == "service_message") {
            continue;
        }
        let text = message_text(message);
        if text.is_empty() {
            continue;
        }
        let forwarded = first_text(message, &FORWARDED);
        let author = forwarded.or_else(|| first_text(message, &OWNER));
        page.items.push(Item {
            url: Some(format!("https://t.me/{channel}/{id}")),
            platform_id: Some(format!("telegram:{}/{id}", channel.to_ascii_lowercase())),
            title: String::new(),
            text,
            author,
            published,
            lang: None,
            unread_date: None,
            publisher: None,
            parsed_url: Default::default(),
        });
    }
    page
}

/// `channel/1234` → (`channel`, 1234); channel names are letters, digits and `_`.
fn split_post(post: &str) -> Option<(&str, u64)> {
    let (channel, id) = post.trim().rsplit_once('/')?;
    let valid = !channel.is_empty()
        && channel
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_');
    let id: u64 = id.parse().ok()?;
    (valid && id > 0).then_some((channel, id))
}

/// The message's own time: the date link's `<time datetime>`, else any.
fn message_date(message: ElementRef<'_>) -> Option<DateTime<Utc>> {
    [&DATE, &ANY_TIME]
        .into_iter()
        .filter_map(|s| s.as_ref())
        .flat_map(|s| message.select(s))
        .filter_map(|t| t.value().attr("datetime"))
        .find_map(crate::sources::dates::parse_date)
}

/// Plain text of the first match of `sel` that has any.
fn first_text(message: ElementRef<'_>, sel: &LazyLock<Option<Selector>>) -> Option<String> {
    let sel = sel.as_ref()?;
    message
        .select(sel)
        .map(|el| lines(el).replace('\n', " "))
        .find(|t| !t.is_empty())
}

/// The message's own text (or a media caption): the bubble's direct text divs.
fn message_text(message: ElementRef<'_>) -> String {
    let Some(sel) = TEXT.as_ref() else {
        return String::new();
    };
    let parts: Vec<String> = message
        .select(sel)
        .map(lines)
        .filter(|t| !t.is_empty())
        .collect();
    parts.join("\n")
}

/// Text of an element with `<br>` as line breaks, white space collapsed
/// within lines, and at most one empty line in a row.
fn lines(el: ElementRef<'_>) -> String {
    let mut raw = String::new();
    walk(*el, &mut raw);
    let mut out: Vec<String> = Vec::new();
    for line in raw.split('\n') {
        let line = crate::text::collapse_ws(line);
        let blank_run = line.is_empty() && out.last().is_none_or(|l| l.is_empty());
        if !blank_run {
            out.push(line);
        }
    }
    while out.last().is_some_and(|l| l.is_empty()) {
        out.pop();
    }
    out.join("\n")
}

fn walk(node: NodeRef<'_, Node>, out: &mut String) {
    use ego_tree::iter::Edge;
    // One pass over open and close edges: no recursion, so nesting depth
    // costs neither stack nor time.
    let blocks = ["div", "p", "blockquote", "pre"];
    let mut skipping: Option<ego_tree::NodeId> = None;
    for edge in node.traverse() {
        match edge {
            Edge::Open(n) if n.id() == node.id() || skipping.is_some() => {}
            Edge::Open(n) => match n.value() {
                Node::Text(t) => out.push_str(t),
                Node::Element(e) => match e.name() {
                    "br" => out.push('\n'),
                    "script" | "style" | "template" | "svg" => skipping = Some(n.id()),
                    name if blocks.contains(&name) => out.push('\n'),
                    _ => {}
                },
                _ => {}
            },
            Edge::Close(n) if skipping == Some(n.id()) => skipping = None,
            Edge::Close(n) if n.id() == node.id() || skipping.is_some() => {}
            Edge::Close(n) => {
                if let Node::Element(e) = n.value() {
                    if blocks.contains(&e.name()) {
                        out.push('\n');
                    }
                }
            }
        }
    }
}

/// `{base}/s/CHANNEL`, with `?before=ID` for older pages.
pub fn page_url(base: &Url, channel: &str, before: Option<u64>) -> Option<Url> {
    let mut url = base.clone();
    url.set_query(None);
    url.set_fragment(None);
    url.path_segments_mut()
        .ok()?
        .pop_if_empty()
        .push("s")
        .push(channel);
    if let Some(b) = before {
        url.query_pairs_mut().append_pair("before", &b.to_string());
    }
    Some(url)
}

pub async fn read(ctx: &Context<'_>, url: &Url, channels: &[String]) -> Harvest {
    let mut pager = Pager::new(ctx);
    let mut errors: Vec<String> = Vec::new();
    let budget = Budget::default();
    for channel in channels {
        let mut listing = Channel {
            base: url,
            channel,
            budget: &budget,
        };
        if let Err(e) = pager.run(&mut listing, None).await {
            let e = match e {
                Failure::Said(e) => e,
                Failure::RateLimited(e) => format!("telegram channel \"{channel}\": {e}."),
            };
            tracing::warn!(source = ctx.source, channel = %channel, "{e}");
            errors.push(e);
        }
    }
    Harvest {
        error: (!errors.is_empty()).then(|| errors.join(" ")),
        ..pager.into_harvest()
    }
}

/// Why a channel could not be read to the end.
enum Failure {
    /// A sentence naming the channel.
    Said(String),
    RateLimited(String),
}

impl From<RateLimited> for Failure {
    fn from(r: RateLimited) -> Failure {
        Failure::RateLimited(r.0)
    }
}

/// One channel, paged back by `before` (None on the newest page).
struct Channel<'s> {
    base: &'s Url,
    channel: &'s str,
    budget: &'s Budget,
}

impl Listing for Channel<'_> {
    type Cursor = Option<u64>;
    type Error = Failure;

    async fn page(
        &mut self,
        ctx: &Context<'_>,
        before: &Option<u64>,
    ) -> Result<Paged<Option<u64>>, Failure> {
        let (base, channel) = (self.base, self.channel);
        let Some(url) = page_url(base, channel, *before) else {
            return Err(Failure::Said(format!(
                "telegram channel \"{channel}\": {base} cannot take a path; set url to a host such as https://t.me."
            )));
        };
        let mut fetched = ctx
            .fetch(Request::api_get(url.clone()))
            .await
            .map_err(|e| Failure::Said(format!("telegram channel \"{channel}\": {e}.")))?;
        let content_type = fetched.content_type().map(str::to_owned);
        let body = std::mem::take(&mut fetched.body);
        let page = self
            .budget
            .run(move || parse_page(&crate::charset::decode_owned(body, content_type.as_deref())))
            .await
            .map_err(|e| Failure::Said(format!("telegram channel \"{channel}\": {url}: {e}.")))?;
        if before.is_none() && page.messages == 0 && !page.has_history {
            return Err(Failure::Said(format!(
                "telegram channel \"{channel}\" has no public preview at {url}; check that the name is a public channel (not a group, a user or a private channel)."
            )));
        }
        let next = page.next_before(*before).map(Some);
        let mut paged = Paged::new(page.items, next).with_headers(fetched.headers);
        // Messages without text count too: they date the page and make it non-empty.
        paged.entries = page.messages;
        paged.oldest = page.oldest;
        Ok(paged)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::testing::serve;
    use crate::http::{HttpClient, HttpSettings};
    use crate::sources::context::KnownFn;
    use axum::extract::{Path, Query, State};
    use axum::http::StatusCode;
    use axum::response::{IntoResponse, Redirect, Response};
    use std::collections::{HashMap, HashSet};
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    const PAGE1: &str = include_str!("../../tests/fixtures/telegram/channel_page1.html");
    const PAGE2: &str = include_str!("../../tests/fixtures/telegram/channel_page2.html");
    const CONTACT: &str = include_str!("../../tests/fixtures/telegram/contact_page.html");

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .map(|d| d.with_timezone(&Utc))
            .expect("test time")
    }

    fn item(id: u64, text: &str, author: &str, published: &str) -> Item {
        Item {
            url: Some(format!("https://t.me/KoreaWatchDE/{id}")),
            platform_id: Some(format!("telegram:koreawatchde/{id}")),
            title: String::new(),
            text: text.to_owned(),
            author: Some(author.to_owned()),
            published: Some(utc(published)),
            lang: None,
            unread_date: None,
            publisher: None,
            parsed_url: Default::default(),
        }
    }

    fn ids(items: &[Item]) -> Vec<&str> {
        items
            .iter()
            .filter_map(|i| i.platform_id.as_deref())
            .collect()
    }

    #[test]
    fn selectors_compile() {
        for s in [
            &MESSAGE,
            &TEXT,
            &OWNER,
            &FORWARDED,
            &DATE,
            &ANY_TIME,
            &MORE_BEFORE,
            &HISTORY,
        ] {
            assert!(s.is_some());
        }
    }

    #[test]
    fn newest_page_forward_reply_preview_and_media() {
        let page = parse_page(PAGE1);
        let want = vec![
            // 9 is a photo without caption.
            item(
                10,
                "🇰🇵🇷🇺 Nordkorea liefert weitere Artilleriegranaten an Russland\n\nLaut südkoreanischem Militär verließen seit Oktober mehr als 30 Züge den Hafen Rajin.\n\nQuelle: Yonhap",
                "Korea Watch",
                "2026-11-24T07:12:05Z",
            ),
            // A forward is this channel's message 11, written by the channel it came from.
            item(
                11,
                "Satellite images show North Korea’s troops at a training ground near Kursk. 🛰\nMoscow has not commented.",
                "Kursk Frontline",
                "2026-11-24T08:03:51Z",
            ),
            // The quoted message of a reply is not part of its text.
            item(
                12,
                "Nachtrag: Die Zahl der Züge wurde inzwischen vom Verteidigungsministerium in Seoul bestätigt.",
                "Korea Watch",
                "2026-11-24T09:26:30Z",
            ),
            // Nor is the link preview.
            item(
                13,
                "Lesenswerte Analyse zum neuen Vertrag 👇\nhttps://www.tagesschau.de/ausland/asien/beistandspakt-analyse-100.html",
                "Korea Watch",
                "2026-11-24T10:15:00Z",
            ),
            // A photo's caption is the message text.
            item(
                14,
                "Kim Jong-un empfängt Russlands Verteidigungsminister in Pjöngjang.\n#Nordkorea #Russland",
                "Korea Watch",
                "2026-11-24T11:48:19Z",
            ),
            // 15 is a video the preview cannot show.
            item(
                16,
                "Südkoreas Geheimdienst: rund 11.000 nordkoreanische Soldaten in der Region Kursk, etwa 1.200 davon verwundet oder getötet.",
                "Korea Watch",
                "2026-11-24T13:05:02Z",
            ),
            item(
                17,
                "Wetter in Seoul: erster Schnee des Winters ❄\nDer Flughafen Incheon meldet Verspätungen.",
                "Korea Watch",
                "2026-11-24T15:52:37Z",
            ),
        ];
        assert_eq!(page.items, want);
        assert_eq!(page.messages, 9);
        assert_eq!(page.smallest_id, Some(9));
        assert_eq!(page.oldest, Some(utc("2026-11-24T06:40:12Z")));
        assert_eq!(page.more_before, Some(9));
        assert!(page.has_history);
        assert_eq!(page.next_before(None), Some(9));
    }

    #[test]
    fn oldest_page_service_message_and_unlinked_forward() {
        let page = parse_page(PAGE2);
        assert_eq!(
            ids(&page.items),
            [
                "telegram:koreawatchde/2",
                "telegram:koreawatchde/4",
                "telegram:koreawatchde/5",
                "telegram:koreawatchde/6",
                "telegram:koreawatchde/7",
                "telegram:koreawatchde/8",
            ]
        );
        assert_eq!(
            page.items[4],
            item(
                7,
                "Russia and North Korea sign a new agreement on labour migration, state media report.",
                "Asia Desk",
                "2026-11-23T07:31:26Z",
            )
        );
        assert_eq!(page.items[5].text, "Heute Abend live: Internationale Runde");
        assert_eq!(page.messages, 8);
        // "Channel created" is message 1: nothing is older.
        assert_eq!(page.smallest_id, Some(1));
        assert_eq!(page.more_before, None);
        assert_eq!(page.next_before(Some(9)), None);
    }

    #[test]
    fn next_page_rules() {
        let page = |messages, smallest_id, more_before| Page {
            messages,
            smallest_id,
            more_before,
            has_history: true,
            ..Page::default()
        };
        // The "older" link wins; without it the smallest id is used.
        assert_eq!(page(20, Some(480), Some(479)).next_before(None), Some(479));
        assert_eq!(page(20, Some(480), None).next_before(Some(500)), Some(480));
        // Empty page, the first message, or no progress: stop.
        assert_eq!(page(0, None, None).next_before(Some(500)), None);
        assert_eq!(page(3, Some(1), None).next_before(Some(4)), None);
        assert_eq!(page(20, Some(480), None).next_before(Some(480)), None);
        assert_eq!(page(20, Some(600), Some(600)).next_before(Some(480)), None);
    }

    #[test]
    fn page_urls() {
        let t = Url::parse("https://t.me").unwrap();
        assert_eq!(
            page_url(&t, "durov", None).unwrap().as_str(),
            "https://t.me/s/durov"
        );
        assert_eq!(
            page_url(&t, "durov", Some(342)).unwrap().as_str(),
            "https://t.me/s/durov?before=342"
        );
        let mirror = Url::parse("http://127.0.0.1:8080/tg/?x=1#f").unwrap();
        assert_eq!(
            page_url(&mirror, "Korea_Watch", Some(9)).unwrap().as_str(),
            "http://127.0.0.1:8080/tg/s/Korea_Watch?before=9"
        );
        let odd = Url::parse("mailto:x@example.org").unwrap();
        assert_eq!(page_url(&odd, "durov", None), None);
    }

    #[test]
    fn odd_markup_yields_fewer_items_not_errors() {
        let wrap = |post: &str, inner: &str| {
            format!(
                r#"<div class="tgme_widget_message_wrap js-widget_message_wrap"><div class="tgme_widget_message js-widget_message" data-post="{post}"><div class="tgme_widget_message_bubble">{inner}<div class="tgme_widget_message_footer"><a class="tgme_widget_message_date" href="https://t.me/{post}"><time datetime="not a date" class="time">??</time></a></div></div></div></div>"#
            )
        };
        let text = r#"<div class="tgme_widget_message_text js-message_text">Text</div>"#;
        let body = [
            wrap("chan", text),
            wrap("chan/abc", text),
            wrap("../x/5", text),
            wrap("chan/0", text),
            wrap("/7", text),
            // Only a reply quote, no text of its own.
            wrap(
                "chan/8",
                r#"<a class="tgme_widget_message_reply" href="https://t.me/chan/3"><div class="tgme_widget_message_text js-message_reply_text">Zitat</div></a>"#,
            ),
            // Albums nest the caption div in another; it counts once.
            wrap(
                "Chan/9",
                r#"<div class="tgme_widget_message_text js-message_text"><div class="tgme_widget_message_text js-message_text">Bildunterschrift<br>zweite Zeile</div></div>"#,
            ),
            wrap("chan/10", r#"<div class="tgme_widget_message_text">   <br/> </div>"#),
        ]
        .concat();
        let page = parse_page(&body);
        assert_eq!(
            page.items,
            vec![Item {
                url: Some("https://t.me/Chan/9".into()),
                platform_id: Some("telegram:chan/9".into()),
                text: "Bildunterschrift\nzweite Zeile".into(),
                ..Item::default()
            }]
        );
        assert_eq!(page.messages, 3);
        assert_eq!(page.smallest_id, Some(8));
        assert!(!page.has_history);
        for junk in ["", "<html", "\u{0}<<>>&&", "{\"ok\":true}", CONTACT] {
            let page = parse_page(junk);
            assert_eq!(page, Page::default(), "{junk:.40}");
        }
    }

    /// A preview server: `pages[(channel, before)]` is (status, body); every
    /// request is logged as `channel` or `channel?before=N`.
    /// (channel, before) → (status, body).
    type Pages = HashMap<(String, Option<u64>), (u16, String)>;

    #[derive(Clone, Default)]
    struct Tg {
        pages: Arc<Pages>,
        log: Arc<Mutex<Vec<String>>>,
    }

    async fn preview(
        State(tg): State<Tg>,
        Path(channel): Path<String>,
        Query(q): Query<HashMap<String, String>>,
    ) -> Response {
        let before = q.get("before").and_then(|b| b.parse::<u64>().ok());
        let entry = match before {
            Some(b) => format!("{channel}?before={b}"),
            None => channel.clone(),
        };
        tg.log.lock().unwrap().push(entry);
        if channel == "nosuchchannel" {
            return Redirect::to("/nosuchchannel").into_response();
        }
        match tg.pages.get(&(channel, before)) {
            Some((status, body)) => (
                StatusCode::from_u16(*status).unwrap(),
                [("content-type", "text/html; charset=utf-8")],
                body.clone(),
            )
                .into_response(),
            None => StatusCode::NOT_FOUND.into_response(),
        }
    }

    async fn start(pages: Vec<(&str, Option<u64>, u16, &str)>) -> (Url, Tg) {
        let tg = Tg {
            pages: Arc::new(
                pages
                    .into_iter()
                    .map(|(c, b, s, body)| ((c.to_owned(), b), (s, body.to_owned())))
                    .collect(),
            ),
            log: Arc::default(),
        };
        let app = axum::Router::new()
            .route("/s/{channel}", axum::routing::get(preview))
            .route(
                "/nosuchchannel",
                axum::routing::get(|| async { ([("content-type", "text/html")], CONTACT) }),
            )
            .with_state(tg.clone());
        let addr = serve(app).await;
        (Url::parse(&format!("http://{addr}")).unwrap(), tg)
    }

    fn client(retries: u32) -> HttpClient {
        HttpClient::new(HttpSettings {
            retries,
            timeout: Duration::from_secs(5),
            allow_private_networks: true,
            ..Default::default()
        })
        .unwrap()
    }

    /// A `known` closure: every item is new.
    macro_rules! nothing_known {
        () => {
            |items: Vec<Item>| -> Pin<Box<dyn Future<Output = Vec<bool>> + Send>> {
                let n = items.len();
                Box::pin(async move { vec![false; n] })
            }
        };
    }

    /// A `known` closure: the items with these platform ids were evaluated.
    macro_rules! known_ids {
        ($ids:expr) => {{
            let known: HashSet<&str> = $ids.iter().copied().collect();
            move |items: Vec<Item>| -> Pin<Box<dyn Future<Output = Vec<bool>> + Send>> {
                let v: Vec<bool> = items
                    .iter()
                    .map(|i| known.contains(i.platform_id.as_deref().unwrap_or("")))
                    .collect();
                Box::pin(async move { v })
            }
        }};
    }

    fn ctx<'a>(http: &'a HttpClient, known: &'a KnownFn<'a>, max_pages: u32) -> Context<'a> {
        let mut ctx = Context::new(http, "tg", known);
        ctx.lookback = Duration::from_secs(7 * 86_400);
        ctx.max_pages = max_pages;
        ctx.now = utc("2026-11-25T12:00:00Z");
        ctx
    }

    fn channels(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| (*s).to_owned()).collect()
    }

    fn log(tg: &Tg) -> Vec<String> {
        tg.log.lock().unwrap().clone()
    }

    #[tokio::test]
    async fn pages_back_until_the_first_message() {
        let (base, tg) = start(vec![
            ("koreawatchde", None, 200, PAGE1),
            ("koreawatchde", Some(9), 200, PAGE2),
        ])
        .await;
        let http = client(0);
        let known = nothing_known!();
        let h = read(&ctx(&http, &known, 10), &base, &channels(&["koreawatchde"])).await;
        assert_eq!(h.error, None);
        assert_eq!(h.cursor, None);
        assert_eq!(h.items.len(), 13);
        assert_eq!(
            ids(&h.items).first().copied(),
            Some("telegram:koreawatchde/10")
        );
        assert_eq!(
            ids(&h.items).last().copied(),
            Some("telegram:koreawatchde/8")
        );
        assert_eq!(log(&tg), ["koreawatchde", "koreawatchde?before=9"]);
    }

    #[tokio::test]
    async fn stops_at_a_page_with_nothing_new() {
        let (base, tg) = start(vec![
            ("koreawatchde", None, 200, PAGE1),
            ("koreawatchde", Some(9), 200, PAGE2),
        ])
        .await;
        let http = client(0);
        let all = known_ids!([
            "telegram:koreawatchde/10",
            "telegram:koreawatchde/11",
            "telegram:koreawatchde/12",
            "telegram:koreawatchde/13",
            "telegram:koreawatchde/14",
            "telegram:koreawatchde/16",
            "telegram:koreawatchde/17",
        ]);
        let h = read(&ctx(&http, &all, 10), &base, &channels(&["koreawatchde"])).await;
        assert_eq!((h.items.len(), h.error), (7, None));
        assert_eq!(log(&tg), ["koreawatchde"]);

        // One new message on the page is enough to go on.
        let (base, tg) = start(vec![
            ("koreawatchde", None, 200, PAGE1),
            ("koreawatchde", Some(9), 200, PAGE2),
        ])
        .await;
        let most = known_ids!([
            "telegram:koreawatchde/10",
            "telegram:koreawatchde/11",
            "telegram:koreawatchde/12",
            "telegram:koreawatchde/13",
            "telegram:koreawatchde/14",
            "telegram:koreawatchde/16",
        ]);
        let h = read(&ctx(&http, &most, 10), &base, &channels(&["koreawatchde"])).await;
        assert_eq!((h.items.len(), h.error), (13, None));
        assert_eq!(log(&tg), ["koreawatchde", "koreawatchde?before=9"]);
    }

    #[tokio::test]
    async fn stops_at_lookback_and_max_pages() {
        let (base, tg) = start(vec![
            ("koreawatchde", None, 200, PAGE1),
            ("koreawatchde", Some(9), 200, PAGE2),
        ])
        .await;
        let http = client(0);
        let known = nothing_known!();
        let mut c = ctx(&http, &known, 10);
        // Page 1 reaches back to 06:40 on the 24th: older than 12 h at 20:00.
        c.now = utc("2026-11-24T20:00:00Z");
        c.lookback = Duration::from_secs(12 * 3600);
        let h = read(&c, &base, &channels(&["koreawatchde"])).await;
        assert_eq!((h.items.len(), h.error), (7, None));
        assert_eq!(log(&tg), ["koreawatchde"]);

        let (base, tg) = start(vec![
            ("koreawatchde", None, 200, PAGE1),
            ("koreawatchde", Some(9), 200, PAGE2),
        ])
        .await;
        let h = read(&ctx(&http, &known, 1), &base, &channels(&["koreawatchde"])).await;
        assert_eq!((h.items.len(), h.error), (7, None));
        assert_eq!(log(&tg), ["koreawatchde"]);
    }

    #[tokio::test]
    async fn without_an_older_link_pages_by_the_smallest_id() {
        let history = |messages: &str| {
            format!(
                r#"<html><body><main class="tgme_main"><section class="tgme_channel_history js-message_history">{messages}</section></main></body></html>"#
            )
        };
        let msg = |id: u64| {
            format!(
                r#"<div class="tgme_widget_message_wrap js-widget_message_wrap"><div class="tgme_widget_message js-widget_message" data-post="durov/{id}"><div class="tgme_widget_message_bubble"><div class="tgme_widget_message_text js-message_text" dir="auto">Post {id}</div><div class="tgme_widget_message_footer compact js-message_footer"><a class="tgme_widget_message_date" href="https://t.me/durov/{id}"><time datetime="2026-11-24T10:{id:02}:00+00:00" class="time">10:{id:02}</time></a></div></div></div></div>"#
            )
        };
        let first = history(&(40..=42).map(msg).collect::<String>());
        let empty = history("");
        let (base, tg) = start(vec![
            ("durov", None, 200, &first),
            ("durov", Some(40), 200, &empty),
        ])
        .await;
        let http = client(0);
        let known = nothing_known!();
        let h = read(&ctx(&http, &known, 10), &base, &channels(&["durov"])).await;
        assert_eq!(
            ids(&h.items),
            [
                "telegram:durov/40",
                "telegram:durov/41",
                "telegram:durov/42"
            ]
        );
        assert_eq!(h.error, None);
        assert_eq!(log(&tg), ["durov", "durov?before=40"]);
    }

    #[tokio::test]
    async fn errors_keep_what_was_read_and_other_channels_go_on() {
        let (base, tg) = start(vec![
            ("koreawatchde", None, 200, PAGE1),
            ("koreawatchde", Some(9), 500, "oops"),
            ("durov", None, 200, PAGE2),
        ])
        .await;
        let http = client(0);
        let known = nothing_known!();
        let h = read(
            &ctx(&http, &known, 10),
            &base,
            &channels(&["koreawatchde", "nosuchchannel", "durov"]),
        )
        .await;
        // Page 1 of the first channel and the whole third one.
        assert_eq!(h.items.len(), 7 + 6);
        let error = h.error.unwrap_or_default();
        assert!(
            error.starts_with(&format!(
                "telegram channel \"koreawatchde\": {base}s/koreawatchde?before=9 answered HTTP 500. "
            )),
            "{error}"
        );
        assert!(
            error.ends_with(&format!(
                "telegram channel \"nosuchchannel\" has no public preview at {base}s/nosuchchannel; check that the name is a public channel (not a group, a user or a private channel)."
            )),
            "{error}"
        );
        assert_eq!(
            log(&tg),
            [
                "koreawatchde",
                "koreawatchde?before=9",
                "nosuchchannel",
                "durov"
            ]
        );
    }
}
