//! `ip_in_net(src_ip, 'net')` and `ip_in_net(dst_ip, 'net')` answered by the nfcapd scan, as
//! nfdump's `src net …` / `dst net …` filters are answered inside its decoder: the record's
//! address words are tested as it is decoded (`nfcapd_decode::net::RowFilter`), and only the
//! records inside every pushed net become rows (their `src_ip` text included). The scan takes these filters exactly (DataFusion
//! drops its own filter for them), so they must give what `ip_in_net` gives on the text: the
//! words' address is the text's address (`nfcapd_decode::net::words_addr`), tested by the same
//! `Net::contains`; a record without an address (NULL text, NULL result) is dropped.

use datafusion::common::ScalarValue;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::ScalarFunctionExpr;
use datafusion::physical_expr::expressions::{Column, Literal};
use nfcapd_decode::net::{Net, RowFilter};
use std::fmt;
use std::sync::Arc;

/// The nets pushed into a scan, as plain data; all of them must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AddrNets(Vec<AddrNet>);

/// One pushed net: on the destination address (else the source), IPv6 (else IPv4), the
/// masked net and its mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AddrNet {
    pub dst: bool,
    pub v6: bool,
    pub net: u128,
    pub mask: u128,
}

impl AddrNet {
    /// The net of `ip_in_net(src_ip | dst_ip, '<valid net>')`, `None` for any other filter.
    pub fn from_filter(e: &Arc<dyn PhysicalExpr>) -> Option<Self> {
        let f = e.downcast_ref::<ScalarFunctionExpr>()?;
        let [addr, net] = f.args() else {
            return None;
        };
        if f.name() != "ip_in_net" {
            return None;
        }
        let dst = match addr.downcast_ref::<Column>()?.name() {
            "src_ip" => false,
            "dst_ip" => true,
            _ => return None,
        };
        let text = match net.downcast_ref::<Literal>()?.value() {
            ScalarValue::Utf8(Some(t))
            | ScalarValue::LargeUtf8(Some(t))
            | ScalarValue::Utf8View(Some(t)) => t.clone(),
            _ => return None,
        };
        Some(match Net::parse(&text).ok()? {
            Net::V4 { net, mask } => Self {
                dst,
                v6: false,
                net: net.into(),
                mask: mask.into(),
            },
            Net::V6 { net, mask } => Self {
                dst,
                v6: true,
                net,
                mask,
            },
        })
    }

    fn net(&self) -> Net {
        match self.v6 {
            true => Net::V6 {
                net: self.net,
                mask: self.mask,
            },
            false => Net::V4 {
                net: self.net as u32,
                mask: self.mask as u32,
            },
        }
    }
}

impl AddrNets {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Takes `net` (once).
    pub fn add(&mut self, net: AddrNet) {
        if !self.0.contains(&net) {
            self.0.push(net);
        }
    }

    /// The decoder's filter keeping the records inside every net.
    pub fn row_filter(&self) -> RowFilter {
        RowFilter::new(self.0.iter().map(|n| (n.dst, n.net())).collect())
    }
}

impl fmt::Display for AddrNets {
    /// As EXPLAIN shows it: `nets=[src_ip in 10.0.0.0/8]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = (self.0.iter())
            .map(|n| {
                let side = if n.dst { "dst_ip" } else { "src_ip" };
                let len = n.mask.count_ones();
                match n.v6 {
                    true => format!("{side} in {}/{len}", std::net::Ipv6Addr::from(n.net)),
                    false => format!("{side} in {}/{len}", std::net::Ipv4Addr::from(n.net as u32)),
                }
            })
            .collect();
        write!(f, "nets=[{}]", parts.join(", "))
    }
}
