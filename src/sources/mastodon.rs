//! `mastodon` sources: `/api/v1/timelines/tag/:tag` per hashtag, paged by
//! the `Link` header; with an access token also `/api/v2/search`.

use super::platform::{Context, Harvest, Secret};
use url::Url;

pub async fn read(
    _ctx: &Context<'_>,
    _url: &Url,
    _hashtags: &[String],
    _token: Option<&Secret>,
) -> Harvest {
    unimplemented!("mastodon::read")
}
