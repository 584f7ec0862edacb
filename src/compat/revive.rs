//! The order in which `-R` sends a large run of additions, so that restoring a table right
//! after lvsadm cleared it costs about what restoring it into an empty namespace does.
//!
//! The kernel keeps deleted destinations in a trash list for a minute or two, and looks for
//! every destination added meanwhile in that list from the head: a restore in the order of
//! its text, after a flush, walks about half the list for each destination. `lvsadm -C`
//! ([`ipvs::Client::clear`], whose docs tell the details) leaves the trash ordered by service,
//! lowest [`ServiceKey`] first, each service's destinations in the order they were added.
//!
//! A run that only adds services, and destinations to services it adds itself, is therefore
//! sent services first, in the order of their lines, then the destinations service by
//! service in ascending key order, each service's in the order of its lines: each is found at
//! or near the head of the trash. Every line has the outcome it has in the order of the text:
//! a service is added before its destinations in both orders, and a destination's outcome
//! depends only on its own service and the destinations added to it before, whose order is
//! kept. The table is the same too, to the order of a listing: services are listed in the
//! order of the kernel's hash chains, each chain in the order its services were added, and a
//! service's destinations in the order they were added, neither of which changes.

use std::collections::HashMap;

use ipvs::{Request, ServiceKey};

/// What a line of a run does, as far as the order is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    AddService(ServiceKey),
    AddDest(ServiceKey),
    Other,
}

impl Shape {
    pub fn of(req: &Request) -> Shape {
        match req {
            Request::AddService(s) => Shape::AddService(s.key),
            Request::AddDest(key, _) => Shape::AddDest(*key),
            _ => Shape::Other,
        }
    }
}

/// Runs with fewer destinations are sent in the order of their lines: the listing would cost
/// more than the kernel's search of its trash could.
const FEWEST_DESTS: usize = 1000;

/// The order in which to send a run (indexes of its lines), when it is large enough and adds
/// nothing but services and destinations of services it adds before them.
pub fn order(shapes: &[Shape]) -> Option<Vec<usize>> {
    let dest_lines = shapes
        .iter()
        .filter(|s| matches!(s, Shape::AddDest(_)))
        .count();
    if dest_lines < FEWEST_DESTS {
        return None;
    }
    let mut order = Vec::with_capacity(shapes.len());
    let mut dests: HashMap<ServiceKey, Vec<usize>> = HashMap::new();
    for (line, shape) in shapes.iter().enumerate() {
        match *shape {
            Shape::AddService(key) => {
                order.push(line);
                dests.entry(key).or_default();
            }
            Shape::AddDest(key) => dests.get_mut(&key)?.push(line),
            Shape::Other => return None,
        }
    }
    let mut services: Vec<(ServiceKey, Vec<usize>)> = dests.into_iter().collect();
    services.sort_unstable_by_key(|(key, _)| *key);
    order.extend(services.into_iter().flat_map(|(_, lines)| lines));
    Some(order)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u16) -> ServiceKey {
        ServiceKey::Addr {
            protocol: ipvs::Protocol::Tcp,
            addr: "192.0.2.1".parse().unwrap(),
            port: n,
        }
    }

    /// `services` services, each followed by `dests` destinations.
    fn run(services: u16, dests: usize) -> Vec<Shape> {
        let mut shapes = Vec::new();
        for s in 1..=services {
            shapes.push(Shape::AddService(key(s)));
            shapes.extend(std::iter::repeat(Shape::AddDest(key(s))).take(dests));
        }
        shapes
    }

    #[test]
    fn services_go_first_then_destinations_by_service_each_in_line_order() {
        let mut shapes = run(500, 2);
        // The services' lines in descending order: 500 first.
        shapes.reverse();
        for chunk in shapes.chunks_mut(3) {
            chunk.rotate_right(1);
        }
        let order = order(&shapes).expect("a large run of additions is reordered");
        assert_eq!(order.len(), 1500);
        assert_eq!(order[..500], (0..500).map(|s| s * 3).collect::<Vec<_>>());
        // Service 1's lines are the last three, 500's the first three.
        assert_eq!(order[500..504], [1498, 1499, 1495, 1496]);
        assert_eq!(order[1498..], [1, 2]);
    }

    #[test]
    fn runs_that_could_change_an_outcome_are_sent_as_they_are() {
        assert!(order(&run(499, 2)).is_none(), "too few destinations");
        let mut edited = run(500, 2);
        edited.push(Shape::Other);
        assert!(order(&edited).is_none(), "anything but additions");
        let mut early = run(500, 2);
        early.insert(0, Shape::AddDest(key(9)));
        assert!(
            order(&early).is_none(),
            "a destination before its service fails in the order of the text"
        );
        let mut foreign = run(500, 2);
        foreign.push(Shape::AddDest(key(999)));
        assert!(order(&foreign).is_none(), "a service added before the run");
    }
}
