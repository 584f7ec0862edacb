//! `TCP_CHECK`: a connection to the real server is the whole check.

use super::{common, end_connecting, start, Method};
use crate::parse::{Ctx, Keyword};

pub fn keyword() -> Keyword {
    Keyword::block(
        "TCP_CHECK",
        Some(open),
        common::keywords(Some(false)),
        Some(close),
    )
}

fn open(ctx: &mut Ctx<'_>, _words: &[String]) {
    start(ctx, Method::Tcp, true);
}

fn close(ctx: &mut Ctx<'_>) {
    end_connecting(ctx);
}
