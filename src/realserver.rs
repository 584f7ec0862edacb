//! `lvsadm realserver setup|teardown|status`: a real server's VIPs and ARP settings (see the
//! `hostnet` crate's `realserver`).

use std::net::IpAddr;

use anyhow::{Context, Result};
use hostnet::realserver::{self, Mode};
use hostnet::rtnl::Rtnl;
use hostnet::state::State;
use hostnet::IfName;
use serde::Serialize;

use crate::lock;
use crate::view;

pub fn setup(vips: &[IpAddr], mode: Mode, dev: Option<&str>) -> Result<i32> {
    let dev = dev.map(IfName::new).transpose()?;
    let _lock = lock::host().context("taking the lock of the host records")?;
    let rtnl = Rtnl::open()?;
    let mut state = State::load()?;
    realserver::setup(&rtnl, &mut state, vips, mode, dev.as_ref())?;
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
    vips: &'a [realserver::VipStatus],
}

/// Exits 0 when every VIP is in order, 1 when anything is wrong or there is nothing to check.
pub fn status(vips: &[IpAddr], json: bool) -> Result<i32> {
    let rtnl = Rtnl::open()?;
    let report = realserver::status(&rtnl, &State::load()?, vips)?;
    let ok = !report.is_empty() && report.iter().all(|v| v.ok());
    if json {
        view::print_json(&Report { ok, vips: &report })?;
        return Ok(if ok { 0 } else { 1 });
    }
    if report.is_empty() {
        println!("no VIPs here: set them up with lvsadm realserver setup VIP...");
        return Ok(1);
    }
    let rows = report
        .iter()
        .map(|v| {
            let answers = if v.answers_on.is_empty() {
                "no".to_string()
            } else {
                format!("YES ({})", v.answers_on.join(", "))
            };
            let devices = if v.devices.is_empty() {
                "-".to_string()
            } else {
                v.devices.join(", ")
            };
            let verdict = if v.ok() { "ok" } else { "WRONG" };
            vec![
                v.vip.to_string(),
                v.mode.as_str().to_string(),
                devices,
                answers,
                verdict.to_string(),
            ]
        })
        .collect();
    view::print_table(&view::table(
        &["VIP", "MODE", "DEVICE", "ANSWERS ARP", "VERDICT"],
        rows,
    ))?;
    for v in &report {
        for p in &v.problems {
            println!("\n{}: {}\n  fix: {}", v.vip, p.problem, p.fix);
        }
    }
    Ok(if ok { 0 } else { 1 })
}
