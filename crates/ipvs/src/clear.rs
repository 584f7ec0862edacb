//! Clearing the table so that restoring it again is as fast as restoring it into an empty
//! namespace.
//!
//! A destination the kernel deletes is not freed at once: it goes to the head of a
//! per-namespace trash list for one to two minutes. Every destination added meanwhile is
//! first looked for in that list from the head; a hit is taken out and revived, a miss walks
//! the whole list (`ip_vs_trash_get_dest` in `net/netfilter/ipvs/ip_vs_ctl.c`). A flush
//! deletes the services in the order of the kernel's hash chains, which a program cannot
//! predict (the hash mixes in the namespace's address), so a restore that follows walks about
//! half the trash for each destination: quadratic in the size of the table.
//!
//! [`Client::clear`] deletes the services one by one in descending [`ServiceKey`] order
//! instead. Deleting a service moves its destinations to the trash in the order a listing
//! shows them, the reverse of the order they were added in, so afterwards the trash holds the
//! lowest service's destinations first, in the order they were added, then the next
//! service's, and so on. A restore that adds the destinations service by service in ascending
//! key order, each service's in the order of its rules, finds every one at or near the head.

use crate::batch::OnError;
use crate::client::Client;
use crate::error::{Op, Result};
use crate::reply;
use crate::request::{cmd, Request};

impl Client {
    /// Deletes every service, as [`flush`](Client::flush) does, in the order that makes a later
    /// restore of the same table fast (see the module docs).
    ///
    /// The outcome is the flush's: the services are deleted one by one first, and a flush at
    /// the end removes whatever that missed (a service added meanwhile by another program, or
    /// every service if the listing failed), so the table is empty exactly when a flush would
    /// have emptied it, and an error is the one a flush would have reported.
    pub fn clear(&mut self) -> Result<()> {
        // One pass of the dump, not a listing's repeated ones: a service it misses or repeats
        // costs only time, since the flush at the end is what empties the table.
        let listed = self.ipvs(cmd::GET_SERVICE, &[], true, Op::GetServices, |_, attrs| {
            reply::service(attrs)
        });
        if let Ok(services) = listed {
            let mut keys: Vec<_> = services.into_iter().map(|svc| svc.key).collect();
            keys.sort_unstable_by(|a, b| b.cmp(a));
            let deletes: Vec<Request> = keys.into_iter().map(Request::DeleteService).collect();
            // A service another program deleted meanwhile fails here and is no concern.
            let _ = self.batch(&deletes, OnError::Continue);
        }
        self.flush()
    }
}
