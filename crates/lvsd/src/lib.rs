//! lvsd's library: what the daemon and its tests share. [`probe`] performs one health check
//! of one real server; `lvsd genhash` is [`probe::genhash`].

pub mod probe;
