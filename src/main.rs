//! lvsadm: administration of the Linux kernel's IPVS load balancer. Run with ipvsadm's
//! options it is ipvsadm 1.31, byte for byte (see `docs/compatibility.md`).

mod compat;
mod flags;
mod resolve;

fn main() {
    let args: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    std::process::exit(compat::main(&args));
}
