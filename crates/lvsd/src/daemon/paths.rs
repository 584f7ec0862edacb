//! Where a daemon keeps its pid file and control socket: one daemon per network namespace,
//! as keepalived keeps its pid files under /run/keepalived/NAMESPACE/.

use std::path::PathBuf;

use lvsd::args::Args;

pub struct Paths {
    pub pid: PathBuf,
    pub control: PathBuf,
}

impl Paths {
    pub fn new(args: &Args) -> Paths {
        let namespace = args.namespace.as_deref();
        Paths {
            pid: args
                .value("pid")
                .map_or_else(|| run_dir(namespace).join("lvsd.pid"), PathBuf::from),
            control: control_path(namespace, args.value("control")),
        }
    }

    /// Writes the pid file, refusing when it names a daemon still running; returns its path.
    pub fn write_pid(&self) -> Result<PathBuf, String> {
        if let Ok(text) = std::fs::read_to_string(&self.pid) {
            if let Ok(pid) = text.trim().parse::<i32>() {
                let alive = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok();
                if alive && pid != std::process::id() as i32 {
                    return Err(format!(
                        "{} says lvsd runs as process {pid}: stop it first, or give another \
                         pid file (-p) for another configuration",
                        self.pid.display()
                    ));
                }
            }
        }
        if let Some(dir) = self.pid.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        std::fs::write(&self.pid, format!("{}\n", std::process::id()))
            .map_err(|e| format!("{}: {e}", self.pid.display()))?;
        Ok(self.pid.clone())
    }
}

/// The control socket: `control` (`--control`) if given, else the namespace's.
pub fn control_path(namespace: Option<&str>, control: Option<&str>) -> PathBuf {
    control.map_or_else(|| run_dir(namespace).join("control"), PathBuf::from)
}

/// The directory of the daemon of `namespace`.
fn run_dir(namespace: Option<&str>) -> PathBuf {
    let dir = PathBuf::from("/run/lvsd");
    match namespace {
        Some(ns) => dir.join(ns),
        None => dir,
    }
}
