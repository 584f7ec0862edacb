//! VRRP's sockets: a raw socket of protocol 112 per interface and family, bound to the
//! interface and joined to the multicast group, each read by a thread of its own.
//!
//! IPv4 writes its own IP header (as keepalived does), so every advert carries TTL 255, the
//! instance's source address and keepalived's TOS whatever the routing says, and reads the
//! header back for the TTL. IPv6 sends with hop limit 255 from the instance's (link-local)
//! address and reads the hop limit and destination from the control messages.

use std::io::{self, IoSlice, IoSliceMut, Read};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use nix::sys::socket::{
    recvmsg, sendmsg, setsockopt, sockopt, ControlMessage, ControlMessageOwned, MsgFlags,
    SockaddrIn6,
};
use socket2::{Domain, InterfaceIndexOrAddress, Protocol, Socket, Type};
use tokio::sync::mpsc::{self, error::TrySendError};

use vrrp::packet::{split_ipv4, PROTOCOL};

/// keepalived's TOS for adverts: IPTOS_PREC_INTERNETCONTROL.
const TOS: u8 = 0xc0;

/// How long a reader waits for a message before it looks whether to stop.
const READ_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(500);

/// How many messages read wait for the daemon at most; more are dropped, as a full socket
/// buffer would drop them.
pub const QUEUE: usize = 1024;

/// A VRRP message read on an interface, with what came with it.
pub struct Incoming {
    pub ifindex: u32,
    pub src: IpAddr,
    pub dst: IpAddr,
    /// TTL or hop limit.
    pub ttl: u8,
    pub vrrp: Vec<u8>,
}

/// The socket of one interface and family.
pub struct Link {
    pub name: String,
    ifindex: u32,
    /// The multicast groups joined: each instance's on this interface.
    groups: Vec<IpAddr>,
    socket: Arc<Socket>,
    /// Tells the reader to stop, which closes the socket: the link is dropped when its
    /// interface is gone or was made again under the same name.
    stop: Arc<AtomicBool>,
}

impl Drop for Link {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

impl Link {
    /// Opens the socket of `group`'s family on the interface, joined to `group`, and starts
    /// reading it into `tx`.
    pub fn open(
        name: &str,
        ifindex: u32,
        group: IpAddr,
        tx: mpsc::Sender<Incoming>,
    ) -> Result<Link, String> {
        let fail = |what: &str, e: io::Error| format!("VRRP socket on {name}: {what}: {e}");
        let domain = if group.is_ipv4() {
            Domain::IPV4
        } else {
            Domain::IPV6
        };
        let socket = Socket::new(domain, Type::RAW, Some(Protocol::from(i32::from(PROTOCOL))))
            .map_err(|e| fail("cannot open (lvsd must run as root)", e))?;
        socket
            .bind_device(Some(name.as_bytes()))
            .map_err(|e| fail("bind to device", e))?;
        match group {
            IpAddr::V4(_) => {
                socket
                    .set_header_included_v4(true)
                    .map_err(|e| fail("IP_HDRINCL", e))?;
                socket
                    .set_multicast_loop_v4(false)
                    .map_err(|e| fail("IP_MULTICAST_LOOP", e))?;
            }
            IpAddr::V6(_) => {
                socket
                    .set_multicast_loop_v6(false)
                    .map_err(|e| fail("IPV6_MULTICAST_LOOP", e))?;
                socket
                    .set_multicast_hops_v6(255)
                    .map_err(|e| fail("IPV6_MULTICAST_HOPS", e))?;
                socket
                    .set_unicast_hops_v6(255)
                    .map_err(|e| fail("IPV6_UNICAST_HOPS", e))?;
                socket
                    .set_multicast_if_v6(ifindex)
                    .map_err(|e| fail("IPV6_MULTICAST_IF", e))?;
                socket
                    .set_recv_hoplimit_v6(true)
                    .map_err(|e| fail("IPV6_RECVHOPLIMIT", e))?;
                setsockopt(&socket, sockopt::Ipv6RecvPacketInfo, &true)
                    .map_err(|e| fail("IPV6_RECVPKTINFO", e.into()))?;
            }
        }
        let socket = Arc::new(socket);
        let reader = Arc::clone(&socket);
        let v6 = group.is_ipv6();
        // Reads time out so that the reader sees when to stop.
        socket
            .set_read_timeout(Some(READ_TIMEOUT))
            .map_err(|e| fail("SO_RCVTIMEO", e))?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        // A blocking reader of its own: the runtime's readiness registration of a raw socket
        // would need unsafe code.
        std::thread::Builder::new()
            .name(format!("vrrp-{name}"))
            .spawn(move || {
                let mut buf = vec![0u8; 65536];
                while !stopped.load(Ordering::Relaxed) {
                    let read = if v6 {
                        read_v6(&reader, &mut buf)
                    } else {
                        read_v4(&reader, &mut buf)
                    };
                    match read {
                        Ok(Some((src, dst, ttl, vrrp))) => {
                            let incoming = Incoming {
                                ifindex,
                                src,
                                dst,
                                ttl,
                                vrrp,
                            };
                            match tx.try_send(incoming) {
                                Ok(()) | Err(TrySendError::Full(_)) => {}
                                Err(TrySendError::Closed(_)) => return,
                            }
                        }
                        // Not even an IP header: nothing an instance could be told.
                        Ok(None) => {}
                        Err(e)
                            if matches!(
                                e.kind(),
                                io::ErrorKind::Interrupted
                                    | io::ErrorKind::WouldBlock
                                    | io::ErrorKind::TimedOut
                            ) => {}
                        Err(_) => std::thread::sleep(std::time::Duration::from_millis(100)),
                    }
                }
            })
            .map_err(|e| fail("start its reader", e))?;
        let mut link = Link {
            name: name.to_string(),
            ifindex,
            groups: Vec::new(),
            socket,
            stop,
        };
        link.join(group)?;
        Ok(link)
    }

    /// Joins `group` (of the socket's family) on the interface, if not yet joined.
    pub fn join(&mut self, group: IpAddr) -> Result<(), String> {
        if self.groups.contains(&group) {
            return Ok(());
        }
        let joined = match group {
            IpAddr::V4(g) => self
                .socket
                .join_multicast_v4_n(&g, &InterfaceIndexOrAddress::Index(self.ifindex)),
            IpAddr::V6(g) => self.socket.join_multicast_v6(&g, self.ifindex),
        };
        joined.map_err(|e| format!("VRRP socket on {}: join {group}: {e}", self.name))?;
        self.groups.push(group);
        Ok(())
    }

    /// Sends `vrrp` (the advert's bytes) from `src` to `dst` with TTL (hop limit) `ttl`.
    pub fn send(&self, src: IpAddr, dst: IpAddr, ttl: u8, vrrp: &[u8]) -> io::Result<()> {
        match (src, dst) {
            (IpAddr::V4(src), IpAddr::V4(dst)) => {
                let datagram = ipv4_datagram(src, dst, ttl, vrrp);
                let to = SocketAddr::V4(SocketAddrV4::new(dst, 0));
                self.socket.send_to(&datagram, &to.into()).map(|_| ())
            }
            (IpAddr::V6(src), IpAddr::V6(dst)) => {
                let info = nix::libc::in6_pktinfo {
                    ipi6_addr: nix::libc::in6_addr {
                        s6_addr: src.octets(),
                    },
                    ipi6_ifindex: self.ifindex,
                };
                let to = SockaddrIn6::from(SocketAddrV6::new(dst, 0, 0, self.ifindex));
                let hops = i32::from(ttl);
                let cmsgs = [
                    ControlMessage::Ipv6PacketInfo(&info),
                    ControlMessage::Ipv6HopLimit(&hops),
                ];
                sendmsg(
                    self.socket.as_raw_fd(),
                    &[IoSlice::new(vrrp)],
                    &cmsgs,
                    MsgFlags::empty(),
                    Some(&to),
                )
                .map(|_| ())
                .map_err(io::Error::from)
            }
            _ => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "source and destination of two families",
            )),
        }
    }
}

type Read4 = Option<(IpAddr, IpAddr, u8, Vec<u8>)>;

fn read_v4(socket: &Socket, buf: &mut [u8]) -> io::Result<Read4> {
    let n = (&*socket).read(buf)?;
    Ok(split_ipv4(&buf[..n])
        .ok()
        .map(|(h, vrrp)| (IpAddr::V4(h.src), IpAddr::V4(h.dst), h.ttl, vrrp.to_vec())))
}

fn read_v6(socket: &Socket, buf: &mut [u8]) -> io::Result<Read4> {
    let mut space = nix::cmsg_space!(nix::libc::in6_pktinfo, i32);
    let mut iov = [IoSliceMut::new(buf)];
    let msg = recvmsg::<SockaddrIn6>(
        socket.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::empty(),
    )
    .map_err(io::Error::from)?;
    let Some(src) = msg.address.map(|a| a.ip()) else {
        return Ok(None);
    };
    let (mut dst, mut ttl) = (None, None);
    for c in msg.cmsgs().map_err(io::Error::from)? {
        match c {
            ControlMessageOwned::Ipv6PacketInfo(info) => {
                dst = Some(Ipv6Addr::from(info.ipi6_addr.s6_addr))
            }
            ControlMessageOwned::Ipv6HopLimit(h) => ttl = u8::try_from(h).ok(),
            _ => {}
        }
    }
    let n = msg.bytes;
    let (Some(dst), Some(ttl)) = (dst, ttl) else {
        return Ok(None);
    };
    Ok(Some((
        IpAddr::V6(src),
        IpAddr::V6(dst),
        ttl,
        buf[..n].to_vec(),
    )))
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

/// keepalived's default source on interface `ifindex`: its first IPv4 address, or its
/// link-local IPv6 address.
pub fn primary(rtnl: &hostnet::rtnl::Rtnl, ifindex: u32, v6: bool) -> Option<IpAddr> {
    rtnl.addresses().ok()?.into_iter().find_map(|a| {
        let addr = a.net.addr();
        let fits = match addr {
            IpAddr::V4(_) => !v6,
            IpAddr::V6(x) => v6 && x.segments()[0] & 0xffc0 == 0xfe80,
        };
        (a.index == ifindex && fits).then_some(addr)
    })
}
