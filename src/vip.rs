//! `lvsadm vip add|del|list`: a director's VIPs (see the `hostnet` crate's `director`).

use std::net::IpAddr;

use anyhow::{Context, Result};
use hostnet::director::{self, VipSpec};
use hostnet::rtnl::Rtnl;
use hostnet::state::State;
use hostnet::{name, IfName};
use ipnet::IpNet;

use crate::lock;
use crate::view;

/// `ADDR` or `ADDR/PREFIX`.
pub fn parse_address(text: &str) -> Result<(IpAddr, Option<u8>), String> {
    match text.split_once('/') {
        Some(_) => {
            let net: IpNet = text
                .parse()
                .map_err(|_| format!("{text:?} is not ADDRESS/PREFIX"))?;
            Ok((net.addr(), Some(net.prefix_len())))
        }
        None => {
            let addr = text
                .parse()
                .map_err(|_| format!("{text:?} is not an IP address"))?;
            Ok((addr, None))
        }
    }
}

pub struct Add {
    pub net: IpNet,
    pub dev: String,
    pub label: Option<String>,
    pub forward: bool,
}

pub fn add(args: Add) -> Result<i32> {
    let (dev, alias) = name::device_and_label(&args.dev)?;
    let label = match (alias, args.label) {
        (Some(_), Some(_)) => {
            anyhow::bail!(
                "give the label either in --dev ({}) or with --label, not both",
                args.dev
            )
        }
        (Some(label), None) => Some(label),
        (None, Some(label)) => Some(name::Label::new(&label, &dev)?),
        (None, None) => None,
    };
    let spec = VipSpec {
        net: args.net,
        dev,
        label,
        forward: args.forward,
    };
    let _lock = lock::host().context("taking the lock of the host records")?;
    let rtnl = Rtnl::open()?;
    let mut state = State::load()?;
    let added = director::add(&rtnl, &mut state, &spec)?;
    state.save()?;
    if let Some(warning) = added.announce_failure {
        eprintln!(
            "lvsadm: warning: {warning}; neighbours will learn the VIP when their caches expire"
        );
    }
    Ok(0)
}

pub fn delete(addr: IpAddr, prefix: Option<u8>, dev: &str) -> Result<i32> {
    let (dev, _) = name::device_and_label(dev)?;
    let _lock = lock::host().context("taking the lock of the host records")?;
    let rtnl = Rtnl::open()?;
    let mut state = State::load()?;
    let result = director::delete(&rtnl, &mut state, addr, prefix, &dev);
    // What was removed stays removed even if restoring a setting failed.
    state.save()?;
    result?;
    Ok(0)
}

pub fn list(dev: Option<&str>, json: bool) -> Result<i32> {
    let dev = dev.map(IfName::new).transpose()?;
    let rtnl = Rtnl::open()?;
    let vips = director::list(&rtnl, &State::load()?, dev.as_ref())?;
    if json {
        view::print_json(&vips)?;
        return Ok(0);
    }
    let rows = vips
        .iter()
        .map(|v| {
            vec![
                v.address.to_string(),
                v.dev.to_string(),
                v.label.clone().unwrap_or_default(),
                if v.forward { "on" } else { "-" }.to_string(),
                if v.present { "present" } else { "missing" }.to_string(),
            ]
        })
        .collect();
    view::print_table(&view::table(
        &["VIP", "DEVICE", "LABEL", "FORWARD", "STATE"],
        rows,
    ))?;
    Ok(0)
}
