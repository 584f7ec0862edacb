//! ipvsadm's `-h` text and `-v` line. The option lines come from [`crate::flags::FLAGS`];
//! only the synopsis is written here.

use std::fmt::Write;

use crate::flags::{Section, FLAGS};

pub const VERSION_LINE: &str = "ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)";

const SYNOPSIS: &[&str] = &[
    "-A|E virtual-service [-s scheduler] [-p [timeout]] [-M netmask] [--pe persistence_engine] [-b sched-flags]",
    "-D virtual-service",
    "-C",
    "-R",
    "-S [-n]",
    "-a|e virtual-service -r server-address [options]",
    "-d virtual-service -r server-address",
    "-L|l [virtual-service] [options]",
    "-Z [virtual-service]",
    "--set tcp tcpfin udp",
    "--start-daemon {master|backup} [daemon-options]",
    "--stop-daemon {master|backup}",
    "-h",
];

/// The full help text, with `prog` as the program name in the synopsis.
pub fn text(prog: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{VERSION_LINE}\nUsage:");
    for line in SYNOPSIS {
        let _ = writeln!(s, "  {prog} {line}");
    }
    let headings = [
        (
            Section::Commands,
            "\nCommands:\nEither long or short options are allowed.\n",
        ),
        (Section::VirtualService, "\nvirtual-service:\n"),
        (Section::Options, "\nOptions:\n"),
        (Section::Daemon, "Daemon Options:\n"),
    ];
    for (section, heading) in headings {
        s.push_str(heading);
        for f in FLAGS.iter().filter(|f| f.section == section) {
            let indent = " ".repeat(f.help_left.len());
            let mut lines = f.doc.lines();
            let _ = writeln!(s, "{}{}", f.help_left, lines.next().unwrap_or(""));
            for more in lines {
                let _ = writeln!(s, "{indent}{more}");
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn help_is_ipvsadms() {
        let want = include_str!("../../tests/fixtures/ipvsadm-help.txt");
        assert_eq!(super::text("ipvsadm"), want);
    }
}
