//! What IPVS's settings are called, in one place: the schedulers and what their flags mean,
//! the forwarding methods and the tunnel types, with the names each front end uses for them
//! (ipvsadm's options and listings, lvsadm's own output, keepalived.conf). The kernel itself
//! knows only numbers and scheduler names.

use crate::model::{ForwardMethod, ServiceFlags, TunnelType};

/// A scheduling flag: the bit, and the name `-b` gives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SchedFlag {
    pub bit: u32,
    pub name: &'static str,
}

/// A scheduler the kernel may have (as module `ip_vs_NAME`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scheduler {
    pub name: &'static str,
    /// What it does, a line.
    pub about: &'static str,
    /// The flags it gives a meaning to; the others take the three generic flags.
    pub flags: &'static [SchedFlag],
}

const fn flag(bit: u32, name: &'static str) -> SchedFlag {
    SchedFlag { bit, name }
}

/// The flags of a scheduler that names none of its own: `flag-1` to `flag-3`.
pub const GENERIC_FLAGS: &[SchedFlag] = &[
    flag(ServiceFlags::SCHED1, "flag-1"),
    flag(ServiceFlags::SCHED2, "flag-2"),
    flag(ServiceFlags::SCHED3, "flag-3"),
];

const fn scheduler(name: &'static str, about: &'static str) -> Scheduler {
    Scheduler {
        name,
        about,
        flags: GENERIC_FLAGS,
    }
}

/// Every scheduler of the kernel's IPVS (Linux 6.1). The kernel takes any name it has a module for; this table is what the front ends
/// offer, document and check names against. A VM test fails if the kernel has one it lacks.
pub const SCHEDULERS: &[Scheduler] = &[
    scheduler("rr", "round robin"),
    scheduler("wrr", "weighted round robin"),
    scheduler("lc", "least-connection"),
    scheduler("wlc", "weighted least-connection"),
    scheduler("lblc", "locality-based least-connection"),
    scheduler("lblcr", "locality-based least-connection with replication"),
    scheduler("dh", "destination hashing"),
    Scheduler {
        name: "sh",
        about: "source hashing",
        flags: &[
            flag(ServiceFlags::SCHED1, "sh-fallback"),
            flag(ServiceFlags::SCHED2, "sh-port"),
        ],
    },
    scheduler("sed", "shortest expected delay"),
    scheduler("nq", "never queue"),
    scheduler("fo", "weighted failover"),
    scheduler("ovf", "weighted overflow"),
    Scheduler {
        name: "mh",
        about: "maglev hashing",
        flags: &[
            flag(ServiceFlags::SCHED1, "mh-fallback"),
            flag(ServiceFlags::SCHED2, "mh-port"),
        ],
    },
    scheduler("twos", "weighted random twos choice"),
];

/// The longest name the kernel takes for a scheduler, a persistence engine or a sync
/// daemon's interface (`IP_VS_SCHEDNAME_MAXLEN`, `IP_VS_PENAME_MAXLEN` and
/// `IP_VS_IFNAME_MAXLEN`, less the NUL).
pub const NAME_MAX: usize = 15;

pub use crate::model::DEFAULT_SCHEDULER;

/// The scheduler called `name`, if the table has it.
pub fn scheduler_named(name: &str) -> Option<&'static Scheduler> {
    SCHEDULERS.iter().find(|s| s.name == name)
}

/// The flags of scheduler `name`: its own names, or the generic ones.
pub fn flags_of(scheduler: &str) -> &'static [SchedFlag] {
    scheduler_named(scheduler).map_or(GENERIC_FLAGS, |s| s.flags)
}

/// The flag called `name`: its bit, and the scheduler it belongs to (`None` for a generic
/// flag, which any scheduler takes).
pub fn sched_flag_named(name: &str) -> Option<(u32, Option<&'static str>)> {
    if let Some(f) = GENERIC_FLAGS.iter().find(|f| f.name == name) {
        return Some((f.bit, None));
    }
    SCHEDULERS.iter().find_map(|s| {
        s.flags
            .iter()
            .find(|f| f.name == name)
            .map(|f| (f.bit, Some(s.name)))
    })
}

/// A forwarding method and its names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Forwarding {
    pub method: ForwardMethod,
    /// ipvsadm's option for it.
    pub switch: &'static str,
    /// ipvsadm's listing's column.
    pub listed: &'static str,
    /// lvsadm's own output (`show`).
    pub word: &'static str,
    /// keepalived.conf's `lb_kind`, for those it has.
    pub lb_kind: Option<&'static str>,
}

pub const FORWARDING: &[Forwarding] = &[
    Forwarding {
        method: ForwardMethod::Masquerade,
        switch: "-m",
        listed: "Masq",
        word: "masq",
        lb_kind: Some("NAT"),
    },
    Forwarding {
        method: ForwardMethod::Local,
        switch: "-g",
        listed: "Local",
        word: "local",
        lb_kind: None,
    },
    Forwarding {
        method: ForwardMethod::Tunnel,
        switch: "-i",
        listed: "Tunnel",
        word: "tunnel",
        lb_kind: Some("TUN"),
    },
    Forwarding {
        method: ForwardMethod::DirectRoute,
        switch: "-g",
        listed: "Route",
        word: "route",
        lb_kind: Some("DR"),
    },
];

impl ForwardMethod {
    /// Its names; `None` for a method this library has no name for.
    pub fn names(self) -> Option<&'static Forwarding> {
        FORWARDING.iter().find(|f| f.method == self)
    }
}

/// The tunnel types and their names (`--tun-type`).
pub const TUNNEL_TYPES: &[(TunnelType, &str)] = &[
    (TunnelType::Ipip, "ipip"),
    (TunnelType::Gue, "gue"),
    (TunnelType::Gre, "gre"),
];

impl TunnelType {
    /// Its name; `None` for a type this library has no name for.
    pub fn name(self) -> Option<&'static str> {
        TUNNEL_TYPES
            .iter()
            .find(|(t, _)| *t == self)
            .map(|(_, n)| *n)
    }

    /// The type called `name`.
    pub fn named(name: &str) -> Option<TunnelType> {
        TUNNEL_TYPES
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(t, _)| *t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_means_one_thing() {
        let mut names: Vec<&str> = SCHEDULERS.iter().map(|s| s.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), SCHEDULERS.len());
        assert!(scheduler_named(DEFAULT_SCHEDULER).is_some());
        for s in SCHEDULERS {
            for f in s.flags {
                assert_eq!(sched_flag_named(f.name).map(|(bit, _)| bit), Some(f.bit));
            }
        }
        assert_eq!(
            sched_flag_named("sh-port"),
            Some((ServiceFlags::SCHED2, Some("sh")))
        );
        assert_eq!(
            sched_flag_named("flag-3"),
            Some((ServiceFlags::SCHED3, None))
        );
        assert_eq!(sched_flag_named("port"), None);
        assert_eq!(flags_of("rr"), GENERIC_FLAGS);
        assert_eq!(flags_of("no-such"), GENERIC_FLAGS);
        for (t, n) in TUNNEL_TYPES {
            assert_eq!((t.name(), TunnelType::named(n)), (Some(*n), Some(*t)));
        }
        assert_eq!(TunnelType::Other(9).name(), None);
        for f in FORWARDING {
            assert_eq!(f.method.names(), Some(f));
        }
        assert_eq!(ForwardMethod::Other(7).names(), None);
    }
}
