//! Arbitrary bytes as a datagram from the kernel. The first byte picks the family assumed for
//! destinations that do not name theirs. Every generic-netlink body that parses as IPVS
//! attributes must also emit back into the same attributes.
#![no_main]

use ipvs::attr::{emit_attrs, parse_attrs, CmdAttr};
use ipvs::Family;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, datagram)) = data.split_first() else {
        return;
    };
    let family = if pick & 1 == 0 { Family::V4 } else { Family::V6 };
    let _ = ipvs::decode(datagram, family);
    // The attributes of a message start after the 16-byte netlink and 4-byte genl headers.
    if let Some(body) = datagram.get(20..) {
        if let Ok(attrs) = parse_attrs::<CmdAttr>(body) {
            let emitted = emit_attrs(&attrs);
            assert_eq!(parse_attrs::<CmdAttr>(&emitted).ok(), Some(attrs));
        }
    }
});
