//! The arguments of SQL table functions (`csv_flow('a.csv')`, `flow_merge('t', 15)`, …): literals
//! read as strings, integers and paths one way for every table function of both crates.

use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::logical_expr::Expr;

/// The value of a literal argument; `None` for any other expression (a column, a call).
pub fn literal(e: &Expr) -> Option<&ScalarValue> {
    match e {
        Expr::Literal(v, _) => Some(v),
        _ => None,
    }
}

/// The text of a string literal argument (any of Arrow's string types); `None` for anything
/// else, NULL included.
pub fn string(e: &Expr) -> Option<&str> {
    match literal(e)? {
        ScalarValue::Utf8(Some(s))
        | ScalarValue::LargeUtf8(Some(s))
        | ScalarValue::Utf8View(Some(s)) => Some(s),
        _ => None,
    }
}

/// An integer literal argument (any integer type), not cast yet; `None` for anything else:
/// `10.5` and `'12'` are refused, not truncated or parsed.
pub fn integer(e: &Expr) -> Option<&ScalarValue> {
    literal(e).filter(|v| v.data_type().is_integer())
}

/// The paths of a call of `function`: one string literal or more; anything else is a planning
/// error.
pub fn paths(function: &str, exprs: &[Expr]) -> Result<Vec<String>> {
    if exprs.is_empty() {
        return plan_err!("{function}() needs at least one path, e.g. {function}('data/trace')");
    }
    exprs
        .iter()
        .map(|e| match string(e) {
            Some(s) => Ok(s.to_string()),
            None => plan_err!("{function}() takes string paths, got {e}"),
        })
        .collect()
}
