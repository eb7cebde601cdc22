//! The time columns of a histogram's input as they come (u32 seconds and u16 milliseconds of a
//! binary trace or nfcapd, or i64), and the flows' durations from them, a chunk of rows at a
//! time into small buffers (no per-batch copy of whole columns).

use arrow::array::{Array, RecordBatch};
use arrow::datatypes::DataType;
use datafusion::common::{Result, exec_err};

use crate::duration::flow_duration;

/// Rows whose durations are computed at a time: four chunks of i64 stay in the L1 cache.
pub const CHUNK: usize = 1024;

/// One time column's values.
#[derive(Debug, Clone, Copy)]
enum Ints<'a> {
    U16(&'a [u16]),
    U32(&'a [u32]),
    I64(&'a [i64]),
}

impl<'a> Ints<'a> {
    fn of(batch: &'a RecordBatch, name: &str) -> Result<Self> {
        let Some(array) = batch.column_by_name(name) else {
            return exec_err!("histogram input has no column '{name}'");
        };
        if let Some(nulls) = array.nulls().filter(|n| n.null_count() > 0) {
            let row = nulls.iter().position(|v| !v).unwrap_or(0);
            return exec_err!("histogram input column '{name}' is null in row {row} of a batch");
        }
        use arrow::array::AsArray;
        use arrow::datatypes::{Int64Type, UInt16Type, UInt32Type};
        Ok(match array.data_type() {
            DataType::UInt16 => Ints::U16(array.as_primitive::<UInt16Type>().values()),
            DataType::UInt32 => Ints::U32(array.as_primitive::<UInt32Type>().values()),
            DataType::Int64 => Ints::I64(array.as_primitive::<Int64Type>().values()),
            t => return exec_err!("histogram input column '{name}' is {t}"),
        })
    }

    /// Rows `at..at + out.len()` as i64.
    fn read(self, at: usize, out: &mut [i64]) {
        let n = out.len();
        match self {
            Ints::U16(v) => out
                .iter_mut()
                .zip(&v[at..at + n])
                .for_each(|(o, &x)| *o = x.into()),
            Ints::U32(v) => out
                .iter_mut()
                .zip(&v[at..at + n])
                .for_each(|(o, &x)| *o = x.into()),
            Ints::I64(v) => out.copy_from_slice(&v[at..at + n]),
        }
    }
}

/// The four time columns of a batch.
#[derive(Debug, Clone, Copy)]
pub struct Times<'a> {
    columns: [Ints<'a>; 4],
}

impl<'a> Times<'a> {
    pub fn of(batch: &'a RecordBatch) -> Result<Self> {
        Ok(Self {
            columns: [
                Ints::of(batch, "first")?,
                Ints::of(batch, "first_ms")?,
                Ints::of(batch, "last")?,
                Ints::of(batch, "last_ms")?,
            ],
        })
    }

    /// The durations of rows `at..at + out.len()` (at most [`CHUNK`]), as `flow_duration`.
    pub fn durations(&self, packets: &[u64], at: usize, out: &mut [i64]) {
        let n = out.len();
        let mut buf = [[0i64; CHUNK]; 4];
        for (c, b) in self.columns.iter().zip(&mut buf) {
            c.read(at, &mut b[..n]);
        }
        let [f, fm, l, lm] = &buf;
        for (i, (d, &p)) in out.iter_mut().zip(&packets[at..at + n]).enumerate() {
            *d = flow_duration(f[i], fm[i], l[i], lm[i], p);
        }
    }

    /// The durations of all `packets.len()` rows into `out`.
    pub fn all_durations(&self, packets: &[u64], out: &mut Vec<i64>) {
        out.clear();
        out.resize(packets.len(), 0);
        for (k, chunk) in out.chunks_mut(CHUNK).enumerate() {
            self.durations(packets, k * CHUNK, chunk);
        }
    }
}
