//! `IPVS_CMD_ATTR_*`: the top level of a request or reply, which nests one service,
//! destination or daemon, or carries the three timeouts. (`GET_INFO` replies reuse the numbers
//! 1 and 2 for [`InfoAttr`](super::InfoAttr); the reply parser picks the set by command.)

use super::{parse_attrs, Attribute, DaemonAttr, DestAttr, ServiceAttr};
use crate::wire::{u32_of, AttrWriter, DecodeError, RawAttr};

pub(crate) const SERVICE: u16 = 1;
pub(crate) const DEST: u16 = 2;
const DAEMON: u16 = 3;
const TIMEOUT_TCP: u16 = 4;
const TIMEOUT_TCP_FIN: u16 = 5;
const TIMEOUT_UDP: u16 = 6;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CmdAttr {
    Service(Vec<ServiceAttr>),
    Dest(Vec<DestAttr>),
    Daemon(Vec<DaemonAttr>),
    TimeoutTcp(u32),
    TimeoutTcpFin(u32),
    TimeoutUdp(u32),
    Other(u16, Vec<u8>),
}

impl Attribute for CmdAttr {
    fn parse(raw: RawAttr<'_>) -> Result<Self, DecodeError> {
        Ok(match raw.kind {
            SERVICE => CmdAttr::Service(parse_attrs(raw.payload)?),
            DEST => CmdAttr::Dest(parse_attrs(raw.payload)?),
            DAEMON => CmdAttr::Daemon(parse_attrs(raw.payload)?),
            TIMEOUT_TCP => CmdAttr::TimeoutTcp(u32_of(raw)?),
            TIMEOUT_TCP_FIN => CmdAttr::TimeoutTcpFin(u32_of(raw)?),
            TIMEOUT_UDP => CmdAttr::TimeoutUdp(u32_of(raw)?),
            kind => CmdAttr::Other(kind, raw.payload.to_vec()),
        })
    }

    fn emit(&self, w: &mut AttrWriter) {
        match self {
            CmdAttr::Service(a) => w.nest(SERVICE, |n| a.iter().for_each(|x| x.emit(n))),
            CmdAttr::Dest(a) => w.nest(DEST, |n| a.iter().for_each(|x| x.emit(n))),
            CmdAttr::Daemon(a) => w.nest(DAEMON, |n| a.iter().for_each(|x| x.emit(n))),
            CmdAttr::TimeoutTcp(v) => w.put(TIMEOUT_TCP, &v.to_ne_bytes()),
            CmdAttr::TimeoutTcpFin(v) => w.put(TIMEOUT_TCP_FIN, &v.to_ne_bytes()),
            CmdAttr::TimeoutUdp(v) => w.put(TIMEOUT_UDP, &v.to_ne_bytes()),
            CmdAttr::Other(kind, payload) => w.put(*kind, payload),
        }
    }
}
