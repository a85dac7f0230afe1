//! An impact in words, verdict first: what an administrator reads before
//! confirming.

use std::fmt::Write as _;

use super::impact::Impact;

/// A count with its noun: "1 change", "2 changes".
pub fn plural(n: usize, word: &str) -> String {
    if n == 1 { format!("1 {word}") } else { format!("{n} {word}s") }
}

/// The impact as text: a one-line verdict, then grouped lists.
pub fn render(impact: &Impact, schema: &crate::schema::Schema) -> String {
    let mut out = String::new();
    let who = format!("`{}` in `{}`", impact.target, impact.env);
    // A falling back action's impact is the fallback's (P3): said first,
    // so that nobody reads it as what the action asked would do.
    let asked = impact.instead_of.as_deref().unwrap_or(&impact.action);
    match (&impact.fallback, &impact.instead_of) {
        (Some(fallback), _) => {
            let refs: Vec<String> = fallback
                .references
                .iter()
                .map(|r| format!("{} in {}", crate::graph::report::plural(r.rows as usize, "row"), r.table))
                .collect();
            let _ = writeln!(
                out,
                "{who} cannot be {}: {} refer to it; {} instead ({} for this actor)",
                schema.action(asked).map_or(asked, |a| a.done.as_str()),
                refs.join(", "),
                fallback.action,
                match fallback.decision.as_str() {
                    "allow" => "allowed",
                    "deny" => "denied",
                    _ => "not decided",
                }
            );
            if impact.instead_of.is_some() {
                let _ = writeln!(out, "what follows is what `{}` does, not `{asked}`", impact.action);
            }
        }
        (None, Some(_)) => {
            let _ = writeln!(out, "{} {who}, instead of `{asked}`", capitalized(&impact.action));
        }
        (None, None) => {
            let _ = writeln!(out, "{} {who}", capitalized(&impact.action));
        }
    }
    if !impact.reassign.is_empty() {
        let _ = writeln!(out, "\nneeds a new owner:");
        for r in &impact.reassign {
            let _ = writeln!(out, "  {} ({})", r.asset, r.kind);
            let candidates: Vec<String> = r.candidates.iter().cloned().collect();
            let _ = writeln!(out, "    may take it:     {}", list_or_none(&candidates));
            let _ = writeln!(out, "    may reassign it: {}", list_or_none(&r.reassigners));
        }
    }
    if !impact.at_risk.is_empty() {
        let _ = writeln!(out, "\nat risk (owned by others, depend on what is lost):");
        for a in &impact.at_risk {
            let _ = writeln!(out, "  {}  via {}", a.asset, a.path.join(" -> "));
        }
    }
    for (title, list) in
        [("revoked", &impact.revoke), ("removed", &impact.remove), ("disabled", &impact.disable)]
    {
        if !list.is_empty() {
            let _ = writeln!(out, "\n{title}: {}", list.join(", "));
        }
    }
    if impact.removes_user {
        let _ =
            writeln!(out, "\nthe user `{}` is removed too: this is their last account (D4)", impact.target);
    }
    // The own license first, as before, then every other license whose
    // count moves (a converted guest joins the customer's, G3).
    let others =
        impact.licenses.iter().filter(|l| impact.license.as_ref().is_none_or(|own| own.license != l.license));
    for (i, l) in impact.license.iter().chain(others).enumerate() {
        let gap = if i == 0 { "\n" } else { "" };
        let (now, after) = (plural(l.before, "user"), plural(l.after, "user"));
        let _ = writeln!(out, "{gap}license {}: {now} counting now, {after} after", l.license);
    }
    if !impact.warnings.is_empty() {
        let _ = writeln!(out, "\nwarnings:");
        for w in &impact.warnings {
            let _ = writeln!(out, "  {}: {}", w.code, w.message);
        }
    }
    out
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() { "nobody".to_owned() } else { items.join(", ") }
}

/// `convert_to_normal` reads "Convert to normal".
fn capitalized(action: &str) -> String {
    let mut chars = action.chars();
    let words: String = chars.next().map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect());
    words.replace('_', " ")
}
