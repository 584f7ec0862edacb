//! `bfd_instance` (bfd/bfd_parser.c). keepalived reads it in three processes: the BFD
//! process checks it, the VRRP process takes its weight, the checker its name. lvsd has no
//! BFD process view, so the BFD process's complaints are made while reading as the checker,
//! whose tree is the same; lvsd does not run BFD, so all of it is only read.

use super::BfdInstance;
use crate::parse::{Ctx, Handler, Keyword, View};
use crate::problem::Kind;
use crate::value;

/// keepalived's limits, in its units (milliseconds for the intervals).
const INTERVAL_MAX: u64 = u32::MAX as u64 / 1000;
const TTL_MAX: u32 = 255;
const NAME_MAX: usize = 32;

/// The instance being read as the BFD process reads it.
fn current<'c>(ctx: &'c mut Ctx<'_>) -> Option<&'c mut BfdInstance> {
    let at = ctx.config.vrrp.bfd_reading?;
    ctx.config
        .vrrp
        .bfd_instances
        .iter_mut()
        .find(|b| b.at == Some(at))
}

fn name(ctx: &Ctx<'_>) -> String {
    ctx.config
        .vrrp
        .bfd_reading
        .and_then(|at| {
            ctx.config
                .vrrp
                .bfd_instances
                .iter()
                .find(|b| b.at == Some(at))
        })
        .map(|b| b.name.clone())
        .unwrap_or_default()
}

fn start(ctx: &mut Ctx<'_>, words: &[String]) {
    let Some(n) = ctx.arg(words, 1) else { return };
    let n = n.to_string();
    let at = ctx.at;
    match ctx.view {
        View::Checker => {
            ctx.config.vrrp.bfd_reading = None;
            if n.len() >= NAME_MAX {
                ctx.report(
                    Kind::General,
                    format!(
                        "Configuration error: BFD instance {n} name too long (maximum length is \
                         {} characters) - ignoring",
                        NAME_MAX - 1
                    ),
                );
                ctx.skip_block(true);
                return;
            }
            if ctx.config.vrrp.bfd_instances.iter().any(|b| b.name == n) {
                ctx.report(
                    Kind::General,
                    format!("Configuration error: BFD instance {n} already configured - ignoring"),
                );
                // The checker process's own complaint about the same block.
                ctx.report(Kind::General, format!("BFD {n} already specified"));
                ctx.skip_block(true);
                return;
            }
            ctx.config.vrrp.bfd_instances.push(BfdInstance {
                name: n,
                at: Some(at),
                enabled: true,
                ..BfdInstance::default()
            });
            ctx.config.vrrp.bfd_reading = Some(at);
        }
        View::Vrrp => {
            ctx.config.vrrp.bfd_reading = Some(at);
            ctx.ignored(words, "lvsd does not run BFD");
        }
        View::Parent => {}
    }
}

fn end(ctx: &mut Ctx<'_>) {
    if ctx.view != View::Checker {
        return;
    }
    let n = name(ctx);
    let others: Vec<(Option<std::net::IpAddr>, Option<std::net::IpAddr>)> = ctx
        .config
        .vrrp
        .bfd_instances
        .iter()
        .filter(|b| b.enabled && b.at != ctx.config.vrrp.bfd_reading)
        .map(|b| (b.neighbor, b.source))
        .collect();
    let Some(b) = current(ctx) else { return };
    let msg = match (b.neighbor, b.source) {
        (None, _) => Some(format!(
            "Configuration error: BFD instance {n} has no neighbor address set, disabling instance"
        )),
        // keepalived formats both addresses into one static buffer, so its message names
        // the source address twice (measured); lvsd says what it says.
        (Some(nb), Some(src)) if nb.is_ipv6() != src.is_ipv6() => Some(format!(
            "Configuration error: BFD instance {n} source address {src} and neighbor address \
             {src} are not of the same family, disabling instance"
        )),
        (Some(nb), src) if others.contains(&(Some(nb), src)) => Some(match src {
            Some(s) => format!(
                "Configuration error: BFD instance {n} has duplicate source/neighbor address \
                 {s}/{nb}, ignoring instance"
            ),
            None => format!(
                "Configuration error: BFD instance {n} has duplicate neighbor address {nb}, \
                 ignoring instance"
            ),
        }),
        _ => None,
    };
    if let Some(msg) = msg {
        b.enabled = false;
        ctx.report(Kind::General, msg);
        return;
    }
    let ttl = b.ttl.unwrap_or(if b.neighbor.is_some_and(|a| a.is_ipv6()) {
        64
    } else {
        255
    });
    b.ttl = Some(ttl);
    if b.max_hops.is_some_and(|h| h > ttl as i32) {
        b.max_hops = Some(ttl as i32);
        ctx.report(
            Kind::General,
            format!("BFD instance {n}: max_hops exceeds ttl/hoplimit - setting to ttl/hoplimit"),
        );
    }
}

/// A handler the BFD process runs (the others see the keyword and do nothing).
fn bfd_only(ctx: &mut Ctx<'_>, words: &[String], f: fn(&mut Ctx<'_>, &[String], &str)) {
    if ctx.view == View::Checker && current(ctx).is_some() {
        let n = name(ctx);
        f(ctx, words, &n);
    }
}

fn interval(ctx: &mut Ctx<'_>, words: &[String], n: &str, what: &str, min: u64) -> Option<u32> {
    let s = ctx.arg(words, 1)?;
    let v = value::decimal(ctx, s, min * 1000, INTERVAL_MAX * 1000, 3);
    if v.is_none() {
        ctx.report(
            Kind::General,
            format!(
                "Configuration error: BFD instance {n} {what} value {s} is not valid (must be in \
                 range [{min}-{INTERVAL_MAX}]), ignoring"
            ),
        );
    }
    v.map(|v| v as u32)
}

fn kw(name: &'static str, h: Handler) -> Keyword {
    Keyword::new(name, h)
}

pub(super) fn keyword() -> Keyword {
    let neighbor: Handler = |c, w| {
        bfd_only(c, w, |c, w, n| {
            let Some(s) = c.arg(w, 1) else { return };
            let label = if w[0] == "neighbour_ip" {
                "neighbour"
            } else {
                "neighbor"
            };
            match value::address(s) {
                Some(a) => {
                    if let Some(b) = current(c) {
                        b.neighbor = Some(a);
                    }
                }
                None => {
                    c.report(
                        Kind::General,
                        format!(
                            "Configuration error: BFD instance {n} has malformed {label} address \
                             {s}, ignoring instance"
                        ),
                    );
                    if let Some(b) = current(c) {
                        b.enabled = false;
                    }
                    c.config.vrrp.bfd_reading = None;
                    c.skip_block(false);
                }
            }
        })
    };
    let ttl: Handler = |c, w| {
        bfd_only(c, w, |c, w, n| {
            let Some(s) = c.arg(w, 1) else { return };
            match value::unsigned(c, s, 1, TTL_MAX) {
                Some(v) => {
                    if let Some(b) = current(c) {
                        b.ttl = Some(v);
                    }
                }
                None => c.report(
                    Kind::General,
                    format!(
                        "Configuration error: BFD instance {n} ttl/hoplimit value {s} not valid \
                         (must be in range [1-{TTL_MAX}]), ignoring"
                    ),
                ),
            }
        })
    };
    let sub = vec![
        kw("source_ip", |c, w| {
            bfd_only(c, w, |c, w, n| {
                let Some(s) = c.arg(w, 1) else { return };
                match value::address(s) {
                    Some(a) => {
                        if let Some(b) = current(c) {
                            b.source = Some(a);
                        }
                    }
                    None => c.report(
                        Kind::General,
                        format!(
                            "Configuration error: BFD instance {n} has malformed source address \
                             {s}, ignoring"
                        ),
                    ),
                }
            })
        }),
        kw("neighbor_ip", neighbor),
        kw("neighbour_ip", neighbor),
        kw("min_rx", |c, w| {
            bfd_only(c, w, |c, w, n| {
                if let Some(v) = interval(c, w, n, "min_rx", 1) {
                    if let Some(b) = current(c) {
                        b.min_rx = Some(v);
                    }
                }
            })
        }),
        kw("min_tx", |c, w| {
            bfd_only(c, w, |c, w, n| {
                if let Some(v) = interval(c, w, n, "min_tx", 1) {
                    if let Some(b) = current(c) {
                        b.min_tx = Some(v);
                    }
                }
            })
        }),
        kw("idle_tx", |c, w| {
            bfd_only(c, w, |c, w, n| {
                if let Some(v) = interval(c, w, n, "idle_tx", 1000) {
                    if let Some(b) = current(c) {
                        b.idle_tx = Some(v);
                    }
                }
            })
        }),
        kw("multiplier", |c, w| {
            bfd_only(c, w, |c, w, n| {
                let Some(s) = c.arg(w, 1) else { return };
                match value::unsigned(c, s, 1, 255) {
                    Some(v) => {
                        if let Some(b) = current(c) {
                            b.multiplier = Some(v);
                        }
                    }
                    None => c.report(
                        Kind::General,
                        format!(
                            "Configuration error: BFD instance {n} multiplier value {s} not valid \
                             (must be in range [1-255]), ignoring"
                        ),
                    ),
                }
            })
        }),
        kw("passive", |c, w| {
            bfd_only(c, w, |c, _, _| {
                if let Some(b) = current(c) {
                    b.passive = true;
                }
            })
        }),
        kw("ttl", ttl),
        kw("hoplimit", ttl),
        kw("max_hops", |c, w| {
            bfd_only(c, w, |c, w, n| {
                let Some(s) = c.arg(w, 1) else { return };
                match value::int(c, s, -1, TTL_MAX as i32) {
                    Some(v) => {
                        if let Some(b) = current(c) {
                            b.max_hops = Some(v);
                        }
                    }
                    None => c.report(
                        Kind::General,
                        format!(
                            "Configuration error: BFD instance {n} max_hops value {s} not valid \
                             (must be in range [-1-{TTL_MAX}]), ignoring"
                        ),
                    ),
                }
            })
        }),
        // Only the VRRP process reads the weight.
        kw("weight", |c, w| {
            if c.view != View::Vrrp {
                return;
            }
            let Some(s) = c.arg(w, 1) else { return };
            let at = c.config.vrrp.bfd_reading;
            let n = c
                .config
                .vrrp
                .bfd_instances
                .iter()
                .find(|b| b.at == at)
                .map(|b| b.name.clone())
                .unwrap_or_default();
            let v = value::int(c, s, -253, 253);
            if v.is_none() {
                c.report(
                    Kind::General,
                    format!(
                        "Configuration error: BFD instance {n} weight value {s} not valid (must \
                         be in range [-253-253]), ignoring"
                    ),
                );
            }
            let reverse = match w.get(2) {
                Some(r) if r == "reverse" => true,
                Some(r) => {
                    c.report(
                        Kind::General,
                        format!("Configuration error: BFD instance {n} unknown weight option {r}"),
                    );
                    false
                }
                None => false,
            };
            if let Some(b) = c.config.vrrp.bfd_instances.iter_mut().find(|b| b.at == at) {
                if v.is_some() {
                    b.weight = v;
                }
                b.weight_reverse |= reverse;
            }
        }),
        kw("vrrp", |_, _| {}),
        kw("checker", |_, _| {}),
    ];
    Keyword::block("bfd_instance", Some(start), sub, Some(end))
}
