//! Hints for keywords met where they do not belong.

use crate::problem::{Kind, Problem};

/// Adds, to each unknown keyword that is a keyword elsewhere, where it belongs.
pub fn add(problems: &mut [Problem], known: &[(&'static str, String)]) {
    for p in problems
        .iter_mut()
        .filter(|p| p.kind == Kind::UnknownKeyword && p.hint.is_none())
    {
        let Some(name) = p
            .message
            .strip_prefix("Unknown keyword '")
            .and_then(|m| m.strip_suffix('\''))
        else {
            continue;
        };
        let mut blocks: Vec<&str> = known
            .iter()
            .filter(|(k, _)| *k == name)
            .map(|(_, b)| b.as_str())
            .collect();
        blocks.dedup();
        if blocks.is_empty() {
            continue;
        }
        p.hint = Some(format!(
            "'{name}' is a keyword of {}: a '}}' before it may close its block too early, or it \
             is in the wrong block",
            blocks.join(", ")
        ));
    }
}
