//! The `lvsadm` command; everything it does is in the library half of this package.

fn main() {
    let args = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    std::process::exit(lvsadm::main(args));
}
