//! Arbitrary command lines: the input's NUL-separated pieces are the arguments.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let args: Vec<String> = data
        .split(|&b| b == 0)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    lvsadm::fuzzing::command_line(&args);
});
