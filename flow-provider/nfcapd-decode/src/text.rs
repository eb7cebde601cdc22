//! Addresses and MPLS labels as nfdump prints them: addresses as glibc's `inet_ntop` writes
//! them (dotted IPv4; IPv6 in hex words with the longest run of two or more zero words
//! as `::`, the first of equal runs, and `::a.b.c.d` / `::ffff:a.b.c.d` for IPv4-compatible
//! and IPv4-mapped addresses), MPLS stack entries as `label-exp-S`.

use crate::IpWords;
use std::fmt::{self, Write};

/// `AF_INET` as nfdump's pipe output and flow-models store the address family.
pub const AF_INET: u8 = 2;
/// `AF_INET6` (Linux).
pub const AF_INET6: u8 = 10;

/// Writes the address of family `af` held in `w` (`w[0]` most significant; IPv4 in `w[3]`).
/// `false` (nothing written) for a family other than [`AF_INET`] and [`AF_INET6`].
pub fn write_ip(out: &mut impl Write, af: u8, w: &IpWords) -> Result<bool, fmt::Error> {
    match af {
        AF_INET => write_ipv4(out, w[3])?,
        AF_INET6 => write_ipv6(out, w)?,
        _ => return Ok(false),
    }
    Ok(true)
}

/// Writes an IPv4 address in dotted decimal. (`Ipv4Addr`'s `Display` costs about ten times
/// as much: formatting machinery per octet, and the text is what a `src_ip` column is made of.)
pub fn write_ipv4(out: &mut impl Write, a: u32) -> fmt::Result {
    let mut buf = [0u8; 15];
    let mut n = 0;
    for (i, octet) in a.to_be_bytes().into_iter().enumerate() {
        if i > 0 {
            buf[n] = b'.';
            n += 1;
        }
        if octet >= 100 {
            buf[n] = b'0' + octet / 100;
            n += 1;
        }
        if octet >= 10 {
            buf[n] = b'0' + octet / 10 % 10;
            n += 1;
        }
        buf[n] = b'0' + octet % 10;
        n += 1;
    }
    // Only ASCII digits and dots were written.
    out.write_str(std::str::from_utf8(&buf[..n]).map_err(|_| fmt::Error)?)
}

/// The text of [`write_ip`], `None` for another family.
pub fn ip_text(af: u8, w: &IpWords) -> Option<String> {
    let mut s = String::new();
    write_ip(&mut s, af, w).ok()?.then_some(s)
}

/// Writes an IPv6 address exactly as glibc's `inet_ntop(AF_INET6, ...)` does.
pub fn write_ipv6(out: &mut impl Write, w: &IpWords) -> fmt::Result {
    let words: [u16; 8] = std::array::from_fn(|i| (w[i / 2] >> (16 * (1 - i % 2))) as u16);
    // The longest run of zero words (the first of equal ones), if at least two long.
    let (mut best, mut run) = ((0, 0), None::<(usize, usize)>);
    for (i, &v) in words.iter().enumerate() {
        run = match (v, run) {
            (0, Some((at, n))) => Some((at, n + 1)),
            (0, None) => Some((i, 1)),
            _ => None,
        };
        if let Some((at, n)) = run.filter(|&(_, n)| n > best.1) {
            best = (at, n);
        }
    }
    if best.1 < 2 {
        best = (usize::MAX, 0);
    }
    let mut i = 0;
    while i < 8 {
        if i == best.0 {
            out.write_char(':')?;
            i += best.1;
            if i == 8 {
                out.write_char(':')?;
            }
            continue;
        }
        if i > 0 {
            out.write_char(':')?;
        }
        // IPv4-compatible (six zero words) or IPv4-mapped (five, then ffff) addresses end in
        // their IPv4 address.
        if i == 6 && best.0 == 0 && (best.1 == 6 || (best.1 == 5 && words[5] == 0xffff)) {
            return write_ipv4(out, w[3]);
        }
        write!(out, "{:x}", words[i])?;
        i += 1;
    }
    Ok(())
}

/// Writes MPLS stack entries as nfdump prints them (`%mpls` of `-o fmt`): each entry as
/// `label-exp-S` (the 20-bit label, the 3 experimental bits, the bottom-of-stack bit of the
/// 24-bit stack word nfdump stores), separated by single spaces, all entries in stack order.
pub fn write_mpls(out: &mut impl Write, labels: &[u32]) -> fmt::Result {
    for (i, &l) in labels.iter().enumerate() {
        if i > 0 {
            out.write_char(' ')?;
        }
        write!(out, "{}-{}-{}", l >> 4, (l & 0xf) >> 1, l & 1)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v6(bytes: [u8; 16]) -> String {
        let b = u128::from_be_bytes(bytes);
        let w = [
            (b >> 96) as u32,
            (b >> 64) as u32,
            (b >> 32) as u32,
            b as u32,
        ];
        ip_text(AF_INET6, &w).unwrap()
    }

    /// Expected values: glibc 2.36's `inet_ntop`, through Python's `socket.inet_ntop`.
    #[test]
    fn ipv6_is_written_as_glibc_writes_it() {
        let mut b = [0u8; 16];
        assert_eq!(v6(b), "::");
        b[15] = 1;
        assert_eq!(v6(b), "::1");
        b[14] = 1;
        b[15] = 2;
        assert_eq!(v6(b), "::102");
        b[12] = 1;
        b[13] = 2;
        b[14] = 3;
        b[15] = 4;
        assert_eq!(v6(b), "::1.2.3.4");
        b[10] = 0xff;
        b[11] = 0xff;
        assert_eq!(v6(b), "::ffff:1.2.3.4");
        let b = [0x20, 1, 0x0d, 0xb8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(v6(b), "2001:db8:0:1::");
        let b = [0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(v6(b), "1:0:1::");
        let b = [0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2];
        assert_eq!(v6(b), "1::102");
        // equal runs: the first is compressed; one zero word never is
        let b = [0, 1, 0, 0, 0, 0, 0, 2, 0, 3, 0, 0, 0, 0, 0, 4];
        assert_eq!(v6(b), "1::2:3:0:0:4");
        let b = [
            0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x02, 0x11, 0x22, 0xff, 0xfe, 0x33, 0x44, 0x55,
        ];
        assert_eq!(v6(b), "fe80::211:22ff:fe33:4455");
        let b = [0xff; 16];
        assert_eq!(v6(b), "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
        let b = [0, 1, 0, 2, 0, 3, 0, 4, 0, 0, 0, 6, 0, 7, 0, 8];
        assert_eq!(v6(b), "1:2:3:4:0:6:7:8");
    }

    #[test]
    fn ipv4_is_written_as_the_standard_library_writes_it() {
        let mut x = 0x9e37_79b9u32;
        let edges = [
            0,
            1,
            9,
            10,
            99,
            100,
            255,
            0x0a00_0001,
            0xc0a8_6401,
            u32::MAX,
        ];
        for a in edges.into_iter().chain((0..100_000).map(|_| {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            x
        })) {
            let mut s = String::new();
            write_ipv4(&mut s, a).unwrap();
            assert_eq!(s, std::net::Ipv4Addr::from(a).to_string());
        }
    }

    #[test]
    fn families() {
        assert_eq!(
            ip_text(AF_INET, &[0, 0, 0, 0x0a00_0001]).as_deref(),
            Some("10.0.0.1")
        );
        // the family decides, not the words: IPv4 from the last word only
        assert_eq!(ip_text(AF_INET, &[7, 7, 7, 0]).as_deref(), Some("0.0.0.0"));
        assert_eq!(ip_text(AF_INET6, &[0, 0, 0, 0]).as_deref(), Some("::"));
        assert_eq!(ip_text(0, &[0, 0, 0, 1]), None);
        assert_eq!(ip_text(23, &[0, 0, 0, 1]), None);
    }

    #[test]
    fn mpls_entries_as_nfdump_prints_them() {
        let mut s = String::new();
        // label 16, exp 0, bottom; label 1000, exp 5, not bottom; an empty entry
        write_mpls(&mut s, &[(1000 << 4) | (5 << 1), (16 << 4) | 1, 0]).unwrap();
        assert_eq!(s, "1000-5-0 16-0-1 0-0-0");
    }
}
