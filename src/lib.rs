//! lvsadm: administration of the Linux kernel's IPVS load balancer. Run with ipvsadm's
//! options it is ipvsadm 1.31, byte for byte (see `docs/compatibility.md`); its own commands
//! are words (`lvsadm apply FILE`), which ipvsadm never accepts as a first argument.

mod apply;
mod compat;
mod docs;
mod flags;
mod interrupt;
mod ipvsadm;
mod lock;
mod lvsd_view;
mod netns;
mod reach;
mod realserver;
mod resolve;
mod show;
mod view;
mod vip;

use std::net::IpAddr;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "lvsadm",
    disable_help_subcommand = true,
    version,
    about = "Linux Virtual Server administration"
)]
struct Cli {
    /// Work in the named network namespace (as made by `ip netns add`), like `ip -n`; given
    /// first, it also applies to ipvsadm-style commands.
    #[arg(long, global = true, value_name = "NAME")]
    netns: Option<String>,
    #[command(subcommand)]
    command: Own,
}

/// lvsadm's own commands: words, which ipvsadm never takes as its first argument.
#[derive(Subcommand)]
enum Own {
    /// Make the table equal to a rules file, changing only what differs
    ///
    /// FILE is as -S writes it (- for stdin). The fewest changes are made: unchanged services
    /// and destinations keep their connections and counters.
    Apply {
        /// Print the changes as ipvsadm command lines instead of making them.
        #[arg(long)]
        dry_run: bool,
        file: String,
    },
    /// Print the changes apply would make, as ipvsadm command lines
    ///
    /// Exits 0 if there are none, 1 if there are.
    Diff { file: String },
    /// The table for people: weights, connections and rates
    ///
    /// Services and destinations with weights, connections and rates in K/M/G, redrawn like
    /// top with --watch, or as JSON for machines.
    Show {
        /// JSON for machines, with full 64-bit counters (schema: docs/show.schema.json).
        #[arg(long, conflicts_with = "prometheus")]
        json: bool,
        /// Prometheus's text format, for node_exporter's textfile collector: 64-bit
        /// counters, rates, weights and connections per service and destination.
        #[arg(long, conflicts_with = "watch")]
        prometheus: bool,
        /// Redraw every SECONDS (default 2) in place, like top; with --json, a document a line.
        #[arg(long, value_name = "SECONDS", num_args = 0..=1, default_missing_value = "2")]
        watch: Option<u64>,
    },
    /// A director's VIPs, announced to the neighbours
    ///
    /// Addresses on the director's interfaces, announced by gratuitous ARP or unsolicited
    /// neighbour advertisement when added.
    #[command(subcommand)]
    Vip(VipCmd),
    /// A real server's set-up for direct routing, tunnelling or NAT
    ///
    /// The VIPs and ARP settings for direct routing or tunnelling, or the route back through
    /// the director for NAT.
    #[command(subcommand)]
    Realserver(RealserverCmd),
}

#[derive(Subcommand)]
enum VipCmd {
    /// Add a VIP (quietly nothing if it is there), announce it, and optionally turn on
    /// forwarding.
    Add {
        /// ADDRESS/PREFIX; without a prefix, a host address (/32 or /128).
        #[arg(value_name = "ADDRESS[/PREFIX]", value_parser = vip::parse_address)]
        address: (IpAddr, Option<u8>),
        /// The interface; the alias form eth0:3 means eth0 with label eth0:3.
        #[arg(long, value_name = "IFACE")]
        dev: String,
        /// An IPv4 label, beginning with the device name.
        #[arg(long)]
        label: Option<String>,
        /// Turn on forwarding for the VIP's family (NAT mode needs it); restored when the
        /// last VIP is deleted.
        #[arg(long)]
        forward: bool,
    },
    /// Delete a VIP (quietly nothing if it is not there).
    Del {
        #[arg(value_name = "ADDRESS[/PREFIX]", value_parser = vip::parse_address)]
        address: (IpAddr, Option<u8>),
        #[arg(long, value_name = "IFACE")]
        dev: String,
    },
    /// List the VIPs added with lvsadm and whether they are in place.
    List {
        #[arg(long, value_name = "IFACE")]
        dev: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum RealserverCmd {
    /// Make this host accept packets for the VIPs without answering ARP for them (dr, tun),
    /// or send its replies back through the director (nat).
    Setup {
        /// The VIPs, for dr and tun (a NAT real server does not hold the VIP).
        #[arg(value_name = "VIP")]
        vips: Vec<IpAddr>,
        /// dr: VIPs on lo (or a dummy device) with arp_ignore=1, arp_announce=2; tun: VIPs on
        /// the ipip tunnel device, reverse-path filtering relaxed there; nat: the route back
        /// to the clients through the director (--gateway).
        #[arg(long, value_enum, default_value = "dr")]
        mode: ModeArg,
        /// The device for the VIPs (default: lo for dr, tunl0 or ip6tnl0 for tun).
        #[arg(long, value_name = "DEVICE")]
        dev: Option<String>,
        #[command(flatten)]
        nat: NatArgs,
    },
    /// Remove the VIPs (all of them, and NAT's return routes, if none is named) and, when none
    /// is left, restore every route, setting and device set-up changed.
    Teardown {
        #[arg(value_name = "VIP")]
        vips: Vec<IpAddr>,
    },
    /// Check each VIP (those set up, if none is named), and how replies to NAT's clients would
    /// leave: exit 1 if this host would answer ARP for a VIP, a reply would not go through
    /// the director, or anything else is wrong.
    Status {
        #[arg(value_name = "VIP")]
        vips: Vec<IpAddr>,
        #[command(flatten)]
        nat: NatArgs,
        #[arg(long)]
        json: bool,
    },
}

#[derive(clap::Args)]
struct NatArgs {
    /// nat: the director's inside address (DIP), through which replies go back; one per
    /// address family.
    #[arg(long, value_name = "DIP")]
    gateway: Vec<IpAddr>,
    /// nat: only replies to this client network go through the director, and the default
    /// route stays (repeatable; default: the default route).
    #[arg(long, value_name = "PREFIX")]
    to: Vec<ipnet::IpNet>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ModeArg {
    Dr,
    Tun,
    Nat,
}

/// Whether `word` names one of lvsadm's own commands (the clap definitions above are the
/// list): ipvsadm never takes a word as its first argument.
fn is_command(word: &str) -> bool {
    use clap::CommandFactory;
    Cli::command().find_subcommand(word).is_some()
}

/// `lvsadm -h` under its own name: ipvsadm's text, unchanged, then lvsadm's own commands.
fn help(prog: &str) -> String {
    use clap::CommandFactory;
    let mut text = compat::help_text(prog);
    text += "\nlvsadm's own commands (lvsadm help COMMAND, or lvsadm COMMAND --help, for more):\n";
    let cli = Cli::command();
    let commands: Vec<(String, String)> = cli
        .get_subcommands()
        .map(|c| {
            let about = c.get_about().map(|a| a.to_string()).unwrap_or_default();
            (c.get_name().to_string(), about)
        })
        .chain([("help".to_string(), "This text, or a command's help".to_string())])
        .collect();
    let width = commands.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    for (name, about) in commands {
        text += &format!("  {name:width$}  {about}\n");
    }
    text
}

/// Prints `text` to stdout; the exit status.
fn print(text: &str) -> i32 {
    use std::io::Write;
    match std::io::stdout().write_all(text.as_bytes()) {
        Ok(()) => 0,
        Err(_) => 1,
    }
}

/// Runs lvsadm with these arguments (the program name first); the exit status.
pub fn main(mut args: Vec<String>) -> i32 {
    if privileges_were_raised() {
        return report(anyhow::anyhow!(
            "refusing to run with privileges raised by a setuid, setgid or file-capability \
             executable: the caller's environment and arguments would steer root's changes to \
             the kernel; run lvsadm as root (for example with sudo) instead"
        ));
    }
    // The namespace named before the command word; lvsadm's own commands also take it after.
    let taken = match netns::take(&mut args) {
        Ok(name) => name,
        Err(e) => return report(e),
    };
    if let Some(Err(e)) = taken.as_deref().map(netns::enter) {
        return report(e);
    }
    let invoked_as_ipvsadm = args
        .first()
        .and_then(|a| std::path::Path::new(a).file_name())
        .is_some_and(|name| name == "ipvsadm");
    match args.get(1) {
        // ipvsadm's `--version` line names ipvsadm; under its own name lvsadm names itself
        // (`-v` keeps ipvsadm's line).
        Some(word) if word == "--version" && args.len() == 2 && !invoked_as_ipvsadm => {
            use std::io::Write;
            let version = env!("CARGO_PKG_VERSION");
            let line = format!("lvsadm {version} (compatible with ipvsadm 1.31)");
            match writeln!(std::io::stdout(), "{line}") {
                Ok(()) => 0,
                Err(_) => 1,
            }
        }
        Some(word)
            if (word == "-h" || word == "--help") && args.len() == 2 && !invoked_as_ipvsadm =>
        {
            print(&help(&args[0]))
        }
        Some(word) if word == "help" && args.len() <= 3 && !invoked_as_ipvsadm => {
            match args.get(2) {
                None => print(&help(&args[0])),
                Some(word) if word == "help" => print(&help(&args[0])),
                Some(command) if is_command(command) => {
                    let argv = [args[0].as_str(), command.as_str(), "--help"];
                    match Cli::try_parse_from(argv) {
                        Err(e) => print(&e.render().to_string()),
                        Ok(_) => 0,
                    }
                }
                Some(other) => report(anyhow::anyhow!(
                    "no command {other:?}: lvsadm help lists the commands"
                )),
            }
        }
        // For the build (man/ and completions/), so kept out of clap's list of commands.
        Some(word) if word == "generate" && args.len() == 3 => {
            docs::generate(&args[2]).unwrap_or_else(report)
        }
        Some(word) if is_command(word) => {
            let cli = Cli::parse_from(&args);
            let result = match cli.netns.as_deref().map(netns::enter) {
                Some(Err(e)) => Err(e),
                _ => run_own(cli.command, cli.netns.as_deref().or(taken.as_deref())),
            };
            result.unwrap_or_else(report)
        }
        _ => compat::main(&args),
    }
}

/// True when the kernel started this process with more privilege than its caller had
/// (`AT_SECURE`: setuid, setgid or file capabilities), or the ids still differ.
fn privileges_were_raised() -> bool {
    use nix::unistd::{getegid, geteuid, getgid, getuid};
    // SAFETY: getauxval only reads the auxiliary vector the kernel gave the process, and
    // AT_SECURE is always present in it (0 when absent); nix has no wrapper for it.
    let secure = unsafe { libc::getauxval(libc::AT_SECURE) } != 0;
    secure || getuid() != geteuid() || getgid() != getegid()
}

/// Entry points for the fuzz targets in `fuzz/`: everything lvsadm does with its input before
/// it acts on it. Nothing here reaches the kernel or the host.
#[doc(hidden)]
pub mod fuzzing {
    /// A command line (without the program name) through every grammar: ipvsadm's, as a
    /// command and as a `-R` line, plainly and POSIXly, and the subcommands' after the
    /// `--netns` prefix is taken off.
    pub fn command_line(args: &[String]) {
        for (restoring, posix) in [(false, false), (true, false), (false, true)] {
            let _ = crate::ipvsadm::parse("ipvsadm", args, restoring, posix);
        }
        let mut argv = vec!["lvsadm".to_string()];
        argv.extend_from_slice(args);
        if crate::netns::take(&mut argv).is_ok() {
            let _ = <crate::Cli as clap::Parser>::try_parse_from(&argv);
        }
    }

    /// A text as `-R` reads it and as `apply` reads a rules file.
    pub fn rules(text: &[u8]) {
        if let Ok(commands) = crate::ipvsadm::parse_rules("ipvsadm", text, false) {
            commands.for_each(drop);
        }
        let _ = crate::apply::rules_table("rules", text);
    }
}

/// Says why lvsadm failed; the exit status for it.
fn report(e: anyhow::Error) -> i32 {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "lvsadm: {e:#}");
    2
}

fn run_own(command: Own, netns: Option<&str>) -> anyhow::Result<i32> {
    match command {
        Own::Apply { dry_run, file } => apply::apply(&file, dry_run),
        Own::Diff { file } => apply::diff(&file),
        Own::Show {
            json,
            prometheus,
            watch,
        } => show::show(json, prometheus, watch, netns),
        Own::Vip(cmd) => run_vip(cmd),
        Own::Realserver(cmd) => run_realserver(cmd),
    }
}

fn run_vip(cmd: VipCmd) -> anyhow::Result<i32> {
    match cmd {
        VipCmd::Add {
            address: (addr, prefix),
            dev,
            label,
            forward,
        } => {
            let prefix = prefix.unwrap_or(if addr.is_ipv4() { 32 } else { 128 });
            let net = ipnet::IpNet::new(addr, prefix)?;
            vip::add(vip::Add {
                net,
                dev,
                label,
                forward,
            })
        }
        VipCmd::Del {
            address: (addr, prefix),
            dev,
        } => vip::delete(addr, prefix, &dev),
        VipCmd::List { dev, json } => vip::list(dev.as_deref(), json),
    }
}

fn run_realserver(cmd: RealserverCmd) -> anyhow::Result<i32> {
    use hostnet::realserver::Mode;
    match cmd {
        RealserverCmd::Setup {
            vips,
            mode,
            dev,
            nat,
        } => {
            let nat_only = !nat.gateway.is_empty() || !nat.to.is_empty();
            match mode {
                ModeArg::Dr | ModeArg::Tun if nat_only => anyhow::bail!(
                    "--gateway and --to are for --mode nat: direct routing and tunnelling \
                     real servers answer clients directly"
                ),
                ModeArg::Dr => realserver::setup(&vips, Mode::Dr, dev.as_deref()),
                ModeArg::Tun => realserver::setup(&vips, Mode::Tun, dev.as_deref()),
                ModeArg::Nat => realserver::setup_nat(&vips, dev.is_some(), &nat.gateway, &nat.to),
            }
        }
        RealserverCmd::Teardown { vips } => realserver::teardown(&vips),
        RealserverCmd::Status { vips, nat, json } => {
            realserver::status(&vips, &nat.gateway, &nat.to, json)
        }
    }
}
