//! lvsadm's own commands on a real IPVS kernel (run in the VM by tests/vm/suite): restore in
//! batches and `--atomic`, `apply` and `diff`, and the write lock. The real ipvsadm reads the
//! results back.

#[path = "../common/rig.rs"]
mod rig;

mod cluster;
mod faults;
mod restart;
mod show;
mod unit;

use std::time::{Duration, Instant};

use rig::{fresh_namespace, lvsadm, shell, spawn, Outcome, Spawn, IPVSADM};

fn run(program: &str, args: &[&str], stdin: Option<&str>) -> Outcome {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    spawn(&Spawn {
        program,
        args: &args,
        stdin,
        ..Spawn::default()
    })
    .unwrap_or_else(|e| panic!("{program} {args:?}: {e}"))
}

fn lv(args: &[&str], stdin: Option<&str>) -> Outcome {
    run(&lvsadm(), args, stdin)
}

/// lvsadm that must succeed: its standard output.
fn lv_ok(args: &[&str]) -> String {
    let out = lv(args, None);
    assert_eq!(
        out.status, 0,
        "lvsadm {args:?}: {}{}",
        out.stdout, out.stderr
    );
    out.stdout
}

fn ipvsadm(args: &[&str], stdin: Option<&str>) -> Outcome {
    let out = run(IPVSADM, args, stdin);
    assert_eq!(out.status, 0, "ipvsadm {args:?}: {}", out.stderr);
    out
}

/// The table as the real ipvsadm sees it, order aside (it depends on the namespace), with the
/// thresholds that -S leaves out, and the timeouts.
fn state() -> Vec<String> {
    let mut lines: Vec<String> = ipvsadm(&["-S", "-n"], None)
        .stdout
        .lines()
        .chain(ipvsadm(&["-L", "-n", "--thresholds"], None).stdout.lines())
        .chain(ipvsadm(&["-L", "--timeout"], None).stdout.lines())
        .map(String::from)
        .collect();
    lines.sort();
    lines
}

fn fresh() {
    fresh_namespace().expect("a fresh network namespace");
}

#[test]
fn restore_reports_each_refused_line_and_applies_the_others() {
    fresh();
    ipvsadm(&["-A", "-t", "10.0.0.1:80"], None);
    let rules =
        "-A -t 10.0.0.2:80\n-A -t 10.0.0.1:80\n-a -t 10.0.0.2:80 -r 192.168.1.1 -x 1 -y 2\n\
                 -a -t 10.0.0.2:80 -r 192.168.1.2\n-L -n -t 10.0.0.2:80\n-D -t 10.0.0.9:80\n";
    let out = lv(&["-R"], Some(rules));
    assert_eq!(out.status, 255);
    assert_eq!(
        out.stderr,
        "line 2: Service already exists\nline 3: Numerical result out of range\nline 6: No such service\n"
    );
    // The listing on line 5 ran in its place, after the changes above it.
    assert!(out.stdout.contains("  -> 192.168.1.2:80"), "{}", out.stdout);
    assert_eq!(
        ipvsadm(&["-S", "-n"], None).stdout,
        "-A -t 10.0.0.1:80 -s wlc\n-A -t 10.0.0.2:80 -s wlc\n-a -t 10.0.0.2:80 -r 192.168.1.2:80 -g -w 1\n"
    );
}

#[test]
fn atomic_restore_puts_the_table_back() {
    fresh();
    let start = "-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 192.168.1.1:80 -m -w 3 -x 9 -y 4\n\
                 -A -u 10.0.0.1:53 -p 60\n--set 100 20 30\n";
    ipvsadm(&["-R"], Some(start));
    let before = state();
    // Thousands of changes, so that several batches are applied before the refusal.
    let mut rules = String::from("-C\n--set 1 2 3\n");
    for i in 0..3000 {
        rules += &format!("-A -t 10.1.{}.{}:80 -s wrr\n", i / 250, i % 250 + 1);
        rules += &format!(
            "-a -t 10.1.{}.{}:80 -r 192.168.2.1:8080 -m\n",
            i / 250,
            i % 250 + 1
        );
    }
    rules += "-E -t 10.0.0.1:80 -s wlc\n"; // line 6003: flushed above, so no such service
    rules += "-A -t 10.2.0.1:80\n";
    let out = lv(&["-R", "--atomic"], Some(&rules));
    assert_eq!(out.status, 255, "{}", out.stderr);
    assert_eq!(
        out.stderr,
        "line 6003: No such service\nstopped at line 6003; the table is as it was before the restore\n"
    );
    assert_eq!(state(), before);

    // Without the refused line the same restore goes through.
    let rules = rules.replace("-E -t 10.0.0.1:80 -s wlc\n", "");
    let out = lv(&["-R", "--atomic"], Some(&rules));
    assert_eq!((out.status, out.stderr.as_str()), (0, ""));
    assert_eq!(ipvsadm(&["-S", "-n"], None).stdout.lines().count(), 6001);
}

/// A small deterministic generator, so that a failure can be replayed from its seed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

/// A random table in ipvsadm's rules syntax, drawn from a small pool of services and
/// destinations so that two tables overlap.
fn random_rules(rng: &mut Rng) -> String {
    let services: &[(&str, bool)] = &[
        ("-t 10.0.0.1:80", false),
        ("-t 10.0.0.2:80", false),
        ("-u 10.0.0.1:53", false),
        ("--sctp-service 10.0.0.3:3868", false),
        ("-t [2001:db8::1]:443", true),
        ("-u [2001:db8::1]:53", true),
        ("-f 1", false),
        ("-f 2 -6", true),
    ];
    let mut out = String::new();
    for (svc, v6) in services {
        if rng.below(3) == 0 {
            continue;
        }
        out += &format!(
            "-A {svc} -s {}",
            rng.pick(&["rr", "wrr", "wlc", "lc", "sh", "mh"])
        );
        if rng.below(3) == 0 {
            out += &format!(" -p {}", rng.pick(&["60", "360", "1000"]));
            if rng.below(2) == 0 {
                out += if *v6 { " -M 64" } else { " -M 255.255.255.0" };
            }
        }
        if svc.starts_with("-u") && rng.below(3) == 0 {
            out += " -o";
        }
        out += "\n";
        for host in 1..=4 {
            if rng.below(2) == 0 {
                continue;
            }
            let fwd = rng.pick(&["-m", "-g", "-i"]);
            let port = if fwd == "-m" {
                rng.pick(&[":80", ":8080"])
            } else {
                ""
            };
            let addr = match (*v6, port) {
                (true, "") => format!("2001:db8::{host}"),
                (true, _) => format!("[2001:db8::{host}]"),
                (false, _) => format!("192.168.1.{host}"),
            };
            out += &format!("-a {svc} -r {addr}{port} {fwd} -w {}", rng.below(4));
            if rng.below(4) == 0 {
                out += " -x 20 -y 5";
            }
            out += "\n";
        }
    }
    out
}

fn write_rules(name: &str, rules: &str) -> String {
    let path = format!("/tmp/{name}.rules");
    std::fs::write(&path, rules).unwrap();
    path
}

#[test]
fn apply_converges_from_random_tables_to_random_tables() {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    for round in 0..25 {
        let (start, target) = (random_rules(&mut rng), random_rules(&mut rng));
        let context = format!("round {round}\nstart:\n{start}\ntarget:\n{target}");

        // What the target looks like when the real ipvsadm builds it from nothing.
        fresh();
        ipvsadm(&["-R"], Some(&target));
        let want = state();

        fresh();
        ipvsadm(&["-R"], Some(&start));
        let file = write_rules("target", &target);
        let plan = lv(&["apply", "--dry-run", &file], None);
        assert_eq!(plan.status, 0, "{context}\n{}", plan.stderr);
        let listed = lv(&["diff", &file], None);
        assert_eq!(listed.stdout, plan.stdout, "{context}");
        assert_eq!(
            listed.status,
            i32::from(!plan.stdout.is_empty()),
            "{context}"
        );

        // The printed plan, replayed by the real ipvsadm, reaches the target too.
        let mut replayed_by_ipvsadm = start.clone();
        replayed_by_ipvsadm += &plan.stdout;
        let applied = lv(&["apply", &file], None);
        assert_eq!(
            (applied.status, applied.stderr.as_str()),
            (0, ""),
            "{context}"
        );
        assert_eq!(state(), want, "{context}\nplan:\n{}", plan.stdout);
        let again = lv(&["diff", &file], None);
        assert_eq!((again.status, again.stdout.as_str()), (0, ""), "{context}");

        fresh();
        ipvsadm(&["-R"], Some(&replayed_by_ipvsadm));
        assert_eq!(
            state(),
            want,
            "{context}\nplan replayed by ipvsadm:\n{}",
            plan.stdout
        );
    }
}

#[test]
fn apply_rejects_a_bad_file_and_changes_nothing() {
    fresh();
    ipvsadm(&["-A", "-t", "10.0.0.1:80"], None);
    let before = state();
    let cases = [
        (
            "-A -t 10.0.0.2:80\n-A -t 10.0.0.3:80 -x 5\n",
            "line 2: Illegal 'u-threshold' option",
        ),
        (
            "-a -t 10.0.0.2:80 -r 192.168.1.1\n",
            "line 1: a destination for tcp 10.0.0.2:80",
        ),
        (
            "-A -t 10.0.0.2:80\n-C\n",
            "line 2: a rules file holds only -A and -a lines",
        ),
        (
            "-A -t 10.0.0.2:80\n-A -t 10.0.0.2:80 -s rr\n",
            "line 2: the service tcp 10.0.0.2:80 is added twice",
        ),
    ];
    for (rules, message) in cases {
        let out = lv(&["apply", &write_rules("bad", rules)], None);
        assert_eq!(out.status, 2, "{rules}");
        assert!(out.stderr.contains(message), "{rules}: {}", out.stderr);
    }
    // A file the kernel refuses half-way: everything is put back.
    let out = lv(
        &[
            "apply",
            &write_rules(
                "refused",
                "-A -t 10.0.0.2:80\n-A -t 10.0.0.3:80 -s nosuch\n",
            ),
        ],
        None,
    );
    assert_eq!(out.status, 2);
    assert!(
        out.stderr
            .contains("Scheduler or persistence engine not found; the table is as it was"),
        "{}",
        out.stderr
    );
    assert_eq!(state(), before);
}

const IP: &str = "/usr/bin/ip";

/// A client namespace behind a veth, a web server in the test's namespace, and two services
/// in front of it.
struct Lan {
    client: String,
}

impl Lan {
    fn new() -> Lan {
        let client = format!("sys-client-{}", std::process::id());
        shell(&format!(
            "{IP} netns add {client} && {IP} link add v0 type veth peer name v1 netns {client} && \
             {IP} addr add 10.10.0.1/24 dev v0 && {IP} addr add 10.10.0.100/32 dev v0 && \
             {IP} link set v0 up && {IP} -n {client} addr add 10.10.0.2/24 dev v1 && \
             {IP} -n {client} link set v1 up && mkdir -p /tmp/sys-www && \
             echo hello > /tmp/sys-www/index.html && /bin/busybox httpd -p 10.10.0.1:80 -h /tmp/sys-www"
        ))
        .unwrap();
        Lan { client }
    }

    fn fetch(&self, port: u16) -> String {
        let out = run(
            IP,
            &[
                "netns",
                "exec",
                &self.client,
                "/bin/busybox",
                "timeout",
                "5",
                "/bin/busybox",
                "wget",
                "-q",
                "-O",
                "-",
                &format!("http://10.10.0.100:{port}/"),
            ],
            None,
        );
        out.stdout
    }
}

impl Drop for Lan {
    fn drop(&mut self) {
        let _ = shell(&format!(
            "{IP} netns del {}; /bin/busybox pkill -f 'httpd -p 10.10.0.1:80'",
            self.client
        ));
    }
}

/// The line of one service and its destination in `-Ln --stats --exact`, and the connection
/// counts of `-Ln`.
fn service_state(service: &str) -> (String, String) {
    let pick = |text: String| -> String {
        let mut lines = text.lines().skip_while(|l| !l.starts_with(service));
        format!(
            "{}\n{}",
            lines.next().unwrap_or(""),
            lines.next().unwrap_or("")
        )
    };
    (
        pick(ipvsadm(&["-L", "-n", "--stats", "--exact"], None).stdout),
        pick(ipvsadm(&["-L", "-n"], None).stdout),
    )
}

#[test]
fn apply_leaves_unchanged_services_and_their_connections_alone() {
    fresh();
    let lan = Lan::new();
    let start = "-A -t 10.10.0.100:80 -s rr\n-a -t 10.10.0.100:80 -r 10.10.0.1:80 -m\n\
                 -A -t 10.10.0.100:8080 -s rr\n-a -t 10.10.0.100:8080 -r 10.10.0.1:80 -m\n";
    ipvsadm(&["-R"], Some(start));
    for port in [80, 80, 80, 8080] {
        assert_eq!(lan.fetch(port), "hello\n");
    }
    std::thread::sleep(Duration::from_secs(3));
    let kept = service_state("TCP  10.10.0.100:80 ");
    assert!(
        kept.0.contains("       3 "),
        "three connections counted: {}",
        kept.0
    );
    let edited = service_state("TCP  10.10.0.100:8080 ");

    let target = "-A -t 10.10.0.100:80 -s rr\n-a -t 10.10.0.100:80 -r 10.10.0.1:80 -m -w 1\n\
                  -A -t 10.10.0.100:8080 -s wlc\n-a -t 10.10.0.100:8080 -r 10.10.0.1:80 -m -w 5\n\
                  -A -t 10.10.0.100:8443 -s rr\n";
    let out = lv(&["apply", &write_rules("live", target)], None);
    assert_eq!((out.status, out.stderr.as_str()), (0, ""));
    // The unchanged service keeps its counters and its connections; the edited one was
    // changed in place, so it keeps its counters too.
    assert_eq!(service_state("TCP  10.10.0.100:80 "), kept);
    assert_eq!(
        service_state("TCP  10.10.0.100:8080 ").0.lines().next(),
        edited.0.lines().next()
    );
    assert!(ipvsadm(&["-L", "-n"], None)
        .stdout
        .contains("TCP  10.10.0.100:8080 wlc\n  -> 10.10.0.1:80                 Masq    5"));
    assert_eq!(lan.fetch(80), "hello\n");

    // What flush and restore would have done instead: the counters start again from zero.
    ipvsadm(&["-C"], None);
    ipvsadm(&["-R"], Some(target));
    assert!(service_state("TCP  10.10.0.100:80 ")
        .0
        .contains("       0        0"));
}

#[test]
fn writers_wait_for_the_lock_of_what_they_change_in_their_namespace() {
    use hostnet::lock::{Guarded, Lock};
    fresh();
    // This test holds the table's lock as another lvsadm would.
    let held = Lock::acquire(Guarded::IpvsTable, |_| panic!("nobody else holds it")).unwrap();
    let mut writer = std::process::Command::new(lvsadm())
        .args(["-A", "-t", "10.0.0.1:80"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let reader = lv(&["-L", "-n"], None);
    assert_eq!(reader.status, 0, "listing does not wait");
    // The host records have a lock of their own.
    let host = lv(&["realserver", "setup", "192.0.2.9"], None);
    assert_eq!((host.status, host.stderr.as_str()), (0, ""));
    assert_eq!(lv(&["realserver", "teardown"], None).status, 0);
    // So has every other namespace's table.
    let ip = cluster::IP;
    shell(&format!("{ip}ip netns add lv-lock && ip -n lv-lock link set lo up")).unwrap();
    let other = lv(&["--netns", "lv-lock", "-A", "-t", "10.0.0.1:80"], None);
    shell(&format!("{ip}ip netns del lv-lock")).unwrap();
    assert_eq!((other.status, other.stderr.as_str()), (0, ""));

    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        writer.try_wait().unwrap().is_none(),
        "the writer did not wait"
    );
    assert_eq!(ipvsadm(&["-S", "-n"], None).stdout, "");
    let released = Instant::now();
    drop(held);
    let out = writer.wait_with_output().unwrap();
    assert!(out.status.success());
    assert!(released.elapsed() < Duration::from_secs(5));
    // Having waited more than a second, it said for whom.
    let me = std::process::id();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with(&format!("lvsadm: waiting for process {me} (")),
        "{stderr}"
    );
    assert!(
        stderr.ends_with(", which is changing the IPVS table of this network namespace\n"),
        "{stderr}"
    );
    assert_eq!(
        ipvsadm(&["-S", "-n"], None).stdout,
        "-A -t 10.0.0.1:80 -s wlc\n"
    );
}

#[test]
fn netns_option_works_in_the_named_namespace_only() {
    fresh();
    let ip = cluster::IP;
    shell(&format!(
        "{ip}ip netns add lv-other && ip -n lv-other link set lo up && \
         ip -n lv-other link add br0 type bridge"
    ))
    .unwrap();
    let inside = |args: &[&str]| {
        let out = std::process::Command::new("/usr/bin/ip")
            .args(["netns", "exec", "lv-other", IPVSADM])
            .args(args)
            .output()
            .expect("ipvsadm in lv-other");
        assert!(out.status.success(), "{args:?}: {:?}", out);
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let rules = "-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 192.168.1.1:80 -g -w 1\n";
    let out = lv(&["--netns", "lv-other", "-R"], Some(rules));
    assert_eq!((out.status, out.stderr.as_str()), (0, ""));
    assert_eq!(inside(&["-S", "-n"]), rules);
    assert_eq!(
        ipvsadm(&["-S", "-n"], None).stdout,
        "",
        "this namespace is untouched"
    );
    let listing = lv(&["--netns=lv-other", "-L", "-n"], None);
    assert!(
        listing.stdout.contains("TCP  10.0.0.1:80 rr"),
        "{}",
        listing.stdout
    );

    let file = write_rules("netns", "-A -u 10.0.0.2:53 -s wlc\n");
    let out = lv(&["--netns", "lv-other", "apply", &file], None);
    assert_eq!((out.status, out.stderr.as_str()), (0, ""));
    assert_eq!(inside(&["-S", "-n"]), "-A -u 10.0.0.2:53 -s wlc\n");
    assert_eq!(ipvsadm(&["-S", "-n"], None).stdout, "");

    let out = lv(
        &[
            "--netns",
            "lv-other",
            "vip",
            "add",
            "192.0.2.60/24",
            "--dev",
            "br0",
        ],
        None,
    );
    assert_eq!((out.status, out.stderr.as_str()), (0, ""));
    let listed = lv(&["--netns", "lv-other", "vip", "list"], None).stdout;
    assert!(
        listed.contains("192.0.2.60/24") && listed.contains("present"),
        "{listed}"
    );
    assert_eq!(
        lv(&["vip", "list"], None).stdout,
        "",
        "this namespace has no VIP"
    );
    let out = lv(
        &[
            "--netns",
            "lv-other",
            "vip",
            "del",
            "192.0.2.60",
            "--dev",
            "br0",
        ],
        None,
    );
    assert_eq!(out.status, 0, "{}", out.stderr);

    let out = lv(&["--netns", "lv-missing", "-L", "-n"], None);
    assert_eq!(out.status, 2);
    assert!(
        out.stderr.contains("network namespace lv-missing"),
        "{}",
        out.stderr
    );
    shell(&format!("{ip}ip netns del lv-other")).unwrap();
}
