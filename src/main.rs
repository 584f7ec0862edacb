//! The `lvsadm` command; everything it does is in the library half of this package.

/// `EX_SOFTWARE`: what lvsadm exits with if it has a bug that panics, instead of Rust's 101,
/// which no lvsadm or ipvsadm status means.
const INTERNAL_ERROR: i32 = 70;

fn main() {
    let args = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let status = std::panic::catch_unwind(|| lvsadm::main(args)).unwrap_or_else(|_| {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "lvsadm: internal error (the message above); this is a bug, please report it"
        );
        INTERNAL_ERROR
    });
    std::process::exit(status);
}
