//! The forwarding methods a real server is set up for: what `realserver setup` does depends
//! on it, and the records keep it for teardown and status.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Direct routing (`-g`).
    Dr,
    /// IP-in-IP tunnelling (`-i`).
    Tun,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Dr => "dr",
            Mode::Tun => "tun",
        }
    }
}
