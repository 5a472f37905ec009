//! Command-line definitions (clap) and nothing else.

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "mentions",
    version,
    about = "Counts how often topics are mentioned on the web, social networks and forums"
)]
pub struct Cli {
    /// Config file (default ./config.toml).
    #[arg(long, global = true, env = "MENTIONS_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Log format on stderr.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
    Csv,
}

/// `sources --format`: the report formats, and OPML for feed readers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SourcesFormat {
    Text,
    Json,
    Csv,
    /// The feed sources as OPML 2.0, for feed readers.
    Opml,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LangArg {
    En,
    De,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run as a service: crawl every enabled source on its schedule.
    Run,
    /// One pass over all (or the named) sources now, then exit.
    Crawl {
        /// Only this source (repeatable).
        #[arg(long = "source", value_name = "NAME")]
        sources: Vec<String>,
        /// Only this topic (repeatable).
        #[arg(long = "topic", value_name = "NAME")]
        topics: Vec<String>,
    },
    /// Counts per kind of source for a time window.
    Report {
        #[arg(long, value_name = "NAME")]
        topic: Option<String>,
        /// Window ending now, e.g. 90m, 48h, 7d (default 24h).
        #[arg(long, value_name = "DUR", conflicts_with_all = ["from", "to"])]
        since: Option<String>,
        /// Window start (RFC 3339), with --to.
        #[arg(long, value_name = "TIME", requires = "to")]
        from: Option<String>,
        /// Window end, exclusive (RFC 3339), with --from.
        #[arg(long, value_name = "TIME", requires = "from")]
        to: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Language of the text report (default from [report] language).
        #[arg(long, value_enum)]
        lang: Option<LangArg>,
        /// How many reference domains (default from [report] top_references).
        #[arg(long, value_name = "N")]
        top: Option<usize>,
    },
    /// Validate the config (and that the database opens) and print a summary.
    Check,
    /// Per source: type, kind, schedule, last run, last success, last error, mentions stored.
    Sources {
        #[arg(long, value_enum, default_value_t = SourcesFormat::Text)]
        format: SourcesFormat,
    },
    /// Alerts fired.
    Alerts {
        #[arg(long, value_name = "DUR")]
        since: Option<String>,
    },
    /// Apply retention now: delete mentions older than [database] retention
    /// and bookkeeping older than twice the longest lookback.
    Prune,
    /// Write a consistent copy of the database to FILE, also while `run` writes.
    Backup {
        /// Where the copy goes.
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Replace FILE when it exists.
        #[arg(long)]
        force: bool,
    },
    /// Print ready [[source]] blocks for the feeds of an OPML file.
    Import {
        /// An OPML file exported from a feed reader.
        #[arg(value_name = "FILE.opml")]
        file: PathBuf,
    },
    /// Print ready [[source]] blocks for the feeds and sitemaps of web sites.
    Discover {
        /// A site's address, e.g. https://www.example.org/ (repeatable).
        #[arg(value_name = "URL", required = true)]
        urls: Vec<String>,
    },
}
