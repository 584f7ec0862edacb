//! PLACEHOLDER
pub fn effective(_: &crate::Config) -> String { String::new() }
