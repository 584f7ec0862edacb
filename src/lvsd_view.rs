//! What lvsd, running for the network namespace `lvsadm show` looks at, says of the table:
//! asked over its control socket (`/run/lvsd[/NAMESPACE]/control`), so `show` can mark the
//! destinations lvsd holds down or inhibited, list the real servers it took out, and show the
//! VRRP instances. No lvsd answering is no view, not an error.
//!
//! lvsd started with `--namespace NAME` keeps its socket under NAME, one started inside the
//! namespace (`ip netns exec NAME lvsd`) at `/run/lvsd/control`, which is also the root
//! namespace's daemon's: so both places are asked, and an answer counts only when the
//! namespace cookie it carries is the one of the namespace looked at.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

/// Where lvsd keeps its control sockets.
const RUN: &str = "/run/lvsd";

/// `status json` asked at the control socket `path`.
fn status(path: &Path) -> Option<Value> {
    let mut s = UnixStream::connect(path).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    s.write_all(b"status json\n").ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    serde_json::from_str(&text).ok()
}

/// lvsd's word on one real server of one service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Real {
    pub alive: bool,
    /// Why its failing check failed.
    pub failure: Option<String>,
}

#[derive(Debug, Default)]
pub struct View {
    /// By (service, real server), both as `lvsd status` writes them (`tcp 192.0.2.1:80`,
    /// `192.0.2.2:80`).
    pub reals: HashMap<(String, String), Real>,
    /// The VRRP instances, as `lvsd status --json` gives them.
    pub vrrp: Vec<Value>,
}

impl View {
    /// The answer of the lvsd of the namespace this thread is in, which is `namespace` when
    /// lvsadm was told its name; `None` when no lvsd of this namespace answers.
    pub fn ask(namespace: Option<&str>) -> Option<View> {
        let here = hostnet::netns::cookie().ok()?;
        let name = namespace
            .map(str::to_string)
            .or_else(crate::netns::current_name);
        let mut paths = Vec::new();
        if let Some(name) = name {
            paths.push(PathBuf::from(RUN).join(name).join("control"));
        }
        paths.push(PathBuf::from(RUN).join("control"));
        paths.iter().find_map(|path| {
            let doc = status(path)?;
            if doc.get("netns_cookie")?.as_u64()? != here {
                return None;
            }
            View::from_status(&doc)
        })
    }

    /// The view in `lvsd status --json`'s document.
    pub fn from_status(doc: &Value) -> Option<View> {
        let mut view = View::default();
        for vs in doc.get("virtual_servers")?.as_array()? {
            let services: Vec<&str> = vs
                .get("services")?
                .as_array()?
                .iter()
                .filter_map(Value::as_str)
                .collect();
            for rs in vs.get("real_servers")?.as_array()? {
                let address = rs.get("address")?.as_str()?.to_string();
                let failure = rs
                    .get("checks")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .find_map(|c| c.get("failure").and_then(Value::as_str))
                    .map(str::to_string);
                let real = Real {
                    alive: rs.get("alive")?.as_bool()?,
                    failure,
                };
                for s in &services {
                    view.reals
                        .insert((s.to_string(), address.clone()), real.clone());
                }
            }
        }
        if let Some(v) = doc.get("vrrp_instances").and_then(Value::as_array) {
            view.vrrp = v.clone();
        }
        Some(view)
    }

    /// The real servers of `service` lvsd holds down that are not among `present`: taken out
    /// of the table.
    pub fn held_down<'a>(
        &'a self,
        service: &'a str,
        present: &'a [String],
    ) -> impl Iterator<Item = (&'a str, &'a Real)> + 'a {
        let mut out: Vec<_> = self
            .reals
            .iter()
            .filter(move |((s, a), r)| s == service && !r.alive && !present.contains(a))
            .map(|((_, a), r)| (a.as_str(), r))
            .collect();
        out.sort_by(|a, b| a.0.cmp(b.0));
        out.into_iter()
    }

    /// One line per VRRP instance, as `lvsd status` writes it.
    pub fn vrrp_lines(&self) -> Vec<String> {
        self.vrrp
            .iter()
            .map(|i| {
                let s = |k: &str| {
                    i.get(k)
                        .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                        .unwrap_or_default()
                };
                let master = match i.get("master").and_then(Value::as_str) {
                    Some(m) => format!(", master {m}"),
                    None => String::new(),
                };
                format!(
                    "VRRP {} (vrid {} on {}): {} priority {} (configured {}){master}",
                    s("name"),
                    s("vrid"),
                    s("interface"),
                    s("state"),
                    s("priority"),
                    s("configured_priority")
                )
            })
            .collect()
    }
}
