//! What keepalived looks up on the host while it checks a configuration and the reader
//! leaves to its caller: the interfaces that exist.

/// The network interfaces of the namespace lvsd runs in.
pub fn interfaces() -> Option<Vec<String>> {
    let list = nix::net::if_::if_nameindex().ok()?;
    Some(
        list.iter()
            .filter_map(|i| i.name().to_str().ok().map(str::to_string))
            .collect(),
    )
}
