//! `mentions prune`: applies retention now (SPEC §7) — mentions older than
//! `[database] retention`, bookkeeping older than twice the longest
//! lookback — and prints one line per kind of row with what it removed.

use super::{open_writes, print, Failure};
use crate::config::Settings;
use crate::store::RetentionPlan;
use std::process::ExitCode;

pub(super) fn prune(settings: &Settings) -> Result<ExitCode, Failure> {
    let mut store = open_writes(settings)?;
    let plan = RetentionPlan::new(
        chrono::Utc::now(),
        settings.retention,
        settings.longest_lookback(),
    );
    let pruned = store.prune(&plan, &|| true)?;
    let mut out = pruned.lines(&plan).join("\n");
    out.push('\n');
    print(&out)?;
    Ok(ExitCode::SUCCESS)
}
