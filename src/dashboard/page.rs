//! The dashboard's HTML, written with maud: every value from the database
//! or the config is escaped on the way in (a `<script>` in a feed title is
//! text), links to originals are only ever http(s), and nothing is inline
//! (no `style` or `script` in the page), so the Content-Security-Policy
//! can forbid both.

use super::assets;
use super::chart::{self, KINDS};
use super::data::{Explanation, PageData};
use super::params::{View, PRESETS};
use super::words::{number, words, Words};
use crate::config::{Lang, Settings};
use crate::report::{kind_label, Window};
use crate::sources::Kind;
use crate::store::{KindCounts, Listed};
use chrono::{DateTime, Utc};
use maud::{html, Markup, DOCTYPE};

/// Whether the page offers a sign-out button (a token is set).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Session {
    Open,
    SignedIn,
}

fn layout(w: &Words, title: &str, session: Session, lang_links: Markup, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(w.lang_code) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                title { (title) }
                link rel="stylesheet" href=(assets::url("dashboard.css"));
                link rel="icon" type="image/svg+xml" href=(assets::url("icon.svg"));
                script src=(assets::url("dashboard.js")) defer {}
            }
            body {
                a.skip href="#main" { (w.skip) }
                header.top {
                    h1 { a href="/" { "mentions" } }
                    (lang_links)
                    @if session == Session::SignedIn {
                        form.out method="post" action="/signout" {
                            button type="submit" { (w.sign_out) }
                        }
                    }
                }
                main #main { (body) }
            }
        }
    }
}

fn time_label(t: DateTime<Utc>) -> String {
    chart::time_label(t)
}

fn stored_time(s: Option<&str>) -> String {
    s.and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| time_label(t.with_timezone(&Utc)))
        .unwrap_or_else(|| "–".to_owned())
}

fn window_label(window: Window) -> String {
    format!(
        "{} – {} UTC",
        time_label(window.from),
        time_label(window.to)
    )
}

/// Only http(s) links are links; anything else (`javascript:`) is text.
fn web_link(url: &str) -> Option<&str> {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://")).then_some(url)
}

fn kind_count(c: &KindCounts, k: Kind) -> u64 {
    match k {
        Kind::Web => c.web,
        Kind::Social => c.social,
        Kind::Forum => c.forum,
    }
}

/// The change against the previous window: CSS class and text.
fn delta(now: u64, before: u64, lang: Lang) -> (&'static str, String) {
    let w = words(lang);
    if now == before {
        return ("same", format!("±0 ({})", w.unchanged));
    }
    let diff = now.abs_diff(before);
    let (class, sign) = if now > before {
        ("up", '+')
    } else {
        ("down", '−')
    };
    let pct = if before == 0 {
        w.new_since.to_owned()
    } else {
        let p = (diff as f64 * 100.0 / before as f64).round() as u64;
        match lang {
            Lang::En => format!("{sign}{p}%"),
            Lang::De => format!("{sign}{p} %"),
        }
    };
    (class, format!("{sign}{} ({pct})", number(diff, lang)))
}

/// Links to this page in each language; `path` is the page's path.
fn lang_links(view: &View, path: &str) -> Markup {
    html! {
        nav.langs aria-label="Language / Sprache" {
            @for (lang, code) in [(Lang::En, "EN"), (Lang::De, "DE")] {
                a href=(view.with_lang(lang).url(path)) hreflang=(code.to_ascii_lowercase())
                    aria-current=[(view.lang == lang).then_some("true")] { (code) }
            }
        }
    }
}

fn pickers(view: &View, settings: &Settings) -> Markup {
    let w = words(view.lang);
    let base = view.unfiltered();
    let input_time = |t: DateTime<Utc>| t.format("%Y-%m-%dT%H:%M").to_string();
    html! {
        form.pickers method="get" action="/" {
            div {
                label for="topic" { (w.topic) }
                select #topic name="topic" data-autosubmit {
                    @for t in &settings.topics {
                        option value=(t.name) selected[t.name == view.topic] { (t.name) }
                    }
                }
            }
            fieldset {
                legend { (w.window) }
                div.presets {
                    @for p in PRESETS {
                        a href=(base.with_since(p).url("/")) aria-current=[(view.since.as_deref() == Some(p)).then_some("true")] {
                            (p.replace('h', " h").replace('d', " d"))
                        }
                    }
                }
            }
            fieldset {
                legend { (w.custom) " (UTC)" }
                div.range {
                    label for="from" { (w.from) }
                    input #from type="datetime-local" name="from"
                        value=[view.since.is_none().then(|| input_time(view.window.from))];
                    label for="to" { (w.to) }
                    input #to type="datetime-local" name="to"
                        value=[view.since.is_none().then(|| input_time(view.window.to))];
                }
            }
            @if let Some(s) = &view.since { input type="hidden" name="since" value=(s); }
            @if view.lang_given { input type="hidden" name="lang" value=(view.lang_code()); }
            button type="submit" { (w.show) }
        }
    }
}

fn footer_section(view: &View, data: &PageData) -> Markup {
    let w = words(view.lang);
    let lang = view.lang;
    let r = &data.report;
    let now = KindCounts {
        web: r.counts.web,
        social: r.counts.social,
        forum: r.counts.forum,
    };
    // The footer's heading line, "Quellen gesamt", as the text report has it.
    let total_word = data.footer.lines().rev().nth(1).unwrap_or(w.total);
    let (tclass, ttext) = delta(r.total, data.previous.total(), lang);
    html! {
        section #footer aria-labelledby="h-footer" {
            h2 #h-footer { (total_word) " · " (window_label(view.window)) }
            div.cards {
                @for (kind, _) in KINDS {
                    @let n = kind_count(&now, kind);
                    @let (class, text) = delta(n, kind_count(&data.previous, kind), lang);
                    div class=(format!("card {}", kind.as_str())) {
                        div.k { (kind_label(kind, lang)) }
                        div.v data-kind=(kind.as_str()) data-value=(n) { (number(n, lang)) }
                        div class=(format!("delta {class}")) { (text) }
                    }
                }
                div.card.total {
                    div.k { (w.total) }
                    div.v data-kind="total" data-value=(r.total) { (number(r.total, lang)) }
                    div class=(format!("delta {tclass}")) { (ttext) }
                }
            }
            p.note #previous data-from=(data.previous_window.from.timestamp()) {
                (w.previous) " (" (window_label(data.previous_window)) ": "
                (number(data.previous.total(), lang)) ")"
            }
            pre.footer #footer-text { (data.footer) }
            p.note { (w.footer_note) }
        }
    }
}

fn chart_section(view: &View, data: &PageData) -> Markup {
    let w = words(view.lang);
    let lang = view.lang;
    let bar = |p: &crate::store::SeriesPoint| {
        view.with_part(Window {
            from: p.start,
            to: p.end,
        })
        .url("/")
            + "#mentions"
    };
    let kind = |k: Kind| view.with_kind(k).url("/") + "#mentions";
    html! {
        section #chart aria-labelledby="h-chart" {
            h2 #h-chart { (w.chart) }
            @match &data.chart {
                Ok(c) => {
                    figure {
                        div.chartbox { (chart::svg(c, lang, Some(&bar), Some(&kind))) }
                        figcaption.note {
                            (w.chart_hint)
                            @if !c.alerts.is_empty() { " " (w.alerts_marked) }
                        }
                    }
                    details {
                        summary { (w.chart_table) }
                        div.scroll {
                            table #chart-table {
                                thead { tr {
                                    th scope="col" { (w.bucket) }
                                    @for (k, _) in KINDS { th.n scope="col" { (kind_label(k, lang)) } }
                                    th.n scope="col" { (w.total) }
                                } }
                                tbody {
                                    @for (label, p) in chart::rows(c) {
                                        tr {
                                            th scope="row" { (label) }
                                            @for (k, _) in KINDS { td.n { (number(chart::kind_count(p, k), lang)) } }
                                            td.n { (number(p.counts.total(), lang)) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                Err(_) => { p.note { (w.chart_too_long) } }
            }
        }
    }
}

fn tops(view: &View, data: &PageData) -> Markup {
    let w = words(view.lang);
    let lang = view.lang;
    html! {
        div.grid2 {
            section #domains aria-labelledby="h-domains" {
                h2 #h-domains { (w.top_domains) }
                @if data.report.references.is_empty() {
                    p.note { (w.none_yet) }
                } @else {
                    table {
                        thead { tr { th.n scope="col" { "#" } th scope="col" { (w.domain) } th.n scope="col" { (kind_label(Kind::Web, lang)) } } }
                        tbody {
                            @for (i, r) in data.report.references.iter().enumerate() {
                                tr {
                                    td.n { (i + 1) }
                                    td { a href=(view.with_domain(&r.domain).url("/") + "#mentions") { (r.domain) } }
                                    td.n data-value=(r.mentions) { (number(r.mentions, lang)) }
                                }
                            }
                        }
                    }
                }
            }
            section #sources aria-labelledby="h-sources" {
                h2 #h-sources { (w.top_sources) }
                @if data.top_sources.is_empty() {
                    p.note { (w.none_yet) }
                } @else {
                    table {
                        thead { tr { th scope="col" { (w.source) } th scope="col" { (w.kind) } th.n scope="col" { (w.mentions_col) } } }
                        tbody {
                            @for s in &data.top_sources {
                                tr {
                                    td { a href=(view.with_source(&s.name).url("/") + "#mentions") { (s.name) } }
                                    td { (kind_badge(s.kind, lang)) }
                                    td.n data-value=(s.mentions) { (number(s.mentions, lang)) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn kind_badge(kind: &str, lang: Lang) -> Markup {
    let label = Kind::parse(kind).map_or(kind, |k| kind_label(k, lang));
    html! { span class=(format!("kind {kind}")) { (label) } }
}

fn health_section(view: &View, data: &PageData) -> Markup {
    let w = words(view.lang);
    let lang = view.lang;
    html! {
        section #health aria-labelledby="h-health" {
            h2 #h-health { (w.health) }
            div.scroll {
                table {
                    thead { tr {
                        th scope="col" { (w.source) }
                        th scope="col" { (w.kind) }
                        th scope="col" { (w.status) }
                        th scope="col" { (w.last_success) }
                        th scope="col" { (w.last_error) }
                    } }
                    tbody {
                        @for s in &data.health {
                            @let failing = s.consecutive_failures > 0;
                            tr.failing[failing] data-source=(s.name) {
                                td { (s.name) }
                                td { (kind_badge(s.kind, lang)) }
                                td {
                                    @if !s.enabled { (w.disabled) }
                                    @else if failing { span.status-bad { (w.failing) " (" (s.consecutive_failures) "×)" } }
                                    @else if s.last_run.is_none() { (w.never_run) }
                                    @else { span.status-ok { (w.ok) } }
                                }
                                td { (stored_time(s.last_success.as_deref())) }
                                td.err { @if let Some(e) = &s.last_error { (e) } }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn excerpt(text: &str) -> String {
    let mut out: String = text.chars().take(160).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    out
}

fn list_row(view: &View, m: &Listed) -> Markup {
    let w = words(view.lang);
    let lang = view.lang;
    let explain = format!("/mentions/{}?{}", m.id, &view.url("")[1..]);
    html! {
        tr data-id=(m.id) data-kind=(m.kind.as_str()) {
            td {
                time datetime=(m.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)) { (time_label(m.at)) }
                @if m.undated { br; small.note { (w.undated) } }
            }
            td { (kind_badge(m.kind.as_str(), lang)) }
            td.src { a href=(view.with_source(&m.source).url("/") + "#mentions") { (m.source) } }
            td.dom {
                @if let Some(d) = &m.domain { a href=(view.with_domain(d).url("/") + "#mentions") { (d) } }
            }
            td.title {
                @match web_link(&m.url) {
                    Some(url) => { a.orig href=(url) rel="noopener noreferrer nofollow" { (m.title) } }
                    None => { span.orig { (m.title) } " " small { "(" (w.no_link) ")" } }
                }
                @if !m.excerpt.is_empty() { small { (excerpt(&m.excerpt)) } }
            }
            td { a.explain href=(explain) { (w.explain) } }
        }
    }
}

fn chips(view: &View) -> Markup {
    let w = words(view.lang);
    let lang = view.lang;
    let without = |f: &dyn Fn(&mut View)| {
        let mut v = view.first_page();
        f(&mut v);
        v.url("/") + "#mentions"
    };
    html! {
        @if view.filtered() {
            ul.chips aria-label=(w.filtered_by) {
                @if let Some(p) = view.part {
                    li { (w.period) ": " (window_label(p)) " " a href=(without(&|v| v.part = None)) { (w.remove_filter) } }
                }
                @for k in &view.kinds {
                    li { (w.kind) ": " (kind_label(*k, lang)) " " a href=(without(&|v| v.kinds.retain(|x| x != k))) { (w.remove_filter) } }
                }
                @for s in &view.sources {
                    li { (w.source) ": " (s) " " a href=(without(&|v| v.sources.retain(|x| x != s))) { (w.remove_filter) } }
                }
                @for d in &view.domains {
                    li { (w.domain) ": " (d) " " a href=(without(&|v| v.domains.retain(|x| x != d))) { (w.remove_filter) } }
                }
                @if let Some(q) = &view.q {
                    li { (w.search) ": " (q) " " a href=(without(&|v| v.q = None)) { (w.remove_filter) } }
                }
            }
        }
    }
}

fn list_section(view: &View, data: &PageData) -> Markup {
    let w = words(view.lang);
    let lang = view.lang;
    let base = view.first_page();
    let first = view.skipped + 1;
    let last = view.skipped + data.rows.len() as u64;
    html! {
        section #mentions aria-labelledby="h-mentions" {
            h2 #h-mentions { (w.list) }
            form.filters method="get" action="/#mentions" {
                input type="hidden" name="topic" value=(view.topic);
                @match &view.since {
                    Some(s) => { input type="hidden" name="since" value=(s); }
                    None => {
                        input type="hidden" name="from" value=(view.window.from.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
                        input type="hidden" name="to" value=(view.window.to.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
                    }
                }
                @if view.lang_given { input type="hidden" name="lang" value=(view.lang_code()); }
                @if let Some(p) = view.part {
                    input type="hidden" name="lfrom" value=(p.from.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
                    input type="hidden" name="lto" value=(p.to.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
                }
                fieldset.kinds {
                    legend.sr { (w.kind) }
                    @for (k, _) in KINDS {
                        label {
                            input type="checkbox" name="kind" value=(k.as_str()) checked[view.kinds.contains(&k)] data-autosubmit;
                            " " (kind_label(k, lang))
                        }
                    }
                }
                div {
                    label for="f-source" { (w.source) }
                    select #f-source name="source" data-autosubmit {
                        option value="" { (w.all_sources) }
                        @for s in &data.report.sources {
                            option value=(s.name) selected[view.sources.first() == Some(&s.name)] { (s.name) }
                        }
                    }
                }
                div {
                    label for="f-domain" { (w.domain) }
                    input #f-domain type="text" name="domain" list="f-domains" size="18"
                        value=[view.domains.first()];
                    datalist #f-domains {
                        @for r in &data.report.references { option value=(r.domain) {} }
                    }
                }
                div {
                    label for="f-q" { (w.search) }
                    input #f-q type="search" name="q" size="22" value=[view.q.as_deref()]
                        title=(w.search_hint) placeholder=(w.search_hint);
                }
                button type="submit" { (w.filter) }
                @if view.filtered() { a href=(view.unfiltered().url("/") + "#mentions") { (w.reset) } }
            }
            (chips(view))
            div.listhead {
                p #listed data-value=(data.listed) {
                    strong { (number(data.listed, lang)) } " " (w.listed)
                    @if !data.rows.is_empty() {
                        " · " (w.showing) " " (number(first, lang)) "–" (number(last, lang))
                    }
                }
                p {
                    (w.download) ": "
                    a href=(base.url("/mentions.csv")) download { "CSV" } " · "
                    a href=(base.url("/mentions.json")) download { "JSON" }
                }
            }
            @if data.rows.is_empty() {
                p.note { (w.no_mentions) }
            } @else {
                div.scroll {
                    table.list {
                        thead { tr {
                            th scope="col" { (w.time) }
                            th scope="col" { (w.kind) }
                            th.src scope="col" { (w.source) }
                            th.dom scope="col" { (w.domain) }
                            th scope="col" { (w.title_col) }
                            th scope="col" { span.sr { (w.explain) } }
                        } }
                        tbody { @for m in &data.rows { (list_row(view, m)) } }
                    }
                }
            }
            nav.pager aria-label=(w.list) {
                @if view.after.is_some() { a href=(base.url("/") + "#mentions") { "« " (w.first_page) } }
                @if let Some(cursor) = data.next {
                    a rel="next" href=(view.next_page(cursor, data.rows.len() as u64).url("/") + "#mentions") { (w.next_page) " »" }
                }
            }
        }
    }
}

/// The dashboard for one view.
pub fn dashboard(view: &View, data: &PageData, settings: &Settings, session: Session) -> Markup {
    let w = words(view.lang);
    let title = format!(
        "{} · {} · {}",
        view.topic,
        window_label(view.window),
        w.title
    );
    let body = html! {
        (pickers(view, settings))
        (footer_section(view, data))
        (chart_section(view, data))
        (tops(view, data))
        (health_section(view, data))
        (list_section(view, data))
        p.note { (w.times_utc) }
    };
    layout(w, &title, session, lang_links(view, "/"), body)
}

/// One mention, its matched terms and every sighting merged into it.
pub fn explain(view: &View, x: &Explanation, session: Session) -> Markup {
    let w = words(view.lang);
    let lang = view.lang;
    let m = &x.explained.mention;
    let title = format!("{} #{} · {}", w.explain_title, m.id, w.title);
    let body = html! {
        p { a href=(view.url("/") + "#mentions") { "« " (w.back) } }
        h2 { (w.explain_title) " #" (m.id) }
        @if m.excluded_by.is_some() { p.error-box role="status" { (w.excluded) } }
        dl.facts {
            dt { (w.title_col) }
            dd #explain-title {
                @match web_link(&m.url) {
                    Some(url) => { a href=(url) rel="noopener noreferrer nofollow" { (m.title) } }
                    None => { (m.title) }
                }
            }
            @if !m.excerpt.is_empty() { dt { (w.excerpt) } dd { (m.excerpt) } }
            dt { (w.topic) } dd { (m.topic) }
            dt { (w.kind) } dd { (kind_badge(m.kind.as_str(), lang)) }
            dt { (w.time) } dd {
                (time_label(m.at))
                @if m.undated { " (" (w.undated) ")" }
            }
            dt { (w.source) } dd { (m.source) }
            @if let Some(d) = &m.domain { dt { (w.domain) } dd { (d) } }
            @if let Some(a) = &m.author { dt { (w.author) } dd { (a) } }
            @if let Some(l) = &m.lang { dt { (w.language_of_text) } dd { (l) } }
            @if !m.url.is_empty() { dt { (w.link) } dd { (m.url) } }
            dt { (w.sightings) } dd #sightings-count {
                @match m.sightings { Some(n) => { (n) } None => { "–" } }
            }
        }
        h3 { (w.matched) }
        @match &x.matched {
            Some(terms) if !terms.is_empty() => {
                ul #matched { @for t in terms { li { code { (t) } } } }
            }
            _ => { p.note { (w.nothing_matched) } }
        }
        h3 { (w.sightings) }
        div.scroll {
            table #sightings {
                thead { tr {
                    th scope="col" { (w.seen_at) }
                    th scope="col" { (w.source) }
                    th scope="col" { (w.seen_as) }
                    th scope="col" { (w.rule) }
                    th scope="col" { (w.detail) }
                } }
                tbody {
                    @for s in &x.explained.sightings {
                        tr data-rule=(s.rule.name()) {
                            td { (time_label(s.seen_at)) }
                            td { (s.source) }
                            td.title {
                                @match web_link(&s.url) {
                                    Some(url) => { a href=(url) rel="noopener noreferrer nofollow" { (s.url) } }
                                    None => { (s.url) }
                                }
                            }
                            td { code { (s.rule.name()) } }
                            td { @if let Some(d) = &s.detail { (d) } }
                        }
                    }
                }
            }
        }
        @if x.explained.pruned > 0 { p.note { (x.explained.pruned) " " (w.pruned) } }
        @if m.sightings.is_none() { p.note { (w.before_sightings) } }
    };
    layout(
        w,
        &title,
        session,
        lang_links(view, &format!("/mentions/{}", m.id)),
        body,
    )
}

/// The sign-in form; `failed` after a wrong token.
pub fn sign_in(lang: Lang, next: &str, failed: bool) -> Markup {
    let w = words(lang);
    let body = html! {
        div.signin {
            h2 { (w.sign_in) }
            p { (w.sign_in_hint) }
            @if failed { p.error-box role="alert" #signin-error { (w.wrong_token) } }
            form method="post" action="/signin" {
                label for="token" { (w.token) }
                input #token type="password" name="token" autocomplete="current-password" required autofocus;
                input type="hidden" name="next" value=(next);
                input type="hidden" name="lang" value=(w.lang_code);
                button type="submit" { (w.sign_in) }
            }
        }
    };
    layout(
        w,
        &format!("{} · {}", w.sign_in, w.title),
        Session::Open,
        html! {},
        body,
    )
}

/// A page that says what went wrong, in plain words.
pub fn problem(lang: Lang, heading: &str, detail: &str, session: Session) -> Markup {
    let w = words(lang);
    let body = html! {
        div.error-box role="alert" {
            h2 { (heading) }
            @if !detail.is_empty() { p { (detail) } }
        }
        p { a href="/" { "« " (w.back) } }
    };
    layout(
        w,
        &format!("{heading} · {}", w.title),
        session,
        html! {},
        body,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_web_links_are_links() {
        assert_eq!(web_link("https://taz.de/a"), Some("https://taz.de/a"));
        assert_eq!(web_link("HTTP://taz.de/a"), Some("HTTP://taz.de/a"));
        assert_eq!(web_link("javascript:alert(1)"), None);
        assert_eq!(web_link(" https://x"), None);
        assert_eq!(web_link(""), None);
    }

    #[test]
    fn changes_read_like_a_newsroom_writes_them() {
        assert_eq!(delta(12, 10, Lang::En), ("up", "+2 (+20%)".into()));
        assert_eq!(delta(5, 10, Lang::De), ("down", "−5 (−50 %)".into()));
        assert_eq!(delta(3, 0, Lang::De), ("up", "+3 (neu)".into()));
        assert_eq!(delta(4, 4, Lang::En), ("same", "±0 (unchanged)".into()));
        assert_eq!(delta(2000, 1000, Lang::De).1, "+1.000 (+100 %)");
    }
}
