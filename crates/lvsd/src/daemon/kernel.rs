//! The IPVS table as the daemon keeps it: what the checker says the services should hold, put
//! in the kernel through the table engine, touching only what the configuration names.
//!
//! The daemon owns the services its virtual servers make and, in them, the destinations its
//! real and sorry servers make. A service or destination it does not name is never touched,
//! and one it names that is already as wanted is left alone (its connections and counters
//! survive a restart or a reload). Changes of health are applied from what was last put in;
//! a periodic [`Kernel::sync`] reads the kernel again and repairs whatever someone else
//! changed (`ipvsadm -C`, a destination deleted by hand).

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use ipvs::table::{Entry, Table};
use ipvs::{Client, OnError, Request, ServiceKey, SocketAddrDisplay};

/// The destinations the daemon owns in each service it owns.
pub type Owned = HashMap<ServiceKey, HashSet<(IpAddr, u16)>>;

pub struct Kernel {
    client: Client,
    /// What each owned service was last made to hold.
    applied: HashMap<ServiceKey, Entry>,
}

/// What a change did.
#[derive(Debug, Default)]
pub struct Applied {
    /// Requests sent.
    pub requests: usize,
    /// Those the kernel refused, as text.
    pub failures: Vec<String>,
}

impl Kernel {
    /// Connects, loading the IPVS module when it must (as ipvsadm does).
    pub fn open() -> Result<Kernel, String> {
        let (client, _) = Client::open().map_err(|e| {
            format!("cannot talk to IPVS: {e} (is the ip_vs module available, and are you root?)")
        })?;
        Ok(Kernel {
            client,
            applied: HashMap::new(),
        })
    }

    /// Reads the kernel's table and makes the owned part of it `desired`: owned services
    /// absent from `desired` are deleted, the others made as wanted.
    pub fn sync(&mut self, desired: &[Entry], owned: &Owned) -> Result<Applied, String> {
        let kernel = Table::read(&mut self.client).map_err(|e| format!("reading IPVS: {e}"))?;
        let mine = Table {
            entries: kernel
                .entries
                .into_iter()
                .filter_map(|mut e| {
                    let named = owned.get(&e.service.key)?;
                    e.dests.retain(|d| named.contains(&(d.addr, d.port)));
                    Some(e)
                })
                .collect(),
            config: None,
        };
        let applied = self.apply(&mine, desired);
        self.applied = desired.iter().map(|e| (e.service.key, e.clone())).collect();
        Ok(applied)
    }

    /// Makes the services of `entries` hold them, and deletes the services `gone`, from what
    /// they were last made to hold (no read of the kernel: a health change or a reload
    /// touches only what differs). Fails (so that the caller syncs from the kernel) when the
    /// kernel refuses a change: the table is then not what was last put in.
    pub fn update(&mut self, entries: &[Entry], gone: &[ServiceKey]) -> Result<Applied, Applied> {
        let keys = entries.iter().map(|e| &e.service.key).chain(gone);
        let before = Table {
            entries: keys.filter_map(|k| self.applied.get(k).cloned()).collect(),
            config: None,
        };
        let applied = self.apply(&before, entries);
        for k in gone {
            self.applied.remove(k);
        }
        for e in entries {
            self.applied.insert(e.service.key, e.clone());
        }
        if applied.failures.is_empty() {
            Ok(applied)
        } else {
            Err(applied)
        }
    }

    fn apply(&mut self, from: &Table, to: &[Entry]) -> Applied {
        let target = Table {
            entries: to.to_vec(),
            config: None,
        };
        let plan = from.plan_to(&target);
        let results = self.client.batch(&plan, OnError::Continue);
        Applied {
            requests: plan.len(),
            failures: plan
                .iter()
                .zip(results)
                .filter_map(|(req, r)| r.err().map(|e| failure(req, &e)))
                .collect(),
        }
    }

    /// Empties the whole table (`lvs_flush` at start, `lvs_flush_on_stop` at stop).
    pub fn flush(&mut self) -> Result<(), String> {
        self.applied.clear();
        self.client
            .flush()
            .map_err(|e| format!("flushing IPVS: {e}"))
    }

    /// keepalived's `lvs_timeouts`; a timeout of 0 is left as the kernel has it.
    pub fn set_timeouts(&mut self, t: &ipvs::Timeouts) -> Result<(), String> {
        self.client
            .set_timeouts(t)
            .map_err(|e| format!("setting IPVS timeouts: {e}"))
    }

    /// Deletes the owned services, as keepalived does when it stops.
    pub fn release(&mut self, keys: impl IntoIterator<Item = ServiceKey>) -> Applied {
        let plan: Vec<Request> = keys.into_iter().map(Request::DeleteService).collect();
        let results = self.client.batch(&plan, OnError::Continue);
        self.applied.clear();
        Applied {
            requests: plan.len(),
            failures: plan
                .iter()
                .zip(results)
                // One already gone is released.
                .filter(|(_, r)| r.as_ref().err().and_then(|e| e.errno()) != Some(libc::ESRCH))
                .filter_map(|(req, r)| r.err().map(|e| failure(req, &e)))
                .collect(),
        }
    }
}

/// "adding a destination: File exists (TCP 192.0.2.1:80 -> 198.51.100.7:80)".
fn failure(req: &Request, e: &ipvs::Error) -> String {
    let dest = |a: &IpAddr, p: u16| SocketAddrDisplay(a, p).to_string();
    let what = match req {
        Request::AddService(s) | Request::EditService(s) => s.key.to_string(),
        Request::DeleteService(k) => k.to_string(),
        Request::AddDest(k, d) | Request::EditDest(k, d) => {
            format!("{k} -> {}", dest(&d.addr, d.port))
        }
        Request::DeleteDest(k, a, p) => format!("{k} -> {}", dest(a, *p)),
        other => format!("{:?}", other.op()),
    };
    format!("{e} ({what})")
}
