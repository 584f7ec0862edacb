//! `IPVS_STATS_ATTR_*`: the counters and rates nested in services and destinations, 32-bit in
//! the old `STATS` nest and 64-bit in `STATS64`. The width is kept per attribute so that a
//! parsed nest emits back identically; the kernel's alignment padding (`PAD`, type 11) is an
//! ordinary unknown attribute.

use super::Attribute;
use crate::model::Stats;
use crate::wire::{AttrWriter, DecodeError, RawAttr};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatField {
    Conns = 1,
    InPkts = 2,
    OutPkts = 3,
    InBytes = 4,
    OutBytes = 5,
    Cps = 6,
    InPps = 7,
    OutPps = 8,
    InBps = 9,
    OutBps = 10,
}

impl StatField {
    fn from_kind(kind: u16) -> Option<StatField> {
        use StatField::*;
        Some(match kind {
            1 => Conns,
            2 => InPkts,
            3 => OutPkts,
            4 => InBytes,
            5 => OutBytes,
            6 => Cps,
            7 => InPps,
            8 => OutPps,
            9 => InBps,
            10 => OutBps,
            _ => return None,
        })
    }

    fn slot(self, s: &mut Stats) -> &mut u64 {
        use StatField::*;
        match self {
            Conns => &mut s.conns,
            InPkts => &mut s.inpkts,
            OutPkts => &mut s.outpkts,
            InBytes => &mut s.inbytes,
            OutBytes => &mut s.outbytes,
            Cps => &mut s.cps,
            InPps => &mut s.inpps,
            OutPps => &mut s.outpps,
            InBps => &mut s.inbps,
            OutBps => &mut s.outbps,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StatsAttr {
    U32(StatField, u32),
    U64(StatField, u64),
    Other(u16, Vec<u8>),
}

impl Attribute for StatsAttr {
    fn parse(raw: RawAttr<'_>) -> Result<Self, DecodeError> {
        let Some(field) = StatField::from_kind(raw.kind) else {
            return Ok(StatsAttr::Other(raw.kind, raw.payload.to_vec()));
        };
        match raw.payload.len() {
            4 => Ok(StatsAttr::U32(field, crate::wire::u32_of(raw)?)),
            8 => Ok(StatsAttr::U64(
                field,
                u64::from_ne_bytes(crate::wire::exact(raw)?),
            )),
            n => Err(DecodeError::new(format!(
                "statistics attribute {} has {n} bytes",
                raw.kind
            ))),
        }
    }

    fn emit(&self, w: &mut AttrWriter) {
        match self {
            StatsAttr::U32(f, v) => w.put(*f as u16, &v.to_ne_bytes()),
            StatsAttr::U64(f, v) => w.put(*f as u16, &v.to_ne_bytes()),
            StatsAttr::Other(kind, payload) => w.put(*kind, payload),
        }
    }
}

/// The counters as the kernel sends them in a `STATS64` nest.
#[cfg(test)]
pub(crate) fn stats_to_attrs(s: &Stats) -> Vec<StatsAttr> {
    let mut s = *s;
    (1..=10)
        .filter_map(StatField::from_kind)
        .map(|f| StatsAttr::U64(f, *f.slot(&mut s)))
        .collect()
}

pub(crate) fn stats_from_attrs(attrs: &[StatsAttr]) -> Stats {
    let mut stats = Stats::default();
    for a in attrs {
        count(&mut stats, a);
    }
    stats
}

/// Walks the nest of a dumped service or destination in place, handing `each` every attribute
/// but its two counter nests (kinds `counters`: 32-bit, 64-bit), and returns the counters. Only
/// the 64-bit nest is read when both are sent: listing a large table decodes tens of thousands
/// of entries.
pub(crate) fn entry_counters(
    nest: &[u8],
    counters: (u16, u16),
    mut each: impl FnMut(RawAttr<'_>) -> Result<(), DecodeError>,
) -> Result<Stats, DecodeError> {
    let (mut narrow, mut wide) = (None, None);
    for raw in crate::wire::Attrs::new(nest) {
        let raw = raw?;
        match raw.kind {
            k if k == counters.0 => narrow = Some(raw.payload),
            k if k == counters.1 => wide = Some(raw.payload),
            _ => each(raw)?,
        }
    }
    let stats = wide.or(narrow).map(stats_from_bytes).transpose()?;
    Ok(stats.unwrap_or_default())
}

/// [`stats_from_attrs`] read in place from the nest's bytes.
fn stats_from_bytes(nest: &[u8]) -> Result<Stats, DecodeError> {
    let mut stats = Stats::default();
    for raw in crate::wire::Attrs::new(nest) {
        count(&mut stats, &StatsAttr::parse(raw?)?);
    }
    Ok(stats)
}

fn count(stats: &mut Stats, a: &StatsAttr) {
    match a {
        StatsAttr::U32(f, v) => *f.slot(stats) = u64::from(*v),
        StatsAttr::U64(f, v) => *f.slot(stats) = *v,
        StatsAttr::Other(..) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attr::{emit_attrs, parse_attrs};

    #[test]
    fn both_widths_fill_the_same_counters() {
        let old = emit_attrs(&[
            StatsAttr::U32(StatField::Conns, 7),
            StatsAttr::U64(StatField::InBytes, 1 << 40),
            StatsAttr::U32(StatField::OutBps, 9),
        ]);
        let parsed: Vec<StatsAttr> = parse_attrs(&old).unwrap();
        let s = stats_from_attrs(&parsed);
        assert_eq!((s.conns, s.inbytes, s.outbps), (7, 1 << 40, 9));
        let wide = emit_attrs(&[
            StatsAttr::U64(StatField::Conns, u64::MAX),
            StatsAttr::Other(11, vec![]),
        ]);
        let parsed: Vec<StatsAttr> = parse_attrs(&wide).unwrap();
        assert_eq!(stats_from_attrs(&parsed).conns, u64::MAX);
        assert_eq!(emit_attrs(&parsed), wide);
    }

    #[test]
    fn an_odd_width_is_an_error_not_a_guess() {
        let odd = emit_attrs(&[StatsAttr::Other(1, vec![1, 2, 3])]);
        assert!(parse_attrs::<StatsAttr>(&odd).is_err());
    }
}
