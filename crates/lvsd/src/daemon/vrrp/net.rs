//! VRRP's sockets: one raw IPv4 socket of protocol 112 per interface, bound to it, joined
//! to the multicast group, writing its own IP header (as keepalived does) so that every
//! advert carries TTL 255, the instance's source address and keepalived's TOS whatever the
//! routing says. What arrives is handed over with its IP header for the receive checks.

use std::io::{self, Read};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::Arc;

use socket2::{Domain, InterfaceIndexOrAddress, Protocol, Socket, Type};
use tokio::sync::mpsc;

use vrrp::packet::PROTOCOL;

/// keepalived's TOS for adverts: IPTOS_PREC_INTERNETCONTROL.
const TOS: u8 = 0xc0;

/// A datagram read on an interface: the IPv4 header and all.
pub struct Incoming {
    pub ifindex: u32,
    pub datagram: Vec<u8>,
}

/// The socket of one interface.
pub struct Link {
    pub name: String,
    socket: Arc<Socket>,
}

impl Link {
    /// Opens the interface's socket, joined to `groups`, and starts reading it into `tx`.
    pub fn open(
        name: &str,
        ifindex: u32,
        groups: &[Ipv4Addr],
        tx: mpsc::UnboundedSender<Incoming>,
    ) -> Result<Link, String> {
        let fail = |what: &str, e: io::Error| format!("VRRP socket on {name}: {what}: {e}");
        let socket = Socket::new(
            Domain::IPV4,
            Type::RAW,
            Some(Protocol::from(i32::from(PROTOCOL))),
        )
        .map_err(|e| fail("cannot open (lvsd must run as root)", e))?;
        socket
            .bind_device(Some(name.as_bytes()))
            .map_err(|e| fail("bind to device", e))?;
        socket
            .set_header_included_v4(true)
            .map_err(|e| fail("IP_HDRINCL", e))?;
        socket
            .set_multicast_loop_v4(false)
            .map_err(|e| fail("IP_MULTICAST_LOOP", e))?;
        for group in groups {
            socket
                .join_multicast_v4_n(group, &InterfaceIndexOrAddress::Index(ifindex))
                .map_err(|e| fail(&format!("join {group}"), e))?;
        }
        let socket = Arc::new(socket);
        let reader = Arc::clone(&socket);
        // A blocking reader of its own: the socket lives as long as the daemon, and the
        // runtime's readiness registration would need unsafe code for a raw socket.
        std::thread::Builder::new()
            .name(format!("vrrp-{name}"))
            .spawn(move || {
                let mut buf = vec![0u8; 65536];
                loop {
                    match (&*reader).read(&mut buf) {
                        Ok(n) => {
                            let incoming = Incoming {
                                ifindex,
                                datagram: buf[..n].to_vec(),
                            };
                            if tx.send(incoming).is_err() {
                                return;
                            }
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(_) => std::thread::sleep(std::time::Duration::from_millis(100)),
                    }
                }
            })
            .map_err(|e| fail("start its reader", e))?;
        Ok(Link {
            name: name.to_string(),
            socket,
        })
    }

    /// Sends `vrrp` (the advert's bytes) from `src` to `dst` with TTL `ttl`.
    pub fn send(&self, src: Ipv4Addr, dst: Ipv4Addr, ttl: u8, vrrp: &[u8]) -> io::Result<()> {
        let datagram = ipv4_datagram(src, dst, ttl, vrrp);
        let to = SocketAddr::V4(SocketAddrV4::new(dst, 0));
        self.socket.send_to(&datagram, &to.into()).map(|_| ())
    }
}

/// An IPv4 header before `payload`; the kernel fills in the identification and checksum.
fn ipv4_datagram(src: Ipv4Addr, dst: Ipv4Addr, ttl: u8, payload: &[u8]) -> Vec<u8> {
    let total = (20 + payload.len()) as u16;
    let mut d = Vec::with_capacity(total as usize);
    d.extend_from_slice(&[0x45, TOS]);
    d.extend_from_slice(&total.to_be_bytes());
    d.extend_from_slice(&[0, 0, 0, 0, ttl, PROTOCOL, 0, 0]);
    d.extend_from_slice(&src.octets());
    d.extend_from_slice(&dst.octets());
    d.extend_from_slice(payload);
    d
}

/// The first IPv4 address on interface `ifindex`: keepalived's default source.
pub fn primary_v4(rtnl: &hostnet::rtnl::Rtnl, ifindex: u32) -> Option<IpAddr> {
    rtnl.addresses()
        .ok()?
        .into_iter()
        .find(|a| a.index == ifindex && a.net.addr().is_ipv4())
        .map(|a| a.net.addr())
}
