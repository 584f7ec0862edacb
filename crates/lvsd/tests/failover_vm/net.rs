//! The network of one cluster, as the guide draws it but in documentation addresses: a
//! "switch" namespace holding a bridge, and a namespace per machine joined to it by a veth
//! (`eth0` on the machine's side, `p<n>` on the switch's): two directors, two direct-routing
//! real servers (set up with `lvsadm realserver setup`, as the guide does by hand) and a
//! client. Names carry a prefix of the cluster's own, so clusters run side by side; every
//! namespace is deleted, with whatever still runs in it, when the [`Net`] is dropped.

use std::process::Command;

#[path = "../shared/netns.rs"]
mod shared;
pub use shared::{enter, ip, read_pid, text, wait_exit};

/// The virtual IP, on the shared link (the guide's 192.168.88.60).
pub const VIP: &str = "192.0.2.50";
/// The real servers' own addresses (the guide's node2 and node3).
pub const REAL_SERVERS: [&str; 2] = ["192.0.2.11", "192.0.2.12"];
pub const CLIENT: &str = "192.0.2.100";

/// Director `i`'s own address (the guide's node1 and node4).
pub fn director_v4(i: usize) -> String {
    format!("192.0.2.{}", i + 1)
}

/// lvsadm, which sets up the real servers: the one the VM run adds, unless `LVSADM` says.
fn lvsadm() -> String {
    std::env::var("LVSADM").unwrap_or_else(|_| "/work/bin/lvsadm".into())
}

pub struct Net {
    /// The namespace of the bridge `br0`.
    pub switch: String,
    /// The two directors' namespaces: the names the shared watcher (vrrp_interop's) expects.
    pub directors: Vec<String>,
    pub reals: Vec<String>,
    pub client: String,
}

impl Net {
    pub fn new(prefix: &str) -> Net {
        let net = Net {
            switch: format!("{prefix}w"),
            directors: vec![format!("{prefix}d1"), format!("{prefix}d2")],
            reals: vec![format!("{prefix}r1"), format!("{prefix}r2")],
            client: format!("{prefix}c"),
        };
        for ns in net.all() {
            ip(&["netns", "add", ns], "");
        }
        // mcast_snooping 0: adverts reach every port whatever the groups joined. promisc:
        // every frame the bridge forwards also passes up through br0, where the watcher's
        // packet socket sees it.
        let mut switch = String::from(
            "link set lo up\nlink add br0 type bridge mcast_snooping 0\nlink set br0 up promisc on\n",
        );
        let hosts: Vec<(&String, String)> = net
            .directors
            .iter()
            .enumerate()
            .map(|(i, ns)| (ns, director_v4(i)))
            .chain(net.reals.iter().zip(REAL_SERVERS.map(String::from)))
            .chain([(&net.client, CLIENT.to_string())])
            .collect();
        for (n, (ns, _)) in hosts.iter().enumerate() {
            switch += &format!(
                "link add p{n} type veth peer name eth0 netns {ns}\nlink set p{n} master br0 up\n"
            );
        }
        ip(&["-n", &net.switch, "-batch", "-"], &switch);
        for (ns, addr) in &hosts {
            let host = format!("link set lo up\naddr add {addr}/24 dev eth0\nlink set eth0 up\n");
            ip(&["-n", ns, "-batch", "-"], &host);
        }
        // Each real server: the VIP on lo, arp_ignore 1, arp_announce 2 (the guide's
        // `ifconfig lo:8` and echoes), by lvsadm.
        for ns in &net.reals {
            let out = Command::new(lvsadm())
                .args(["--netns", ns, "realserver", "setup", VIP])
                .output()
                .expect("run lvsadm");
            assert!(
                out.status.success(),
                "lvsadm realserver setup in {ns}: {}",
                text(&out.stderr)
            );
        }
        net
    }

    fn all(&self) -> impl Iterator<Item = &String> {
        [&self.switch]
            .into_iter()
            .chain(&self.directors)
            .chain(&self.reals)
            .chain([&self.client])
    }

    /// Runs `ip -n NS ARGS...` in director `i`'s namespace.
    pub fn in_director(&self, i: usize, args: &str) {
        let mut all = vec!["-n", &self.directors[i]];
        all.extend(args.split_whitespace());
        ip(&all, "");
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        for ns in self.all() {
            shared::delete(ns);
        }
    }
}
