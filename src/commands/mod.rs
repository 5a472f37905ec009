//! The commands behind the CLI, one file each: each loads what it needs,
//! does its work and says how it ended. Output goes to stdout; a closed
//! stdout is not an error. This file dispatches and holds what they share.

mod alerts;
mod backup;
mod check;
mod crawl;
mod discover;
mod exclude;
mod exclusions;
mod explain;
mod import;
mod include;
mod list;
mod migrate;
mod prune;
mod report;
mod run;
mod sources;

use crate::cli::{Cli, Command, LangArg};
use crate::config::{Lang, Settings};
use crate::report::Window;
use crate::store::{PgReader, Reads, Store, StoreError, Writes};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// How a command failed: `Usage` exits 2, `Runtime` exits 1, `Storage`
/// (the database is missing, unreadable, corrupt or unwritable) exits 3.
#[derive(Debug)]
pub enum Failure {
    Usage(String),
    Runtime(String),
    Storage(String),
}

impl Failure {
    /// The process exit code for this failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::Runtime(_) => 1,
            Failure::Usage(_) => 2,
            Failure::Storage(_) => 3,
        }
    }

    pub fn message(&self) -> &str {
        match self {
            Failure::Usage(m) | Failure::Runtime(m) | Failure::Storage(m) => m,
        }
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Failure {
        Failure::Storage(e.to_string())
    }
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<ExitCode, Failure> {
    let config_path = cli
        .config
        .clone()
        .unwrap_or_else(|| PathBuf::from("config.toml"));
    let settings = Settings::load(&config_path).map_err(|e| Failure::Usage(e.to_string()))?;
    if settings.postgres.is_some() {
        if let Some(name) = sqlite_only(&cli.command) {
            return Err(not_on_postgres(&settings, name));
        }
    }
    match cli.command {
        Command::Check => check::check(&settings),
        Command::Crawl { sources, topics } => crawl::crawl(settings, &sources, &topics),
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
            report::report(
                &settings,
                topic.as_deref(),
                window,
                format,
                lang,
                top.unwrap_or(settings.report.top_references),
            )
        }
        Command::List {
            topic,
            since,
            from,
            to,
            kinds,
            sources,
            domains,
            search,
            limit,
            excluded,
            format,
        } => {
            let window = Window::from_args(
                since.as_deref(),
                from.as_deref(),
                to.as_deref(),
                chrono::Utc::now(),
            )
            .map_err(Failure::Usage)?;
            list::list(
                &settings,
                list::ListArgs {
                    topic,
                    window,
                    kinds: kinds.into_iter().map(Into::into).collect(),
                    sources,
                    domains,
                    search,
                    limit,
                    excluded,
                    format,
                },
            )
        }
        Command::Explain {
            target,
            topic,
            format,
        } => explain::explain(&settings, &target, topic.as_deref(), format),
        Command::Exclude {
            ids,
            domain,
            topic,
            author,
            source,
            reason,
        } => {
            let target = match (domain, author, source) {
                (Some(domain), _, _) => exclude::Target::Domain { domain, topic },
                (None, Some(author), Some(source)) => exclude::Target::Author { author, source },
                _ => exclude::Target::Mentions(ids),
            };
            exclude::exclude(&settings, target, reason.as_deref())
        }
        Command::Include { ids, exclusions } => include::include(&settings, &ids, &exclusions),
        Command::Exclusions { format } => exclusions::exclusions(&settings, format),
        Command::Sources { format } => sources::sources(&settings, format),
        Command::Run => run::run(settings),
        Command::Alerts { since } => alerts::alerts(&settings, since.as_deref()),
        Command::Prune => prune::prune(&settings),
        Command::Backup { file, force } => backup::backup(&settings, &file, force),
        Command::Migrate { to, batch } => migrate::migrate(&settings, &to, batch as usize),
        Command::Import { file } => import::import(&settings, &file),
        Command::Discover { urls } => discover::discover(&settings, &urls),
    }
}

/// The name of a command that cannot run on PostgreSQL, None for one
/// that can (or that needs no database: `import`, `discover`).
fn sqlite_only(command: &Command) -> Option<&'static str> {
    Some(match command {
        Command::Import { .. }
        | Command::Discover { .. }
        | Command::Crawl { .. }
        | Command::Run
        | Command::Check
        | Command::Sources { .. }
        | Command::Report { .. }
        | Command::List { .. }
        | Command::Explain { .. }
        | Command::Exclusions { .. }
        | Command::Exclude { .. }
        | Command::Include { .. }
        | Command::Alerts { .. }
        | Command::Prune
        | Command::Backup { .. } => return None,
        Command::Migrate { .. } => "migrate",
    })
}

/// A command asked to use `[database] url` that speaks only SQLite: exit 2,
/// never a silent fall back to an SQLite file.
fn not_on_postgres(settings: &Settings, command: &str) -> Failure {
    let target = settings
        .postgres
        .as_ref()
        .map(|t| t.describe())
        .unwrap_or_default();
    let why = match command {
        "migrate" => "it copies an SQLite file into PostgreSQL: run it with a config whose \
                      [database] path names that file"
            .to_owned(),
        _ => "use a config with [database] path (SQLite) for this command".to_owned(),
    };
    Failure::Usage(format!(
        "`mentions {command}` does not read PostgreSQL ({} sets [database] url, \
         PostgreSQL at {target}); {why}",
        settings.path.display()
    ))
}

/// Writes to stdout, `${VAR}` values masked; a closed pipe (`| head`) ends quietly.
pub(crate) fn print(text: &str) -> Result<(), Failure> {
    let text = crate::secrets::mask(text);
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Failure::Runtime(format!("cannot write to stdout: {e}"))),
    }
}

/// Stdout for output written while it is produced (a listing of any
/// size): `${VAR}` values masked, buffered; a closed pipe (`| head`) stops
/// it quietly.
pub(crate) struct Output {
    out: std::io::BufWriter<std::io::StdoutLock<'static>>,
    open: bool,
}

impl Output {
    pub fn new() -> Output {
        Output {
            out: std::io::BufWriter::new(std::io::stdout().lock()),
            open: true,
        }
    }

    /// Writes `text`; false once stdout is closed (stop producing).
    pub fn write(&mut self, text: &str) -> Result<bool, Failure> {
        if !self.open {
            return Ok(false);
        }
        let text = crate::secrets::mask(text);
        let written = self.out.write_all(text.as_bytes());
        self.check(written)
    }

    /// Flushes what is buffered.
    pub fn finish(mut self) -> Result<(), Failure> {
        if self.open {
            let flushed = self.out.flush();
            self.check(flushed)?;
        }
        Ok(())
    }

    fn check(&mut self, done: std::io::Result<()>) -> Result<bool, Failure> {
        match done {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                self.open = false;
                Ok(false)
            }
            Err(e) => Err(Failure::Runtime(format!("cannot write to stdout: {e}"))),
        }
    }
}

/// Opens (creating if needed) the database, for the commands that write:
/// `run`, `crawl` and `check`.
pub(crate) fn open_store(settings: &Settings) -> Result<Store, Failure> {
    sqlite(settings)?;
    Store::open(&settings.database).map_err(|e| storage(settings, e))
}

/// Opens the existing SQLite database, for the commands that only read
/// (`report`, `sources`, `alerts`, `backup`): read-only, so they work in a read-only
/// folder and never write (see `Store::open_reader`).
pub(crate) fn open_existing_store(settings: &Settings) -> Result<Store, Failure> {
    sqlite(settings)?;
    Store::open_reader(&settings.database).map_err(|e| storage(settings, e))
}

/// Opens the database a reading command (`report`, `list`, `explain`,
/// `exclusions`) reads: PostgreSQL when the config sets `[database] url`
/// (unreachable exits 3 naming `host:port/database`, never the password),
/// else the SQLite file read-only (`open_existing_store`).
pub(crate) fn open_reads(settings: &Settings) -> Result<Box<dyn Reads>, Failure> {
    match &settings.postgres {
        Some(target) => PgReader::connect(target)
            .map(|r| Box::new(r) as Box<dyn Reads>)
            .map_err(|e| Failure::Storage(target.scrub(&e.to_string()))),
        None => Ok(Box::new(open_existing_store(settings)?)),
    }
}

/// Opens the existing database for a command that changes it without
/// creating it (`exclude`, `include`, `prune`): PostgreSQL when the config
/// sets `[database] url` (unreachable exits 3), else the SQLite file.
pub(crate) fn open_writes(settings: &Settings) -> Result<Box<dyn Writes>, Failure> {
    match &settings.postgres {
        Some(target) => PgReader::connect(target)
            .map(|r| Box::new(r) as Box<dyn Writes>)
            .map_err(|e| Failure::Storage(target.scrub(&e.to_string()))),
        None => {
            let store =
                Store::open_existing(&settings.database).map_err(|e| storage(settings, e))?;
            Ok(Box::new(store))
        }
    }
}

/// The SQLite file is opened only when the config names no PostgreSQL
/// database (a backstop behind the check in `run`).
fn sqlite(settings: &Settings) -> Result<(), Failure> {
    match &settings.postgres {
        Some(target) => Err(Failure::Usage(format!(
            "{} sets [database] url (PostgreSQL at {target}), and this command reads only SQLite",
            settings.path.display()
        ))),
        None => Ok(()),
    }
}

fn storage(settings: &Settings, e: StoreError) -> Failure {
    Failure::Storage(format!(
        "{e} (set [database] path in {})",
        settings.path.display()
    ))
}

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Runtime(format!("cannot start the async runtime: {e}")))
}
