//! `-L -c`: the connection table, read from `/proc/net/ip_vs_conn` as ipvsadm reads it.

use std::io::{self, BufRead, Write};
use std::net::{IpAddr, Ipv4Addr};

use ipvs::Protocol;

use crate::ipvsadm::render::addrport;
use crate::ipvsadm::Failure;
use crate::resolve;

pub const PROC_FILE: &str = "/proc/net/ip_vs_conn";

/// Lists the connections of `input` (the proc file's contents) to `out`.
pub fn list(
    input: impl BufRead,
    out: &mut impl Write,
    numeric: bool,
    persistent_conn: bool,
) -> Result<(), Failure> {
    let io_fail = |e: io::Error| Failure::output(&e);
    let mut lines = input.split(b'\n');
    match lines.next() {
        Some(Ok(_)) => {}
        _ => {
            return Err(Failure::new(
                1,
                format!("unexpected input from {PROC_FILE}"),
            ))
        }
    }
    writeln!(out, "IPVS connection entries").map_err(io_fail)?;
    if persistent_conn {
        writeln!(
            out,
            "pro expire {:<11} {:<18} {:<18} {:<18} {:<16} pe_data",
            "state", "source", "virtual", "destination", "pe name"
        )
    } else {
        writeln!(
            out,
            "pro expire {:<11} {:<18} {:<18} destination",
            "state", "source", "virtual"
        )
    }
    .map_err(io_fail)?;
    for line in lines {
        let line = line.map_err(|e| Failure::new(1, format!("{PROC_FILE}: {e}")))?;
        let line = String::from_utf8_lossy(&line);
        let fields: Vec<&str> = line.split_ascii_whitespace().collect();
        if fields.is_empty() {
            // ipvsadm's sscanf meets the end of its input here and it exits at once.
            return Err(Failure::new(1, ""));
        }
        entry(out, &fields, numeric, persistent_conn).map_err(io_fail)?;
    }
    Ok(())
}

/// `strtoul(s, NULL, 16)` cut to 32 bits: the kernel prints IPv4 addresses as hex words.
fn hex_u32(s: &str) -> u32 {
    let s = s.trim_start();
    let s = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s);
    let digits: String = s.chars().take_while(char::is_ascii_hexdigit).collect();
    u64::from_str_radix(&digits, 16).map_or(if digits.is_empty() { 0 } else { u32::MAX }, |v| {
        v.min(u64::from(u32::MAX)) as u32
    })
}

/// `%hX`.
fn hex_u16(s: &str) -> u16 {
    let digits: String = s.chars().take_while(char::is_ascii_hexdigit).collect();
    u32::from_str_radix(&digits, 16).map_or(0, |v| v as u16)
}

fn address(s: &str, v6: bool) -> IpAddr {
    if v6 {
        if let Some(a) = resolve::parse_ipv6(s) {
            return IpAddr::V6(a);
        }
    }
    match s.parse::<Ipv4Addr>() {
        Ok(a) => IpAddr::V4(a),
        Err(_) => IpAddr::V4(Ipv4Addr::from(hex_u32(s))),
    }
}

fn entry(out: &mut impl Write, f: &[&str], numeric: bool, persistent_conn: bool) -> io::Result<()> {
    let field = |i: usize| f.get(i).copied().unwrap_or("");
    let protocol = match field(0) {
        "TCP" => Protocol::Tcp,
        "UDP" => Protocol::Udp,
        "SCTP" => Protocol::Sctp,
        _ => Protocol::Other(0),
    };
    let client_v6 = resolve::parse_ipv6(field(1)).is_some();
    let dest_v6 = resolve::parse_ipv6(field(5)).is_some();
    let name = |addr: &str, port: &str, v6: bool| {
        addrport(&address(addr, v6), hex_u16(port), protocol, numeric)
    };
    let cname = name(field(1), field(2), client_v6);
    let vname = name(field(3), field(4), client_v6);
    let dname = name(field(5), field(6), dest_v6);
    let expires: u32 = field(8).parse::<i64>().map_or(0, |v| v as u32);
    let expire = format!("{:02}:{:02}", expires / 60, expires % 60);
    let (proto, state) = (field(0), field(7));
    if persistent_conn && f.len() >= 11 {
        writeln!(
            out,
            "{proto:<3} {expire:<6} {state:<11} {cname:<18} {vname:<18} {dname:<16} {:<18} {}",
            f[9], f[10]
        )
    } else {
        writeln!(
            out,
            "{proto:<3} {expire:<6} {state:<11} {cname:<18} {vname:<18} {dname}"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(input: &str, persistent: bool) -> (String, Result<(), Failure>) {
        let mut out = Vec::new();
        let res = list(input.as_bytes(), &mut out, true, persistent);
        (String::from_utf8(out).unwrap(), res)
    }

    #[test]
    fn kernel_lines() {
        let input =
            "Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n\
TCP 7F000001 D431 0A000001 0050 C0A80101 0050 ESTABLISHED     899\n\
UDP C0A80A0B 13C4 0A000003 13C4 C0A80105 13C4 UDP              10 sip 1234@example.com\n\
TCP 0A000002 0050 0A000001 0050 2001:0db8:0000:0000:0000:0000:0000:0010 0050 FIN_WAIT 100000\n";
        let (out, res) = render(input, false);
        assert!(res.is_ok());
        assert_eq!(
            out,
            "IPVS connection entries\n\
pro expire state       source             virtual            destination\n\
TCP 14:59  ESTABLISHED 127.0.0.1:54321    10.0.0.1:80        192.168.1.1:80\n\
UDP 00:10  UDP         192.168.10.11:5060 10.0.0.3:5060      192.168.1.5:5060\n\
TCP 1666:40 FIN_WAIT    10.0.0.2:80        10.0.0.1:80        [2001:db8::10]:80\n"
        );
        let (out, _) = render(input, true);
        assert!(out.contains(
            "UDP 00:10  UDP         192.168.10.11:5060 10.0.0.3:5060      192.168.1.5:5060 sip                1234@example.com\n"
        ));
    }

    #[test]
    fn blank_line_ends_the_listing_with_status_1() {
        let (out, res) = render(
            "header\nTCP 7F000001 D431 0A000001 0050 C0A80101 0050 NONE 1\n\nmore\n",
            false,
        );
        assert_eq!(res.unwrap_err().status, 1);
        assert_eq!(out.lines().count(), 3);
    }
}
