//! Decoded output: `FlowColumns` (one Vec per column, filled only for projected columns),
//! the per-record scratch `FlowRow`, the `Column` list and the `Projection` bitset.

/// An IP address as four u32 words, most significant first; IPv4 is `[0, 0, 0, addr]`;
/// all zero when absent.
pub type IpWords = [u32; 4];

/// An address of one of a record's extra address elements (next hop, router, NAT), with the
/// family the element says it has: 2 (IPv4, in `words[3]`) or 10 (IPv6); 0 when absent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Addr {
    pub af: u8,
    pub words: IpWords,
}

/// The zero of a row's field type ([`FlowRow::EMPTY`]).
trait Zero {
    const ZERO: Self;
}

macro_rules! zero {
    ($($t:ty),*) => { $( impl Zero for $t { const ZERO: Self = 0; } )* };
}
zero!(u8, u16, u32, u64);

impl Zero for Addr {
    const ZERO: Self = Addr {
        af: 0,
        words: [0; 4],
    };
}

impl Zero for [u32; 10] {
    const ZERO: Self = [0; 10];
}

/// Sets nullable column `$f` of row `$r` to `$v`: the value, and the column's bit in
/// `FlowRow::set`.
macro_rules! set {
    ($r:ident . $f:ident = $v:expr) => {{
        $r.$f = $v;
        $r.mark($crate::record::Column::$f);
    }};
}
pub(crate) use set;

/// A column's `Vec`: of `Option`s for a nullable column.
macro_rules! column_vec {
    ($ty:ty) => { Vec<$ty> };
    ($ty:ty, $nullable:ident) => { Vec<Option<$ty>> };
}

/// A row's value of a column: `None` for a nullable column the record did not set.
macro_rules! cell {
    ($r:ident, $name:ident) => {
        $r.$name
    };
    ($r:ident, $name:ident, $nullable:ident) => {
        $r.has(Column::$name).then_some($r.$name)
    };
}

macro_rules! define_columns {
    ($( $(#[$doc:meta])* $name:ident : $ty:ty $(| $nullable:ident)? ),* $(,)?) => {
        /// All output columns, in output order.
        #[allow(non_camel_case_types)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(u8)]
        pub enum Column { $( $(#[$doc])* $name ),* }

        impl Column {
            /// All columns in output order.
            pub const ALL: &'static [Column] = &[ $( Column::$name ),* ];

            /// Column name (same as the `FlowColumns` field name).
            pub fn name(self) -> &'static str {
                match self { $( Column::$name => stringify!($name) ),* }
            }

            /// Look a column up by name.
            pub fn from_name(name: &str) -> Option<Column> {
                match name { $( stringify!($name) => Some(Column::$name), )* _ => None }
            }
        }

        /// Columnar decoded flows: one `Vec` per column. Only columns contained in the
        /// `Projection` used for decoding are filled; the others stay empty.
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct FlowColumns {
            /// Number of rows (flow records the filter kept; independent of the projection).
            pub rows: usize,
            /// The records kept (all when empty): the others are decoded, counted as flows,
            /// and not pushed.
            pub filter: crate::net::RowFilter,
            $( $(#[$doc])* pub $name: column_vec!($ty $(, $nullable)?), )*
        }

        /// One decoded record (internal scratch, reset per record). All zero when reset:
        /// whether a nullable column holds a value is a bit of `set`, not an `Option`, so the
        /// reset is a plain fill, not 80 fields built one by one, some through the stack
        /// (12 % of a scan).
        #[derive(Debug, Clone, Copy, PartialEq)]
        pub struct FlowRow {
            $( $(#[$doc])* pub $name: $ty, )*
            /// The nullable columns the record set: bit `Column as u8`.
            pub set: u128,
        }

        impl FlowRow {
            /// The reset row: all zero (a constant, so that a reset is a plain fill).
            pub const EMPTY: FlowRow = FlowRow { $( $name: <$ty as Zero>::ZERO, )* set: 0 };
        }

        impl Default for FlowRow {
            fn default() -> Self {
                Self::EMPTY
            }
        }

        impl FlowColumns {
            /// Append decoded rows (already filtered), only to the projected columns: one
            /// tight loop per projected column over all the rows (a call per value, as
            /// appending row by row did, cost a quarter of a 15-column scan).
            pub fn push_rows(&mut self, rows: &[FlowRow], p: &Projection) {
                const EXTEND: &[fn(&mut FlowColumns, &[FlowRow])] =
                    &[ $( |c, rows| c.$name.extend(rows.iter().map(|r| cell!(r, $name $(, $nullable)?))) ),* ];
                let mut bits = p.0;
                while bits != 0 {
                    let i = bits.trailing_zeros() as usize;
                    bits &= bits - 1;
                    if let Some(extend) = EXTEND.get(i) {
                        extend(self, rows);
                    }
                }
                self.rows += rows.len();
            }

            /// Move all rows of `other` to the end of `self` (both must use the same projection).
            pub fn append(&mut self, other: &mut FlowColumns) {
                $( self.$name.append(&mut other.$name); )*
                self.rows += other.rows;
                other.rows = 0;
            }

            /// Reserve space for `n` more rows in the projected columns.
            pub fn reserve(&mut self, n: usize, p: &Projection) {
                $( if p.contains(Column::$name) { self.$name.reserve(n); } )*
            }

            /// Remember the current length of every column (see `rollback`).
            pub fn checkpoint(&self) -> Checkpoint {
                Checkpoint { rows: self.rows, lens: vec![ $( self.$name.len() ),* ] }
            }

            /// Truncate all columns back to a `checkpoint` (drops rows of a failed block).
            pub fn rollback(&mut self, cp: &Checkpoint) {
                let mut it = cp.lens.iter();
                $( if let Some(&n) = it.next() { self.$name.truncate(n); } )*
                self.rows = cp.rows;
            }

            /// Clear all columns (keeps allocations).
            pub fn clear(&mut self) {
                $( self.$name.clear(); )*
                self.rows = 0;
            }
        }
    };
}

define_columns! {
    // ---- flow-models columns ----
    /// Address family: 2 (IPv4) or 10 (IPv6).
    af: u8,
    /// IP protocol.
    prot: u8,
    /// Input interface (SNMP index). u32: nfdump 1.7 stores 32-bit interface indices.
    inif: u32,
    /// Output interface (SNMP index), u32.
    outif: u32,
    sa0: u32,
    sa1: u32,
    sa2: u32,
    /// Source address word 3 (IPv4 address lives here).
    sa3: u32,
    da0: u32,
    da1: u32,
    da2: u32,
    /// Destination address word 3 (IPv4 address lives here).
    da3: u32,
    /// Source port.
    sp: u16,
    /// Destination port; for ICMP nfdump stores type*256+code here.
    dp: u16,
    /// First seen, epoch seconds.
    first: u32,
    /// First seen, milliseconds part.
    first_ms: u16,
    /// Last seen, epoch seconds.
    last: u32,
    /// Last seen, milliseconds part.
    last_ms: u16,
    /// Input packets.
    packets: u64,
    /// Input bytes.
    octets: u64,
    /// Aggregated flows count (1 if not stored or 0).
    aggs: u32,
    // ---- extra columns ----
    tcp_flags: u8,
    /// Source ToS.
    tos: u8,
    dst_tos: u8,
    /// Flow direction (0 ingress, 1 egress).
    dir: u8,
    src_as: u32,
    dst_as: u32,
    src_mask: u8,
    dst_mask: u8,
    out_packets: u64,
    out_bytes: u64,
    /// IP next hop (4 words, IPv4 in word 3, zero if absent).
    next_hop: Addr,
    /// BGP next hop (4 words, IPv4 in word 3, zero if absent).
    bgp_next_hop: Addr,
    /// Exporting router IP (4 words, IPv4 in word 3, zero if absent).
    router_ip: Addr,
    /// nfdump exporter sysid.
    exporter_id: u16,
    engine_type: u8,
    engine_id: u8,
    /// Source VLAN (nfdump 1.7 stores u32; saturated to u16).
    src_vlan: u16,
    /// Destination VLAN (saturated to u16).
    dst_vlan: u16,
    fwd_status: u8,
    biflow_dir: u8,
    flow_end_reason: u8,
    /// Time the flow was received by the collector, epoch ms (0 if absent).
    received_ms: u64,
    // ---- optional (nullable) columns ----
    in_src_mac: u64 | nullable,
    out_dst_mac: u64 | nullable,
    in_dst_mac: u64 | nullable,
    out_src_mac: u64 | nullable,
    /// The 10 MPLS label words as stored by nfdump.
    mpls_labels: [u32; 10] | nullable,
    client_nw_delay_usec: u64 | nullable,
    server_nw_delay_usec: u64 | nullable,
    appl_latency_usec: u64 | nullable,
    bgp_next_adjacent_as: u32 | nullable,
    bgp_prev_adjacent_as: u32 | nullable,
    /// NSEL/NEL event time, epoch ms.
    event_time_ms: u64 | nullable,
    conn_id: u32 | nullable,
    fw_event: u8 | nullable,
    fw_xevent: u16 | nullable,
    nat_event: u8 | nullable,
    nat_pool_id: u32 | nullable,
    xlate_src_ip: Addr | nullable,
    xlate_dst_ip: Addr | nullable,
    xlate_src_port: u16 | nullable,
    xlate_dst_port: u16 | nullable,
    ingress_vrf: u32 | nullable,
    egress_vrf: u32 | nullable,
    // EXlayer2 (nfdump 1.7.5 and later)
    vlan_id: u16 | nullable,
    post_vlan_id: u16 | nullable,
    cust_vlan_id: u16 | nullable,
    post_cust_vlan_id: u16 | nullable,
    /// Physical ingress interface.
    phys_ingress: u32 | nullable,
    phys_egress: u32 | nullable,
    ethertype: u16 | nullable,
    ip_version: u8 | nullable,
    // EXnatPortBlock (EXnelXlatePort in nfdump 1.7.1)
    pblock_start: u16 | nullable,
    pblock_end: u16 | nullable,
    pblock_step: u16 | nullable,
    pblock_size: u16 | nullable,
    // EXipInfo (nfdump 1.7.6 and later)
    /// The IP fragment flags byte: 0x40 DF, 0x20 MF.
    ip_fragment: u8 | nullable,
    ip_min_ttl: u8 | nullable,
    ip_max_ttl: u8 | nullable,
}

/// Column lengths captured by `FlowColumns::checkpoint`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    rows: usize,
    lens: Vec<usize>,
}

/// Set of wanted columns (bitset). Unwanted columns are never built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Projection(u128);

impl Projection {
    /// All columns.
    pub fn all() -> Self {
        let mut p = Projection(0);
        for c in Column::ALL {
            p = p.with(*c);
        }
        p
    }

    /// No column (only `FlowColumns::rows` is counted).
    pub fn none() -> Self {
        Projection(0)
    }

    /// Only the given columns.
    pub fn of(cols: &[Column]) -> Self {
        cols.iter().fold(Projection(0), |p, c| p.with(*c))
    }

    /// Columns by name; unknown names are returned as `Err`.
    pub fn from_names<S: AsRef<str>>(names: &[S]) -> Result<Self, String> {
        let mut p = Projection(0);
        for n in names {
            let c = Column::from_name(n.as_ref())
                .ok_or_else(|| format!("unknown column {}", n.as_ref()))?;
            p = p.with(c);
        }
        Ok(p)
    }

    #[must_use]
    pub fn with(self, c: Column) -> Self {
        Projection(self.0 | (1u128 << (c as u8)))
    }

    #[inline]
    pub fn contains(&self, c: Column) -> bool {
        self.0 & (1u128 << (c as u8)) != 0
    }
}

impl Default for Projection {
    fn default() -> Self {
        Projection::all()
    }
}

impl FlowRow {
    /// Whether the record set nullable column `c`.
    #[inline]
    pub fn has(&self, c: Column) -> bool {
        self.set & (1u128 << (c as u8)) != 0
    }

    /// Marks nullable column `c` as set by the record.
    #[inline]
    pub(crate) fn mark(&mut self, c: Column) {
        self.set |= 1u128 << (c as u8);
    }

    /// The latency element, the same 24 bytes in both layouts: client, server and application
    /// latency in microseconds.
    pub(crate) fn set_latency(&mut self, d: &[u8]) -> Option<()> {
        use crate::bytes::u64_at;
        set!(self.client_nw_delay_usec = u64_at(d, 0)?);
        set!(self.server_nw_delay_usec = u64_at(d, 8)?);
        set!(self.appl_latency_usec = u64_at(d, 16)?);
        Some(())
    }

    /// Split epoch milliseconds into the (seconds, ms) column pair, saturating at u32::MAX s.
    pub(crate) fn split_ms(ms: u64) -> (u32, u16) {
        let secs = u32::try_from(ms / 1000).unwrap_or(u32::MAX);
        (secs, (ms % 1000) as u16)
    }

    pub(crate) fn set_src(&mut self, w: IpWords) {
        [self.sa0, self.sa1, self.sa2, self.sa3] = w;
    }

    pub(crate) fn set_dst(&mut self, w: IpWords) {
        [self.da0, self.da1, self.da2, self.da3] = w;
    }
}
