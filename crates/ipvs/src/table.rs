//! The table engine: a whole IPVS table as data, read from the kernel at once (destinations
//! fetched in parallel), the fewest requests that turn one table into another (so that what is
//! unchanged keeps its connections and counters), and putting a table back after a change
//! failed half-way.

use std::collections::HashMap;
use std::net::IpAddr;

use crate::batch::OnError;
use crate::client::{fetch_workers, Client};
use crate::error::Result;
use crate::model::{Daemon, Destination, Service, ServiceFlags, ServiceKey, Timeouts};
use crate::request::Request;

/// A service and its destinations.
#[derive(Clone, Debug)]
pub struct Entry {
    pub service: Service,
    pub dests: Vec<Destination>,
}

/// Services with their destinations; the timeouts and sync daemons only when read from the
/// kernel (rules files do not hold them).
#[derive(Clone, Debug, Default)]
pub struct Table {
    pub entries: Vec<Entry>,
    pub config: Option<(Timeouts, Vec<Daemon>)>,
}

impl Table {
    /// Everything the kernel holds. Read again when a service goes away between the listing
    /// of services and that of its destinations (someone else changed the table).
    pub fn read(client: &mut Client) -> Result<Table> {
        let mut attempts = 0;
        let (services, dests) = loop {
            let services = client.services()?;
            let keys: Vec<ServiceKey> = services.iter().map(|s| s.key).collect();
            match client.destinations_of(&keys, fetch_workers(keys.len())) {
                Ok(dests) => break (services, dests),
                Err(e) if e.errno() == Some(libc::ESRCH) && attempts < 8 => attempts += 1,
                Err(e) => return Err(e),
            }
        };
        let entries = services
            .into_iter()
            .zip(dests)
            .map(|(service, dests)| Entry { service, dests })
            .collect();
        let config = Some((client.timeouts()?, client.daemons()?));
        Ok(Table { entries, config })
    }

    /// Makes the kernel's table equal to `self` again after a change failed half-way: reads
    /// what is there now and undoes the difference. The first failure, if any, is returned.
    pub fn put_back(&self, client: &mut Client) -> Result<()> {
        let plan = Table::read(client)?.plan_to(self);
        match client
            .batch(&plan, OnError::Continue)
            .into_iter()
            .find_map(Result::err)
        {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// The requests that make a kernel holding `self` hold `target`, leaving alone every
    /// service and destination that is already as `target` has it (their connections
    /// survive). Timeouts and daemons are included only when both tables have them.
    pub fn plan_to(&self, target: &Table) -> Vec<Request> {
        let mut plan = Vec::new();
        let wanted: HashMap<ServiceKey, &Entry> =
            target.entries.iter().map(|e| (e.service.key, e)).collect();
        let present: HashMap<ServiceKey, &Entry> =
            self.entries.iter().map(|e| (e.service.key, e)).collect();
        for e in &self.entries {
            if !wanted.contains_key(&e.service.key) {
                plan.push(Request::DeleteService(e.service.key));
            }
        }
        for want in &target.entries {
            let key = want.service.key;
            match present.get(&key) {
                None => {
                    plan.push(Request::AddService(want.service.clone()));
                    // Destinations are listed newest first; adding the oldest first keeps
                    // the kernel's order (and so the schedulers' tie-breaking) as it was.
                    for d in want.dests.iter().rev() {
                        plan.push(Request::AddDest(key, d.clone()));
                    }
                }
                Some(have) => {
                    if !same_service(&have.service, &want.service) {
                        plan.push(Request::EditService(want.service.clone()));
                    }
                    plan_dests(&mut plan, key, &have.dests, &want.dests);
                }
            }
        }
        if let (Some((have_t, have_d)), Some((want_t, want_d))) = (&self.config, &target.config) {
            if have_t != want_t {
                plan.push(Request::SetTimeouts(*want_t));
            }
            for d in have_d {
                if !want_d.contains(d) {
                    plan.push(Request::StopDaemon(d.state, d.syncid));
                }
            }
            for d in want_d {
                if !have_d.contains(d) {
                    plan.push(Request::StartDaemon(d.clone()));
                }
            }
        }
        plan
    }
}

fn plan_dests(
    plan: &mut Vec<Request>,
    key: ServiceKey,
    have: &[Destination],
    want: &[Destination],
) {
    let (wanted, present) = (Dests::new(want), Dests::new(have));
    for d in have {
        if wanted.get(d).is_none() {
            plan.push(Request::DeleteDest(key, d.addr, d.port));
        }
    }
    for d in want.iter().rev() {
        match present.get(d) {
            None => plan.push(Request::AddDest(key, d.clone())),
            Some(h) if !same_dest(h, d) => plan.push(Request::EditDest(key, d.clone())),
            Some(_) => {}
        }
    }
}

/// A service's destinations, found by address and port: by a scan when there are few (most
/// services have a handful, and a table has thousands of services), by hashing otherwise.
/// A table never holds two with the same address and port.
enum Dests<'a> {
    Few(&'a [Destination]),
    Many(HashMap<(IpAddr, u16), &'a Destination>),
}

impl<'a> Dests<'a> {
    const FEW: usize = 16;

    fn new(dests: &'a [Destination]) -> Self {
        match dests.len() <= Self::FEW {
            true => Dests::Few(dests),
            false => Dests::Many(dests.iter().map(|d| ((d.addr, d.port), d)).collect()),
        }
    }

    /// The one with `d`'s address and port.
    fn get(&self, d: &Destination) -> Option<&'a Destination> {
        match self {
            Dests::Few(all) => all.iter().find(|h| (h.addr, h.port) == (d.addr, d.port)),
            Dests::Many(by_id) => by_id.get(&(d.addr, d.port)).copied(),
        }
    }
}

/// Settings only: counters differ, and the kernel adds its own `HASHED` flag.
fn same_service(a: &Service, b: &Service) -> bool {
    let flags = |s: &Service| s.flags.0 & !ServiceFlags::HASHED;
    fn pe(s: &Service) -> Option<&str> {
        s.pe_name.as_deref().filter(|p| !p.is_empty())
    }
    a.scheduler == b.scheduler
        && flags(a) == flags(b)
        && a.timeout == b.timeout
        && a.netmask == b.netmask
        && pe(a) == pe(b)
}

fn same_dest(a: &Destination, b: &Destination) -> bool {
    a.forward == b.forward
        && a.weight == b.weight
        && a.upper_threshold == b.upper_threshold
        && a.lower_threshold == b.lower_threshold
        && a.tunnel_type == b.tunnel_type
        && a.tunnel_port == b.tunnel_port
        && a.tunnel_flags == b.tunnel_flags
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ForwardMethod, Protocol};

    fn svc(port: u16) -> Service {
        Service::new(ServiceKey::Addr {
            protocol: Protocol::Tcp,
            addr: "192.0.2.1".parse().unwrap(),
            port,
        })
    }

    fn dest(last: u8, weight: u32) -> Destination {
        let mut d = Destination::new(IpAddr::from([198, 51, 100, last]), 80);
        d.forward = ForwardMethod::Masquerade;
        d.weight = weight;
        d
    }

    fn table(entries: Vec<(Service, Vec<Destination>)>) -> Table {
        Table {
            entries: entries
                .into_iter()
                .map(|(service, dests)| Entry { service, dests })
                .collect(),
            config: None,
        }
    }

    #[test]
    fn plan_touches_only_what_differs() {
        let mut rr = svc(443);
        rr.scheduler = "rr".into();
        let have = table(vec![
            (svc(80), vec![dest(1, 1), dest(2, 1)]),
            (svc(443), vec![dest(1, 1)]),
            (svc(8080), vec![]),
        ]);
        let want = table(vec![
            (svc(80), vec![dest(1, 1), dest(3, 1), dest(2, 5)]),
            (rr.clone(), vec![dest(1, 1)]),
            (svc(9090), vec![dest(4, 1)]),
        ]);
        let k = |p| svc(p).key;
        assert_eq!(
            have.plan_to(&want),
            vec![
                Request::DeleteService(k(8080)),
                Request::EditDest(k(80), dest(2, 5)),
                Request::AddDest(k(80), dest(3, 1)),
                Request::EditService(rr),
                Request::AddService(svc(9090)),
                Request::AddDest(k(9090), dest(4, 1)),
            ]
        );
        assert!(want.plan_to(&want).is_empty());
    }

    #[test]
    fn many_destinations_plan_as_few_do() {
        // Past Dests::FEW the destinations are hashed: the plan must not change with that.
        for count in [Dests::FEW - 1, Dests::FEW + 24] {
            let have: Vec<Destination> = (1..=count as u8).map(|i| dest(i, 1)).collect();
            let mut want = have.clone();
            want.retain(|d| d.addr != dest(2, 1).addr);
            want[0].weight = 9;
            want.push(dest(200, 1));
            let plan = table(vec![(svc(80), have)]).plan_to(&table(vec![(svc(80), want)]));
            let k = svc(80).key;
            assert_eq!(
                plan,
                vec![
                    Request::DeleteDest(k, dest(2, 1).addr, 80),
                    Request::AddDest(k, dest(200, 1)),
                    Request::EditDest(k, dest(1, 9)),
                ],
                "{count} destinations"
            );
        }
    }

    #[test]
    fn kernel_flags_and_counters_are_not_differences() {
        let mut live = svc(80);
        live.flags.set(ServiceFlags::HASHED, true);
        live.stats.conns = 7;
        let mut busy = dest(1, 1);
        busy.active_conns = 3;
        let have = table(vec![(live, vec![busy])]);
        let want = table(vec![(svc(80), vec![dest(1, 1)])]);
        assert!(have.plan_to(&want).is_empty());
    }
}
