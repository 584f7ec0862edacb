//! Helpers the test files share.

// Each test file is its own crate and uses only some of them.
#![allow(dead_code)]

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

/// `vrrp` with its checksum made right again after a forgery, so that only the forgery is
/// wrong: the pseudo-header is summed when the version field says 3.
pub fn resum(mut vrrp: Vec<u8>, src: IpAddr, dst: IpAddr) -> Vec<u8> {
    let octets = |a: IpAddr| match a {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    };
    let mut summed = Vec::new();
    if vrrp[0] >> 4 == 3 {
        summed.extend(octets(src));
        summed.extend(octets(dst));
        let len = u32::try_from(vrrp.len()).unwrap();
        if src.is_ipv6() {
            summed.extend(len.to_be_bytes());
            summed.extend([0, 0, 0, 112]);
        } else {
            summed.extend([0, 112]);
            summed.extend(u16::try_from(len).unwrap().to_be_bytes());
        }
    }
    vrrp[6..8].fill(0);
    summed.extend(&vrrp);
    if summed.len() % 2 == 1 {
        summed.push(0);
    }
    let mut sum: u32 = summed
        .chunks(2)
        .map(|w| u32::from(w[0]) << 8 | u32::from(w[1]))
        .sum();
    while sum > 0xffff {
        sum = (sum >> 16) + (sum & 0xffff);
    }
    vrrp[6..8].copy_from_slice(&(!(sum as u16)).to_be_bytes());
    vrrp
}
