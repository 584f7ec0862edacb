//! `IPVS_DAEMON_ATTR_*`: a connection-synchronisation daemon.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::Attribute;
use crate::model::{Daemon, DaemonState};
use crate::wire::{exact, string_of, u16_of, u32_of, u8_of, AttrWriter, DecodeError, RawAttr};

const STATE: u16 = 1;
const MCAST_IFN: u16 = 2;
const SYNC_ID: u16 = 3;
const SYNC_MAXLEN: u16 = 4;
const MCAST_GROUP: u16 = 5;
const MCAST_GROUP6: u16 = 6;
const MCAST_PORT: u16 = 7;
const MCAST_TTL: u16 = 8;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DaemonAttr {
    State(u32),
    McastIfn(String),
    SyncId(u32),
    SyncMaxlen(u16),
    McastGroup(Ipv4Addr),
    McastGroup6(Ipv6Addr),
    McastPort(u16),
    McastTtl(u8),
    Other(u16, Vec<u8>),
}

impl Attribute for DaemonAttr {
    fn parse(raw: RawAttr<'_>) -> Result<Self, DecodeError> {
        Ok(match raw.kind {
            STATE => DaemonAttr::State(u32_of(raw)?),
            MCAST_IFN => DaemonAttr::McastIfn(string_of(raw)),
            SYNC_ID => DaemonAttr::SyncId(u32_of(raw)?),
            SYNC_MAXLEN => DaemonAttr::SyncMaxlen(u16_of(raw)?),
            MCAST_GROUP => DaemonAttr::McastGroup(Ipv4Addr::from(exact::<4>(raw)?)),
            MCAST_GROUP6 => DaemonAttr::McastGroup6(Ipv6Addr::from(exact::<16>(raw)?)),
            MCAST_PORT => DaemonAttr::McastPort(u16_of(raw)?),
            MCAST_TTL => DaemonAttr::McastTtl(u8_of(raw)?),
            kind => DaemonAttr::Other(kind, raw.payload.to_vec()),
        })
    }

    fn emit(&self, w: &mut AttrWriter) {
        match self {
            DaemonAttr::State(v) => w.put(STATE, &v.to_ne_bytes()),
            DaemonAttr::McastIfn(s) => w.put_string(MCAST_IFN, s),
            DaemonAttr::SyncId(v) => w.put(SYNC_ID, &v.to_ne_bytes()),
            DaemonAttr::SyncMaxlen(v) => w.put(SYNC_MAXLEN, &v.to_ne_bytes()),
            DaemonAttr::McastGroup(a) => w.put(MCAST_GROUP, &a.octets()),
            DaemonAttr::McastGroup6(a) => w.put(MCAST_GROUP6, &a.octets()),
            DaemonAttr::McastPort(v) => w.put(MCAST_PORT, &v.to_ne_bytes()),
            DaemonAttr::McastTtl(v) => w.put(MCAST_TTL, &[*v]),
            DaemonAttr::Other(kind, payload) => w.put(*kind, payload),
        }
    }
}

/// What starting a daemon sends: the optional settings only when they are set, so that the
/// kernel applies its own defaults.
pub(crate) fn daemon_to_attrs(d: &Daemon) -> Vec<DaemonAttr> {
    let mut attrs = vec![
        DaemonAttr::State(d.state.code()),
        DaemonAttr::McastIfn(d.mcast_ifn.clone()),
        DaemonAttr::SyncId(d.syncid),
    ];
    if d.sync_maxlen != 0 {
        attrs.push(DaemonAttr::SyncMaxlen(d.sync_maxlen));
    }
    match d.mcast_group {
        Some(IpAddr::V4(a)) => attrs.push(DaemonAttr::McastGroup(a)),
        Some(IpAddr::V6(a)) => attrs.push(DaemonAttr::McastGroup6(a)),
        None => {}
    }
    if d.mcast_port != 0 {
        attrs.push(DaemonAttr::McastPort(d.mcast_port));
    }
    if d.mcast_ttl != 0 {
        attrs.push(DaemonAttr::McastTtl(d.mcast_ttl));
    }
    attrs
}

pub(crate) fn daemon_from_attrs(attrs: &[DaemonAttr]) -> Result<Daemon, DecodeError> {
    let mut state = None;
    let mut d = Daemon::new(DaemonState::Master, "", 0);
    for a in attrs {
        match a {
            DaemonAttr::State(v) => state = Some(*v),
            DaemonAttr::McastIfn(s) => d.mcast_ifn = s.clone(),
            DaemonAttr::SyncId(v) => d.syncid = *v,
            DaemonAttr::SyncMaxlen(v) => d.sync_maxlen = *v,
            DaemonAttr::McastGroup(a) => d.mcast_group = Some(IpAddr::V4(*a)),
            DaemonAttr::McastGroup6(a) => d.mcast_group = Some(IpAddr::V6(*a)),
            DaemonAttr::McastPort(v) => d.mcast_port = *v,
            DaemonAttr::McastTtl(v) => d.mcast_ttl = *v,
            DaemonAttr::Other(..) => {}
        }
    }
    let state = state.ok_or_else(|| DecodeError::new("daemon without a state"))?;
    d.state = DaemonState::from_code(state)
        .ok_or_else(|| DecodeError::new(format!("daemon with unknown state {state}")))?;
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attr::{emit_attrs, parse_attrs};

    #[test]
    fn a_daemon_survives_encoding() {
        let mut d = Daemon::new(DaemonState::Backup, "eth1", 7);
        d.mcast_group = Some("ff02::81".parse().unwrap());
        d.mcast_port = 8848;
        d.mcast_ttl = 3;
        d.sync_maxlen = 1400;
        let bytes = emit_attrs(&daemon_to_attrs(&d));
        assert_eq!(daemon_from_attrs(&parse_attrs(&bytes).unwrap()).unwrap(), d);
    }
}
