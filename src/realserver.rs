//! `lvsadm realserver setup|teardown|status`: a real server's VIPs and ARP settings, or its
//! route back through the director for NAT (see the `hostnet` crate's `realserver` and `nat`).

use std::net::IpAddr;

use anyhow::{bail, Context, Result};
use hostnet::nat::{self, RouteStatus};
use hostnet::realserver::{self, Mode, VipStatus};
use hostnet::rtnl::Rtnl;
use hostnet::state::State;
use hostnet::IfName;
use ipnet::IpNet;
use serde::Serialize;

use crate::lock;
use crate::view;

pub fn setup(vips: &[IpAddr], mode: Mode, dev: Option<&str>) -> Result<i32> {
    let dev = dev.map(IfName::new).transpose()?;
    change(|rtnl, state| realserver::setup(rtnl, state, vips, mode, dev.as_ref()))
}

pub fn setup_nat(vips: &[IpAddr], dev: bool, gateways: &[IpAddr], to: &[IpNet]) -> Result<i32> {
    if let Some(vip) = vips.first() {
        bail!(
            "a NAT real server does not hold the VIP (the director rewrites it to the real \
             server's own address): leave out {vip}"
        );
    }
    if dev {
        bail!("--dev is for dr and tun: NAT mode puts no address on a device");
    }
    let wanted = nat::return_routes(gateways, to)?;
    change(|rtnl, state| nat::setup(rtnl, state, &wanted))
}

/// Runs a set-up step under the lock and records what it changed.
fn change(step: impl FnOnce(&Rtnl, &mut State) -> Result<(), hostnet::Error>) -> Result<i32> {
    let _lock = lock::host().context("taking the lock of the host records")?;
    let rtnl = Rtnl::open()?;
    let mut state = State::load()?;
    step(&rtnl, &mut state)?;
    state.save()?;
    Ok(0)
}

pub fn teardown(vips: &[IpAddr]) -> Result<i32> {
    let _lock = lock::host().context("taking the lock of the host records")?;
    let rtnl = Rtnl::open()?;
    let mut state = State::load()?;
    let result = realserver::teardown(&rtnl, &mut state, vips);
    state.save()?;
    result?;
    Ok(0)
}

#[derive(Serialize)]
struct Report<'a> {
    ok: bool,
    vips: &'a [VipStatus],
    return_routes: &'a [RouteStatus],
}

/// Exits 0 when every VIP and return route is in order, 1 when anything is wrong or there is
/// nothing to check. NAT's routes are those `--gateway` and `--to` name, or with no VIPs
/// named those set up here.
pub fn status(vips: &[IpAddr], gateways: &[IpAddr], to: &[IpNet], json: bool) -> Result<i32> {
    let rtnl = Rtnl::open()?;
    let state = State::load()?;
    let nat_named = !gateways.is_empty() || !to.is_empty();
    let wanted = if nat_named {
        nat::return_routes(gateways, to)?
    } else if vips.is_empty() {
        state.nat.clone()
    } else {
        Vec::new()
    };
    let vip_report = if nat_named && vips.is_empty() {
        Vec::new()
    } else {
        realserver::status(&rtnl, &state, vips)?
    };
    let route_report = nat::status(&rtnl, &wanted)?;
    let ok = !(vip_report.is_empty() && route_report.is_empty())
        && vip_report.iter().all(VipStatus::ok)
        && route_report.iter().all(RouteStatus::ok);
    let exit = if ok { 0 } else { 1 };
    if json {
        view::print_json(&Report {
            ok,
            vips: &vip_report,
            return_routes: &route_report,
        })?;
        return Ok(exit);
    }
    if vip_report.is_empty() && route_report.is_empty() {
        println!(
            "nothing to check here: set up VIPs with lvsadm realserver setup VIP..., or NAT's \
             route back with lvsadm realserver setup --mode nat --gateway DIP"
        );
        return Ok(1);
    }
    let verdict = |ok: bool| if ok { "ok" } else { "WRONG" }.to_string();
    let mut tables = Vec::new();
    if !vip_report.is_empty() {
        let rows = vip_report
            .iter()
            .map(|v| {
                let answers = if v.answers_on.is_empty() {
                    "no".to_string()
                } else {
                    format!("YES ({})", v.answers_on.join(", "))
                };
                vec![
                    v.vip.to_string(),
                    v.mode.as_str().to_string(),
                    list_or_dash(&v.devices),
                    answers,
                    verdict(v.ok()),
                ]
            })
            .collect();
        tables.push(view::table(
            &["VIP", "MODE", "DEVICE", "ANSWERS ARP", "VERDICT"],
            rows,
        ));
    }
    if !route_report.is_empty() {
        let rows = route_report
            .iter()
            .map(|r| {
                let leaves = match (r.via, &r.dev) {
                    (Some(via), _) => format!("via {via}"),
                    (None, Some(dev)) => format!("directly on {dev}"),
                    (None, None) => "no route".to_string(),
                };
                vec![
                    clients(r.to),
                    r.gateway.to_string(),
                    format!("{}: {leaves}", r.probe),
                    verdict(r.ok()),
                ]
            })
            .collect();
        tables.push(view::table(
            &["REPLIES TO", "DIRECTOR", "A REPLY TO", "VERDICT"],
            rows,
        ));
    }
    for (i, table) in tables.iter().enumerate() {
        if i > 0 {
            println!();
        }
        view::print_table(table)?;
    }
    for v in &vip_report {
        print_problems(&v.vip.to_string(), &v.problems);
    }
    for r in &route_report {
        print_problems(&clients(r.to), &r.problems);
    }
    Ok(exit)
}

fn list_or_dash(items: &[String]) -> String {
    if items.is_empty() {
        "-".to_string()
    } else {
        items.join(", ")
    }
}

fn clients(to: IpNet) -> String {
    if to.prefix_len() == 0 {
        format!("{to} (default)")
    } else {
        to.to_string()
    }
}

fn print_problems(subject: &str, problems: &[realserver::Problem]) {
    for p in problems {
        println!("\n{subject}: {}\n  fix: {}", p.problem, p.fix);
    }
}
