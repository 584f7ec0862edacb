//! SIGINT and SIGTERM while a change that can be undone is under way (`-R --atomic`, `apply`):
//! instead of dying half-way, lvsadm notes the signal, stops sending after the chunk in flight
//! and puts the table back.
//!
//! The handlers come from signal-hook and are installed once, at the first [`Deferred`]; until
//! then the signals keep their default disposition. signal-hook installs them with
//! `SA_RESTART`, so blocking netlink reads go on after a signal.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::flag;

/// What the handlers share with the program.
struct Flags {
    /// True while no [`Deferred`] is held: a signal then does what it does by default.
    fatal: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    signal: Arc<AtomicUsize>,
    /// False if a handler could not be installed: the signals then stay fatal throughout.
    deferrable: bool,
}

static FLAGS: OnceLock<Flags> = OnceLock::new();

/// The flags, with the handlers installed at the first call.
fn flags() -> &'static Flags {
    FLAGS.get_or_init(|| {
        let fatal = Arc::new(AtomicBool::new(true));
        let stop = Arc::new(AtomicBool::new(false));
        let signal = Arc::new(AtomicUsize::new(0));
        let deferrable = [SIGINT, SIGTERM].into_iter().all(|number| {
            // The default action comes first: a signal that is fatal ends the process before
            // it is noted.
            // The signal is noted before the stop flag is set (actions run in the order they
            // were registered): whoever sees the flag also finds which signal it was.
            flag::register_conditional_default(number, Arc::clone(&fatal)).is_ok()
                && usize::try_from(number).is_ok_and(|value| {
                    flag::register_usize(number, Arc::clone(&signal), value).is_ok()
                })
                && flag::register(number, Arc::clone(&stop)).is_ok()
        });
        Flags {
            fatal,
            stop,
            signal,
            deferrable,
        }
    })
}

/// While held, SIGINT and SIGTERM are noted rather than fatal; dropping it makes them fatal
/// again (a signal noted meanwhile stays noted).
pub struct Deferred {
    flags: &'static Flags,
}

impl Deferred {
    pub fn new() -> Deferred {
        let flags = flags();
        if flags.deferrable {
            flags.fatal.store(false, Ordering::SeqCst);
        }
        Deferred { flags }
    }

    /// Set once a signal came: for [`ipvs::Client::batch_until`].
    pub fn stop_flag(&self) -> &AtomicBool {
        &self.flags.stop
    }

    /// The signal that came, if one did.
    pub fn caught(&self) -> Option<i32> {
        let signal = self.flags.signal.load(Ordering::SeqCst);
        i32::try_from(signal).ok().filter(|&s| s != 0)
    }
}

impl Drop for Deferred {
    fn drop(&mut self) {
        self.flags.fatal.store(true, Ordering::SeqCst);
    }
}

/// The signal's name, for messages.
pub fn name(signal: i32) -> &'static str {
    match signal {
        SIGINT => "SIGINT",
        SIGTERM => "SIGTERM",
        _ => "a signal",
    }
}

/// The exit status of a command a signal ended: as the shell reports one killed by it.
pub fn status(signal: i32) -> i32 {
    128 + signal
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signal_while_deferred_is_noted_not_fatal() {
        let deferred = Deferred::new();
        signal_hook::low_level::raise(SIGINT).expect("raise");
        assert!(deferred.stop_flag().load(Ordering::SeqCst));
        assert_eq!(deferred.caught(), Some(SIGINT));
        assert_eq!(name(SIGINT), "SIGINT");
        assert_eq!(status(SIGINT), 130);
    }
}
