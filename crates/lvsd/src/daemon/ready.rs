//! The parts' life together. systemd's readiness protocol (`Type=notify`): `READY=1` once
//! every part the daemon runs has applied its configuration (the checker its first table,
//! VRRP its instances' start), `RELOADING=1` and `READY=1` around a reload, `STOPPING=1` at
//! the end, each a datagram to `$NOTIFY_SOCKET` (without that variable, not started by
//! systemd, nothing is sent). And the order of a stop: VRRP gives its addresses away (with
//! priority 0, so the backup takes over at once) before the checker empties the table.

use std::cell::Cell;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::rc::Rc;

/// Shared by the parts, which run on one thread.
#[derive(Clone)]
pub struct Ready {
    waiting: Rc<Cell<usize>>,
    /// VRRP has stopped advertising and released its addresses (or does not run).
    released: Rc<Cell<bool>>,
}

impl Ready {
    /// For a daemon of `parts` parts, VRRP among them or not.
    pub fn new(parts: usize, vrrp: bool) -> Ready {
        Ready {
            waiting: Rc::new(Cell::new(parts)),
            released: Rc::new(Cell::new(!vrrp)),
        }
    }

    /// VRRP has handed its addresses over.
    pub fn released(&self) {
        self.released.set(true);
    }

    /// Waits (two seconds at most) for VRRP to hand its addresses over: the master's table
    /// must serve until the backup has the VIP.
    pub async fn vrrp_released(&self) {
        for _ in 0..400 {
            if self.released.get() {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }

    /// A part has applied its configuration; the last one tells systemd.
    pub fn part_ready(&self) {
        let left = self.waiting.get().saturating_sub(1);
        self.waiting.set(left);
        if left == 0 {
            send("READY=1");
        }
    }

    pub fn reloading(&self) {
        send("RELOADING=1");
    }

    pub fn reloaded(&self) {
        send("READY=1");
    }

    pub fn stopping(&self) {
        send("STOPPING=1");
    }
}

fn send(state: &str) {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    let bytes = path.as_encoded_bytes();
    // A leading '@' names an abstract socket.
    let addr = match bytes.strip_prefix(b"@") {
        Some(name) => SocketAddr::from_abstract_name(name),
        None => SocketAddr::from_pathname(&path),
    };
    if let (Ok(addr), Ok(socket)) = (addr, UnixDatagram::unbound()) {
        let _ = socket.send_to_addr(state.as_bytes(), &addr);
    }
}
