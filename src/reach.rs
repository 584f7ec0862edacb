//! Reaching IPVS for lvsadm's own commands: the client opened as ipvsadm opens it (loading
//! the module if need be), with ipvsadm's message when that fails, so that every command says
//! the same about a missing or forbidden IPVS.

use anyhow::Result;
use ipvs::Client;

use crate::ipvsadm::cannot_initialize;

pub fn open() -> Result<Client> {
    Client::open()
        .map(|(client, _)| client)
        .map_err(|e| cannot_initialize(e).into_error())
}
