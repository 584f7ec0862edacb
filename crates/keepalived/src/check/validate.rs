//! PLACEHOLDER (I write this)
use crate::{Config, Problems};
pub fn validate(_: &mut Config, _: &mut Problems) {}
