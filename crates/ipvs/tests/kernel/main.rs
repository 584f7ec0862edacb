//! The library against the real kernel. These tests need IPVS: they run inside the test VM
//! (`tests/vm/suite`), each in a network namespace of its own, with the real ipvsadm 1.31 as
//! the oracle for what the kernel holds.

mod daemons;
mod dests;
mod raw;
mod rig;
mod services;
mod traffic;
