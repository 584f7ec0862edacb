//! Property tests: every service and destination the model can hold goes out as a request and
//! comes back from a reply (a netlink message as the kernel frames it, counters included)
//! unchanged.

use std::net::IpAddr;

use proptest::prelude::*;

use super::*;
use crate::model::*;
use crate::reply::{decode, Reply};
use crate::request::Request;

fn ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(IpAddr::from),
        any::<[u8; 16]>().prop_map(IpAddr::from),
    ]
}

fn family() -> impl Strategy<Value = Family> {
    prop_oneof![Just(Family::V4), Just(Family::V6)]
}

fn key() -> impl Strategy<Value = ServiceKey> {
    prop_oneof![
        (any::<u16>(), ip(), any::<u16>()).prop_map(|(p, addr, port)| ServiceKey::Addr {
            protocol: Protocol::from_number(p),
            addr,
            port,
        }),
        (family(), 1..=u32::MAX).prop_map(|(family, mark)| ServiceKey::Fwmark { family, mark }),
    ]
}

fn stats() -> impl Strategy<Value = Stats> {
    any::<[u64; 10]>().prop_map(|v| Stats {
        conns: v[0],
        inpkts: v[1],
        outpkts: v[2],
        inbytes: v[3],
        outbytes: v[4],
        cps: v[5],
        inpps: v[6],
        outpps: v[7],
        inbps: v[8],
        outbps: v[9],
    })
}

prop_compose! {
    fn service()(
        key in key(),
        scheduler in "[a-z][a-z0-9_-]{0,14}",
        flags in any::<u32>(),
        timeout in any::<u32>(),
        netmask in any::<u32>(),
        pe_name in proptest::option::of("[a-z]{1,15}"),
        stats in stats(),
    ) -> Service {
        Service { key, scheduler, flags: ServiceFlags(flags), timeout, netmask, pe_name, stats }
    }
}

prop_compose! {
    fn destination()(
        addr in ip(),
        port in any::<u16>(),
        forward in any::<u32>(),
        settings in any::<[u32; 3]>(),
        tunnel in (any::<u8>(), any::<u16>(), any::<u16>()),
        conns in any::<[u32; 3]>(),
        stats in stats(),
    ) -> Destination {
        Destination {
            addr,
            port,
            forward: ForwardMethod::from_code(forward),
            weight: settings[0],
            upper_threshold: settings[1],
            lower_threshold: settings[2],
            tunnel_type: TunnelType::from_code(tunnel.0),
            tunnel_port: tunnel.1,
            tunnel_flags: TunnelFlags(tunnel.2),
            active_conns: conns[0],
            inactive_conns: conns[1],
            persistent_conns: conns[2],
            stats,
        }
    }
}

/// One netlink message carrying `attrs` as the kernel answers `GET_*` with `command`.
fn kernel_message(command: u8, attrs: &[CmdAttr]) -> Vec<u8> {
    let body = emit_attrs(attrs);
    let mut m = Vec::new();
    m.extend_from_slice(&(20 + body.len() as u32).to_ne_bytes());
    m.extend_from_slice(&0x22u16.to_ne_bytes());
    m.extend_from_slice(&2u16.to_ne_bytes());
    m.extend_from_slice(&[0; 8]);
    m.extend_from_slice(&[command, 1, 0, 0]);
    m.extend_from_slice(&body);
    m
}

fn request() -> impl Strategy<Value = Request> {
    prop_oneof![
        service().prop_map(Request::AddService),
        service().prop_map(Request::EditService),
        key().prop_map(Request::DeleteService),
        (key(), destination()).prop_map(|(k, d)| Request::AddDest(k, d)),
        (key(), destination()).prop_map(|(k, d)| Request::EditDest(k, d)),
        (key(), ip(), any::<u16>()).prop_map(|(k, a, p)| Request::DeleteDest(k, a, p)),
        proptest::option::of(key()).prop_map(Request::Zero),
        Just(Request::Flush),
    ]
}

/// The one message of `datagram`, decoded.
fn only_reply(datagram: &[u8], family: Family) -> Reply {
    let mut replies = decode(datagram, family);
    assert_eq!(replies.len(), 1);
    replies.pop().unwrap().unwrap()
}

/// The service and destination attributes a request carries.
fn request_attrs(req: &Request) -> (Vec<ServiceAttr>, Option<Vec<DestAttr>>) {
    let (_, bytes) = req.encode();
    let mut service = Vec::new();
    let mut dest = None;
    for a in parse_attrs::<CmdAttr>(&bytes).unwrap() {
        match a {
            CmdAttr::Service(s) => service = s,
            CmdAttr::Dest(d) => dest = Some(d),
            _ => {}
        }
    }
    (service, dest)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn a_request_is_framed_as_its_command_describes_it(req in request()) {
        let (cmd, attrs) = req.command();
        prop_assert_eq!(req.encode(), (cmd, emit_attrs(&attrs)));
    }

    #[test]
    fn a_service_request_decodes_to_the_service(svc in service()) {
        let (attrs, _) = request_attrs(&Request::AddService(svc.clone()));
        let back = service_from_attrs(&attrs).unwrap();
        prop_assert_eq!(back, Service { stats: Stats::default(), ..svc });
    }

    #[test]
    fn a_service_reply_decodes_to_the_service(svc in service()) {
        let mut attrs = service_to_attrs(&svc);
        // Kernels send the counters twice, in 32 and 64 bits: the 64-bit ones count.
        attrs.push(ServiceAttr::Stats(vec![StatsAttr::U32(StatField::Conns, 1)]));
        attrs.push(ServiceAttr::Stats64(stats_to_attrs(&svc.stats)));
        let datagram = kernel_message(crate::cmd::NEW_SERVICE, &[CmdAttr::Service(attrs)]);
        prop_assert_eq!(only_reply(&datagram, Family::V4), Reply::Service(svc));
    }

    #[test]
    fn a_destination_request_decodes_to_the_destination(
        key in key(),
        d in destination(),
    ) {
        let (service, dest) = request_attrs(&Request::AddDest(key, d.clone()));
        prop_assert_eq!(service_from_attrs(&service).unwrap().key, key);
        let back = dest_from_bytes(&emit_attrs(&dest.unwrap()), key.family()).unwrap();
        let sent = Destination {
            active_conns: 0,
            inactive_conns: 0,
            persistent_conns: 0,
            stats: Stats::default(),
            ..d
        };
        prop_assert_eq!(back, sent);
    }

    #[test]
    fn a_destination_reply_decodes_to_the_destination(
        d in destination(),
        named_family in any::<bool>(),
    ) {
        let mut attrs = dest_to_attrs(&d);
        if !named_family {
            // Kernels before 5.10 leave the family out: the service's is assumed.
            attrs.retain(|a| !matches!(a, DestAttr::AddrFamily(_)));
        }
        attrs.extend([
            DestAttr::ActiveConns(d.active_conns),
            DestAttr::InactConns(d.inactive_conns),
            DestAttr::PersistConns(d.persistent_conns),
            DestAttr::Stats(vec![StatsAttr::U32(StatField::Conns, 1)]),
            DestAttr::Stats64(stats_to_attrs(&d.stats)),
        ]);
        let datagram = kernel_message(crate::cmd::NEW_DEST, &[CmdAttr::Dest(attrs)]);
        prop_assert_eq!(only_reply(&datagram, d.family()), Reply::Destination(d));
    }
}
