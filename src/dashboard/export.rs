//! Downloads of the list's filtered set, all of it, as CSV or JSON with the
//! fields of `mentions list`: `id, topic, kind, at, source, domain, author,
//! title, url, excerpt, lang, sightings, undated`. Rows are read by
//! `Store::list` in one read transaction and streamed in chunks, so a
//! large set never sits in memory whole.

use crate::report::csv_field;
use crate::store::{ListFilter, Listed, ReadPool};
use axum::body::{Body, Bytes};
use chrono::SecondsFormat;
use serde_json::json;

/// Bytes gathered before a chunk goes out.
const CHUNK: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Json,
}

/// The CSV header line.
pub const CSV_HEADER: &str =
    "id,topic,kind,at,source,domain,author,title,url,excerpt,lang,sightings,undated\n";

fn at(m: &Listed) -> String {
    m.at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// One mention as a CSV line.
pub fn csv_row(m: &Listed) -> String {
    let opt = |v: &Option<String>| v.as_deref().map(csv_field).unwrap_or_default();
    format!(
        "{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
        m.id,
        csv_field(&m.topic),
        m.kind.as_str(),
        at(m),
        csv_field(&m.source),
        opt(&m.domain),
        opt(&m.author),
        csv_field(&m.title),
        csv_field(&m.url),
        csv_field(&m.excerpt),
        opt(&m.lang),
        m.sightings.map(|n| n.to_string()).unwrap_or_default(),
        m.undated
    )
}

/// One mention as a JSON object.
pub fn json_value(m: &Listed) -> serde_json::Value {
    json!({
        "id": m.id,
        "topic": m.topic,
        "kind": m.kind.as_str(),
        "at": at(m),
        "source": m.source,
        "domain": m.domain,
        "author": m.author,
        "title": m.title,
        "url": m.url,
        "excerpt": m.excerpt,
        "lang": m.lang,
        "sightings": m.sightings,
        "undated": m.undated,
    })
}

/// A body that streams every mention `filter` selects (its cursor ignored).
/// A read that fails midway ends the body with an error, so the client
/// sees a broken download rather than a short file that looks whole.
pub fn body(pool: ReadPool, filter: ListFilter, format: Format) -> Body {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    tokio::spawn(async move {
        let sender = tx.clone();
        let read = pool
            .read(move |store| {
                let filter = ListFilter {
                    after: None,
                    ..filter
                };
                let mut buf = String::with_capacity(CHUNK + 4096);
                buf.push_str(match format {
                    Format::Csv => CSV_HEADER,
                    Format::Json => "[",
                });
                let mut first = true;
                let mut gone = false;
                store.list(&filter, None, &mut |m| {
                    match format {
                        Format::Csv => buf.push_str(&csv_row(&m)),
                        Format::Json => {
                            buf.push_str(if first { "\n" } else { ",\n" });
                            buf.push_str(&json_value(&m).to_string());
                        }
                    }
                    first = false;
                    if buf.len() >= CHUNK {
                        let chunk = Bytes::from(std::mem::take(&mut buf));
                        if tx.blocking_send(Ok(chunk)).is_err() {
                            gone = true; // the client left
                            return false;
                        }
                    }
                    true
                })?;
                if !gone {
                    if format == Format::Json {
                        buf.push_str(if first { "]\n" } else { "\n]\n" });
                    }
                    let _ = tx.blocking_send(Ok(Bytes::from(buf)));
                }
                Ok(())
            })
            .await;
        if let Err(e) = read {
            tracing::warn!("dashboard download: cannot read the database: {e}");
            let _ = sender
                .send(Err(std::io::Error::other("the database cannot be read")))
                .await;
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    Body::from_stream(stream)
}

/// A file name for the download: topic and window, nothing a header or a
/// file system could misread.
pub fn file_name(topic: &str, from: &str, to: &str, format: Format) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    };
    format!(
        "mentions-{}-{}-{}.{}",
        clean(topic),
        clean(&from.replace([':', '-'], "")),
        clean(&to.replace([':', '-'], "")),
        match format {
            Format::Csv => "csv",
            Format::Json => "json",
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::Kind;
    use chrono::TimeZone;

    #[test]
    fn rows_have_the_list_fields_in_order() {
        let m = Listed {
            id: 7,
            topic: "nk".into(),
            kind: Kind::Social,
            at: chrono::Utc
                .with_ymd_and_hms(2026, 11, 24, 9, 30, 0)
                .unwrap(),
            at_secs: 0,
            source: "masto".into(),
            domain: Some("chaos.social".into()),
            author: None,
            title: "a, \"b\"".into(),
            url: "https://chaos.social/@a/1".into(),
            excerpt: "line\nbreak".into(),
            lang: Some("de".into()),
            sightings: Some(2),
            undated: false,
            excluded_by: None,
            identity: "x".into(),
        };
        assert_eq!(
            csv_row(&m),
            "7,nk,social,2026-11-24T09:30:00Z,masto,chaos.social,,\"a, \"\"b\"\"\",https://chaos.social/@a/1,\"line\nbreak\",de,2,false\n"
        );
        let v = json_value(&m);
        assert_eq!(v["author"], serde_json::Value::Null);
        assert_eq!(v["sightings"], 2);
        assert_eq!(
            file_name(
                "nk/../x",
                "2026-11-24T09:30:00Z",
                "2026-11-25T09:30:00Z",
                Format::Csv
            ),
            "mentions-nk____x-20261124T093000Z-20261125T093000Z.csv"
        );
    }
}
