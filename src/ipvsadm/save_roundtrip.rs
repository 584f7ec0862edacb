//! Property test: whatever table `-S` writes, `-R` reads back as the same table. Tables are
//! generated within what ipvsadm's options can express: a kernel-only flag or field (the
//! `Local` forwarding method the kernel picks itself, thresholds, counters) is left at what a
//! restore sets.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use ipvs::{
    Destination, Family, ForwardMethod, Protocol, Service, ServiceFlags, ServiceKey, TunnelFlags,
    TunnelType,
};
use proptest::prelude::*;

use super::parse::{Command, Format};
use super::render;
use super::rules::parse_rules;

fn schedulers() -> Vec<&'static str> {
    ipvs::names::SCHEDULERS.iter().map(|s| s.name).collect()
}

fn addr_of(family: Family) -> BoxedStrategy<IpAddr> {
    match family {
        Family::V4 => any::<[u8; 4]>().prop_map(IpAddr::from).boxed(),
        Family::V6 => any::<[u8; 16]>().prop_map(IpAddr::from).boxed(),
    }
}

fn family() -> impl Strategy<Value = Family> {
    prop_oneof![Just(Family::V4), Just(Family::V6)]
}

fn key() -> impl Strategy<Value = ServiceKey> {
    let protocol = prop_oneof![
        Just(Protocol::Tcp),
        Just(Protocol::Udp),
        Just(Protocol::Sctp)
    ];
    prop_oneof![
        (protocol, family().prop_flat_map(addr_of), any::<u16>()).prop_map(
            |(protocol, addr, port)| ServiceKey::Addr {
                protocol,
                addr,
                port
            }
        ),
        (family(), 1..=u32::MAX).prop_map(|(family, mark)| ServiceKey::Fwmark { family, mark }),
    ]
}

/// A service as `-A` can make it.
fn service() -> impl Strategy<Value = Service> {
    (
        key(),
        proptest::sample::select(schedulers()),
        proptest::option::of((1..=31 * 24 * 3600u32, any::<u32>(), any::<bool>())),
        any::<bool>(),
        0..8u32,
    )
        .prop_map(|(key, scheduler, persistence, one_packet, sched_bits)| {
            let mut svc = Service::new(key);
            svc.scheduler = scheduler.to_string();
            // The flags the scheduler has names for.
            let named = ipvs::names::flags_of(scheduler).len() as u32;
            let mut flags = (sched_bits & ((1 << named) - 1)) * ServiceFlags::SCHED1;
            if let Some((timeout, mask, sip)) = persistence {
                flags |= ServiceFlags::PERSISTENT;
                svc.timeout = timeout;
                svc.netmask = match key.family() {
                    Family::V4 => mask,
                    Family::V6 => 1 + mask % 128,
                };
                svc.pe_name = sip.then(|| "sip".to_string());
            }
            let udp_or_mark = !matches!(
                key,
                ServiceKey::Addr {
                    protocol: Protocol::Tcp | Protocol::Sctp,
                    ..
                }
            );
            if one_packet && udp_or_mark {
                flags |= ServiceFlags::ONEPACKET;
            }
            // ipvsadm refuses port 0 for a service that is not persistent.
            if let ServiceKey::Addr { port: 0, .. } = key {
                if persistence.is_none() {
                    flags |= ServiceFlags::PERSISTENT;
                    svc.timeout = 360;
                }
            }
            svc.flags = ServiceFlags(flags);
            svc
        })
}

/// A destination as `-a` can make it for a service of `family`.
fn destination(family: Family) -> impl Strategy<Value = Destination> {
    let tunnel = prop_oneof![
        Just((TunnelType::Ipip, 0, 0)),
        (1..=u16::MAX, 0..3u16).prop_map(|(port, csum)| (TunnelType::Gue, port, csum)),
        (0..2u16).prop_map(|csum| (TunnelType::Gre, 0, csum)),
    ];
    let forward = prop_oneof![
        Just(ForwardMethod::DirectRoute),
        Just(ForwardMethod::Masquerade),
        Just(ForwardMethod::Tunnel),
    ];
    (
        addr_of(family),
        any::<u16>(),
        forward,
        0..=i32::MAX as u32,
        tunnel,
    )
        .prop_map(|(addr, port, forward, weight, (kind, tun_port, csum))| {
            let mut d = Destination::new(addr, port);
            d.forward = forward;
            d.weight = weight;
            if forward == ForwardMethod::Tunnel {
                d.tunnel_type = kind;
                d.tunnel_port = tun_port;
                d.tunnel_flags = TunnelFlags(csum);
            }
            d
        })
}

/// Services with their destinations, each service and destination once.
fn table() -> impl Strategy<Value = Vec<(Service, Vec<Destination>)>> {
    proptest::collection::vec(
        service().prop_flat_map(|svc| {
            let dests = proptest::collection::vec(destination(svc.key.family()), 0..6);
            (Just(svc), dests).prop_map(|(svc, mut dests)| {
                // ipvsadm gives direct-routing and tunnel destinations the service's port.
                if let ServiceKey::Addr { port, .. } = svc.key {
                    for d in &mut dests {
                        if d.forward != ForwardMethod::Masquerade {
                            d.port = port;
                        }
                    }
                }
                (svc, dests)
            })
        }),
        0..8,
    )
    .prop_map(|entries| {
        let mut seen = HashMap::new();
        for (svc, dests) in entries {
            let mut unique: BTreeMap<(IpAddr, u16), Destination> = BTreeMap::new();
            for d in dests {
                unique.insert((d.addr, d.port), d);
            }
            seen.insert(svc.key, (svc, unique.into_values().collect()));
        }
        seen.into_values().collect()
    })
}

/// The table as `-S -n` writes it.
fn save(table: &[(Service, Vec<Destination>)]) -> Vec<u8> {
    let f = Format {
        numeric: true,
        rule: true,
        ..Format::default()
    };
    let mut out = Vec::new();
    for (svc, dests) in table {
        render::entry(&mut out, svc, &mut dests.clone(), &f).unwrap();
    }
    out
}

type Keyed = BTreeMap<String, (Service, BTreeMap<(IpAddr, u16), Destination>)>;

fn keyed(entries: impl IntoIterator<Item = (Service, Vec<Destination>)>) -> Keyed {
    entries
        .into_iter()
        .map(|(svc, dests)| {
            let dests = dests.into_iter().map(|d| ((d.addr, d.port), d)).collect();
            (format!("{:?}", svc.key), (svc, dests))
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn what_save_writes_restore_reads_back(table in table()) {
        let text = save(&table);
        let commands = parse_rules("ipvsadm", &text, false).map_err(|errors| {
            let lines: Vec<String> = errors.iter().map(|(n, f)| format!("{n}: {}", f.message)).collect();
            TestCaseError::fail(format!("{}\n{}", String::from_utf8_lossy(&text), lines.join("\n")))
        })?;
        let mut read: Vec<(Service, Vec<Destination>)> = Vec::new();
        for (_, cmd) in commands {
            match cmd {
                Command::AddService(svc) => read.push((svc, Vec::new())),
                Command::AddDest(key, d) => {
                    let entry = read.last_mut().filter(|(s, _)| s.key == key);
                    prop_assert!(entry.is_some(), "a destination outside its service");
                    entry.unwrap().1.push(d);
                }
                other => prop_assert!(false, "unexpected {other:?}"),
            }
        }
        prop_assert_eq!(keyed(read), keyed(table));
    }
}
