//! The library's error: which operation failed and why, with the kernel's errno when the
//! kernel refused, so that a front end can word it as it likes (ipvsadm's messages depend on
//! both).

use std::fmt;
use std::io;

use crate::wire::DecodeError;

/// An operation of the IPVS interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    Connect,
    ResolveFamily,
    GetInfo,
    AddService,
    EditService,
    DeleteService,
    GetService,
    GetServices,
    AddDest,
    EditDest,
    DeleteDest,
    GetDests,
    Flush,
    Zero,
    SetTimeouts,
    GetTimeouts,
    StartDaemon,
    StopDaemon,
    GetDaemons,
    /// A request sent through [`Client::raw`](crate::Client::raw).
    Raw,
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Op::Connect => "opening a generic netlink socket",
            Op::ResolveFamily => "looking up the IPVS netlink family",
            Op::GetInfo => "reading IPVS information",
            Op::AddService => "adding a service",
            Op::EditService => "editing a service",
            Op::DeleteService => "deleting a service",
            Op::GetService => "reading a service",
            Op::GetServices => "listing services",
            Op::AddDest => "adding a destination",
            Op::EditDest => "editing a destination",
            Op::DeleteDest => "deleting a destination",
            Op::GetDests => "listing destinations",
            Op::Flush => "flushing the table",
            Op::Zero => "zeroing counters",
            Op::SetTimeouts => "setting timeouts",
            Op::GetTimeouts => "reading timeouts",
            Op::StartDaemon => "starting a sync daemon",
            Op::StopDaemon => "stopping a sync daemon",
            Op::GetDaemons => "listing sync daemons",
            Op::Raw => "sending a raw IPVS request",
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The kernel answered the request with an error.
    #[error("{op}: {}", io::Error::from_raw_os_error(*errno))]
    Kernel { op: Op, errno: i32 },
    /// The socket failed (sending, receiving, or creating it).
    #[error("{op}: {source}")]
    Io {
        op: Op,
        #[source]
        source: io::Error,
    },
    /// The kernel's reply could not be understood.
    #[error("{op}: {source}")]
    Decode {
        op: Op,
        #[source]
        source: DecodeError,
    },
    /// This kernel has no `IPVS` generic-netlink family: IPVS is not built in or not loaded.
    #[error("the kernel has no IPVS generic netlink family (is the ip_vs module loaded?)")]
    NoFamily,
    /// The receive buffer overflowed during a batch, so the outcome of these requests is not
    /// known; the batch stopped sending.
    #[error("{op}: outcome unknown, the netlink receive buffer overflowed")]
    Unknown { op: Op },
    /// Not sent: an earlier request of the batch failed and the batch was told to stop there.
    #[error("{op}: not sent, an earlier request failed")]
    NotSent { op: Op },
}

impl Error {
    /// The operation that failed.
    pub fn op(&self) -> Op {
        match self {
            Error::Kernel { op, .. }
            | Error::Io { op, .. }
            | Error::Decode { op, .. }
            | Error::Unknown { op }
            | Error::NotSent { op } => *op,
            Error::NoFamily => Op::ResolveFamily,
        }
    }

    /// The errno behind the failure, if there is one. A missing IPVS family reads as
    /// `ENOPROTOOPT`, as the kernel's socket-option interface reports it.
    pub fn errno(&self) -> Option<i32> {
        match self {
            Error::Kernel { errno, .. } => Some(*errno),
            Error::Io { source, .. } => source.raw_os_error(),
            Error::NoFamily => Some(libc::ENOPROTOOPT),
            _ => None,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
