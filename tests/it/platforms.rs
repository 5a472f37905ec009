//! One topic across web, social and forum sources in one crawl: the
//! footer's three numbers come out exact.

use crate::server::{Route, TestServer};
use crate::{mentions, write_config};

fn status(id: &str, user: &str, content: &str, reblog: Option<String>) -> String {
    let reblog = reblog.unwrap_or_else(|| "null".to_owned());
    format!(
        r#"{{"id":"{id}","created_at":"2026-11-24T10:{min}:00.000Z","in_reply_to_id":null,"in_reply_to_account_id":null,"sensitive":false,"spoiler_text":"","visibility":"public","language":"de","uri":"https://social.example/users/{user}/statuses/{id}","url":"https://social.example/@{user}/{id}","replies_count":0,"reblogs_count":0,"favourites_count":0,"edited_at":null,"content":"{content}","reblog":{reblog},"account":{{"id":"{id}0","username":"{user}","acct":"{user}","display_name":"{user}","url":"https://social.example/@{user}"}},"media_attachments":[],"mentions":[],"tags":[],"emojis":[],"card":null,"poll":null}}"#,
        min = &id[id.len() - 2..],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_social_and_forum_counts_in_one_footer() {
    let server = TestServer::start().await;
    let base = server.url("");
    server.route("/robots.txt", Route::status(404));
    server.route(
        "/feed.xml",
        Route::ok(
            "application/rss+xml",
            format!(
                r#"<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Zeitung</title><link>{base}/</link><description>Politik</description>
<item><title>Nordkorea liefert Raketen an Russland</title><link>{base}/a/1.html</link><pubDate>Tue, 24 Nov 2026 08:00:00 +0100</pubDate></item>
<item><title>North Korean troops fight for Russia in Kursk</title><link>{base}/a/2.html</link><pubDate>Tue, 24 Nov 2026 09:00:00 +0100</pubDate></item>
<item><title>Bundestag berät den Haushalt</title><link>{base}/a/3.html</link><pubDate>Tue, 24 Nov 2026 10:00:00 +0100</pubDate></item>
</channel></rss>"#
            ),
        ),
    );
    let original = status(
        "11300000000000011",
        "anna",
        r#"<p>Nordkorea schickt weitere Soldaten nach <a href=\"https://social.example/tags/russland\" class=\"mention hashtag\" rel=\"tag\">#<span>Russland</span></a></p>"#,
        None,
    );
    let statuses = format!(
        "[{},{},{}]",
        status(
            "11300000000000013",
            "bob",
            r#"<p>Putin dankt <a href=\"https://social.example/tags/nordkorea\" class=\"mention hashtag\" rel=\"tag\">#<span>Nordkorea</span></a> – Russland und Pjöngjang rücken zusammen</p>"#,
            None
        ),
        // A boost of anna's status: counts as the original, which is also listed.
        status("11300000000000012", "carl", "", Some(original.clone())),
        original,
    );
    server.route(
        "/api/v1/timelines/tag/nordkorea",
        Route::ok("application/json", statuses),
    );
    server.route(
        "/api/v1/search_by_date",
        Route::ok(
            "application/json",
            r#"{"hits":[
{"created_at":"2026-11-24T09:00:00Z","title":"North Korean troops in Russia's Kursk region","url":"https://example.com/nk","author":"pg","points":120,"story_text":null,"comment_text":null,"num_comments":2,"story_id":null,"story_title":null,"story_url":null,"parent_id":null,"created_at_i":1795510800,"_tags":["story","author_pg","story_4242"],"objectID":"4242"},
{"created_at":"2026-11-24T09:30:00Z","title":null,"url":null,"author":"dang","points":null,"story_text":null,"comment_text":"<p>The deployment of <i>North Korean</i> soldiers shows how short Russia&#x27;s reserves are.","num_comments":null,"story_id":4242,"story_title":"North Korean troops in Russia's Kursk region","story_url":"https://example.com/nk","parent_id":4242,"created_at_i":1795512600,"_tags":["comment","author_dang","story_4242"],"objectID":"4243"},
{"created_at":"2026-11-24T09:40:00Z","title":null,"url":null,"author":"tptacek","points":null,"story_text":null,"comment_text":"Off topic, but the site is slow today.","num_comments":null,"story_id":4242,"story_title":"North Korean troops in Russia's Kursk region","story_url":"https://example.com/nk","parent_id":4243,"created_at_i":1795513200,"_tags":["comment","author_tptacek","story_4242"],"objectID":"4244"}
],"nbHits":3,"page":0,"nbPages":1,"hitsPerPage":100,"exhaustiveNbHits":true,"query":"north korea","params":"query=north+korea"}"#,
        ),
    );
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &format!(
            r##"
[crawler]
user_agent = "mentions-test/1.0"
timeout = "5s"

[[topic]]
name = "nk-ru"
query = '(nordkorea* OR "north korea" OR "north korean") AND (russland* OR russia* OR kursk)'

[[source]]
name = "zeitung"
type = "feed"
url = "{base}/feed.xml"

[[source]]
name = "fedi"
type = "mastodon"
url = "{base}"
hashtags = ["#nordkorea"]
lookback = "36500d"

[[source]]
name = "hn"
type = "hackernews"
url = "{base}"
search = "north korea"
lookback = "36500d"
"##
        ),
    );
    let crawl = mentions(&config, &["crawl"]).await;
    assert_eq!(crawl.code, 0, "{crawl:?}");
    let report = mentions(
        &config,
        &[
            "report",
            "--lang",
            "de",
            "--from",
            "2026-11-01T00:00:00Z",
            "--to",
            "2026-12-01T00:00:00Z",
        ],
    )
    .await;
    assert_eq!(report.code, 0, "{report:?}");
    // zeitung: 2 of 3 items; fedi: bob and anna (the boost is anna's status);
    // hn: the story and one comment (the other comment does not match).
    assert!(
        report
            .stdout
            .ends_with("Quellen gesamt\nWeb: 2, Social: 2, Foren: 2\n"),
        "{}",
        report.stdout
    );
    let json = mentions(
        &config,
        &[
            "report",
            "--topic",
            "nk-ru",
            "--format",
            "json",
            "--from",
            "2026-11-01T00:00:00Z",
            "--to",
            "2026-12-01T00:00:00Z",
        ],
    )
    .await
    .json();
    let by_source: Vec<(String, u64, bool)> = json["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_owned(),
                s["mentions"].as_u64().unwrap(),
                s["last_error"].is_null(),
            )
        })
        .collect();
    assert_eq!(
        by_source,
        [
            ("zeitung".to_owned(), 2, true),
            ("fedi".to_owned(), 2, true),
            ("hn".to_owned(), 2, true)
        ]
    );
    // A second crawl adds nothing.
    let again = mentions(&config, &["crawl"]).await;
    assert_eq!(again.code, 0, "{again:?}");
    let report2 = mentions(
        &config,
        &[
            "report",
            "--lang",
            "de",
            "--from",
            "2026-11-01T00:00:00Z",
            "--to",
            "2026-12-01T00:00:00Z",
        ],
    )
    .await;
    assert_eq!(report2.stdout, report.stdout);
}
