//! The network of one test: a namespace holding the real servers' addresses on a bridge (the
//! switch), and one namespace per director joined to that bridge by a veth. Everything is named
//! after the test, so that tests could run side by side, and deleted when the test ends.

use std::net::IpAddr;
use std::process::Command;

#[path = "../shared/netns.rs"]
mod shared;
pub use shared::{enter, ip, text, within};

/// The directors' own addresses on the shared link, A's then B's: distinct, since both answer
/// ARP and neighbour solicitations on the one bridge. Checks come from these.
pub const DIRECTOR_ADDRS: [(&str, &str); 2] =
    [("192.0.2.1", "2001:db8::1"), ("192.0.2.2", "2001:db8::2")];

/// The address director `i` checks real servers of `family` (that of `peer`) from.
pub fn director_addr(i: usize, peer: IpAddr) -> IpAddr {
    let (v4, v6) = DIRECTOR_ADDRS[i];
    if peer.is_ipv6() { v6 } else { v4 }.parse().unwrap()
}

pub struct Net {
    /// The namespace of the real servers and of the bridge.
    pub servers: String,
    /// The two directors' namespaces, A then B.
    pub directors: [String; 2],
}

impl Net {
    /// Creates the namespaces; the real servers' namespace answers on every address of `addrs`
    /// (192.0.2.x or 2001:db8::x).
    pub fn new(test: &str, addrs: &[&str]) -> Net {
        let net = Net {
            servers: format!("ck-{test}-rs"),
            directors: [format!("ck-{test}-a"), format!("ck-{test}-b")],
        };
        // A namespace left by an earlier, killed run would make `ip netns add` fail.
        net.delete();
        for ns in net.directors.iter().chain([&net.servers]) {
            ip(&["netns", "add", ns], "");
        }
        let mut servers =
            String::from("link set lo up\nlink add br0 type bridge\nlink set br0 up\n");
        for a in addrs {
            // nodad: an IPv6 address is usable at once instead of after duplicate detection.
            let (len, flags) = if a.contains(':') {
                (64, " nodad")
            } else {
                (24, "")
            };
            servers += &format!("addr add {a}/{len} dev br0{flags}\n");
        }
        for (i, ns) in net.directors.iter().enumerate() {
            servers += &format!(
                "link add d{i} type veth peer name eth0 netns {ns}\nlink set d{i} master br0 up\n"
            );
        }
        ip(&["-n", &net.servers, "-batch", "-"], &servers);
        for (ns, (v4, v6)) in net.directors.iter().zip(DIRECTOR_ADDRS) {
            let director = format!(
                "link set lo up\naddr add {v4}/24 dev eth0\naddr add {v6}/64 dev eth0 nodad\nlink set eth0 up\n"
            );
            ip(&["-n", ns, "-batch", "-"], &director);
        }
        net
    }

    /// Whether the real servers answer IPv4 pings (PING_CHECK).
    pub fn answer_pings(&self, on: bool) {
        within(&self.servers, move || {
            let ignore = if on { "0" } else { "1" };
            std::fs::write("/proc/sys/net/ipv4/icmp_echo_ignore_all", ignore)
                .expect("write icmp_echo_ignore_all")
        });
    }

    fn delete(&self) {
        for ns in self.directors.iter().chain([&self.servers]) {
            let _ = Command::new("ip").args(["netns", "del", ns]).output();
        }
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        self.delete();
    }
}
