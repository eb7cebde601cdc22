//! The nfcapd table's columns (the 21 flow-models fields first, with exactly the types of
//! `fields::STANDARD_FIELDS`, then nfdump's extra fields) and the move of decoded
//! `FlowColumns` into Arrow arrays without copying the value vectors.

use crate::fields::standard_schema;
use arrow::array::{
    ArrayRef, FixedSizeListArray, PrimitiveArray, RecordBatch, RecordBatchOptions, StringBuilder,
};
use arrow::buffer::{NullBuffer, ScalarBuffer};
use arrow::datatypes::{
    ArrowPrimitiveType, DataType, Field, Schema, SchemaRef, UInt8Type, UInt16Type, UInt32Type,
    UInt64Type,
};
use datafusion::common::Result;
use nfcapd_decode::text::{AF_INET, write_ip};
use nfcapd_decode::{Addr, Column, FlowColumns, Projection};
use std::sync::{Arc, LazyLock};

/// Extra columns after the standard ones: (name, type). `inif32`/`outif32` carry the full
/// 32-bit interface indices of nfdump 1.7, which `inif`/`outif` (UInt16 as in flow-models)
/// saturate at 65535.
const EXTRA: &[(&str, DataType)] = &[
    ("tcp_flags", DataType::UInt8),
    ("tos", DataType::UInt8),
    ("dst_tos", DataType::UInt8),
    ("dir", DataType::UInt8),
    ("src_as", DataType::UInt32),
    ("dst_as", DataType::UInt32),
    ("src_mask", DataType::UInt8),
    ("dst_mask", DataType::UInt8),
    ("out_packets", DataType::UInt64),
    ("out_bytes", DataType::UInt64),
    ("next_hop", DataType::Utf8),
    ("bgp_next_hop", DataType::Utf8),
    ("router_ip", DataType::Utf8),
    ("exporter_id", DataType::UInt16),
    ("engine_type", DataType::UInt8),
    ("engine_id", DataType::UInt8),
    ("src_vlan", DataType::UInt16),
    ("dst_vlan", DataType::UInt16),
    ("inif32", DataType::UInt32),
    ("outif32", DataType::UInt32),
    ("fwd_status", DataType::UInt8),
    ("biflow_dir", DataType::UInt8),
    ("flow_end_reason", DataType::UInt8),
    ("received_ms", DataType::UInt64),
];

/// Columns present only when the record has the element: NULL otherwise.
fn optional() -> Vec<(&'static str, DataType)> {
    let mpls = DataType::FixedSizeList(Arc::new(Field::new("item", DataType::UInt32, false)), 10);
    vec![
        ("src_ip", DataType::Utf8),
        ("dst_ip", DataType::Utf8),
        ("in_src_mac", DataType::UInt64),
        ("out_dst_mac", DataType::UInt64),
        ("in_dst_mac", DataType::UInt64),
        ("out_src_mac", DataType::UInt64),
        ("mpls_labels", mpls),
        ("client_nw_delay_usec", DataType::UInt64),
        ("server_nw_delay_usec", DataType::UInt64),
        ("appl_latency_usec", DataType::UInt64),
        ("bgp_next_adjacent_as", DataType::UInt32),
        ("bgp_prev_adjacent_as", DataType::UInt32),
        ("event_time_ms", DataType::UInt64),
        ("conn_id", DataType::UInt32),
        ("fw_event", DataType::UInt8),
        ("fw_xevent", DataType::UInt16),
        ("nat_event", DataType::UInt8),
        ("nat_pool_id", DataType::UInt32),
        ("xlate_src_ip", DataType::Utf8),
        ("xlate_dst_ip", DataType::Utf8),
        ("xlate_src_port", DataType::UInt16),
        ("xlate_dst_port", DataType::UInt16),
        ("ingress_vrf", DataType::UInt32),
        ("egress_vrf", DataType::UInt32),
        ("vlan_id", DataType::UInt16),
        ("post_vlan_id", DataType::UInt16),
        ("cust_vlan_id", DataType::UInt16),
        ("post_cust_vlan_id", DataType::UInt16),
        ("phys_ingress", DataType::UInt32),
        ("phys_egress", DataType::UInt32),
        ("ethertype", DataType::UInt16),
        ("ip_version", DataType::UInt8),
        ("pblock_start", DataType::UInt16),
        ("pblock_end", DataType::UInt16),
        ("pblock_step", DataType::UInt16),
        ("pblock_size", DataType::UInt16),
        ("ip_fragment", DataType::UInt8),
        ("ip_min_ttl", DataType::UInt8),
        ("ip_max_ttl", DataType::UInt8),
    ]
}

/// The table schema of every nfcapd source.
pub fn nfcapd_schema() -> SchemaRef {
    static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
        let mut fields: Vec<Field> = standard_schema()
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        fields.extend(EXTRA.iter().map(|(n, t)| Field::new(*n, t.clone(), false)));
        fields.extend(optional().into_iter().map(|(n, t)| Field::new(n, t, true)));
        Arc::new(Schema::new(fields))
    });
    SCHEMA.clone()
}

/// The decoder columns a table column is built from.
fn source_columns(name: &str) -> Vec<Column> {
    use Column::*;
    match name {
        "inif32" => vec![inif],
        "outif32" => vec![outif],
        "src_ip" => vec![af, sa0, sa1, sa2, sa3],
        "dst_ip" => vec![af, da0, da1, da2, da3],
        other => Column::from_name(other).into_iter().collect(),
    }
}

/// The decoder projection that builds the table columns `names` (and nothing else).
pub fn projection_for<S: AsRef<str>>(names: &[S]) -> Projection {
    let cols: Vec<Column> = names
        .iter()
        .flat_map(|n| source_columns(n.as_ref()))
        .collect();
    Projection::of(&cols)
}

fn prim<T: ArrowPrimitiveType>(values: Vec<T::Native>) -> ArrayRef {
    Arc::new(PrimitiveArray::<T>::new(ScalarBuffer::from(values), None))
}

fn opt<T: ArrowPrimitiveType>(values: Vec<Option<T::Native>>) -> ArrayRef {
    Arc::new(values.into_iter().collect::<PrimitiveArray<T>>())
}

/// The text of an address element; an absent one (family 0) as `0.0.0.0`, as nfdump prints it.
fn addr_text(out: &mut StringBuilder, a: &Addr) {
    if !matches!(write_ip(out, a.af, &a.words), Ok(true)) {
        let _ = write_ip(out, AF_INET, &[0; 4]);
    }
    out.append_value("");
}

fn ips(values: &[Addr]) -> ArrayRef {
    let mut out = StringBuilder::with_capacity(values.len(), values.len() * 8);
    values.iter().for_each(|a| addr_text(&mut out, a));
    Arc::new(out.finish())
}

fn opt_ips(values: &[Option<Addr>]) -> ArrayRef {
    let mut out = StringBuilder::with_capacity(values.len(), values.len() * 8);
    for a in values {
        match a {
            Some(a) => addr_text(&mut out, a),
            None => out.append_null(),
        }
    }
    Arc::new(out.finish())
}

/// A record's source or destination address as text (`nfcapd_decode::text`), NULL for a
/// record without an address element (family 0).
fn addresses(af: &[u8], words: [&Vec<u32>; 4]) -> ArrayRef {
    let mut out = StringBuilder::with_capacity(af.len(), af.len() * 14);
    for (i, &af) in af.iter().enumerate() {
        let w = [words[0][i], words[1][i], words[2][i], words[3][i]];
        match write_ip(&mut out, af, &w) {
            Ok(true) => out.append_value(""),
            _ => out.append_null(),
        }
    }
    Arc::new(out.finish())
}

fn saturate16(values: &[u32]) -> ArrayRef {
    prim::<UInt16Type>(
        values
            .iter()
            .map(|&v| u16::try_from(v).unwrap_or(u16::MAX))
            .collect(),
    )
}

fn mpls(values: Vec<Option<[u32; 10]>>) -> Result<ArrayRef> {
    let nulls = NullBuffer::from(values.iter().map(Option::is_some).collect::<Vec<_>>());
    let flat: Vec<u32> = values
        .into_iter()
        .flat_map(|l| l.unwrap_or_default())
        .collect();
    let field = Arc::new(Field::new("item", DataType::UInt32, false));
    Ok(Arc::new(FixedSizeListArray::try_new(
        field,
        10,
        prim::<UInt32Type>(flat),
        Some(nulls),
    )?))
}

/// A column built ahead of the others (an internal error if a schema named it twice).
fn built(column: Option<ArrayRef>, name: &str) -> Result<ArrayRef> {
    column.ok_or_else(|| {
        datafusion::common::DataFusionError::Internal(format!("nfcapd: column {name} twice"))
    })
}

/// Moves the decoded columns named by `schema` out of `c` into a record batch; `c` is left
/// empty for reuse. Columns must have been decoded with `projection_for(schema's names)`.
pub fn to_batch(c: &mut FlowColumns, schema: &SchemaRef) -> Result<RecordBatch> {
    use std::mem::take;
    let rows = c.rows;
    let mut arrays = Vec::with_capacity(schema.fields().len());
    // The address texts first: the words they are made of move into their own columns below.
    let text = |name, words| {
        schema
            .column_with_name(name)
            .map(|_| addresses(&c.af, words))
    };
    let mut src_ip = text("src_ip", [&c.sa0, &c.sa1, &c.sa2, &c.sa3]);
    let mut dst_ip = text("dst_ip", [&c.da0, &c.da1, &c.da2, &c.da3]);
    for field in schema.fields() {
        let a: ArrayRef = match field.name().as_str() {
            "af" => prim::<UInt8Type>(take(&mut c.af)),
            "prot" => prim::<UInt8Type>(take(&mut c.prot)),
            "inif" => saturate16(&c.inif),
            "outif" => saturate16(&c.outif),
            "inif32" => prim::<UInt32Type>(c.inif.clone()),
            "outif32" => prim::<UInt32Type>(c.outif.clone()),
            "sa0" => prim::<UInt32Type>(take(&mut c.sa0)),
            "sa1" => prim::<UInt32Type>(take(&mut c.sa1)),
            "sa2" => prim::<UInt32Type>(take(&mut c.sa2)),
            "sa3" => prim::<UInt32Type>(take(&mut c.sa3)),
            "da0" => prim::<UInt32Type>(take(&mut c.da0)),
            "da1" => prim::<UInt32Type>(take(&mut c.da1)),
            "da2" => prim::<UInt32Type>(take(&mut c.da2)),
            "da3" => prim::<UInt32Type>(take(&mut c.da3)),
            "sp" => prim::<UInt16Type>(take(&mut c.sp)),
            "dp" => prim::<UInt16Type>(take(&mut c.dp)),
            "first" => prim::<UInt32Type>(take(&mut c.first)),
            "first_ms" => prim::<UInt16Type>(take(&mut c.first_ms)),
            "last" => prim::<UInt32Type>(take(&mut c.last)),
            "last_ms" => prim::<UInt16Type>(take(&mut c.last_ms)),
            "packets" => prim::<UInt64Type>(take(&mut c.packets)),
            "octets" => prim::<UInt64Type>(take(&mut c.octets)),
            "aggs" => prim::<UInt32Type>(take(&mut c.aggs)),
            "tcp_flags" => prim::<UInt8Type>(take(&mut c.tcp_flags)),
            "tos" => prim::<UInt8Type>(take(&mut c.tos)),
            "dst_tos" => prim::<UInt8Type>(take(&mut c.dst_tos)),
            "dir" => prim::<UInt8Type>(take(&mut c.dir)),
            "src_as" => prim::<UInt32Type>(take(&mut c.src_as)),
            "dst_as" => prim::<UInt32Type>(take(&mut c.dst_as)),
            "src_mask" => prim::<UInt8Type>(take(&mut c.src_mask)),
            "dst_mask" => prim::<UInt8Type>(take(&mut c.dst_mask)),
            "out_packets" => prim::<UInt64Type>(take(&mut c.out_packets)),
            "out_bytes" => prim::<UInt64Type>(take(&mut c.out_bytes)),
            "next_hop" => ips(&c.next_hop),
            "bgp_next_hop" => ips(&c.bgp_next_hop),
            "router_ip" => ips(&c.router_ip),
            "exporter_id" => prim::<UInt16Type>(take(&mut c.exporter_id)),
            "engine_type" => prim::<UInt8Type>(take(&mut c.engine_type)),
            "engine_id" => prim::<UInt8Type>(take(&mut c.engine_id)),
            "src_vlan" => prim::<UInt16Type>(take(&mut c.src_vlan)),
            "dst_vlan" => prim::<UInt16Type>(take(&mut c.dst_vlan)),
            "fwd_status" => prim::<UInt8Type>(take(&mut c.fwd_status)),
            "biflow_dir" => prim::<UInt8Type>(take(&mut c.biflow_dir)),
            "flow_end_reason" => prim::<UInt8Type>(take(&mut c.flow_end_reason)),
            "received_ms" => prim::<UInt64Type>(take(&mut c.received_ms)),
            "src_ip" => built(src_ip.take(), "src_ip")?,
            "dst_ip" => built(dst_ip.take(), "dst_ip")?,
            "in_src_mac" => opt::<UInt64Type>(take(&mut c.in_src_mac)),
            "out_dst_mac" => opt::<UInt64Type>(take(&mut c.out_dst_mac)),
            "in_dst_mac" => opt::<UInt64Type>(take(&mut c.in_dst_mac)),
            "out_src_mac" => opt::<UInt64Type>(take(&mut c.out_src_mac)),
            "mpls_labels" => mpls(take(&mut c.mpls_labels))?,
            "client_nw_delay_usec" => opt::<UInt64Type>(take(&mut c.client_nw_delay_usec)),
            "server_nw_delay_usec" => opt::<UInt64Type>(take(&mut c.server_nw_delay_usec)),
            "appl_latency_usec" => opt::<UInt64Type>(take(&mut c.appl_latency_usec)),
            "bgp_next_adjacent_as" => opt::<UInt32Type>(take(&mut c.bgp_next_adjacent_as)),
            "bgp_prev_adjacent_as" => opt::<UInt32Type>(take(&mut c.bgp_prev_adjacent_as)),
            "event_time_ms" => opt::<UInt64Type>(take(&mut c.event_time_ms)),
            "conn_id" => opt::<UInt32Type>(take(&mut c.conn_id)),
            "fw_event" => opt::<UInt8Type>(take(&mut c.fw_event)),
            "fw_xevent" => opt::<UInt16Type>(take(&mut c.fw_xevent)),
            "nat_event" => opt::<UInt8Type>(take(&mut c.nat_event)),
            "nat_pool_id" => opt::<UInt32Type>(take(&mut c.nat_pool_id)),
            "xlate_src_ip" => opt_ips(&c.xlate_src_ip),
            "xlate_dst_ip" => opt_ips(&c.xlate_dst_ip),
            "xlate_src_port" => opt::<UInt16Type>(take(&mut c.xlate_src_port)),
            "xlate_dst_port" => opt::<UInt16Type>(take(&mut c.xlate_dst_port)),
            "ingress_vrf" => opt::<UInt32Type>(take(&mut c.ingress_vrf)),
            "egress_vrf" => opt::<UInt32Type>(take(&mut c.egress_vrf)),
            "vlan_id" => opt::<UInt16Type>(take(&mut c.vlan_id)),
            "post_vlan_id" => opt::<UInt16Type>(take(&mut c.post_vlan_id)),
            "cust_vlan_id" => opt::<UInt16Type>(take(&mut c.cust_vlan_id)),
            "post_cust_vlan_id" => opt::<UInt16Type>(take(&mut c.post_cust_vlan_id)),
            "phys_ingress" => opt::<UInt32Type>(take(&mut c.phys_ingress)),
            "phys_egress" => opt::<UInt32Type>(take(&mut c.phys_egress)),
            "ethertype" => opt::<UInt16Type>(take(&mut c.ethertype)),
            "ip_version" => opt::<UInt8Type>(take(&mut c.ip_version)),
            "pblock_start" => opt::<UInt16Type>(take(&mut c.pblock_start)),
            "pblock_end" => opt::<UInt16Type>(take(&mut c.pblock_end)),
            "pblock_step" => opt::<UInt16Type>(take(&mut c.pblock_step)),
            "pblock_size" => opt::<UInt16Type>(take(&mut c.pblock_size)),
            "ip_fragment" => opt::<UInt8Type>(take(&mut c.ip_fragment)),
            "ip_min_ttl" => opt::<UInt8Type>(take(&mut c.ip_min_ttl)),
            "ip_max_ttl" => opt::<UInt8Type>(take(&mut c.ip_max_ttl)),
            other => {
                return Err(datafusion::common::DataFusionError::Internal(format!(
                    "nfcapd: no column {other}"
                )));
            }
        };
        arrays.push(a);
    }
    c.clear();
    let options = RecordBatchOptions::new().with_row_count(Some(rows));
    Ok(RecordBatch::try_new_with_options(
        schema.clone(),
        arrays,
        &options,
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::StringArray;

    #[test]
    fn standard_fields_come_first_with_flow_models_types() {
        let s = nfcapd_schema();
        for (i, f) in standard_schema().fields().iter().enumerate() {
            assert_eq!(s.field(i), f.as_ref());
        }
        assert_eq!(s.field(21).name(), "tcp_flags");
        // every table column is built from a decoder column
        for f in s.fields() {
            assert!(!source_columns(f.name()).is_empty(), "{}", f.name());
        }
    }

    #[test]
    fn interfaces_saturate_and_keep_full_width() {
        let mut c = FlowColumns {
            rows: 2,
            inif: vec![7, 70_000],
            ..Default::default()
        };
        let schema = Arc::new(nfcapd_schema().project(&[2, 21 + 18]).unwrap());
        assert_eq!(schema.field(1).name(), "inif32");
        let b = to_batch(&mut c, &schema).unwrap();
        let inif = b
            .column(0)
            .as_any()
            .downcast_ref::<PrimitiveArray<UInt16Type>>()
            .unwrap();
        let inif32 = b
            .column(1)
            .as_any()
            .downcast_ref::<PrimitiveArray<UInt32Type>>()
            .unwrap();
        assert_eq!(inif.values().to_vec(), vec![7, 65535]);
        assert_eq!(inif32.values().to_vec(), vec![7, 70_000]);
    }

    /// Address elements keep their family (`::` stays `::`); an absent one prints `0.0.0.0`;
    /// `src_ip` is NULL for a record without addresses.
    #[test]
    fn addresses_print_like_nfdump() {
        let v4 = Addr {
            af: 2,
            words: [0, 0, 0, 0x0a00_0001],
        };
        let v6 = Addr {
            af: 10,
            words: [0x2001_0db8, 0, 0, 1],
        };
        let zero6 = Addr {
            af: 10,
            words: [0; 4],
        };
        let mut c = FlowColumns {
            rows: 4,
            next_hop: vec![v4, v6, zero6, Addr::default()],
            xlate_src_ip: vec![Some(v4), Some(zero6), None, Some(v6)],
            af: vec![2, 10, 0, 10],
            sa0: vec![0, 0, 0, 0x2001_0db8],
            sa1: vec![0; 4],
            sa2: vec![0, 0xffff, 0, 0],
            sa3: vec![0x0a00_0001, 0x0102_0304, 0, 0],
            ..Default::default()
        };
        let names = ["next_hop", "xlate_src_ip", "src_ip", "sa3"];
        let schema = nfcapd_schema();
        let idx: Vec<usize> = names.iter().map(|n| schema.index_of(n).unwrap()).collect();
        let b = to_batch(&mut c, &Arc::new(schema.project(&idx).unwrap())).unwrap();
        let text = |i: usize| -> Vec<Option<String>> {
            let a = b.column(i).as_any().downcast_ref::<StringArray>().unwrap();
            a.iter().map(|v| v.map(str::to_string)).collect()
        };
        let s = |v: &str| Some(v.to_string());
        assert_eq!(
            text(0),
            [s("10.0.0.1"), s("2001:db8::1"), s("::"), s("0.0.0.0")]
        );
        assert_eq!(text(1), [s("10.0.0.1"), s("::"), None, s("2001:db8::1")]);
        assert_eq!(
            text(2),
            [s("10.0.0.1"), s("::ffff:1.2.3.4"), None, s("2001:db8::")]
        );
        // the words still reach their own column
        assert_eq!(b.column(3).len(), 4);
    }
}
