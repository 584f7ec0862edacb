//! VRRP as keepalived 2.2.7 speaks it, without I/O: the advertisement's bytes ([`packet`]),
//! the checks a received one must pass before an instance may act on it ([`receive`]), and
//! each instance's state machine, fed the time, adverts and tracking changes, returning what
//! to send, which addresses to add or remove and which scripts to run.
//!
//! The daemon (`lvsd`) owns the sockets, the clock and the host's addresses.

pub mod config;
mod machine;
pub mod packet;
pub mod receive;

pub use machine::{
    Action, Garp, GroupId, GroupSettings, InstanceId, Machine, Micros, Settings, State, Status,
    Subject, TrackId, TrackRef, TrackValue,
};
