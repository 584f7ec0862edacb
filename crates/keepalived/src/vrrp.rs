//! PLACEHOLDER (being written by a helper): vrrp.
use crate::parse::Root;
use crate::{Config, Problems};
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Vrrp {}
pub fn roots() -> Vec<Root> {
    Vec::new()
}
pub fn validate(_: &mut Config, _: Option<&[String]>, _: &mut Problems) {}
pub fn print(_: &Vrrp, _: &mut String) {}
