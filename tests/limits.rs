//! Input that nests deeply, runs long or is not text (#15): every construct
//! that nests is accepted up to `MAX_NESTING` levels, and checked,
//! compiled, formatted and evaluated there on a 2 MiB thread (the size of
//! the server's worker threads); one level deeper is a located error, never
//! a crash.

use steward::Engine;
use steward::directory::Entities;
use steward::policy::ast::{Expr, ExprKind, Literal, MAX_NESTING};
use steward::policy::compile::{CExpr, Compiler, Const, Scope};
use steward::policy::eval::{Context, Held};
use steward::policy::fmt::format_file;
use steward::policy::parse::parse_file;
use steward::policy::report::render_human;
use steward::policy::{PolicySet, Request, Sources, Span};

use crate::support::{NOW, ask, example_file, file, first_diagnostic, pack_dir, parse, policy, steward};

/// Runs `f` on a thread with a 2 MiB stack, as tokio's workers have.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new().stack_size(2 << 20).spawn(f).unwrap().join().unwrap()
}

/// A condition whose deepest node is at level `levels`, for each construct
/// that nests, and the offset of the first node at that level.
#[derive(Debug, Clone, Copy)]
enum Construct {
    /// `not not ... actor.status == "active"`
    Not,
    /// `a and (a or (a and (...)))`
    Chains,
    /// `"x" in [[[...]]]`
    Lists,
    /// `count(accounts where count(accounts where ...) > 0) > 0`
    Count,
}

const ALL: [Construct; 4] = [Construct::Not, Construct::Chains, Construct::Lists, Construct::Count];
const ACTIVE: &str = "actor.status == \"active\"";

impl Construct {
    fn nested(self, levels: usize) -> (String, usize) {
        match self {
            // The comparison is one level, its operands the next.
            Construct::Not => {
                let text = format!("{}{ACTIVE}", "not ".repeat(levels - 2));
                let deepest = if levels >= 2 { text.len() - ACTIVE.len() } else { 0 };
                (text, deepest)
            }
            // Each chain is a level, its operands the next.
            Construct::Chains => {
                let mut text = "actor.portal".to_owned();
                for i in 0..levels - 1 {
                    let op = if i % 2 == 0 { "and" } else { "or" };
                    text = format!("actor.portal {op} ({text})");
                }
                // The first operand of the innermost chain.
                let deepest = text.rfind("actor.portal ").unwrap_or(0);
                (text, deepest)
            }
            // The comparison, then one level per list, then the string.
            Construct::Lists => {
                let lists = levels - 2;
                let head = format!("actor.user.id in {}", "[".repeat(lists));
                let deepest = head.len();
                (format!("{head}\"x\"{}", "]".repeat(lists)), deepest)
            }
            // Each count is a comparison and a count: two levels.
            Construct::Count => {
                let counts = (levels - 1) / 2;
                let inner = if levels.is_multiple_of(2) { ACTIVE } else { "actor.portal" };
                let head = "count(accounts where ".repeat(counts);
                let deepest = head.len();
                (format!("{head}{inner}{}", ") > 0".repeat(counts)), deepest)
            }
        }
    }
}

/// A rule whose condition starts line 2, column 8.
fn rule(condition: &str) -> String {
    format!("rule r {{ permit block\n  when {condition}\n}}\n")
}

fn sources(text: &str) -> Sources {
    let mut sources = Sources::new();
    sources.add("deep.policy", text);
    sources
}

#[test]
fn every_construct_parses_compiles_and_formats_at_the_limit() {
    for construct in ALL {
        let (condition, _) = construct.nested(MAX_NESTING);
        on_small_stack(move || {
            let text = rule(&condition);
            let sources = sources(&text);
            let parsed = parse_file(&sources, steward::policy::FileId(0)).unwrap();
            let formatted = format_file(&parsed);
            let again = self::sources(&formatted);
            let reparsed = parse_file(&again, steward::policy::FileId(0))
                .unwrap_or_else(|d| panic!("{construct:?}: the formatted file does not parse: {d:?}"));
            assert_eq!(format_file(&reparsed), formatted, "{construct:?}");
            let compiled = PolicySet::from_sources(again);
            match construct {
                // A list holds no lists: a type error, reported.
                Construct::Lists => {
                    let err = compiled.err().unwrap();
                    let (_, diagnostics) = err.diagnostics().unwrap();
                    assert_eq!(diagnostics[0].code, "type-mismatch", "{construct:?}");
                }
                _ => assert!(compiled.is_ok(), "{construct:?}: {:?}", compiled.err()),
            }
        });
    }
}

#[test]
fn one_level_more_is_a_located_error_for_every_construct() {
    for construct in ALL {
        let (condition, deepest) = construct.nested(MAX_NESTING + 1);
        on_small_stack(move || {
            let err = PolicySet::from_sources(sources(&rule(&condition))).err().unwrap();
            let (sources, diagnostics) = err.diagnostics().unwrap();
            let json = first_diagnostic(sources, diagnostics);
            assert_eq!(json["code"], "nesting-too-deep", "{construct:?}");
            assert_eq!((json["line"].as_u64(), json["column"].as_u64()), (Some(2), Some(8 + deepest as u64)));
        });
    }
}

#[test]
fn brackets_nest_as_deep_as_the_tree_and_no_deeper() {
    let parens = |n: usize| format!("{}actor.portal{}", "(".repeat(n), ")".repeat(n));
    on_small_stack(move || {
        assert!(PolicySet::from_sources(sources(&rule(&parens(MAX_NESTING)))).is_ok());
        let err = PolicySet::from_sources(sources(&rule(&parens(MAX_NESTING + 1)))).err().unwrap();
        let (sources, diagnostics) = err.diagnostics().unwrap();
        let json = first_diagnostic(sources, diagnostics);
        assert_eq!(json["code"], "nesting-too-deep");
        assert_eq!(
            json["column"].as_u64(),
            Some(8 + MAX_NESTING as u64),
            "the bracket that passes the limit"
        );
    });
}

#[test]
fn brackets_in_strings_and_comments_do_not_count() {
    let deep = "(".repeat(MAX_NESTING + 10);
    let text = format!("// {deep}\nrule r {{ permit block because \"{deep}\" }}\n");
    assert!(PolicySet::from_sources(sources(&text)).is_ok());
}

const ONE_ACCOUNT: &str = "environments: [{ id: E, license: L, kind: test }]\nusers:\n  - { id: a, home: E, accounts: [{ env: E, status: active }] }\n";

#[test]
fn the_evaluator_decides_at_the_limit_on_a_small_stack() {
    for construct in [Construct::Not, Construct::Chains, Construct::Count] {
        let (condition, _) = construct.nested(MAX_NESTING);
        on_small_stack(move || {
            let engine = Engine::new(policy(&rule(&condition)), parse(ONE_ACCOUNT));
            let verdict = engine.decide(&ask("a", "block", "a", "E")).unwrap();
            // Even `not`s of a true comparison, chains ending in
            // `actor.portal` (false), counts of one matching account.
            let expected = match construct {
                Construct::Not => MAX_NESTING.is_multiple_of(2),
                Construct::Chains => false,
                Construct::Count | Construct::Lists => true,
            };
            assert_eq!(verdict.allowed(), expected, "{construct:?}");
        });
    }
}

#[test]
fn a_chain_of_thousands_of_terms_is_one_level() {
    let condition = vec![ACTIVE; 20_000].join(" and ");
    on_small_stack(move || {
        let text = rule(&condition);
        let parsed = parse_file(&sources(&text), steward::policy::FileId(0)).unwrap();
        let formatted = format_file(&parsed);
        assert_eq!(formatted.lines().filter(|l| l.starts_with("    and ")).count(), 19_999);
        let engine = Engine::new(policy(&formatted), parse(ONE_ACCOUNT));
        assert!(engine.decide(&ask("a", "block", "a", "E")).unwrap().allowed());
    });
}

/// `not not ... true`, built by hand rather than parsed.
fn deep_not(levels: usize) -> Expr {
    let span = Span::default();
    let mut expr = Expr { kind: ExprKind::Literal(Literal::Bool(true)), span };
    for _ in 0..levels {
        expr = Expr { kind: ExprKind::Not(Box::new(expr)), span };
    }
    expr
}

#[test]
fn the_compiler_holds_a_tree_built_by_hand_to_the_limit() {
    on_small_stack(|| {
        let mut compiler = Compiler::default();
        assert!(compiler.condition(&deep_not(MAX_NESTING - 1), Scope::selector()).is_some());
        assert!(compiler.diagnostics.is_empty());
        assert!(compiler.condition(&deep_not(5_000), Scope::selector()).is_none());
        assert_eq!(compiler.diagnostics[0].code, "nesting-too-deep");
    });
}

#[test]
fn the_evaluator_fails_closed_on_a_tree_built_by_hand_past_the_limit() {
    on_small_stack(|| {
        let directory = parse(ONE_ACCOUNT);
        let request = Request::new("a", "block", "E");
        let environment = Entities::environment(&directory, "E").unwrap().unwrap();
        let ctx = Context {
            entities: &directory,
            request: &request,
            now: NOW.parse().unwrap(),
            actor: None,
            target: None,
            environment: Held::from(environment),
            asset: None,
            bound: None,
        };
        let deep = |levels: usize| {
            let mut expr = CExpr::Const(Const::Bool(true));
            for _ in 0..levels {
                expr = CExpr::Not(Box::new(expr));
            }
            expr
        };
        assert_eq!(ctx.test(&deep(MAX_NESTING - 1)), Ok(false));
        let err = ctx.test(&deep(5_000)).unwrap_err();
        assert!(err.to_string().contains("nests deeper"), "{err}");
    });
}

/// 5,000 levels of each construct, as the attacker review sent them.
fn attacks() -> Vec<(&'static str, String)> {
    let n = 5_000;
    vec![
        ("not", format!("{}actor.portal", "not ".repeat(n))),
        ("parentheses", format!("{}actor.portal{}", "(".repeat(n), ")".repeat(n))),
        ("lists", format!("actor.user.id in {}\"x\"{}", "[".repeat(n), "]".repeat(n))),
        ("count", format!("{}actor.portal{}", "count(accounts where ".repeat(n), ") > 0".repeat(n))),
    ]
}

#[test]
fn check_refuses_deep_policies_with_a_located_error() {
    let dir = tempfile::tempdir().unwrap();
    for (name, condition) in attacks() {
        let path = file(dir.path(), &format!("{name}.policy"), &rule(&condition));
        let out = steward().arg("check").arg(&path).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{name}: {stderr}");
        assert!(stderr.contains("error[nesting-too-deep]"), "{name}: {stderr}");
        assert!(stderr.contains(&format!("{name}.policy:2:")), "{name}: {stderr}");
    }
}

#[test]
fn users_and_plan_refuse_deep_selectors_with_a_located_error() {
    for (name, condition) in attacks() {
        let users = steward()
            .args(["users", "--directory"])
            .arg(example_file("crm"))
            .args(["--where", &condition])
            .output()
            .unwrap();
        let plan = steward()
            .args(["plan", "--policy"])
            .arg(pack_dir("crm"))
            .arg("--directory")
            .arg(example_file("crm"))
            .args(["--actor", "crm.Ada", "--action", "block", "--env", "CRM1", "--reason", "r"])
            .args(["--where", &condition])
            .output()
            .unwrap();
        for (command, out) in [("users", users), ("plan", plan)] {
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(3), "{command} {name}: {stderr}");
            assert!(stderr.contains("error[nesting-too-deep]"), "{command} {name}: {stderr}");
            assert!(stderr.contains("where:1:"), "{command} {name}: {stderr}");
        }
    }
}

#[test]
fn an_error_past_column_65535_is_rendered() {
    let terms = vec![ACTIVE; 3_000].join(" or ");
    let text = format!("rule r {{ permit block when {terms} or tagret.status == \"x\" }}");
    assert!(text.len() > 70_000);
    let err = PolicySet::from_sources(sources(&text)).err().unwrap();
    let (sources, diagnostics) = err.diagnostics().unwrap();
    let rendered = render_human(sources, diagnostics);
    let column = text.find("tagret").unwrap() + 1;
    assert!(rendered.contains(&format!("deep.policy:1:{column}")), "{rendered}");
    assert!(rendered.contains(" 1 │ …"), "the line is cut before the place: {rendered}");
    assert!(rendered.contains("or tagret.status == \"x\" }"), "{rendered}");
    assert!(rendered.lines().all(|l| l.chars().count() < 400), "{rendered}");
}

#[test]
fn a_file_that_is_not_utf8_is_an_error_at_its_first_bad_byte() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("latin1.policy");
    std::fs::write(&path, b"rule r {\n  permit block because \"caf\xe9\"\n}\n").unwrap();
    let out = steward().arg("check").arg(&path).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("error[invalid-utf8]"), "{stderr}");
    assert!(stderr.contains("latin1.policy:2:28"), "{stderr}");
    let out = steward().args(["--error-format", "json", "check"]).arg(&path).output().unwrap();
    let json: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stderr).lines().next().unwrap()).unwrap();
    assert_eq!(
        (json["code"].as_str(), json["line"].as_u64(), json["column"].as_u64()),
        (Some("invalid-utf8"), Some(2), Some(28))
    );
}
