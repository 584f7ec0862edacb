//! One scenario's world: its network, the watchers, a daemon per director, and the
//! keepalived.conf they run, written from one template (the directors' files differ only
//! in priority, state and unicast addresses).

use std::fmt::Write as _;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::daemon::{self, Daemon, Program};
use crate::net::{self, Net};
use crate::watch::{Packet, Watch, What};

/// The longest two directors may hold one VIP at once in a transition: the new master
/// adds it, and the old one drops it when the new one's first advert arrives. keepalived
/// against itself shows a few milliseconds; this allows for a loaded machine.
pub const OVERLAP_MAX: Duration = Duration::from_millis(100);

pub const VRID: u8 = 51;

/// What the template varies.
#[derive(Clone)]
pub struct Conf {
    pub version: u8,
    /// As written: "1", "0.1".
    pub advert_int: &'static str,
    pub ipv6: bool,
    pub unicast: bool,
    /// One per director; the highest is `state MASTER` unless all are to start as BACKUP.
    pub priorities: Vec<u8>,
    pub all_backup: bool,
    pub nopreempt: bool,
    pub preempt_delay: Option<u32>,
    /// A PASS password per director, or none.
    pub passwords: Vec<&'static str>,
    /// A tracking script that fails once the director's `fail` file exists: Some(None)
    /// without a weight (failure means FAULT), Some(Some(w)) with weight w.
    pub script: Option<Option<i32>>,
    /// Two instances (VRIDs 51 and 52) in a sync group, the second tracking `trk0`.
    pub sync_group: bool,
    /// A director whose file gives instance 0 one more VIP (192.0.2.150) than the others'.
    pub extra_vip_on: Option<usize>,
    /// A `notify` script and a `vrrp_notify_fifo` (read by its script), each writing what it
    /// is given to a log in the director's directory (`notify.log`, `fifo.log`).
    pub notify: bool,
    /// A `vrrp_track_file` of this weight, reading the director's `track` file (0 at start).
    pub track_file: Option<i32>,
    /// More lines for every instance.
    pub extra: &'static str,
    /// More lines for global_defs.
    pub global: &'static str,
}

impl Conf {
    pub fn new(priorities: &[u8]) -> Conf {
        Conf {
            version: 2,
            advert_int: "1",
            ipv6: false,
            unicast: false,
            priorities: priorities.to_vec(),
            all_backup: false,
            nopreempt: false,
            preempt_delay: None,
            passwords: Vec::new(),
            script: None,
            sync_group: false,
            extra_vip_on: None,
            notify: false,
            track_file: None,
            extra: "",
            global: "",
        }
    }

    /// The VIP of instance `n`.
    pub fn vip(&self, n: u8) -> IpAddr {
        if self.ipv6 {
            format!("2001:db8::{:x}", 0x100 + u16::from(n))
        } else {
            format!("192.0.2.{}", 100 + n)
        }
        .parse()
        .unwrap()
    }

    /// The master-down interval of a backup of priority `p` (RFC 3768/5798): three adverts
    /// and the skew.
    pub fn master_down(&self, p: u8) -> Duration {
        let advert: f64 = self.advert_int.parse().unwrap();
        Duration::from_secs_f64(3.0 * advert + f64::from(256 - u16::from(p)) / 256.0 * advert)
    }

    fn render(&self, i: usize, dir: &Path) -> String {
        let top = *self.priorities.iter().max().unwrap();
        let mut c =
            String::from("global_defs {\n    enable_script_security\n    script_user root\n");
        if self.notify {
            let _ = write!(
                c,
                "    vrrp_notify_fifo {}\n    vrrp_notify_fifo_script {}\n",
                dir.join("fifo").display(),
                dir.join("fifo.sh").display()
            );
        }
        c += self.global;
        c += "}\n";
        if let Some(weight) = self.script {
            let weight = weight.map_or(String::new(), |w| format!("\n    weight {w}"));
            let _ = write!(
                c,
                "vrrp_script chk {{\n    script \"{}\"\n    interval 1\n    fall 1\n    rise 1{weight}\n}}\n",
                dir.join("check").display()
            );
        }
        if let Some(weight) = self.track_file {
            let _ = write!(
                c,
                "vrrp_track_file tf {{\n    file {}\n    weight {weight}\n}}\n",
                dir.join("track").display()
            );
        }
        let instances: &[u8] = if self.sync_group { &[0, 1] } else { &[0] };
        if self.sync_group {
            c += "vrrp_sync_group G {\n    group {\n        VI_0\n        VI_1\n    }\n}\n";
        }
        for &n in instances {
            let p = self.priorities[i];
            let state = if p == top && !self.all_backup {
                "MASTER"
            } else {
                "BACKUP"
            };
            let _ = write!(
                c,
                "vrrp_instance VI_{n} {{\n    state {state}\n    interface eth0\n    virtual_router_id {}\n    priority {p}\n    advert_int {}\n    version {}\n",
                VRID + n,
                self.advert_int,
                self.version
            );
            if self.nopreempt {
                c += "    nopreempt\n";
            }
            if let Some(d) = self.preempt_delay {
                let _ = writeln!(c, "    preempt_delay {d}");
            }
            if let Some(pass) = self.passwords.get(i) {
                let _ = writeln!(
                    c,
                    "    authentication {{\n        auth_type PASS\n        auth_pass {pass}\n    }}"
                );
            }
            if self.unicast {
                let own = |j| {
                    if self.ipv6 {
                        net::director_v6(j)
                    } else {
                        net::director_v4(j)
                    }
                };
                let _ = writeln!(c, "    unicast_src_ip {}", own(i));
                c += "    unicast_peer {\n";
                for j in (0..self.priorities.len()).filter(|&j| j != i) {
                    let _ = writeln!(c, "        {}", own(j));
                }
                c += "    }\n";
            }
            if self.script.is_some() {
                c += "    track_script {\n        chk\n    }\n";
            }
            if self.notify {
                let _ = writeln!(c, "    notify {}", dir.join("notify.sh").display());
            }
            if self.track_file.is_some() {
                c += "    track_file {\n        tf\n    }\n";
            }
            c += self.extra;
            if self.sync_group && n == 1 {
                c += "    track_interface {\n        trk0\n    }\n";
            }
            let len = if self.ipv6 { 128 } else { 32 };
            let extra = if self.extra_vip_on == Some(i) && n == 0 {
                "        192.0.2.150/32 dev eth0\n"
            } else {
                ""
            };
            let _ = write!(
                c,
                "    virtual_ipaddress {{\n        {}/{len} dev eth0\n{extra}    }}\n}}\n",
                self.vip(n)
            );
        }
        c
    }
}

/// Fields drop in order: the daemons first, then the watchers, then the namespaces.
pub struct Rig {
    pub daemons: Vec<Daemon>,
    pub watch: Watch,
    pub net: Net,
    /// When the rig was made: times in reports count from here.
    pub born: Instant,
    /// Measured times, for the scenario's ok line.
    notes: Vec<String>,
    /// The longest overlap of two holders seen in any checked transition.
    overlap: Duration,
    /// The VIPs of the configuration, with their prefix lengths.
    vips: Vec<String>,
    work: PathBuf,
}

impl Rig {
    pub fn new(prefix: &str, programs: &[Program], work: PathBuf) -> Rig {
        let born = Instant::now();
        let _ = std::fs::remove_dir_all(&work);
        std::fs::create_dir_all(&work).unwrap();
        let net = Net::new(prefix, programs.len());
        let watch = Watch::new(&net);
        let daemons = programs
            .iter()
            .enumerate()
            .map(|(i, &p)| {
                let label = ((b'A' + i as u8) as char).to_string();
                Daemon::new(&label, p, &net.directors[i], work.join(&label))
            })
            .collect();
        Rig {
            daemons,
            watch,
            net,
            born,
            notes: Vec::new(),
            overlap: Duration::ZERO,
            vips: Vec::new(),
            work,
        }
    }

    /// Writes each director's keepalived.conf (and tracking script).
    pub fn configure(&mut self, conf: &Conf) {
        let len = if conf.ipv6 { 128 } else { 32 };
        let count = if conf.sync_group { 2 } else { 1 };
        self.vips = (0..count)
            .map(|n| format!("{}/{len}", conf.vip(n)))
            .collect();
        for (i, d) in self.daemons.iter().enumerate() {
            std::fs::write(d.conf(), conf.render(i, d.dir())).unwrap();
            let dir = d.dir();
            daemon::write_script(
                &dir.join("notify.sh"),
                &format!(
                    "#!/bin/sh\necho \"$@\" >> {}\n",
                    dir.join("notify.log").display()
                ),
            );
            daemon::write_script(
                &dir.join("fifo.sh"),
                &format!(
                    "#!/bin/sh\nexec cat \"$1\" >> {}\n",
                    dir.join("fifo.log").display()
                ),
            );
            std::fs::write(dir.join("track"), "0\n").unwrap();
            let flag = d.dir().join("fail");
            daemon::write_script(
                &d.dir().join("check"),
                &format!("#!/bin/sh\n[ ! -e {} ]\n", flag.display()),
            );
        }
    }

    /// Makes director `i`'s tracking script fail from now on.
    pub fn fail_script(&self, i: usize) -> Instant {
        let at = Instant::now();
        std::fs::write(self.daemons[i].dir().join("fail"), "").unwrap();
        at
    }

    /// Starts every director; returns when the first was started.
    pub fn start_all(&mut self) -> Instant {
        let at = Instant::now();
        for d in &mut self.daemons {
            d.start();
        }
        at
    }

    /// SIGKILLs director `i`'s daemon; returns when. A killed keepalived leaves its VIPs on
    /// the interface, where a dead machine's would die with it: the rig removes them, so
    /// that one holder still means one router answering for the VIP.
    pub fn kill(&mut self, i: usize) -> Instant {
        let at = self.daemons[i].kill();
        for vip in &self.vips {
            if self
                .watch
                .holders(vip.split('/').next().unwrap().parse().unwrap())
                .contains(&i)
            {
                self.net.in_director(i, &format!("addr del {vip} dev eth0"));
            }
        }
        at
    }

    pub fn note(&mut self, what: &str, took: Duration) {
        self.notes
            .push(format!("{what} {:.2} s", took.as_secs_f64()));
    }

    pub fn summary(&self) -> String {
        let mut notes = self.notes.clone();
        notes.push(format!(
            "max overlap {:.1} ms",
            self.overlap.as_secs_f64() * 1000.0
        ));
        notes.join(", ")
    }

    /// Waits until exactly `expected` hold `vip`, `limit` at most after `since`; returns
    /// the time from `since`. With one holder expected, checks that no two directors held
    /// the VIP together longer than [`OVERLAP_MAX`] meanwhile.
    pub fn expect(
        &mut self,
        what: &str,
        vip: IpAddr,
        expected: &[usize],
        since: Instant,
        limit: Duration,
    ) -> Duration {
        let took = self.converge(what, vip, expected, since, limit);
        if expected.len() == 1 {
            let overlap = self.watch.overlap(vip, since);
            self.overlap = self.overlap.max(overlap);
            assert!(
                overlap <= OVERLAP_MAX,
                "{what}: two directors held {vip} together for {overlap:?}"
            );
        }
        took
    }

    /// As [`Rig::expect`], without the check of overlaps: for the end of a split brain.
    pub fn converge(
        &mut self,
        what: &str,
        vip: IpAddr,
        expected: &[usize],
        since: Instant,
        limit: Duration,
    ) -> Duration {
        let left = limit.saturating_sub(since.elapsed());
        let Some(at) = self.watch.wait_holders(vip, expected, left) else {
            panic!(
                "{what}: {vip} should be held by {expected:?} within {limit:?}, is by {:?}",
                self.watch.holders(vip)
            );
        };
        let read = self.watch.read_holders(vip);
        assert_eq!(
            read, expected,
            "{what}: ip addr disagrees with ip monitor about {vip}"
        );
        at.saturating_duration_since(since)
    }

    /// Checks that `expected` hold `vip` and nobody else has held it since `since`, for
    /// `hold` from now (a wait for something that must not happen).
    pub fn expect_steady(
        &mut self,
        what: &str,
        vip: IpAddr,
        expected: &[usize],
        since: Instant,
        hold: Duration,
    ) {
        let until = Instant::now() + hold;
        while Instant::now() < until {
            let now = self.watch.holders(vip);
            assert_eq!(now, expected, "{what}: {vip} moved");
            std::thread::sleep(crate::watch::POLL);
        }
        for d in (0..self.daemons.len()).filter(|d| !expected.contains(d)) {
            assert!(
                !self.watch.held_since(vip, d, since),
                "{what}: director {d} held {vip}"
            );
        }
    }

    /// The first advert of VRID `vrid` from director `d` after `since` that `want` accepts
    /// (priority), within `limit` of `since`.
    pub fn expect_advert(
        &self,
        what: &str,
        d: usize,
        vrid: u8,
        since: Instant,
        limit: Duration,
        want: impl Fn(u8) -> bool,
    ) -> Packet {
        let left = limit.saturating_sub(since.elapsed());
        self.watch
            .wait_packet(since, left, |p| {
                p.from == Some(d)
                    && matches!(p.what, What::Advert { vrid: v, priority, .. } if v == vrid && want(priority))
            })
            .unwrap_or_else(|| panic!("{what}: no such advert from director {d} within {limit:?}"))
    }

    /// All a failure's report needs: what was seen and each daemon's log.
    pub fn report(&self) -> String {
        let mut out = self.watch.describe(self.born);
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

    pub fn work(&self) -> &Path {
        &self.work
    }
}
