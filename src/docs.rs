//! The man page and shell completions, generated from the same definitions as the parsers:
//! clap's for lvsadm's own commands, [`FLAGS`] for the ipvsadm-compatible options. The
//! hand-written parts of the man page are in `man.roff`. `lvsadm generate man|bash|zsh|fish`
//! prints them (a word left out of the documented commands); a test keeps `man/` and
//! `completions/` in step.

use std::io::{self, Write};

use clap::builder::PossibleValuesParser;
use clap::{Arg, ArgAction, Command, CommandFactory};
use clap_complete::Shell;
use roff::{bold, italic, roman, Roff};

use crate::flags::{Flag, Id, Section, Value, FLAGS};
use crate::Cli;


fn scheduler_names() -> Vec<&'static str> {
    ipvs::names::SCHEDULERS.iter().map(|s| s.name).collect()
}

fn tunnel_type_names() -> Vec<&'static str> {
    ipvs::names::TUNNEL_TYPES.iter().map(|(_, n)| *n).collect()
}

/// lvsadm's whole command line as one clap command: the subcommands, and ipvsadm's options
/// at the top level, grouped as ipvsadm's help groups them.
pub fn command() -> Command {
    let mut cmd = Cli::command()
        .disable_help_flag(true)
        .disable_version_flag(true)
        .subcommand_required(false)
        .long_about(
            "lvsadm administers the Linux kernel's IPVS load balancer. Given ipvsadm's \
             options it behaves as ipvsadm 1.31, byte for byte; its own commands are words: \
             apply, diff, show, vip and realserver.",
        );
    for flag in FLAGS {
        cmd = cmd.arg(arg_of(flag));
    }
    cmd
}

fn arg_of(flag: &Flag) -> Arg {
    let mut arg = Arg::new(flag.long)
        .long(flag.long)
        .help(flag.doc.replace('\n', " "))
        .help_heading(match flag.section {
            Section::Commands => "IPVSADM COMMANDS",
            Section::VirtualService => "VIRTUAL SERVICE",
            Section::Options | Section::Hidden => "IPVSADM OPTIONS",
            Section::Daemon => "SYNC DAEMON",
            Section::Extension => "EXTENSIONS TO IPVSADM",
        });
    if let Some((first, aliases)) = flag.short.split_first() {
        arg = arg
            .short(*first)
            .visible_short_aliases(aliases.iter().copied());
    }
    arg = match flag.value {
        Value::None => arg.action(ArgAction::SetTrue),
        Value::Required(name) => arg.value_name(name).action(ArgAction::Set),
        Value::Optional(name) => arg.value_name(name).num_args(0..=1),
    };
    // The help texts name the values already; these feed completion.
    let one_of = |arg: Arg, values: &[&'static str]| {
        arg.value_parser(PossibleValuesParser::new(values.iter().copied()))
            .hide_possible_values(true)
    };
    match flag.id {
        // ipvsadm (and lvsadm) pass any scheduler name to the kernel: these feed completion.
        Id::Scheduler => one_of(arg, &scheduler_names()),
        Id::TunType => one_of(arg, &tunnel_type_names()),
        Id::Pe => one_of(arg, &["sip"]),
        Id::StartDaemon | Id::StopDaemon => one_of(arg, &["master", "backup"]),
        Id::Set => arg
            .action(ArgAction::Set)
            .num_args(3)
            .value_names(["tcp", "tcpfin", "udp"]),
        _ => arg,
    }
}

pub fn man() -> io::Result<Vec<u8>> {
    let cmd = command();
    let page = clap_mangen::Man::new(cmd.clone())
        .title("LVSADM")
        .section("8")
        .manual("System Administration");
    let mut out = Vec::new();
    page.render_title(&mut out)?;
    page.render_name_section(&mut out)?;
    out.write_all(synopsis().as_bytes())?;
    page.render_description_section(&mut out)?;
    out.write_all(commands_section(&cmd).as_bytes())?;
    page.render_options_section(&mut out)?;
    out.write_all(include_str!("man.roff").as_bytes())?;
    page.render_version_section(&mut out)?;
    Ok(out)
}

fn synopsis() -> String {
    let mut roff = Roff::new();
    roff.control("SH", ["SYNOPSIS"]);
    for (command, rest) in [
        ("COMMAND", " [OPTIONS] [ARGUMENTS]"),
        ("IPVSADM-OPTIONS", "..."),
    ] {
        roff.text([
            bold("lvsadm"),
            roman(" [--netns "),
            italic("NAME"),
            roman("] "),
            italic(command),
            roman(rest),
        ]);
        roff.control("br", []);
    }
    roff.to_roff()
}

/// Every lvsadm command with its synopsis and options (clap_mangen lists only the names).
fn commands_section(root: &Command) -> String {
    let mut roff = Roff::new();
    roff.control("SH", ["COMMANDS"]);
    for sub in root.get_subcommands().filter(|s| !s.is_hide_set()) {
        leaf_commands(&mut roff, &format!("lvsadm {}", sub.get_name()), sub);
    }
    roff.to_roff()
}

fn leaf_commands(roff: &mut Roff, path: &str, cmd: &Command) {
    if cmd.has_subcommands() {
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            leaf_commands(roff, &format!("{path} {}", sub.get_name()), sub);
        }
        return;
    }
    let mut synopsis = vec![bold(path)];
    for arg in cmd.get_positionals() {
        let name = value_names(arg);
        let shown = if arg.is_required_set() {
            name
        } else {
            format!("[{name}]")
        };
        synopsis.push(roman(" "));
        synopsis.push(italic(shown));
    }
    roff.control("SS", []).text(synopsis);
    if let Some(about) = cmd.get_long_about().or(cmd.get_about()) {
        roff.text([roman(about.to_string())]);
    }
    for arg in cmd
        .get_arguments()
        .filter(|a| !a.is_positional() && !a.is_hide_set())
    {
        let Some(long) = arg.get_long() else { continue };
        if long == "help" {
            continue;
        }
        roff.control("TP", []);
        let mut head = vec![bold(format!("--{long}"))];
        if arg.get_action().takes_values() {
            head.push(roman(" "));
            head.push(italic(value_names(arg)));
        }
        roff.text(head);
        let mut help = arg.get_help().map(ToString::to_string).unwrap_or_default();
        let values: Vec<String> = arg
            .get_possible_values()
            .into_iter()
            .filter(|_| arg.get_action().takes_values())
            .map(|v| v.get_name().to_string())
            .collect();
        if !values.is_empty() {
            help += &format!(" One of: {}.", values.join(", "));
        }
        roff.text([roman(help)]);
    }
}

fn value_names(arg: &Arg) -> String {
    let names: Vec<String> = arg
        .get_value_names()
        .map(|n| n.iter().map(|s| s.to_string()).collect())
        .unwrap_or_else(|| vec![arg.get_id().to_string().to_uppercase()]);
    let mut text = names.join(" ");
    if arg.get_num_args().is_some_and(|n| n.max_values() > 1) {
        text += "...";
    }
    text
}

fn completion(shell: Shell) -> Vec<u8> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut command(), "lvsadm", &mut out);
    out
}

/// `lvsadm generate man|bash|zsh|fish`.
pub fn generate(what: &str) -> anyhow::Result<i32> {
    let text = match what {
        "man" => man()?,
        "bash" => completion(Shell::Bash),
        "zsh" => completion(Shell::Zsh),
        "fish" => completion(Shell::Fish),
        other => anyhow::bail!("cannot generate {other:?}: man, bash, zsh or fish"),
    };
    io::stdout().write_all(&text)?;
    Ok(0)
}
