//! `PING_CHECK`: an ICMP echo to the real server.

use super::{common, end_connecting, start, Method};
use crate::parse::{Ctx, Keyword};

pub fn keyword() -> Keyword {
    Keyword::block(
        "PING_CHECK",
        Some(open),
        common::keywords(Some(false)),
        Some(close),
    )
}

fn open(ctx: &mut Ctx<'_>, _words: &[String]) {
    start(ctx, Method::Ping, true);
}

fn close(ctx: &mut Ctx<'_>) {
    end_connecting(ctx);
}
