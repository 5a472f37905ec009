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
    /// `report` only: the chart of mentions over time, as an SVG document.
    Svg,
}

/// Formats of `list`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Text,
    Json,
    Ndjson,
    Csv,
}

/// Formats of `explain` and `exclusions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TextOrJson {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KindArg {
    Web,
    Social,
    Forum,
}

impl From<KindArg> for crate::sources::Kind {
    fn from(k: KindArg) -> crate::sources::Kind {
        match k {
            KindArg::Web => crate::sources::Kind::Web,
            KindArg::Social => crate::sources::Kind::Social,
            KindArg::Forum => crate::sources::Kind::Forum,
        }
    }
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
    /// The mentions a report counts, newest first, with filters.
    List {
        /// Only this topic (default: every topic, one after the other).
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
        /// Only this kind of source (repeatable).
        #[arg(long = "kind", value_enum, value_name = "KIND")]
        kinds: Vec<KindArg>,
        /// Only mentions stored by this source (repeatable).
        #[arg(long = "source", value_name = "NAME")]
        sources: Vec<String>,
        /// Only mentions on this web host or platform instance; `www.` is
        /// ignored (repeatable).
        #[arg(long = "domain", value_name = "HOST")]
        domains: Vec<String>,
        /// Only mentions whose title and excerpt match this query (the
        /// topic query language).
        #[arg(long, value_name = "QUERY")]
        search: Option<String>,
        /// At most this many mentions per topic (text shows 50 without it).
        #[arg(long, value_name = "N", value_parser = at_least_one)]
        limit: Option<u64>,
        /// List the excluded mentions instead of the counted ones.
        #[arg(long)]
        excluded: bool,
        #[arg(long, value_enum, default_value_t = ListFormat::Text)]
        format: ListFormat,
    },
    /// One mention (by id or URL): the terms that matched and every sighting
    /// merged into it, with the rule that merged it.
    Explain {
        /// A mention's id (as `list` shows it), or a URL.
        #[arg(value_name = "ID|URL")]
        target: String,
        /// For a URL that is a mention of several topics: only this one.
        #[arg(long, value_name = "NAME")]
        topic: Option<String>,
        #[arg(long, value_enum, default_value_t = TextOrJson::Text)]
        format: TextOrJson,
    },
    /// Take mentions out of every count: by id, every mention of a domain,
    /// or every mention of an author within a source (also those stored later).
    #[command(override_usage = "mentions exclude ID... [--reason TEXT]
       mentions exclude --domain HOST [--topic NAME] [--reason TEXT]
       mentions exclude --author NAME --source NAME [--reason TEXT]")]
    Exclude {
        /// Mention ids, as `list` shows them.
        #[arg(
            value_name = "ID",
            required_unless_present_any = ["domain", "author"],
            conflicts_with_all = ["domain", "author"]
        )]
        ids: Vec<i64>,
        /// Every mention on this web host or platform instance (`www.` ignored).
        #[arg(long, value_name = "HOST", conflicts_with = "author")]
        domain: Option<String>,
        /// With --domain: only for this topic (default: every topic).
        #[arg(long, value_name = "NAME", requires = "domain")]
        topic: Option<String>,
        /// Every mention by this author (case ignored), with --source.
        #[arg(long, value_name = "NAME", requires = "source")]
        author: Option<String>,
        /// With --author: the source whose mentions it holds for.
        #[arg(long, value_name = "NAME", requires = "author")]
        source: Option<String>,
        /// Why, kept with the exclusion.
        #[arg(long, value_name = "TEXT")]
        reason: Option<String>,
    },
    /// Let excluded mentions count again: by id, or drop whole exclusions
    /// (a domain or author rule) by their number from `exclusions`.
    #[command(override_usage = "mentions include ID...
       mentions include --exclusion N...")]
    Include {
        /// Mention ids.
        #[arg(
            value_name = "ID",
            required_unless_present = "exclusions",
            conflicts_with = "exclusions"
        )]
        ids: Vec<i64>,
        /// Remove this exclusion (its id in `mentions exclusions`; repeatable).
        #[arg(long = "exclusion", value_name = "N")]
        exclusions: Vec<i64>,
    },
    /// Every exclusion: what it takes out, why, since when, and how many
    /// mentions it excludes now.
    Exclusions {
        #[arg(long, value_enum, default_value_t = TextOrJson::Text)]
        format: TextOrJson,
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
    /// Copy the database into a PostgreSQL database, then compare row counts
    /// (PostgreSQL is not used by the other commands yet).
    Migrate {
        /// The PostgreSQL database: postgres://USER:PASSWORD@HOST:PORT/DATABASE
        /// (or set MENTIONS_MIGRATE_TO, which keeps the password off the command line).
        #[arg(
            long,
            value_name = "URL",
            env = "MENTIONS_MIGRATE_TO",
            hide_env_values = true
        )]
        to: String,
        /// Rows per PostgreSQL transaction.
        #[arg(long, value_name = "ROWS", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..=100_000))]
        batch: u64,
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

/// `--limit`: a whole number, at least 1.
fn at_least_one(text: &str) -> Result<u64, String> {
    match text.parse::<u64>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err("give a whole number of at least 1, such as 100".into()),
    }
}
