//! `lvsadm apply FILE` and `lvsadm diff FILE`: make the kernel's table equal to a rules file
//! (as `-S` writes it) with the fewest changes, or show what those changes would be.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::{self, Read, Write};
use std::net::IpAddr;

use anyhow::{bail, Context, Result};
use ipvs::{OnError, Request, ServiceKey};

use crate::ipvsadm::{self, Command};
use crate::{lock, reach};
use crate::interrupt::{self, Deferred};
use ipvs::table::{Entry, Table};

/// The table a rules file describes: `-A` and `-a` lines only.
pub fn read_rules(path: &str) -> Result<Table> {
    let text = if path == "-" {
        let mut t = Vec::new();
        io::stdin()
            .read_to_end(&mut t)
            .context("reading the rules from stdin")?;
        t
    } else {
        fs::read(path).with_context(|| format!("reading {path}"))?
    };
    rules_table(path, &text)
}

/// The table a rules text describes; `path` names it in errors.
pub fn rules_table(path: &str, text: &[u8]) -> Result<Table> {
    let commands = ipvsadm::parse_rules("lvsadm", text, false).map_err(|errors| {
        let lines: Vec<String> = errors
            .iter()
            .map(|(n, f)| format!("{path}: line {n}: {}", f.message.trim_end()))
            .collect();
        anyhow::anyhow!("{}", lines.join("\n"))
    })?;
    let mut table = Table::default();
    let mut index: HashMap<ServiceKey, usize> = HashMap::new();
    let mut dests: HashSet<(ServiceKey, IpAddr, u16)> = HashSet::new();
    for (n, cmd) in commands {
        match cmd {
            Command::AddService(service) => {
                let key = service.key;
                if index.insert(key, table.entries.len()).is_some() {
                    bail!("{path}: line {n}: the service {key} is added twice");
                }
                table.entries.push(Entry {
                    service,
                    dests: Vec::new(),
                });
            }
            Command::AddDest(key, dest) => {
                let Some(&i) = index.get(&key) else {
                    bail!(
                        "{path}: line {n}: a destination for {key}, which no earlier -A line adds"
                    );
                };
                if !dests.insert((key, dest.addr, dest.port)) {
                    bail!("{path}: line {n}: this destination of {key} is added twice");
                }
                table.entries[i].dests.push(dest);
            }
            _ => bail!(
                "{path}: line {n}: a rules file holds only -A and -a lines, as -S writes them"
            ),
        }
    }
    Ok(table)
}

fn print_plan(plan: &[Request]) -> Result<()> {
    let mut out = io::BufWriter::new(io::stdout().lock());
    for req in plan {
        writeln!(out, "{}", ipvsadm::request_line(req))?;
    }
    out.flush()?;
    Ok(())
}

/// Prints the changes; exits 1 when there are any.
pub fn diff(path: &str) -> Result<i32> {
    let target = read_rules(path)?;
    let mut client = reach::open()?;
    let plan = Table::read(&mut client)?.plan_to(&target);
    print_plan(&plan)?;
    Ok(i32::from(!plan.is_empty()))
}

pub fn apply(path: &str, dry_run: bool) -> Result<i32> {
    let target = read_rules(path)?;
    let mut client = reach::open()?;
    let _lock = lock::table().context("taking the IPVS table's lock")?;
    let before = Table::read(&mut client)?;
    let plan = before.plan_to(&target);
    if dry_run {
        print_plan(&plan)?;
        return Ok(0);
    }
    // Interrupted, the change is undone like a refused one.
    let deferred = Deferred::new();
    let results = client.batch_until(&plan, OnError::Stop, deferred.stop_flag());
    let refused = plan
        .iter()
        .zip(results)
        .find_map(|(r, res)| match res {
            Err(ipvs::Error::NotSent { .. }) | Ok(()) => None,
            Err(e) => Some((r, e)),
        })
        .map(|(req, err)| {
            format!(
                "the kernel refused `{}`: {}",
                ipvsadm::request_line(req),
                ipvsadm::describe(&err)
            )
        });
    let (why, status) = match (deferred.caught(), refused) {
        (Some(signal), _) => (
            format!("interrupted by {}", interrupt::name(signal)),
            interrupt::status(signal),
        ),
        (None, Some(refused)) => (refused, 2),
        (None, None) => return Ok(0),
    };
    let outcome = match before.put_back(&mut client) {
        Ok(()) => format!("{why}; the table is as it was"),
        Err(e) => format!(
            "{why}, and putting the table back failed too ({}): check it with -S",
            ipvsadm::describe(&e)
        ),
    };
    let _ = writeln!(io::stderr(), "lvsadm: {outcome}");
    Ok(status)
}
