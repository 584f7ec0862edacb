//! Clearing a table and restoring it again (the boot unit's restart, a script's reload): large
//! runs of additions are sent services first, then destinations in the order the kernel's
//! trash of the flushed ones asks for. The table, the messages and the statuses must be
//! those of a restore in the order of the text.

use crate::{fresh, ipvsadm, lv, state, IPVSADM};

/// `services` services with 3 destinations each: TCP and UDP ones read the fast way, and IPv6,
/// fwmark and threshold lines for the general parser, so that both kinds of line are sent out
/// of the text's order.
fn rules(services: usize) -> String {
    let mut text = String::new();
    for i in 0..services {
        let (svc, dests): (String, Vec<String>) = match i % 10 {
            7 => (
                format!("-t [2001:db8::{i:x}]:443"),
                (1..=3).map(|d| format!("[2001:db8:1::{d}]:8443 -m -w {d}")).collect(),
            ),
            8 => (
                format!("-f {}", i + 1),
                (1..=3).map(|d| format!("198.51.100.{d}:0 -g -w 1 -x 9 -y 2")).collect(),
            ),
            n => (
                format!("-{} 192.0.{}.{}:80", ["t", "u"][n % 2], i / 250, i % 250 + 1),
                (1..=3).map(|d| format!("203.0.113.{d}:8080 -m -w {d}")).collect(),
            ),
        };
        text += &format!("-A {svc} -s wlc\n");
        for d in dests {
            text += &format!("-a {svc} -r {d}\n");
        }
    }
    text
}

/// The table exactly as the real ipvsadm lists it, order included, with thresholds.
fn listing() -> String {
    ipvsadm(&["-S", "-n"], None).stdout + &ipvsadm(&["-L", "-n", "--thresholds"], None).stdout
}

/// The table as the real ipvsadm saves it, each service with its destinations in their order,
/// the services sorted (their order within one of the kernel's hash chains is the order they
/// were added in, which a large restore chooses).
fn services() -> Vec<String> {
    let mut blocks: Vec<String> = Vec::new();
    for line in ipvsadm(&["-S", "-n"], None).stdout.lines() {
        match blocks.last_mut() {
            Some(block) if line.starts_with("-a ") => *block += &format!("{line}\n"),
            _ => blocks.push(format!("{line}\n")),
        }
    }
    blocks.sort();
    blocks
}

fn restore(program: &str, input: &str) {
    let out = match program {
        IPVSADM => ipvsadm(&["-R"], Some(input)),
        _ => lv(&["-R"], Some(input)),
    };
    assert_eq!((out.status, out.stderr.as_str()), (0, ""), "{program} -R");
}

fn clear(program: &str) {
    let out = match program {
        IPVSADM => ipvsadm(&["-C"], None),
        _ => lv(&["-C"], None),
    };
    assert_eq!(out.status, 0, "{program} -C: {}", out.stderr);
}

#[test]
fn restoring_after_a_clear_leaves_the_table_a_first_restore_does() {
    fresh();
    let text = rules(800);
    restore("lvsadm", &text);
    let first = listing();
    assert_eq!(first.lines().filter(|l| l.starts_with("-a ")).count(), 2400);
    for clearing in ["lvsadm", IPVSADM] {
        clear(clearing);
        restore("lvsadm", &text);
        assert_eq!(listing(), first, "{clearing} -C, then lvsadm -R");
    }

    // The unit's restart: save, clear, restore what was saved. ipvsadm doing the same from
    // the same file leaves the same table, each service's destinations in the same order.
    let saved = lv(&["-S", "-n"], None).stdout;
    clear("lvsadm");
    restore("lvsadm", &saved);
    let ours = services();
    assert_eq!(ours.len(), 800);
    clear(IPVSADM);
    restore(IPVSADM, &saved);
    assert_eq!(ours, services());
}

#[test]
fn a_restore_sent_out_of_order_reports_what_ipvsadm_reports() {
    let mut text = rules(600);
    // A destination twice, a service twice, a service the kernel refuses (no such scheduler)
    // with its destinations, and a destination of a service added later in the text.
    text += "-a -t 192.0.0.1:80 -r 203.0.113.2:8080 -m -w 5\n";
    text += "-A -u 192.0.0.2:80 -s rr\n";
    text += "-A -t 192.0.9.1:80 -s nosuch\n-a -t 192.0.9.1:80 -r 203.0.113.1:8080 -m -w 1\n";
    let late = "-a -t 192.0.9.2:80 -r 203.0.113.1:8080 -m -w 1\n-A -t 192.0.9.2:80\n";

    let first = text.lines().count() - 3;
    for (text, reordered) in [(text.clone(), true), (text.clone() + late, false)] {
        fresh();
        let theirs = crate::run(IPVSADM, &["-R"], Some(&text));
        let theirs_state = (state(), services());
        fresh();
        let ours = lv(&["-R"], Some(&text));
        // lvsadm names each refused line and exits 255 when any was (ipvsadm exits with the
        // last line's status); the messages are ipvsadm's, in the same order.
        let mut lines = Vec::new();
        let mut messages = String::new();
        for l in ours.stderr.lines() {
            let (line, message) = l
                .strip_prefix("line ")
                .and_then(|l| l.split_once(": "))
                .unwrap_or_else(|| panic!("{l:?} names no line"));
            lines.push(line.parse::<usize>().unwrap());
            messages += &format!("{message}\n");
        }
        assert_eq!(ours.status, 255);
        assert_eq!(messages, theirs.stderr, "reordered: {reordered}");
        let mut want: Vec<usize> = (first..first + 4).collect();
        if !reordered {
            want.push(first + 4);
        }
        assert_eq!(lines, want);
        assert_eq!((state(), services()), theirs_state, "reordered: {reordered}");
    }
}

#[test]
fn an_atomic_restore_sent_out_of_order_puts_the_table_back() {
    fresh();
    ipvsadm(&["-A", "-t", "198.51.100.200:80", "-s", "rr"], None);
    let before = state();
    let mut text = rules(600);
    let refused = text.lines().count() + 1;
    text += "-a -t 192.0.0.1:80 -r 203.0.113.2:8080 -m -w 5\n";
    let out = lv(&["-R", "--atomic"], Some(&text));
    assert_eq!(out.status, 255, "{}", out.stderr);
    assert_eq!(
        out.stderr,
        format!(
            "line {refused}: Destination already exists\n\
             stopped at line {refused}; the table is as it was before the restore\n"
        )
    );
    assert_eq!(state(), before);
}
