//! `mentions report`: counts per kind for a window, as text, JSON or CSV,
//! or the chart of mentions over time as an SVG document.

use super::{open_reads, print, Failure};
use crate::cli::Format;
use crate::config::{Lang, Settings};
use crate::dashboard::chart;
use crate::report::{self, Window};
use std::process::ExitCode;

pub(super) fn report(
    settings: &Settings,
    topic: Option<&str>,
    window: Window,
    format: Format,
    lang: Lang,
    top: usize,
) -> Result<ExitCode, Failure> {
    let topics = report::select_topics(settings, topic).map_err(Failure::Usage)?;
    let store = open_reads(settings)?;
    let store = store.as_ref();
    let reports = report::build(store, settings, &topics, window, top)?;
    let text = match format {
        Format::Text => report::render_text(&reports, lang),
        Format::Json => report::render_json(&reports, topic.is_some()),
        Format::Csv => report::render_csv(&reports),
        Format::Svg => {
            chart::drawable(window).map_err(Failure::Usage)?;
            let charts = topics
                .iter()
                .map(|t| chart::load(store, t, window))
                .collect::<Result<Vec<_>, _>>()?;
            chart::document(&charts, lang)
        }
    };
    print(&text)?;
    Ok(ExitCode::SUCCESS)
}
