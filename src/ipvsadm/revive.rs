//! The order in which `-R` sends a large run of additions, so that restoring a table right
//! after lvsadm cleared it costs about what restoring it into an empty namespace does.
//!
//! The kernel keeps deleted destinations in a trash list for a minute or two, and looks for
//! every destination added meanwhile in that list from the head: a restore in the order of
//! its text, after a flush, walks about half the list for each destination. `lvsadm -C`
//! ([`ipvs::Client::clear`], whose docs tell the details) leaves the trash ordered by service,
//! lowest [`ServiceKey`] first, each service's destinations in the order they were added.
//!
//! A large run that only adds services and destinations is therefore sent service by service
//! in ascending key order, each service's lines in the order of the text (its addition, then
//! its destinations, as `-S` writes them): each destination is found at the head of the
//! trash, and each service it names is at the head of its hash chain, just added. Every line
//! has the outcome it has in the order of the text: a line's outcome depends only on the lines
//! of its own service before it, whose order is kept. The table is the same; only a listing
//! may show services that share a hash chain in another order than after a restore in the
//! order of the text (the kernel lists each chain newest first, and its chains by the
//! namespace's address, so that order differs between namespaces, and ipvsadm's own save and
//! restore reverses it every time). Each service's destinations keep their order.

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

/// Runs with fewer destinations are sent in the order of their lines: the reordering would
/// cost more than the kernel's search of its trash could.
const FEWEST_DESTS: usize = 1000;

/// A line that adds a service, and how many lines right after it add destinations to it (as
/// `-S` writes them). Lines are indexes in the run.
#[derive(Clone, Copy, Debug)]
struct Added {
    key: ServiceKey,
    line: u32,
    dests: u32,
}

/// What a run's lines do, gathered line by line in a few bytes per service: enough to tell
/// whether it may be reordered, and how.
#[derive(Debug, Default)]
pub struct Shapes {
    /// In the order of their lines.
    services: Vec<Added>,
    /// Lines that add a destination anywhere else than right after its service's line (or its
    /// other destinations'), with the service.
    strays: Vec<(ServiceKey, u32)>,
    dests: usize,
    /// Whether any line does something else than add.
    other: bool,
    /// Whether a service's line comes before a lower service's.
    unsorted: bool,
}

impl Shapes {
    /// Line `line` (the next of the run) does `shape`.
    pub fn push(&mut self, line: usize, shape: Shape) {
        let line = line as u32;
        match shape {
            Shape::AddService(key) => {
                self.unsorted |= self.services.last().is_some_and(|s| s.key > key);
                self.services.push(Added {
                    key,
                    line,
                    dests: 0,
                });
            }
            Shape::AddDest(key) => {
                self.dests += 1;
                match self.services.last_mut() {
                    Some(s) if s.key == key && s.line + s.dests + 1 == line => s.dests += 1,
                    _ => self.strays.push((key, line)),
                }
            }
            Shape::Other => self.other = true,
        }
    }

    /// Gathers the lines of the run that follows, whose first line is line `shift` of this one.
    pub fn append(&mut self, next: Shapes, shift: usize) {
        let shift = shift as u32;
        self.unsorted |= match (self.services.last(), next.services.first()) {
            (Some(last), Some(first)) => last.key > first.key,
            _ => false,
        };
        self.services.extend(next.services.into_iter().map(|s| Added {
            line: s.line + shift,
            ..s
        }));
        self.strays.extend(next.strays.into_iter().map(|(k, l)| (k, l + shift)));
        self.dests += next.dests;
        self.other |= next.other;
        self.unsorted |= next.unsorted;
    }

    /// The order in which to send the run (indexes of its lines), when it is large enough and
    /// adds nothing but services and destinations: service by service in ascending key
    /// order, each service's lines (its additions and its destinations') in the order of the
    /// text.
    pub fn order(&self) -> Option<Vec<u32>> {
        // A run already in that order (each service's destinations right after it) is sent
        // as it is.
        let in_order = !self.unsorted && self.strays.is_empty();
        if self.other || self.dests < FEWEST_DESTS || in_order {
            return None;
        }
        // A line that adds a service with the destinations right after it, or a stray.
        let mut items: Vec<(ServiceKey, u32, u32)> = self
            .services
            .iter()
            .map(|s| (s.key, s.line, s.dests))
            .chain(self.strays.iter().map(|&(key, line)| (key, line, 0)))
            .collect();
        items.sort_unstable_by_key(|&(key, line, _)| (key, line));
        let mut order: Vec<u32> = Vec::with_capacity(self.services.len() + self.dests);
        for (_, line, dests) in items {
            order.extend(line..=line + dests);
        }
        Some(order)
    }
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
            shapes.extend(std::iter::repeat_n(Shape::AddDest(key(s)), dests));
        }
        shapes
    }

    /// The order of a run whose lines do `shapes`, gathered in parts of `part` lines.
    fn order(shapes: &[Shape], part: usize) -> Option<Vec<u32>> {
        let mut all = Shapes::default();
        for (i, chunk) in shapes.chunks(part).enumerate() {
            let mut gathered = Shapes::default();
            for (line, shape) in chunk.iter().enumerate() {
                gathered.push(line, *shape);
            }
            all.append(gathered, i * part);
        }
        all.order()
    }

    #[test]
    fn services_go_in_key_order_each_with_its_lines_in_text_order() {
        let mut shapes = run(500, 2);
        // The services' lines in descending order: 500 first.
        shapes.reverse();
        for chunk in shapes.chunks_mut(3) {
            chunk.rotate_right(1);
        }
        // Parts that end amid a service's destinations make strays of the rest.
        for part in [1500, 700, 7] {
            let order = order(&shapes, part).expect("a large run of additions is reordered");
            // Service 1's lines are the last three, 2's the three before, 500's the first.
            assert_eq!(order[..6], [1497, 1498, 1499, 1494, 1495, 1496], "parts of {part}");
            assert_eq!(order[1497..], [0, 1, 2]);
            let mut all = order.clone();
            all.sort_unstable();
            assert_eq!(all, (0..1500).collect::<Vec<u32>>());
        }
    }

    #[test]
    fn a_service_added_twice_keeps_its_lines_in_text_order() {
        let mut shapes = run(600, 2);
        shapes.extend([Shape::AddService(key(1)), Shape::AddDest(key(1))]);
        shapes.push(Shape::AddDest(key(2)));
        // A destination before its service (its line fails, as in the order of the text).
        shapes.insert(0, Shape::AddDest(key(3)));
        let order = order(&shapes, 1000).expect("reordered");
        assert_eq!(order[..5], [1, 2, 3, 1801, 1802], "service 1");
        assert_eq!(order[5..9], [4, 5, 6, 1803], "service 2, the stray last");
        assert_eq!(order[9..13], [0, 7, 8, 9], "service 3");
    }

    #[test]
    fn a_run_already_in_key_order_is_sent_as_it_is() {
        assert!(order(&run(600, 2), 300).is_none());
        // Gathered in parts that split services from their destinations, it is reordered
        // into the same order.
        let same = order(&run(600, 2), 7).expect("strays are placed");
        assert_eq!(same, (0..1800).collect::<Vec<u32>>());
    }

    #[test]
    fn runs_that_change_anything_else_are_sent_as_they_are() {
        assert!(order(&run(499, 2), 100).is_none(), "too few destinations");
        let mut edited = run(500, 2);
        edited.push(Shape::Other);
        assert!(order(&edited, 100).is_none(), "anything but additions");
    }
}
