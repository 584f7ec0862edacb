//! The network of one scenario: a "switch" namespace holding a Linux bridge, and one
//! namespace per director joined to it by a veth (`eth0` on the director's side, `p<i>` on
//! the switch's). Names carry the process id and the scenario's number, so that scenarios
//! and concurrent runs never meet; everything is deleted, with whatever still runs in it,
//! when the [`Net`] is dropped, failure or not.

use std::time::{Duration, Instant};

#[path = "../shared/netns.rs"]
mod shared;
pub use shared::{enter, ip, read_pid, text, wait_exit, within};

/// Director `i`'s own addresses on the link (documentation ranges only).
pub fn director_v4(i: usize) -> String {
    format!("192.0.2.{}", i + 1)
}
pub fn director_v6(i: usize) -> String {
    format!("2001:db8::{}", i + 1)
}

pub struct Net {
    /// The namespace of the bridge `br0`.
    pub switch: String,
    /// One namespace per director.
    pub directors: Vec<String>,
}

impl Net {
    /// Creates the switch and `count` directors, each with `eth0` up and addressed, and a
    /// veth pair `trk0`/`trk1` of its own for instances that track an interface.
    pub fn new(prefix: &str, count: usize) -> Net {
        let net = Net {
            switch: format!("{prefix}w"),
            directors: (0..count)
                .map(|i| format!("{prefix}{}", (b'a' + i as u8) as char))
                .collect(),
        };
        for ns in net.all() {
            ip(&["netns", "add", ns], "");
        }
        // The bridge's ports need no IPv6 of their own: less noise on the link.
        sysctl(&net.switch, "ipv6/conf/default/disable_ipv6", "1");
        for ns in &net.directors {
            // A veth created in the namespace takes its settings from `default`: without
            // duplicate address detection its link-local address (the source of VRRPv3
            // adverts over IPv6) is usable at once.
            sysctl(ns, "ipv6/conf/default/accept_dad", "0");
        }
        // mcast_snooping 0: adverts and neighbour discovery reach every port whatever the
        // groups joined. promisc: every frame the bridge forwards also passes up through
        // br0, where the watcher's packet socket sees it.
        let mut switch = String::from(
            "link set lo up\nlink add br0 type bridge mcast_snooping 0\nlink set br0 up promisc on\n",
        );
        for (i, ns) in net.directors.iter().enumerate() {
            switch += &format!(
                "link add p{i} type veth peer name eth0 netns {ns}\nlink set p{i} master br0 up\n"
            );
        }
        ip(&["-n", &net.switch, "-batch", "-"], &switch);
        for (i, ns) in net.directors.iter().enumerate() {
            let director = format!(
                "link set lo up\n\
                 addr add {}/24 dev eth0\n\
                 addr add {}/64 dev eth0 nodad\n\
                 link set eth0 up\n\
                 link add trk0 type veth peer name trk1\n\
                 link set trk1 up\n\
                 link set trk0 up\n",
                director_v4(i),
                director_v6(i)
            );
            ip(&["-n", ns, "-batch", "-"], &director);
        }
        for ns in &net.directors {
            wait_link_local(ns);
        }
        net
    }

    fn all(&self) -> impl Iterator<Item = &String> {
        self.directors.iter().chain([&self.switch])
    }

    /// Runs `ip -n NS ARGS...` in director `i`'s namespace.
    pub fn in_director(&self, i: usize, args: &str) {
        let mut all = vec!["-n", &self.directors[i]];
        all.extend(args.split_whitespace());
        ip(&all, "");
    }

    /// Deletes director `i`'s link to the switch (its `eth0` goes with the veth).
    pub fn delete_link(&self, i: usize) {
        ip(&["-n", &self.switch, "link", "del", &format!("p{i}")], "");
    }

    /// Makes director `i`'s link to the switch again, as at the start: a new `eth0` (another
    /// interface index) with the same addresses.
    pub fn make_link(&self, i: usize) {
        let ns = &self.directors[i];
        let switch = format!(
            "link add p{i} type veth peer name eth0 netns {ns}\nlink set p{i} master br0 up\n"
        );
        ip(&["-n", &self.switch, "-batch", "-"], &switch);
        let director = format!(
            "addr add {}/24 dev eth0\naddr add {}/64 dev eth0 nodad\nlink set eth0 up\n",
            director_v4(i),
            director_v6(i)
        );
        ip(&["-n", ns, "-batch", "-"], &director);
        wait_link_local(ns);
    }

    /// Runs `ip -n SWITCH ARGS...`.
    pub fn in_switch(&self, args: &str) {
        let mut all = vec!["-n", &self.switch];
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

/// Waits until `eth0`'s link-local address exists and is not tentative.
fn wait_link_local(ns: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let out = ip(&["-n", ns, "-j", "-6", "addr", "show", "dev", "eth0"], "");
        let ready = serde_json::from_str::<serde_json::Value>(&out)
            .ok()
            .and_then(|v| v.as_array().cloned())
            .into_iter()
            .flatten()
            .flat_map(|link| link["addr_info"].as_array().cloned().unwrap_or_default())
            .any(|a| a["scope"] == "link" && a.get("tentative").is_none());
        if ready {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{ns}: eth0 has no usable link-local address: {out}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Writes /proc/sys/net/`key` in namespace `ns`.
fn sysctl(ns: &str, key: &str, value: &str) {
    let path = format!("/proc/sys/net/{key}");
    let value = value.to_string();
    within(ns, move || {
        std::fs::write(&path, value).unwrap_or_else(|e| panic!("write {path}: {e}"))
    });
}
