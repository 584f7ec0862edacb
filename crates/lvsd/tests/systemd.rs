//! lvsd under systemd's `Type=notify`: it says READY=1 once its instances have started,
//! RELOADING=1 then READY=1 around a SIGHUP, and STOPPING=1 at SIGTERM, on $NOTIFY_SOCKET.
//! Runs lvsd -P in a network namespace of its own (needs root).

use std::os::unix::net::UnixDatagram;
use std::process::{Command, Stdio};
use std::time::Duration;

fn next(socket: &UnixDatagram) -> String {
    let mut buf = [0u8; 256];
    let n = socket
        .recv(&mut buf)
        .expect("lvsd said nothing on NOTIFY_SOCKET within 10 s");
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

#[test]
fn lvsd_tells_systemd_when_it_is_ready_reloading_and_stopping() {
    let work = std::env::temp_dir().join(format!("lvsd-systemd-{}", std::process::id()));
    std::fs::create_dir_all(&work).unwrap();
    let conf = work.join("keepalived.conf");
    std::fs::write(
        &conf,
        "vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 51\n    priority 100\n    virtual_ipaddress {\n        192.0.2.100/32\n    }\n}\n",
    )
    .unwrap();
    let path = work.join("notify");
    let socket = UnixDatagram::bind(&path).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let script = format!(
        "ip link set lo up && ip link add eth0 type bridge && ip addr add 192.0.2.1/24 dev eth0 \
         && ip link set eth0 up && exec {} -P -n -G -f {} -p {} --control {}",
        env!("CARGO_BIN_EXE_lvsd"),
        conf.display(),
        work.join("pid").display(),
        work.join("control").display()
    );
    let mut child = Command::new("unshare")
        .args(["--net", "--", "sh", "-c", &script])
        .env("NOTIFY_SOCKET", &path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run unshare (the test needs root)");
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    let said = next(&socket);
    assert_eq!(said, "READY=1");
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGHUP).unwrap();
    assert_eq!(next(&socket), "RELOADING=1");
    assert_eq!(next(&socket), "READY=1");
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    assert_eq!(next(&socket), "STOPPING=1");
    let status = child.wait().unwrap();
    assert!(status.success(), "lvsd ended with {status}");
    let _ = std::fs::remove_dir_all(&work);
}
