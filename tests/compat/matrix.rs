//! Every cell of ipvsadm's command × option matrix: each command with the options it must
//! have, plus one more option. Which message wins (or whether the command goes through)
//! depends on the cell, the option's number and the post-parse checks.

use crate::cases::Case;

const COMMANDS: &[&str] = &[
    "-A -t 10.0.0.1:8080",
    "-E -t 10.0.0.1:80",
    "-D -t 10.0.0.1:80",
    "-C",
    "-L",
    "-a -t 10.0.0.1:80 -r 192.168.1.50",
    "-d -t 10.0.0.1:80 -r 192.168.1.1",
    "-e -t 10.0.0.1:80 -r 192.168.1.1",
    "--set 100 20 30",
    "--start-daemon master",
    "--stop-daemon master",
    "-R",
    "-S",
    "-Z",
];

/// One sample of each option, in the matrix's order.
const OPTIONS: &[&str] = &[
    "-n",
    "-c",
    "-t 10.0.0.2:80",
    "-s rr",
    "-p 100",
    "-M 255.255.255.0",
    "-r 192.168.1.60",
    "-m",
    "-w 5",
    "-x 100",
    "-y 0",
    "--mcast-interface eth0",
    "--timeout",
    "--daemon",
    "--stats",
    "--rate",
    "--thresholds",
    "--persistent-conn",
    "--nosort",
    "--syncid 7",
    "--exact",
    "-o",
    "--pe sip",
    "-b flag-1",
    "--mcast-group 239.1.1.1",
    "--mcast-port 9000",
    "--mcast-ttl 2",
    "--sync-maxlen 1400",
    "--tun-info",
    "--tun-type gue",
    "--tun-port 6080",
    "--tun-nocsum",
    "--tun-csum",
    "--tun-remcsum",
];

pub fn cases(setup: &str) -> Vec<Case> {
    let mut out = Vec::new();
    for cmd in COMMANDS {
        for opt in OPTIONS {
            let args = format!("{cmd} {opt}");
            out.push(Case {
                setup: setup.to_string(),
                // Unsorted listings show the kernel's hash order, which differs between
                // namespaces: both tools list the same one.
                live: *cmd == "-L" && *opt == "--nosort",
                args: args.split(' ').map(String::from).collect(),
                stdin: None,
                env: Vec::new(),
                conn: None,
            });
        }
    }
    out
}
