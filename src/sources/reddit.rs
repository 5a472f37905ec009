//! `reddit` sources: `/search.json` or `/r/SUB/search.json`, optionally
//! through app-only OAuth on `oauth.reddit.com`.

use super::platform::{Context, Harvest, Secret};
use url::Url;

pub async fn read(
    _ctx: &Context<'_>,
    _url: &Url,
    _subreddit: Option<&str>,
    _credentials: Option<&(String, Secret)>,
) -> Harvest {
    unimplemented!("reddit::read")
}
