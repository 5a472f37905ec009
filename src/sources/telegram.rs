//! `telegram` sources: public channel previews `/s/CHANNEL`, older pages
//! with `?before=ID`.

use super::platform::{Context, Harvest};
use url::Url;

pub async fn read(_ctx: &Context<'_>, _url: &Url, _channels: &[String]) -> Harvest {
    unimplemented!("telegram::read")
}
