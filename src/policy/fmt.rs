//! The canonical layout of policy files (`steward fmt`): two-space indents,
//! one blank line between items, comments kept, a condition on one line
//! when it fits in 100 columns and otherwise broken before each top-level
//! `and`/`or`, parentheses only where precedence needs them (and around an
//! `and` inside an `or`, for the reader; a chain inside a chain of the same
//! operator joins it), long action lists wrapped, blank
//! lines before comment groups kept. Formatting is
//! idempotent and never changes what a file means.

use std::fmt::Write as _;

use super::ast::{
    Comment, DeclBody, Declaration, EffectExpr, Expr, ExprKind, File, Ident, Item, Lifecycle, LifecycleEntry,
    Literal, Rule, SchemaBlock, SettingExpr, SettingValue, Takes, Trigger, TypeExpr,
};
use super::compile::path_text;

/// The widest a line may be before a condition is broken.
const WIDTH: usize = 100;

/// Formats a parsed file.
pub fn format_file(file: &File) -> String {
    let mut out = String::new();
    for (i, item) in file.items.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        match item {
            Item::Rule(rule) => format_rule(&mut out, rule),
            Item::Lifecycle(block) => format_lifecycle(&mut out, block),
            Item::Trigger(trigger) => format_trigger(&mut out, trigger),
            Item::Schema(block) => format_schema(&mut out, block),
        }
    }
    if !file.trailing_comments.is_empty() {
        if !file.items.is_empty() {
            out.push('\n');
        }
        comments(&mut out, &file.trailing_comments, "");
    }
    out
}

fn comments(out: &mut String, list: &[Comment], indent: &str) {
    for comment in list {
        if comment.blank_before && !out.is_empty() && !out.ends_with("\n\n") && !out.ends_with("{\n") {
            out.push('\n');
        }
        let _ = writeln!(out, "{indent}//{}", comment.text);
    }
}

/// `head` and the names, wrapped with a four-space continuation indent
/// when the line would pass the width.
fn wrapped_list(out: &mut String, head: &str, names: &[&str]) {
    let mut line = head.trim_end().to_owned();
    for (i, name) in names.iter().enumerate() {
        let piece = if i + 1 < names.len() { format!("{name},") } else { (*name).to_owned() };
        if i > 0 && line.chars().count() + 1 + piece.chars().count() > WIDTH {
            let _ = writeln!(out, "{line}");
            line = "   ".to_owned();
        }
        line.push(' ');
        line.push_str(&piece);
    }
    let _ = writeln!(out, "{line}");
}

fn format_rule(out: &mut String, rule: &Rule) {
    comments(out, &rule.comments, "");
    let _ = writeln!(out, "rule {} {{", rule.name.name);
    comments(out, &rule.body_comments, "  ");
    let actions: Vec<&str> = rule.actions.iter().map(|a| a.name.as_str()).collect();
    wrapped_list(out, &format!("  {} ", rule.effect.as_str()), &actions);
    if let Some(condition) = &rule.condition {
        condition_lines(out, "  when ", condition);
    }
    if let Some(because) = &rule.because {
        let _ = writeln!(out, "  because {}", quoted(&because.value));
    }
    out.push_str("}\n");
}

fn format_schema(out: &mut String, block: &SchemaBlock) {
    comments(out, &block.comments, "");
    match &block.base {
        Some(base) => {
            let _ = writeln!(out, "schema extends {} {{", base.name);
        }
        None => out.push_str("schema {\n"),
    }
    for decl in &block.declarations {
        comments(out, &decl.comments, "  ");
        let _ = writeln!(out, "  {}", declaration(decl));
    }
    comments(out, &block.body_comments, "  ");
    out.push_str("}\n");
}

/// One declaration on one line, its clauses in the grammar's order.
fn declaration(decl: &Declaration) -> String {
    let names = |list: &[Ident]| list.iter().map(|i| i.name.as_str()).collect::<Vec<_>>().join(", ");
    match &decl.body {
        DeclBody::EnvKind { name, live } => {
            let mark = if *live { " live" } else { "" };
            format!("environment kind {}{mark}", name.name)
        }
        DeclBody::Status { name, flags } => {
            let mut line = format!("status {}", name.name);
            for flag in flags {
                line.push(' ');
                line.push_str(&flag.name);
            }
            line
        }
        DeclBody::AccountKind { name, nonmember, counting } => {
            let mut line = format!("account kind {}", name.name);
            if *nonmember {
                line.push_str(" nonmember");
            }
            if let Some(c) = counting {
                let _ = write!(line, " counts {}", c.name);
            }
            line
        }
        DeclBody::AssetKind { name, contains, types } => {
            let mut line = format!("asset kind {}", name.name);
            if *contains {
                line.push_str(" contains");
            }
            if !types.is_empty() {
                let _ = write!(line, " types {}", names(types));
            }
            line
        }
        DeclBody::Action(action) => {
            let mut line = format!("action {} on {}", action.name.name, action.subject.name);
            if !action.from.is_empty() {
                let _ = write!(line, " from {}", names(&action.from));
            }
            match &action.takes {
                Some(Takes::Kind(kind)) => {
                    let _ = write!(line, " takes {}", kind.name);
                }
                Some(Takes::OneOf(options)) => {
                    let options: Vec<String> = options
                        .iter()
                        .map(|o| match o.settings.as_slice() {
                            [] => o.name.name.clone(),
                            settings => format!("{} {{ {} }}", o.name.name, setting_list(settings)),
                        })
                        .collect();
                    let _ = write!(line, " takes one of {}", options.join(", "));
                }
                None => {}
            }
            match &action.effect {
                Some(EffectExpr::Move(to)) => {
                    let _ = write!(line, " -> {}", to.name);
                }
                Some(EffectExpr::Removes(_)) => line.push_str(" removes"),
                Some(EffectExpr::Creates(status)) => {
                    let _ = write!(line, " creates {}", status.name);
                }
                Some(EffectExpr::Renews(_)) => line.push_str(" renews"),
                Some(EffectExpr::Sets(settings)) => {
                    let _ = write!(line, " sets {}", setting_list(settings));
                }
                None => {}
            }
            if let Some((noun, done)) = &action.shown {
                let _ = write!(line, " as {} {}", quoted(&noun.value), quoted(&done.value));
            }
            line
        }
        DeclBody::OpenAttrs { entity } => format!("attribute {}.*", entity.name),
        DeclBody::IdentityProvider { tests } => {
            let tests: Vec<String> = tests
                .iter()
                .map(|(name, value)| match value {
                    Some((v, _)) => format!("environment.{} == {}", name.name, setting_value(v)),
                    None => format!("environment.{}", name.name),
                })
                .collect();
            format!("identity provider when {}", tests.join(" and "))
        }
        DeclBody::Attribute { entity, name, ty, optional, default } => {
            let ty = match ty {
                TypeExpr::Named(t) => t.name.clone(),
                TypeExpr::OneOf(values) => {
                    let values: Vec<String> = values.iter().map(|v| quoted(&v.value)).collect();
                    format!("one of {}", values.join(", "))
                }
            };
            let mark = if *optional { "?" } else { "" };
            let default =
                default.as_ref().map(|(v, _)| format!(" = {}", setting_value(v))).unwrap_or_default();
            format!("attribute {}.{}: {ty}{mark}{default}", entity.name, name.name)
        }
    }
}

fn setting_list(settings: &[SettingExpr]) -> String {
    let parts: Vec<String> =
        settings.iter().map(|s| format!("{} = {}", s.field.name, setting_value(&s.value))).collect();
    parts.join(", ")
}

fn setting_value(value: &SettingValue) -> String {
    match value {
        SettingValue::Bool(b) => b.to_string(),
        SettingValue::Value => "value".to_owned(),
        SettingValue::Name(n) => n.name.clone(),
        SettingValue::Int(i) => i.to_string(),
        SettingValue::Str(s) => quoted(s),
    }
}

fn format_lifecycle(out: &mut String, block: &Lifecycle) {
    comments(out, &block.comments, "");
    let _ = writeln!(out, "lifecycle {} {{", block.action.name);
    for entry in &block.entries {
        match entry {
            LifecycleEntry::Referenced { comments: c, fallback, .. } => {
                comments(out, c, "  ");
                let _ = writeln!(out, "  referenced -> fallback {}", fallback.name);
            }
            LifecycleEntry::Orphan { comments: c, consequence, .. } => {
                comments(out, c, "  ");
                let _ = writeln!(out, "  orphaned user -> {}", consequence.name);
            }
            LifecycleEntry::Owns { comments: c, kinds, consequence, to, .. } => {
                comments(out, c, "  ");
                let kinds: Vec<&str> = kinds.iter().map(|k| k.name.as_str()).collect();
                let to = to.as_ref().map(|e| format!(" to {}", expr(e))).unwrap_or_default();
                let _ = writeln!(out, "  owns {} -> {}{to}", kinds.join(", "), consequence.name);
            }
        }
    }
    comments(out, &block.body_comments, "  ");
    out.push_str("}\n");
}

fn format_trigger(out: &mut String, trigger: &Trigger) {
    comments(out, &trigger.comments, "");
    let _ = writeln!(out, "trigger {} {{", trigger.name.name);
    comments(out, &trigger.body_comments, "  ");
    condition_lines(out, &format!("  {} when ", trigger.action.name), &trigger.condition);
    if let Some(because) = &trigger.because {
        let _ = writeln!(out, "  because {}", quoted(&because.value));
    }
    out.push_str("}\n");
}

/// `prefix` and the condition: on one line when it fits, else one line per
/// operand of the top-level `and`/`or` chain.
fn condition_lines(out: &mut String, prefix: &str, condition: &Expr) {
    let inline = expr(condition);
    if prefix.len() + inline.chars().count() <= WIDTH {
        let _ = writeln!(out, "{prefix}{inline}");
        return;
    }
    let Some((word, level)) = logic(condition) else {
        let _ = writeln!(out, "{prefix}{inline}");
        return;
    };
    for (i, operand) in flat(condition).iter().enumerate() {
        let text = operand_text(operand, level);
        if i == 0 {
            let _ = writeln!(out, "{prefix}{text}");
        } else {
            let _ = writeln!(out, "    {word} {text}");
        }
    }
}

/// The operands of an `and` or `or` chain, chains of the same operator
/// written inside it (`a and (b and c)`) taken in: they mean the same,
/// and need no parentheses.
fn flat(e: &Expr) -> Vec<&Expr> {
    let mut out = Vec::new();
    gather(e, &mut out);
    out
}

fn gather<'e>(e: &'e Expr, out: &mut Vec<&'e Expr>) {
    let operands = match &e.kind {
        ExprKind::And(operands) | ExprKind::Or(operands) => operands,
        _ => return out.push(e),
    };
    for operand in operands {
        if std::mem::discriminant(&operand.kind) == std::mem::discriminant(&e.kind) {
            gather(operand, out);
        } else {
            out.push(operand);
        }
    }
}

const OR: u8 = 1;
const AND: u8 = 2;
const NOT: u8 = 3;
const COMPARISON: u8 = 4;
const PRIMARY: u8 = 5;

/// The word and level of an `and` or `or` chain.
fn logic(e: &Expr) -> Option<(&'static str, u8)> {
    match &e.kind {
        ExprKind::And(_) => Some(("and", AND)),
        ExprKind::Or(_) => Some(("or", OR)),
        _ => None,
    }
}

fn precedence(e: &Expr) -> u8 {
    match &e.kind {
        ExprKind::Or(_) => OR,
        ExprKind::And(_) => AND,
        ExprKind::Not(_) => NOT,
        ExprKind::Binary { .. } | ExprKind::HasRole { .. } | ExprKind::HasAttr { .. } => COMPARISON,
        _ => PRIMARY,
    }
}

/// `e`, parenthesised when it binds looser than `min`.
fn child(e: &Expr, min: u8) -> String {
    let text = expr(e);
    if precedence(e) < min { format!("({text})") } else { text }
}

/// An operand of a chain at `level`: it must bind tighter, and an `and`
/// inside an `or` keeps its parentheses, which precedence does not need
/// but readers do.
fn operand_text(e: &Expr, level: u8) -> String {
    if level == OR && precedence(e) == AND { format!("({})", expr(e)) } else { child(e, level + 1) }
}

/// An expression on one line.
pub fn expr(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Literal(literal) => match literal {
            Literal::Str(s) => quoted(s),
            Literal::Int(i) => i.to_string(),
            Literal::Bool(b) => b.to_string(),
            Literal::Date(d) => d.to_string(),
            Literal::DateTime(t) => t.to_string(),
        },
        ExprKind::List(items) => format!("[{}]", items.iter().map(expr).collect::<Vec<_>>().join(", ")),
        ExprKind::Path(path) => path_text(path),
        ExprKind::And(_) | ExprKind::Or(_) => {
            let (word, level) = logic(e).unwrap_or(("and", AND));
            let texts: Vec<String> =
                flat(e).into_iter().map(|operand| operand_text(operand, level)).collect();
            texts.join(&format!(" {word} "))
        }
        // Comparisons take primaries only.
        ExprKind::Binary { op, lhs, rhs } => {
            format!("{} {} {}", child(lhs, PRIMARY), op.as_str(), child(rhs, PRIMARY))
        }
        // `not (a == b)` keeps its parentheses: precedence does not need
        // them, but `not a == b` reads as if it did.
        ExprKind::Not(inner) => format!("not {}", child(inner, PRIMARY)),
        ExprKind::HasRole { subject, role } => {
            format!("{} has role {}", child(subject, PRIMARY), child(role, PRIMARY))
        }
        ExprKind::HasAttr { subject, attr } => format!("{} has {}", child(subject, PRIMARY), attr.name),
        ExprKind::Count { condition: None } => "count(accounts)".to_owned(),
        ExprKind::Count { condition: Some(c) } => format!("count(accounts where {})", expr(c)),
    }
}

fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::parse::parse_file;
    use crate::source::Sources;

    fn fmt(text: &str) -> String {
        let mut sources = Sources::new();
        let id = sources.add("t.policy", text);
        format_file(&parse_file(&sources, id).unwrap())
    }

    #[test]
    fn lays_out_a_rule_canonically() {
        assert_eq!(
            fmt("// c4\nrule   r{permit block,delete when actor has role \"x\"   because \"y\"}"),
            "// c4\nrule r {\n  permit block, delete\n  when actor has role \"x\"\n  because \"y\"\n}\n"
        );
    }

    #[test]
    fn keeps_needed_parentheses_only() {
        assert_eq!(
            fmt("rule r { permit block when ((a or b)) and (not (c)) }"),
            "rule r {\n  permit block\n  when (a or b) and not c\n}\n"
        );
    }

    #[test]
    fn breaks_long_conditions_before_top_level_operators() {
        let long = "rule r { permit block when target has role \"administrator\" and target.status == \"active\" and count(accounts where account.status == \"active\") <= 1 }";
        assert_eq!(
            fmt(long),
            "rule r {\n  permit block\n  when target has role \"administrator\"\n    and target.status == \"active\"\n    and count(accounts where account.status == \"active\") <= 1\n}\n"
        );
    }

    #[test]
    fn keeps_comments_between_lifecycle_entries_where_they_are() {
        let text = "lifecycle delete {\n  owns api_key -> revoke\n  // D4\n  orphaned user -> remove\n  // last\n}\n";
        assert_eq!(fmt(text), text);
        assert_eq!(
            fmt("lifecycle delete { orphaned   user->remove }"),
            "lifecycle delete {\n  orphaned user -> remove\n}\n"
        );
    }

    #[test]
    fn is_idempotent_on_the_shipped_packs() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let packs =
            ["erp", "crm", "analytics", "devops", "office", "sales"].map(|p| root.join("policies").join(p));
        for dir in packs.iter().chain([&root.join("schema")]) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.extension().is_some_and(|e| e == "policy") {
                    let once = fmt(&std::fs::read_to_string(&path).unwrap());
                    assert_eq!(fmt(&once), once, "{}", path.display());
                }
            }
        }
    }
}
