//! keepalived's health checker as logic without I/O: from a configuration read by the
//! `keepalived` crate, which IPVS services the virtual servers make ([`pool`]), how each
//! checker counts failures and paces its checks ([`retry`]), and the [`Machine`] that, fed the
//! time and each check's outcome, says what the services should hold and what to log and run.
//! [`rules`] prints the table a configuration starts with.
//!
//! The daemon (`lvsd`) runs the checks, keeps the time and puts the table in the kernel.

mod machine;
pub mod pool;
pub mod retry;
mod rules;

pub use machine::{
    Check, CheckId, Event, FileCheck, Machine, Outcome, PoolState, RealState, Unsupported,
    BOOTSTRAP,
};
pub use rules::rules;

/// Microseconds, keepalived's timer unit.
pub type Micros = u64;
