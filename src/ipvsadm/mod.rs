//! ipvsadm's language: the grammar of its command lines and of rules texts (`-R`, and the
//! files `apply` and `diff` read), its messages and its output formats. The emulator
//! ([`crate::compat`]) speaks it, and so do lvsadm's own commands where they read rules or
//! print command lines; it neither runs anything nor reaches the kernel.

mod failure;
pub mod fast;
pub mod messages;
pub mod parse;
mod popt;
pub mod render;
pub mod revive;
pub mod rules;
#[cfg(test)]
mod save_roundtrip;

pub use failure::Failure;
pub use messages::{cannot_initialize, describe, kernel};
pub use parse::{into_request, parse, Command, Format, Listing};
pub use render::{mask_text, request_line, sched_flag_names};
pub use rules::parse_rules;
