//! SQLite storage (SPEC §7): open with WAL and a busy timeout, apply the
//! numbered migrations, and write each source's crawl in one transaction.
