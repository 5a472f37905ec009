//! The store a crawl writes to: the SQLite file (one process, its crawls
//! group-committed through `SharedStore`) or a PostgreSQL database several
//! nodes share (`Postgres`, a pool). The crawl path (`crawl.rs`) reads its
//! source's state and commits through this seam and does not know which.

use super::postgres::Postgres;
use super::{with_reader, CommitStats, CrawlBatch, SharedStore, StoreError};
use crate::http::Validators;

/// Where crawls are stored; cheap to clone.
#[derive(Clone)]
pub enum Backend {
    Sqlite(SharedStore),
    /// Boxed: the pool and its settings are much larger than an `Arc`.
    Postgres(Box<Postgres>),
}

impl Backend {
    /// Which of `keys` the source has already evaluated.
    pub async fn seen(&self, source: &str, keys: Vec<u64>) -> Result<Vec<bool>, StoreError> {
        match self {
            Backend::Sqlite(store) => {
                let name = source.to_owned();
                with_reader(store, move |s| s.seen(&name, &keys)).await
            }
            Backend::Postgres(pg) => Ok(pg.seen(source, &keys).await?),
        }
    }

    /// The stored conditional-GET validators of `url` for `source`.
    pub async fn validators(
        &self,
        source: &str,
        url: String,
    ) -> Result<Option<Validators>, StoreError> {
        match self {
            Backend::Sqlite(store) => {
                let name = source.to_owned();
                with_reader(store, move |s| s.validators(&name, &url)).await
            }
            Backend::Postgres(pg) => Ok(pg.validators(source, &url).await?),
        }
    }

    /// The stored cursor of a paged source.
    pub async fn cursor(&self, source: &str) -> Result<Option<String>, StoreError> {
        match self {
            Backend::Sqlite(store) => {
                let name = source.to_owned();
                with_reader(store, move |s| s.cursor(&name)).await
            }
            Backend::Postgres(pg) => Ok(pg.cursor(source).await?),
        }
    }

    /// Writes one source's crawl, all of it or none: on SQLite together
    /// with the crawls waiting at that moment (group commit), on PostgreSQL
    /// in a transaction of its own.
    pub async fn commit(&self, batch: CrawlBatch) -> Result<CommitStats, StoreError> {
        match self {
            Backend::Sqlite(store) => super::commit(store, batch).await,
            Backend::Postgres(pg) => Ok(pg.commit(batch).await?),
        }
    }

    /// The SQLite store, when that is the backend.
    pub fn sqlite(&self) -> Option<&SharedStore> {
        match self {
            Backend::Sqlite(store) => Some(store),
            Backend::Postgres(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::Kind;
    use crate::store::postgres::testdb::TestDb;
    use crate::store::postgres::PgTarget;
    use crate::store::{SourceOutcome, Store};

    fn batch(source: &str, seen: Vec<u64>, cursor: Option<&str>, etag: &str) -> CrawlBatch {
        let mut b = CrawlBatch::new(source, "feed", Kind::Web, chrono::Utc::now());
        b.outcome = SourceOutcome::Ok;
        b.seen = seen;
        b.cursor = cursor.map(str::to_owned);
        b.validators.push((
            "https://news.example/feed.xml".into(),
            Validators {
                etag: Some(etag.into()),
                last_modified: Some("Wed, 18 Nov 2026 09:00:00 GMT".into()),
            },
        ));
        b
    }

    /// What a crawl reads before it commits: the same answers from both backends.
    async fn reads(
        backend: &Backend,
    ) -> (
        Vec<bool>,
        Option<Validators>,
        Option<Validators>,
        Option<String>,
        Option<String>,
    ) {
        (
            backend.seen("a", vec![1, 2, 3, u64::MAX, 7]).await.unwrap(),
            backend
                .validators("a", "https://news.example/feed.xml".into())
                .await
                .unwrap(),
            backend
                .validators("b", "https://news.example/other.xml".into())
                .await
                .unwrap(),
            backend.cursor("a").await.unwrap(),
            backend.cursor("nobody").await.unwrap(),
        )
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn seen_validators_and_cursor_read_the_same_on_both_backends() {
        let Some(db) = TestDb::create("backend_reads").await else {
            return;
        };
        let pg = Postgres::connect(&PgTarget::parse(db.url()).unwrap(), 2)
            .await
            .unwrap();
        let sqlite = Backend::Sqlite(crate::store::shared(Store::open_in_memory().unwrap()));
        let pg = Backend::Postgres(Box::new(pg));
        for backend in [&sqlite, &pg] {
            // Before any commit: nothing seen, no validators, no cursor.
            assert_eq!(backend.seen("a", vec![1, 2]).await.unwrap(), [false, false]);
            assert_eq!(
                backend.seen("a", Vec::new()).await.unwrap(),
                Vec::<bool>::new()
            );
            backend
                .commit(batch("a", vec![1, u64::MAX], Some("page-2"), "\"v1\""))
                .await
                .unwrap();
            backend
                .commit(batch("a", vec![3], Some("page-3"), "\"v2\""))
                .await
                .unwrap();
            backend
                .commit(batch("b", vec![2], None, "\"b1\""))
                .await
                .unwrap();
        }
        let on_sqlite = reads(&sqlite).await;
        let on_pg = reads(&pg).await;
        assert_eq!(on_sqlite, on_pg);
        assert_eq!(on_pg.0, [true, false, true, true, false]);
        assert_eq!(
            on_pg.1,
            Some(Validators {
                etag: Some("\"v2\"".into()),
                last_modified: Some("Wed, 18 Nov 2026 09:00:00 GMT".into()),
            })
        );
        assert_eq!(on_pg.2, None);
        assert_eq!(on_pg.3.as_deref(), Some("page-3"));
        assert_eq!(on_pg.4, None);
    }
}
