//! The C library's address parsers and name lookups, called directly so that lvsadm accepts
//! and prints exactly what ipvsadm does (`inet_aton`'s short forms, `gethostbyname`'s first
//! IPv4 address, `/etc/services` names, `inet_ntop`'s spelling of IPv6).

use std::ffi::{CStr, CString};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::{Mutex, MutexGuard, PoisonError};

use ipvs::Protocol;
use libc::{c_char, c_int, c_void, hostent, in_addr, socklen_t};

extern "C" {
    fn inet_aton(cp: *const c_char, inp: *mut in_addr) -> c_int;
    fn gethostbyname(name: *const c_char) -> *mut hostent;
    fn gethostbyaddr(addr: *const c_void, len: socklen_t, af: c_int) -> *mut hostent;
    fn inet_pton(af: c_int, src: *const c_char, dst: *mut c_void) -> c_int;
    fn inet_ntop(af: c_int, src: *const c_void, dst: *mut c_char, size: socklen_t)
        -> *const c_char;
}

/// Held across each call of a lookup that returns the C library's static data
/// (`gethostbyname` and its kin): large restore texts are parsed on several threads.
static STATIC_RESULT: Mutex<()> = Mutex::new(());

fn static_result() -> MutexGuard<'static, ()> {
    STATIC_RESULT.lock().unwrap_or_else(PoisonError::into_inner)
}

/// `inet_aton`: also `10.1`, `0x0a000001` and the like.
pub fn parse_ipv4(s: &str) -> Option<Ipv4Addr> {
    // Plain dotted quads, the forms rules files are made of, mean the same to both parsers.
    if let Ok(a) = s.parse() {
        return Some(a);
    }
    let [a, b, c, d, ..] = c_parse(Parser::Aton, s)?;
    Some(Ipv4Addr::new(a, b, c, d))
}

/// `inet_pton(AF_INET6, …)`.
pub fn parse_ipv6(s: &str) -> Option<Ipv6Addr> {
    // Every IPv6 text has at least two colons; what Rust's parser accepts, so does glibc's.
    if s.bytes().filter(|&b| b == b':').count() < 2 {
        return None;
    }
    if let Ok(a) = s.parse() {
        return Some(a);
    }
    c_parse(Parser::Pton6, s).map(Ipv6Addr::from)
}

/// The C library's address parsers.
enum Parser {
    /// `inet_aton`, into the first four bytes.
    Aton,
    /// `inet_pton(AF_INET6, …)`.
    Pton6,
}

/// An address parsed by the C library, in network byte order.
fn c_parse(parser: Parser, s: &str) -> Option<[u8; 16]> {
    let c = CString::new(s).ok()?;
    let mut out = [0u8; 16];
    // SAFETY: `c` is NUL-terminated; inet_aton writes a local in_addr, inet_pton copies the
    // 16 bytes of an in6_addr into `out`, which has room for them.
    let ok = unsafe {
        match parser {
            Parser::Aton => {
                let mut v4 = in_addr { s_addr: 0 };
                let ok = inet_aton(c.as_ptr(), &mut v4) != 0;
                out[..4].copy_from_slice(&v4.s_addr.to_ne_bytes());
                ok
            }
            Parser::Pton6 => inet_pton(libc::AF_INET6, c.as_ptr(), out.as_mut_ptr().cast()) == 1,
        }
    };
    ok.then_some(out)
}

/// `gethostbyname`: the first IPv4 address of a host name.
pub fn host_to_ipv4(name: &str) -> Option<Ipv4Addr> {
    let c = CString::new(name).ok()?;
    host(Host::Name(&c))?.first_ipv4
}

/// An address as the C library takes it: family, bytes, length.
fn raw_addr(addr: &IpAddr) -> (c_int, [u8; 16], socklen_t) {
    match addr {
        IpAddr::V4(a) => {
            let mut r = [0u8; 16];
            r[..4].copy_from_slice(&a.octets());
            (libc::AF_INET, r, 4)
        }
        IpAddr::V6(a) => (libc::AF_INET6, a.octets(), 16),
    }
}

/// `inet_ntop`.
pub fn ntop(addr: &IpAddr) -> String {
    if let IpAddr::V4(a) = addr {
        return a.to_string();
    }
    let (af, raw, _) = raw_addr(addr);
    let mut buf = [0 as c_char; 64];
    // SAFETY: `raw` holds an address of the given family, `buf` is larger than
    // INET6_ADDRSTRLEN; on success inet_ntop wrote a NUL-terminated string into `buf`, which
    // is copied before `buf` goes.
    unsafe {
        if inet_ntop(af, raw.as_ptr().cast(), buf.as_mut_ptr(), 64).is_null() {
            return addr.to_string();
        }
        CStr::from_ptr(buf.as_ptr()).to_string_lossy().into_owned()
    }
}

/// `gethostbyaddr`: the host's name, if it has one.
pub fn host_name(addr: &IpAddr) -> Option<String> {
    host(Host::Addr(addr))?.name
}

/// What a host is looked up by.
enum Host<'a> {
    Name(&'a CStr),
    Addr(&'a IpAddr),
}

/// What lvsadm takes from a host entry.
struct HostEntry {
    name: Option<String>,
    first_ipv4: Option<Ipv4Addr>,
}

/// `gethostbyname` or `gethostbyaddr`.
fn host(by: Host) -> Option<HostEntry> {
    let (af, raw, len) = match by {
        Host::Addr(addr) => raw_addr(addr),
        Host::Name(_) => (0, [0; 16], 0),
    };
    let _held = static_result();
    // SAFETY: the name is NUL-terminated and `raw` holds `len` bytes of address; the result is
    // NULL or static data that stays valid until the next lookup (the lock is held) and is
    // copied at once; h_addr_list is NULL-terminated and its entries have h_length bytes.
    unsafe {
        let h = match by {
            Host::Name(name) => gethostbyname(name.as_ptr()),
            Host::Addr(_) => gethostbyaddr(raw.as_ptr().cast(), len, af),
        };
        if h.is_null() {
            return None;
        }
        let name = (*h).h_name;
        let name = (!name.is_null()).then(|| CStr::from_ptr(name).to_string_lossy().into_owned());
        let first = *(*h).h_addr_list;
        let is_ipv4 = (*h).h_addrtype == libc::AF_INET && (*h).h_length == 4;
        let first_ipv4 = (is_ipv4 && !first.is_null()).then(|| {
            let mut b = [0u8; 4];
            std::ptr::copy_nonoverlapping(first.cast::<u8>(), b.as_mut_ptr(), 4);
            Ipv4Addr::from(b)
        });
        Some(HostEntry { name, first_ipv4 })
    }
}

fn proto_name(protocol: Protocol) -> Option<&'static CStr> {
    match protocol {
        Protocol::Tcp => Some(c"tcp"),
        Protocol::Udp => Some(c"udp"),
        Protocol::Sctp => Some(c"sctp"),
        Protocol::Other(_) => None,
    }
}

/// `getservbyname`: the port of a service name, for TCP, UDP or SCTP only.
pub fn service_port(name: &str, protocol: Protocol) -> Option<u16> {
    let c = CString::new(name).ok()?;
    service(Service::Name(&c), protocol).map(|(port, _)| port)
}

/// `getservbyport`: the service name of a port, for TCP, UDP or SCTP only.
pub fn port_name(port: u16, protocol: Protocol) -> Option<String> {
    service(Service::Port(port), protocol).and_then(|(_, name)| name)
}

/// What a service is looked up by.
enum Service<'a> {
    Name(&'a CStr),
    Port(u16),
}

/// `getservbyname` or `getservbyport`: the entry's port and name.
fn service(by: Service, protocol: Protocol) -> Option<(u16, Option<String>)> {
    let proto = proto_name(protocol)?;
    let _held = static_result();
    // SAFETY: the strings are NUL-terminated; the result is NULL or static data that stays
    // valid until the next lookup (the lock is held) and is copied at once.
    unsafe {
        let s = match by {
            Service::Name(name) => libc::getservbyname(name.as_ptr(), proto.as_ptr()),
            Service::Port(port) => libc::getservbyport(c_int::from(port.to_be()), proto.as_ptr()),
        };
        if s.is_null() {
            return None;
        }
        let name = (*s).s_name;
        let name = (!name.is_null()).then(|| CStr::from_ptr(name).to_string_lossy().into_owned());
        Some((u16::from_be((*s).s_port as u16), name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inet_aton_short_forms() {
        assert_eq!(parse_ipv4("10.1"), Some(Ipv4Addr::new(10, 0, 0, 1)));
        assert_eq!(parse_ipv4("0x0a000001"), Some(Ipv4Addr::new(10, 0, 0, 1)));
        assert_eq!(parse_ipv4("255.255.0"), Some(Ipv4Addr::new(255, 255, 0, 0)));
        assert_eq!(parse_ipv4("1.2.3.4.5"), None);
    }

    #[test]
    fn ntop_is_glibcs() {
        assert_eq!(ntop(&"2001:db8::1".parse().unwrap()), "2001:db8::1");
        assert_eq!(ntop(&"10.0.0.1".parse().unwrap()), "10.0.0.1");
    }
}
