//! Arbitrary restore texts and rules files.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    lvsadm::fuzzing::rules(data);
});
