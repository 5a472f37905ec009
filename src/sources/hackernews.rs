//! `hackernews` sources: the Algolia API `/api/v1/search_by_date` for
//! stories and comments.

use super::platform::{Context, Harvest};
use url::Url;

pub async fn read(_ctx: &Context<'_>, _url: &Url) -> Harvest {
    unimplemented!("hackernews::read")
}
