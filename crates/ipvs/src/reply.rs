//! What the kernel sends back, decoded: the parsers the client applies to each reply message,
//! and [`decode`], which applies them to a whole datagram (for tools that capture IPVS
//! traffic, and for the fuzz target that feeds it arbitrary bytes).

use crate::attr::{
    daemon_from_attrs, dest_from_bytes, info_from_attrs, parse_attrs, service_from_bytes, CmdAttr,
    InfoAttr, CMD_DEST, CMD_SERVICE,
};
use crate::model::{Daemon, Destination, Family, Info, Service, Timeouts};
use crate::request::cmd;
use crate::wire::{Attrs, DecodeError, Messages, NLMSG_DONE, NLMSG_ERROR};

/// One message of a datagram the kernel sent to an IPVS socket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// `NLMSG_ERROR` with code 0.
    Ack {
        seq: u32,
    },
    /// `NLMSG_ERROR`: the request `seq` failed with this (positive) errno.
    Error {
        seq: u32,
        errno: i32,
    },
    /// The end of a dump; a negative code in it is the dump's error.
    Done {
        seq: u32,
    },
    Service(Service),
    Destination(Destination),
    Daemon(Daemon),
    Info(Info),
    Timeouts(Timeouts),
    /// A message of a kind or command this library does not decode.
    Other {
        kind: u16,
        seq: u32,
    },
}

/// Decodes every message of one datagram. Destinations that do not name their family (kernels
/// before 5.10) are read as `dest_family`, the family of the service they were asked for.
/// A message that cannot be decoded is an error of its own; a datagram whose framing is
/// broken ends with one.
pub fn decode(datagram: &[u8], dest_family: Family) -> Vec<Result<Reply, DecodeError>> {
    Messages::new(datagram)
        .map(|msg| {
            let msg = msg?;
            let seq = msg.seq;
            match msg.kind {
                NLMSG_ERROR => Ok(match msg.error_code()? {
                    0 => Reply::Ack { seq },
                    code => Reply::Error {
                        seq,
                        errno: code.saturating_neg(),
                    },
                }),
                NLMSG_DONE => Ok(Reply::Done { seq }),
                kind if kind < 16 => Ok(Reply::Other { kind, seq }),
                kind => {
                    let (command, attrs) = msg.genl()?;
                    Ok(match command {
                        cmd::NEW_SERVICE => Reply::Service(service(attrs)?),
                        cmd::NEW_DEST => Reply::Destination(destination(attrs, dest_family)?),
                        cmd::NEW_DAEMON => Reply::Daemon(daemon(attrs)?),
                        cmd::SET_INFO => Reply::Info(info(attrs)?),
                        cmd::SET_CONFIG => Reply::Timeouts(timeouts(attrs)?),
                        _ => Reply::Other { kind, seq },
                    })
                }
            }
        })
        .collect()
}

/// The first attribute of a reply that `pick` takes, converted; `what` names it in the error.
fn first_attr<T>(
    attrs: &[u8],
    what: &str,
    pick: impl Fn(&CmdAttr) -> Option<Result<T, DecodeError>>,
) -> Result<T, DecodeError> {
    parse_attrs::<CmdAttr>(attrs)?
        .iter()
        .find_map(pick)
        .unwrap_or_else(|| Err(DecodeError::new(format!("{what} reply without a {what}"))))
}

/// A service reply's attributes.
pub(crate) fn service(attrs: &[u8]) -> Result<Service, DecodeError> {
    nest(attrs, CMD_SERVICE, "service").and_then(service_from_bytes)
}

/// A destination reply's attributes.
pub(crate) fn destination(attrs: &[u8], family: Family) -> Result<Destination, DecodeError> {
    nest(attrs, CMD_DEST, "destination").and_then(|d| dest_from_bytes(d, family))
}

/// The payload of a reply's first nest of `kind`, not parsed; `what` names it in the error.
fn nest<'a>(attrs: &'a [u8], kind: u16, what: &str) -> Result<&'a [u8], DecodeError> {
    for raw in Attrs::new(attrs) {
        let raw = raw?;
        if raw.kind == kind {
            return Ok(raw.payload);
        }
    }
    Err(DecodeError::new(format!("{what} reply without a {what}")))
}

/// A daemon reply's attributes.
pub(crate) fn daemon(attrs: &[u8]) -> Result<Daemon, DecodeError> {
    first_attr(attrs, "daemon", |a| match a {
        CmdAttr::Daemon(d) => Some(daemon_from_attrs(d)),
        _ => None,
    })
}

/// The version reply's attributes.
pub(crate) fn info(attrs: &[u8]) -> Result<Info, DecodeError> {
    info_from_attrs(&parse_attrs::<InfoAttr>(attrs)?)
}

/// The configuration reply's attributes: the timeouts (absent ones are 0).
pub(crate) fn timeouts(attrs: &[u8]) -> Result<Timeouts, DecodeError> {
    let mut t = Timeouts::default();
    for a in parse_attrs::<CmdAttr>(attrs)? {
        match a {
            CmdAttr::TimeoutTcp(v) => t.tcp = v,
            CmdAttr::TimeoutTcpFin(v) => t.tcp_fin = v,
            CmdAttr::TimeoutUdp(v) => t.udp = v,
            _ => {}
        }
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(kind: u16, seq: u32, body: &[u8]) -> Vec<u8> {
        let mut m = Vec::new();
        m.extend_from_slice(&(16 + body.len() as u32).to_ne_bytes());
        m.extend_from_slice(&kind.to_ne_bytes());
        m.extend_from_slice(&2u16.to_ne_bytes());
        m.extend_from_slice(&seq.to_ne_bytes());
        m.extend_from_slice(&0u32.to_ne_bytes());
        m.extend_from_slice(body);
        m
    }

    #[test]
    fn a_datagram_decodes_message_by_message() {
        // The kernel's answer to GET_CONFIG (as captured from 6.1), an error, an unknown
        // command, and a truncated message.
        let config = [
            8, 0, 4, 0, 0x84, 3, 0, 0, 8, 0, 5, 0, 0x78, 0, 0, 0, 8, 0, 6, 0, 0x2c, 1, 0, 0,
        ];
        let mut genl = vec![cmd::SET_CONFIG, 1, 0, 0];
        genl.extend_from_slice(&config);
        let mut datagram = message(0x22, 7, &genl);
        datagram.extend(message(NLMSG_ERROR, 8, &(-17i32).to_ne_bytes()));
        datagram.extend(message(0x22, 9, &[99, 1, 0, 0]));
        datagram.extend_from_slice(&[40, 0, 0, 0, 3, 0]);
        let replies = decode(&datagram, Family::V4);
        let t = Timeouts {
            tcp: 900,
            tcp_fin: 120,
            udp: 300,
        };
        assert_eq!(replies[0], Ok(Reply::Timeouts(t)));
        assert_eq!(replies[1], Ok(Reply::Error { seq: 8, errno: 17 }));
        assert_eq!(replies[2], Ok(Reply::Other { kind: 0x22, seq: 9 }));
        assert!(replies[3].is_err());
        assert_eq!(replies.len(), 4);
    }
}
