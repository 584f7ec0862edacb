//! The parts' life together. systemd's readiness protocol (`Type=notify`): `READY=1` once
//! every part the daemon runs has applied its configuration (the checker its first table,
//! VRRP its instances' start), `RELOADING=1` and `READY=1` around a reload, `STOPPING=1` at
//! the end, each a datagram to `$NOTIFY_SOCKET` (without that variable, not started by
//! systemd, nothing is sent). One reload path for all parts: SIGHUP is caught once and each
//! part reloads on request. And the order of a stop: VRRP gives its addresses away (with
//! priority 0, so the backup takes over at once) before the checker empties the table.

use std::cell::Cell;
use std::convert::Infallible;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::rc::Rc;

use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::{mpsc, oneshot};

/// Shared by the parts, which run on one thread.
#[derive(Clone)]
pub struct Ready {
    waiting: Rc<Cell<usize>>,
    /// VRRP has stopped advertising and released its addresses (or does not run).
    released: Rc<Cell<bool>>,
    stopping: Rc<Cell<bool>>,
}

impl Ready {
    /// For a daemon of `parts` parts, VRRP among them or not.
    pub fn new(parts: usize, vrrp: bool) -> Ready {
        Ready {
            waiting: Rc::new(Cell::new(parts)),
            released: Rc::new(Cell::new(!vrrp)),
            stopping: Rc::new(Cell::new(false)),
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

    /// Each part stops on its own; systemd hears it once.
    pub fn stopping(&self) {
        if !self.stopping.replace(true) {
            send("STOPPING=1");
        }
    }
}

/// A part's end of the one reload path: each request carries the sender it acknowledges on
/// once it has read the file again (or refused it).
pub type Reloads = mpsc::UnboundedReceiver<oneshot::Sender<()>>;

/// Catches SIGHUP for every part: tells systemd RELOADING=1, has each part reload, and says
/// READY=1 once all have (so `systemctl reload` returns when the whole file is in force).
/// Never ends: it runs as long as the parts do.
pub async fn reload_path(
    ready: Ready,
    parts: Vec<mpsc::UnboundedSender<oneshot::Sender<()>>>,
) -> Infallible {
    let Ok(mut hup) = signal(SignalKind::hangup()) else {
        return std::future::pending().await;
    };
    while hup.recv().await.is_some() {
        ready.reloading();
        let mut acks = Vec::new();
        for part in &parts {
            let (ack, done) = oneshot::channel();
            if part.send(ack).is_ok() {
                acks.push(done);
            }
        }
        for done in acks {
            let _ = done.await;
        }
        ready.reloaded();
    }
    std::future::pending().await
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
