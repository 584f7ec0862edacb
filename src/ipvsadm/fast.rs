//! The two line shapes that make up nearly all of a large rules file, read straight from the
//! text: what `-S -n` writes for a TCP or UDP service on an IPv4 address and for each of its
//! destinations.
//!
//! ```text
//! -A -t 10.0.0.1:80 -s wlc
//! -a -t 10.0.0.1:80 -r 192.168.0.1:8080 -m -w 1
//! ```
//!
//! Restoring spends most of its own time parsing (the kernel cannot be sent anything before the
//! last line is checked), and the general grammar's splitting, option table and checks cost
//! several times what these shapes need. Anything else, down to an extra blank, gets `None`
//! and goes to [`parse`](super::parse), which gives the same command for every line accepted
//! here (a property test holds the two together).

use std::net::{IpAddr, Ipv4Addr};

use ipvs::{Destination, ForwardMethod, Protocol, Service, ServiceKey};

use super::revive::Shape;
use super::parse::Command;


/// The command of a line of one of the two shapes, or `None`.
pub fn line(line: &[u8]) -> Option<Command> {
    Line::read(line).map(Line::command)
}

/// A line of one of the two shapes, read and checked; making its command is all that is left.
/// Such a line is plain ASCII, so it reads the same whether or not the text around it is valid
/// UTF-8.
#[derive(Clone, Copy, Debug)]
pub struct Line<'a> {
    key: ServiceKey,
    adds: Adds<'a>,
}

#[derive(Clone, Copy, Debug)]
enum Adds<'a> {
    Service {
        scheduler: Option<&'a str>,
    },
    Dest {
        addr: Ipv4Addr,
        port: u16,
        forward: ForwardMethod,
        weight: u32,
    },
}

impl<'a> Line<'a> {
    /// The line read, or `None` when it is not of the two shapes.
    pub fn read(line: &'a [u8]) -> Option<Line<'a>> {
        let mut r = Reader(line);
        let (adding_service, protocol) = match r.take(6)? {
            b"-A -t " => (true, Protocol::Tcp),
            b"-A -u " => (true, Protocol::Udp),
            b"-a -t " => (false, Protocol::Tcp),
            b"-a -u " => (false, Protocol::Udp),
            _ => return None,
        };
        let addr = r.ipv4()?;
        r.expect(b":")?;
        let port = r.number(65535)? as u16;
        let key = ServiceKey::Addr {
            protocol,
            addr: IpAddr::V4(addr),
            port,
        };
        if adding_service {
            // ipvsadm refuses a service on port 0 unless it is persistent.
            if port == 0 {
                return None;
            }
            let mut scheduler = None;
            if !r.0.is_empty() {
                r.expect(b" -s ")?;
                let name = r.0;
                let plain = (1..=ipvs::names::NAME_MAX).contains(&name.len())
                    && name
                        .iter()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_');
                if !plain {
                    return None;
                }
                scheduler = Some(std::str::from_utf8(name).ok()?);
            }
            let adds = Adds::Service { scheduler };
            return Some(Line { key, adds });
        }
        r.expect(b" -r ")?;
        let dest = r.ipv4()?;
        let dest_port = match r.expect(b":") {
            Some(()) => Some(r.number(65535)? as u16),
            None => None,
        };
        let forward = match r.take(4)? {
            b" -g " => ForwardMethod::DirectRoute,
            b" -i " => ForwardMethod::Tunnel,
            b" -m " => ForwardMethod::Masquerade,
            _ => return None,
        };
        r.expect(b"-w ")?;
        let weight = r.number(i32::MAX as u32)?;
        if !r.0.is_empty() {
            return None;
        }
        // Direct routing and tunnelling keep the service's port; a destination without a port
        // takes it too.
        let dest_port = match (forward, dest_port) {
            (ForwardMethod::Masquerade, Some(p)) => p,
            _ => port,
        };
        let adds = Adds::Dest {
            addr: dest,
            port: dest_port,
            forward,
            weight,
        };
        Some(Line { key, adds })
    }

    /// What the line does, as far as the order of a restore is concerned.
    pub fn shape(&self) -> Shape {
        match self.adds {
            Adds::Service { .. } => Shape::AddService(self.key),
            Adds::Dest { .. } => Shape::AddDest(self.key),
        }
    }

    /// The line's command: it adds a service or a destination.
    pub fn command(self) -> Command {
        match self.adds {
            Adds::Service { scheduler } => {
                let mut service = Service::new(self.key);
                if let Some(name) = scheduler {
                    name.clone_into(&mut service.scheduler);
                }
                Command::AddService(service)
            }
            Adds::Dest {
                addr,
                port,
                forward,
                weight,
            } => {
                let mut d = Destination::new(IpAddr::V4(addr), port);
                d.forward = forward;
                d.weight = weight;
                Command::AddDest(self.key, d)
            }
        }
    }
}

/// The rest of a line, read from the front.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let (taken, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(taken)
    }

    fn expect(&mut self, text: &[u8]) -> Option<()> {
        self.0 = self.0.strip_prefix(text)?;
        Some(())
    }

    /// Decimal digits, at least one, read as ipvsadm reads numbers (leading zeros allowed),
    /// at most `max`. Whatever follows is left for the caller.
    fn number(&mut self, max: u32) -> Option<u32> {
        let mut n: u64 = 0;
        let mut digits = 0;
        for &b in self.0 {
            if !b.is_ascii_digit() {
                break;
            }
            n = n * 10 + u64::from(b - b'0');
            // Past `max`, more digits only make it larger (and it stays far from overflowing).
            if n > u64::from(max) {
                return None;
            }
            digits += 1;
        }
        if digits == 0 {
            return None;
        }
        self.0 = &self.0[digits..];
        u32::try_from(n).ok()
    }

    /// `a.b.c.d` in plain decimal (no leading zeros, which `inet_aton` reads as octal).
    fn ipv4(&mut self) -> Option<Ipv4Addr> {
        let mut octets = [0u8; 4];
        for (i, octet) in octets.iter_mut().enumerate() {
            if i > 0 {
                self.expect(b".")?;
            }
            *octet = self.octet()?;
        }
        Some(Ipv4Addr::from(octets))
    }

    /// One to three digits up to 255, without a leading zero: what [`number`](Self::number)
    /// reads for an octet, in one step (addresses are most of a rules file).
    fn octet(&mut self) -> Option<u8> {
        let digit = |i: usize| {
            self.0
                .get(i)
                .filter(|b| b.is_ascii_digit())
                .map(|b| b - b'0')
        };
        let (value, len) = match (digit(0)?, digit(1), digit(2), digit(3)) {
            (_, Some(_), Some(_), Some(_)) | (0, Some(_), _, _) => return None,
            (a, None, _, _) => (u32::from(a), 1),
            (a, Some(b), None, _) => (u32::from(a * 10 + b), 2),
            (a, Some(b), Some(c), _) => (u32::from(a) * 100 + u32::from(b * 10 + c), 3),
        };
        self.0 = &self.0[len..];
        u8::try_from(value).ok()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::{parse, rules::words};
    use super::*;

    fn general(line: &str) -> Option<Command> {
        let args: Vec<&str> = words(line).collect();
        parse("ipvsadm", &args, true, false).ok()
    }

    #[test]
    fn what_save_writes_is_read_here() {
        for line in [
            "-A -t 10.0.0.1:80 -s wlc",
            "-A -u 10.0.0.1:53 -s rr",
            "-A -t 10.0.0.1:80",
            "-a -t 10.0.0.1:80 -r 192.168.0.1:8080 -m -w 1",
            "-a -u 10.0.0.1:53 -r 192.168.0.1:53 -g -w 0",
            "-a -t 10.0.0.1:80 -r 192.168.0.1 -i -w 2147483647",
        ] {
            let fast = super::line(line.as_bytes());
            assert!(fast.is_some(), "{line}");
            assert_eq!(fast, general(line), "{line}");
        }
    }

    #[test]
    fn anything_else_is_left_to_the_general_parser() {
        for line in [
            "-A -t 10.0.0.1:0 -s wlc",
            "-A -t 10.0.0.1:80 -s wlc -p",
            "-A -t 10.0.0.1:80  -s wlc",
            "-A -t 10.0.0.1:80 -s wlc ",
            "-A -t 010.0.0.1:80 -s wlc",
            "-A -t web:80 -s wlc",
            "-A -t [::1]:80 -s wlc",
            "-A -f 1 -s wlc",
            "-a -t 10.0.0.1:80 -r 192.168.0.1:8080 -m -w 1 -x 5",
            "-a -t 10.0.0.1:80 -r 192.168.0.1:8080 -m -w 2147483648",
            "-a -t 10.0.0.1:80 -r 192.168.0.1:8080 -m -w 1\r",
            "-e -t 10.0.0.1:80 -r 192.168.0.1:8080 -m -w 1",
            "# a comment",
            "",
        ] {
            assert_eq!(super::line(line.as_bytes()), None, "{line}");
        }
    }

    fn pick(options: &'static [&'static str]) -> impl Strategy<Value = &'static str> {
        proptest::sample::select(options)
    }

    /// Mostly what `good` makes, sometimes one of the `odd` words.
    fn mostly(
        good: impl Strategy<Value = String> + 'static,
        odd: &'static [&'static str],
    ) -> BoxedStrategy<String> {
        prop_oneof![9 => good, 1 => pick(odd).prop_map(String::from)].boxed()
    }

    fn word(good: &'static [&'static str], odd: &'static [&'static str]) -> BoxedStrategy<String> {
        mostly(pick(good).prop_map(String::from), odd)
    }

    fn address() -> impl Strategy<Value = String> {
        let octet = || {
            mostly(
                (0u16..=255).prop_map(|o| o.to_string()),
                &["256", "01", "010", "08", "0x1", "1a", ""],
            )
        };
        let port = mostly(
            prop_oneof![
                (0u32..=65535).prop_map(|p| format!(":{p}")),
                Just(String::new())
            ],
            &[":65536", ":080", ":+80", ":", ":http", ":99999999999"],
        );
        (octet(), octet(), octet(), octet(), port)
            .prop_map(|(a, b, c, d, p)| format!("{a}.{b}.{c}.{d}{p}"))
    }

    /// Lines near the two shapes: mostly right, sometimes off in a word or a blank.
    fn near_line() -> impl Strategy<Value = String> {
        let blank = || word(&[" "], &["  ", "\t"]);
        let end = || word(&[""], &[" ", "\r", " -x 5", " -p"]);
        let service = (
            word(&["-A"], &["-E", "-a"]),
            word(&["-t", "-u"], &["-f"]),
            address(),
            word(
                &[
                    "",
                    " -s wlc",
                    " -s rr",
                    " -s mh",
                    " -s a_b",
                    " -s fifteen_letter",
                ],
                &[" -s WLC", " -s sixteen_letters", " -r 1.2.3.4"],
            ),
            blank(),
            end(),
        )
            .prop_map(|(c, p, a, sched, b, e)| format!("{c}{b}{p} {a}{sched}{e}"));
        let dest = (
            word(&["-a"], &["-e", "-A"]),
            word(&["-t", "-u"], &["-f"]),
            address(),
            address(),
            word(&["-m", "-g", "-i"], &["-x"]),
            mostly(
                (0u32..=i32::MAX as u32).prop_map(|w| w.to_string()),
                &["2147483648", "4294967296", "01", "-1", ""],
            ),
            blank(),
            end(),
        )
            .prop_map(|(c, p, a, r, fwd, w, b, e)| format!("{c} {p} {a} -r{b}{r} {fwd} -w {w}{e}"));
        prop_oneof![service, dest]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]

        #[test]
        fn every_line_read_here_means_what_the_general_parser_makes_of_it(text in near_line()) {
            let fast = line(text.as_bytes());
            if fast.is_some() {
                prop_assert_eq!(fast, general(&text));
            }
        }
    }
}
