//! Which network namespace the calling thread is in, as a number that names no other: the
//! kernel's cookie, never reused (an inode number can be, once the namespace is gone).

use std::io;
use std::os::fd::AsRawFd;

/// The calling thread's network namespace's cookie.
pub fn cookie() -> io::Result<u64> {
    const SO_NETNS_COOKIE: i32 = 71;
    let sock = socket2::Socket::new(socket2::Domain::UNIX, socket2::Type::DGRAM, None)?;
    let mut cookie: u64 = 0;
    let mut len = std::mem::size_of::<u64>() as libc::socklen_t;
    // SAFETY: the socket is open; cookie and len outlive the call and len is cookie's size.
    // Neither nix nor socket2 has this option.
    let rc = unsafe {
        libc::getsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            SO_NETNS_COOKIE,
            (&mut cookie as *mut u64).cast(),
            &mut len,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(cookie)
}

#[cfg(test)]
mod tests {
    /// Two threads of one namespace see one cookie; it is not zero (the kernel's unset value).
    #[test]
    fn one_namespace_one_cookie() {
        let here = super::cookie().unwrap();
        let there = std::thread::spawn(super::cookie).join().unwrap().unwrap();
        assert_eq!(here, there);
        assert_ne!(here, 0);
    }
}
