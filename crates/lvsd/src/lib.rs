//! lvsd's library: what the daemon and its tests share. [`args`] is keepalived's command
//! line (parsing, help and manual page from one table); [`probe`] performs one health check
//! of one real server; `lvsd genhash` is [`probe::genhash`].

pub mod args;
pub mod probe;
