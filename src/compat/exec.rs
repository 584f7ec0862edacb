//! Carries out a parsed command against the kernel and prints what ipvsadm prints.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Write};

use ipvs::{Client, Error, Info, Request, ServiceKey};

use super::{conns, help};
use crate::ipvsadm::messages::describe;
use crate::ipvsadm::render::{self, msort};
use crate::ipvsadm::{cannot_initialize, into_request, kernel, Command, Failure, Format, Listing};
use crate::lock::{self, Lock};

/// Destinations a listing holds at a time, about: it fetches the destinations of a block of
/// services (in parallel) before printing them, and sizes the next block after how many the
/// last one had. The memory a listing needs is bounded by this, not by the table.
const BLOCK_DESTS: usize = 8192;
/// The first block, and the bounds of every block, in services.
const BLOCK_SERVICES: (usize, usize) = (64, 2048);

/// IPVS 1.1.4, the oldest kernel interface ipvsadm 1.31 works with.
const MIN_VERSION: u32 = 0x010104;

/// Runs `f` with stdout, buffered. Output already written is flushed even when `f` fails
/// half-way, as ipvsadm's is.
pub fn with_stdout(
    f: impl FnOnce(&mut BufWriter<io::StdoutLock<'static>>) -> Result<(), Failure>,
) -> Result<(), Failure> {
    let mut out = BufWriter::new(io::stdout().lock());
    let result = f(&mut out);
    let flushed = out.flush().map_err(|e| Failure::output(&e));
    result.and(flushed)
}

/// Runs `cmd` (anything but a restore), printing to stdout.
pub fn carry_out(prog: &str, cmd: Command) -> Result<(), Failure> {
    with_stdout(|out| match cmd {
        Command::Help | Command::Version => print_info(prog, &cmd, out),
        cmd => Session::open().and_then(|mut s| match into_request(cmd) {
            Ok(req) => {
                let _lock = s.lock()?;
                match req {
                    // A restore of the same rules often follows (a restart, a script's
                    // reload): clear in the order that keeps it fast.
                    Request::Flush => s.client.clear(),
                    req => s.client.execute(&req),
                }
                .map_err(kernel)
            }
            Err(cmd) => s.execute(prog, cmd, out),
        }),
    })
}

fn print_info(prog: &str, cmd: &Command, out: &mut impl Write) -> Result<(), Failure> {
    match cmd {
        Command::Help => out.write_all(help::text(prog).as_bytes()),
        _ => writeln!(out, "{}", help::VERSION_LINE),
    }
    .map_err(|e| Failure::output(&e))
}

/// An open connection to IPVS and what the kernel said about itself.
pub struct Session {
    client: Client,
    info: Info,
}

fn listing(err: Error) -> Failure {
    Failure::new(1, describe(&err))
}

fn written(err: io::Error) -> Failure {
    Failure::output(&err)
}

impl Session {
    /// Connects as ipvsadm does (loading the module if need be), with its messages.
    pub fn open() -> Result<Session, Failure> {
        let (client, info) = Client::open().map_err(cannot_initialize)?;
        if info.version < MIN_VERSION {
            let (a, b, c) = info.version_triple();
            let _ = write!(
                io::stderr(),
                "Warning: IPVS version mismatch: \n  Kernel compiled with IPVS version {a}.{b}.{c}\n  \
                 ipvsadm v1.31  requires minimum IPVS version 1.1.4\n\n"
            );
        }
        Ok(Session { client, info })
    }

    pub fn client(&mut self) -> &mut Client {
        &mut self.client
    }

    /// Waits for other processes that change this namespace's table to finish.
    pub fn lock(&self) -> Result<Lock, Failure> {
        lock::table()
            .map_err(|e| Failure::new(2, format!("cannot take the IPVS table's lock: {e}")))
    }

    /// Runs a command that reads (listings, help); see [`into_request`] for the others.
    pub fn execute(
        &mut self,
        prog: &str,
        cmd: Command,
        out: &mut impl Write,
    ) -> Result<(), Failure> {
        match cmd {
            Command::Help | Command::Version => print_info(prog, &cmd, out),
            Command::Save(f) => self.list_all(&f, out),
            Command::List(l, f) => self.list(l, &f, out),
            cmd => match into_request(cmd) {
                Ok(req) => self.client.execute(&req).map_err(kernel),
                // Restore input cannot nest -R: the parser refuses it there.
                Err(_) => Err(Failure::new(255, "-R cannot be used inside -R")),
            },
        }
    }

    fn list(&mut self, listing: Listing, f: &Format, out: &mut impl Write) -> Result<(), Failure> {
        match listing {
            Listing::Table => self.list_all(f, out),
            Listing::Service(key) => self.list_service(&key, f, out),
            Listing::Connections => {
                let file = File::open(conns::PROC_FILE).map_err(|_| {
                    Failure::new(1, format!("cannot open file {}", conns::PROC_FILE))
                })?;
                conns::list(BufReader::new(file), out, f.numeric, f.persistent_conn)
            }
            Listing::Timeouts => {
                let t = self.client.timeouts().map_err(|_| Failure::new(1, ""))?;
                render::timeouts(out, &t).map_err(written)
            }
            Listing::Daemons => {
                let daemons = self.client.daemons().map_err(|_| Failure::new(1, ""))?;
                for d in daemons.iter().take(2) {
                    render::daemon(out, d).map_err(written)?;
                }
                Ok(())
            }
        }
    }

    fn list_all(&mut self, f: &Format, out: &mut impl Write) -> Result<(), Failure> {
        if !f.rule {
            render::header(out, &self.info).map_err(written)?;
        }
        let services = self.client.services().map_err(listing)?;
        let mut order: Vec<&ipvs::Service> = services.iter().collect();
        if !f.nosort {
            msort(&mut order, &|a: &&ipvs::Service, b: &&ipvs::Service| {
                render::cmp_services(a, b)
            });
        }
        render::title(out, f).map_err(written)?;
        let (mut size, largest) = BLOCK_SERVICES;
        let mut rest = &order[..];
        while !rest.is_empty() {
            let (block, tail) = rest.split_at(size.min(rest.len()));
            rest = tail;
            let keys: Vec<ServiceKey> = block.iter().map(|s| s.key).collect();
            match self.client.destinations_of(&keys, ipvs::fetch_workers(keys.len())) {
                Ok(dests) => {
                    let held: usize = dests.iter().map(Vec::len).sum();
                    size = match held {
                        n if n > BLOCK_DESTS => (size / 2).max(1),
                        n if n < BLOCK_DESTS / 4 => (size * 2).min(largest),
                        _ => size,
                    };
                    for (svc, dests) in block.iter().zip(dests) {
                        self.print_entry(svc, dests, f, out)?;
                    }
                }
                // Fetch again one by one, so that what comes before the failure is printed
                // and the failure is reported where ipvsadm reports it. A service deleted
                // since the services were listed is left out (ipvsadm stops there with `No
                // such service`): the listing shows the table as it is now.
                Err(_) => {
                    for svc in block {
                        match self.client.destinations(&svc.key) {
                            Ok(dests) => self.print_entry(svc, dests, f, out)?,
                            Err(e) if e.errno() == Some(libc::ESRCH) => {}
                            Err(e) => return Err(listing(e)),
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn list_service(
        &mut self,
        key: &ServiceKey,
        f: &Format,
        out: &mut impl Write,
    ) -> Result<(), Failure> {
        let svc = self.client.service(key).map_err(listing)?;
        render::title(out, f).map_err(written)?;
        self.print_service(&svc, f, out)
    }

    fn print_service(
        &mut self,
        svc: &ipvs::Service,
        f: &Format,
        out: &mut impl Write,
    ) -> Result<(), Failure> {
        let dests = self.client.destinations(&svc.key).map_err(listing)?;
        self.print_entry(svc, dests, f, out)
    }

    fn print_entry(
        &mut self,
        svc: &ipvs::Service,
        mut dests: Vec<ipvs::Destination>,
        f: &Format,
        out: &mut impl Write,
    ) -> Result<(), Failure> {
        render::entry(out, svc, &mut dests, f).map_err(written)
    }
}
