//! `cryptopan(addr, key)`: Crypto-PAn prefix-preserving anonymisation of an IPv4 address held
//! as a u32 (`sa3`, `da3`), equal to flow-models 2.2's `lib/cryptopan.py` (pycryptopan) with
//! the same 32-byte key: AES-128 keyed with the key's first 16 bytes; the pad is the encryption
//! of its last 16. Addresses sharing a k-bit prefix keep a common k-bit prefix. The key is
//! never part of an error message.
//!
//! `cryptopan6(w0, w1, w2, w3, key)` is the same scheme over 128 bits for IPv6 addresses held
//! as four u32 words (`sa0..sa3`, `w0` the most significant), an extension of this project (the
//! original anonymizes IPv4 only): bit i (from the top) is flipped by the top bit of the AES
//! encryption of the address's first i bits followed by the pad's bits below them (the whole
//! 16-byte pad, where IPv4 uses its first 4 bytes for the address and the other 12 as they are).
//! An IPv4 address in the top 32 bits gets exactly its `cryptopan` bits, so both are one
//! function of the prefix. The result is a struct of the four words (`w0` … `w3`).

use super::arrays;
use aes::Aes128;
use aes::cipher::{BlockEncrypt, KeyInit, generic_array::GenericArray};
use arrow::array::{Array, ArrayRef, AsArray, StructArray, UInt32Array};
use arrow::buffer::NullBuffer;
use arrow::datatypes::{DataType, Field, Fields, UInt32Type};
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
        let top = u128::from(address) << 96;
        address ^ (self.flips(top, 32) >> 96) as u32
    }

    /// [`CryptoPan::anonymize`] over 128 bits: the pad fills every bit below a prefix.
    pub fn anonymize_v6(&self, address: u128) -> u128 {
        address ^ self.flips(address, 128)
    }

    /// The flips of the first `bits` bits of `address` (left-aligned in 128 bits), in the top
    /// `bits` bits: block p is the address's first p bits, then the pad's; the blocks are
    /// independent, encrypted together (pipelined AES-NI). An IPv4 address's blocks are its
    /// 4 bytes (pad bits below the prefix) and the pad's other 12, as pycryptopan builds them.
    fn flips(&self, address: u128, bits: usize) -> u128 {
        let fill = u128::from_be_bytes(self.pad);
        let mut blocks = [GenericArray::<u8, aes::cipher::consts::U16>::default(); 128];
        let blocks = &mut blocks[..bits];
        for (p, block) in blocks.iter_mut().enumerate() {
            let mask = if p == 0 { 0 } else { u128::MAX << (128 - p) };
            block.copy_from_slice(&((address & mask) | (fill & !mask)).to_be_bytes());
        }
        self.aes.encrypt_blocks(blocks);
        let flips = (blocks.iter()).fold(0u128, |acc, b| (acc << 1) | u128::from(b[0] >> 7));
        flips << (128 - bits)
    }
}

/// The Crypto-PAn instance of a constant key argument of `function`.
fn instance(function: &str, key: &ColumnarValue) -> Result<CryptoPan> {
    let key = match key {
        ColumnarValue::Scalar(ScalarValue::Utf8(Some(k))) => k.clone(),
        ColumnarValue::Scalar(_) => return exec_err!("{function}: the key is NULL"),
        // A constant that crossed an FFI boundary (a datafusion-python session) arrives as an
        // array of the one value, repeated.
        ColumnarValue::Array(a) => {
            let a = arrow::compute::cast(a, &DataType::Utf8)?;
            let keys = a.as_string::<i32>();
            let first = (!keys.is_empty() && keys.is_valid(0)).then(|| keys.value(0));
            match first {
                Some(k) if keys.iter().all(|v| v == Some(k)) => k.to_string(),
                _ => return exec_err!("{function}: the key must be a constant, not a column"),
            }
        }
    };
    CryptoPan::new(key.as_bytes())
        .map_err(|e| datafusion::common::DataFusionError::Execution(format!("{function}: {e}")))
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
        let cp = instance("cryptopan", &args.args[1])?;
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

/// The struct `cryptopan6` returns: the anonymized address's four words.
fn words() -> Fields {
    (0..4)
        .map(|i| Field::new(format!("w{i}"), DataType::UInt32, false))
        .collect()
}

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct CryptoPan6Udf {
    signature: Signature,
}

impl CryptoPan6Udf {
    pub fn new() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl Default for CryptoPan6Udf {
    fn default() -> Self {
        Self::new()
    }
}

impl ScalarUDFImpl for CryptoPan6Udf {
    fn name(&self) -> &str {
        "cryptopan6"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        let integer = |t: &DataType| t.is_integer() || t.is_null();
        match args {
            [w @ .., k]
                if w.len() == 4 && w.iter().all(integer) && (k.is_string() || k.is_null()) =>
            {
                Ok([vec![DataType::UInt32; 4], vec![DataType::Utf8]].concat())
            }
            _ => plan_err!(
                "cryptopan6(w0, w1, w2, w3, key): an IPv6 address as four 32-bit words (sa0..sa3, \
                 da0..da3), key a 32-character string; got {} arguments",
                args.len()
            ),
        }
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Struct(words()))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let cp = instance("cryptopan6", &args.args[4])?;
        let words_in = arrays(
            "cryptopan6",
            &args.args[..4],
            &[const { DataType::UInt32 }; 4],
            args.number_rows,
        )?;
        let w: Vec<&UInt32Array> = words_in.iter().map(|a| a.as_primitive()).collect();
        let nulls = w
            .iter()
            .fold(None, |n, a| NullBuffer::union(n.as_ref(), a.nulls()));
        let mut out = [(); 4].map(|_| Vec::with_capacity(args.number_rows));
        let mut seen: HashMap<u128, u128> = HashMap::new();
        for row in 0..args.number_rows {
            let address = (0..4).fold(0u128, |a, i| (a << 32) | u128::from(w[i].value(row)));
            let anon = *seen
                .entry(address)
                .or_insert_with(|| cp.anonymize_v6(address));
            for (i, o) in out.iter_mut().enumerate() {
                o.push((anon >> (96 - 32 * i)) as u32);
            }
        }
        let columns: Vec<ArrayRef> = out
            .into_iter()
            .map(|v| Arc::new(UInt32Array::from(v)) as ArrayRef)
            .collect();
        let array = StructArray::try_new(words(), columns, nulls)?;
        Ok(ColumnarValue::Array(Arc::new(array)))
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
        // An IPv4 address in the top 32 bits of an IPv6 one keeps its IPv4 anonymization.
        for (plain, anon) in [
            ("128.11.68.132", "135.242.180.132"),
            ("152.163.225.39", "151.140.114.167"),
        ] {
            let v6 = cp.anonymize_v6(u128::from(ip(plain)) << 96);
            assert_eq!((v6 >> 96) as u32, ip(anon), "{plain}");
        }
    }

    /// Prefix preservation over 128 bits: two addresses whose first differing bit is k give
    /// anonymized addresses whose first differing bit is k.
    #[test]
    fn ipv6_prefixes_are_preserved() {
        let cp = CryptoPan::new(b"boojahyoo3vaeToong0Eijee7Ahz3yee").unwrap();
        let a: u128 = u128::from(std::net::Ipv6Addr::new(
            0x2001, 0xdb8, 0x85a3, 0, 0, 0x8a2e, 0x370, 0x7334,
        ));
        let anon_a = cp.anonymize_v6(a);
        assert_ne!(anon_a, a);
        for k in [0u32, 1, 31, 32, 63, 64, 100, 127] {
            let b = a ^ (1u128 << (127 - k));
            let common = (cp.anonymize_v6(b) ^ anon_a).leading_zeros();
            assert_eq!(common, k, "flipping bit {k}");
        }
        assert_eq!(cp.anonymize_v6(a), anon_a, "deterministic");
    }
}
