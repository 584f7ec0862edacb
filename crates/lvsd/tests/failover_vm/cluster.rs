//! One cluster: the [`Net`], the watcher (vrrp_interop's: who holds the VIP, by `ip
//! monitor`; the adverts on the bridge, by a packet socket), the [`Web`] and a [`Daemon`] per
//! director, running the guide's configuration corrected; and the failures a director can
//! suffer, each with its recovery.

use std::fmt::Write as _;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::daemon::{Daemon, Program};
use crate::net::{self, Net, REAL_SERVERS, VIP};
use crate::watch::{Watch, What};
use crate::web::{Client, Web};

pub const VRID: u8 = 51;
/// Director 1's priority (the master) and director 2's.
pub const PRIORITIES: [u8; 2] = [150, 100];

/// The VRRP timing of a cluster.
#[derive(Clone, Copy, Debug)]
pub struct Timing {
    pub version: u8,
    /// As written in the file: "1", "0.1".
    pub advert_int: &'static str,
}

impl Timing {
    pub const V2: Timing = Timing {
        version: 2,
        advert_int: "1",
    };
    pub const V3_FAST: Timing = Timing {
        version: 3,
        advert_int: "0.1",
    };

    pub fn advert(self) -> Duration {
        Duration::from_secs_f64(self.advert_int.parse().unwrap())
    }

    /// The master-down interval of a backup of priority `p` (RFC 3768/5798): three adverts
    /// and the skew time, (256 - p) / 256 of an advert.
    pub fn master_down(self, p: u8) -> Duration {
        self.advert() * 3 + self.skew(p)
    }

    pub fn skew(self, p: u8) -> Duration {
        self.advert().mul_f64(f64::from(256 - u16::from(p)) / 256.0)
    }

    pub fn name(self) -> String {
        format!("v{} advert_int {}", self.version, self.advert_int)
    }
}

/// The guide's keepalived.conf, corrected (and with IPVS's connection sync following VI_1): Debian's sample with the guide's fragments, the
/// no-break spaces, the extra brace and the misplaced retry fixed, `lb_kind DR` and
/// `protocol TCP` said, `nopreempt` and the sample's mail settings dropped, and the two
/// directors given a state and priorities of their own (the guide copies one file to both).
/// Timers are short: delay_loop and the checks' retry 1 s.
pub fn render(i: usize, timing: Timing) -> String {
    let state = if i == 0 { "MASTER" } else { "BACKUP" };
    let mut c = String::from(
        "! Configuration File for keepalived\n\nglobal_defs {\n   router_id LVS_DEVEL\n   lvs_sync_daemon eth0 VI_1\n}\n\n",
    );
    let _ = write!(
        c,
        "vrrp_instance VI_1 {{\n    state {state}\n    interface eth0\n    virtual_router_id {VRID}\n    priority {}\n    advert_int {}\n",
        PRIORITIES[i], timing.advert_int
    );
    if timing.version == 3 {
        // VRRPv3 has no authentication.
        c += "    version 3\n";
    } else {
        c += "    authentication {\n        auth_type PASS\n        auth_pass 1111\n    }\n";
    }
    let _ = write!(
        c,
        "    virtual_ipaddress {{\n        {VIP}/24 dev eth0 label eth0:3\n    }}\n}}\n\nvirtual_server {VIP} 80 {{\n    delay_loop 1\n    lb_algo rr\n    lb_kind DR\n    protocol TCP\n"
    );
    for rs in REAL_SERVERS {
        let _ = write!(
            c,
            "\n    real_server {rs} 80 {{\n        weight 1\n        HTTP_GET {{\n            url {{\n              path /\n              status_code 200\n            }}\n            connect_timeout 1\n            retry 1\n            delay_before_retry 1\n        }}\n    }}\n"
        );
    }
    c += "}\n";
    c
}

/// What happens to a director, and how it comes back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// Stopped as an init script does: it sends an advert of priority 0 on the way out.
    Term,
    /// Killed: silence.
    Kill,
    /// Its link goes down (eth0, as when its cable is pulled).
    LinkDown,
}

impl Failure {
    pub fn name(self) -> &'static str {
        match self {
            Failure::Term => "SIGTERM",
            Failure::Kill => "SIGKILL",
            Failure::LinkDown => "link down",
        }
    }
}

/// Fields drop in order: the daemons first, then the web, the watchers, the namespaces.
pub struct Cluster {
    pub daemons: Vec<Daemon>,
    pub web: Web,
    pub watch: Watch,
    pub net: Net,
    pub timing: Timing,
    /// When the cluster was made: times in reports count from here.
    pub born: Instant,
    pub work: PathBuf,
}

impl Cluster {
    /// Builds the cluster with director 1 running `programs[0]` and director 2
    /// `programs[1]`, and the client fetching; the daemons are not started.
    pub fn new(
        prefix: &str,
        programs: [Program; 2],
        timing: Timing,
        client: Client,
        work: PathBuf,
    ) -> Cluster {
        let born = Instant::now();
        let _ = std::fs::remove_dir_all(&work);
        std::fs::create_dir_all(&work).unwrap();
        let net = Net::new(prefix);
        let watch = Watch::new(&net);
        let web = Web::new(&net.reals, &net.client, client);
        let daemons: Vec<Daemon> = programs
            .iter()
            .enumerate()
            .map(|(i, &p)| {
                let label = format!("director {}", i + 1);
                Daemon::new(
                    &label,
                    p,
                    &net.directors[i],
                    work.join(format!("d{}", i + 1)),
                )
            })
            .collect();
        for (i, d) in daemons.iter().enumerate() {
            std::fs::write(d.conf(), render(i, timing)).unwrap();
        }
        Cluster {
            daemons,
            web,
            watch,
            net,
            timing,
            born,
            work,
        }
    }

    pub fn vip() -> IpAddr {
        VIP.parse().unwrap()
    }

    /// Starts director 1, waits (`limit` at most) until it holds the VIP, then starts
    /// director 2, as the guide starts node1 then node4; returns when director 1 came to
    /// hold the VIP. Both started at once may both become master for a moment, and the
    /// client may then keep the ARP entry of the one that steps down: its neighbour entry,
    /// updated by one gratuitous ARP, ignores the other's for a second (locktime), and the
    /// one that stays master has no reason to announce again for seconds.
    pub fn start(&mut self, limit: Duration) -> Instant {
        let t = self.daemons[0].start();
        let held = self.expect_holder("start", 0, t, limit);
        let t = self.daemons[1].start();
        // Director 2 settled: its instance started (it says so, keepalived and lvsd alike),
        // then an advert of director 1's after that, so that the first failure is heard.
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.daemons[1].log().contains("Entering BACKUP STATE") {
            assert!(
                Instant::now() < deadline,
                "director 2 did not enter BACKUP within 10 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let advert = self.timing.advert() * 3;
        self.watch
            .wait_packet(t.max(Instant::now()), advert, |p| {
                p.from == Some(0) && matches!(p.what, What::Advert { vrid, .. } if vrid == VRID)
            })
            .unwrap_or_else(|| panic!("no advert from director 1 within {advert:?}"));
        held
    }

    /// Makes director `i` fail; returns when.
    pub fn fail(&mut self, i: usize, failure: Failure) -> Instant {
        match failure {
            Failure::Term => self.daemons[i].stop(),
            Failure::Kill => {
                let at = self.daemons[i].kill();
                // A killed daemon leaves its VIP and its IPVS table behind, where a dead
                // machine's would die with it: they are removed, so that the VIP's holder
                // is still the one router answering for it, and a restart starts clean.
                if self.watch.holders(Self::vip()).contains(&i) {
                    self.net
                        .in_director(i, &format!("addr del {VIP}/24 dev eth0"));
                }
                let out = std::process::Command::new("ip")
                    .args(["netns", "exec", &self.net.directors[i], "ipvsadm", "-C"])
                    .output()
                    .expect("run ipvsadm");
                assert!(
                    out.status.success(),
                    "ipvsadm -C: {}",
                    net::text(&out.stderr)
                );
                at
            }
            Failure::LinkDown => {
                let at = Instant::now();
                self.net.in_director(i, "link set eth0 down");
                at
            }
        }
    }

    /// Brings director `i` back from `failure`; returns when.
    pub fn recover(&mut self, i: usize, failure: Failure) -> Instant {
        match failure {
            Failure::Term | Failure::Kill => self.daemons[i].start(),
            Failure::LinkDown => {
                let at = Instant::now();
                self.net.in_director(i, "link set eth0 up");
                at
            }
        }
    }

    /// Waits until director `holder` alone holds the VIP, `limit` at most after `since`,
    /// and `ip addr` agrees; returns when it came to hold it, or panics.
    pub fn expect_holder(
        &self,
        what: &str,
        holder: usize,
        since: Instant,
        limit: Duration,
    ) -> Instant {
        let vip = Self::vip();
        let left = limit.saturating_sub(since.elapsed());
        let Some(at) = self.watch.wait_holders(vip, &[holder], left) else {
            panic!(
                "{what}: director {} alone should hold {vip} within {limit:?}, held by {:?}",
                holder + 1,
                self.watch.holders(vip)
            );
        };
        let read = self.watch.read_holders(vip);
        assert_eq!(read, [holder], "{what}: ip addr disagrees with ip monitor");
        at
    }

    /// The first advert after `since` of director `d` other than of priority 0: the first
    /// it sends as master, once it is the only one advertising.
    pub fn first_advert(&self, d: usize, since: Instant, limit: Duration) -> Option<Instant> {
        let left = limit.saturating_sub(since.elapsed());
        self.watch
            .wait_packet(since, left, |p| {
                p.from == Some(d)
                    && matches!(p.what, What::Advert { vrid, priority, .. } if vrid == VRID && priority > 0)
            })
            .map(|p| p.at)
    }

    /// The first gratuitous ARP for the VIP from director `d` after `since`, if any yet.
    pub fn first_announce(&self, d: usize, since: Instant) -> Option<Instant> {
        let vip = Self::vip();
        self.watch
            .packets()
            .into_iter()
            .find(|p| p.at > since && p.from == Some(d) && p.what == What::Announce { ip: vip })
            .map(|p| p.at)
    }

    /// Waits for a fetch answered after `since`, `limit` at most after `since`.
    pub fn expect_fetch(&self, what: &str, since: Instant, limit: Duration) -> Instant {
        self.web
            .wait_fetch(since, limit)
            .unwrap_or_else(|| panic!("{what}: no fetch succeeded within {limit:?}"))
            .at
    }

    /// What was seen and each daemon's log, for a failure's report.
    pub fn report(&self) -> String {
        let mut out = self.watch.describe(self.born);
        let fetches = self.web.fetches();
        let _ = writeln!(out, "fetches (last 30 of {}):", fetches.len());
        for f in fetches.iter().skip(fetches.len().saturating_sub(30)) {
            let t = f.at.saturating_duration_since(self.born).as_secs_f64();
            let _ = writeln!(out, "  {t:8.3} s  {:?}", f.server);
        }
        for d in &self.daemons {
            let _ = write!(
                out,
                "---- {} configuration:\n{}---- {} log:\n{}",
                d.label,
                std::fs::read_to_string(d.conf()).unwrap_or_default(),
                d.label,
                d.log()
            );
        }
        out
    }
}

impl Cluster {
    /// What the real ipvsadm prints with `args` in director `i`'s namespace.
    fn ipvsadm(&self, i: usize, args: &[&str]) -> String {
        let out = std::process::Command::new("/usr/bin/ip")
            .args(["netns", "exec", &self.net.directors[i], "ipvsadm"])
            .args(args)
            .output()
            .expect("run ipvsadm");
        net::text(&out.stdout)
    }

    /// Whether director `i`'s IPVS runs the connection-sync daemon as master, as backup, or
    /// neither ("master", "backup", "").
    pub fn sync_state(&self, i: usize) -> String {
        let text = self.ipvsadm(i, &["-L", "--daemon"]);
        ["master", "backup"]
            .into_iter()
            .find(|s| text.contains(&format!("{s} sync daemon")))
            .unwrap_or_default()
            .to_string()
    }

    /// The connections director `i`'s IPVS knows of (its own and those synced to it).
    pub fn connections(&self, i: usize) -> usize {
        self.ipvsadm(i, &["-L", "-n", "-c"])
            .lines()
            .filter(|l| l.starts_with("TCP"))
            .count()
    }
}
