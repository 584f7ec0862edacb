//! lvsadm's write locks (`hostnet::lock`): commands that change the IPVS table take its lock,
//! `vip` and `realserver` the host records' lock, each for the network namespace they work
//! in. A command that waits more than a second says whom it waits for.

use std::io::{self, Write};

pub use hostnet::lock::Lock;
use hostnet::lock::{Guarded, Holder};

/// Waits until no other process changes the IPVS table of this namespace.
pub fn table() -> io::Result<Lock> {
    acquire(Guarded::IpvsTable)
}

/// Waits until no other process changes the host records of this namespace.
pub fn host() -> io::Result<Lock> {
    acquire(Guarded::HostRecords)
}

fn acquire(what: Guarded) -> io::Result<Lock> {
    Lock::acquire(what, |holder: &Holder| {
        // Like every message, never a panic when stderr is closed.
        let _ = writeln!(
            io::stderr(),
            "lvsadm: waiting for {holder}, which is changing {} of this network namespace",
            what.describe()
        );
    })
}
