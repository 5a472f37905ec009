//! The commands behind the CLI: each loads what it needs, does its work and
//! says how it ended. Output goes to stdout; a closed stdout is not an error.

use crate::cli::{Cli, Command, Format, LangArg};
use crate::config::{Lang, Settings};
use crate::crawl::{self, SharedStore};
use crate::http::HttpClient;
use crate::report::{self, Window};
use crate::store::{SourceOutcome, Store};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

/// How a command failed: `Usage` exits 2, `Runtime` exits 1.
#[derive(Debug)]
pub enum Failure {
    Usage(String),
    Runtime(String),
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<ExitCode, Failure> {
    let config_path = cli
        .config
        .clone()
        .unwrap_or_else(|| PathBuf::from("config.toml"));
    let settings = Settings::load(&config_path).map_err(|e| Failure::Usage(e.to_string()))?;
    match cli.command {
        Command::Check => check(&settings),
        Command::Crawl { sources, topics } => crawl(settings, &sources, &topics),
        Command::Report {
            topic,
            since,
            from,
            to,
            format,
            lang,
            top,
        } => {
            let window = Window::from_args(
                since.as_deref(),
                from.as_deref(),
                to.as_deref(),
                chrono::Utc::now(),
            )
            .map_err(Failure::Usage)?;
            let lang = match lang {
                Some(LangArg::En) => Lang::En,
                Some(LangArg::De) => Lang::De,
                None => settings.report.language,
            };
            report(
                &settings,
                topic.as_deref(),
                window,
                format,
                lang,
                top.unwrap_or(settings.report.top_references),
            )
        }
        Command::Sources { format } => sources(&settings, format),
        Command::Run => crate::daemon::run(settings),
        Command::Alerts { since } => {
            let window = Window::from_args(since.as_deref(), None, None, chrono::Utc::now())
                .map_err(Failure::Usage)?;
            let store = open_store(&settings)?;
            let fired = store
                .fired_alerts(window.from)
                .map_err(|e| Failure::Runtime(e.to_string()))?;
            print(&crate::alerts::render_list(&fired, window.from))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Writes to stdout; a closed pipe (`| head`) ends quietly.
fn print(text: &str) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Failure::Runtime(format!("cannot write to stdout: {e}"))),
    }
}

pub(crate) fn open_store(settings: &Settings) -> Result<Store, Failure> {
    Store::open(&settings.database).map_err(|e| {
        Failure::Usage(format!(
            "{e} (set [database] path in {})",
            settings.path.display()
        ))
    })
}

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Runtime(format!("cannot start the async runtime: {e}")))
}

fn check(settings: &Settings) -> Result<ExitCode, Failure> {
    let store = open_store(settings)?;
    let version = store
        .schema_version()
        .map_err(|e| Failure::Usage(e.to_string()))?;
    let mut out = format!(
        "{}: OK\ndatabase: {} (schema version {version})\ntopics: {}\n",
        settings.path.display(),
        settings.database.display(),
        settings.topics.len()
    );
    for t in &settings.topics {
        out.push_str(&format!("  {}: {}\n", t.name, t.text));
    }
    let enabled = settings.sources.iter().filter(|s| s.enabled).count();
    out.push_str(&format!(
        "sources: {} ({enabled} enabled)\n",
        settings.sources.len()
    ));
    for s in &settings.sources {
        let topics: Vec<&str> = s
            .topics
            .iter()
            .filter_map(|&t| settings.topics.get(t).map(|t| t.name.as_str()))
            .collect();
        out.push_str(&format!(
            "  {}: {} ({}), schedule \"{}\"{}, topics: {}\n",
            s.name,
            s.spec.type_name(),
            s.kind.as_str(),
            s.schedule.text,
            if s.enabled { "" } else { ", disabled" },
            topics.join(", ")
        ));
    }
    print(&out)?;
    Ok(ExitCode::SUCCESS)
}

fn crawl(
    settings: Settings,
    only_sources: &[String],
    only_topics: &[String],
) -> Result<ExitCode, Failure> {
    let name_list = |names: Vec<&str>| names.join(", ");
    let mut sources = Vec::new();
    for name in only_sources {
        let index = settings
            .sources
            .iter()
            .position(|s| &s.name == name)
            .ok_or_else(|| {
                Failure::Usage(format!(
                    "no source named {name:?} in {}; configured sources: {}",
                    settings.path.display(),
                    name_list(settings.sources.iter().map(|s| s.name.as_str()).collect())
                ))
            })?;
        sources.push(index);
    }
    if only_sources.is_empty() {
        sources = (0..settings.sources.len())
            .filter(|&i| settings.sources[i].enabled)
            .collect();
    }
    let topics = if only_topics.is_empty() {
        None
    } else {
        let mut topics = Vec::new();
        for name in only_topics {
            topics.push(
                settings
                    .topics
                    .iter()
                    .position(|t| &t.name == name)
                    .ok_or_else(|| {
                        Failure::Usage(format!(
                            "no topic named {name:?} in {}; configured topics: {}",
                            settings.path.display(),
                            name_list(settings.topics.iter().map(|t| t.name.as_str()).collect())
                        ))
                    })?,
            );
        }
        Some(topics)
    };
    let store: SharedStore = Arc::new(Mutex::new(open_store(&settings)?));
    let http = HttpClient::new(settings.http.clone()).map_err(|e| Failure::Usage(e.to_string()))?;
    let settings = Arc::new(settings);
    // A progress bar for people at a terminal; plain lines for logs and pipes.
    let bar = if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        let bar = indicatif::ProgressBar::new(sources.len() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} [{bar:30}] {pos}/{len} sources {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        Some(bar)
    } else {
        None
    };
    let on_done = |r: &crawl::SourceReport| match &bar {
        Some(bar) => {
            bar.set_message(r.name.clone());
            bar.inc(1);
        }
        None => tracing::info!("{r}"),
    };
    let reports = runtime()?.block_on(crawl::crawl_pass(
        settings, http, store, sources, topics, &on_done,
    ));
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let mut out = String::new();
    for r in &reports {
        out.push_str(&r.to_string());
        out.push('\n');
    }
    print(&out)?;
    let failed = reports
        .iter()
        .filter(|r| matches!(r.outcome, SourceOutcome::Failed(_)))
        .count();
    if failed > 0 {
        eprintln!(
            "mentions: {failed} of {} sources failed; what the others brought is stored",
            reports.len()
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

fn report(
    settings: &Settings,
    topic: Option<&str>,
    window: Window,
    format: Format,
    lang: Lang,
    top: usize,
) -> Result<ExitCode, Failure> {
    let topics = report::select_topics(settings, topic).map_err(Failure::Usage)?;
    let store = open_store(settings)?;
    let reports = report::build(&store, settings, &topics, window, top)
        .map_err(|e| Failure::Runtime(e.to_string()))?;
    let text = match format {
        Format::Text => report::render_text(&reports, lang),
        Format::Json => report::render_json(&reports, topic.is_some()),
        Format::Csv => report::render_csv(&reports),
    };
    print(&text)?;
    Ok(ExitCode::SUCCESS)
}

fn sources(settings: &Settings, format: Format) -> Result<ExitCode, Failure> {
    let store = open_store(settings)?;
    let health = store
        .source_health()
        .map_err(|e| Failure::Runtime(e.to_string()))?;
    let now = chrono::Utc::now();
    let rows: Vec<serde_json::Value> = settings
        .sources
        .iter()
        .map(|s| {
            let h = health.iter().find(|h| h.name == s.name);
            let time = |t: Option<chrono::DateTime<chrono::Utc>>| {
                t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            };
            serde_json::json!({
                "name": s.name,
                "type": s.spec.type_name(),
                "kind": s.kind.as_str(),
                "enabled": s.enabled,
                "schedule": s.schedule.text,
                "next_run": if s.enabled { time(s.schedule.next_after(now, settings.timezone)) } else { None },
                "last_run": time(h.and_then(|h| h.last_run)),
                "last_success": time(h.and_then(|h| h.last_success)),
                "last_error": h.and_then(|h| h.last_error.clone()),
                "consecutive_failures": h.map_or(0, |h| h.consecutive_failures),
                "mentions": h.map_or(0, |h| h.mentions),
            })
        })
        .collect();
    let text = match format {
        Format::Json => format!(
            "{}\n",
            serde_json::to_string_pretty(&rows).unwrap_or_default()
        ),
        Format::Csv | Format::Text => {
            let sep = if format == Format::Csv { "," } else { "\t" };
            let cols = [
                "name",
                "type",
                "kind",
                "enabled",
                "schedule",
                "next_run",
                "last_run",
                "last_success",
                "last_error",
                "consecutive_failures",
                "mentions",
            ];
            let mut out = cols.join(sep) + "\n";
            for row in &rows {
                let cells: Vec<String> = cols
                    .iter()
                    .map(|c| match &row[*c] {
                        serde_json::Value::Null => "-".to_owned(),
                        serde_json::Value::String(s) if format == Format::Csv => {
                            report::csv_field(s)
                        }
                        serde_json::Value::String(s) => s.replace(['\t', '\n'], " "),
                        v => v.to_string(),
                    })
                    .collect();
                out.push_str(&cells.join(sep));
                out.push('\n');
            }
            out
        }
    };
    print(&text)?;
    Ok(ExitCode::SUCCESS)
}
