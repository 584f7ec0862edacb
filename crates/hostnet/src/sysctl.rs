//! The kernel settings LVS set-up touches, as typed keys rather than free paths: a key can
//! only name one of these files, and an interface in it is an [`IfName`].

use std::fmt;
use std::fs;

use serde::{Deserialize, Serialize};

use crate::name::IfName;
use crate::Error;

/// Which `net.ipv4.conf.*` directory.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Conf {
    /// `all`: for ARP and reverse-path settings the kernel applies the larger of this and
    /// the interface's own value.
    All,
    Dev(IfName),
}

impl Conf {
    fn dir(&self) -> &str {
        match self {
            Conf::All => "all",
            Conf::Dev(name) => name.as_str(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConfKey {
    ArpIgnore,
    ArpAnnounce,
    RpFilter,
}

impl ConfKey {
    fn file(self) -> &'static str {
        match self {
            ConfKey::ArpIgnore => "arp_ignore",
            ConfKey::ArpAnnounce => "arp_announce",
            ConfKey::RpFilter => "rp_filter",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sysctl {
    Ipv4Conf(Conf, ConfKey),
    Ipv4Forward,
    Ipv6Forward,
}

impl Sysctl {
    fn path(&self) -> String {
        match self {
            Sysctl::Ipv4Conf(conf, key) => {
                format!("/proc/sys/net/ipv4/conf/{}/{}", conf.dir(), key.file())
            }
            Sysctl::Ipv4Forward => "/proc/sys/net/ipv4/ip_forward".to_string(),
            Sysctl::Ipv6Forward => "/proc/sys/net/ipv6/conf/all/forwarding".to_string(),
        }
    }

    pub fn read(&self) -> Result<i64, Error> {
        let text = fs::read_to_string(self.path()).map_err(|e| Error::Sysctl {
            what: format!("reading {self}"),
            source: e,
        })?;
        text.trim().parse().map_err(|_| Error::Sysctl {
            what: format!("reading {self}"),
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("not a number: {:?}", text.trim()),
            ),
        })
    }

    pub fn write(&self, value: i64) -> Result<(), Error> {
        fs::write(self.path(), format!("{value}\n")).map_err(|e| Error::Sysctl {
            what: format!("setting {self}={value}"),
            source: e,
        })
    }
}

/// The dotted name `sysctl(8)` uses.
impl fmt::Display for Sysctl {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            // sysctl(8) writes the dots of a name like eth0.10 as slashes.
            Sysctl::Ipv4Conf(conf, key) => write!(
                f,
                "net.ipv4.conf.{}.{}",
                conf.dir().replace('.', "/"),
                key.file()
            ),
            Sysctl::Ipv4Forward => f.write_str("net.ipv4.ip_forward"),
            Sysctl::Ipv6Forward => f.write_str("net.ipv6.conf.all.forwarding"),
        }
    }
}

/// What the kernel applies on `dev` for a setting it takes as the larger of `all` and the
/// device's own value (arp_ignore, arp_announce, rp_filter).
pub fn effective(key: ConfKey, dev: &IfName) -> Result<Effective, Error> {
    let all = Sysctl::Ipv4Conf(Conf::All, key).read()?;
    let own = Sysctl::Ipv4Conf(Conf::Dev(dev.clone()), key).read()?;
    Ok(Effective { all, own })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Effective {
    pub all: i64,
    pub own: i64,
}

impl Effective {
    pub fn value(&self) -> i64 {
        self.all.max(self.own)
    }
}

/// arp_ignore values under which a host does not answer ARP for an address that is not on
/// the interface the request came in on (see ip-sysctl.rst).
pub fn arp_ignore_hides_other_interfaces(value: i64) -> bool {
    matches!(value, 1 | 2 | 8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_name_only_their_files() {
        let eth0 = IfName::new("eth0").unwrap();
        let key = Sysctl::Ipv4Conf(Conf::Dev(eth0), ConfKey::ArpIgnore);
        assert_eq!(key.to_string(), "net.ipv4.conf.eth0.arp_ignore");
        assert_eq!(key.path(), "/proc/sys/net/ipv4/conf/eth0/arp_ignore");
        assert_eq!(
            Sysctl::Ipv4Conf(Conf::All, ConfKey::RpFilter).path(),
            "/proc/sys/net/ipv4/conf/all/rp_filter"
        );
        assert_eq!(
            Sysctl::Ipv6Forward.path(),
            "/proc/sys/net/ipv6/conf/all/forwarding"
        );
        let vlan = Conf::Dev(IfName::new("eth0.10").unwrap());
        let key = Sysctl::Ipv4Conf(vlan, ConfKey::ArpAnnounce);
        assert_eq!(key.to_string(), "net.ipv4.conf.eth0/10.arp_announce");
        assert_eq!(key.path(), "/proc/sys/net/ipv4/conf/eth0.10/arp_announce");
    }

    #[test]
    fn a_doctored_state_file_cannot_name_another_path() {
        let doctored = r#"{"ipv4_conf":[{"dev":"../../../etc"},"arp_ignore"]}"#;
        assert!(serde_json::from_str::<Sysctl>(doctored).is_err());
        let fine = r#"{"ipv4_conf":[{"dev":"eth0"},"arp_ignore"]}"#;
        assert!(serde_json::from_str::<Sysctl>(fine).is_ok());
    }

    #[test]
    fn the_larger_value_wins() {
        assert_eq!(Effective { all: 1, own: 0 }.value(), 1);
        assert_eq!(Effective { all: 0, own: 2 }.value(), 2);
        assert!(arp_ignore_hides_other_interfaces(1));
        assert!(!arp_ignore_hides_other_interfaces(3));
        assert!(!arp_ignore_hides_other_interfaces(0));
    }
}
