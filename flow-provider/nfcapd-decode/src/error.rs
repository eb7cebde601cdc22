//! Error type of the nfcapd decoder: every error carries the file byte offset (and block index
//! when known); the caller attaches the file name with `NfError::with_file`.
use std::fmt;

/// Decoding error. `offset` is always a byte offset into the *file* (for errors inside a
/// decompressed block it is the offset of that block's header; `reason` then names the
/// position inside the decompressed payload).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NfError {
    pub file: Option<String>,
    pub block: Option<u64>,
    pub offset: u64,
    pub reason: String,
}

impl NfError {
    pub fn new(offset: u64, reason: impl Into<String>) -> Self {
        NfError {
            file: None,
            block: None,
            offset,
            reason: reason.into(),
        }
    }

    pub fn in_block(block: u64, offset: u64, reason: impl Into<String>) -> Self {
        NfError {
            file: None,
            block: Some(block),
            offset,
            reason: reason.into(),
        }
    }

    /// Attach the file name (builder style).
    pub fn with_file(mut self, file: impl Into<String>) -> Self {
        self.file = Some(file.into());
        self
    }
}

impl fmt::Display for NfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.file {
            Some(name) => write!(f, "nfcapd file {name}: ")?,
            None => write!(f, "nfcapd file: ")?,
        }
        if let Some(b) = self.block {
            write!(f, "block {b} ")?;
        }
        write!(f, "at byte offset {}: {}", self.offset, self.reason)
    }
}

impl std::error::Error for NfError {}
