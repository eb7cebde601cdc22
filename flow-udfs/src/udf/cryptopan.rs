//! `cryptopan(addr, key)`: Crypto-PAn prefix-preserving anonymisation of an IPv4 address held
//! as a u32 (`sa3`, `da3`), equal to flow-models 2.2's `lib/cryptopan.py` (pycryptopan) with
//! the same 32-byte key: AES-128 keyed with the key's first 16 bytes; the pad is the encryption
//! of its last 16. Addresses sharing a k-bit prefix keep a common k-bit prefix. The key is
//! never part of an error message.

use super::arrays;
use aes::Aes128;
use aes::cipher::{BlockEncrypt, KeyInit, generic_array::GenericArray};
use arrow::array::{Array, AsArray, UInt32Array};
use arrow::datatypes::{DataType, UInt32Type};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};
use std::collections::HashMap;
use std::sync::Arc;

/// A Crypto-PAn instance for one key.
pub(crate) struct CryptoPan {
    aes: Aes128,
    /// The encrypted second half of the key: its first 4 bytes fill the bits below each
    /// prefix, the other 12 complete every block.
    pad: [u8; 16],
}

impl CryptoPan {
    /// A key of exactly 32 bytes (the original's `--key`, its characters as bytes).
    pub fn new(key: &[u8]) -> std::result::Result<Self, String> {
        if key.len() != 32 {
            return Err(format!(
                "the Crypto-PAn key must be 32 bytes long, got {}",
                key.len()
            ));
        }
        let aes = Aes128::new(GenericArray::from_slice(&key[..16]));
        let mut pad = GenericArray::clone_from_slice(&key[16..]);
        aes.encrypt_block(&mut pad);
        Ok(Self {
            aes,
            pad: pad.into(),
        })
    }

    /// The anonymised address: bit i (from the top) flipped by the top bit of the encryption of
    /// the address's first i bits followed by the pad's bits.
    pub fn anonymize(&self, address: u32) -> u32 {
        let fill = u32::from_be_bytes([self.pad[0], self.pad[1], self.pad[2], self.pad[3]]);
        // The 32 blocks are independent: encrypted together (pipelined AES-NI).
        let mut blocks = [GenericArray::<u8, aes::cipher::consts::U16>::default(); 32];
        for (p, block) in blocks.iter_mut().enumerate() {
            let mask = if p == 0 { 0 } else { u32::MAX << (32 - p) };
            let input = (address & mask) | (fill & !mask);
            block[..4].copy_from_slice(&input.to_be_bytes());
            block[4..].copy_from_slice(&self.pad[4..]);
        }
        self.aes.encrypt_blocks(&mut blocks);
        let flips = blocks
            .iter()
            .fold(0u32, |acc, b| (acc << 1) | u32::from(b[0] >> 7));
        flips ^ address
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct CryptoPanUdf {
    signature: Signature,
}

impl CryptoPanUdf {
    pub fn new() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl Default for CryptoPanUdf {
    fn default() -> Self {
        Self::new()
    }
}

impl ScalarUDFImpl for CryptoPanUdf {
    fn name(&self) -> &str {
        "cryptopan"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        match args {
            [a, k] if (a.is_integer() || a.is_null()) && (k.is_string() || k.is_null()) => {
                Ok(vec![DataType::UInt32, DataType::Utf8])
            }
            [_, _] => plan_err!(
                "cryptopan(addr, key): addr is an IPv4 address as an integer (sa3, da3), key a \
                 32-character string"
            ),
            _ => plan_err!(
                "cryptopan(addr, key) takes two arguments, got {}",
                args.len()
            ),
        }
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::UInt32)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let key = match &args.args[1] {
            ColumnarValue::Scalar(ScalarValue::Utf8(Some(k))) => k.as_bytes().to_vec(),
            ColumnarValue::Scalar(_) => return exec_err!("cryptopan: the key is NULL"),
            ColumnarValue::Array(_) => {
                return exec_err!("cryptopan: the key must be a constant, not a column");
            }
        };
        let cp = CryptoPan::new(&key).map_err(|e| {
            datafusion::common::DataFusionError::Execution(format!("cryptopan: {e}"))
        })?;
        let addr = arrays(
            "cryptopan",
            &args.args[..1],
            &[DataType::UInt32],
            args.number_rows,
        )?;
        let addr = addr[0].as_primitive::<UInt32Type>();
        // Flows repeat addresses: each is encrypted once per batch, as the original caches.
        let mut seen: HashMap<u32, u32> = HashMap::new();
        let values: Vec<u32> = addr
            .values()
            .iter()
            .map(|&a| *seen.entry(a).or_insert_with(|| cp.anonymize(a)))
            .collect();
        let out = UInt32Array::new(values.into(), addr.nulls().cloned());
        Ok(ColumnarValue::Array(Arc::new(out)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference vectors of the Crypto-PAn paper's implementation (Xu, Fan, Ammar, Moon):
    /// its key and first addresses, as pycryptopan's tests use them.
    #[test]
    fn paper_vectors() {
        let key: Vec<u8> = [
            21u8, 34, 23, 141, 51, 164, 207, 128, 19, 10, 91, 22, 73, 144, 125, 16, 216, 152, 143,
            131, 121, 121, 101, 39, 98, 87, 76, 45, 42, 132, 34, 2,
        ]
        .to_vec();
        let cp = CryptoPan::new(&key).unwrap();
        let ip = |s: &str| u32::from(s.parse::<std::net::Ipv4Addr>().unwrap());
        for (plain, anon) in [
            ("128.11.68.132", "135.242.180.132"),
            ("129.118.74.4", "134.136.186.123"),
            ("130.132.252.244", "133.68.164.234"),
            ("141.223.7.43", "141.167.8.160"),
            ("141.233.145.108", "141.129.237.235"),
            ("152.163.225.39", "151.140.114.167"),
        ] {
            assert_eq!(cp.anonymize(ip(plain)), ip(anon), "{plain}");
        }
        assert!(CryptoPan::new(b"short").is_err());
    }
}
