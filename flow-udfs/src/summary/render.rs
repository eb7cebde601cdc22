//! A [`Summary`] as text: the original's two TeX tables byte for byte, or the same numbers as
//! CSV or Markdown.

use super::{StatValue, Summary};
use crate::hist::XValue;
use crate::mixture::py_float_repr;
use std::fmt::Write;

/// Output formats of [`render`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `flow_models.summary`'s output: its `stats_summary` and `cdf_summary` tables, each
    /// followed by two empty lines.
    Tex,
    /// Two CSV tables separated by an empty line: `statistic,value,unit`, then
    /// `up_to,flows_pct,packets_pct,octets_pct`.
    Csv,
    /// Two Markdown tables separated by an empty line.
    Markdown,
}

/// The unit of x in the CDF table's header, as the original's `UNITS`.
fn x_unit(x: XValue) -> &'static str {
    match x {
        XValue::Length => "packets",
        XValue::Size => "bytes",
        XValue::Duration => "milliseconds",
        XValue::Rate => "bps",
    }
}

/// Python's `f'{v:.{prec}f}'`: correctly rounded (ties to even on the exact binary value, as
/// Rust's), `nan`/`inf` spelled as Python spells them.
fn fixed(v: f64, prec: usize) -> String {
    if v.is_nan() {
        "nan".into()
    } else if v.is_infinite() {
        if v > 0.0 { "inf" } else { "-inf" }.into()
    } else {
        format!("{v:.prec$}")
    }
}

/// Groups the digits of the integer part by three with `sep`.
fn grouped(text: &str, sep: char) -> String {
    let (sign, rest) = text.strip_prefix('-').map_or(("", text), |r| ("-", r));
    let int_len = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    let (int, frac) = rest.split_at(int_len);
    let mut out = String::from(sign);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int_len - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(c);
    }
    out + frac
}

/// A value as the original's TeX table shows it: totals `f'{tot:,}'` with spaces for commas,
/// averages `.6f`.
fn tex_value(v: StatValue) -> String {
    match v {
        StatValue::IntTotal(i) => grouped(&i.to_string(), ' '),
        StatValue::FloatTotal(f) if f.is_finite() && !py_float_repr(f).contains('e') => {
            grouped(&py_float_repr(f), ' ')
        }
        StatValue::FloatTotal(f) => py_float_repr(f),
        StatValue::Average(f) => fixed(f, 6),
    }
}

/// A value in CSV: digits without grouping.
fn plain_value(v: StatValue) -> String {
    match v {
        StatValue::IntTotal(i) => i.to_string(),
        StatValue::FloatTotal(f) => py_float_repr(f),
        StatValue::Average(f) => fixed(f, 6),
    }
}

/// `summary` as text in `format`.
pub fn render(summary: &Summary, format: Format) -> String {
    match format {
        Format::Tex => tex(summary),
        Format::Csv => csv(summary),
        Format::Markdown => markdown(summary),
    }
}

fn tex(s: &Summary) -> String {
    let mut out = String::from(
        "\\begin{tabular}{@{}lrr@{}}\n\\toprule\n\
         \\textbf{Dataset name} & XXX & \\\\\n\
         \\textbf{Exporter} & XXX & \\\\\n\
         \\textbf{L2 technology} & XXX & \\\\\n\
         \\textbf{Sampling rate} & none & \\\\\n\
         \\textbf{Active timeout} & XXX & seconds \\\\\n\
         \\textbf{Inactive timeout} & XXX & seconds \\\\\n\
         \\midrule\n",
    );
    for st in &s.stats {
        let _ = writeln!(
            out,
            "\\textbf{{{}}} & {} & {} \\\\",
            st.label,
            tex_value(st.value),
            st.unit
        );
    }
    out.push_str("\\bottomrule\n\\end{tabular}\n\n\n");
    let _ = write!(
        out,
        "\\begin{{tabular}}{{@{{}}lrrr@{{}}}}\n\\toprule\n\
         \\textbf{{Flows of {x} up to}} & \\multicolumn{{3}}{{c}}{{\\textbf{{Make up \\%}}}} \\\\\n\
         \\cmidrule(lr){{2-4}}\n\
         \\multicolumn{{1}}{{c}}{{({unit})}} & of flows & of packets & of octets \\\\\n\
         \\midrule\n",
        x = s.x,
        unit = x_unit(s.x)
    );
    for r in &s.cdf {
        let _ = writeln!(
            out,
            "{} & {} & {} & {} \\\\",
            r.up_to,
            fixed(r.flows, 4),
            fixed(r.packets, 4),
            fixed(r.octets, 4)
        );
    }
    out.push_str("\\bottomrule\n\\end{tabular}\n\n\n");
    out
}

fn csv(s: &Summary) -> String {
    let mut out = String::from("statistic,value,unit\n");
    for st in &s.stats {
        let _ = writeln!(out, "{},{},{}", st.label, plain_value(st.value), st.unit);
    }
    out.push_str("\nup_to,flows_pct,packets_pct,octets_pct\n");
    for r in &s.cdf {
        let _ = writeln!(
            out,
            "{},{},{},{}",
            r.up_to,
            fixed(r.flows, 4),
            fixed(r.packets, 4),
            fixed(r.octets, 4)
        );
    }
    out
}

fn markdown(s: &Summary) -> String {
    let mut out = String::from("| statistic | value | unit |\n|:--|--:|:--|\n");
    for st in &s.stats {
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            st.label,
            tex_value(st.value),
            st.unit
        );
    }
    let _ = write!(
        out,
        "\n| flows of {} up to ({}) | % of flows | % of packets | % of octets |\n\
         |--:|--:|--:|--:|\n",
        s.x,
        x_unit(s.x)
    );
    for r in &s.cdf {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            r.up_to,
            fixed(r.flows, 4),
            fixed(r.packets, 4),
            fixed(r.octets, 4)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grouping_and_python_rounding() {
        assert_eq!(grouped("4032376751", ' '), "4 032 376 751");
        assert_eq!(grouped("-1234.5", ' '), "-1 234.5");
        assert_eq!(grouped("123", ' '), "123");
        // Python: f'{0.125:.2f}' == '0.12', f'{0.375:.2f}' == '0.38', f'{2.5:.0f}' == '2'
        assert_eq!(fixed(0.125, 2), "0.12");
        assert_eq!(fixed(0.375, 2), "0.38");
        assert_eq!(fixed(2.5, 0), "2");
        assert_eq!(fixed(f64::NAN, 4), "nan");
        assert_eq!(fixed(-0.0, 4), "-0.0000");
        assert_eq!(tex_value(StatValue::FloatTotal(1234567.5)), "1 234 567.5");
        assert_eq!(tex_value(StatValue::FloatTotal(1e16)), "1e+16");
    }
}
