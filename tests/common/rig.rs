//! The rig the VM suites share: a fresh network namespace per test, and programs run in it
//! with their output, status and (optionally) another user or a stand-in connection file.

use std::ffi::CString;
use std::io::Write;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, Stdio};

pub const IPVSADM: &str = "/usr/sbin/ipvsadm";

pub fn lvsadm() -> String {
    std::env::var("LVSADM").unwrap_or_else(|_| "/work/bin/lvsadm".to_string())
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub stdout: String,
    pub stderr: String,
    pub status: i32,
}

#[derive(Default)]
pub struct Spawn<'a> {
    pub program: &'a str,
    pub args: &'a [String],
    pub stdin: Option<&'a str>,
    pub env: &'a [(String, String)],
    pub conn: Option<&'a str>,
    /// Run as this user and group instead of root.
    pub uid: Option<u32>,
}

pub fn spawn(s: &Spawn) -> Result<Outcome, String> {
    let mut cmd = Command::new(s.program);
    cmd.arg0("ipvsadm")
        .args(s.args)
        .stdin(if s.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in s.env {
        cmd.env(k, v);
    }
    if let Some(file) = s.conn {
        let src = CString::new(file).map_err(|e| e.to_string())?;
        let dst = c"/proc/net/ip_vs_conn";
        let root = c"/";
        // SAFETY: only async-signal-safe system calls run between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                let fail = || Err(std::io::Error::last_os_error());
                if libc::unshare(libc::CLONE_NEWNS) != 0 {
                    return fail();
                }
                let private = libc::MS_REC | libc::MS_PRIVATE;
                if libc::mount(
                    std::ptr::null(),
                    root.as_ptr(),
                    std::ptr::null(),
                    private,
                    std::ptr::null(),
                ) != 0
                {
                    return fail();
                }
                if libc::mount(
                    src.as_ptr(),
                    dst.as_ptr(),
                    std::ptr::null(),
                    libc::MS_BIND,
                    std::ptr::null(),
                ) != 0
                {
                    return fail();
                }
                Ok(())
            });
        }
    }
    if let Some(uid) = s.uid {
        cmd.uid(uid).gid(uid);
    }
    let mut child = cmd.spawn().map_err(|e| format!("{}: {e}", s.program))?;
    if let Some(input) = s.stdin {
        let mut pipe = child.stdin.take().ok_or("no stdin pipe")?;
        // A tool may exit without reading its input; that is not the test's failure.
        let _ = pipe.write_all(input.as_bytes());
    }
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    let status = out
        .status
        .code()
        .unwrap_or_else(|| 128 + out.status.signal().unwrap_or(0));
    Ok(Outcome {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        status,
    })
}

pub fn shell(cmd: &str) -> Result<(), String> {
    let out = Command::new("/bin/sh")
        .args(["-c", cmd])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "setup step `{cmd}` failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

pub fn fresh_namespace() -> Result<(), String> {
    // SAFETY: the suite is single-threaded; unshare moves it into an empty namespace.
    if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
        return Err(format!("unshare: {}", std::io::Error::last_os_error()));
    }
    loopback_up()
}

/// `ip link set lo up`, without the cost of starting a program: the kernel rejects
/// destinations whose address it cannot route, and a namespace without lo routes nothing.
fn loopback_up() -> Result<(), String> {
    let fail = |what: &str| Err(format!("{what}: {}", std::io::Error::last_os_error()));
    // SAFETY: plain socket and ioctl calls on a zeroed ifreq naming "lo".
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
        if fd < 0 {
            return fail("socket");
        }
        let mut req: libc::ifreq = std::mem::zeroed();
        for (dst, src) in req.ifr_name.iter_mut().zip(b"lo") {
            *dst = *src as libc::c_char;
        }
        let ok = libc::ioctl(fd, libc::SIOCGIFFLAGS, &mut req) == 0 && {
            req.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
            libc::ioctl(fd, libc::SIOCSIFFLAGS, &req) == 0
        };
        libc::close(fd);
        if ok {
            Ok(())
        } else {
            fail("bringing lo up")
        }
    }
}
