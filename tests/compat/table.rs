//! A namespace's whole IPVS state, read and written through the library, for copying a
//! setup into the fresh namespace of every case.

use ipvs::{Client, Daemon, Destination, Service, ServiceFlags, Stats, Timeouts};

#[derive(Debug, PartialEq, Eq)]
pub struct Table {
    /// Sorted by key, with counters cleared: the order of a dump differs between namespaces.
    services: Vec<(Service, Vec<Destination>)>,
    timeouts: Timeouts,
    daemons: Vec<Daemon>,
}

fn err(e: ipvs::Error) -> String {
    e.to_string()
}

impl Table {
    pub fn capture(c: &mut Client) -> Result<Table, String> {
        let mut services = Vec::new();
        for mut svc in c.services().map_err(err)? {
            let mut dests = c.destinations(&svc.key).map_err(err)?;
            for d in &mut dests {
                d.stats = Stats::default();
            }
            svc.stats = Stats::default();
            // The kernel reports its own bookkeeping bit; a service added with it set would
            // never be hashed.
            svc.flags.set(ServiceFlags::HASHED, false);
            services.push((svc, dests));
        }
        services.sort_by_key(|(s, _)| format!("{:?}", s.key));
        Ok(Table {
            services,
            timeouts: c.timeouts().map_err(err)?,
            daemons: c.daemons().map_err(err)?,
        })
    }

    pub fn replay(&self, c: &mut Client) -> Result<(), String> {
        for (svc, dests) in &self.services {
            c.add_service(svc).map_err(err)?;
            // Dumps list destinations newest first; adding them oldest first keeps that order.
            for d in dests.iter().rev() {
                c.add_destination(&svc.key, d).map_err(err)?;
            }
        }
        c.set_timeouts(&self.timeouts).map_err(err)?;
        for d in &self.daemons {
            c.start_daemon(d).map_err(err)?;
        }
        Ok(())
    }
}
