//! `bluesky` sources: `app.bsky.feed.searchPosts`, optionally logged in
//! through `com.atproto.server.createSession`.

use super::platform::{Context, Harvest, Secret};
use url::Url;

pub async fn read(_ctx: &Context<'_>, _url: &Url, _login: Option<&(String, Secret)>) -> Harvest {
    unimplemented!("bluesky::read")
}
