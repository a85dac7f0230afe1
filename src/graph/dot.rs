//! An impact as a Graphviz DOT graph: the account, what it owns and what
//! depends on it, coloured by consequence (`steward impact --format dot |
//! dot -Tsvg`).

use std::fmt::Write as _;

use super::impact::Impact;

/// The affected subgraph in DOT.
pub fn render(impact: &Impact) -> String {
    let mut out =
        String::from("digraph impact {\n  rankdir=LR;\n  node [shape=box, style=filled, fillcolor=white];\n");
    let account = format!("{}@{}", impact.target, impact.env);
    let _ = writeln!(out, "  {} [shape=ellipse, fillcolor=\"#dddddd\"];", quote(&account));
    if let Some(fallback) = &impact.fallback {
        for r in &fallback.references {
            let table = format!("{} ({} rows)", r.table, r.rows);
            let _ = writeln!(out, "  {} [shape=cylinder, fillcolor=\"#f4cccc\"];", quote(&table));
            let _ = writeln!(out, "  {} -> {} [label=\"refers\"];", quote(&table), quote(&account));
        }
    }
    let groups: [(&str, &str, Vec<&String>); 4] = [
        ("reassign", "#fff2cc", impact.reassign.iter().map(|r| &r.asset).collect()),
        ("revoke", "#f4cccc", impact.revoke.iter().collect()),
        ("remove", "#ea9999", impact.remove.iter().collect()),
        ("disable", "#d9d2e9", impact.disable.iter().collect()),
    ];
    for (consequence, colour, assets) in groups {
        for asset in assets {
            let _ = writeln!(out, "  {} [fillcolor=\"{colour}\", tooltip=\"{consequence}\"];", quote(asset));
            let _ =
                writeln!(out, "  {} -> {} [label=\"owns: {consequence}\"];", quote(&account), quote(asset));
        }
    }
    for risk in &impact.at_risk {
        let _ = writeln!(out, "  {} [fillcolor=\"#f9cb9c\", tooltip=\"at risk\"];", quote(&risk.asset));
        for pair in risk.path.windows(2) {
            if let [from, to] = pair {
                let _ =
                    writeln!(out, "  {} -> {} [label=\"depends on\", style=dashed];", quote(from), quote(to));
            }
        }
    }
    out.push_str("}\n");
    out
}

fn quote(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}
