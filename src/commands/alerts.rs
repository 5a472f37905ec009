//! `mentions alerts`: the alerts fired in a window.

use super::{open_reads, print, Failure};
use crate::config::Settings;
use crate::report::Window;
use std::process::ExitCode;

pub(super) fn alerts(settings: &Settings, since: Option<&str>) -> Result<ExitCode, Failure> {
    let window =
        Window::from_args(since, None, None, chrono::Utc::now()).map_err(Failure::Usage)?;
    let store = open_reads(settings)?;
    let fired = store.fired_alerts(window.from)?;
    print(&crate::alerts::render_list(&fired, window.from))?;
    Ok(ExitCode::SUCCESS)
}
