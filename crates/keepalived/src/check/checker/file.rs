//! `FILE_CHECK`: the real server's weight follows a number in a file, through a top-level
//! `track_file` block. keepalived does not run it as a checker (no timers, no retries).
//!
//! Whether the `track_file` it names exists is for [`super::references`], since those blocks
//! are not part of this model.

use super::{current, drop_current, mark_end, start, Method};
use crate::parse::{Ctx, Keyword};
use crate::problem::{Kind, Place};
use crate::value;

/// What a `FILE_CHECK` block says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct File {
    /// The `track_file` block's name, and the line naming it: the last given, until
    /// [`super::references`] settles it as keepalived does (the last that exists).
    pub track_file: Option<(String, Place)>,
    /// Every `track_file` line, in order, for [`super::references`].
    pub track_file_lines: Vec<(String, Place)>,
    /// `weight`; `None` takes the track_file block's.
    pub weight: Option<i32>,
    pub reverse: bool,
}

pub fn keyword() -> Keyword {
    let sub = vec![
        Keyword::new("track_file", track_file),
        Keyword::new("weight", weight),
    ];
    Keyword::block("FILE_CHECK", Some(open), sub, Some(close))
}

fn open(ctx: &mut Ctx<'_>, _words: &[String]) {
    start(ctx, Method::File(File::default()), false);
}

fn file<'c>(ctx: &'c mut Ctx<'_>) -> Option<&'c mut File> {
    match &mut current(ctx)?.method {
        Method::File(f) => Some(f),
        _ => None,
    }
}

fn track_file(ctx: &mut Ctx<'_>, words: &[String]) {
    let Some(v) = ctx.arg(words, 1) else {
        return;
    };
    let at = ctx.at;
    if let Some(f) = file(ctx) {
        f.track_file = Some((v.to_string(), at));
        f.track_file_lines.push((v.to_string(), at));
    }
}

fn weight(ctx: &mut Ctx<'_>, words: &[String]) {
    let Some(v) = words.get(1) else {
        ctx.report(Kind::General, "track file weight missing");
        return;
    };
    let Some(w) = value::int(ctx, v, -i32::MAX, i32::MAX) else {
        ctx.report(
            Kind::General,
            "weight for track file must be in [-2147483647..2147483647] inclusive. Ignoring...",
        );
        return;
    };
    let reverse = match words.get(2).map(String::as_str) {
        None | Some("noreverse") => false,
        Some("reverse") => true,
        Some(other) => {
            ctx.report(
                Kind::General,
                format!("unknown track file weight option {other} - ignoring"),
            );
            return;
        }
    };
    if let Some(f) = file(ctx) {
        f.weight = Some(w);
        f.reverse = reverse;
    }
}

fn close(ctx: &mut Ctx<'_>) {
    mark_end(ctx);
    let Some(none) = file(ctx).map(|f| f.track_file.is_none()) else {
        return;
    };
    if none {
        ctx.explain(
            Kind::General,
            "FILE_CHECK has no track_file specified - ignoring",
            Some("keepalived drops the FILE_CHECK"),
            None,
        );
        drop_current(ctx);
    }
}
