// Python-compatible text for numbers: `repr(float)` and `json.dumps` string
// escaping, so our JSON files are byte-identical to the original's.

/// Formats `v` exactly like Python's `repr(float)` (shortest round-trip digits,
/// fixed notation for 1e-4 <= |v| < 1e16, `1e-05` style exponents, `.0` on integers).
pub fn py_float_repr(v: f64) -> String {
    if v.is_nan() {
        return "nan".to_string();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0.0" } else { "0.0" }.to_string();
    }
    // Rust's `{:e}` yields the shortest round-trip digits, as Python's repr does.
    let sci = format!("{:e}", v.abs());
    let (mant, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mant.chars().filter(|c| *c != '.').collect();
    let sign = if v < 0.0 { "-" } else { "" };
    // Python's decpt: value = 0.d1d2... * 10^decpt.
    let decpt = exp + 1;
    let body = if (-4 < decpt) && (decpt <= 16) {
        let n = digits.len() as i32;
        if decpt <= 0 {
            format!("0.{}{}", "0".repeat((-decpt) as usize), digits)
        } else if decpt >= n {
            format!("{}{}.0", digits, "0".repeat((decpt - n) as usize))
        } else {
            let (a, b) = digits.split_at(decpt as usize);
            format!("{a}.{b}")
        }
    } else {
        let (first, rest) = digits.split_at(1);
        let m = if rest.is_empty() {
            first.to_string()
        } else {
            format!("{first}.{rest}")
        };
        let e = decpt - 1;
        let esign = if e < 0 { '-' } else { '+' };
        format!("{m}e{esign}{:02}", e.abs())
    };
    format!("{sign}{body}")
}

/// Quotes a string like Python's `json.dumps` with the default `ensure_ascii=True`.
pub fn py_json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                let mut buf = [0u16; 2];
                for u in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{:04x}", u));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Against Python's `repr` of the doubles in the fixture made by
    /// tests/data/mixture/make_fixtures.py.
    #[test]
    fn float_repr_matches_python_on_the_fixture() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/mixture/py_repr.csv"
        );
        for line in std::fs::read_to_string(path).unwrap().lines() {
            let (bits, repr) = line.split_once(',').unwrap();
            let v = f64::from_bits(bits.parse().unwrap());
            assert_eq!(py_float_repr(v), repr);
        }
    }

    #[test]
    fn float_repr_matches_python() {
        let cases: &[(f64, &str)] = &[
            (0.1, "0.1"),
            (1.0, "1.0"),
            (-2.5, "-2.5"),
            (1e-05, "1e-05"),
            (0.0001, "0.0001"),
            (1.5e-07, "1.5e-07"),
            (8.712450629315575e-08, "8.712450629315575e-08"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (1.2345678901234567e16, "1.2345678901234568e+16"),
            (123456789012345.6, "123456789012345.6"),
            (0.2667839375411922, "0.2667839375411922"),
            (1373.9749450320094, "1373.9749450320094"),
            (5e-324, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (2.0, "2.0"),
            (100.0, "100.0"),
            (f64::INFINITY, "inf"),
            (f64::NAN, "nan"),
        ];
        for (v, s) in cases {
            assert_eq!(py_float_repr(*v), *s, "{v:e}");
        }
    }

    #[test]
    fn json_string_escapes_like_python() {
        assert_eq!(py_json_string("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(py_json_string("ż\n"), "\"\\u017c\\n\"");
    }
}
