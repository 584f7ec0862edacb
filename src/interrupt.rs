//! SIGINT and SIGTERM while a change that can be undone is under way (`-R --atomic`, `apply`):
//! instead of dying half-way, lvsadm notes the signal, stops sending after the chunk in flight
//! and puts the table back.

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

static STOP: AtomicBool = AtomicBool::new(false);
static SIGNAL: AtomicI32 = AtomicI32::new(0);

const SIGNALS: [libc::c_int; 2] = [libc::SIGINT, libc::SIGTERM];

extern "C" fn note(signal: libc::c_int) {
    // Only async-signal-safe work here: two atomic stores.
    SIGNAL.store(signal, Ordering::SeqCst);
    STOP.store(true, Ordering::SeqCst);
}

/// While held, SIGINT and SIGTERM are noted rather than fatal; dropping it restores what was
/// there before (a signal noted meanwhile stays noted).
pub struct Deferred {
    previous: [libc::sigaction; 2],
}

impl Deferred {
    pub fn new() -> Deferred {
        // SAFETY: sigaction structs are plain data, zero is a valid start; the handler only
        // stores to atomics, and SA_RESTART keeps blocking netlink reads going.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = note as extern "C" fn(libc::c_int) as libc::sighandler_t;
            action.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            let mut previous: [libc::sigaction; 2] = std::mem::zeroed();
            for (signal, old) in SIGNALS.iter().zip(previous.iter_mut()) {
                libc::sigaction(*signal, &action, old);
            }
            Deferred { previous }
        }
    }

    /// Set once a signal came: for [`ipvs::Client::batch_until`].
    pub fn stop_flag(&self) -> &AtomicBool {
        &STOP
    }

    /// The signal that came, if one did.
    pub fn caught(&self) -> Option<i32> {
        Some(SIGNAL.load(Ordering::SeqCst)).filter(|&s| s != 0)
    }
}

impl Drop for Deferred {
    fn drop(&mut self) {
        for (signal, old) in SIGNALS.iter().zip(self.previous.iter()) {
            // SAFETY: puts back the disposition saved by `new`.
            unsafe {
                libc::sigaction(*signal, old, std::ptr::null_mut());
            }
        }
    }
}

/// The signal's name, for messages.
pub fn name(signal: i32) -> &'static str {
    match signal {
        libc::SIGINT => "SIGINT",
        libc::SIGTERM => "SIGTERM",
        _ => "a signal",
    }
}

/// The exit status of a command a signal ended: as the shell reports one killed by it.
pub fn status(signal: i32) -> i32 {
    128 + signal
}
