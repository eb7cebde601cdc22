//! `ip_in_net(addr, cidr)`: whether the address `addr` (text, IPv4 or IPv6, as `src_ip` or
//! `ip_text` give it) lies in the net `cidr` (`a.b.c.d/n` or `x:y::/n`; a bare address is its
//! own /32 or /128). Host bits of the net are masked: `10.0.0.1/8` is `10.0.0.0/8`. An IPv4
//! address never lies in an IPv6 net nor the reverse, except an IPv4-mapped address
//! (`::ffff:a.b.c.d`), which also lies in the IPv4 nets of `a.b.c.d`. A NULL address or net
//! gives NULL. A constant net is parsed once, when the query is planned: a malformed one is an
//! error quoting it before any row is read; a net from a column is parsed when its value
//! changes, and a malformed value is an error quoting it, as is a malformed address.

use arrow::array::{AsArray, BooleanBuilder};
use arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};
use nfcapd_decode::net::{Net, dotted_quad};
use std::net::IpAddr;
use std::sync::Arc;

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct IpInNet {
    signature: Signature,
}

impl IpInNet {
    pub fn new() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl Default for IpInNet {
    fn default() -> Self {
        Self::new()
    }
}

/// The text of a string scalar, `None` for NULL (or another type).
fn scalar_text(v: &ScalarValue) -> Option<&str> {
    v.try_as_str().flatten()
}

impl ScalarUDFImpl for IpInNet {
    fn name(&self) -> &str {
        "ip_in_net"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        match args {
            [a, n] if [a, n].iter().all(|t| t.is_string() || t.is_null()) => {
                Ok(vec![DataType::Utf8, DataType::Utf8])
            }
            [_, _] => plan_err!(
                "ip_in_net(addr, cidr) takes an address as text (src_ip, ip_text(...)) and a net \
                 as text ('10.0.0.0/8'), got {} and {}",
                args[0],
                args[1]
            ),
            _ => plan_err!(
                "ip_in_net(addr, cidr) takes two arguments, got {}",
                args.len()
            ),
        }
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }

    /// A constant net is checked here, while the query is planned.
    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let cidr = args.scalar_arguments.get(1).copied().flatten();
        if let Some(cidr) = cidr.and_then(scalar_text)
            && let Err(e) = Net::parse(cidr)
        {
            return plan_err!("ip_in_net: {e}");
        }
        Ok(Arc::new(Field::new(self.name(), DataType::Boolean, true)))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let addrs = args.args[0].to_array(rows)?;
        let addrs = addrs.as_string::<i32>();
        let mut out = BooleanBuilder::with_capacity(rows);
        let parse = |cidr: &str| Net::parse(cidr).or_else(|e| exec_err!("ip_in_net: {e}"));
        match &args.args[1] {
            ColumnarValue::Scalar(s) => match scalar_text(s) {
                None => out.append_nulls(rows),
                Some(cidr) => {
                    let net = parse(cidr)?;
                    for a in addrs.iter() {
                        out.append_option(
                            a.map(|a| address(a).map(|a| net.contains(a))).transpose()?,
                        );
                    }
                }
            },
            ColumnarValue::Array(nets) => {
                let nets = nets.as_string::<i32>();
                // The last net parsed: a constant that crossed an FFI boundary arrives as an
                // array of one value repeated, and a column of nets repeats its values.
                let mut last: Option<(&str, Net)> = None;
                for (a, n) in addrs.iter().zip(nets.iter()) {
                    let (Some(a), Some(n)) = (a, n) else {
                        out.append_null();
                        continue;
                    };
                    let net = match last {
                        Some((text, net)) if text == n => net,
                        _ => {
                            let net = parse(n)?;
                            last = Some((n, net));
                            net
                        }
                    };
                    out.append_value(net.contains(address(a)?));
                }
            }
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

/// The address `text`, or an error quoting it.
fn address(text: &str) -> Result<IpAddr> {
    if let Some(a) = dotted_quad(text.as_bytes()) {
        return Ok(IpAddr::V4(a.into()));
    }
    match text.parse() {
        Ok(a) => Ok(a),
        Err(_) => exec_err!("ip_in_net: '{text}' is not an IPv4 or IPv6 address"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inside(addr: &str, cidr: &str) -> bool {
        Net::parse(cidr).unwrap().contains(addr.parse().unwrap())
    }

    #[test]
    fn nets_of_both_families() {
        assert!(inside("10.1.2.3", "10.0.0.0/8"));
        assert!(!inside("11.1.2.3", "10.0.0.0/8"));
        // host bits are masked
        assert!(inside("10.200.0.1", "10.0.0.1/8"));
        assert_eq!(Net::parse("10.0.0.1/8"), Net::parse("10.0.0.0/8"));
        assert!(inside("192.168.1.1", "0.0.0.0/0"));
        assert!(inside("192.168.1.1", "192.168.1.1"));
        assert!(!inside("192.168.1.2", "192.168.1.1/32"));
        assert!(inside("2001:db8::1", "2001:db8::/32"));
        assert!(!inside("2001:db9::1", "2001:db8::/32"));
        assert!(inside("fe80::1", "::/0"));
        // families: never across, except an IPv4-mapped address in its IPv4 net
        assert!(!inside("10.0.0.1", "::/0"));
        assert!(!inside("::10.0.0.1", "10.0.0.0/8"));
        assert!(inside("::ffff:10.0.0.1", "10.0.0.0/8"));
        assert!(inside("::ffff:10.0.0.1", "::ffff:0:0/96"));
        assert!(!inside("::ffff:11.0.0.1", "10.0.0.0/8"));
    }

    #[test]
    fn malformed_nets_are_errors_quoting_them() {
        for (cidr, why) in [
            ("10.0.0.0/33", "at most 32"),
            ("fe80::/129", "at most 128"),
            ("x/8", "'x' is not an IP address"),
            ("10.0.0.0/", "'' is not a prefix length"),
            ("10.0.0.0/+8", "'+8' is not a prefix length"),
            ("10.0.0.0/8/8", "'8/8' is not a prefix length"),
            ("10.0.0/8", "'10.0.0' is not an IP address"),
            ("", "'' is not an IP address"),
            ("10.0.0.0/0008", "'0008' is not a prefix length"),
        ] {
            let e = Net::parse(cidr).unwrap_err();
            assert!(e.starts_with(&format!("'{cidr}' is not a net")), "{e}");
            assert!(e.contains(why), "{cidr}: {e}");
        }
    }
}
