//! `IPVS_INFO_ATTR_*`: the top-level attributes of a `GET_INFO` reply.

use super::Attribute;
use crate::model::Info;
use crate::wire::{u32_of, AttrWriter, DecodeError, RawAttr};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InfoAttr {
    Version(u32),
    ConnTabSize(u32),
    Other(u16, Vec<u8>),
}

impl Attribute for InfoAttr {
    fn parse(raw: RawAttr<'_>) -> Result<Self, DecodeError> {
        Ok(match raw.kind {
            1 => InfoAttr::Version(u32_of(raw)?),
            2 => InfoAttr::ConnTabSize(u32_of(raw)?),
            kind => InfoAttr::Other(kind, raw.payload.to_vec()),
        })
    }

    fn emit(&self, w: &mut AttrWriter) {
        match self {
            InfoAttr::Version(v) => w.put(1, &v.to_ne_bytes()),
            InfoAttr::ConnTabSize(v) => w.put(2, &v.to_ne_bytes()),
            InfoAttr::Other(kind, payload) => w.put(*kind, payload),
        }
    }
}

pub(crate) fn info_from_attrs(attrs: &[InfoAttr]) -> Result<Info, DecodeError> {
    let mut version = None;
    let mut size = None;
    for a in attrs {
        match a {
            InfoAttr::Version(v) => version = Some(*v),
            InfoAttr::ConnTabSize(v) => size = Some(*v),
            InfoAttr::Other(..) => {}
        }
    }
    match (version, size) {
        (Some(version), Some(conn_tab_size)) => Ok(Info {
            version,
            conn_tab_size,
        }),
        _ => Err(DecodeError::new(
            "GET_INFO reply without version or table size",
        )),
    }
}
