//! `lvsadm vip` and `lvsadm realserver` on the host, each test in a network namespace of its
//! own with a bridge for a LAN (this host's kernel has no veth, dummy or tunnel devices; the
//! VM suite covers those). Documentation addresses only, and nothing routes out.

#[path = "common/rig.rs"]
#[allow(dead_code)] // shared with the VM suites, which use the rest
mod rig;

use std::fs;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use hostnet::addr::{self, AddressSpec, Owner, Presence, Scope};
use hostnet::rtnl::Rtnl;
use hostnet::{IfName, Label};
use rig::{fresh_namespace, shell};

fn lab() {
    fresh_namespace().expect("a network namespace");
    shell("ip link add br0 type bridge && ip link set br0 up && ip addr add 192.0.2.2/24 dev br0")
        .expect("a bridge");
}

fn lv(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lvsadm"))
        .args(args)
        .output()
        .expect("run lvsadm")
}

fn ok(args: &[&str]) -> String {
    let out = lv(args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "lvsadm {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn refused(args: &[&str], says: &str) {
    let out = lv(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "lvsadm {args:?}: {stderr}");
    assert!(
        stderr.contains(says),
        "lvsadm {args:?} said {stderr:?}, not {says:?}"
    );
}

fn ip(args: &str) -> String {
    let out = Command::new("ip")
        .args(args.split_whitespace())
        .output()
        .expect("run ip");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn sysctl(name: &str) -> String {
    let path = format!("/proc/sys/{}", name.replace('.', "/"));
    fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .trim()
        .to_string()
}

fn set_sysctl(name: &str, value: &str) {
    let path = format!("/proc/sys/{}", name.replace('.', "/"));
    fs::write(&path, value).unwrap_or_else(|e| panic!("{path}: {e}"));
}

/// Everything set-up may touch: addresses, links, routes and the relevant sysctls.
fn snapshot() -> String {
    let mut s = ip("-o addr") + &ip("-o link") + &ip("-4 route") + &ip("-6 route");
    for dev in ["all", "default", "lo", "br0"] {
        for key in ["arp_ignore", "arp_announce", "rp_filter"] {
            let name = format!("net.ipv4.conf.{dev}.{key}");
            s += &format!("{name}={}\n", sysctl(&name));
        }
    }
    for name in ["net.ipv4.ip_forward", "net.ipv6.conf.all.forwarding"] {
        s += &format!("{name}={}\n", sysctl(name));
    }
    s
}

/// A packet socket on br0 that sees the frames this host sends.
struct Capture(OwnedFd);

impl Capture {
    fn on(dev: &str) -> Capture {
        const ETH_P_ALL: u16 = 0x0003;
        // SAFETY: plain socket calls on a zeroed sockaddr_ll.
        unsafe {
            let fd = libc::socket(
                libc::AF_PACKET,
                libc::SOCK_RAW,
                i32::from(ETH_P_ALL.to_be()),
            );
            assert!(
                fd >= 0,
                "packet socket: {}",
                std::io::Error::last_os_error()
            );
            let fd = OwnedFd::from_raw_fd(fd);
            let name = std::ffi::CString::new(dev).unwrap();
            let mut addr: libc::sockaddr_ll = std::mem::zeroed();
            addr.sll_family = libc::AF_PACKET as u16;
            addr.sll_protocol = ETH_P_ALL.to_be();
            addr.sll_ifindex = libc::if_nametoindex(name.as_ptr()) as i32;
            let len = std::mem::size_of::<libc::sockaddr_ll>() as u32;
            let rc = libc::bind(
                fd.as_raw_fd(),
                (&addr as *const libc::sockaddr_ll).cast(),
                len,
            );
            assert_eq!(rc, 0, "bind: {}", std::io::Error::last_os_error());
            Capture(fd)
        }
    }

    /// The first frame (Ethernet header included) for which `wanted` holds, within 3 s.
    fn find(&self, wanted: impl Fn(&[u8]) -> bool) -> Option<Vec<u8>> {
        let deadline = Instant::now() + Duration::from_secs(3);
        let mut buf = vec![0u8; 2048];
        while Instant::now() < deadline {
            // SAFETY: buf outlives the call; MSG_DONTWAIT keeps the loop bounded.
            let n = unsafe {
                libc::recv(
                    self.0.as_raw_fd(),
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                    libc::MSG_DONTWAIT,
                )
            };
            if n > 0 && wanted(&buf[..n as usize]) {
                return Some(buf[..n as usize].to_vec());
            }
            if n <= 0 {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        None
    }
}

/// From `ip`: /sys shows the namespace it was mounted in, not this thread's.
fn mac_of(dev: &str) -> Vec<u8> {
    let link = ip(&format!("-o link show dev {dev}"));
    let mac = link
        .split_whitespace()
        .skip_while(|w| *w != "link/ether")
        .nth(1)
        .unwrap_or_else(|| panic!("no MAC in {link}"));
    mac.split(':')
        .map(|h| u8::from_str_radix(h, 16).unwrap())
        .collect()
}

#[test]
fn vip_add_is_announced_idempotent_and_deleted() {
    lab();
    let before = snapshot();
    let capture = Capture::on("br0");
    ok(&["vip", "add", "192.0.2.60/24", "--dev", "br0:3"]);
    let arp = capture
        .find(|f| f.len() >= 42 && f[12..14] == [0x08, 0x06] && f[28..32] == [192, 0, 2, 60])
        .expect("a gratuitous ARP for the VIP");
    assert_eq!(&arp[0..6], &[0xff; 6], "broadcast");
    assert_eq!(arp[20..22], [0, 1], "an ARP request");
    assert_eq!(arp[22..28], mac_of("br0")[..], "sender hardware address");
    assert_eq!(arp[38..42], [192, 0, 2, 60], "target = sender: gratuitous");
    ok(&["vip", "add", "192.0.2.60/24", "--dev", "br0:3"]);
    let addrs = ip("-o -4 addr show dev br0");
    assert_eq!(addrs.matches("192.0.2.60/24").count(), 1, "{addrs}");
    assert!(addrs.contains("br0:3"), "label: {addrs}");

    ok(&["vip", "add", "2001:db8::60/64", "--dev", "br0"]);
    let na = capture
        .find(|f| f.len() >= 86 && f[12..14] == [0x86, 0xdd] && f[20] == 58 && f[54] == 136)
        .expect("an unsolicited neighbour advertisement");
    let vip6: std::net::Ipv6Addr = "2001:db8::60".parse().unwrap();
    assert_eq!(na[62..78], vip6.octets(), "target");
    assert_eq!(na[58] & 0x60, 0x20, "override set, solicited clear");
    assert_eq!(
        na[80..86],
        mac_of("br0")[..],
        "target link-layer address option"
    );

    let list: serde_json::Value =
        serde_json::from_str(&ok(&["vip", "list", "--json"])).expect("JSON");
    let vips = list.as_array().expect("an array");
    assert_eq!(vips.len(), 2);
    assert_eq!(vips[0]["address"], "192.0.2.60/24");
    assert_eq!(vips[0]["label"], "br0:3");
    assert_eq!(vips[0]["present"], true);
    let table = ok(&["vip", "list", "--dev", "br0"]);
    assert!(
        table.contains("192.0.2.60/24") && table.contains("present"),
        "{table}"
    );

    ok(&["vip", "del", "192.0.2.60/24", "--dev", "br0"]);
    ok(&["vip", "del", "2001:db8::60", "--dev", "br0"]);
    ok(&["vip", "del", "2001:db8::60", "--dev", "br0"]);
    assert_eq!(snapshot(), before);
    assert_eq!(ok(&["vip", "list"]), "");
}

/// The owner of `net` on br0, as the kernel reports it; None if it is not there.
fn owner_on_br0(rtnl: &Rtnl, net: &str) -> Option<Owner> {
    let net: ipnet::IpNet = net.parse().expect("a network");
    let br0 = rtnl.link(&IfName::new("br0").unwrap()).unwrap().unwrap();
    let addresses = rtnl.addresses().expect("the addresses");
    let a = addresses
        .iter()
        .find(|a| a.index == br0.index && a.net == net)?;
    Some(a.owner)
}

/// The line of `ip -o addr show dev br0` that shows `net`.
fn shown_on_br0(net: &str) -> String {
    let shown = ip("-o addr show dev br0");
    let line = shown.lines().find(|l| l.contains(net)).expect(&shown);
    line.to_string()
}

fn lvsds(net: &str) -> AddressSpec {
    AddressSpec {
        net: net.parse().expect("a network"),
        dev: IfName::new("br0").unwrap(),
        label: None,
        scope: Scope::Global,
        broadcast: None,
        owner: Owner::Lvsd,
    }
}

#[test]
fn the_address_mechanism_adds_and_removes_with_label_scope_and_mark() {
    lab();
    let rtnl = Rtnl::open().expect("rtnetlink");
    let br0 = IfName::new("br0").unwrap();
    let v4 = AddressSpec {
        net: "198.51.100.70/24".parse().unwrap(),
        dev: br0.clone(),
        label: Some(Label::new("br0:lvsd", &br0).unwrap()),
        // A secondary address in the primary's network must have its scope: another network.
        scope: Scope::Link,
        broadcast: Some("198.51.100.255".parse().unwrap()),
        owner: Owner::Lvsd,
    };
    assert_eq!(addr::ensure_present(&rtnl, &v4).unwrap(), Presence::Added);
    assert_eq!(
        addr::ensure_present(&rtnl, &v4).unwrap(),
        Presence::AlreadyThere { owner: Owner::Lvsd }
    );
    let line = shown_on_br0("198.51.100.70/24");
    assert!(line.contains("brd 198.51.100.255"), "{line}");
    assert!(line.contains("scope link"), "{line}");
    assert!(line.contains("br0:lvsd"), "{line}");
    assert_eq!(owner_on_br0(&rtnl, "198.51.100.70/24"), Some(Owner::Lvsd));

    let v6 = AddressSpec {
        net: "2001:db8::70/64".parse().unwrap(),
        scope: Scope::Global,
        owner: Owner::Lvsadm,
        label: None,
        broadcast: None,
        ..v4.clone()
    };
    assert_eq!(addr::ensure_present(&rtnl, &v6).unwrap(), Presence::Added);
    let line = shown_on_br0("2001:db8::70/64");
    assert!(line.contains("scope global"), "{line}");
    assert_eq!(owner_on_br0(&rtnl, "2001:db8::70/64"), Some(Owner::Lvsadm));
    for not_for_ipv6 in [
        AddressSpec {
            label: v4.label.clone(),
            ..v6.clone()
        },
        AddressSpec {
            scope: Scope::Host,
            ..v6.clone()
        },
        AddressSpec {
            broadcast: v4.broadcast,
            ..v6.clone()
        },
    ] {
        assert!(addr::ensure_present(&rtnl, &not_for_ipv6).is_err());
    }

    let other_prefix = AddressSpec {
        net: "198.51.100.70/25".parse().unwrap(),
        ..v4.clone()
    };
    assert!(
        addr::ensure_present(&rtnl, &other_prefix).is_err(),
        "another prefix"
    );
    let removed = addr::ensure_absent(&rtnl, v4.net.addr(), None, &br0).unwrap();
    assert_eq!(removed.len(), 1);
    addr::ensure_absent(&rtnl, v6.net.addr(), Some(64), &br0).unwrap();
    assert!(addr::ensure_absent(&rtnl, v6.net.addr(), None, &br0)
        .unwrap()
        .is_empty());
    assert_eq!(owner_on_br0(&rtnl, "198.51.100.70/24"), None);
    assert_eq!(owner_on_br0(&rtnl, "2001:db8::70/64"), None);
}

#[test]
fn lvsds_addresses_are_not_lvsadms_vips() {
    lab();
    let rtnl = Rtnl::open().expect("rtnetlink");
    ok(&["vip", "add", "192.0.2.61/24", "--dev", "br0"]);
    assert_eq!(owner_on_br0(&rtnl, "192.0.2.61/24"), Some(Owner::Lvsadm));
    addr::ensure_present(&rtnl, &lvsds("192.0.2.60/24")).expect("lvsd's address");

    let list = ok(&["vip", "list"]);
    assert!(!list.contains("192.0.2.60"), "{list}");
    assert!(list.contains("192.0.2.61/24"), "{list}");
    let says = "192.0.2.60/24 on br0 was added by lvsd: lvsadm leaves it alone";
    refused(&["vip", "del", "192.0.2.60/24", "--dev", "br0"], says);
    refused(&["vip", "del", "192.0.2.60", "--dev", "br0"], says);
    refused(&["vip", "add", "192.0.2.60/24", "--dev", "br0"], says);
    assert_eq!(owner_on_br0(&rtnl, "192.0.2.60/24"), Some(Owner::Lvsd));
    assert!(!ok(&["vip", "list"]).contains("192.0.2.60"));

    // lvsadm's VIP taken off by hand and then added by lvsd: no longer lvsadm's.
    shell("ip addr del 192.0.2.61/24 dev br0").expect("ip addr del");
    addr::ensure_present(&rtnl, &lvsds("192.0.2.61/24")).expect("lvsd's address");
    let list = ok(&["vip", "list"]);
    let line = list
        .lines()
        .find(|l| l.contains("192.0.2.61/24"))
        .expect(&list);
    assert!(line.contains("missing"), "{line}");
    refused(
        &["vip", "del", "192.0.2.61/24", "--dev", "br0"],
        "was added by lvsd",
    );
    assert_eq!(owner_on_br0(&rtnl, "192.0.2.61/24"), Some(Owner::Lvsd));
}

#[test]
fn vip_forwarding_goes_back_with_the_last_vip() {
    lab();
    set_sysctl("net.ipv4.ip_forward", "0");
    let before = snapshot();
    ok(&["vip", "add", "192.0.2.60", "--dev", "br0", "--forward"]);
    ok(&["vip", "add", "192.0.2.61", "--dev", "br0", "--forward"]);
    assert_eq!(sysctl("net.ipv4.ip_forward"), "1");
    ok(&["vip", "del", "192.0.2.60", "--dev", "br0"]);
    assert_eq!(sysctl("net.ipv4.ip_forward"), "1", "one VIP still needs it");
    ok(&["vip", "del", "192.0.2.61/32", "--dev", "br0"]);
    assert_eq!(snapshot(), before);
}

#[test]
fn vip_refuses_bad_names_and_changes_nothing() {
    lab();
    let before = snapshot();
    refused(
        &["vip", "add", "192.0.2.60/24", "--dev", "../../x"],
        "contains '/'",
    );
    refused(
        &["vip", "add", "192.0.2.60/24", "--dev", "br0:../x"],
        "contains '/'",
    );
    refused(&["vip", "add", "192.0.2.60/24", "--dev", "all"], "reserved");
    refused(
        &[
            "vip",
            "add",
            "192.0.2.60/24",
            "--dev",
            "br0",
            "--label",
            "eth0:1",
        ],
        "must begin",
    );
    refused(
        &[
            "vip",
            "add",
            "192.0.2.60/24",
            "--dev",
            "br0:1",
            "--label",
            "br0:2",
        ],
        "not both",
    );
    refused(&["vip", "add", "2001:db8::1/64", "--dev", "br0:1"], "IPv4");
    refused(
        &["vip", "add", "192.0.2.60/24", "--dev", "nope0"],
        "no network interface named nope0",
    );
    refused(
        &["vip", "add", "192.0.2.60/33", "--dev", "br0"],
        "ADDRESS/PREFIX",
    );
    refused(
        &["vip", "add", "192.0.2.2/25", "--dev", "br0"],
        "already on br0 as 192.0.2.2/24",
    );
    refused(
        &["vip", "del", "192.0.2.2/25", "--dev", "br0"],
        "leave out the prefix",
    );
    assert_eq!(snapshot(), before);
}

#[test]
fn realserver_setup_is_idempotent_and_teardown_restores_everything() {
    lab();
    set_sysctl("net.ipv4.conf.all.arp_announce", "1");
    // An interface whose own value would win over all=1 (the kernel takes the larger).
    set_sysctl("net.ipv4.conf.br0.arp_ignore", "3");
    let before = snapshot();
    ok(&["realserver", "setup", "192.0.2.60", "2001:db8::60"]);
    let lo = ip("-o addr show dev lo");
    assert!(lo.contains("192.0.2.60/32"), "{lo}");
    assert!(
        lo.contains("2001:db8::60/128") && lo.contains("deprecated"),
        "{lo}"
    );
    assert_eq!(sysctl("net.ipv4.conf.all.arp_ignore"), "1");
    assert_eq!(sysctl("net.ipv4.conf.all.arp_announce"), "2");
    assert_eq!(sysctl("net.ipv4.conf.br0.arp_ignore"), "1");
    let after_setup = snapshot();
    ok(&["realserver", "setup", "192.0.2.60", "2001:db8::60"]);
    assert_eq!(snapshot(), after_setup, "a second setup changes nothing");

    let status = ok(&["realserver", "status"]);
    assert!(
        status.contains("192.0.2.60") && status.contains("ok"),
        "{status}"
    );
    assert!(!status.contains("WRONG"), "{status}");

    ok(&["realserver", "teardown", "2001:db8::60"]);
    assert_eq!(
        sysctl("net.ipv4.conf.all.arp_ignore"),
        "1",
        "192.0.2.60 still needs it"
    );
    ok(&["realserver", "teardown"]);
    assert_eq!(snapshot(), before);
    ok(&["realserver", "teardown", "192.0.2.60"]);
}

#[test]
fn realserver_status_names_arp_ignore_left_at_zero() {
    lab();
    // Configured by hand the way a guide's first half does, forgetting the sysctls.
    shell("ip addr add 192.0.2.60/32 dev lo").unwrap();
    let out = lv(&["realserver", "status"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("WRONG") && text.contains("YES (br0)"),
        "{text}"
    );
    assert!(text.contains("arp_ignore is 0"), "{text}");
    assert!(
        text.contains("fix: sysctl -w net.ipv4.conf.all.arp_ignore=1"),
        "{text}"
    );

    let out = lv(&["realserver", "status", "--json", "192.0.2.60"]);
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(report["ok"], false);
    assert_eq!(report["vips"][0]["answers_on"][0], "br0");

    ok(&["realserver", "setup", "192.0.2.60"]);
    let out = lv(&["realserver", "status", "192.0.2.60"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    let out = lv(&["realserver", "status", "192.0.2.99"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("not an address of this host"));
}

#[test]
fn realserver_refuses_what_it_cannot_do_well() {
    lab();
    let before = snapshot();
    refused(
        &["realserver", "setup", "192.0.2.2"],
        "remove it from br0 first",
    );
    refused(
        &["realserver", "setup", "192.0.2.60", "--dev", "br0"],
        "does not suit dr mode",
    );
    refused(
        &["realserver", "setup", "192.0.2.60", "--dev", "../../x"],
        "contains '/'",
    );
    refused(&["realserver", "setup", "127.0.0.2"], "cannot be a VIP");
    refused(
        &[
            "realserver",
            "setup",
            "192.0.2.60",
            "2001:db8::60",
            "--mode",
            "tun",
            "--dev",
            "tunl9",
        ],
        "different tunnel devices",
    );
    assert_eq!(snapshot(), before);
}

#[test]
fn a_failed_step_undoes_the_earlier_ones() {
    lab();
    let before = snapshot();
    // arp_announce cannot be written (a read-only file over it, in a mount namespace of the
    // command's own), so setup fails after adding the address and setting arp_ignore.
    let script = format!(
        "echo 0 > /tmp/lvsadm-ro-$$ && mount --bind /tmp/lvsadm-ro-$$ {f} && \
         mount -o remount,bind,ro {f} && {lvsadm} realserver setup 192.0.2.60; \
         echo status=$?; rm -f /tmp/lvsadm-ro-$$",
        f = "/proc/sys/net/ipv4/conf/all/arp_announce",
        lvsadm = env!("CARGO_BIN_EXE_lvsadm"),
    );
    let out = Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c", &script])
        .output()
        .expect("unshare");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stdout.contains("status=2"), "{stdout}{stderr}");
    assert!(
        stderr.contains("arp_announce") && stderr.contains("nothing was changed"),
        "{stderr}"
    );
    assert_eq!(snapshot(), before);
}

/// A NAT real server on br0's network, the director's inside address 192.0.2.1 (and
/// 2001:db8::1), with default routes of its own through another router.
fn nat_lab() {
    lab();
    shell(
        "ip addr add 2001:db8::2/64 dev br0 nodad && ip route add default via 192.0.2.254 && \
         ip -6 route add default via 2001:db8::fe metric 512",
    )
    .expect("the real server's own routes");
}

/// `lvsadm realserver setup --mode nat` and `more`.
fn nat_args<'a>(more: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["realserver", "setup", "--mode", "nat"];
    args.extend_from_slice(more);
    args
}

fn nat_setup(more: &[&str]) {
    ok(&nat_args(more));
}

#[test]
fn realserver_nat_replaces_the_default_routes_and_teardown_puts_them_back() {
    nat_lab();
    let before = snapshot();
    let setup = ["--gateway", "192.0.2.1", "--gateway", "2001:db8::1"];
    nat_setup(&setup);
    assert_eq!(
        ip("-4 route show default").trim(),
        "default via 192.0.2.1 dev br0 proto static"
    );
    let v6 = ip("-6 route show default");
    assert!(
        v6.contains("via 2001:db8::1") && !v6.contains("2001:db8::fe"),
        "{v6}"
    );
    let after_setup = snapshot();
    nat_setup(&setup);
    assert_eq!(snapshot(), after_setup, "a second setup changes nothing");

    let status = ok(&["realserver", "status"]);
    assert!(
        status.contains("203.0.113.1: via 192.0.2.1") && !status.contains("WRONG"),
        "{status}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&ok(&["realserver", "status", "--json"])).expect("JSON");
    assert_eq!(report["ok"], true);
    assert_eq!(report["return_routes"][0]["via"], "192.0.2.1");
    assert_eq!(report["return_routes"][1]["via"], "2001:db8::1");

    ok(&["realserver", "teardown"]);
    assert_eq!(snapshot(), before);
}

#[test]
fn realserver_nat_leaves_no_default_route_where_there_was_none() {
    lab();
    let before = snapshot();
    nat_setup(&["--gateway", "192.0.2.1"]);
    // Another director: the route through the first one is not put back at teardown.
    nat_setup(&["--gateway", "192.0.2.3"]);
    assert_eq!(
        ip("-4 route show default").trim(),
        "default via 192.0.2.3 dev br0 proto static"
    );
    ok(&["realserver", "teardown"]);
    assert_eq!(snapshot(), before);
    assert_eq!(ip("-4 route show default"), "");
}

#[test]
fn realserver_nat_to_client_networks_keeps_the_default_route_and_status_names_a_wrong_one() {
    nat_lab();
    let before = snapshot();
    nat_setup(&[
        "--gateway",
        "192.0.2.1",
        "--to",
        "198.51.100.0/24",
        "--to",
        "203.0.113.0/24",
    ]);
    assert_eq!(
        ip("-4 route show default").trim(),
        "default via 192.0.2.254 dev br0"
    );
    assert!(ok(&["realserver", "status"]).contains("198.51.100.1: via 192.0.2.1"));

    shell("ip route del 198.51.100.0/24").unwrap();
    let out = lv(&["realserver", "status"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("replies to 198.51.100.1 leave via 192.0.2.254 on br0, not through the director 192.0.2.1"),
        "{text}"
    );
    assert!(
        text.contains(
            "fix: lvsadm realserver setup --mode nat --gateway 192.0.2.1 --to 198.51.100.0/24"
        ),
        "{text}"
    );
    // The same check of a route set up by hand, named on the command line.
    let out = lv(&[
        "realserver",
        "status",
        "--gateway",
        "192.0.2.1",
        "--to",
        "203.0.113.0/24",
    ]);
    assert_eq!(out.status.code(), Some(0));

    ok(&["realserver", "teardown"]);
    assert_eq!(snapshot(), before);
}

#[test]
fn realserver_nat_refuses_what_would_not_bring_replies_back() {
    lab();
    let before = snapshot();
    let nat = |more: &[&str], says: &str| refused(&nat_args(more), says);
    nat(
        &[],
        "NAT mode needs the director's inside address: add --gateway DIP",
    );
    nat(
        &["--gateway", "203.0.113.1"],
        "the gateway 203.0.113.1 is not on a directly connected network of this host: \
         there is no route to it",
    );
    shell("ip route add 203.0.113.0/24 via 192.0.2.254").unwrap();
    let before_routed = snapshot();
    nat(
        &["--gateway", "203.0.113.1"],
        "the kernel reaches it through 192.0.2.254",
    );
    nat(&["--gateway", "2001:db8::1"], "there is no route to it");
    nat(
        &["--gateway", "192.0.2.2"],
        "192.0.2.2 is an address of this host",
    );
    nat(
        &["--gateway", "192.0.2.1", "--to", "192.0.2.0/24"],
        "192.0.2.0/24 is a directly connected network of this host (on br0)",
    );
    nat(
        &["192.0.2.60", "--gateway", "192.0.2.1"],
        "does not hold the VIP",
    );
    refused(
        &[
            "realserver",
            "setup",
            "192.0.2.60",
            "--gateway",
            "192.0.2.1",
        ],
        "--gateway and --to are for --mode nat",
    );
    assert_eq!(snapshot(), before_routed);
    shell("ip route del 203.0.113.0/24").unwrap();
    assert_eq!(snapshot(), before);
}
