//! `DNS_CHECK`: a query to the real server that must be answered.
//!
//! keepalived 2.2.7's check of the `name` for an empty label also looks at the name's second
//! character, so it refuses any name whose second character is a dot (`a.example.com`),
//! which lvsd points out.

use super::{common, current, end_connecting, start, Method};
use crate::parse::{Ctx, Keyword};
use crate::problem::Kind;

/// What a `DNS_CHECK` block says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Dns {
    /// `type`; default SOA.
    pub dns_type: Option<DnsType>,
    /// `name`; default the root, an empty name.
    pub name: Option<String>,
}

/// The query types keepalived knows (names matched without regard to case).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DnsType {
    A,
    Ns,
    Cname,
    Soa,
    Mx,
    Txt,
    Aaaa,
    Rrsig,
    Dnskey,
}

impl DnsType {
    const ALL: [(DnsType, &'static str); 9] = [
        (DnsType::A, "A"),
        (DnsType::Ns, "NS"),
        (DnsType::Cname, "CNAME"),
        (DnsType::Soa, "SOA"),
        (DnsType::Mx, "MX"),
        (DnsType::Txt, "TXT"),
        (DnsType::Aaaa, "AAAA"),
        (DnsType::Rrsig, "RRSIG"),
        (DnsType::Dnskey, "DNSKEY"),
    ];

    /// keepalived's name for it.
    pub fn name(self) -> &'static str {
        DnsType::ALL
            .iter()
            .find(|(t, _)| *t == self)
            .map_or("SOA", |(_, n)| n)
    }

    pub fn from_name(s: &str) -> Option<DnsType> {
        DnsType::ALL
            .iter()
            .find(|(_, n)| n.eq_ignore_ascii_case(s))
            .map(|(t, _)| *t)
    }
}

pub fn keyword() -> Keyword {
    let mut sub = common::keywords(Some(false));
    sub.push(Keyword::new("type", dns_type));
    sub.push(Keyword::new("name", name));
    Keyword::block("DNS_CHECK", Some(open), sub, Some(close))
}

fn open(ctx: &mut Ctx<'_>, _words: &[String]) {
    start(ctx, Method::Dns(Dns::default()), true);
}

fn dns<'c>(ctx: &'c mut Ctx<'_>) -> Option<&'c mut Dns> {
    match &mut current(ctx)?.method {
        Method::Dns(d) => Some(d),
        _ => None,
    }
}

fn dns_type(ctx: &mut Ctx<'_>, words: &[String]) {
    let Some(v) = ctx.arg(words, 1) else {
        return;
    };
    match DnsType::from_name(v) {
        Some(t) => {
            if let Some(d) = dns(ctx) {
                d.dns_type = Some(t);
            }
        }
        None => ctx.explain(
            Kind::General,
            format!("Unknown DNS check type {v} - ignoring"),
            None,
            Some("the types are A, NS, CNAME, SOA, MX, TXT, AAAA, RRSIG and DNSKEY"),
        ),
    }
}

/// keepalived's test for an empty label, its slip included: it looks at the character after
/// the start of the name as well as after each dot.
fn has_empty_label(name: &str) -> bool {
    let b = name.as_bytes();
    if b.first() == Some(&b'.') && b.len() > 1 {
        return true;
    }
    std::iter::once(0)
        .chain(
            b.iter()
                .enumerate()
                .filter(|(_, c)| **c == b'.')
                .map(|(i, _)| i),
        )
        .any(|i| b.get(i + 1) == Some(&b'.'))
}

fn name(ctx: &mut Ctx<'_>, words: &[String]) {
    // keepalived looks for an earlier name before it reads this one's.
    let given = dns(ctx).is_some_and(|d| d.name.is_some());
    if given {
        ctx.report(Kind::General, "DNS_CHECK name already specified - ignoring");
        return;
    }
    let Some(v) = ctx.arg(words, 1) else {
        return;
    };
    if has_empty_label(v) {
        let slip = v.as_bytes().get(1) == Some(&b'.') && !v.starts_with('.') && !v.contains("..");
        ctx.explain(
            Kind::General,
            format!("DNS_CHECK name '{v}' has empty label - ignoring"),
            Some("keepalived queries the default name, the root"),
            slip.then_some(
                "keepalived 2.2.7 refuses every name whose second character is a dot; a name \
                 with a longer first label is read",
            ),
        );
        return;
    }
    if let Some(d) = dns(ctx) {
        d.name = Some(v.to_string());
    }
}

fn close(ctx: &mut Ctx<'_>) {
    end_connecting(ctx);
}

#[cfg(test)]
mod tests {
    use super::has_empty_label;

    #[test]
    fn empty_labels_as_keepalived_finds_them() {
        assert!(has_empty_label("a.example.com"));
        assert!(has_empty_label("ab.c..d"));
        assert!(has_empty_label(".a"));
        assert!(!has_empty_label("."));
        assert!(!has_empty_label("ab.example.com"));
        assert!(!has_empty_label("a"));
        assert!(!has_empty_label(""));
    }
}
