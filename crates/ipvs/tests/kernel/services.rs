//! Services: what the library writes ipvsadm reads, what ipvsadm writes the library reads.

use std::net::IpAddr;

use ipvs::{Family, Protocol, Service, ServiceFlags, ServiceKey, Timeouts};

use crate::rig::{fresh, ipvsadm, ipvsadm_restore, lines, saved};

fn addr_key(protocol: Protocol, addr: &str, port: u16) -> ServiceKey {
    ServiceKey::Addr {
        protocol,
        addr: addr.parse::<IpAddr>().unwrap(),
        port,
    }
}

fn svc(key: ServiceKey, sched: &str, flags: u32, timeout: u32, netmask: Option<u32>) -> Service {
    let mut s = Service::new(key);
    s.scheduler = sched.into();
    s.flags = ServiceFlags(flags);
    s.timeout = timeout;
    if let Some(m) = netmask {
        s.netmask = m;
    }
    s
}

/// One service of every shape ipvsadm can express, with its `-S -n` line.
fn catalogue() -> Vec<(Service, &'static str)> {
    use ServiceFlags as F;
    let mut pe = svc(
        addr_key(Protocol::Udp, "2001:db8::1", 53),
        "rr",
        F::PERSISTENT | F::ONEPACKET,
        60,
        Some(96),
    );
    pe.pe_name = Some("sip".into());
    vec![
        (
            svc(addr_key(Protocol::Tcp, "192.0.2.1", 80), "rr", 0, 0, None),
            "-A -t 192.0.2.1:80 -s rr",
        ),
        (
            svc(
                addr_key(Protocol::Tcp, "192.0.2.2", 0),
                "sh",
                F::PERSISTENT | F::SCHED1 | F::SCHED2,
                600,
                Some(0xffff_ff00),
            ),
            "-A -t 192.0.2.2:0 -s sh -p 600 -M 255.255.255.0 -b sh-fallback,sh-port",
        ),
        (
            svc(
                addr_key(Protocol::Udp, "192.0.2.3", 5060),
                "rr",
                F::ONEPACKET,
                0,
                None,
            ),
            "-A -u 192.0.2.3:5060 -s rr -o",
        ),
        (
            svc(
                addr_key(Protocol::Sctp, "192.0.2.4", 3868),
                "wlc",
                0,
                0,
                None,
            ),
            "-A --sctp-service 192.0.2.4:3868 -s wlc",
        ),
        (pe, "-A -u [2001:db8::1]:53 -s rr -p 60 -M 96 --pe sip -o"),
        (
            svc(
                ServiceKey::Fwmark {
                    family: Family::V4,
                    mark: 5,
                },
                "wrr",
                0,
                0,
                None,
            ),
            "-A -f 5 -s wrr",
        ),
        (
            svc(
                ServiceKey::Fwmark {
                    family: Family::V6,
                    mark: 6,
                },
                "lc",
                F::PERSISTENT,
                60,
                Some(64),
            ),
            "-A -f 6 -6 -s lc -p 60 -M 64",
        ),
    ]
}

/// The kernel marks every service in its table as hashed.
fn as_listed(mut s: Service) -> Service {
    s.flags.set(ServiceFlags::HASHED, true);
    s
}

#[test]
fn library_writes_every_service_shape_and_ipvsadm_saves_it() {
    let mut ipvs = fresh();
    for (s, _) in catalogue() {
        ipvs.add_service(&s).unwrap();
    }
    let expected: Vec<&str> = catalogue().iter().map(|(_, line)| *line).collect();
    assert_eq!(lines(&saved()), expected);
}

#[test]
fn library_reads_back_every_service_ipvsadm_writes() {
    let mut ipvs = fresh();
    let rules: String = catalogue().iter().map(|(_, l)| format!("{l}\n")).collect();
    ipvsadm_restore(&rules);
    let mut got = ipvs.services().unwrap();
    assert_eq!(got.len(), catalogue().len());
    for (want, line) in catalogue() {
        let pos = got
            .iter()
            .position(|s| s.key == want.key)
            .unwrap_or_else(|| panic!("{line}"));
        assert_eq!(got.remove(pos), as_listed(want), "{line}");
    }
    // And one at a time.
    for (want, line) in catalogue() {
        assert_eq!(ipvs.service(&want.key).unwrap(), as_listed(want), "{line}");
    }
}

#[test]
fn a_missing_service_is_esrch() {
    let mut ipvs = fresh();
    let key = addr_key(Protocol::Tcp, "192.0.2.1", 80);
    let err = ipvs.service(&key).unwrap_err();
    assert_eq!(err.errno(), Some(libc::ESRCH), "{err}");
    assert_eq!(err.op(), ipvs::Op::GetService);
    assert_eq!(
        ipvs.delete_service(&key).unwrap_err().errno(),
        Some(libc::ESRCH)
    );
    assert_eq!(
        ipvs.edit_service(&Service::new(key)).unwrap_err().errno(),
        Some(libc::ESRCH)
    );
    assert_eq!(
        ipvs.zero(Some(&key)).unwrap_err().errno(),
        Some(libc::ESRCH)
    );
}

#[test]
fn add_twice_is_eexist_and_unknown_scheduler_is_enoent() {
    let mut ipvs = fresh();
    let s = Service::new(addr_key(Protocol::Tcp, "192.0.2.1", 80));
    ipvs.add_service(&s).unwrap();
    let err = ipvs.add_service(&s).unwrap_err();
    assert_eq!(
        (err.errno(), err.op()),
        (Some(libc::EEXIST), ipvs::Op::AddService)
    );
    let mut bad = Service::new(addr_key(Protocol::Tcp, "192.0.2.2", 80));
    bad.scheduler = "nosuch".into();
    assert_eq!(
        ipvs.add_service(&bad).unwrap_err().errno(),
        Some(libc::ENOENT)
    );
}

#[test]
fn edit_replaces_every_setting() {
    let mut ipvs = fresh();
    ipvsadm(&[
        "-A",
        "-t",
        "192.0.2.1:80",
        "-s",
        "rr",
        "-p",
        "100",
        "-M",
        "255.255.0.0",
    ]);
    let key = addr_key(Protocol::Tcp, "192.0.2.1", 80);
    let mut s = ipvs.service(&key).unwrap();
    assert_eq!((s.timeout, s.netmask), (100, 0xffff_0000));
    s.scheduler = "wrr".into();
    s.flags = ServiceFlags::default();
    s.netmask = u32::MAX;
    ipvs.edit_service(&s).unwrap();
    assert_eq!(saved(), "-A -t 192.0.2.1:80 -s wrr\n");
    s.flags = ServiceFlags(ServiceFlags::PERSISTENT | ServiceFlags::SCHED3);
    s.timeout = 7200;
    ipvs.edit_service(&s).unwrap();
    assert_eq!(saved(), "-A -t 192.0.2.1:80 -s wrr -p 7200 -b flag-3\n");
}

#[test]
fn delete_and_flush() {
    let mut ipvs = fresh();
    ipvsadm_restore("-A -t 192.0.2.1:80\n-A -u 192.0.2.1:53\n-A -f 9\n");
    ipvs.delete_service(&addr_key(Protocol::Udp, "192.0.2.1", 53))
        .unwrap();
    ipvs.delete_service(&ServiceKey::Fwmark {
        family: Family::V4,
        mark: 9,
    })
    .unwrap();
    assert_eq!(saved(), "-A -t 192.0.2.1:80 -s wlc\n");
    ipvsadm(&["-A", "-t", "[2001:db8::5]:443"]);
    ipvs.flush().unwrap();
    assert_eq!(saved(), "");
    assert!(ipvs.services().unwrap().is_empty());
}

#[test]
fn info_matches_ipvsadms_header() {
    let mut ipvs = fresh();
    let info = ipvs.info().unwrap();
    let (a, b, c) = info.version_triple();
    let header = format!(
        "IP Virtual Server version {a}.{b}.{c} (size={})",
        info.conn_tab_size
    );
    assert_eq!(lines(&ipvsadm(&["-L", "-n"]))[0], header);
    assert_eq!((a, b, c), (1, 2, 1));
}

#[test]
fn timeouts_both_ways() {
    let mut ipvs = fresh();
    let before = ipvs.timeouts().unwrap();
    assert_eq!(
        ipvsadm(&["-L", "--timeout"]),
        format!(
            "Timeout (tcp tcpfin udp): {} {} {}\n",
            before.tcp, before.tcp_fin, before.udp
        )
    );
    ipvs.set_timeouts(&Timeouts {
        tcp: 1000,
        tcp_fin: 0,
        udp: 45,
    })
    .unwrap();
    assert_eq!(
        ipvsadm(&["-L", "--timeout"]),
        format!("Timeout (tcp tcpfin udp): 1000 {} 45\n", before.tcp_fin)
    );
    ipvsadm(&["--set", "11", "22", "33"]);
    assert_eq!(
        ipvs.timeouts().unwrap(),
        Timeouts {
            tcp: 11,
            tcp_fin: 22,
            udp: 33
        }
    );
}

fn many_services(n: u32) -> Vec<ipvs::Request> {
    (0..n)
        .map(|i| {
            let addr = std::net::Ipv4Addr::from(0xc000_0200 + (i >> 8)).into();
            let key = ServiceKey::Addr {
                protocol: Protocol::Tcp,
                addr,
                port: (i & 0xff) as u16 + 1,
            };
            ipvs::Request::AddService(Service::new(key))
        })
        .collect()
}

#[test]
fn many_services_dump_across_many_datagrams() {
    let mut ipvs = fresh();
    let results = ipvs.batch(&many_services(3000), ipvs::OnError::Continue);
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(ipvs.services().unwrap().len(), 3000);
}

/// IPVS resumes a multi-part dump by position in a hash table that all namespaces share, so
/// services added and removed elsewhere between two parts shift it (ipvsadm then lists some
/// twice and misses others). The library must still return every service exactly once while
/// another namespace changes its table every few milliseconds.
#[test]
fn dumps_stay_exact_while_another_namespace_churns() {
    let mut ipvs = fresh();
    ipvs.batch(&many_services(3000), ipvs::OnError::Continue);
    let want: std::collections::HashSet<ServiceKey> = ipvs
        .services()
        .unwrap()
        .into_iter()
        .map(|s| s.key)
        .collect();
    assert_eq!(want.len(), 3000);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let churn = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut other = fresh();
            let batch = many_services(50);
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let r = &batch[i % 50];
                if let ipvs::Request::AddService(s) = r {
                    if i / 50 % 2 == 0 {
                        other.add_service(s).unwrap();
                    } else {
                        other.delete_service(&s.key).unwrap();
                    }
                }
                i += 1;
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
        })
    };
    for _ in 0..8 {
        let got = ipvs.services().unwrap();
        assert_eq!(got.len(), 3000);
        assert_eq!(
            got.into_iter()
                .map(|s| s.key)
                .collect::<std::collections::HashSet<_>>(),
            want
        );
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    churn.join().unwrap();
}

/// The schedulers this kernel's build has, from its module list (the guest holds the list of
/// every module Debian's kernel ships, not only those it loads).
fn kernel_schedulers() -> Vec<String> {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    let order = std::fs::read_to_string(format!("/lib/modules/{}/modules.order", release.trim()))
        .expect("the kernel's module list");
    let mut found: Vec<String> = order
        .lines()
        .filter_map(|l| l.strip_prefix("kernel/net/netfilter/ipvs/ip_vs_"))
        .filter_map(|l| l.strip_suffix(".ko"))
        // The FTP helper and the SIP persistence engine are not schedulers.
        .filter(|name| *name != "ftp" && !name.starts_with("pe_"))
        .map(String::from)
        .collect();
    found.sort();
    found
}

#[test]
fn the_scheduler_table_has_every_scheduler_of_the_kernel() {
    let kernel = kernel_schedulers();
    assert!(kernel.len() >= 13, "the module list names {kernel:?}");
    let missing: Vec<&String> = kernel
        .iter()
        .filter(|name| ipvs::names::scheduler_named(name).is_none())
        .collect();
    assert!(
        missing.is_empty(),
        "ipvs::names::SCHEDULERS lacks {missing:?}"
    );
    // And each of them is what the kernel calls it: a service takes it.
    let mut client = fresh();
    for (port, name) in (1u16..).zip(&kernel) {
        let mut service = Service::new(addr_key(Protocol::Tcp, "192.0.2.1", port));
        service.scheduler = name.clone();
        client
            .add_service(&service)
            .unwrap_or_else(|e| panic!("scheduler {name}: {e}"));
        assert_eq!(client.service(&service.key).unwrap().scheduler, *name);
    }
}
