//! `lemmy` sources: `/api/v3/search` for posts and comments.

use super::platform::{Context, Harvest};
use url::Url;

pub async fn read(_ctx: &Context<'_>, _url: &Url) -> Harvest {
    unimplemented!("lemmy::read")
}
