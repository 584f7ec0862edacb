//! The requests that change the IPVS table, and how each becomes a generic-netlink command.

use std::net::IpAddr;

use crate::attr::{
    daemon_to_attrs, dest_key_attrs, dest_to_attrs, emit_attrs, service_key_attrs,
    service_to_attrs, CmdAttr, DaemonAttr,
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
        let (cmd, attrs) = self.command();
        (cmd, emit_attrs(&attrs))
    }
}
