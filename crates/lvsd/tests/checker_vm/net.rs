//! The network of one test: a namespace holding the real servers' addresses on a bridge (the
//! switch), and one namespace per director joined to that bridge by a veth. Everything is named
//! after the test, so that tests could run side by side, and deleted when the test ends.

use std::process::{Command, Output};

/// The directors' own addresses on the shared link: distinct, since both answer ARP and
/// neighbour solicitations on the one bridge.
const DIRECTOR_ADDRS: [(&str, &str); 2] =
    [("192.0.2.1", "2001:db8::1"), ("192.0.2.2", "2001:db8::2")];

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
        let rs = &net.servers;
        let mut commands = vec![
            format!("netns add {rs}"),
            format!("-n {rs} link set lo up"),
            format!("-n {rs} link add br0 type bridge"),
            format!("-n {rs} link set br0 up"),
        ];
        for a in addrs {
            // nodad: an IPv6 address is usable at once instead of after duplicate detection.
            let (len, flags) = if a.contains(':') {
                (64, " nodad")
            } else {
                (24, "")
            };
            commands.push(format!("-n {rs} addr add {a}/{len} dev br0{flags}"));
        }
        for (i, (ns, (v4, v6))) in net.directors.iter().zip(DIRECTOR_ADDRS).enumerate() {
            commands.extend([
                format!("netns add {ns}"),
                format!("-n {ns} link set lo up"),
                format!("-n {rs} link add d{i} type veth peer name eth0 netns {ns}"),
                format!("-n {rs} link set d{i} master br0 up"),
                format!("-n {ns} addr add {v4}/24 dev eth0"),
                format!("-n {ns} addr add {v6}/64 dev eth0 nodad"),
                format!("-n {ns} link set eth0 up"),
            ]);
        }
        // iproute2's ip, run directly: the VM's busybox sh would run its own applet instead.
        for c in &commands {
            let out = Command::new("ip")
                .args(c.split(' '))
                .output()
                .expect("run ip");
            assert!(out.status.success(), "ip {c}: {}", text(&out.stderr));
        }
        net
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

/// Runs `args` in namespace `ns`.
pub fn exec(ns: &str, args: &[&str]) -> Output {
    Command::new("ip")
        .args(["netns", "exec", ns])
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("ip netns exec {ns} {args:?}: {e}"))
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
