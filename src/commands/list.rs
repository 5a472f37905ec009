//! `mentions list`: the mentions a report counts for a topic, window and
//! filters, newest first. Without `--topic` every configured topic is
//! listed, one after the other (rows carry their topic). The machine
//! formats stream every row; text shows 50 per topic unless `--limit` says
//! otherwise, and how many more there are.

use super::{open_reads, Failure, Output};
use crate::cli::ListFormat;
use crate::config::Settings;
use crate::listing::{self, Selection};
use crate::report::{self, Window};
use crate::sources::Kind;
use crate::store::{ListFilter, Listed, Reads};
use std::process::ExitCode;

/// The flags of `list`, the window already read.
pub(super) struct ListArgs {
    pub topic: Option<String>,
    pub window: Window,
    pub kinds: Vec<Kind>,
    pub sources: Vec<String>,
    pub domains: Vec<String>,
    pub search: Option<String>,
    pub limit: Option<u64>,
    pub excluded: bool,
    pub format: ListFormat,
}

pub(super) fn list(settings: &Settings, args: ListArgs) -> Result<ExitCode, Failure> {
    let topics = report::select_topics(settings, args.topic.as_deref()).map_err(Failure::Usage)?;
    let search = args
        .search
        .as_deref()
        .map(|q| listing::parse_search("--search", q))
        .transpose()
        .map_err(Failure::Usage)?;
    let domains = args
        .domains
        .iter()
        .map(|d| listing::parse_domain("--domain", d))
        .collect::<Result<Vec<_>, _>>()
        .map_err(Failure::Usage)?;
    let mut kinds = args.kinds.clone();
    kinds.dedup();
    let selection = Selection {
        topics: topics.iter().map(|t| (*t).to_owned()).collect(),
        window: args.window,
        kinds,
        sources: args.sources.clone(),
        domains,
        search,
        excluded: args.excluded,
    };
    let store = open_reads(settings)?;
    let store = store.as_ref();
    if let Some(name) = listing::unknown_source(store, settings, &selection.sources)? {
        return Err(Failure::Usage(format!(
            "no source named {name:?} in {} or the database",
            settings.path.display()
        )));
    }
    let limit = args.limit.map(|n| usize::try_from(n).unwrap_or(usize::MAX));
    let mut out = Output::new();
    match args.format {
        ListFormat::Text => text(store, &selection, limit, &mut out)?,
        format => machine(store, &selection, limit, format, &mut out)?,
    }
    out.finish()?;
    Ok(ExitCode::SUCCESS)
}

/// Writes the rows of `filter` as `render` makes them, until stdout closes;
/// how many were written.
fn each(
    store: &dyn Reads,
    filter: &ListFilter,
    limit: Option<usize>,
    out: &mut Output,
    mut render: impl FnMut(&Listed) -> String,
) -> Result<usize, Failure> {
    let mut failed = None;
    let mut shown = 0usize;
    store.list(filter, limit, &mut |m| match out.write(&render(&m)) {
        Ok(open) => {
            shown += 1;
            open
        }
        Err(e) => {
            failed = Some(e);
            false
        }
    })?;
    match failed {
        Some(e) => Err(e),
        None => Ok(shown),
    }
}

fn text(
    store: &dyn Reads,
    selection: &Selection,
    limit: Option<usize>,
    out: &mut Output,
) -> Result<(), Failure> {
    let limit = limit.unwrap_or(listing::TEXT_ROWS);
    let excluded = selection.excluded;
    for (i, filter) in selection.filters().iter().enumerate() {
        let heading = listing::text_heading(&filter.topic, selection.window, excluded);
        if !out.write(&format!("{}{heading}", if i > 0 { "\n" } else { "" }))? {
            return Ok(());
        }
        let shown = each(store, filter, Some(limit), out, |m| {
            listing::text_row(m, excluded)
        })?;
        if shown == 0 {
            out.write(if excluded {
                "(no excluded mentions)\n"
            } else {
                "(no mentions)\n"
            })?;
        } else if shown == limit {
            let total = store.count_listed(filter)?;
            if total > shown as u64 {
                out.write(&listing::text_more(total - shown as u64))?;
            }
        }
    }
    Ok(())
}

fn machine(
    store: &dyn Reads,
    selection: &Selection,
    limit: Option<usize>,
    format: ListFormat,
    out: &mut Output,
) -> Result<(), Failure> {
    let excluded = selection.excluded;
    match format {
        ListFormat::Csv => {
            out.write(&listing::csv_header(excluded))?;
        }
        ListFormat::Json => {
            out.write("{\"mentions\": [")?;
        }
        _ => {}
    }
    let mut first = true;
    for filter in selection.filters() {
        each(store, &filter, limit, out, |m| match format {
            ListFormat::Csv => listing::csv_row(m, excluded),
            ListFormat::Ndjson => listing::json_row(m) + "\n",
            _ => {
                let sep = if first { "\n  " } else { ",\n  " };
                first = false;
                format!("{sep}{}", listing::json_row(m))
            }
        })?;
    }
    if format == ListFormat::Json {
        out.write(if first { "]}\n" } else { "\n]}\n" })?;
    }
    Ok(())
}
