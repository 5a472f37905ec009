//! Where a PostgreSQL database is (a `postgres://` URL) and a pool of
//! connections to it. Every message names the server as `host:port/database`
//! and never the password: the URL itself is never printed, and whatever the
//! driver says is scrubbed of the password before it is shown.

use super::tls::{self, MakeRustls, TlsSettings};
use super::{migrate, PgError};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use std::str::FromStr;
use std::time::Duration;
use tokio_postgres::config::Host;

/// How long opening one connection may take when the URL does not say
/// (`connect_timeout=` in seconds).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a task waits for a free pooled connection.
const WAIT_TIMEOUT: Duration = Duration::from_secs(30);

/// A parsed `postgres://` URL: the driver's settings and a printable name.
#[derive(Clone)]
pub struct PgTarget {
    config: tokio_postgres::Config,
    /// The password as written and as decoded, for scrubbing driver messages.
    secrets: Vec<String>,
    /// `sslmode` and `sslrootcert`, which the driver does not read itself.
    tls: TlsSettings,
}

impl std::fmt::Debug for PgTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PgTarget({})", self.describe())
    }
}

impl std::fmt::Display for PgTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl PgTarget {
    /// Parses `postgres://user:password@host:port/database?options` (also
    /// `postgresql://`), with `sslmode` and `sslrootcert` as libpq reads
    /// them (see `tls.rs`). The error never repeats the URL.
    pub fn parse(url: &str) -> Result<PgTarget, PgError> {
        let url = url.trim();
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(PgError::Url(
                "a PostgreSQL URL starts with postgres:// or postgresql://".to_owned(),
            ));
        }
        let mut secrets = Vec::new();
        if let Ok(parsed) = url::Url::parse(url) {
            if let Some(raw) = parsed.password().filter(|p| !p.is_empty()) {
                secrets.push(raw.to_owned());
            }
        }
        let (url, tls) = tls::take_params(url)?;
        let mut config = tokio_postgres::Config::from_str(&url).map_err(|e| {
            PgError::Url(scrub(
                &format!("the PostgreSQL URL cannot be read: {}", chain(&e)),
                &secrets,
            ))
        })?;
        if let Some(p) = config.get_password() {
            if let Ok(p) = std::str::from_utf8(p) {
                if !p.is_empty() {
                    secrets.push(p.to_owned());
                }
            }
        }
        if config.get_hosts().is_empty() {
            return Err(PgError::Url(
                "the PostgreSQL URL names no host (postgres://HOST:PORT/DATABASE)".to_owned(),
            ));
        }
        config.ssl_mode(tls.mode.driver_mode());
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("mentions");
        }
        Ok(PgTarget {
            config,
            secrets,
            tls,
        })
    }

    /// The same server and credentials, another database (tests create and
    /// drop databases through an administrative connection).
    pub fn with_database(&self, database: &str) -> PgTarget {
        let mut config = self.config.clone();
        config.dbname(database);
        PgTarget {
            config,
            secrets: self.secrets.clone(),
            tls: self.tls.clone(),
        }
    }

    /// `host:port/database`, as every message names the server.
    pub fn describe(&self) -> String {
        let ports = self.config.get_ports();
        let hosts: Vec<String> = self
            .config
            .get_hosts()
            .iter()
            .enumerate()
            .map(|(i, host)| {
                let port = ports
                    .get(i)
                    .or_else(|| ports.first())
                    .copied()
                    .unwrap_or(5432);
                match host {
                    Host::Tcp(name) if name.contains(':') => format!("[{name}]:{port}"),
                    Host::Tcp(name) => format!("{name}:{port}"),
                    Host::Unix(path) => format!("{}:{port}", path.display()),
                }
            })
            .collect();
        format!("{}/{}", hosts.join(","), self.database())
    }

    /// The host (or hosts) alone, as the start-up error names it.
    pub fn host(&self) -> String {
        self.describe()
            .split('/')
            .next()
            .unwrap_or_default()
            .to_owned()
    }

    /// The database name; PostgreSQL's default is the user's name.
    pub fn database(&self) -> &str {
        self.config
            .get_dbname()
            .or(self.config.get_user())
            .unwrap_or("postgres")
    }

    /// The password as written in the URL and as decoded (empty without
    /// one), for the config to mask it wherever text leaves the process.
    pub fn passwords(&self) -> &[String] {
        &self.secrets
    }

    /// `text` with the password replaced, for any message that may quote it.
    pub fn scrub(&self, text: &str) -> String {
        scrub(text, &self.secrets)
    }

    /// An error of the driver as one line: what failed and why, without the password.
    pub(super) fn explain(&self, e: &tokio_postgres::Error) -> String {
        self.scrub(&chain(e))
    }

    pub(super) fn config(&self) -> &tokio_postgres::Config {
        &self.config
    }

    /// `sslmode` and `sslrootcert` as the URL gives them.
    pub fn tls(&self) -> &TlsSettings {
        &self.tls
    }
}

/// An error and its causes as one line. A server error gives its message
/// and detail (the driver's own text says only "db error").
pub(super) fn chain(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let mut text = db.message().to_owned();
        if let Some(detail) = db.detail() {
            text.push_str(" (");
            text.push_str(detail);
            text.push(')');
        }
        return text;
    }
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

fn scrub(text: &str, secrets: &[String]) -> String {
    let mut text = text.to_owned();
    for s in secrets.iter().filter(|s| !s.is_empty()) {
        text = text.replace(s.as_str(), "***");
    }
    text
}

/// A pool of connections to a migrated PostgreSQL database; cheap to clone.
#[derive(Clone)]
pub struct Postgres {
    pool: Pool,
    target: PgTarget,
    /// The node this process is (`with_node`): each crawl it commits
    /// records it as the source's `node`.
    node: Option<std::sync::Arc<str>>,
}

impl Postgres {
    /// Connects a pool of at most `max_connections` to `target`, checks that
    /// one connection opens, and applies the migrations it has not seen.
    /// Unreachable is `PgError::Unreachable`, which names the host
    /// (a daemon that cannot reach its database at start exits 3).
    pub async fn connect(target: &PgTarget, max_connections: usize) -> Result<Postgres, PgError> {
        let pg = Postgres::connect_unmigrated(target, max_connections).await?;
        let mut client = pg.client().await?;
        migrate::apply(&mut client, target).await?;
        Ok(pg)
    }

    /// A pool without applying migrations (the migration tests drive them).
    pub(super) async fn connect_unmigrated(
        target: &PgTarget,
        max_connections: usize,
    ) -> Result<Postgres, PgError> {
        let tls = MakeRustls::new(target.tls()).map_err(|e| PgError::Unreachable {
            target: target.describe(),
            detail: e.to_string(),
        })?;
        let manager = Manager::from_config(
            target.config().clone(),
            tls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let timeout = *target
            .config()
            .get_connect_timeout()
            .unwrap_or(&CONNECT_TIMEOUT);
        let pool = Pool::builder(manager)
            .max_size(max_connections.max(1))
            .runtime(Runtime::Tokio1)
            .create_timeout(Some(timeout + Duration::from_secs(1)))
            .wait_timeout(Some(WAIT_TIMEOUT))
            .build()
            .map_err(|e| PgError::Unreachable {
                target: target.describe(),
                detail: target.scrub(&e.to_string()),
            })?;
        let pg = Postgres {
            pool,
            target: target.clone(),
            node: None,
        };
        // Open one connection now: an unreachable server is a start-up error.
        drop(pg.client().await?);
        Ok(pg)
    }

    /// A pooled connection.
    pub async fn client(&self) -> Result<deadpool_postgres::Object, PgError> {
        self.pool.get().await.map_err(|e| {
            let detail = match &e {
                deadpool_postgres::PoolError::Backend(b) => self.target.explain(b),
                deadpool_postgres::PoolError::Timeout(_) => {
                    "timed out waiting for a connection".to_owned()
                }
                other => self.target.scrub(&other.to_string()),
            };
            PgError::Unreachable {
                target: self.target.describe(),
                detail,
            }
        })
    }

    pub fn target(&self) -> &PgTarget {
        &self.target
    }

    /// The same pool, committing crawls as `node` (which `mentions
    /// sources` shows as the node that last ran the source).
    pub fn with_node(mut self, node: &str) -> Postgres {
        self.node = Some(node.into());
        self
    }

    /// The node crawls are committed as, if named.
    pub fn node(&self) -> Option<&str> {
        self.node.as_deref()
    }

    /// A driver error on this database as a `PgError`.
    pub(super) fn query_error(&self, e: tokio_postgres::Error) -> PgError {
        PgError::Query {
            target: self.target.describe(),
            detail: self.target.explain(&e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_host_port_and_database_never_the_password() {
        let t = PgTarget::parse("postgres://app:s3cr%40t@db.example:6543/mentions").unwrap();
        assert_eq!(t.describe(), "db.example:6543/mentions");
        assert_eq!(t.host(), "db.example:6543");
        assert_eq!(format!("{t:?}"), "PgTarget(db.example:6543/mentions)");
        assert_eq!(t.scrub("x s3cr@t y s3cr%40t"), "x *** y ***");
        let t = PgTarget::parse("postgresql://app@127.0.0.1/").unwrap();
        assert_eq!(t.describe(), "127.0.0.1:5432/app");
    }

    #[test]
    fn refuses_what_is_not_a_postgres_url_without_repeating_it() {
        let err = PgTarget::parse("mysql://u:hunter2@h/db").unwrap_err();
        assert!(err.to_string().contains("postgres://"), "{err}");
        assert!(!err.to_string().contains("hunter2"), "{err}");
        let err = PgTarget::parse("postgres://u:hunter2@h:notaport/db").unwrap_err();
        assert!(err.to_string().contains("cannot be read"), "{err}");
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }

    #[tokio::test]
    async fn unreachable_names_host_and_port_never_the_password() {
        // A port nothing listens on: bind one, learn its number, close it.
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let url = format!("postgres://mentions:Pa55-w0rd@127.0.0.1:{port}/shared");
        let target = PgTarget::parse(&url).unwrap();
        let err = Postgres::connect(&target, 2).await.err().unwrap();
        let text = err.to_string();
        assert!(matches!(err, PgError::Unreachable { .. }), "{text}");
        assert!(err.is_unreachable());
        assert!(
            text.contains(&format!("127.0.0.1:{port}/shared")),
            "names host, port and database: {text}"
        );
        assert!(!text.contains("Pa55-w0rd"), "{text}");
        assert!(!text.contains("mentions:"), "{text}");
    }
}
