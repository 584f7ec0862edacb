//! The benchmark (not a test): run inside the VM by `tests/bench/run`, it times ipvsadm and
//! lvsadm on the same tables in the same boot and prints a Markdown report. See BENCHMARKS.md.
//!
//! Arguments: the table sizes in services (each with 4 destinations).

use std::fs::File;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ipvs::attr::emit_attrs;
use ipvs::{Client, Destination, ForwardMethod, Protocol, Request, Service, ServiceKey};

const IPVSADM: &str = "/usr/sbin/ipvsadm";
const LVSADM: &str = "/work/bin/lvsadm";
const DESTS: usize = 4;

struct Run {
    time: Duration,
    /// Peak resident memory, KiB.
    max_rss: i64,
}

/// Runs a program to completion, stdout discarded, and measures it.
fn measure(program: &str, args: &[&str], stdin: Option<&str>) -> Run {
    let input = match stdin {
        Some(path) => Stdio::from(File::open(path).expect("rules file")),
        None => Stdio::null(),
    };
    let started = Instant::now();
    // Reaped below with wait4, which also reports the peak memory.
    #[allow(clippy::zombie_processes)]
    let child = Command::new(program)
        .args(args)
        .stdin(input)
        .stdout(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    let mut status = 0;
    // SAFETY: an all-zero rusage is valid; wait4 reaps the child std spawned (std never
    // reaps on its own).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    let time = started.elapsed();
    assert!(
        pid > 0 && libc::WIFEXITED(status),
        "{program} {args:?} died"
    );
    let code = libc::WEXITSTATUS(status);
    assert_eq!(code, 0, "{program} {args:?} exited {code}");
    Run {
        time,
        max_rss: usage.ru_maxrss,
    }
}

fn service_addr(i: usize) -> Ipv4Addr {
    Ipv4Addr::from(0x0a00_0000 + i as u32 + 1)
}

fn dest_addr(i: usize, j: usize) -> Ipv4Addr {
    Ipv4Addr::from(0xc0a8_0000 + ((i * DESTS + j) % 60000) as u32 + 1)
}

/// The rules file: `n` services with 4 masqueraded destinations each; with `changed`, the
/// destinations of every hundredth service have weight 2 instead of 1 (the 1 % change of the
/// apply measurement).
fn rules(n: usize, changed: bool) -> String {
    let mut s = String::with_capacity(n * 250);
    for i in 0..n {
        let weight = if changed && i % 100 == 0 { 2 } else { 1 };
        s += &format!("-A -t {}:80 -s wlc\n", service_addr(i));
        for j in 0..DESTS {
            s += &format!(
                "-a -t {}:80 -r {}:8080 -m -w {weight}\n",
                service_addr(i),
                dest_addr(i, j)
            );
        }
    }
    s
}

/// The same table as library requests.
fn requests(n: usize) -> Vec<Request> {
    let mut reqs = Vec::with_capacity(n * (DESTS + 1));
    for i in 0..n {
        let key = ServiceKey::Addr {
            protocol: Protocol::Tcp,
            addr: IpAddr::V4(service_addr(i)),
            port: 80,
        };
        reqs.push(Request::AddService(Service::new(key)));
        for j in 0..DESTS {
            let mut d = Destination::new(IpAddr::V4(dest_addr(i, j)), 8080);
            d.forward = ForwardMethod::Masquerade;
            reqs.push(Request::AddDest(key, d));
        }
    }
    reqs
}

/// The kernel's own cost: the requests encoded beforehand, written to one netlink socket in
/// 64 KiB sends, one ACK asked for at the very end.
fn floor(family: u16, reqs: &[Request]) -> Duration {
    const REQUEST: u16 = 1;
    const ACK: u16 = 4;
    let mut sends: Vec<Vec<u8>> = vec![Vec::new()];
    let last = reqs.len() - 1;
    for (seq, req) in reqs.iter().enumerate() {
        let (cmd, attrs) = req.command();
        let payload = emit_attrs(&attrs);
        let len = 16 + 4 + payload.len();
        if sends.last().is_some_and(|b| b.len() + len > 64 * 1024) {
            sends.push(Vec::new());
        }
        let flags = if seq == last { REQUEST | ACK } else { REQUEST };
        let Some(b) = sends.last_mut() else { break };
        b.extend_from_slice(&(len as u32).to_ne_bytes());
        b.extend_from_slice(&family.to_ne_bytes());
        b.extend_from_slice(&flags.to_ne_bytes());
        b.extend_from_slice(&(seq as u32 + 1).to_ne_bytes());
        b.extend_from_slice(&0u32.to_ne_bytes());
        b.extend_from_slice(&[cmd, 1, 0, 0]);
        b.extend_from_slice(&payload);
    }
    // SAFETY: a plain netlink socket, owned from here on.
    let sock = unsafe {
        OwnedFd::from_raw_fd(libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_RAW,
            libc::NETLINK_GENERIC,
        ))
    };
    // SAFETY: an all-zero sockaddr_nl addresses the kernel.
    let mut kernel: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
    kernel.nl_family = libc::AF_NETLINK as u16;
    let started = Instant::now();
    for b in &sends {
        // SAFETY: sends a buffer this function owns to the kernel's address.
        let n = unsafe {
            libc::sendto(
                sock.as_raw_fd(),
                b.as_ptr().cast(),
                b.len(),
                0,
                (&kernel as *const libc::sockaddr_nl).cast(),
                std::mem::size_of::<libc::sockaddr_nl>() as u32,
            )
        };
        assert_eq!(
            n as usize,
            b.len(),
            "send: {}",
            std::io::Error::last_os_error()
        );
    }
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        // SAFETY: receives into a buffer this function owns.
        let n = unsafe { libc::recv(sock.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
        assert!(n >= 20, "recv: {}", std::io::Error::last_os_error());
        let seq = u32::from_ne_bytes([buf[8], buf[9], buf[10], buf[11]]) as usize;
        let error = i32::from_ne_bytes([buf[16], buf[17], buf[18], buf[19]]);
        assert_eq!(error, 0, "the kernel refused request {seq}");
        if seq == reqs.len() {
            return started.elapsed();
        }
    }
}

/// Empty namespaces for measurements that must not pay for an earlier table: after a flush
/// the kernel keeps the removed destinations in a per-namespace trash for a minute, and every
/// destination added meanwhile searches all of it, so a restore right after a flush slows
/// down with the size of the table that was flushed.
struct Namespaces {
    /// Earlier namespaces, flushed but kept open: letting the kernel tear them down would
    /// take CPU time from the measurements that follow.
    kept: Vec<File>,
}

impl Namespaces {
    fn fresh(&mut self) {
        measure(IPVSADM, &["-C"], None);
        self.kept
            .push(File::open("/proc/thread-self/ns/net").expect("namespace handle"));
        // SAFETY: moves this (only) thread into a new namespace with an empty table.
        assert_eq!(unsafe { libc::unshare(libc::CLONE_NEWNET) }, 0);
        let up = Command::new("/usr/bin/ip")
            .args(["link", "set", "lo", "up"])
            .status();
        assert!(up.is_ok_and(|s| s.success()));
    }
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn ratio(a: Duration, b: Duration) -> String {
    format!("{:.1}×", a.as_secs_f64() / b.as_secs_f64())
}

fn mib(kib: i64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

fn row(n: usize, step: &str, theirs: Duration, ours: &Run) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "| {n} | {step} | {} | {} | {} | {} |",
        secs(theirs),
        secs(ours.time),
        ratio(theirs, ours.time),
        mib(ours.max_rss)
    );
    let _ = out.flush();
}

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let mut ns = Namespaces { kept: Vec::new() };
    ns.fresh();
    let family = Client::connect().expect("IPVS").family_id();
    println!(
        "| services (×{DESTS} dests) | step | ipvsadm | lvsadm | ipvsadm / lvsadm | lvsadm peak RSS |\n|---|---|---|---|---|---|"
    );
    for &n in &sizes {
        let file = format!("/tmp/bench-{n}.rules");
        let changed = format!("/tmp/bench-{n}-changed.rules");
        std::fs::write(&file, rules(n, false)).expect("write the rules");
        std::fs::write(&changed, rules(n, true)).expect("write the rules");

        ns.fresh();
        let theirs = measure(IPVSADM, &["-R"], Some(&file)).time;
        ns.fresh();
        let ours = measure(LVSADM, &["-R"], Some(&file));
        row(n, "restore (-R)", theirs, &ours);

        ns.fresh();
        let reqs = requests(n);
        let kernel = floor(family, &reqs);
        drop(reqs);
        println!(
            "| {n} | restore floor: pre-encoded, one socket | | {} | lvsadm -R / floor = {} | |",
            secs(kernel),
            ratio(ours.time, kernel)
        );

        let theirs = measure(IPVSADM, &["-L", "-n"], None).time;
        let ours = measure(LVSADM, &["-L", "-n"], None);
        row(n, "list (-L -n)", theirs, &ours);
        let theirs = measure(IPVSADM, &["-S", "-n"], None).time;
        let ours = measure(LVSADM, &["-S", "-n"], None);
        row(n, "save (-S -n)", theirs, &ours);

        // 1 % of the services change weights: lvsadm apply, against flush and restore in
        // one namespace as an operator would do it (so paying for the kernel's trash search).
        let ours = measure(LVSADM, &["apply", &changed], None);
        ns.fresh();
        measure(LVSADM, &["-R"], Some(&file));
        let started = Instant::now();
        measure(IPVSADM, &["-C"], None);
        measure(IPVSADM, &["-R"], Some(&changed));
        let theirs = started.elapsed();
        row(n, "1 % change: apply vs -C and -R", theirs, &ours);
    }
}
