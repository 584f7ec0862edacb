//! What lvsadm changed on this host, and how to take it back.
//!
//! Each step of a set-up is a [`Change`] recorded by a [`Journal`] as it happens; if a later
//! step fails, the journal is undone in reverse so nothing is left half-done. What a
//! successful set-up changed is kept in a [`State`] file, one per network namespace, under
//! /run: it lives exactly as long as the addresses and settings it describes (they are gone
//! after a reboot too), and it is what teardown restores from.

use std::fs;
use std::io::{self, Write};
use std::net::IpAddr;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::addr::{self, AddressSpec, Presence};
use crate::mode::Mode;
use crate::name::IfName;
use crate::rtnl::{describe, Link, NewAddress, Route, Rtnl};
use crate::sysctl::Sysctl;
use crate::Error;

const DIR: &str = "/run/lvsadm";

/// One undoable step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    AddedAddress { dev: IfName, net: IpNet },
    CreatedLink { dev: IfName },
    BroughtUp { dev: IfName },
    Sysctl { key: Sysctl, old: i64 },
    AddedRoute { route: Route },
    RemovedRoute { route: Route },
}

impl Change {
    fn undo(&self, rtnl: &Rtnl) -> Result<(), Error> {
        match self {
            Change::AddedAddress { dev, net } => {
                let Some(link) = rtnl.link(dev)? else {
                    return Ok(());
                };
                let present = rtnl
                    .addresses()?
                    .iter()
                    .any(|a| a.index == link.index && a.net == *net);
                if present {
                    rtnl.delete_address(&link, *net)?;
                }
                Ok(())
            }
            Change::CreatedLink { dev } => match rtnl.link(dev)? {
                Some(link) => rtnl.delete_link(&link),
                None => Ok(()),
            },
            Change::BroughtUp { dev } => match rtnl.link(dev)? {
                Some(link) if link.up => rtnl.set_up(&link, false),
                _ => Ok(()),
            },
            Change::Sysctl { key, old } => key.write(*old),
            Change::AddedRoute { route } => {
                if present(rtnl, route)? {
                    rtnl.delete_route(route)?;
                }
                Ok(())
            }
            Change::RemovedRoute { route } => {
                // A route cannot outlive its device: with the device gone there is nothing
                // to put back.
                let device_gone = match &route.dev {
                    Some(dev) => !rtnl.links()?.iter().any(|l| l.name == *dev),
                    None => false,
                };
                if device_gone {
                    return Ok(());
                }
                let routes = rtnl.routes(route.dst.addr())?;
                if routes.iter().any(|l| l.route.same(route)) {
                    return Ok(());
                }
                // The kernel keeps one route per destination and metric.
                if let Some(other) = routes
                    .iter()
                    .find(|l| l.route.dst == route.dst && l.route.metric == route.metric)
                {
                    return Err(Error::Refused(format!(
                        "cannot put back the route {}: {} has taken its place since set-up; \
                         remove that one and run teardown again",
                        describe(route),
                        describe(&other.route)
                    )));
                }
                rtnl.add_route(route)
            }
        }
    }
}

fn present(rtnl: &Rtnl, route: &Route) -> Result<bool, Error> {
    Ok(rtnl
        .routes(route.dst.addr())?
        .iter()
        .any(|l| l.route.same(route)))
}

/// Carries out changes, remembering each so that they can be undone.
pub struct Journal<'a> {
    rtnl: &'a Rtnl,
    done: Vec<Change>,
}

impl<'a> Journal<'a> {
    pub fn new(rtnl: &'a Rtnl) -> Journal<'a> {
        Journal {
            rtnl,
            done: Vec::new(),
        }
    }

    pub fn add_address(&mut self, link: &Link, new: &NewAddress) -> Result<(), Error> {
        self.rtnl.add_address(link, new)?;
        self.done.push(Change::AddedAddress {
            dev: IfName::new(&link.name)?,
            net: new.net,
        });
        Ok(())
    }

    /// Makes the address present through [`addr::ensure_present`]; records it if it was added.
    pub fn ensure_address(&mut self, spec: &AddressSpec) -> Result<Presence, Error> {
        let presence = addr::ensure_present(self.rtnl, spec)?;
        if presence == Presence::Added {
            self.done.push(Change::AddedAddress {
                dev: spec.dev.clone(),
                net: spec.net,
            });
        }
        Ok(presence)
    }

    pub fn create_link(&mut self, dev: &IfName, kind: &str) -> Result<(), Error> {
        self.rtnl.create_link(dev, kind)?;
        self.done.push(Change::CreatedLink { dev: dev.clone() });
        Ok(())
    }

    pub fn bring_up(&mut self, link: &Link) -> Result<(), Error> {
        self.rtnl.set_up(link, true)?;
        self.done.push(Change::BroughtUp {
            dev: IfName::new(&link.name)?,
        });
        Ok(())
    }

    pub fn add_route(&mut self, route: &Route) -> Result<(), Error> {
        self.rtnl.add_route(route)?;
        self.done.push(Change::AddedRoute {
            route: route.clone(),
        });
        Ok(())
    }

    pub fn remove_route(&mut self, route: &Route) -> Result<(), Error> {
        self.rtnl.delete_route(route)?;
        self.done.push(Change::RemovedRoute {
            route: route.clone(),
        });
        Ok(())
    }

    /// Sets `key` to `value` unless it already has it.
    pub fn set_sysctl(&mut self, key: Sysctl, value: i64) -> Result<(), Error> {
        let old = key.read()?;
        if old != value {
            key.write(value)?;
            self.done.push(Change::Sysctl { key, old });
        }
        Ok(())
    }

    /// Runs `steps`; if one fails, undoes what the journal did and returns the failure.
    pub fn run<T>(
        mut self,
        steps: impl FnOnce(&mut Journal<'a>) -> Result<T, Error>,
    ) -> Result<(T, Vec<Change>), Error> {
        match steps(&mut self) {
            Ok(value) => Ok((value, self.done)),
            Err(cause) => Err(Error::RolledBack {
                cause: Box::new(cause),
                undo_failures: undo(self.rtnl, &self.done),
            }),
        }
    }
}

/// Undoes `changes` newest first; returns what could not be undone.
fn undo(rtnl: &Rtnl, changes: &[Change]) -> Vec<Error> {
    changes
        .iter()
        .rev()
        .filter_map(|c| c.undo(rtnl).err())
        .collect()
}

/// Undoes recorded changes; those that could not be undone stay recorded.
pub fn restore(rtnl: &Rtnl, changes: &mut Vec<Change>) -> Result<(), Error> {
    let mut kept = Vec::new();
    let mut messages = Vec::new();
    for change in changes.drain(..).rev() {
        if let Err(e) = change.undo(rtnl) {
            messages.push(e.to_string());
            kept.push(change);
        }
    }
    kept.reverse();
    *changes = kept;
    if messages.is_empty() {
        Ok(())
    } else {
        Err(Error::Refused(format!(
            "could not restore: {}",
            messages.join("; ")
        )))
    }
}

/// Adds `new` changes to those already recorded. A setting already recorded keeps its first
/// old value, which is the one from before lvsadm touched it; removing a route lvsadm added
/// cancels the addition, so a route replaced twice is put back once.
pub fn merge(recorded: &mut Vec<Change>, new: Vec<Change>) {
    for change in new {
        if let Change::RemovedRoute { route } = &change {
            let added = recorded
                .iter()
                .position(|r| matches!(r, Change::AddedRoute { route: a } if a.same(route)));
            if let Some(i) = added {
                recorded.remove(i);
                continue;
            }
        }
        let seen = recorded.iter().any(|r| match (r, &change) {
            (Change::Sysctl { key: a, .. }, Change::Sysctl { key: b, .. }) => a == b,
            _ => *r == change,
        });
        if !seen {
            recorded.push(change);
        }
    }
}

/// A VIP added by `vip add`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectorVip {
    pub net: IpNet,
    pub dev: IfName,
    pub label: Option<String>,
    pub forward: bool,
}

/// A VIP set up by `realserver setup`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RealServerVip {
    pub addr: IpAddr,
    pub dev: IfName,
    pub mode: Mode,
}

/// A NAT real server's return route, set up by `realserver setup --mode nat`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnRoute {
    /// The clients' network (the default route's 0.0.0.0/0 or ::/0 for all of them).
    pub to: IpNet,
    /// The director's inside address.
    pub gateway: IpAddr,
}

/// Everything lvsadm set up in one network namespace.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    #[serde(default)]
    pub director: Vec<DirectorVip>,
    /// Restored when the last director VIP is deleted.
    #[serde(default)]
    pub director_changes: Vec<Change>,
    #[serde(default)]
    pub realserver: Vec<RealServerVip>,
    #[serde(default)]
    pub nat: Vec<ReturnRoute>,
    /// Restored when the last real-server VIP and return route are torn down.
    #[serde(default)]
    pub realserver_changes: Vec<Change>,
}

impl State {
    /// The state of the calling thread's network namespace; empty if there is none yet.
    pub fn load() -> Result<State, Error> {
        let path = path()?;
        match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| Error::State {
                path,
                why: format!("{e}; remove it if the set-up it describes is gone"),
            }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(State::default()),
            Err(e) => Err(Error::State {
                path,
                why: e.to_string(),
            }),
        }
    }

    /// Writes the state (atomically), or removes the file when there is nothing left to undo.
    pub fn save(&self) -> Result<(), Error> {
        let path = path()?;
        let fail = |e: io::Error| Error::State {
            path: path.clone(),
            why: e.to_string(),
        };
        if *self == State::default() {
            return match fs::remove_file(&path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => Err(fail(e)),
                _ => Ok(()),
            };
        }
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(DIR)
            .map_err(fail)?;
        let json = serde_json::to_vec_pretty(self).map_err(|e| fail(io::Error::other(e)))?;
        let tmp = format!("{path}.tmp");
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&tmp)
            .map_err(fail)?;
        file.write_all(&json).map_err(fail)?;
        file.sync_all().map_err(fail)?;
        fs::rename(&tmp, &path).map_err(fail)
    }
}

/// Named by the namespace's cookie, which the kernel never reuses (an inode number can be).
fn path() -> Result<String, Error> {
    let cookie = crate::netns::cookie().map_err(|e| Error::State {
        path: DIR.to_string(),
        why: format!("cannot identify this network namespace: {e}"),
    })?;
    Ok(format!("{DIR}/netns-{cookie}.json"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sysctl::{Conf, ConfKey};

    fn sysctl(old: i64) -> Change {
        Change::Sysctl {
            key: Sysctl::Ipv4Conf(Conf::All, ConfKey::ArpIgnore),
            old,
        }
    }

    #[test]
    fn merging_keeps_the_value_from_before_lvsadm() {
        let mut recorded = vec![sysctl(0)];
        let up = Change::BroughtUp {
            dev: IfName::new("tunl0").unwrap(),
        };
        merge(&mut recorded, vec![sysctl(1), up.clone(), up.clone()]);
        assert_eq!(recorded, vec![sysctl(0), up]);
    }

    #[test]
    fn a_route_replaced_twice_is_put_back_once() {
        let route = |gateway: &str| {
            let default = "0.0.0.0/0".parse().unwrap();
            Route::via(default, gateway.parse().unwrap(), "eth0")
        };
        let added = |g| Change::AddedRoute { route: route(g) };
        let removed = |g| Change::RemovedRoute { route: route(g) };
        let mut recorded = Vec::new();
        merge(
            &mut recorded,
            vec![removed("192.0.2.254"), added("192.0.2.1")],
        );
        merge(
            &mut recorded,
            vec![removed("192.0.2.1"), added("192.0.2.3")],
        );
        assert_eq!(recorded, vec![removed("192.0.2.254"), added("192.0.2.3")]);
    }

    #[test]
    fn state_round_trips_through_json() {
        let state = State {
            realserver: vec![RealServerVip {
                addr: "192.0.2.60".parse().unwrap(),
                dev: IfName::new("lo").unwrap(),
                mode: Mode::Dr,
            }],
            realserver_changes: vec![sysctl(0)],
            ..State::default()
        };
        let json = serde_json::to_string(&state).unwrap();
        assert_eq!(serde_json::from_str::<State>(&json).unwrap(), state);
        assert_eq!(
            serde_json::from_str::<State>("{}").unwrap(),
            State::default()
        );
    }
}
