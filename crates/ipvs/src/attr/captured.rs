//! Replies captured from Debian's 6.1 kernel (`tests/kernel/raw.rs` prints them): each parses
//! into the values ipvsadm showed for the same table and emits back byte for byte.

use std::net::IpAddr;

use super::*;
use crate::model::*;

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn round_trip<A: Attribute + std::fmt::Debug>(hex: &str) -> Vec<A> {
    let bytes = unhex(hex);
    let attrs = parse_attrs::<A>(&bytes).unwrap();
    assert_eq!(emit_attrs(&attrs), bytes);
    attrs
}

fn only<T: Clone>(attrs: &[CmdAttr], pick: impl Fn(&CmdAttr) -> Option<T>) -> T {
    attrs.iter().find_map(pick).unwrap()
}

/// `-A -u [2001:db8::1]:53 -s sh -b sh-port -o`, with zero 32- and 64-bit statistics.
const SERVICE_V6: &str = "2c010100060001000a00000006000200110000001400030020010db8000000000000000000000001060004000035000007000600736800000c00070016000000ffffffff080008000000000008000900800000005c000a000800010000000000080002000000000008000300000000000c00040000000000000000000c0005000000000000000000080006000000000008000700000000000800080000000000080009000000000008000a00000000007c000c000c00010000000000000000000c00020000000000000000000c00030000000000000000000c00040000000000000000000c00050000000000000000000c00060000000000000000000c00070000000000000000000c00080000000000000000000c00090000000000000000000c000a000000000000000000";

/// `-A -t 192.0.2.1:80 -s rr -p 60 -M 255.255.255.0 --pe sip`.
const SERVICE_V4_PE: &str = "340101000600010002000000060002000600000014000300c00002010000000000000000000000000600040000500000070006007272000008000b00736970000c00070003000000ffffffff080008003c00000008000900ffffff005c000a000800010000000000080002000000000008000300000000000c00040000000000000000000c0005000000000000000000080006000000000008000700000000000800080000000000080009000000000008000a00000000007c000c000c00010000000000000000000c00020000000000000000000c00030000000000000000000c00040000000000000000000c00050000000000000000000c00060000000000000000000c00070000000000000000000c00080000000000000000000c00090000000000000000000c000a000000000000000000";

/// `-a -t 192.0.2.1:80 -r 198.51.100.4:80 -i --tun-type gue --tun-port 6080 --tun-csum`.
const DEST_GUE: &str = "5001020014000100c633640400000000000000000000000006000200005000000800030002000000080004000100000005000d000100000006000e0017c0000006000f00010000000800050000000000080006000000000008000700000000000800080000000000080009000000000006000b00020000005c000a000800010000000000080002000000000008000300000000000c00040000000000000000000c0005000000000000000000080006000000000008000700000000000800080000000000080009000000000008000a00000000007c000c000c00010000000000000000000c00020000000000000000000c00030000000000000000000c00040000000000000000000c00050000000000000000000c00060000000000000000000c00070000000000000000000c00080000000000000000000c00090000000000000000000c000a000000000000000000";

/// `--start-daemon master --mcast-interface s0 --syncid 3 --mcast-port 8850`.
const DAEMON: &str = "3c00030008000100010000000700020073300000080003000300000006000400c00500000600070092220000050008000100000008000500e0000051";

const CONFIG: &str = "08000400840300000800050078000000080006002c010000";
const INFO: &str = "08000100010201000800020000100000";

#[test]
fn ipv6_service() {
    let attrs = round_trip::<CmdAttr>(SERVICE_V6);
    let svc = service_from_attrs(&only(&attrs, |a| match a {
        CmdAttr::Service(s) => Some(s.clone()),
        _ => None,
    }))
    .unwrap();
    assert_eq!(
        svc.key,
        ServiceKey::Addr {
            protocol: Protocol::Udp,
            addr: "2001:db8::1".parse().unwrap(),
            port: 53
        }
    );
    assert_eq!(svc.scheduler, "sh");
    assert_eq!(
        svc.flags.0,
        ServiceFlags::HASHED | ServiceFlags::ONEPACKET | ServiceFlags::SCHED2
    );
    assert_eq!(svc.netmask, 128);
}

#[test]
fn ipv4_persistent_service_with_pe() {
    let attrs = round_trip::<CmdAttr>(SERVICE_V4_PE);
    let CmdAttr::Service(s) = &attrs[0] else {
        panic!()
    };
    let svc = service_from_attrs(s).unwrap();
    assert_eq!(svc.pe_name.as_deref(), Some("sip"));
    assert_eq!((svc.timeout, svc.netmask), (60, 0xffff_ff00));
    assert!(svc.persistent());
    assert!(s.iter().any(|a| matches!(a, ServiceAttr::Stats64(_))));
}

#[test]
fn gue_destination() {
    round_trip::<CmdAttr>(DEST_GUE);
    let d = crate::reply::destination(&unhex(DEST_GUE), Family::V4).unwrap();
    assert_eq!(d.addr, "198.51.100.4".parse::<IpAddr>().unwrap());
    assert_eq!(
        (d.port, d.forward, d.weight),
        (80, ForwardMethod::Tunnel, 1)
    );
    assert_eq!(
        (d.tunnel_type, d.tunnel_port, d.tunnel_flags),
        (TunnelType::Gue, 6080, TunnelFlags(TunnelFlags::CSUM))
    );
}

#[test]
fn daemon_config_and_info() {
    let attrs = round_trip::<CmdAttr>(DAEMON);
    let CmdAttr::Daemon(d) = &attrs[0] else {
        panic!()
    };
    let d = daemon_from_attrs(d).unwrap();
    assert_eq!(
        (d.state, d.mcast_ifn.as_str(), d.syncid),
        (DaemonState::Master, "s0", 3)
    );
    assert_eq!((d.mcast_port, d.mcast_ttl, d.sync_maxlen), (8850, 1, 1472));
    assert_eq!(d.mcast_group, Some("224.0.0.81".parse().unwrap()));
    assert_eq!(
        round_trip::<CmdAttr>(CONFIG),
        vec![
            CmdAttr::TimeoutTcp(900),
            CmdAttr::TimeoutTcpFin(120),
            CmdAttr::TimeoutUdp(300)
        ]
    );
    let info = info_from_attrs(&round_trip::<InfoAttr>(INFO)).unwrap();
    assert_eq!(
        (info.version_triple(), info.conn_tab_size),
        ((1, 2, 1), 4096)
    );
}

#[test]
fn unknown_attributes_at_every_level_survive() {
    // The GUE destination with an attribute from some future kernel appended to the nest.
    let mut bytes = unhex(DEST_GUE);
    let extra = [8u8, 0, 99, 0, 1, 2, 3, 4];
    bytes.extend_from_slice(&extra);
    let len = u16::from_ne_bytes([bytes[0], bytes[1]]) + 8;
    bytes[..2].copy_from_slice(&len.to_ne_bytes());
    let attrs = parse_attrs::<CmdAttr>(&bytes).unwrap();
    assert_eq!(emit_attrs(&attrs), bytes);
    let CmdAttr::Dest(d) = &attrs[0] else {
        panic!()
    };
    assert_eq!(d.last(), Some(&DestAttr::Other(99, vec![1, 2, 3, 4])));
    assert!(crate::reply::destination(&bytes, Family::V4).is_ok());
}

/// A small deterministic generator, so that a failure names its case.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Decodes `bytes` as every layer would, model conversion included; only errors may come out.
fn decode_everything(bytes: &[u8]) {
    if let Ok(attrs) = parse_attrs::<CmdAttr>(bytes) {
        for a in &attrs {
            match a {
                CmdAttr::Service(s) => {
                    drop(service_from_attrs(s));
                    drop(crate::reply::service(bytes));
                }
                CmdAttr::Dest(_) => drop(crate::reply::destination(bytes, Family::V6)),
                CmdAttr::Daemon(d) => drop(daemon_from_attrs(d)),
                _ => {}
            }
        }
        let _ = emit_attrs(&attrs);
    }
    if let Ok(info) = parse_attrs::<InfoAttr>(bytes) {
        let _ = info_from_attrs(&info);
    }
    for msg in crate::wire::Messages::new(bytes).flatten() {
        let _ = msg.error_code();
        if let Ok((_, attrs)) = msg.genl() {
            let _ = parse_attrs::<CmdAttr>(attrs);
        }
    }
}

#[test]
fn corrupted_replies_are_errors_never_panics() {
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    for fixture in [SERVICE_V6, SERVICE_V4_PE, DEST_GUE, DAEMON, CONFIG, INFO] {
        let clean = unhex(fixture);
        for _ in 0..3000 {
            let mut bytes = clean.clone();
            for _ in 0..1 + rng.next() % 4 {
                let i = (rng.next() as usize) % bytes.len();
                bytes[i] = rng.next() as u8;
            }
            let cut = (rng.next() as usize) % (bytes.len() + 1);
            decode_everything(&bytes);
            decode_everything(&bytes[..cut]);
        }
    }
    for _ in 0..20000 {
        let len = (rng.next() % 96) as usize;
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        decode_everything(&bytes);
    }
}
