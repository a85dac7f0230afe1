//! Warnings about rules that compile but cannot mean what their author
//! meant: conditions that contradict themselves, forbids that deny without
//! a reason. `check` prints them; the set is still used.

use std::cmp::Ordering;

use super::compile::{Access, CExpr, CmpOp, Const};

/// Two comparisons of one `and` chain that no value can both satisfy, in
/// words: `` `target.status == "active"` and `target.status == "blocked"` ``.
pub fn contradiction(expr: &CExpr) -> Option<String> {
    let CExpr::And(operands) = expr else { return None };
    let facts: Vec<(&Access, CmpOp, &Const)> = operands.iter().filter_map(fact).collect();
    for (i, a) in facts.iter().enumerate() {
        for b in facts.iter().skip(i + 1) {
            if a.0 == b.0 && excludes(a, b) {
                return Some(format!("`{}` and `{}`", text(a), text(b)));
            }
        }
    }
    // A contradiction inside a nested chain makes the whole chain false too.
    operands.iter().find_map(contradiction)
}

/// Whether `premise` holding makes `conclusion` hold, as far as their
/// `and` chains say: every condition of the conclusion's chain is one of
/// the premise's (`a and b` implies `a`). Anything subtler is not claimed.
pub fn implies(premise: &CExpr, conclusion: &CExpr) -> bool {
    fn conjuncts(e: &CExpr) -> Vec<&CExpr> {
        match e {
            CExpr::And(operands) => operands.iter().collect(),
            other => vec![other],
        }
    }
    let have = conjuncts(premise);
    conjuncts(conclusion).iter().all(|c| have.contains(c))
}

/// `PATH OP CONST`, the constant on either side.
fn fact(expr: &CExpr) -> Option<(&Access, CmpOp, &Const)> {
    let CExpr::Cmp(op, left, right) = expr else { return None };
    match (&**left, &**right) {
        (CExpr::Path(access), CExpr::Const(c)) => Some((access, *op, c)),
        (CExpr::Const(c), CExpr::Path(access)) => Some((access, flipped(*op), c)),
        _ => None,
    }
}

fn flipped(op: CmpOp) -> CmpOp {
    match op {
        CmpOp::Lt => CmpOp::Gt,
        CmpOp::Le => CmpOp::Ge,
        CmpOp::Gt => CmpOp::Lt,
        CmpOp::Ge => CmpOp::Le,
        other => other,
    }
}

/// How two constants of one kind order; `None` across kinds (a date and a
/// number are never compared here).
fn order(a: &Const, b: &Const) -> Option<Ordering> {
    match (a, b) {
        (Const::Int(x), Const::Int(y)) => Some(x.cmp(y)),
        (Const::Date(x), Const::Date(y)) => Some(x.cmp(y)),
        (Const::DateTime(x), Const::DateTime(y)) => Some(x.cmp(y)),
        (Const::Str(x), Const::Str(y)) => Some(x.cmp(y)),
        (Const::Bool(x), Const::Bool(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// Whether `value OP c` holds, for the value `v`.
fn holds(v: &Const, op: CmpOp, c: &Const) -> Option<bool> {
    let ordering = order(v, c)?;
    Some(match op {
        CmpOp::Eq => ordering == Ordering::Equal,
        CmpOp::Ne => ordering != Ordering::Equal,
        CmpOp::Lt => ordering == Ordering::Less,
        CmpOp::Le => ordering != Ordering::Greater,
        CmpOp::Gt => ordering == Ordering::Greater,
        CmpOp::Ge => ordering != Ordering::Less,
    })
}

/// Whether no value satisfies both facts of one path. An equality decides
/// it by its own value; two bounds by whether they leave a gap (only for
/// whole numbers can a gap of one step be empty: `n > 3 and n < 4`).
fn excludes(a: &(&Access, CmpOp, &Const), b: &(&Access, CmpOp, &Const)) -> bool {
    match (a.1, b.1) {
        (CmpOp::Eq, _) => holds(a.2, b.1, b.2) == Some(false),
        (_, CmpOp::Eq) => holds(b.2, a.1, a.2) == Some(false),
        (CmpOp::Ne, _) | (_, CmpOp::Ne) => false,
        _ => {
            let (lower, upper) = match (a.1, b.1) {
                (CmpOp::Gt | CmpOp::Ge, CmpOp::Lt | CmpOp::Le) => (a, b),
                (CmpOp::Lt | CmpOp::Le, CmpOp::Gt | CmpOp::Ge) => (b, a),
                _ => return false,
            };
            let Some(ordering) = order(lower.2, upper.2) else { return false };
            let strict = lower.1 == CmpOp::Gt || upper.1 == CmpOp::Lt;
            match ordering {
                Ordering::Greater => true,
                Ordering::Equal => strict,
                Ordering::Less => match (lower.2, upper.2) {
                    (Const::Int(lo), Const::Int(hi)) => {
                        lower.1 == CmpOp::Gt && upper.1 == CmpOp::Lt && hi.checked_sub(*lo) == Some(1)
                    }
                    _ => false,
                },
            }
        }
    }
}

fn text(fact: &(&Access, CmpOp, &Const)) -> String {
    let op = match fact.1 {
        CmpOp::Eq => "==",
        CmpOp::Ne => "!=",
        CmpOp::Lt => "<",
        CmpOp::Le => "<=",
        CmpOp::Gt => ">",
        CmpOp::Ge => ">=",
    };
    let value = match fact.2 {
        Const::Bool(b) => b.to_string(),
        Const::Int(i) => i.to_string(),
        Const::Str(s) => format!("{s:?}"),
        Const::Date(d) => d.to_string(),
        Const::DateTime(t) => t.to_string(),
    };
    format!("{} {op} {value}", fact.0.text)
}
