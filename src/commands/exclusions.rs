//! `mentions exclusions`: every exclusion — what it takes out, for which
//! topic or source, why, since when, and how many mentions it excludes now.

use super::{open_reads, print, Failure};
use crate::cli::TextOrJson;
use crate::config::Settings;
use crate::listing::{self, ExclusionJson};
use std::process::ExitCode;

pub(super) fn exclusions(settings: &Settings, format: TextOrJson) -> Result<ExitCode, Failure> {
    let store = open_reads(settings)?;
    let store = store.as_ref();
    let all = store.exclusions()?;
    let text = match format {
        TextOrJson::Text => listing::exclusions_text(&all),
        TextOrJson::Json => {
            listing::pretty(&all.iter().map(ExclusionJson::from).collect::<Vec<_>>())
        }
    };
    print(&text)?;
    Ok(ExitCode::SUCCESS)
}
