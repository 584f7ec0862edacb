//! `ipvs`: a typed client for the Linux kernel's IPVS (IP Virtual Server) load balancer,
//! speaking its generic-netlink interface over one socket.
//!
//! It covers everything `ipvsadm` 1.31 does: services and destinations (add, edit, delete,
//! dump), flush, zero, timeouts, sync daemons and version information, plus pipelined
//! [batches](Client::batch) for bulk changes and a [clear](Client::clear) after which
//! restoring the same table costs the kernel no more than restoring it into an empty
//! namespace. It neither parses command lines nor prints.
//!
//! Above the requests, the [`table`] engine reads a whole table at once, plans the fewest
//! requests from one table to another and puts a table back after a failed change (what
//! `apply`, `diff` and `-R --atomic` use, and what a daemon keeping the table in step with
//! its configuration needs); [`names`] holds what schedulers, their flags, forwarding methods
//! and tunnel types are called; [`Client::open`] connects as ipvsadm does, loading the module
//! when it must.
//!
//! ```no_run
//! use ipvs::{Client, Destination, Protocol, Service, ServiceKey};
//!
//! let mut ipvs = Client::connect()?;
//! let key = ServiceKey::Addr { protocol: Protocol::Tcp, addr: "192.0.2.1".parse()?, port: 80 };
//! let mut svc = Service::new(key);
//! svc.scheduler = "rr".into();
//! ipvs.add_service(&svc)?;
//! ipvs.add_destination(&key, &Destination::new("198.51.100.7".parse()?, 80))?;
//! for svc in ipvs.services()? {
//!     println!("{} {}", svc.key, svc.scheduler);
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The socket is neli's. Requests are framed in place in the send buffer (a batch frames
//! hundreds of thousands of them), and replies are walked with bounds-checked parsers of our
//! own, so that a malformed or unexpected reply is an error and never a panic. Attributes the
//! library does not know (newer kernels add some) are skipped. Listing a large table spreads
//! the per-service destination dumps over several sockets
//! ([`Client::destinations_of`]).

pub mod attr;
mod batch;
mod clear;
mod client;
mod error;
pub mod metrics;
mod model;
pub mod names;
mod reply;
mod request;
pub mod table;
mod wire;

pub use batch::OnError;
pub use client::{fetch_workers, Client, RawReply};
pub use error::{Error, Op, Result};
pub use model::{
    Daemon, DaemonState, Destination, Family, ForwardMethod, Info, Protocol, Service, ServiceFlags,
    ServiceKey, SocketAddrDisplay, Stats, Timeouts, TunnelFlags, TunnelType,
};
pub use reply::{decode, Reply};
pub use request::{cmd, Request};
pub use table::Table;
pub use wire::DecodeError;
