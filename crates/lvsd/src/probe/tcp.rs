//! `TCP_CHECK`: the real server is up when a TCP connection to it is established within
//! connect_timeout (check_tcp.c, `tcp_check_thread`); the connection is closed at once.

use super::connect::{bounded, Stage, Target};
use super::Outcome;

pub async fn run(target: &Target) -> Outcome {
    let stage = Stage::new("connect");
    match bounded(target.timeout, &stage, target.tcp()).await {
        Ok(_) => Outcome::Up { weight: None },
        Err(reason) => Outcome::Down(reason),
    }
}
