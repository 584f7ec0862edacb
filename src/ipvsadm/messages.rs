//! The wording of kernel failures, as ipvsadm's `ipvs_strerror` gives it: some errors read
//! differently depending on the operation that met them.

use ipvs::{Error, Op};

use super::failure::Failure;

pub fn describe(err: &Error) -> String {
    match err.errno() {
        Some(errno) => strerror(err.op(), errno),
        None => err.to_string(),
    }
}

pub fn strerror(op: Op, errno: i32) -> String {
    use libc::*;
    let specific = match (op, errno) {
        (Op::AddService, EEXIST) => Some("Service already exists"),
        (Op::AddService | Op::EditService, ENOENT) => {
            Some("Scheduler or persistence engine not found")
        }
        (Op::EditService | Op::DeleteService | Op::Zero, ESRCH) => Some("No such service"),
        (Op::AddDest | Op::EditDest | Op::DeleteDest, ESRCH) => Some("Service not defined"),
        (Op::AddDest, EEXIST) => Some("Destination already exists"),
        (Op::EditDest | Op::DeleteDest, ENOENT) => Some("No such destination"),
        (Op::StartDaemon, EEXIST) => Some("Daemon has already run"),
        (Op::StopDaemon, ESRCH) => Some("No daemon is running"),
        (Op::GetServices | Op::GetDests | Op::GetService, ESRCH) => Some("No such service"),
        _ => None,
    };
    let generic = match errno {
        EPERM => Some("Permission denied (you must be root)"),
        EINVAL => {
            Some("Invalid operation.  Possibly wrong module version, address not unicast, ...")
        }
        ENOPROTOOPT => Some("Protocol not available"),
        ENOMEM => Some("Memory allocation problem"),
        EOPNOTSUPP => Some("Operation not supported with IPv6"),
        EAFNOSUPPORT => Some("Operation not supported with specified address family"),
        EMSGSIZE => Some("Module is wrong version"),
        _ => None,
    };
    match specific.or(generic) {
        Some(s) => s.to_string(),
        None => c_strerror(errno),
    }
}

/// The C library's text for an errno (Rust's adds " (os error N)").
fn c_strerror(errno: i32) -> String {
    let mut buf = [0 as libc::c_char; 256];
    // SAFETY: the buffer is writable and its length is passed; the libc crate binds the POSIX
    // strerror_r, which NUL-terminates within it on success.
    let rc = unsafe { libc::strerror_r(errno, buf.as_mut_ptr(), buf.len()) };
    if rc != 0 {
        return format!("Unknown error {errno}");
    }
    // SAFETY: see above.
    unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) }
        .to_string_lossy()
        .into_owned()
}

/// A change the kernel refused: ipvsadm's status for it and its message.
pub fn kernel(err: Error) -> Failure {
    Failure::new(255, describe(&err))
}

/// ipvsadm's message when IPVS cannot be reached. ipvsadm asks about the module even when the
/// kernel said who may not; lvsadm says what to do instead.
pub fn cannot_initialize(err: Error) -> Failure {
    let reason = err.errno().map_or_else(
        || err.to_string(),
        |errno| strerror(ipvs::Op::GetInfo, errno),
    );
    let hint = match err.errno() {
        Some(libc::EPERM) => {
            "IPVS takes changes and listings only from root (CAP_NET_ADMIN): run this as root"
        }
        _ => "Are you sure that IP Virtual Server is built in the kernel or as module?",
    };
    Failure::new(2, format!("Can't initialize ipvs: {reason}\n{hint}"))
}


#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wording_depends_on_the_operation() {
        assert_eq!(strerror(Op::DeleteService, libc::ESRCH), "No such service");
        assert_eq!(strerror(Op::DeleteDest, libc::ESRCH), "Service not defined");
        assert_eq!(
            strerror(Op::AddDest, libc::ERANGE),
            "Numerical result out of range"
        );
        assert_eq!(
            strerror(Op::Flush, libc::ENOENT),
            "No such file or directory"
        );
    }
}
