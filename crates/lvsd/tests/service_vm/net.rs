//! One test's network: a client, a NAT director and the real servers, each a namespace named
//! after the test (so tests run side by side), deleted when the test ends.
//!
//! ```text
//!  client 198.51.100.2 ── c0 198.51.100.1 (the VIP) director s0 192.0.2.1 ── servers 192.0.2.11, .12
//! ```
//!
//! The real servers route back through the director, which forwards: NAT, so that IPVS counts
//! the replies too (OutPkts, OutBytes), which direct routing would send past it.

use std::process::{Command, Output};

#[path = "../shared/netns.rs"]
mod shared;
pub use shared::{enter, ip, text, within};

/// The virtual service's address: the director's own on the client's link.
pub const VIP: &str = "198.51.100.1";
pub const CLIENT: &str = "198.51.100.2";
/// The real servers, both in the servers' namespace.
pub const REAL_SERVERS: [&str; 2] = ["192.0.2.11", "192.0.2.12"];

pub struct Net {
    pub client: String,
    pub director: String,
    pub servers: String,
}

impl Net {
    pub fn new(test: &str) -> Net {
        let net = Net {
            client: format!("sv-{test}-c"),
            director: format!("sv-{test}-d"),
            servers: format!("sv-{test}-s"),
        };
        // A namespace left by an earlier, killed run would make `ip netns add` fail.
        net.delete();
        for ns in net.all() {
            ip(&["netns", "add", ns], "");
        }
        let director = format!(
            "link set lo up\n\
             link add c0 type veth peer name eth0 netns {client}\n\
             link add s0 type veth peer name eth0 netns {servers}\n\
             addr add {VIP}/24 dev c0\naddr add 192.0.2.1/24 dev s0\n\
             link set c0 up\nlink set s0 up\n",
            client = net.client,
            servers = net.servers
        );
        ip(&["-n", &net.director, "-batch", "-"], &director);
        let client = format!("link set lo up\naddr add {CLIENT}/24 dev eth0\nlink set eth0 up\n");
        ip(&["-n", &net.client, "-batch", "-"], &client);
        let mut servers = String::from("link set lo up\n");
        for a in REAL_SERVERS {
            servers += &format!("addr add {a}/24 dev eth0\n");
        }
        servers += "link set eth0 up\nroute add default via 192.0.2.1\n";
        ip(&["-n", &net.servers, "-batch", "-"], &servers);
        within(&net.director, || {
            std::fs::write("/proc/sys/net/ipv4/ip_forward", "1").expect("turn on forwarding")
        });
        net
    }

    fn all(&self) -> [&String; 3] {
        [&self.client, &self.director, &self.servers]
    }

    fn delete(&self) {
        for ns in self.all() {
            let _ = Command::new("ip").args(["netns", "del", ns]).output();
        }
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        self.delete();
    }
}

/// Runs `program` with `args` in namespace `ns` and returns what it printed.
pub fn run(ns: &str, program: &str, args: &[&str]) -> Output {
    let mut command = Command::new(program);
    command.args(args);
    within(ns, move || command.output()).unwrap_or_else(|e| panic!("run {program}: {e}"))
}
