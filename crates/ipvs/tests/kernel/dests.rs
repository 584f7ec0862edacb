//! Destinations: every forwarding method and tunnel type, both directions, and the errors.

use std::net::IpAddr;

use ipvs::{
    Destination, Family, ForwardMethod, Protocol, Service, ServiceKey, TunnelFlags, TunnelType,
};

use crate::rig::{fresh, ipvsadm, ipvsadm_restore, lines, saved};

fn vip() -> ServiceKey {
    ServiceKey::Addr {
        protocol: Protocol::Tcp,
        addr: "192.0.2.1".parse().unwrap(),
        port: 80,
    }
}

fn dest(addr: &str, port: u16, fwd: ForwardMethod, weight: u32) -> Destination {
    let mut d = Destination::new(addr.parse::<IpAddr>().unwrap(), port);
    d.forward = fwd;
    d.weight = weight;
    d
}

fn tunnel(addr: &str, kind: TunnelType, port: u16, flags: u16) -> Destination {
    let mut d = dest(addr, 80, ForwardMethod::Tunnel, 1);
    d.tunnel_type = kind;
    d.tunnel_port = port;
    d.tunnel_flags = TunnelFlags(flags);
    d
}

/// Destinations of every kind, with their `-S -n` lines in ipvsadm's sorted order.
fn catalogue() -> Vec<(Destination, &'static str)> {
    let mut masq = dest("198.51.100.1", 8080, ForwardMethod::Masquerade, 3);
    masq.upper_threshold = 100;
    masq.lower_threshold = 10;
    vec![
        (masq, "-a -t 192.0.2.1:80 -r 198.51.100.1:8080 -m -w 3"),
        (
            dest("198.51.100.2", 80, ForwardMethod::DirectRoute, 0),
            "-a -t 192.0.2.1:80 -r 198.51.100.2:80 -g -w 0",
        ),
        (
            tunnel("198.51.100.3", TunnelType::Ipip, 0, 0),
            "-a -t 192.0.2.1:80 -r 198.51.100.3:80 -i -w 1 --tun-type ipip",
        ),
        (
            tunnel("198.51.100.4", TunnelType::Gue, 6080, TunnelFlags::REMCSUM),
            "-a -t 192.0.2.1:80 -r 198.51.100.4:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-remcsum",
        ),
        (
            tunnel("198.51.100.5", TunnelType::Gre, 0, TunnelFlags::CSUM),
            "-a -t 192.0.2.1:80 -r 198.51.100.5:80 -i -w 1 --tun-type gre --tun-csum",
        ),
        (
            tunnel("198.51.100.6", TunnelType::Gue, 5555, TunnelFlags::NOCSUM),
            "-a -t 192.0.2.1:80 -r 198.51.100.6:80 -i -w 2000000000 --tun-type gue --tun-port 5555 --tun-nocsum",
        ),
        (
            tunnel("2001:db8::10", TunnelType::Ipip, 0, 0),
            "-a -t 192.0.2.1:80 -r [2001:db8::10]:80 -i -w 1 --tun-type ipip",
        ),
    ]
    .into_iter()
    .map(|(mut d, line)| {
        if d.addr == "198.51.100.6".parse::<IpAddr>().unwrap() {
            d.weight = 2_000_000_000;
        }
        (d, line)
    })
    .collect()
}

#[test]
fn library_writes_every_destination_and_ipvsadm_saves_it() {
    let mut ipvs = fresh();
    ipvs.add_service(&Service::new(vip())).unwrap();
    for (d, _) in catalogue() {
        ipvs.add_destination(&vip(), &d).unwrap();
    }
    let mut expected = vec!["-A -t 192.0.2.1:80 -s wlc"];
    expected.extend(catalogue().iter().map(|(_, l)| *l));
    assert_eq!(lines(&saved()), expected);
    let thresholds = ipvsadm(&["-L", "-n", "--thresholds"]);
    assert!(
        thresholds.contains(
            "  -> 198.51.100.1:8080            100        10         0          0         \n"
        ),
        "{thresholds}"
    );
    let tun = ipvsadm(&["-L", "-n", "--tun-info"]);
    assert!(
        tun.contains("  -> 198.51.100.4:80              Tunnel  gue:6080:r+c  1"),
        "{tun}"
    );
    assert!(
        tun.contains("  -> 198.51.100.5:80              Tunnel  gre:+c        1"),
        "{tun}"
    );
}

#[test]
fn library_reads_back_every_destination_ipvsadm_writes() {
    let mut ipvs = fresh();
    let mut rules = String::from("-A -t 192.0.2.1:80\n");
    for (d, line) in catalogue() {
        rules.push_str(line);
        if d.upper_threshold != 0 {
            rules.push_str(&format!(
                " -x {} -y {}",
                d.upper_threshold, d.lower_threshold
            ));
        }
        rules.push('\n');
    }
    ipvsadm_restore(&rules);
    let got = ipvs.destinations(&vip()).unwrap();
    assert_eq!(got.len(), catalogue().len());
    // The kernel lists the newest destination first.
    for ((want, line), got) in catalogue().into_iter().zip(got.into_iter().rev()) {
        assert_eq!(got, want, "{line}");
    }
}

#[test]
fn fwmark_and_ipv6_services_have_destinations_too() {
    let mut ipvs = fresh();
    ipvsadm_restore(
        "-A -f 7 -6 -s rr\n-a -f 7 -6 -r [2001:db8::20]:0 -m\n\
         -A -u [2001:db8::1]:53 -s rr\n-a -u [2001:db8::1]:53 -r [2001:db8::21]:5353 -m -w 4\n",
    );
    let fw = ServiceKey::Fwmark {
        family: Family::V6,
        mark: 7,
    };
    let got = ipvs.destinations(&fw).unwrap();
    assert_eq!(
        got,
        vec![dest("2001:db8::20", 0, ForwardMethod::Masquerade, 1)]
    );
    let dns = ServiceKey::Addr {
        protocol: Protocol::Udp,
        addr: "2001:db8::1".parse().unwrap(),
        port: 53,
    };
    assert_eq!(
        ipvs.destinations(&dns).unwrap(),
        vec![dest("2001:db8::21", 5353, ForwardMethod::Masquerade, 4)]
    );
    ipvs.add_destination(&fw, &dest("2001:db8::22", 0, ForwardMethod::DirectRoute, 9))
        .unwrap();
    assert!(saved().contains("-a -f 7 -6 -r [2001:db8::22]:0 -g -w 9\n"));
}

#[test]
fn edit_and_delete_destinations() {
    let mut ipvs = fresh();
    ipvsadm_restore("-A -t 192.0.2.1:80\n-a -t 192.0.2.1:80 -r 198.51.100.1:80 -g -w 5\n-a -t 192.0.2.1:80 -r 198.51.100.2:80 -g\n");
    let mut d = dest("198.51.100.1", 80, ForwardMethod::Masquerade, 7);
    ipvs.edit_destination(&vip(), &d).unwrap();
    ipvs.delete_destination(&vip(), "198.51.100.2".parse().unwrap(), 80)
        .unwrap();
    assert_eq!(
        saved(),
        "-A -t 192.0.2.1:80 -s wlc\n-a -t 192.0.2.1:80 -r 198.51.100.1:80 -m -w 7\n"
    );
    d.forward = ForwardMethod::Tunnel;
    d.tunnel_type = TunnelType::Gre;
    d.tunnel_flags = TunnelFlags(TunnelFlags::NOCSUM);
    ipvs.edit_destination(&vip(), &d).unwrap();
    assert_eq!(
        lines(&saved())[1],
        "-a -t 192.0.2.1:80 -r 198.51.100.1:80 -i -w 7 --tun-type gre --tun-nocsum"
    );
}

#[test]
fn destination_errors_carry_the_kernels_errno() {
    let mut ipvs = fresh();
    let d = dest("198.51.100.1", 80, ForwardMethod::DirectRoute, 1);
    let e = ipvs.add_destination(&vip(), &d).unwrap_err();
    assert_eq!((e.errno(), e.op()), (Some(libc::ESRCH), ipvs::Op::AddDest));
    ipvs.add_service(&Service::new(vip())).unwrap();
    ipvs.add_destination(&vip(), &d).unwrap();
    assert_eq!(
        ipvs.add_destination(&vip(), &d).unwrap_err().errno(),
        Some(libc::EEXIST)
    );
    let other = dest("198.51.100.9", 80, ForwardMethod::DirectRoute, 1);
    assert_eq!(
        ipvs.edit_destination(&vip(), &other).unwrap_err().errno(),
        Some(libc::ENOENT)
    );
    let e = ipvs.delete_destination(&vip(), other.addr, 80).unwrap_err();
    assert_eq!(
        (e.errno(), e.op()),
        (Some(libc::ENOENT), ipvs::Op::DeleteDest)
    );
    let mut inverted = d.clone();
    inverted.lower_threshold = 5;
    assert_eq!(
        ipvs.edit_destination(&vip(), &inverted)
            .unwrap_err()
            .errno(),
        Some(libc::ERANGE)
    );
    let multicast = dest("224.0.0.9", 80, ForwardMethod::DirectRoute, 1);
    assert_eq!(
        ipvs.add_destination(&vip(), &multicast)
            .unwrap_err()
            .errno(),
        Some(libc::EINVAL)
    );
}

#[test]
fn batch_reports_each_request_in_order() {
    use ipvs::{OnError, Request};
    let mut ipvs = fresh();
    let other = ServiceKey::Addr {
        protocol: Protocol::Udp,
        addr: "192.0.2.9".parse().unwrap(),
        port: 1,
    };
    let d = dest("198.51.100.1", 80, ForwardMethod::DirectRoute, 1);
    let reqs = vec![
        Request::AddService(Service::new(vip())),
        Request::AddService(Service::new(vip())),
        Request::AddDest(other, d.clone()),
        Request::AddDest(vip(), d.clone()),
        Request::DeleteDest(vip(), "198.51.100.7".parse().unwrap(), 80),
        Request::EditDest(
            vip(),
            dest("198.51.100.1", 80, ForwardMethod::Masquerade, 2),
        ),
    ];
    let errnos: Vec<Option<i32>> = ipvs
        .batch(&reqs, OnError::Continue)
        .iter()
        .map(|r| r.as_ref().err().and_then(|e| e.errno()))
        .collect();
    assert_eq!(
        errnos,
        vec![
            None,
            Some(libc::EEXIST),
            Some(libc::ESRCH),
            None,
            Some(libc::ENOENT),
            None
        ]
    );
    assert_eq!(
        lines(&saved())[1],
        "-a -t 192.0.2.1:80 -r 198.51.100.1:80 -m -w 2"
    );
}

#[test]
fn batch_of_thousands_of_failures_loses_none() {
    use ipvs::{OnError, Request};
    let mut ipvs = fresh();
    ipvs.add_service(&Service::new(vip())).unwrap();
    // Every one of these fails, so every one is answered with an error that echoes it: far
    // more than the default receive buffer holds at once.
    let reqs: Vec<Request> = (0..5000u32)
        .map(|i| Request::DeleteDest(vip(), std::net::Ipv4Addr::from(0xc633_6400 + i).into(), 80))
        .collect();
    let results = ipvs.batch(&reqs, OnError::Continue);
    assert_eq!(results.len(), 5000);
    assert!(results
        .iter()
        .all(|r| r.as_ref().err().and_then(|e| e.errno()) == Some(libc::ENOENT)));
    // The socket is still in step afterwards.
    assert_eq!(ipvs.services().unwrap().len(), 1);
}

#[test]
fn batch_can_stop_at_the_first_failing_chunk() {
    use ipvs::{OnError, Request};
    let mut ipvs = fresh();
    ipvs.set_window(4);
    let reqs: Vec<Request> = (0..20u16)
        .map(|i| {
            // The sixth request (in the second chunk of four) repeats the fifth.
            let port = if i == 5 { 5 } else { i + 1 };
            let key = ServiceKey::Addr {
                protocol: Protocol::Tcp,
                addr: "192.0.2.1".parse().unwrap(),
                port,
            };
            Request::AddService(Service::new(key))
        })
        .collect();
    let results = ipvs.batch(&reqs, OnError::Stop);
    let oks = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(oks, 7, "{results:?}");
    assert!(matches!(
        results[5],
        Err(ipvs::Error::Kernel {
            errno: libc::EEXIST,
            ..
        })
    ));
    assert!(results[8..]
        .iter()
        .all(|r| matches!(r, Err(ipvs::Error::NotSent { .. }))));
    assert_eq!(saved().lines().count(), 7);
}

#[test]
fn batch_takes_requests_made_as_they_are_framed() {
    use ipvs::{OnError, Request};
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let mut ipvs = fresh();
    ipvs.set_window(16);
    let made = AtomicUsize::new(0);
    // Made one by one as the batch takes them; request 100 repeats request 99.
    let reqs = (0..1000u16).map(|i| {
        made.fetch_add(1, Ordering::SeqCst);
        let port = if i == 100 { 100 } else { i + 1 };
        Request::AddService(Service::new(vip_of(port)))
    });
    let results = ipvs.batch_until(reqs, OnError::Stop, &AtomicBool::new(false));
    assert_eq!(results.len(), 1000, "an outcome for every request made");
    assert_eq!(made.load(Ordering::SeqCst), 1000, "each made once");
    assert!(results[..100].iter().all(Result::is_ok));
    assert!(matches!(
        results[100],
        Err(ipvs::Error::Kernel {
            errno: libc::EEXIST,
            ..
        })
    ));
    // The chunk of sixteen that held the failure was processed whole; nothing after it.
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 111);
    assert!(results[112..]
        .iter()
        .all(|r| matches!(r, Err(ipvs::Error::NotSent { .. }))));
    assert_eq!(saved().lines().count(), 111);
    // The socket's sequence numbers are still in step with the kernel's answers.
    ipvs.add_destination(
        &vip_of(1),
        &dest("198.51.100.1", 80, ForwardMethod::Masquerade, 1),
    )
    .unwrap();
    assert_eq!(ipvs.services().unwrap().len(), 111);
}

fn vip_of(port: u16) -> ServiceKey {
    ServiceKey::Addr {
        protocol: Protocol::Tcp,
        addr: "192.0.2.1".parse().unwrap(),
        port,
    }
}

/// One datagram holding every request, each answered only if it fails, read back without
/// waiting: how many times the socket reported ENOBUFS.
fn raw_burst(family: u16, reqs: &[ipvs::Request], rcvbuf: libc::c_int) -> usize {
    use ipvs::attr::{AttrWriter, Attribute};
    let mut datagram = Vec::new();
    for (seq, req) in reqs.iter().enumerate() {
        let (cmd, attrs) = req.command();
        let mut w = AttrWriter::default();
        for a in &attrs {
            a.emit(&mut w);
        }
        let len = 16 + 4 + w.buf.len() as u32;
        datagram.extend_from_slice(&len.to_ne_bytes());
        datagram.extend_from_slice(&family.to_ne_bytes());
        datagram.extend_from_slice(&1u16.to_ne_bytes()); // NLM_F_REQUEST
        datagram.extend_from_slice(&(seq as u32).to_ne_bytes());
        datagram.extend_from_slice(&0u32.to_ne_bytes());
        datagram.extend_from_slice(&[cmd, 1, 0, 0]);
        datagram.extend_from_slice(&w.buf);
    }
    let mut overflows = 0;
    // SAFETY: a socket this function owns, buffers with their true lengths.
    unsafe {
        let fd = libc::socket(libc::AF_NETLINK, libc::SOCK_RAW, libc::NETLINK_GENERIC);
        assert!(fd >= 0);
        let size = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            (&rcvbuf as *const libc::c_int).cast(),
            size,
        );
        let sent = libc::send(fd, datagram.as_ptr().cast(), datagram.len(), 0);
        assert_eq!(
            sent,
            datagram.len() as isize,
            "{}",
            std::io::Error::last_os_error()
        );
        let mut buf = vec![0u8; 65536];
        loop {
            let n = libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), libc::MSG_DONTWAIT);
            if n >= 0 {
                continue;
            }
            match std::io::Error::last_os_error().raw_os_error() {
                Some(libc::ENOBUFS) => overflows += 1,
                _ => break,
            }
        }
        libc::close(fd);
    }
    overflows
}

/// The answers to a burst of failing requests overflow a small receive buffer, as the raw
/// burst shows. A client whose buffer was shrunk under it after connecting (the descriptor is
/// public) still gets every answer: a batch sizes what it keeps in flight to the buffer the
/// socket has at that moment. Nothing is sent twice: the additions that succeed are each in
/// the table once.
#[test]
fn a_burst_that_overflows_the_receive_buffer_loses_and_repeats_nothing() {
    use ipvs::{OnError, Request};
    use std::os::fd::AsRawFd;
    let mut ipvs = fresh();
    ipvs.add_service(&Service::new(vip())).unwrap();
    let missing = |i: u32| std::net::Ipv4Addr::from(0xc633_0000 + i).into();
    let failing: Vec<Request> = (0..500)
        .map(|i| Request::DeleteDest(vip(), missing(i), 80))
        .collect();
    assert!(
        raw_burst(ipvs.family_id(), &failing, 4096) > 0,
        "the raw burst overflows"
    );

    let small: libc::c_int = 4096;
    // SAFETY: a socket option on the client's live descriptor.
    let rc = unsafe {
        libc::setsockopt(
            ipvs.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            (&small as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    assert_eq!(rc, 0);
    // Every other request fails (a missing destination), the others add one.
    let reqs: Vec<Request> = (0..4000u32)
        .map(|i| match i % 2 {
            0 => Request::AddDest(vip(), Destination::new(missing(100_000 + i), 80)),
            _ => Request::DeleteDest(vip(), missing(i), 80),
        })
        .collect();
    let results = ipvs.batch(&reqs, OnError::Continue);
    for (i, r) in results.iter().enumerate() {
        match i % 2 {
            0 => assert!(r.is_ok(), "request {i}: {r:?}"),
            _ => assert_eq!(
                r.as_ref().err().and_then(|e| e.errno()),
                Some(libc::ENOENT),
                "request {i}"
            ),
        }
    }
    let dests = ipvs.destinations(&vip()).unwrap();
    assert_eq!(dests.len(), 2000);
    let unique: std::collections::HashSet<_> = dests.iter().map(|d| d.addr).collect();
    assert_eq!(unique.len(), 2000);
}
