//! Interface names and address labels. Both end up in `/proc/sys` paths and netlink
//! messages, so they are checked once, here, and carried as types that cannot be invalid.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The kernel's `IFNAMSIZ` less the terminating NUL.
const MAX_LEN: usize = 15;

/// Why a name was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what} {name:?}: {why}")]
pub struct NameError {
    what: &'static str,
    name: String,
    why: &'static str,
}

/// A network interface name the kernel would accept, which also names a directory under
/// `/proc/sys/net/ipv4/conf/`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IfName(String);

impl IfName {
    pub fn new(name: &str) -> Result<IfName, NameError> {
        let refuse = |why| NameError {
            what: "interface name",
            name: name.to_string(),
            why,
        };
        check_chars(name).map_err(refuse)?;
        if name.contains(':') {
            return Err(refuse("':' separates a label from its device"));
        }
        if name == "." || name == ".." {
            return Err(refuse("not a name"));
        }
        // These are the sysctl directories that apply to every interface or to new ones.
        if name == "all" || name == "default" {
            return Err(refuse(
                "reserved for the sysctl directories of the same name",
            ));
        }
        Ok(IfName(name.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IfName {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for IfName {
    type Error = NameError;
    fn try_from(s: String) -> Result<IfName, NameError> {
        IfName::new(&s)
    }
}

impl From<IfName> for String {
    fn from(n: IfName) -> String {
        n.0
    }
}

/// An IPv4 address label (`eth0:3`): the device's name, then anything ifconfig-style tools
/// show after it. The kernel stores at most 15 bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label(String);

impl Label {
    pub fn new(label: &str, dev: &IfName) -> Result<Label, NameError> {
        let refuse = |why| NameError {
            what: "label",
            name: label.to_string(),
            why,
        };
        check_chars(label).map_err(refuse)?;
        if !label.starts_with(dev.as_str()) {
            return Err(refuse("a label must begin with its device's name"));
        }
        Ok(Label(label.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Splits ifconfig's alias form: `eth0:3` is device `eth0` with label `eth0:3`.
pub fn device_and_label(dev: &str) -> Result<(IfName, Option<Label>), NameError> {
    match dev.split_once(':') {
        Some((device, _)) => {
            let device = IfName::new(device)?;
            let label = Label::new(dev, &device)?;
            Ok((device, Some(label)))
        }
        None => Ok((IfName::new(dev)?, None)),
    }
}

fn check_chars(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("empty");
    }
    if name.len() > MAX_LEN {
        return Err("longer than 15 bytes");
    }
    if name.contains('/') {
        return Err("contains '/'");
    }
    if !name.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("contains a space, a control character or a non-ASCII character");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_kernel_takes_are_accepted() {
        for name in [
            "lo",
            "eth0",
            "br-lan.10",
            "tunl0",
            "a",
            "veth_0@x",
            "fifteen_chars_x",
        ] {
            assert_eq!(IfName::new(name).unwrap().as_str(), name);
        }
    }

    #[test]
    fn names_that_would_escape_or_confuse_are_refused() {
        for name in [
            "",
            ".",
            "..",
            "../../x",
            "a/b",
            "eth0:1",
            "all",
            "default",
            "sixteen_chars_xx",
            "eth 0",
            "eth\t0",
            "eth\n0",
            "eth\u{0}0",
            "éth0",
        ] {
            assert!(IfName::new(name).is_err(), "{name:?} accepted");
        }
    }

    #[test]
    fn alias_form_splits_into_device_and_label() {
        let (dev, label) = device_and_label("eth0:3").unwrap();
        assert_eq!(dev.as_str(), "eth0");
        assert_eq!(label.unwrap().as_str(), "eth0:3");
        let (dev, label) = device_and_label("br0").unwrap();
        assert_eq!((dev.as_str(), label), ("br0", None));
        assert!(device_and_label("../x:1").is_err());
        assert!(device_and_label("eth0:/../x").is_err());
        assert!(device_and_label("eth0:123456789012").is_err());
    }

    #[test]
    fn labels_begin_with_their_device() {
        let dev = IfName::new("eth0").unwrap();
        assert!(Label::new("eth0:vip", &dev).is_ok());
        assert!(Label::new("eth1:vip", &dev).is_err());
    }

    #[test]
    fn names_from_a_state_file_are_checked_too() {
        assert!(serde_json::from_str::<IfName>("\"../../etc\"").is_err());
        assert_eq!(
            serde_json::from_str::<IfName>("\"lo\"").unwrap().as_str(),
            "lo"
        );
    }
}
