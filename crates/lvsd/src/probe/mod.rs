//! The probes: the I/O of one health check of one real server, and its outcome.
//!
//! The contract:
//! - a [`Probe`] is built once per checker, from the checker as
//!   [`keepalived::check::checker::resolve`] leaves it, with everything a check needs (the
//!   request bytes, the TLS client, the script's user ids) settled then: a checker lvsd cannot
//!   run is refused there, with the reason;
//! - [`Probe::run`] performs the check once and always returns within the checker's timeout
//!   (connect_timeout; misc_timeout for MISC_CHECK) and a few milliseconds, whatever the server
//!   does: the whole check, connect to last byte, runs under that one deadline, and what it
//!   opened is closed when it returns;
//! - it decides up or down for that one attempt only: retries, delays, warmup, alpha and
//!   weights are the caller's, as is FILE_CHECK (a file watcher) and BFD_CHECK;
//! - two probes that compare equal (and hash alike) do exactly the same thing, so the caller
//!   can run them once and share the outcome.
//!
//! Each method's module says what keepalived 2.2.7 does and where lvsd differs.

mod connect;
mod dns;
pub mod genhash;
mod http;
mod misc;
mod ping;
mod smtp;
mod tcp;
mod tls;
mod udp;

use keepalived::check::checker::{Checker, Method};
use keepalived::check::{RealServer, Ssl, VirtualServer};
use std::time::Duration;

/// What one check found: the checker's [`Outcome`](checker::Outcome).
pub use checker::Outcome;

/// Everything one check of one checker needs.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Probe {
    kind: Kind,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Kind {
    Http(http::HttpProbe),
    Tcp(connect::Target),
    Misc(misc::MiscProbe),
    Smtp(smtp::SmtpProbe),
    Dns(dns::DnsProbe),
    Udp(udp::UdpProbe),
    Ping(ping::PingProbe),
}

impl Probe {
    /// From a resolved checker of real server `rs` of virtual server `vs`; `ssl` is the
    /// config's SSL block.
    pub fn new(
        vs: &VirtualServer,
        rs: &RealServer,
        checker: &Checker,
        ssl: Option<&Ssl>,
    ) -> Result<Probe, String> {
        let target = || {
            let conn = checker.conn.as_ref().ok_or_else(|| {
                format!("{} without a connection to make", checker.method.keyword())
            })?;
            connect::Target::new(conn)
        };
        let kind = match &checker.method {
            Method::Http(h) => Kind::Http(http::HttpProbe::new(vs, rs, h, target()?, ssl)?),
            Method::Tcp => Kind::Tcp(target()?),
            Method::Misc(m) => Kind::Misc(misc::MiscProbe::new(vs, m)?),
            Method::Smtp(s) => {
                let helo = s
                    .helo_name
                    .as_deref()
                    // resolve() gives keepalived's default.
                    .unwrap_or("smtpchecker.keepalived.org");
                Kind::Smtp(smtp::SmtpProbe::new(helo, target()?))
            }
            Method::Dns(d) => Kind::Dns(dns::DnsProbe::new(d, target()?)?),
            Method::Udp(u) => Kind::Udp(udp::UdpProbe::new(u, target()?)),
            Method::Ping => Kind::Ping(ping::PingProbe::new(target()?)),
            Method::File(_) => {
                return Err("FILE_CHECK is no probe: the daemon watches the file".into())
            }
            Method::Bfd(_) => return Err("BFD_CHECK is not supported by lvsd".into()),
        };
        Ok(Probe { kind })
    }

    /// The time a check may take: [`Probe::run`] returns within it (and a small margin).
    pub fn timeout(&self) -> Duration {
        match &self.kind {
            Kind::Http(p) => p.timeout(),
            Kind::Tcp(t) => t.timeout,
            Kind::Misc(p) => p.timeout(),
            Kind::Smtp(p) => p.timeout(),
            Kind::Dns(p) => p.timeout(),
            Kind::Udp(p) => p.timeout(),
            Kind::Ping(p) => p.timeout(),
        }
    }

    /// Runs the check once; always returns within the check's timeout (+ a small margin),
    /// whatever the server does.
    pub async fn run(&self) -> Outcome {
        match &self.kind {
            Kind::Http(p) => p.run().await,
            Kind::Tcp(t) => tcp::run(t).await,
            Kind::Misc(p) => p.run().await,
            Kind::Smtp(p) => p.run().await,
            Kind::Dns(p) => p.run().await,
            Kind::Udp(p) => p.run().await,
            Kind::Ping(p) => p.run().await,
        }
    }
}
