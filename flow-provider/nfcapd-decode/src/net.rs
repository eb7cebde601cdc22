//! IP nets (`a.b.c.d/n`, `x:y::/n`) and the test whether an address lies in one, shared by
//! `ip_in_net` and the nfcapd scan that answers it from a record's address words.

use crate::text::{AF_INET, AF_INET6};
use crate::{FlowRow, IpWords};
use std::net::{IpAddr, Ipv6Addr};

/// A parsed net: the masked address and the mask, in 32 bits (IPv4) or 128 (IPv6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Net {
    V4 { net: u32, mask: u32 },
    V6 { net: u128, mask: u128 },
}

impl Net {
    /// The net of `cidr`, or why it is not one.
    pub fn parse(cidr: &str) -> std::result::Result<Net, String> {
        let (addr, len) = match cidr.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (cidr, None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| format!("'{cidr}' is not a net: '{addr}' is not an IP address"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let len = match len {
            None => max,
            Some(l) if !l.is_empty() && l.len() <= 3 && l.bytes().all(|b| b.is_ascii_digit()) => {
                let n: u32 = l.parse().unwrap_or(u32::MAX);
                if n > max {
                    return Err(format!(
                        "'{cidr}' is not a net: the prefix length of an {} net is at most {max}",
                        if max == 32 { "IPv4" } else { "IPv6" }
                    ));
                }
                n
            }
            Some(l) => {
                return Err(format!(
                    "'{cidr}' is not a net: '{l}' is not a prefix length"
                ));
            }
        };
        Ok(match addr {
            IpAddr::V4(a) => {
                let mask = u32::MAX.checked_shl(32 - len).unwrap_or(0);
                Net::V4 {
                    net: u32::from(a) & mask,
                    mask,
                }
            }
            IpAddr::V6(a) => {
                let mask = u128::MAX.checked_shl(128 - len).unwrap_or(0);
                Net::V6 {
                    net: u128::from(a) & mask,
                    mask,
                }
            }
        })
    }

    /// Whether `addr` lies in this net (see the module comment for the families).
    pub fn contains(&self, addr: IpAddr) -> bool {
        match (*self, addr) {
            (Net::V4 { net, mask }, IpAddr::V4(a)) => u32::from(a) & mask == net,
            (Net::V4 { net, mask }, IpAddr::V6(a)) => a
                .to_ipv4_mapped()
                .is_some_and(|a| u32::from(a) & mask == net),
            (Net::V6 { net, mask }, IpAddr::V6(a)) => u128::from(a) & mask == net,
            (Net::V6 { .. }, IpAddr::V4(_)) => false,
        }
    }
}

/// The address of family `af` in `w` (IPv4 in `w[3]`), `None` for another family: the
/// address whose text [`crate::text::write_ip`] writes.
pub fn words_addr(af: u8, w: &IpWords) -> Option<IpAddr> {
    match af {
        AF_INET => Some(IpAddr::V4(w[3].into())),
        AF_INET6 => {
            let v = (u128::from(w[0]) << 96)
                | (u128::from(w[1]) << 64)
                | (u128::from(w[2]) << 32)
                | u128::from(w[3]);
            Some(IpAddr::V6(Ipv6Addr::from(v)))
        }
        _ => None,
    }
}

/// Nets a record's addresses must lie in to be kept (`dst`: the destination address, else the
/// source): `FlowColumns::filter`. Empty: every record is kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RowFilter(Vec<(bool, Net)>);

impl RowFilter {
    pub fn new(nets: Vec<(bool, Net)>) -> Self {
        Self(nets)
    }

    /// Whether `r`'s addresses lie in every net; a record without an address in none.
    #[inline]
    pub fn keeps(&self, r: &FlowRow) -> bool {
        self.0.is_empty()
            || self.0.iter().all(|&(dst, net)| {
                let w = match dst {
                    true => [r.da0, r.da1, r.da2, r.da3],
                    false => [r.sa0, r.sa1, r.sa2, r.sa3],
                };
                words_addr(r.af, &w).is_some_and(|a| net.contains(a))
            })
    }
}

/// An IPv4 address in dotted decimal as `Ipv4Addr`'s parser accepts it (four octets of one to
/// three digits, none above 255, no leading zero), parsed without its generic machinery: the
/// addresses of a `src_ip` column are parsed once per row. `None` for anything else.
pub fn dotted_quad(text: &[u8]) -> Option<u32> {
    let mut parts = text.split(|&b| b == b'.');
    let mut a = 0u32;
    for _ in 0..4 {
        let part = parts.next()?;
        if part.is_empty() || part.len() > 3 || (part.len() > 1 && part[0] == b'0') {
            return None;
        }
        let mut octet = 0u32;
        for &d in part {
            if !d.is_ascii_digit() {
                return None;
            }
            octet = octet * 10 + u32::from(d - b'0');
        }
        if octet > 255 {
            return None;
        }
        a = a << 8 | octet;
    }
    parts.next().is_none().then_some(a)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::ip_text;

    #[test]
    fn dotted_quads_parse_as_the_standard_library_parses_them() {
        let texts = [
            "10.0.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "256.0.0.1",
            "01.2.3.4",
            "1.2.3",
            "1.2.3.4.5",
            "1..3.4",
            "1.2.3.4.",
            ".1.2.3",
            "1.2.3.a",
            "1.2.3.04",
            "1.2.3.0",
            "+1.2.3.4",
            "",
            "1234.1.1.1",
            "::1",
            "1.2.3.4 ",
            "\u{0661}.2.3.4",
        ];
        for t in texts {
            let std = t.parse::<std::net::Ipv4Addr>().ok().map(u32::from);
            assert_eq!(dotted_quad(t.as_bytes()), std, "{t:?}");
        }
        let mut x = 7u32;
        for _ in 0..20_000 {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let t = std::net::Ipv4Addr::from(x).to_string();
            assert_eq!(dotted_quad(t.as_bytes()), Some(x));
        }
    }

    /// The address of the words is the address of their text, in both families.
    #[test]
    fn words_give_the_address_their_text_names() {
        let cases: [(u8, IpWords); 6] = [
            (2, [0, 0, 0, 0x0a00_0001]),
            (10, [0x2001_0db8, 0, 0, 1]),
            (10, [0, 0, 0xffff, 0x0a00_0001]),
            (10, [0, 0, 0, 0x0102_0304]),
            (10, [0; 4]),
            (2, [7, 7, 7, 0xc0a8_0001]),
        ];
        for (af, w) in cases {
            let text = ip_text(af, &w).unwrap();
            assert_eq!(words_addr(af, &w), Some(text.parse().unwrap()), "{text}");
        }
        assert_eq!(words_addr(0, &[0; 4]), None);
        let net = Net::parse("10.0.0.0/8").unwrap();
        assert!(net.contains(words_addr(10, &[0, 0, 0xffff, 0x0a00_0001]).unwrap()));
        assert!(!net.contains(words_addr(10, &[0, 0, 0, 0x0a00_0001]).unwrap()));
    }
}
