//! The IPVS attribute sets, one enum each, with parse and emit side by side. Attributes this
//! library does not know are kept as `Other` so that nothing the kernel sends is an error and a
//! parsed message emits back byte for byte. Each module also converts its set to and from the
//! model types.

#[cfg(test)]
mod captured;
mod cmd;
mod daemon;
mod dest;
mod info;
#[cfg(test)]
mod roundtrip;
mod service;
mod stats;

pub use cmd::CmdAttr;
pub(crate) use cmd::{DEST as CMD_DEST, SERVICE as CMD_SERVICE};
pub use daemon::DaemonAttr;
pub use dest::DestAttr;
pub use info::InfoAttr;
pub use service::ServiceAttr;
pub use stats::{StatField, StatsAttr};

pub(crate) use daemon::{daemon_from_attrs, daemon_to_attrs};
pub(crate) use dest::{
    dest_from_bytes, dest_key_attrs, dest_to_attrs, each_dest_attr, each_dest_key_attr,
};
pub(crate) use info::info_from_attrs;
#[cfg(test)]
pub(crate) use service::service_from_attrs;
pub use service::service_key_attrs;
pub(crate) use service::{
    each_service_attr, each_service_key_attr, service_from_bytes, service_to_attrs,
};
#[cfg(test)]
pub(crate) use stats::stats_to_attrs;
pub(crate) use stats::{entry_counters, stats_from_attrs};

use crate::wire::DecodeError;
pub use crate::wire::{AttrWriter, RawAttr};

/// What every attribute enum can do.
pub trait Attribute: Sized {
    fn parse(raw: RawAttr<'_>) -> Result<Self, DecodeError>;
    fn emit(&self, w: &mut AttrWriter);
}

/// Parses a run of attributes of one set.
pub fn parse_attrs<A: Attribute>(buf: &[u8]) -> Result<Vec<A>, DecodeError> {
    crate::wire::parse_all(buf, A::parse)
}

/// Emits a run of attributes of one set.
pub fn emit_attrs<A: Attribute>(attrs: &[A]) -> Vec<u8> {
    let mut w = AttrWriter::default();
    for a in attrs {
        a.emit(&mut w);
    }
    w.buf
}
