//! The host memory of the HTTP client (`http::memory`) in the store:
//! robots.txt as read and the back-offs hosts asked for, in the tables of
//! migration 0009. Both backends keep it: on PostgreSQL every node uses
//! what one node learnt; on SQLite a restarted daemon, or the next
//! `mentions crawl` from cron, does not fetch every robots.txt again nor
//! run into a host that asked to be left alone. The same SQL serves both
//! (`$n` placeholders, which SQLite also reads), but for the back-off's
//! "the later of the two", which PostgreSQL spells `greatest`.

use super::postgres::Postgres;
use super::{with_reader, with_store, Backend, SharedStore, Store, StoreError};
use crate::http::{HostMemory, StoredRobots};
use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use rusqlite::OptionalExtension;
use std::future::Future;

pub(super) const ROBOTS: &str =
    "SELECT body, fetched_at, expires_at FROM robots_txt WHERE origin = $1";
pub(super) const SAVE_ROBOTS: &str = "INSERT INTO robots_txt (origin, body, fetched_at, expires_at)
     VALUES ($1, $2, $3, $4)
     ON CONFLICT (origin) DO UPDATE
     SET body = excluded.body, fetched_at = excluded.fetched_at, expires_at = excluded.expires_at";
pub(super) const BACKOFF: &str = "SELECT until_ms FROM host_backoff WHERE origin = $1";
/// `{later}` is `max` on SQLite, `greatest` on PostgreSQL.
pub(super) fn save_backoff(later: &str) -> String {
    format!(
        "INSERT INTO host_backoff (origin, until_ms, reason) VALUES ($1, $2, $3)
         ON CONFLICT (origin) DO UPDATE
         SET until_ms = {later}(host_backoff.until_ms, excluded.until_ms),
             reason = CASE WHEN excluded.until_ms >= host_backoff.until_ms
                           THEN excluded.reason ELSE host_backoff.reason END"
    )
}

pub(super) fn robots_row(body: String, fetched_at: i64, expires_at: i64) -> StoredRobots {
    let time = |secs| DateTime::from_timestamp(secs, 0).unwrap_or_default();
    StoredRobots {
        body,
        fetched_at: time(fetched_at),
        expires_at: time(expires_at),
    }
}

pub(super) fn millis(ms: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms)
}

impl Store {
    /// The stored robots.txt of `origin`.
    pub fn robots(&self, origin: &str) -> Result<Option<StoredRobots>, StoreError> {
        Ok(self
            .conn
            .query_row(ROBOTS, [origin], |r| {
                Ok(robots_row(r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?)
    }

    pub fn save_robots(&self, origin: &str, robots: &StoredRobots) -> Result<(), StoreError> {
        self.conn.execute(
            SAVE_ROBOTS,
            (
                origin,
                &robots.body,
                robots.fetched_at.timestamp(),
                robots.expires_at.timestamp(),
            ),
        )?;
        Ok(())
    }

    /// Until when `origin` asked to be left alone.
    pub fn backoff(&self, origin: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        let ms: Option<i64> = self
            .conn
            .query_row(BACKOFF, [origin], |r| r.get(0))
            .optional()?;
        Ok(ms.and_then(millis))
    }

    pub fn save_backoff(
        &self,
        origin: &str,
        until: DateTime<Utc>,
        reason: &str,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            &save_backoff("max"),
            (origin, until.timestamp_millis(), reason),
        )?;
        Ok(())
    }
}

impl Backend {
    /// This store as the HTTP client's host memory.
    pub fn host_memory(&self) -> std::sync::Arc<dyn HostMemory> {
        std::sync::Arc::new(self.clone())
    }
}

/// Runs `sqlite` on the SQLite store (off the runtime's threads: a read
/// through `with_reader`, which does not wait for a write in progress, a
/// write through `with_store`) or `pg` on PostgreSQL; an error as the
/// sentence the client logs.
async fn either<'a, T, Fut>(
    backend: &'a Backend,
    sqlite: impl FnOnce(&'a SharedStore) -> BoxFuture<'a, Result<T, StoreError>>,
    pg: impl FnOnce(&'a Postgres) -> Fut,
) -> Result<T, String>
where
    Fut: Future<Output = Result<T, StoreError>>,
{
    match backend {
        Backend::Sqlite(store) => sqlite(store).await,
        Backend::Postgres(postgres) => pg(postgres).await,
    }
    .map_err(|e| e.to_string())
}

impl HostMemory for Backend {
    fn robots<'a>(
        &'a self,
        origin: &'a str,
    ) -> BoxFuture<'a, Result<Option<StoredRobots>, String>> {
        let owned = origin.to_owned();
        either(
            self,
            |store| with_reader(store, move |s| s.robots(&owned)).boxed(),
            |pg| pg.robots(origin),
        )
        .boxed()
    }

    fn save_robots<'a>(
        &'a self,
        origin: &'a str,
        robots: &'a StoredRobots,
    ) -> BoxFuture<'a, Result<(), String>> {
        let owned = (origin.to_owned(), robots.clone());
        either(
            self,
            |store| with_store(store, move |s| s.save_robots(&owned.0, &owned.1)).boxed(),
            |pg| pg.save_robots(origin, robots),
        )
        .boxed()
    }

    fn backoff<'a>(
        &'a self,
        origin: &'a str,
    ) -> BoxFuture<'a, Result<Option<DateTime<Utc>>, String>> {
        let owned = origin.to_owned();
        either(
            self,
            |store| with_reader(store, move |s| s.backoff(&owned)).boxed(),
            |pg| pg.backoff(origin),
        )
        .boxed()
    }

    fn save_backoff<'a>(
        &'a self,
        origin: &'a str,
        until: DateTime<Utc>,
        reason: &'a str,
    ) -> BoxFuture<'a, Result<(), String>> {
        let owned = (origin.to_owned(), reason.to_owned());
        either(
            self,
            move |store| {
                with_store(store, move |s| s.save_backoff(&owned.0, until, &owned.1)).boxed()
            },
            move |pg| pg.save_backoff(origin, until, reason),
        )
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::testing::{serve, settings};
    use crate::http::{FetchError, HttpClient, Request};
    use crate::store::postgres::testdb::TestDb;
    use crate::store::postgres::PgTarget;
    use axum::extract::State;
    use axum::http::{HeaderMap, StatusCode};
    use axum::routing::get;
    use axum::Router;
    use std::net::SocketAddr;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::time::{Duration, Instant};
    use url::Url;

    /// Requests a test site answered, by path.
    #[derive(Default)]
    struct Hits {
        robots: AtomicUsize,
        feed: AtomicUsize,
        api: AtomicUsize,
    }

    /// How the test site's /api answers its first request (later ones are 200).
    #[derive(Clone, Copy)]
    enum Api {
        /// 429 with this Retry-After.
        TooMany(&'static str),
        /// 200 with a spent budget that refills in this many seconds.
        Spent(&'static str),
    }

    /// A site whose robots.txt answers `robots_status` (200 disallows
    /// /private), with a feed and an API, counting what it is asked.
    async fn site(robots_status: u16, api: Api) -> (SocketAddr, Arc<Hits>) {
        let hits = Arc::new(Hits::default());
        let app = Router::new()
            .route(
                "/robots.txt",
                get(move |State(h): State<Arc<Hits>>| async move {
                    h.robots.fetch_add(1, Ordering::SeqCst);
                    (
                        StatusCode::from_u16(robots_status).unwrap(),
                        "User-agent: *\nDisallow: /private\n",
                    )
                }),
            )
            .route(
                "/feed.xml",
                get(|State(h): State<Arc<Hits>>| async move {
                    h.feed.fetch_add(1, Ordering::SeqCst);
                    "<rss version=\"2.0\"><channel><title>t</title></channel></rss>"
                }),
            )
            .route(
                "/api",
                get(move |State(h): State<Arc<Hits>>| async move {
                    let first = h.api.fetch_add(1, Ordering::SeqCst) == 0;
                    let mut headers = HeaderMap::new();
                    let status = match api {
                        Api::TooMany(after) if first => {
                            headers.insert("retry-after", after.parse().unwrap());
                            StatusCode::TOO_MANY_REQUESTS
                        }
                        Api::Spent(reset) if first => {
                            headers.insert("x-ratelimit-limit", "300".parse().unwrap());
                            headers.insert("x-ratelimit-remaining", "0".parse().unwrap());
                            headers.insert("x-ratelimit-reset", reset.parse().unwrap());
                            StatusCode::OK
                        }
                        _ => StatusCode::OK,
                    };
                    (status, headers, "{}")
                }),
            )
            .with_state(Arc::clone(&hits));
        (serve(app).await, hits)
    }

    /// One node: a client of its own (own caches), remembering in `memory` if given.
    fn node(memory: Option<&Backend>) -> HttpClient {
        let client = HttpClient::build(settings(), false).unwrap();
        match memory {
            Some(backend) => client.with_memory(backend.host_memory()),
            None => client,
        }
    }

    fn at(addr: SocketAddr, path: &str) -> Url {
        Url::parse(&format!("http://{addr}{path}")).unwrap()
    }

    /// Fetches the feed of the site at `addr` as the crawler does; robots.txt must be unreadable.
    async fn robots_unavailable(client: &HttpClient, addr: SocketAddr) {
        let err = client
            .fetch(Request::get(at(addr, "/feed.xml")))
            .await
            .unwrap_err();
        assert!(
            matches!(err, FetchError::RobotsUnavailable { .. }),
            "{err:?}"
        );
    }

    /// The backends to run on: SQLite always, PostgreSQL when the test server is set.
    async fn backends(test: &str) -> Vec<(Backend, Option<TestDb>)> {
        let mut all = vec![(
            Backend::Sqlite(crate::store::shared(Store::open_in_memory().unwrap())),
            None,
        )];
        if let Some(db) = TestDb::create(test).await {
            let pg = Postgres::connect(&PgTarget::parse(db.url()).unwrap(), 2)
                .await
                .unwrap();
            all.push((Backend::Postgres(Box::new(pg)), Some(db)));
        }
        all
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_robots_txt_one_node_read_is_not_fetched_again_by_another() {
        for (backend, _db) in backends("hosts_robots").await {
            let (addr, hits) = site(200, Api::TooMany("1")).await;
            // Node A fetches robots.txt; node B takes the verdict from the
            // store, rules and all.
            for (n, node) in [node(Some(&backend)), node(Some(&backend))]
                .iter()
                .enumerate()
            {
                node.fetch(Request::get(at(addr, "/feed.xml")))
                    .await
                    .unwrap();
                let err = node
                    .fetch(Request::get(at(addr, &format!("/private/{n}"))))
                    .await
                    .unwrap_err();
                assert!(
                    matches!(err, FetchError::RobotsDisallowed { .. }),
                    "{err:?}"
                );
                assert_eq!(hits.robots.load(Ordering::SeqCst), 1);
            }
            assert_eq!(hits.feed.load(Ordering::SeqCst), 2);
            let stored = backend
                .robots(&format!("http://{addr}"))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(stored.body, "User-agent: *\nDisallow: /private\n");
            assert_eq!(
                stored.expires_at - stored.fetched_at,
                chrono::TimeDelta::hours(24)
            );

            // Without the shared memory a node asks for robots.txt itself:
            // what the counts above show is the sharing.
            node(None)
                .fetch(Request::get(at(addr, "/feed.xml")))
                .await
                .unwrap();
            assert_eq!(hits.robots.load(Ordering::SeqCst), 2);
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_unreadable_robots_txt_closes_the_host_for_one_node_only() {
        for (backend, _db) in backends("hosts_robots_503").await {
            let (addr, hits) = site(503, Api::TooMany("1")).await;
            let (a, b) = (node(Some(&backend)), node(Some(&backend)));
            for _ in 0..2 {
                robots_unavailable(&a, addr).await;
            }
            // Node A remembers it for its crawl; nothing is stored.
            assert_eq!(hits.robots.load(Ordering::SeqCst), 1);
            assert_eq!(
                backend.robots(&format!("http://{addr}")).await.unwrap(),
                None
            );
            robots_unavailable(&b, addr).await;
            assert_eq!(hits.robots.load(Ordering::SeqCst), 2);
            assert_eq!(hits.feed.load(Ordering::SeqCst), 0);
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_host_that_asked_one_node_to_back_off_is_left_alone_by_another() {
        for (backend, _db) in backends("hosts_backoff").await {
            // Retry-After longer than a fetch waits: node B sends nothing.
            let (addr, hits) = site(200, Api::TooMany("120")).await;
            let (a, b) = (node(Some(&backend)), node(Some(&backend)));
            let err = a
                .fetch(Request::api_get(at(addr, "/api")))
                .await
                .unwrap_err();
            assert!(
                matches!(err, FetchError::Status { status: 429, .. }),
                "{err:?}"
            );
            let err = b
                .fetch(Request::api_get(at(addr, "/api")))
                .await
                .unwrap_err();
            match err {
                FetchError::BackingOff { secs, .. } => {
                    assert!((110..=120).contains(&secs), "{secs}")
                }
                other => panic!("{other:?}"),
            }
            // Crawler fetches of the host wait as well, robots.txt included.
            robots_unavailable(&b, addr).await;
            assert_eq!(hits.api.load(Ordering::SeqCst), 1);
            assert_eq!(hits.robots.load(Ordering::SeqCst), 0);
            // Unshared, a node asks (and is answered, the server's limit being over).
            node(None)
                .fetch(Request::api_get(at(addr, "/api")))
                .await
                .unwrap();
            assert_eq!(hits.api.load(Ordering::SeqCst), 2);

            // A short Retry-After: node B waits it out, then asks.
            let (addr, hits) = site(200, Api::TooMany("2")).await;
            a.fetch(Request::api_get(at(addr, "/api")))
                .await
                .unwrap_err();
            let start = Instant::now();
            b.fetch(Request::api_get(at(addr, "/api"))).await.unwrap();
            let waited = start.elapsed();
            assert!(waited >= Duration::from_millis(900), "{waited:?}");
            assert!(waited < Duration::from_secs(3), "{waited:?}");
            assert_eq!(hits.api.load(Ordering::SeqCst), 2);

            // A spent rate-limit budget is a back-off until it refills.
            let (addr, hits) = site(200, Api::Spent("300")).await;
            a.fetch(Request::api_get(at(addr, "/api"))).await.unwrap();
            let err = b
                .fetch(Request::api_get(at(addr, "/api")))
                .await
                .unwrap_err();
            assert!(matches!(err, FetchError::BackingOff { .. }), "{err:?}");
            assert_eq!(hits.api.load(Ordering::SeqCst), 1);
        }
    }

    /// A host memory whose database is down.
    struct Down;

    impl HostMemory for Down {
        fn robots<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<Option<StoredRobots>, String>> {
            async { Err("database down".to_owned()) }.boxed()
        }
        fn save_robots<'a>(
            &'a self,
            _: &'a str,
            _: &'a StoredRobots,
        ) -> BoxFuture<'a, Result<(), String>> {
            async { Err("database down".to_owned()) }.boxed()
        }
        fn backoff<'a>(
            &'a self,
            _: &'a str,
        ) -> BoxFuture<'a, Result<Option<DateTime<Utc>>, String>> {
            async { Err("database down".to_owned()) }.boxed()
        }
        fn save_backoff<'a>(
            &'a self,
            _: &'a str,
            _: DateTime<Utc>,
            _: &'a str,
        ) -> BoxFuture<'a, Result<(), String>> {
            async { Err("database down".to_owned()) }.boxed()
        }
    }

    #[tokio::test]
    async fn a_failing_memory_never_fails_a_fetch() {
        let (addr, hits) = site(200, Api::TooMany("1")).await;
        let client = HttpClient::build(settings(), false)
            .unwrap()
            .with_memory(Arc::new(Down));
        client
            .fetch(Request::get(at(addr, "/feed.xml")))
            .await
            .unwrap();
        client
            .fetch(Request::api_get(at(addr, "/api")))
            .await
            .unwrap_err();
        assert_eq!(hits.robots.load(Ordering::SeqCst), 1);
        assert_eq!(hits.feed.load(Ordering::SeqCst), 1);
        assert_eq!(hits.api.load(Ordering::SeqCst), 1);
    }
}
