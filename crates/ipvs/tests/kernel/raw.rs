//! Real kernel replies, parsed into the attribute enums and emitted back, must come out byte
//! for byte as the kernel sent them: nothing is lost, not even attributes we do not know.

use ipvs::attr::{emit_attrs, parse_attrs, service_key_attrs, CmdAttr, InfoAttr};
use ipvs::cmd;

use crate::rig::{fresh, ipvsadm, ipvsadm_restore, sh};

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn every_reply_emits_back_identically() {
    let mut ipvs = fresh();
    sh(&["/usr/bin/ip", "link", "add", "s0", "type", "dummy"]);
    sh(&["/usr/bin/ip", "link", "set", "s0", "up"]);
    ipvsadm_restore(
        "-A -t 192.0.2.1:80 -s rr -p 60 -M 255.255.255.0 --pe sip\n\
         -a -t 192.0.2.1:80 -r 198.51.100.1:8080 -m -w 3 -x 10 -y 2\n\
         -a -t 192.0.2.1:80 -r 198.51.100.4:80 -i --tun-type gue --tun-port 6080 --tun-csum\n\
         -A -u [2001:db8::1]:53 -s sh -b sh-port -o\n\
         -a -u [2001:db8::1]:53 -r [2001:db8::2]:53 -g\n\
         -A -f 7 -6 -s mh\n",
    );
    ipvsadm(&[
        "--start-daemon",
        "master",
        "--mcast-interface",
        "s0",
        "--syncid",
        "3",
        "--mcast-port",
        "8850",
    ]);

    let mut replies = Vec::new();
    replies.extend(ipvs.raw(cmd::GET_SERVICE, &[], true).unwrap());
    for svc in ipvs.services().unwrap() {
        let key = CmdAttr::Service(service_key_attrs(&svc.key));
        replies.extend(ipvs.raw(cmd::GET_DEST, &[key], true).unwrap());
    }
    replies.extend(ipvs.raw(cmd::GET_DAEMON, &[], true).unwrap());
    replies.extend(ipvs.raw(cmd::GET_CONFIG, &[], false).unwrap());
    assert!(replies.len() >= 3 + 3 + 1 + 1, "{replies:?}");
    for r in &replies {
        let back = emit_attrs(&parse_attrs::<CmdAttr>(&r.attrs).unwrap());
        assert_eq!(hex(&back), hex(&r.attrs), "command {}", r.cmd);
        // What the fixtures in the unit tests were captured from.
        println!("reply cmd={} attrs={}", r.cmd, hex(&r.attrs));
    }
    let info = ipvs.raw(cmd::GET_INFO, &[], false).unwrap();
    let back = emit_attrs(&parse_attrs::<InfoAttr>(&info[0].attrs).unwrap());
    assert_eq!(back, info[0].attrs);
    println!("reply cmd={} attrs={}", info[0].cmd, hex(&info[0].attrs));
    ipvsadm(&["--stop-daemon", "master"]);
}
