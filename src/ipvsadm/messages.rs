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

/// The C library's text for an errno, as ipvsadm prints it: the standard library takes it
/// from strerror_r and adds " (os error N)", which is taken off again.
fn c_strerror(errno: i32) -> String {
    let text = std::io::Error::from_raw_os_error(errno).to_string();
    let suffix = format!(" (os error {errno})");
    match text.strip_suffix(&suffix) {
        Some(plain) => plain.to_string(),
        None => text,
    }
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
    fn c_library_texts_without_rusts_suffix() {
        assert_eq!(c_strerror(libc::ENOENT), "No such file or directory");
        assert_eq!(c_strerror(libc::EBUSY), "Device or resource busy");
        assert_eq!(c_strerror(4000), "Unknown error 4000");
    }

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
