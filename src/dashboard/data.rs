//! Everything the dashboard shows for one view, read in one go from the
//! code behind the commands: the report of `report::build` (counts, top
//! domains, sources and their health), the footer `render_text` prints,
//! the chart's series, and the rows of `Store::list`. No figure on the page
//! is computed anywhere else.

use super::chart::{self, Chart};
use super::params::View;
use crate::config::Settings;
use crate::report::{self, SourceLine, TopicReport, Window};
use crate::sources::Kind;
use crate::store::{Explained, KindCounts, Listed, Reads, StoreError};

/// Mentions per page of the list.
pub const PAGE_SIZE: usize = 50;
/// Rows in the top domains and top sources.
pub const TOP: usize = 10;

/// The figures of one dashboard view.
#[derive(Debug, Clone)]
pub struct PageData {
    /// The report of the topic and window, with the top `TOP` domains (or
    /// more when `[report] top_references` asks for more).
    pub report: TopicReport,
    /// The text footer exactly as `mentions report` prints it.
    pub footer: String,
    pub previous_window: Window,
    /// The counts of the window before, of the same length.
    pub previous: KindCounts,
    /// The chart, or why it cannot be drawn (a window too long).
    pub chart: Result<Chart, String>,
    /// Sources with mentions in the window, most first.
    pub top_sources: Vec<SourceLine>,
    /// The topic's sources, failing ones first.
    pub health: Vec<SourceLine>,
    /// This page of the list, newest first.
    pub rows: Vec<Listed>,
    /// How many mentions the list's filters select.
    pub listed: u64,
    /// The cursor of the next page, when there is one.
    pub next: Option<(i64, i64)>,
}

/// Reads the figures of `view`.
pub fn load(store: &dyn Reads, settings: &Settings, view: &View) -> Result<PageData, StoreError> {
    let top = TOP.max(settings.report.top_references);
    let report = report::build(store, settings, &[view.topic.as_str()], view.window, top)?
        .pop()
        .ok_or_else(|| StoreError::Task("the report has no topic".into()))?;
    let mut short = report.clone();
    short.references.truncate(settings.report.top_references);
    let footer = report::render_text(&[short], view.lang);
    let previous_window = view.previous_window();
    let previous = store.counts(&view.topic, previous_window.from, previous_window.to)?;
    let chart = match chart::drawable(view.window) {
        Ok(()) => Ok(chart::load(store, &view.topic, view.window)?),
        Err(e) => Err(e),
    };

    let mut top_sources: Vec<SourceLine> = report
        .sources
        .iter()
        .filter(|s| s.mentions > 0)
        .cloned()
        .collect();
    top_sources.sort_by(|a, b| b.mentions.cmp(&a.mentions).then(a.name.cmp(&b.name)));
    top_sources.truncate(TOP);
    let mut health = report.sources.clone();
    health.sort_by(|a, b| {
        b.consecutive_failures
            .min(1)
            .cmp(&a.consecutive_failures.min(1))
            .then(b.consecutive_failures.cmp(&a.consecutive_failures))
            .then(a.name.cmp(&b.name))
    });

    let filter = view.list_filter();
    let mut rows = Vec::with_capacity(PAGE_SIZE + 1);
    store.list(&filter, Some(PAGE_SIZE + 1), &mut |m| {
        rows.push(m);
        true
    })?;
    let next = (rows.len() > PAGE_SIZE).then(|| {
        rows.truncate(PAGE_SIZE);
        rows.last().map(|m| (m.at_secs, m.id))
    });
    // Without domain or search filters the list holds exactly the report's
    // mentions of the chosen kinds or sources (`list` and `report` agree by
    // construction, and tests hold them to it); the count tables give that
    // number without reading the rows.
    let w = view.list_window();
    let listed = if !view.domains.is_empty() || view.q.is_some() {
        store.count_listed(&filter)?
    } else if !view.sources.is_empty() {
        if view.kinds.is_empty() {
            let by_source = store.mentions_by_source(&view.topic, w.from, w.to)?;
            view.sources
                .iter()
                .map(|s| by_source.get(s).copied().unwrap_or(0))
                .sum()
        } else {
            store.count_listed(&filter)?
        }
    } else {
        let counts = if w == view.window {
            KindCounts {
                web: report.counts.web,
                social: report.counts.social,
                forum: report.counts.forum,
            }
        } else {
            store.counts(&view.topic, w.from, w.to)?
        };
        let wanted = |k: Kind| view.kinds.is_empty() || view.kinds.contains(&k);
        [
            (Kind::Web, counts.web),
            (Kind::Social, counts.social),
            (Kind::Forum, counts.forum),
        ]
        .into_iter()
        .filter(|&(k, _)| wanted(k))
        .map(|(_, n)| n)
        .sum()
    };
    Ok(PageData {
        report,
        footer,
        previous_window,
        previous,
        chart,
        top_sources,
        health,
        rows,
        listed,
        next: next.flatten(),
    })
}

/// One mention for its explain view: the mention and its sightings, and
/// the terms of its topic's query that its title and excerpt hold.
#[derive(Debug, Clone)]
pub struct Explanation {
    pub explained: Explained,
    /// None when the topic is no longer configured.
    pub matched: Option<Vec<String>>,
}

/// Reads mention `id` with its sightings; None when there is no such mention.
pub fn explain(
    store: &dyn Reads,
    settings: &Settings,
    id: i64,
) -> Result<Option<Explanation>, StoreError> {
    let Some(explained) = store.explain(id)? else {
        return Ok(None);
    };
    let m = &explained.mention;
    let matched = settings.topics.iter().find(|t| t.name == m.topic).map(|t| {
        let text = crate::text::normalize(&format!("{}\n{}", m.title, m.excerpt));
        let tokens: Vec<&str> = crate::text::token_slices(&text).collect();
        t.query.matched_terms(&tokens)
    });
    Ok(Some(Explanation { explained, matched }))
}
