//! `steward review` (#17): the access review, exact against deciding every
//! pair, and the command in each of its formats.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use predicates::prelude::*;
use steward::analysis::{Over, ReviewQuery, Shape, review};
use steward::directory::generate::{GenerateOptions, generate_licensed};
use steward::policy::{PolicySet, Sources};
use steward::schema::Subject;
use steward::{Engine, Request};

use crate::support::{NOW, example, example_file, file, pack_dir, steward, with_users};

/// `pack` with `rule` added as a file of its own.
fn with_rule(pack: &str, rule: &str) -> PolicySet {
    let mut sources = Sources::new();
    let mut paths: Vec<_> = std::fs::read_dir(pack_dir(pack))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "policy"))
        .collect();
    paths.sort();
    for path in paths {
        sources.add(path.file_name().unwrap().to_str().unwrap(), std::fs::read_to_string(&path).unwrap());
    }
    sources.add("zz_added.policy", rule);
    PolicySet::from_sources(sources).unwrap_or_else(|e| panic!("{e:?}")).set
}

/// (env, action, actor) → (accounts, rules).
type Holdings = BTreeMap<(String, String, String), (u64, Vec<String>)>;

/// Every pair of every environment decided as `steward decide` decides
/// it, for every action on accounts: who holds what, and how many accounts
/// of each environment hold nothing.
fn brute_force(engine: &Engine, shape: &Shape) -> (Holdings, BTreeMap<String, u64>) {
    let directory = engine.directory();
    let schema = engine.policies().schema();
    let actions: Vec<&str> =
        schema.actions.iter().filter(|a| a.subject == Subject::Account).map(|a| a.name.as_str()).collect();
    let (mut holdings, mut without) = (Holdings::new(), BTreeMap::new());
    for env in directory.environments() {
        let users: Vec<String> = directory.accounts_in(&env.id).map(|a| a.user.to_string()).collect();
        let mut powerless = 0;
        for actor in &users {
            let mut holds = false;
            for action in &actions {
                let (mut count, mut rules) = (0, Vec::new());
                for target in &users {
                    let mut request = Request::new(actor, *action, &env.id).target(target);
                    request.bulk = shape.bulk;
                    request.confirm = shape.confirm;
                    request.reason = shape.reason.clone();
                    request.now = Some(NOW.parse().unwrap());
                    let report = engine.decide(&request).unwrap().report;
                    if report.decision == "allow" {
                        count += 1;
                        rules.extend(report.rules.into_iter().map(|r| r.id));
                    }
                }
                if count > 0 {
                    rules.sort();
                    rules.dedup();
                    holds = true;
                    holdings.insert((env.id.to_string(), action.to_string(), actor.clone()), (count, rules));
                }
            }
            if !holds {
                powerless += 1;
            }
        }
        without.insert(env.id.to_string(), powerless);
    }
    (holdings, without)
}

/// How many requests a review of every environment answers: per action
/// on accounts every pair, per action on assets every (actor, asset, new
/// owner).
fn requests(engine: &Engine) -> u64 {
    let directory = engine.directory();
    let schema = engine.policies().schema();
    let on = |subject| schema.actions.iter().filter(|a| a.subject == subject).count() as u64;
    directory
        .environments()
        .iter()
        .map(|env| {
            let n = directory.accounts_in(&env.id).count() as u64;
            let m = directory.assets().iter().filter(|a| a.env == env.id).count() as u64;
            n * n * on(Subject::Account) + n * n * m * on(Subject::Asset)
        })
        .sum()
}

/// Exact: for the shipped packs of the standard schema, and for rules of
/// every kind the classes must follow (a comparison of the two sides with
/// few values, one with many, a `count` of both sides decided pair by
/// pair), every holder's count and rules are what deciding every pair
/// gives, and so are the accounts without power; with far fewer decisions.
#[test]
fn the_review_equals_deciding_every_pair() {
    let directory = generate_licensed(GenerateOptions { accounts: 150, seed: 5 }, 60);
    let load = |pack: &str| PolicySet::load(&[pack_dir(pack)]).unwrap().set;
    let sets = vec![
        ("erp", load("erp")),
        ("crm", load("crm")),
        ("analytics", load("analytics")),
        (
            "erp, the same home",
            with_rule(
                "erp",
                "rule same_home { forbid block, unblock when actor.user.home != target.user.home because \"home\" }",
            ),
        ),
        (
            "erp, others' rights",
            with_rule(
                "erp",
                "rule others { permit edit_rights when actor.user != target.user and target.status == \"active\" }",
            ),
        ),
        // P3: `block` falls back where records refer to the target, so
        // `referenced` denies it as `decide` does, though it removes nothing.
        ("erp, block falls back", with_rule("erp", "lifecycle block { referenced -> fallback delete }")),
        (
            "erp, a count of both sides",
            with_rule(
                "erp",
                "rule peers { forbid block when count(accounts where account.user == actor.user or account.user == target.user) > 1 because \"peers\" }",
            ),
        ),
    ];
    let base = Engine::new(load("erp"), directory);
    for shape in [ReviewQuery::default_shape(), Shape::default()] {
        for (what, set) in &sets {
            let engine = base.with_policies(set.clone());
            let query = ReviewQuery { envs: Vec::new(), shape: shape.clone(), now: NOW.parse().unwrap() };
            let answer = review(&engine, &query).unwrap();
            let (expected, without) = brute_force(&engine, &shape);
            let mut got = Holdings::new();
            for env in &answer.environments {
                assert_eq!(Some(&env.without_power), without.get(&env.env), "{what}, {shape}: {}", env.env);
                for power in &env.powers {
                    let counts: Vec<u64> = power.holders.iter().map(|h| h.over.count()).collect();
                    assert!(counts.is_sorted_by(|a, b| a >= b), "{what}: most first: {counts:?}");
                    for holder in &power.holders {
                        let key = (env.env.clone(), power.action.clone(), holder.user.clone());
                        assert!(got.insert(key, (holder.over.count(), holder.rules.clone())).is_none());
                    }
                }
            }
            assert_eq!(got, expected, "{what}, {shape}");
            // The analytics pack's roles are not the generated directory's.
            assert!(what.starts_with("analytics") || !expected.is_empty(), "{what}: someone holds a power");
            assert_eq!(answer.without_power, without.values().sum::<u64>(), "{what}");
            assert_eq!(answer.requests, requests(&engine), "{what}");
            if what.ends_with("both sides") {
                assert_eq!(answer.one_by_one.len(), 1, "{what}: `block` is decided pair by pair");
            } else {
                assert!(answer.one_by_one.is_empty(), "{what}: {:?}", answer.one_by_one);
                assert!(
                    answer.decisions * 2 < answer.requests,
                    "{what}: {} decisions for {} requests",
                    answer.decisions,
                    answer.requests
                );
            }
        }
    }
}

/// Every (actor, asset, new owner) of every environment decided as
/// `steward decide` decides it: per actor, over how many assets some new
/// owner is allowed, and the rules of every allowed request.
fn brute_force_reassign(engine: &Engine, shape: &Shape) -> Holdings {
    // Keyed "env actor asset to shape", as tests/diff.rs decides them.
    let outcomes = crate::diff::every_triple(engine, std::slice::from_ref(shape));
    // Per (env, action, actor): the assets allowed, and the rules.
    type Reached = BTreeMap<(String, String, String), (BTreeSet<String>, BTreeSet<String>)>;
    let mut assets = Reached::new();
    for (request, (decision, rules)) in outcomes {
        let mut words = request.split(' ');
        let (Some(env), Some(actor), Some(asset)) = (words.next(), words.next(), words.next()) else {
            panic!("a request key: {request}");
        };
        if decision == "allow" {
            let held = assets.entry((env.to_owned(), "reassign".to_owned(), actor.to_owned())).or_default();
            held.0.insert(asset.to_owned());
            held.1.extend(rules);
        }
    }
    assets
        .into_iter()
        .map(|(key, (assets, rules))| (key, (assets.len() as u64, rules.into_iter().collect())))
        .collect()
}

/// Exact on three sides (D7): for every kind of `reassign` rule the
/// classes of the actor, the asset and the new owner must follow (those
/// `steward diff` is held to), each holder's assets and rules are what
/// deciding every (actor, asset, new owner) gives; with classes, in far
/// fewer decisions, but for the `count` of two sides, decided triple by
/// triple.
#[test]
fn the_review_of_reassign_equals_deciding_every_triple() {
    use crate::diff::{REASSIGN, erp_and, reassign_variants};
    let directory = generate_licensed(GenerateOptions { accounts: 60, seed: 5 }, 30);
    let base = Engine::new(erp_and(&[REASSIGN]), directory);
    let mut sets = vec![("administrators", erp_and(&[REASSIGN]))];
    sets.extend(reassign_variants());
    // Two more: a few named owners (a class of one owner, singled out
    // with some actors), and to nobody but yourself.
    sets.push((
        "to named owners only",
        erp_and(&[
            REASSIGN,
            "rule named { forbid reassign when request.to.user != \"u00003\" and request.to.user != \"u00007\" }",
        ]),
    ));
    sets.push(("only to yourself", erp_and(&["rule mine { permit reassign when request.to == actor }"])));
    // A class of one owner whose own assets are singled out with it: a
    // block allowed to that class leaves those assets no owner.
    let mut owners: BTreeMap<String, usize> = BTreeMap::new();
    for asset in base.directory().assets() {
        if let Some(owner) = &asset.owner {
            *owners.entry(owner.to_string()).or_default() += 1;
        }
    }
    let (owner, _) = owners.iter().max_by_key(|(_, n)| **n).unwrap();
    let one_owner = format!("rule one_owner {{ permit reassign when request.to.user == \"{owner}\" }}");
    let not_back = "rule not_back { forbid reassign when asset has owner and asset.owner == request.to }";
    sets.push(("to one owner, not its own", erp_and(&[&one_owner, not_back])));
    // An (asset, owner) pair allowed to every actor but the owner: each
    // owner's own assets are theirs alone, and denied.
    sets.push((
        "back to its owner, by others",
        erp_and(&[
            "rule back { permit reassign when asset has owner and asset.owner == request.to and request.to != actor }",
        ]),
    ));
    // A pair of actor and owner allowed (to yourself), less the assets
    // singled out with that owner too (your own).
    sets.push((
        "to yourself, not your own",
        erp_and(&["rule mine { permit reassign when request.to == actor }", not_back]),
    ));
    // A rule whose (asset, owner) units all fall to one actor's triples
    // alone: it grants that actor nothing, so it is not among its rules.
    let theirs = format!(
        "rule theirs {{ permit reassign when asset has owner and asset.owner == request.to and request.to.user == \"{owner}\" and request.to != actor }}"
    );
    sets.push((
        "back to one owner, by others",
        erp_and(&["rule mine { permit reassign when request.to == actor }", &theirs]),
    ));
    let mut held = 0;
    for (what, set) in sets {
        let engine = base.with_policies(set);
        let shape =
            if what.starts_with("confirmed") { ReviewQuery::default_shape() } else { Shape::default() };
        let query = ReviewQuery { envs: Vec::new(), shape: shape.clone(), now: NOW.parse().unwrap() };
        let answer = review(&engine, &query).unwrap();
        let expected = brute_force_reassign(&engine, &shape);
        let mut got = Holdings::new();
        for env in &answer.environments {
            for power in env.powers.iter().filter(|p| p.action == "reassign") {
                for holder in &power.holders {
                    assert_eq!(holder.over, Over::Assets(holder.over.count()), "{what}");
                    let key = (env.env.clone(), power.action.clone(), holder.user.clone());
                    assert!(got.insert(key, (holder.over.count(), holder.rules.clone())).is_none());
                }
            }
        }
        assert_eq!(got, expected, "{what}, {shape}");
        held += got.len();
        assert_eq!(answer.requests, requests(&engine), "{what}");
        assert!(!answer.not_reviewed.iter().any(|n| n.action == "reassign"), "{what}");
        if what == "a count of two sides" {
            assert_eq!(answer.one_by_one.len(), 1, "{what}: decided triple by triple");
        } else {
            assert!(answer.one_by_one.is_empty(), "{what}: {:?}", answer.one_by_one);
            assert!(answer.decisions * 10 < answer.requests, "{what}: {} decisions", answer.decisions);
        }
    }
    assert!(held > 0, "someone may reassign");
}

/// Removals first, then status moves, then the rest; the actions on no
/// account are named as not reviewed.
#[test]
fn privileged_powers_come_first() {
    let engine = Engine::load_paths(&[pack_dir("erp")], &example_file("erp")).unwrap();
    let query =
        ReviewQuery { envs: Vec::new(), shape: ReviewQuery::default_shape(), now: NOW.parse().unwrap() };
    let answer = review(&engine, &query).unwrap();
    let position = |name: &str| answer.actions.iter().position(|a| a == name).unwrap();
    assert!(position("delete") < position("block"), "{:?}", answer.actions);
    assert!(position("revoke_invitation") < position("unblock"));
    assert!(position("block") < position("resend_invitation"));
    assert!(position("resend_invitation") < position("edit_rights"));
    assert!(position("edit_rights") < position("assign_role"));
    let not: Vec<&str> = answer.not_reviewed.iter().map(|n| n.action.as_str()).collect();
    assert_eq!(not, ["invite", "add_guest"]);
    assert!(answer.actions.iter().any(|a| a == "reassign"), "reassign is reviewed (over assets)");
}

fn review_cmd(format: &str) -> assert_cmd::Command {
    let mut command = steward();
    command
        .args(["review", "--policy"])
        .arg(pack_dir("crm"))
        .arg("--directory")
        .arg(example_file("crm"))
        .args(["--now", NOW, "--format", format]);
    command
}

#[test]
fn the_human_review_lists_holders_by_power_with_a_summary() {
    let out = review_cmd("human").assert().code(0);
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(
        text.starts_with(
            "access review at 2026-11-23T09:00:00Z (single, confirmed, reason \"access review\"):\n\nCRM1 (5 accounts):\n  delete (removes an account):\n    crm.Ada                      2 accounts  superusers_manage_accounts\n"
        ),
        "{text}"
    );
    assert!(text.contains("\n  held by nobody: revoke_invitation, register, "), "{text}");
    let last = text.lines().last().unwrap();
    assert!(last.contains("hold no power (not listed)"), "{last}");
    assert!(last.contains("over 6 accounts"), "{last}");
}

#[test]
fn the_json_review_has_its_digests_and_every_holder() {
    let out = review_cmd("json").assert().code(0);
    let value: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(value["policy_digest"].as_str().unwrap().len(), 64);
    let bytes = std::fs::read(example_file("crm")).unwrap();
    assert_eq!(value["directory_digest"], steward::digest::sha256_hex(&bytes));
    assert_eq!(
        value["shape"],
        serde_json::json!({"bulk": false, "confirm": true, "reason": "access review"})
    );
    assert_eq!(value["accounts"], 6);
    let crm1 = &value["environments"][0];
    assert_eq!(crm1["env"], "CRM1");
    let block = crm1["powers"].as_array().unwrap().iter().find(|p| p["action"] == "block").unwrap();
    assert_eq!(block["kind"], "status");
    assert_eq!(block["holders"][0]["user"], "crm.Ada");
    assert_eq!(block["holders"][0]["rules"], serde_json::json!(["superusers_manage_accounts"]));
}

/// A CSV file as RFC 4180 reads it: quoted fields may hold commas,
/// doubled quotes and line breaks; records end with CRLF.
fn read_csv(text: &str) -> Vec<Vec<String>> {
    let (mut rows, mut row, mut field) = (Vec::new(), Vec::new(), String::new());
    let (mut quoted, mut chars) = (false, text.chars().peekable());
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {
                assert_eq!(chars.next(), Some('\n'), "a record ends with CRLF");
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    assert!(row.is_empty() && field.is_empty(), "the last record ends with CRLF");
    rows
}

#[test]
fn the_csv_review_is_one_row_per_holder() {
    let out = review_cmd("csv").assert().code(0);
    let rows = read_csv(std::str::from_utf8(&out.get_output().stdout).unwrap());
    assert_eq!(rows[0], ["env", "action", "actor", "accounts", "assets", "rules"]);
    assert!(rows.iter().all(|r| r.len() == 6), "{rows:?}");
    assert!(rows.contains(&vec![
        "CRM1".into(),
        "block".into(),
        "crm.Ada".into(),
        "2".into(),
        String::new(),
        "superusers_manage_accounts".into()
    ]));
    let json = review_cmd("json").assert().code(0);
    let value: serde_json::Value = serde_json::from_slice(&json.get_output().stdout).unwrap();
    let holders: usize = value["environments"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|e| e["powers"].as_array().unwrap())
        .map(|p| p["holders"].as_array().unwrap().len())
        .sum();
    assert_eq!(rows.len() - 1, holders);
}

/// The CRM example with a user whose id and name would be markup, and
/// a quote and a comma for the CSV.
fn hostile_directory(dir: &Path) -> std::path::PathBuf {
    let extra = "  - id: \"<script>alert(1)</script>\"\n    home: CRM1\n    accounts:\n      - { env: CRM1, status: active, name: X, email: x@crm.example, roles: [superuser] }\n  - id: \"a \\\"b\\\", c\"\n    home: CRM1\n    accounts:\n      - { env: CRM1, status: active, name: Y, email: y@crm.example, roles: [superuser] }\n";
    file(dir, "crm.yaml", &with_users(&example("crm"), extra))
}

#[test]
fn the_html_review_is_one_escaped_self_contained_page() {
    let dir = tempfile::tempdir().unwrap();
    let directory = hostile_directory(dir.path());
    let page = dir.path().join("review.html");
    steward()
        .args(["review", "--policy"])
        .arg(pack_dir("crm"))
        .arg("--directory")
        .arg(&directory)
        .args(["--now", NOW, "--format", "html", "-o"])
        .arg(&page)
        .assert()
        .code(0)
        .stdout("");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    assert!(!html.contains("<script"), "a user id opened a tag");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    for external in ["src=", "href=", "@import", "url("] {
        assert!(!html.contains(external), "the page fetches something: {external}");
    }
    let digest = steward::digest::sha256_hex(std::fs::read(&directory).unwrap());
    assert!(html.contains(&digest), "the directory's digest");
    assert!(html.find(">delete<").unwrap() < html.find(">block<").unwrap(), "privileged first");

    // The CSV of the same directory quotes what must be quoted.
    let csv = steward()
        .args(["review", "--policy"])
        .arg(pack_dir("crm"))
        .arg("--directory")
        .arg(&directory)
        .args(["--now", NOW, "--format", "csv"])
        .assert()
        .code(0);
    let text = std::str::from_utf8(&csv.get_output().stdout).unwrap();
    assert!(text.contains("\r\nCRM1,delete,\"a \"\"b\"\", c\",2,,superusers_manage_accounts\r\n"), "{text}");
    let rows = read_csv(text);
    assert!(rows.iter().any(|r| r[2] == "<script>alert(1)</script>"), "{rows:?}");
    assert!(rows.iter().any(|r| r[2] == "a \"b\", c"), "{rows:?}");
    assert!(rows.iter().all(|r| r.len() == 6), "{rows:?}");

    // The page parses as HTML with no element left open, and the
    // hostile id is text (Python's html.parser, when Python is there).
    let check = r#"
import sys
from html.parser import HTMLParser
VOID = {"meta", "br", "hr", "img", "input", "link"}
class P(HTMLParser):
    def __init__(self):
        super().__init__(); self.stack = []; self.tags = set(); self.text = []
    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        if tag not in VOID: self.stack.append(tag)
    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, (tag, self.stack)
        self.stack.pop()
    def handle_data(self, data): self.text.append(data)
p = P(); p.feed(open(sys.argv[1], encoding="utf-8").read()); p.close()
assert not p.stack, p.stack
assert "script" not in p.tags, p.tags
assert "<script>alert(1)</script>" in "".join(p.text)
print("ok", len(p.tags))
"#;
    if let Ok(out) = std::process::Command::new("python3").arg("-c").arg(check).arg(&page).output() {
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    // And a real browser renders it, when one is installed: the DOM it
    // builds has a table per environment and the hostile id as text.
    if let Some(chromium) =
        ["/usr/bin/chromium", "/usr/bin/chromium-browser"].into_iter().find(|p| Path::new(p).exists())
    {
        let profile = tempfile::tempdir().unwrap();
        let out = std::process::Command::new(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("--dump-dom")
            .arg(format!("file://{}", page.display()))
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let dom = String::from_utf8(out.stdout).unwrap();
        assert_eq!(dom.matches("<table>").count(), 2, "{dom}");
        assert!(dom.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{dom}");
        assert!(!dom.contains("<script"), "{dom}");
    }
}

/// An unknown environment gets did-you-mean and exit 3, as in the other
/// commands; an unknown format or shape is a usage error, exit 1.
#[test]
fn bad_queries_are_refused_as_documented() {
    let run = |extra: &[&str]| {
        let mut command = steward();
        command.args(["review", "--policy"]).arg(pack_dir("erp")).arg("--directory").arg(example_file("erp"));
        command.args(extra).assert()
    };
    run(&["--env", "O12345A"]).code(3).stderr(
        predicate::str::contains("O12345A").and(predicate::str::contains("did you mean `O12345AA`?")),
    );
    run(&["--format", "pdf"]).code(1).stderr(predicate::str::contains("invalid value 'pdf'"));
    run(&["--request-shape", "bluk"]).code(1).stderr(predicate::str::contains("`bluk` is not part"));
    run(&["--env", "O12345AA", "--now", NOW]).code(0).stdout(predicate::str::contains("O12345AA ("));
    let dir = tempfile::tempdir().unwrap();
    run(&["-o"]).code(1);
    run(&["-o", &dir.path().join("no/such/folder/r.txt").display().to_string()])
        .code(1)
        .stderr(predicate::str::contains("cannot write"));
}
