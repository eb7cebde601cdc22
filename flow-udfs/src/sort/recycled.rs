//! Memory for the columns the sort gathers: every column's values start at a
//! [`DIRECT_ALIGN`]-aligned address, so the binary writer's direct writes send them to the disk
//! as they are (no copy into an aligned buffer), and the memory goes back to its [`Recycler`]
//! when the batch holding it is dropped, to carry a later batch's values. Fresh memory costs a
//! page fault per 4 KiB at its first write: ~20 k faults for the 700 MB a 10 M-record sort
//! writes, when a few batches' worth of buffers recycled take care of it.

use arrow::buffer::{Buffer, ScalarBuffer};
use arrow::datatypes::ArrowNativeType;
use flow_provider::binary::DIRECT_ALIGN;
use std::sync::{Arc, Mutex};

/// Buffers given back, for the next columns. Cloning shares the pool.
#[derive(Clone, Default)]
pub struct Recycler(Arc<Mutex<Vec<Buffer>>>);

/// Buffers kept for reuse at most (a batch in flight has one per column).
const KEEP: usize = 256;

impl Recycler {
    /// `len` values written by `fill` (which finds recycled or zeroed values there and must
    /// overwrite all of them), starting at a [`DIRECT_ALIGN`]-aligned address.
    pub fn filled<T: ArrowNativeType>(
        &self,
        len: usize,
        fill: impl FnOnce(&mut [T]),
    ) -> ScalarBuffer<T> {
        let width = size_of::<T>();
        // Room to slide the values to the first aligned address.
        let capacity = len + DIRECT_ALIGN / width;
        let mut values = self
            .reuse(capacity)
            .unwrap_or_else(|| vec![T::default(); capacity]);
        let start = values
            .as_ptr()
            .align_offset(DIRECT_ALIGN)
            .min(capacity - len);
        fill(&mut values[start..start + len]);
        let owner = Lent {
            whole: Buffer::from_vec(values),
            range: start * width..(start + len) * width,
            home: self.clone(),
        };
        ScalarBuffer::new(Buffer::from(bytes::Bytes::from_owner(owner)), 0, len)
    }

    /// A returned buffer of exactly `capacity` values of type `T`, as a vector again.
    fn reuse<T: ArrowNativeType>(&self, capacity: usize) -> Option<Vec<T>> {
        let mut kept = self.0.lock().ok()?;
        let bytes = capacity * size_of::<T>();
        let at = kept.iter().position(|b| b.len() == bytes)?;
        // (A buffer of another type of the same width and alignment converts as well; one that
        // does not is dropped.)
        kept.swap_remove(at).into_vec().ok()
    }
}

/// A whole recycled allocation, of which `range` is lent to Arrow; back to `home` when Arrow
/// drops it.
struct Lent {
    whole: Buffer,
    range: std::ops::Range<usize>,
    home: Recycler,
}

impl AsRef<[u8]> for Lent {
    fn as_ref(&self) -> &[u8] {
        &self.whole.as_slice()[self.range.clone()]
    }
}

impl Drop for Lent {
    fn drop(&mut self) {
        let whole = std::mem::replace(&mut self.whole, Buffer::from_vec(Vec::<u8>::new()));
        if let Ok(mut kept) = self.home.0.lock()
            && kept.len() < KEEP
        {
            kept.push(whole);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligned_values_and_their_memory_comes_back() {
        let pool = Recycler::default();
        let a = pool.filled::<u32>(1000, |v| {
            v.iter_mut().enumerate().for_each(|(i, x)| *x = i as u32)
        });
        assert_eq!(a.len(), 1000);
        assert_eq!(a.as_ptr().align_offset(DIRECT_ALIGN), 0);
        assert_eq!(a[999], 999);
        let at = a.as_ptr();
        drop(a);
        // The same memory, holding the old values until `fill` overwrites them.
        let b = pool.filled::<u32>(1000, |v| {
            assert_eq!(v[7], 7);
            v.fill(5)
        });
        assert_eq!(b.as_ptr(), at);
        assert!(b.iter().all(|&x| x == 5));
        // Another width needs other memory; f32 has u32's layout and takes it back.
        let c = pool.filled::<u64>(1000, |v| v.fill(1));
        assert_ne!(c.as_ptr() as *const u32, at);
        drop(b);
        let d = pool.filled::<f32>(1000, |v| v.fill(0.5));
        assert_eq!(d.as_ptr() as *const u32, at);
        assert_eq!(d[0], 0.5);
        // A slice of an array keeps the memory lent until the last view is gone.
        let e = d.slice(10, 5);
        drop(d);
        let f = pool.filled::<f32>(1000, |v| v.fill(2.0));
        assert_ne!(f.as_ptr(), e.as_ptr().wrapping_sub(10));
        assert_eq!(e[0], 0.5);
    }
}
