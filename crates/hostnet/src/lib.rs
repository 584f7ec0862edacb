//! Network set-up of the machines of an LVS cluster, the steps LVS guides do by hand with
//! ifconfig and `echo > /proc/sys/...`, in two layers.
//!
//! The mechanism, for any program and with no records: addresses present or absent on a
//! device with a label, a scope and the mark of the program that added them ([`addr`]),
//! announcements ([`announce`]), links, addresses and routes over rtnetlink ([`rtnl`]),
//! settings through typed sysctl keys ([`sysctl`]), validated names ([`name`]), which
//! network namespace this is ([`netns`]).
//!
//! lvsadm's set-ups on top, journalled and recorded ([`state`]): VIPs on a director's
//! interfaces ([`director`]), and on real servers the VIPs on `lo` or a tunnel device with
//! the ARP and reverse-path settings that direct routing and tunnelling need
//! ([`realserver`]), or for NAT the route back through the director ([`nat`]). A step that
//! fails undoes the earlier ones, and what set-up replaced is kept in a per-namespace state
//! file under /run so that teardown puts it back. Programs that change the IPVS table or
//! these records take the namespace's [`lock`] for it.

pub mod addr;
pub mod announce;
pub mod director;
pub mod lock;
mod mode;
pub mod name;
pub mod nat;
pub mod netns;
pub mod realserver;
pub mod rtnl;
pub mod state;
pub mod sysctl;

use std::io;

pub use name::{IfName, Label, NameError};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Netlink(String),
    #[error("{what}: {source}")]
    Kernel { what: String, source: io::Error },
    #[error("{what}: {source}")]
    Sysctl { what: String, source: io::Error },
    #[error(transparent)]
    Name(#[from] NameError),
    #[error("state file {path}: {why}")]
    State { path: String, why: String },
    /// A request that cannot be carried out as asked; nothing was changed.
    #[error("{0}")]
    Refused(String),
    /// A step failed and the earlier ones were undone (or could not all be).
    #[error("{cause}{}", undo_report(.undo_failures))]
    RolledBack {
        cause: Box<Error>,
        undo_failures: Vec<Error>,
    },
}

fn undo_report(failures: &[Error]) -> String {
    if failures.is_empty() {
        "; nothing was changed".to_string()
    } else {
        let list: Vec<String> = failures.iter().map(ToString::to_string).collect();
        format!(
            "; undoing the earlier steps failed too: {}",
            list.join("; ")
        )
    }
}
