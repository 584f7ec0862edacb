//! Helpers the test files share.

use std::net::IpAddr;

pub fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

pub fn addr(text: &str) -> IpAddr {
    text.parse().unwrap()
}
