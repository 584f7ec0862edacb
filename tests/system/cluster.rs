//! Whole LVS clusters in the VM, in direct-routing, NAT and tunnelling modes, set up with
//! lvsadm alone: the director's VIP and service, and the real servers' VIPs and ARP and
//! reverse-path settings, or for NAT their route back through the director. The lab (the LAN as a bridge, veths into one namespace per real
//! server and one for the client, their own addresses, busybox httpd) is built with `ip`, as
//! cabling and installing machines would be; nothing in the LVS set-up is.
//!
//! The client fetches the VIP four times and must get the two real servers' pages in turn;
//! after teardown every address, link, route and setting must be as before.

use std::process::{Command, Stdio};

use crate::rig::{fresh_namespace, lvsadm, shell};
use crate::{lv, lv_ok};

const VIP: &str = "192.168.88.60";
/// The director's address on the NAT real servers' network.
const DIP: &str = "192.168.89.1";
/// busybox's shell runs its own `ip` applet before anything on PATH; iproute2's is needed.
pub(crate) const IP: &str = "ip() { /usr/bin/ip \"$@\"; }; ";

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Dr,
    Nat,
    Tun,
}

struct Lab {
    prefix: &'static str,
    mode: Mode,
}

impl Lab {
    fn ns(&self, host: &str) -> String {
        format!("{}{host}", self.prefix)
    }

    /// Namespace and address of each real server: on the client's LAN, or for NAT on a
    /// LAN of their own behind the director.
    fn servers(&self) -> [(String, String); 2] {
        let net = if self.mode == Mode::Nat {
            "192.168.89"
        } else {
            "192.168.88"
        };
        [62, 63].map(|n| (self.ns(&format!("rs{n}")), format!("{net}.{n}")))
    }

    /// The director is the test's own namespace; real servers and the client get theirs.
    fn build(&self) {
        fresh_namespace().expect("a fresh namespace for the director");
        let mut script = format!(
            "{IP}set -e; ip link add br0 type bridge; ip link set br0 up; \
             ip addr add 192.168.88.61/24 dev br0\n",
        );
        let lan_of = |server: bool| {
            if server && self.mode == Mode::Nat {
                "br1"
            } else {
                "br0"
            }
        };
        if self.mode == Mode::Nat {
            script += "ip link add br1 type bridge; ip link set br1 up; \
                       ip addr add 192.168.89.1/24 dev br1\n";
        }
        let mut hosts: Vec<(String, String, bool)> = self
            .servers()
            .iter()
            .map(|(ns, addr)| (ns.clone(), addr.clone(), true))
            .collect();
        hosts.push((self.ns("client"), "192.168.88.100".to_string(), false));
        for (ns, addr, server) in &hosts {
            let bridge = lan_of(*server);
            script += &format!(
                "ip netns add {ns}; ip link add v-{ns} type veth peer name eth0 netns {ns}; \
                 ip link set v-{ns} master {bridge} up; ip -n {ns} link set lo up; \
                 ip -n {ns} addr add {addr}/24 dev eth0; ip -n {ns} link set eth0 up\n"
            );
            if *server {
                script += &format!(
                    "mkdir -p /tmp/www-{ns}; echo {ns} > /tmp/www-{ns}/index.html; \
                     ip netns exec {ns} httpd -p 80 -h /tmp/www-{ns}\n"
                );
                if self.mode == Mode::Nat && ns.ends_with("rs63") {
                    // A default route of its own, which set-up replaces and teardown puts back.
                    script += &format!("ip -n {ns} route add default via 192.168.89.254\n");
                }
                if self.mode == Mode::Tun {
                    // A strict host, so that set-up has to relax reverse-path filtering.
                    script += &format!(
                        "ip netns exec {ns} sh -c 'echo 1 > /proc/sys/net/ipv4/conf/all/rp_filter'\n"
                    );
                }
            }
        }
        shell(&script).expect("the lab");
    }

    fn demolish(&self) {
        let mut script = IP.to_string();
        for host in ["rs62", "rs63", "client"] {
            let ns = self.ns(host);
            script += &format!(
                "for p in $(ip netns pids {ns}); do kill $p; done; ip netns del {ns}; \
                 rm -rf /tmp/www-{ns}\n"
            );
        }
        let _ = shell(&script);
    }

    /// Addresses, links (up or down), IPv4 routes and the settings set-up may touch, in one
    /// namespace
    /// (None: the director's). Link-local addresses and carrier states are left out: they
    /// change on their own while the lab settles.
    fn snapshot(&self, ns: Option<&str>) -> String {
        let script = IP.to_string()
            + "ip -o addr | grep -v 'scope link'; ip -4 route; \
                      ip -o link | awk '{ print $2, ($3 ~ /[<,]UP[,>]/ ? \"up\" : \"down\") }'; \
                      for f in /proc/sys/net/ipv4/conf/*/arp_ignore /proc/sys/net/ipv4/conf/*/arp_announce \
                      /proc/sys/net/ipv4/conf/*/rp_filter /proc/sys/net/ipv4/ip_forward \
                      /proc/sys/net/ipv6/conf/all/forwarding; do echo \"$f=$(cat $f)\"; done";
        let mut cmd = match ns {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns, "sh", "-c", &script]);
                c
            }
            None => {
                let mut c = Command::new("sh");
                c.args(["-c", &script]);
                c
            }
        };
        let out = cmd.stdin(Stdio::null()).output().expect("snapshot");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn snapshots(&self) -> Vec<String> {
        let mut all = vec![self.snapshot(None)];
        for (ns, _) in self.servers() {
            all.push(self.snapshot(Some(&ns)));
        }
        all
    }

    fn fetch(&self) -> String {
        let out = Command::new("ip")
            .args(["netns", "exec", &self.ns("client")])
            .args([
                "timeout",
                "5",
                "wget",
                "-q",
                "-O",
                "-",
                &format!("http://{VIP}/"),
            ])
            .stdin(Stdio::null())
            .output()
            .expect("wget");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

fn run_cluster(lab: Lab) {
    lab.build();
    let result = std::panic::catch_unwind(|| exercise(&lab));
    lab.demolish();
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

fn exercise(lab: &Lab) {
    let before = lab.snapshots();
    let service = format!("{VIP}:80");
    let forwarding = match lab.mode {
        Mode::Dr => "-g",
        Mode::Nat => "-m",
        Mode::Tun => "-i",
    };

    // The director.
    let vip: &[&str] = match lab.mode {
        Mode::Nat => &[
            "vip",
            "add",
            "192.168.88.60/24",
            "--dev",
            "br0",
            "--forward",
        ],
        _ => &["vip", "add", "192.168.88.60/24", "--dev", "br0:3"],
    };
    lv_ok(vip);
    lv_ok(&["-A", "-t", &service, "-s", "rr"]);
    for (_, addr) in lab.servers() {
        lv_ok(&["-a", "-t", &service, "-r", &addr, forwarding]);
    }
    // The real servers.
    for (ns, _) in lab.servers() {
        let setup: &[&str] = match lab.mode {
            // The second server keeps its VIP on a dummy device, which set-up creates.
            Mode::Dr if ns.ends_with("rs63") => &[VIP, "--dev", "vip0"],
            Mode::Dr => &[VIP],
            Mode::Tun => &[VIP, "--mode", "tun"],
            Mode::Nat => &["--mode", "nat", "--gateway", DIP],
        };
        let mut args = vec!["--netns", &ns, "realserver", "setup"];
        args.extend_from_slice(setup);
        lv_ok(&args);
        lv_ok(&["--netns", &ns, "realserver", "status"]);
    }

    if lab.mode == Mode::Nat {
        for (ns, _) in lab.servers() {
            let out = Command::new("/usr/bin/ip")
                .args(["-n", &ns, "-4", "route", "show", "default"])
                .stdin(Stdio::null())
                .output()
                .expect("ip route");
            assert_eq!(
                String::from_utf8_lossy(&out.stdout).trim(),
                format!("default via {DIP} dev eth0 proto static"),
                "{ns}"
            );
        }
    }

    let pages: Vec<String> = (0..4).map(|_| lab.fetch()).collect();
    let names: Vec<String> = lab.servers().iter().map(|(ns, _)| ns.clone()).collect();
    for page in &pages {
        assert!(names.contains(page), "a fetch got {page:?}; all: {pages:?}");
    }
    for pair in pages.windows(2) {
        assert_ne!(pair[0], pair[1], "round robin alternates: {pages:?}");
    }

    match lab.mode {
        Mode::Dr => misconfigured_server_is_named(&lab.servers()[0].0),
        Mode::Nat => removed_return_route_is_named(&lab.servers()[0].0),
        Mode::Tun => {}
    }

    // Teardown.
    for (ns, _) in lab.servers() {
        let vip: &[&str] = if lab.mode == Mode::Nat { &[] } else { &[VIP] };
        let mut args = vec!["--netns", &ns, "realserver", "teardown"];
        args.extend_from_slice(vip);
        lv_ok(&args);
    }
    lv_ok(&["-D", "-t", &service]);
    lv_ok(&["vip", "del", "192.168.88.60/24", "--dev", "br0"]);
    assert_eq!(lab.snapshots(), before, "everything is back as it was");
}

/// arp_ignore put back to 0 behind lvsadm's back: status must say so, and exit 1.
fn misconfigured_server_is_named(ns: &str) {
    let arp_ignore = "/proc/sys/net/ipv4/conf/all/arp_ignore";
    shell(&format!(
        "{IP}ip netns exec {ns} sh -c 'echo 0 > {arp_ignore}'"
    ))
    .unwrap();
    let out = lv(&["--netns", ns, "realserver", "status"], None);
    let text = out.stdout;
    assert_eq!(out.status, 1, "{text}");
    assert!(
        text.contains("YES (eth0)") && text.contains("arp_ignore is 0"),
        "{text}"
    );
    shell(&format!(
        "{IP}ip netns exec {ns} sh -c 'echo 1 > {arp_ignore}'"
    ))
    .unwrap();
}

/// The default route through the director deleted behind lvsadm's back: status must say that
/// replies have no way back, and exit 1, until set-up is run again.
fn removed_return_route_is_named(ns: &str) {
    shell(&format!("{IP}ip -n {ns} route del default")).unwrap();
    let out = lv(&["--netns", ns, "realserver", "status"], None);
    let text = out.stdout;
    assert_eq!(out.status, 1, "{text}");
    assert!(
        text.contains("WRONG")
            && text.contains("there is no route to 203.0.113.1")
            && text.contains(&format!(
                "fix: lvsadm realserver setup --mode nat --gateway {DIP}"
            )),
        "{text}"
    );
    lv_ok(&[
        "--netns",
        ns,
        "realserver",
        "setup",
        "--mode",
        "nat",
        "--gateway",
        DIP,
    ]);
    lv_ok(&["--netns", ns, "realserver", "status"]);
}

#[test]
fn direct_routing_cluster_built_with_lvsadm_alone() {
    run_cluster(Lab {
        prefix: "dr-",
        mode: Mode::Dr,
    });
}

#[test]
fn nat_cluster_built_with_lvsadm_alone() {
    run_cluster(Lab {
        prefix: "nat-",
        mode: Mode::Nat,
    });
}

#[test]
fn tunnel_cluster_built_with_lvsadm_alone() {
    run_cluster(Lab {
        prefix: "tun-",
        mode: Mode::Tun,
    });
}

/// demo/cluster.sh, which the README's demo command runs in the VM, does what it shows.
#[test]
fn the_readme_demo_shows_the_round_robin() {
    fresh_namespace().expect("a fresh namespace for the director");
    let out = Command::new("/work/bin/demo-cluster")
        .env("LVSADM", lvsadm())
        .stdin(Stdio::null())
        .output()
        .expect("run the demo");
    Lab {
        prefix: "",
        mode: Mode::Dr,
    }
    .demolish();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pages: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("fetch "))
        .map(|l| l.split_once(": ").map_or("", |(_, page)| page))
        .collect();
    assert_eq!(pages.len(), 4, "{text}");
    for pair in pages.windows(2) {
        assert_ne!(pair[0], pair[1], "{text}");
    }
    assert!(
        pages
            .iter()
            .all(|p| *p == "hello from rs62" || *p == "hello from rs63"),
        "{text}"
    );
}
