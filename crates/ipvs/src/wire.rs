//! Netlink framing: walking a received buffer message by message, the generic-netlink header,
//! and the type-length-value attribute encoding that every attribute set shares.
//!
//! Replies are parsed here rather than with neli's `Nlmsghdr` parser so that every length
//! the kernel (or a fuzzer) hands us is bounds-checked: a malformed reply is an error, never
//! a panic. Requests are framed here too, in place in the send buffer, which matters for
//! batches of hundreds of thousands; neli provides the socket.

/// Netlink and generic-netlink header sizes and alignment.
pub(crate) const NLMSG_HDRLEN: usize = 16;
pub(crate) const GENL_HDRLEN: usize = 4;
const NLA_HDRLEN: usize = 4;
/// `NLA_F_NESTED | NLA_F_NET_BYTEORDER`: flag bits in an attribute's type field.
const NLA_TYPE_MASK: u16 = !(0x8000 | 0x4000);

pub(crate) const NLMSG_ERROR: u16 = 2;
pub(crate) const NLMSG_DONE: u16 = 3;
pub(crate) const NLM_F_DUMP_INTR: u16 = 0x10;

pub(crate) const fn align(len: usize) -> usize {
    (len + 3) & !3
}

/// Why bytes could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("malformed netlink data: {0}")]
pub struct DecodeError(pub String);

impl DecodeError {
    pub(crate) fn new(what: impl Into<String>) -> DecodeError {
        DecodeError(what.into())
    }
}

/// One netlink message of a received buffer.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Message<'a> {
    pub kind: u16,
    pub flags: u16,
    pub seq: u32,
    pub body: &'a [u8],
}

impl Message<'_> {
    /// For `NLMSG_ERROR`: the (negative) errno, 0 for an ACK.
    pub fn error_code(&self) -> Result<i32, DecodeError> {
        let raw = self
            .body
            .get(..4)
            .ok_or_else(|| DecodeError::new("NLMSG_ERROR shorter than its error code"))?;
        Ok(i32::from_ne_bytes([raw[0], raw[1], raw[2], raw[3]]))
    }

    /// For a generic-netlink message: its command and attribute bytes.
    pub fn genl(&self) -> Result<(u8, &[u8]), DecodeError> {
        if self.body.len() < GENL_HDRLEN {
            return Err(DecodeError::new(
                "generic netlink message without its header",
            ));
        }
        Ok((self.body[0], &self.body[GENL_HDRLEN..]))
    }
}

/// Iterates over the netlink messages of one received datagram.
pub(crate) struct Messages<'a> {
    rest: &'a [u8],
}

impl<'a> Messages<'a> {
    pub fn new(buf: &'a [u8]) -> Messages<'a> {
        Messages { rest: buf }
    }
}

impl<'a> Iterator for Messages<'a> {
    type Item = Result<Message<'a>, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        if self.rest.len() < NLMSG_HDRLEN {
            self.rest = &[];
            return Some(Err(DecodeError::new("truncated netlink message header")));
        }
        let h = self.rest;
        let len = u32::from_ne_bytes([h[0], h[1], h[2], h[3]]) as usize;
        if len < NLMSG_HDRLEN || len > h.len() {
            self.rest = &[];
            return Some(Err(DecodeError::new(format!(
                "netlink message length {len} outside its {} byte buffer",
                h.len()
            ))));
        }
        let msg = Message {
            kind: u16::from_ne_bytes([h[4], h[5]]),
            flags: u16::from_ne_bytes([h[6], h[7]]),
            seq: u32::from_ne_bytes([h[8], h[9], h[10], h[11]]),
            body: &h[NLMSG_HDRLEN..len],
        };
        self.rest = h.get(align(len)..).unwrap_or(&[]);
        Some(Ok(msg))
    }
}

/// One attribute: its type (flag bits removed) and payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawAttr<'a> {
    pub kind: u16,
    pub payload: &'a [u8],
}

/// Iterates over a run of attributes.
pub(crate) struct Attrs<'a> {
    rest: &'a [u8],
}

impl<'a> Attrs<'a> {
    pub fn new(buf: &'a [u8]) -> Attrs<'a> {
        Attrs { rest: buf }
    }
}

impl<'a> Iterator for Attrs<'a> {
    type Item = Result<RawAttr<'a>, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        // Trailing bytes too short for a header are padding (the kernel's nla_parse ignores
        // them as well).
        if self.rest.len() < NLA_HDRLEN {
            self.rest = &[];
            return None;
        }
        let h = self.rest;
        let len = u16::from_ne_bytes([h[0], h[1]]) as usize;
        if len < NLA_HDRLEN || len > h.len() {
            self.rest = &[];
            return Some(Err(DecodeError::new(format!(
                "attribute length {len} outside its {} byte buffer",
                h.len()
            ))));
        }
        let attr = RawAttr {
            kind: u16::from_ne_bytes([h[2], h[3]]) & NLA_TYPE_MASK,
            payload: &h[NLA_HDRLEN..len],
        };
        self.rest = h.get(align(len)..).unwrap_or(&[]);
        Some(Ok(attr))
    }
}

/// Parses every attribute of `buf` with `parse`, in order.
pub(crate) fn parse_all<T>(
    buf: &[u8],
    parse: impl Fn(RawAttr<'_>) -> Result<T, DecodeError>,
) -> Result<Vec<T>, DecodeError> {
    Attrs::new(buf).map(|a| a.and_then(&parse)).collect()
}

/// Fixed-size payload readers. Each insists on the exact width: a kernel attribute of another
/// width means we misunderstood it, and silently reading part of it would hide that.
pub(crate) fn exact<const N: usize>(a: RawAttr<'_>) -> Result<[u8; N], DecodeError> {
    a.payload.try_into().map_err(|_| {
        DecodeError::new(format!(
            "attribute {} has {} bytes, expected {N}",
            a.kind,
            a.payload.len()
        ))
    })
}

pub(crate) fn u8_of(a: RawAttr<'_>) -> Result<u8, DecodeError> {
    Ok(exact::<1>(a)?[0])
}

pub(crate) fn u16_of(a: RawAttr<'_>) -> Result<u16, DecodeError> {
    Ok(u16::from_ne_bytes(exact(a)?))
}

pub(crate) fn be16_of(a: RawAttr<'_>) -> Result<u16, DecodeError> {
    Ok(u16::from_be_bytes(exact(a)?))
}

pub(crate) fn u32_of(a: RawAttr<'_>) -> Result<u32, DecodeError> {
    Ok(u32::from_ne_bytes(exact(a)?))
}

/// A NUL-terminated string; the bytes after the first NUL are not part of it.
pub(crate) fn string_of(a: RawAttr<'_>) -> String {
    let end = a
        .payload
        .iter()
        .position(|&b| b == 0)
        .unwrap_or(a.payload.len());
    String::from_utf8_lossy(&a.payload[..end]).into_owned()
}

/// Appends attributes to a buffer, padding each to the netlink alignment.
#[derive(Default)]
pub struct AttrWriter {
    pub buf: Vec<u8>,
}

impl AttrWriter {
    #[inline]
    pub fn put(&mut self, kind: u16, payload: &[u8]) {
        let len = NLA_HDRLEN + payload.len();
        // A payload over 64 KiB cannot be expressed; callers only emit short fixed-size values
        // and names, so clamp rather than wrap.
        let len16 = u16::try_from(len).unwrap_or(u16::MAX);
        let [l0, l1] = len16.to_ne_bytes();
        let [k0, k1] = kind.to_ne_bytes();
        self.buf.reserve(align(len));
        self.buf.extend_from_slice(&[l0, l1, k0, k1]);
        self.buf.extend_from_slice(payload);
        self.buf.extend_from_slice(&[0; 3][..align(len) - len]);
    }

    /// A string with its terminating NUL, as `nla_put_string` writes it.
    #[inline]
    pub fn put_string(&mut self, kind: u16, s: &str) {
        let start = self.begin(kind);
        self.buf.extend_from_slice(s.as_bytes());
        self.buf.push(0);
        self.finish(start);
    }

    /// A nested attribute whose payload `fill` writes. The kernel's IPVS replies do not set
    /// `NLA_F_NESTED` and its request parser does not need it, so it is not set.
    #[inline]
    pub fn nest(&mut self, kind: u16, fill: impl FnOnce(&mut AttrWriter)) {
        let start = self.begin(kind);
        fill(self);
        self.finish(start);
    }

    /// Writes an attribute header whose length [`Self::finish`] fills in.
    #[inline]
    fn begin(&mut self, kind: u16) -> usize {
        let start = self.buf.len();
        self.buf.extend_from_slice(&[0, 0]);
        self.buf.extend_from_slice(&kind.to_ne_bytes());
        start
    }

    #[inline]
    fn finish(&mut self, start: usize) {
        let len16 = u16::try_from(self.buf.len() - start).unwrap_or(u16::MAX);
        self.buf[start..start + 2].copy_from_slice(&len16.to_ne_bytes());
        let len = self.buf.len();
        self.buf.extend_from_slice(&[0; 3][..align(len) - len]);
    }
}

/// Appends one generic-netlink request to `out`: its netlink header, the `genlmsghdr`, and
/// the attributes `attrs` writes before it returns their command. Requests are framed here,
/// in place, because a batch frames hundreds of thousands of them.
pub(crate) fn frame_request(
    out: &mut Vec<u8>,
    header: RequestHeader,
    attrs: impl FnOnce(&mut AttrWriter) -> u8,
) {
    let start = out.len();
    let mut w = AttrWriter {
        buf: std::mem::take(out),
    };
    w.buf.extend_from_slice(&[0; NLMSG_HDRLEN]);
    w.buf.extend_from_slice(&[0, header.version, 0, 0]);
    let cmd = attrs(&mut w);
    *out = w.buf;
    out[start + NLMSG_HDRLEN] = cmd;
    let len = u32::try_from(out.len() - start).unwrap_or(u32::MAX);
    out[start..start + 4].copy_from_slice(&len.to_ne_bytes());
    out[start + 4..start + 6].copy_from_slice(&header.nl_type.to_ne_bytes());
    out[start + 6..start + 8].copy_from_slice(&header.flags.to_ne_bytes());
    out[start + 8..start + 12].copy_from_slice(&header.seq.to_ne_bytes());
    // nlmsg_pid stays 0: the kernel fills in the sender.
}

/// What goes into a request's netlink and generic-netlink headers.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RequestHeader {
    pub nl_type: u16,
    pub flags: u16,
    pub seq: u32,
    pub version: u8,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_round_trip_with_padding() {
        let mut w = AttrWriter::default();
        w.put(1, &[0xaa]);
        w.put_string(6, "wlc");
        w.nest(10, |n| n.put(1, &7u32.to_ne_bytes()));
        let parsed: Vec<_> = Attrs::new(&w.buf).collect::<Result<_, _>>().unwrap();
        assert_eq!(parsed.len(), 3);
        assert_eq!(
            parsed[0],
            RawAttr {
                kind: 1,
                payload: &[0xaa]
            }
        );
        assert_eq!(string_of(parsed[1]), "wlc");
        let inner: Vec<_> = Attrs::new(parsed[2].payload)
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(u32_of(inner[0]).unwrap(), 7);
        assert_eq!(w.buf.len() % 4, 0);
    }

    #[test]
    fn lengths_beyond_the_buffer_are_errors() {
        let bad = [200u8, 0, 1, 0, 0, 0, 0, 0];
        assert!(Attrs::new(&bad).next().unwrap().is_err());
        let short = [2u8, 0, 1, 0];
        assert!(Attrs::new(&short).next().unwrap().is_err());
        let msg = [255u8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        assert!(Messages::new(&msg).next().unwrap().is_err());
    }

    #[test]
    fn nested_flag_is_ignored_when_reading() {
        let buf = [8u8, 0, 0x01, 0x80, 1, 2, 3, 4];
        let a = Attrs::new(&buf).next().unwrap().unwrap();
        assert_eq!(a.kind, 1);
    }

    #[test]
    fn exact_widths_are_enforced() {
        let a = RawAttr {
            kind: 4,
            payload: &[1, 2, 3],
        };
        assert!(u32_of(a).is_err());
        assert!(u16_of(a).is_err());
    }
}
