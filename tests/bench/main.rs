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

/// GNU time: it starts the program from a small process of its own, so the peak it reports is
/// the program's alone. (A child of the benchmark would inherit the benchmark's own peak: the
/// kernel counts the memory a process had before it executed the program.)
const TIME: &str = "/usr/bin/time";
/// `-R` and its floor are measured this many times, alternating, and the median is reported:
/// the kernel's cost for the same table varies by 10 to 20 % from one namespace to the next.
const ROUNDS: usize = 5;

fn input(stdin: Option<&str>) -> Stdio {
    match stdin {
        Some(path) => Stdio::from(File::open(path).expect("rules file")),
        None => Stdio::null(),
    }
}

/// Runs a program to completion, stdout discarded; its wall-clock time.
fn measure(program: &str, args: &[&str], stdin: Option<&str>) -> Duration {
    let started = Instant::now();
    let status = Command::new(program)
        .args(args)
        .stdin(input(stdin))
        .stdout(Stdio::null())
        .status()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    let time = started.elapsed();
    assert!(status.success(), "{program} {args:?}: {status}");
    time
}

/// Runs a program to completion under GNU time; its peak resident memory in KiB.
fn peak(program: &str, args: &[&str], stdin: Option<&str>) -> u64 {
    let report = "/tmp/bench-peak";
    let status = Command::new(TIME)
        .args(["-f", "%M", "-o", report, program])
        .args(args)
        .stdin(input(stdin))
        .stdout(Stdio::null())
        .status()
        .unwrap_or_else(|e| panic!("{TIME}: {e}"));
    assert!(status.success(), "{program} {args:?}: {status}");
    let text = std::fs::read_to_string(report).expect("time's report");
    text.trim()
        .parse()
        .unwrap_or_else(|_| panic!("time reported {text:?}"))
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
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

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

fn row(n: usize, step: &str, theirs: Duration, ours: Duration, peak: Option<u64>) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "| {n} | {step} | {} | {} | {} | {} |",
        secs(theirs),
        secs(ours),
        ratio(theirs, ours),
        peak.map(mib).unwrap_or_default()
    );
    let _ = out.flush();
}

/// Times `clear` then `restore` (each `[program, args...]`) in a fresh namespace holding the
/// table of `file`, the restore reading `input`. With `save`, the table is first saved to
/// `input` as the boot unit's stop does.
fn clear_and_restore(
    ns: &mut Namespaces,
    file: &str,
    save: Option<&str>,
    clear: &str,
    restore: &str,
    input: &str,
) -> Duration {
    ns.fresh();
    measure(LVSADM, &["-R"], Some(file));
    if let Some(program) = save {
        let saved = Command::new(program)
            .args(["-S", "-n"])
            .output()
            .unwrap_or_else(|e| panic!("{program}: {e}"));
        assert!(saved.status.success(), "{program} -S -n: {}", saved.status);
        std::fs::write(input, saved.stdout).expect("write the saved rules");
    }
    let started = Instant::now();
    measure(clear, &["-C"], None);
    measure(restore, &["-R"], Some(input));
    started.elapsed()
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
        let theirs = measure(IPVSADM, &["-R"], Some(&file));
        let mut ours = Vec::new();
        let mut floors = Vec::new();
        for _ in 0..ROUNDS {
            ns.fresh();
            ours.push(measure(LVSADM, &["-R"], Some(&file)));
            ns.fresh();
            let reqs = requests(n);
            floors.push(floor(family, &reqs));
        }
        let (ours, kernel) = (median(ours), median(floors));
        let fresh = ours;
        // The table the remaining steps work on.
        ns.fresh();
        let restore_peak = peak(LVSADM, &["-R"], Some(&file));
        row(n, "restore (-R)", theirs, ours, Some(restore_peak));
        println!(
            "| {n} | restore floor: pre-encoded, one socket | | {} | lvsadm -R / floor = {:.2}× | |",
            secs(kernel),
            // Two decimals: the target (1.25×) is one.
            ours.as_secs_f64() / kernel.as_secs_f64()
        );

        for (step, args) in [
            ("list (-L -n)", ["-L", "-n"]),
            ("save (-S -n)", ["-S", "-n"]),
        ] {
            let theirs = measure(IPVSADM, &args, None);
            let ours = measure(LVSADM, &args, None);
            row(n, step, theirs, ours, Some(peak(LVSADM, &args, None)));
        }

        // 1 % of the services change weights: lvsadm apply, against flush and restore in
        // one namespace as an operator would do it (so paying for the kernel's trash search).
        let ours = measure(LVSADM, &["apply", &changed], None);
        // Back to the first table, then the same change again under GNU time, for its memory.
        measure(LVSADM, &["apply", &file], None);
        let apply_peak = peak(LVSADM, &["apply", &changed], None);
        ns.fresh();
        measure(LVSADM, &["-R"], Some(&file));
        let started = Instant::now();
        measure(IPVSADM, &["-C"], None);
        measure(IPVSADM, &["-R"], Some(&changed));
        let theirs = started.elapsed();
        row(
            n,
            "1 % change: apply vs -C and -R",
            theirs,
            ours,
            Some(apply_peak),
        );

        // Clearing a table and restoring it again, as a script's reload does (the same
        // rules) and as the boot unit's restart does (what -S saved at stop). ipvsadm's side
        // is its -C and -R above: a restore of the same services and destinations right after
        // a flush, the same work for the kernel whichever weights the rules give.
        let saved = format!("/tmp/bench-{n}-saved.rules");
        let same = clear_and_restore(&mut ns, &file, None, LVSADM, LVSADM, &file);
        row(n, "-C then -R of the same rules", theirs, same, None);
        let restart = clear_and_restore(&mut ns, &file, Some(LVSADM), LVSADM, LVSADM, &saved);
        row(n, "restart: -S, -C, then -R of what -S saved", theirs, restart, None);
        let mixed = clear_and_restore(&mut ns, &file, None, IPVSADM, LVSADM, &file);
        row(n, "ipvsadm -C, then lvsadm -R", theirs, mixed, None);
        println!(
            "| {n} | lvsadm -C and -R / lvsadm -R into an empty namespace | | | {:.2}× (same rules), {:.2}× (restart) | |",
            same.as_secs_f64() / fresh.as_secs_f64(),
            restart.as_secs_f64() / fresh.as_secs_f64(),
        );
    }
}
