//! PLACEHOLDER (helper B writes this): the checker blocks of a real server.
use super::{RealServer, VirtualServer};
use crate::parse::Keyword;
use crate::Problems;
#[derive(Clone, Debug, PartialEq)]
pub struct Checker {}
/// The checker blocks (`HTTP_GET`, ...) for the `real_server` level.
pub fn keywords() -> Vec<Keyword> {
    Vec::new()
}
/// Fills in keepalived's defaults: checker < real server < virtual server < default.
pub fn resolve(_vs: &VirtualServer, _rs: &RealServer, _c: &mut Checker, _problems: &mut Problems) {}
pub fn print(_: &Checker, _: &mut String, _: &str) {}
