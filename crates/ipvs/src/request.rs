//! The requests that change the IPVS table, and how each becomes a generic-netlink command.

use std::net::IpAddr;

use crate::attr::{
    daemon_to_attrs, dest_key_attrs, dest_to_attrs, each_dest_attr, each_dest_key_attr,
    each_service_attr, each_service_key_attr, service_key_attrs, service_to_attrs, AttrWriter,
    Attribute, CmdAttr, DaemonAttr, CMD_DEST, CMD_SERVICE,
};
use crate::error::Op;
use crate::model::{Daemon, DaemonState, Destination, Service, ServiceKey, Timeouts};

/// `IPVS_CMD_*`, the generic-netlink commands.
pub mod cmd {
    pub const NEW_SERVICE: u8 = 1;
    pub const SET_SERVICE: u8 = 2;
    pub const DEL_SERVICE: u8 = 3;
    pub const GET_SERVICE: u8 = 4;
    pub const NEW_DEST: u8 = 5;
    pub const SET_DEST: u8 = 6;
    pub const DEL_DEST: u8 = 7;
    pub const GET_DEST: u8 = 8;
    pub const NEW_DAEMON: u8 = 9;
    pub const DEL_DAEMON: u8 = 10;
    pub const GET_DAEMON: u8 = 11;
    pub const SET_CONFIG: u8 = 12;
    pub const GET_CONFIG: u8 = 13;
    pub const SET_INFO: u8 = 14;
    pub const GET_INFO: u8 = 15;
    pub const ZERO: u8 = 16;
    pub const FLUSH: u8 = 17;
}

/// One change to the table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    AddService(Service),
    /// Replaces every setting of the service (scheduler, flags, timeout, netmask, PE).
    EditService(Service),
    DeleteService(ServiceKey),
    AddDest(ServiceKey, Destination),
    /// Replaces every setting of the destination.
    EditDest(ServiceKey, Destination),
    DeleteDest(ServiceKey, IpAddr, u16),
    Flush,
    /// Zero the counters of one service, or of all.
    Zero(Option<ServiceKey>),
    SetTimeouts(Timeouts),
    StartDaemon(Daemon),
    StopDaemon(DaemonState, u32),
}

impl Request {
    pub fn op(&self) -> Op {
        match self {
            Request::AddService(_) => Op::AddService,
            Request::EditService(_) => Op::EditService,
            Request::DeleteService(_) => Op::DeleteService,
            Request::AddDest(..) => Op::AddDest,
            Request::EditDest(..) => Op::EditDest,
            Request::DeleteDest(..) => Op::DeleteDest,
            Request::Flush => Op::Flush,
            Request::Zero(_) => Op::Zero,
            Request::SetTimeouts(_) => Op::SetTimeouts,
            Request::StartDaemon(_) => Op::StartDaemon,
            Request::StopDaemon(..) => Op::StopDaemon,
        }
    }

    /// The command and its top-level attributes.
    pub fn command(&self) -> (u8, Vec<CmdAttr>) {
        use cmd::*;
        let svc = |k: &ServiceKey| CmdAttr::Service(service_key_attrs(k));
        match self {
            Request::AddService(s) => (NEW_SERVICE, vec![CmdAttr::Service(service_to_attrs(s))]),
            Request::EditService(s) => (SET_SERVICE, vec![CmdAttr::Service(service_to_attrs(s))]),
            Request::DeleteService(k) => (DEL_SERVICE, vec![svc(k)]),
            Request::AddDest(k, d) => (NEW_DEST, vec![svc(k), CmdAttr::Dest(dest_to_attrs(d))]),
            Request::EditDest(k, d) => (SET_DEST, vec![svc(k), CmdAttr::Dest(dest_to_attrs(d))]),
            Request::DeleteDest(k, addr, port) => (
                DEL_DEST,
                vec![svc(k), CmdAttr::Dest(dest_key_attrs(addr, *port))],
            ),
            Request::Flush => (FLUSH, vec![]),
            Request::Zero(k) => (ZERO, k.iter().map(svc).collect()),
            Request::SetTimeouts(t) => (
                SET_CONFIG,
                vec![
                    CmdAttr::TimeoutTcp(t.tcp),
                    CmdAttr::TimeoutTcpFin(t.tcp_fin),
                    CmdAttr::TimeoutUdp(t.udp),
                ],
            ),
            Request::StartDaemon(d) => (NEW_DAEMON, vec![CmdAttr::Daemon(daemon_to_attrs(d))]),
            Request::StopDaemon(state, syncid) => (
                DEL_DAEMON,
                vec![CmdAttr::Daemon(vec![
                    DaemonAttr::State(state.code()),
                    DaemonAttr::McastIfn(String::new()),
                    DaemonAttr::SyncId(*syncid),
                ])],
            ),
        }
    }

    pub(crate) fn encode(&self) -> (u8, Vec<u8>) {
        let mut w = AttrWriter::default();
        let cmd = self.emit(&mut w);
        (cmd, w.buf)
    }

    /// Writes the attributes [`command`](Request::command) describes and returns the command,
    /// without building them first: a batch frames hundreds of thousands of requests.
    pub(crate) fn emit(&self, w: &mut AttrWriter) -> u8 {
        use cmd::*;
        // Straight calls, so that each attribute's variant is known where it is emitted.
        let key = |w: &mut AttrWriter, k: &ServiceKey| {
            w.nest(CMD_SERVICE, |n| each_service_key_attr(k, |a| a.emit(n)));
        };
        let dest = |w: &mut AttrWriter, d: &Destination| {
            w.nest(CMD_DEST, |n| each_dest_attr(d, |a| a.emit(n)));
        };
        let service = |w: &mut AttrWriter, s: &Service| {
            w.nest(CMD_SERVICE, |n| each_service_attr(s, |a| a.emit(n)));
        };
        match self {
            Request::AddService(s) => {
                service(w, s);
                NEW_SERVICE
            }
            Request::EditService(s) => {
                service(w, s);
                SET_SERVICE
            }
            Request::DeleteService(k) => {
                key(w, k);
                DEL_SERVICE
            }
            Request::AddDest(k, d) => {
                key(w, k);
                dest(w, d);
                NEW_DEST
            }
            Request::EditDest(k, d) => {
                key(w, k);
                dest(w, d);
                SET_DEST
            }
            Request::DeleteDest(k, addr, port) => {
                key(w, k);
                w.nest(CMD_DEST, |n| each_dest_key_attr(addr, *port, |a| a.emit(n)));
                DEL_DEST
            }
            _ => {
                let (cmd, attrs) = self.command();
                attrs.iter().for_each(|a| a.emit(w));
                cmd
            }
        }
    }
}
