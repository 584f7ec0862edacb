//! One test's network: a client, a NAT director and the real servers, each a namespace named
//! after the test (so tests run side by side), deleted when the test ends.
//!
//! ```text
//!  client 198.51.100.2 ── c0 198.51.100.1 (the VIP) director s0 192.0.2.1 ── servers 192.0.2.11, .12
//! ```
//!
//! The real servers route back through the director, which forwards: NAT, so that IPVS counts
//! the replies too (OutPkts, OutBytes), which direct routing would send past it.

use std::fs::File;
use std::io::Write;
use std::os::fd::AsFd;
use std::process::{Command, Output, Stdio};

use nix::sched::{setns, CloneFlags};

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

/// Runs iproute2's ip with `args` and `input` (a -batch).
fn ip(args: &[&str], input: &str) {
    let mut child = Command::new("ip")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run ip");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "ip {args:?} {input}: {}",
        text(&out.stderr)
    );
}

/// Moves the calling thread into namespace `ns`: the sockets it makes and the processes it
/// starts are then that namespace's.
pub fn enter(ns: &str) {
    let file = File::open(format!("/run/netns/{ns}"))
        .unwrap_or_else(|e| panic!("open namespace {ns}: {e}"));
    setns(file.as_fd(), CloneFlags::CLONE_NEWNET)
        .unwrap_or_else(|e| panic!("enter namespace {ns}: {e}"));
}

/// Runs `f` on a thread of its own in namespace `ns` (cheaper than `ip netns exec`).
pub fn within<T: Send + 'static>(ns: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let ns = ns.to_string();
    std::thread::spawn(move || {
        enter(&ns);
        f()
    })
    .join()
    .unwrap()
}

/// Runs `program` with `args` in namespace `ns` and returns what it printed.
pub fn run(ns: &str, program: &str, args: &[&str]) -> Output {
    let mut command = Command::new(program);
    command.args(args);
    within(ns, move || command.output()).unwrap_or_else(|e| panic!("run {program}: {e}"))
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
