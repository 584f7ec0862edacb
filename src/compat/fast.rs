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

use super::parse::string_to_number;
use super::Command;

/// The longest scheduler name the kernel takes (`IP_VS_SCHEDNAME_MAXLEN` less the NUL).
const SCHED_MAX: usize = 15;

/// The command of a line of one of the two shapes, or `None`.
pub fn line(line: &str) -> Option<Command> {
    let mut r = Reader(line);
    let adding_service = match r.word()? {
        "-A" => true,
        "-a" => false,
        _ => return None,
    };
    let protocol = match r.word()? {
        "-t" => Protocol::Tcp,
        "-u" => Protocol::Udp,
        _ => return None,
    };
    let (addr, port) = address(r.word()?)?;
    let port = port?;
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
        let scheduler = match r.word() {
            None => "wlc",
            Some("-s") => scheduler(r.word()?)?,
            Some(_) => return None,
        };
        r.end()?;
        let mut service = Service::new(key);
        scheduler.clone_into(&mut service.scheduler);
        return Some(Command::AddService(service));
    }
    if r.word()? != "-r" {
        return None;
    }
    let (dest, dest_port) = address(r.word()?)?;
    let forward = match r.word()? {
        "-g" => ForwardMethod::DirectRoute,
        "-i" => ForwardMethod::Tunnel,
        "-m" => ForwardMethod::Masquerade,
        _ => return None,
    };
    if r.word()? != "-w" {
        return None;
    }
    let weight = number(r.word()?, i32::MAX.into())?;
    r.end()?;
    // Direct routing and tunnelling keep the service's port; a destination without a port
    // takes it too.
    let dest_port = match (forward, dest_port) {
        (ForwardMethod::Masquerade, Some(p)) => p,
        _ => port,
    };
    let mut d = Destination::new(IpAddr::V4(dest), dest_port);
    d.forward = forward;
    d.weight = weight as u32;
    Some(Command::AddDest(key, d))
}

/// Words separated by exactly one blank.
struct Reader<'a>(&'a str);

impl<'a> Reader<'a> {
    /// The next word; `None` at the end of the line, and for an empty word or a blank that
    /// ends the line, which are left to the general parser.
    fn word(&mut self) -> Option<&'a str> {
        let (word, rest) = match self.0.split_once(' ') {
            Some((_, "")) => return None,
            Some(split) => split,
            None => (self.0, ""),
        };
        self.0 = rest;
        (!word.is_empty()).then_some(word)
    }

    fn end(&self) -> Option<()> {
        self.0.is_empty().then_some(())
    }
}

/// `a.b.c.d` or `a.b.c.d:port` in plain decimal (no leading zeros, which `inet_aton` reads as
/// octal).
fn address(word: &str) -> Option<(Ipv4Addr, Option<u16>)> {
    let (host, port) = match word.split_once(':') {
        Some((host, port)) => (host, Some(number(port, 65535)? as u16)),
        None => (word, None),
    };
    let mut octets = [0u8; 4];
    let mut parts = host.split('.');
    for octet in &mut octets {
        let part = parts.next()?;
        if part.len() > 1 && part.starts_with('0') {
            return None;
        }
        *octet = u8::try_from(number(part, 255)?).ok()?;
    }
    parts
        .next()
        .is_none()
        .then_some((Ipv4Addr::from(octets), port))
}

/// Decimal digits only (no sign, no blank), read as ipvsadm reads numbers, at most `max`.
fn number(digits: &str, max: i64) -> Option<i64> {
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    string_to_number(digits, 0, max)
}

/// A scheduler name as the kernel's schedulers are named.
fn scheduler(word: &str) -> Option<&str> {
    let plain = word.len() <= SCHED_MAX
        && word
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    plain.then_some(word)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::{parse, restore::words};
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
            let fast = super::line(line);
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
            assert_eq!(super::line(line), None, "{line}");
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
            let fast = line(&text);
            if fast.is_some() {
                prop_assert_eq!(fast, general(&text));
            }
        }
    }
}
