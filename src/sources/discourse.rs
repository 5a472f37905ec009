//! `discourse` sources: `/search.json`; a post's text is its topic's title
//! plus its blurb.

use super::platform::{Context, Harvest};
use url::Url;

pub async fn read(_ctx: &Context<'_>, _url: &Url) -> Harvest {
    unimplemented!("discourse::read")
}
