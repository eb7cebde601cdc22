//! Bounded little-endian byte access: the only way the decoder reads input data, so malformed
//! input yields `None` (mapped to an error by the caller) instead of a panic.

/// Read `N` bytes at `off`, or `None` when out of range.
#[inline]
pub(crate) fn arr<const N: usize>(buf: &[u8], off: usize) -> Option<[u8; N]> {
    let end = off.checked_add(N)?;
    buf.get(off..end)?.try_into().ok()
}

#[inline]
pub(crate) fn u8_at(buf: &[u8], off: usize) -> Option<u8> {
    buf.get(off).copied()
}

#[inline]
pub(crate) fn u16_at(buf: &[u8], off: usize) -> Option<u16> {
    arr::<2>(buf, off).map(u16::from_le_bytes)
}

#[inline]
pub(crate) fn u32_at(buf: &[u8], off: usize) -> Option<u32> {
    arr::<4>(buf, off).map(u32::from_le_bytes)
}

#[inline]
pub(crate) fn u64_at(buf: &[u8], off: usize) -> Option<u64> {
    arr::<8>(buf, off).map(u64::from_le_bytes)
}

/// `len` bytes at `off`, or `None` when out of range.
#[inline]
pub(crate) fn slice(buf: &[u8], off: usize, len: usize) -> Option<&[u8]> {
    buf.get(off..off.checked_add(len)?)
}

/// nfdump stores IPv6 addresses as two host-order (little-endian) u64 values, the first
/// holding the most significant 64 bits. Returns the address as four u32 words, MSW first.
#[inline]
pub(crate) fn ipv6_words(buf: &[u8], off: usize) -> Option<[u32; 4]> {
    let hi = u64_at(buf, off)?;
    let lo = u64_at(buf, off.checked_add(8)?)?;
    Some([(hi >> 32) as u32, hi as u32, (lo >> 32) as u32, lo as u32])
}

/// IPv4 address (host-order u32) in the 4-word layout: `[0, 0, 0, addr]`.
#[inline]
pub(crate) fn ipv4_words(buf: &[u8], off: usize) -> Option<[u32; 4]> {
    Some([0, 0, 0, u32_at(buf, off)?])
}

/// An IPv4 address element with its family.
#[inline]
pub(crate) fn ipv4_addr(buf: &[u8], off: usize) -> Option<crate::record::Addr> {
    let words = ipv4_words(buf, off)?;
    Some(crate::record::Addr { af: 2, words })
}

/// An IPv6 address element with its family.
#[inline]
pub(crate) fn ipv6_addr(buf: &[u8], off: usize) -> Option<crate::record::Addr> {
    let words = ipv6_words(buf, off)?;
    Some(crate::record::Addr { af: 10, words })
}

/// A sequential cursor over a byte slice with bounds-checked reads.
#[derive(Debug, Clone)]
pub(crate) struct Cursor<'a> {
    pub buf: &'a [u8],
    pub pos: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(buf: &'a [u8], pos: usize) -> Self {
        Cursor { buf, pos }
    }

    pub fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = slice(self.buf, self.pos, n)?;
        self.pos += n;
        Some(s)
    }

    pub fn u32(&mut self) -> Option<u32> {
        let v = u32_at(self.buf, self.pos)?;
        self.pos += 4;
        Some(v)
    }

    pub fn u64(&mut self) -> Option<u64> {
        let v = u64_at(self.buf, self.pos)?;
        self.pos += 8;
        Some(v)
    }
}
