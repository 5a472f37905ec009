//! `mentions`: watches web, social and forum sources for topics, stores every
//! matching item exactly once in SQLite and reports how often each topic was
//! mentioned, per kind of source.
//!
//! Data flows one way: config → fetch → parse → match → identify → store →
//! report. Each stage is a module below; docs/ARCHITECTURE.md has the
//! picture, and `scripts/import-circles.py` keeps the arrows one way.

pub mod alerts;
pub mod budget;
pub mod canon;
pub mod charset;
pub mod cli;
pub mod cluster;
pub mod commands;
pub mod config;
pub mod crawl;
pub mod daemon;
pub mod dashboard;
pub mod http;
pub mod identify;
pub mod lang;
pub mod listing;
pub mod live;
pub mod markup;
#[cfg(test)]
mod parser_properties;
pub mod query;
pub mod report;
pub mod schedule;
pub mod secrets;
pub mod server;
pub mod sources;
pub mod store;
pub mod telemetry;
pub mod text;
mod tls;
pub mod units;
