//! The flow-models field set and type codes: the one source of truth that every reader, writer
//! and the CLI use, so that all sources expose the same column names and Arrow types.

use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use std::sync::{Arc, LazyLock};

/// The 21 standard flow-models fields with their binary type codes, in canonical order.
pub const STANDARD_FIELDS: [(&str, char); 21] = [
    ("af", 'B'),
    ("prot", 'B'),
    ("inif", 'H'),
    ("outif", 'H'),
    ("sa0", 'I'),
    ("sa1", 'I'),
    ("sa2", 'I'),
    ("sa3", 'I'),
    ("da0", 'I'),
    ("da1", 'I'),
    ("da2", 'I'),
    ("da3", 'I'),
    ("sp", 'H'),
    ("dp", 'H'),
    ("first", 'I'),
    ("first_ms", 'H'),
    ("last", 'I'),
    ("last_ms", 'H'),
    ("packets", 'Q'),
    ("octets", 'Q'),
    ("aggs", 'I'),
];

/// The fields that identify a flow (used by merge and as sort keys).
pub const KEY_FIELDS: [&str; 14] = [
    "af", "prot", "inif", "outif", "sa0", "sa1", "sa2", "sa3", "da0", "da1", "da2", "da3", "sp",
    "dp",
];

/// Arrow type of a binary type code (`l`/`L` are 64-bit, as numpy's on 64-bit Linux).
pub fn dtype_to_arrow(code: char) -> Option<DataType> {
    Some(match code {
        'b' => DataType::Int8,
        'B' => DataType::UInt8,
        'h' => DataType::Int16,
        'H' => DataType::UInt16,
        'i' => DataType::Int32,
        'I' => DataType::UInt32,
        'l' | 'q' => DataType::Int64,
        'L' | 'Q' => DataType::UInt64,
        'f' => DataType::Float32,
        'd' => DataType::Float64,
        _ => return None,
    })
}

/// Binary type code written for an Arrow type; `None` when the binary format cannot hold it.
pub fn arrow_to_dtype(dt: &DataType) -> Option<char> {
    Some(match dt {
        DataType::Int8 => 'b',
        DataType::UInt8 => 'B',
        DataType::Int16 => 'h',
        DataType::UInt16 => 'H',
        DataType::Int32 => 'i',
        DataType::UInt32 => 'I',
        DataType::Int64 => 'q',
        DataType::UInt64 => 'Q',
        DataType::Float32 => 'f',
        DataType::Float64 => 'd',
        _ => return None,
    })
}

/// Position of a standard field, used to put standard columns first in canonical order.
pub fn standard_position(name: &str) -> Option<usize> {
    STANDARD_FIELDS.iter().position(|(n, _)| *n == name)
}

/// Schema of the 21 standard fields (non-nullable), as csv_flow, pipe and nfcapd expose them.
pub fn standard_schema() -> SchemaRef {
    static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
        Arc::new(Schema::new(
            STANDARD_FIELDS
                .iter()
                .map(|(name, code)| {
                    Field::new(*name, dtype_to_arrow(*code).expect("known code"), false)
                })
                .collect::<Vec<_>>(),
        ))
    });
    SCHEMA.clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips_through_arrow() {
        for code in "bBhHiIqQfd".chars() {
            let dt = dtype_to_arrow(code).unwrap();
            assert_eq!(arrow_to_dtype(&dt), Some(code));
            assert_eq!(dt.primitive_width(), Some(width_of(code)));
        }
        assert_eq!(dtype_to_arrow('l'), Some(DataType::Int64));
        assert_eq!(dtype_to_arrow('L'), Some(DataType::UInt64));
        assert_eq!(dtype_to_arrow('x'), None);
    }

    fn width_of(code: char) -> usize {
        match code {
            'b' | 'B' => 1,
            'h' | 'H' => 2,
            'i' | 'I' | 'f' => 4,
            _ => 8,
        }
    }

    #[test]
    fn standard_schema_has_flow_models_order() {
        let s = standard_schema();
        assert_eq!(s.fields().len(), 21);
        assert_eq!(s.field(0).name(), "af");
        assert_eq!(s.field(18).data_type(), &DataType::UInt64);
        assert_eq!(standard_position("aggs"), Some(20));
    }
}
