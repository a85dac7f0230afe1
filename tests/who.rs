//! `steward who` (#17): reverse queries, complete, in pages, equal to
//! deciding every request one by one.

use predicates::prelude::*;
use steward::analysis::{WhoQuery, who};
use steward::directory::generate::{GenerateOptions, generate};
use steward::{Engine, Request};

use crate::support::{NOW, example_file, pack_dir, steward};

fn query(action: &str, env: &str) -> WhoQuery {
    WhoQuery {
        action: action.into(),
        env: env.into(),
        actor: None,
        target: None,
        why: false,
        limit: 10_000,
        after: None,
        reason: Some("review".into()),
        confirm: true,
        bulk: false,
        value: None,
        now: Some(NOW.parse().unwrap()),
    }
}

/// Exact: on a generated directory, who may act on a target and whom an
/// actor may act on are what deciding every pair says, and paging in small
/// pages gives the same, each account once.
#[test]
fn who_equals_deciding_every_request_and_pages_add_up() {
    let set = steward::policy::PolicySet::load(&[pack_dir("erp")]).unwrap().set;
    let engine = Engine::new(set, generate(GenerateOptions { accounts: 600, seed: 3 }));
    let directory = engine.directory();
    let env = directory.environments().first().unwrap().id.clone();
    let mut users: Vec<String> = directory.accounts_in(&env).map(|a| a.user.to_string()).collect();
    users.sort();
    let decide = |actor: &str, target: &str, action: &str| {
        let mut request = Request::new(actor, action, &env).target(target);
        request.reason = Some("review".into());
        request.confirm = true;
        request.now = Some(NOW.parse().unwrap());
        engine.decide(&request).unwrap().allowed()
    };
    for action in ["block", "delete", "edit_email"] {
        for given in users.iter().step_by(97) {
            let mut asked = query(action, &env);
            asked.target = Some(given.clone());
            let page = who(&engine, &asked).unwrap();
            let brute: Vec<&String> = users.iter().filter(|actor| decide(actor, given, action)).collect();
            let listed: Vec<&String> = page.allowed.iter().map(|e| &e.user).collect::<Vec<_>>();
            assert_eq!(listed.len(), brute.len(), "{action} {given}");
            assert!(listed.iter().zip(&brute).all(|(a, b)| **a == **b), "{action} {given}");
            assert!(page.next.is_none());

            let mut asked = query(action, &env);
            asked.actor = Some(given.clone());
            asked.why = true;
            asked.limit = 7;
            let (mut allowed, mut all) = (Vec::new(), 0);
            loop {
                let page = who(&engine, &asked).unwrap();
                assert!(page.allowed.len() + page.denied.as_ref().unwrap().len() <= 7);
                all += page.allowed.len() + page.denied.as_ref().unwrap().len();
                allowed.extend(page.allowed.into_iter().map(|e| e.user));
                match page.next {
                    Some(next) => asked.after = Some(next),
                    None => break,
                }
            }
            assert_eq!(all, users.len(), "with --why every account is listed once");
            let brute: Vec<String> = users.iter().filter(|t| decide(given, t, action)).cloned().collect();
            assert_eq!(allowed, brute, "{action} by {given}");
        }
    }
}

#[test]
fn who_on_the_command_line_says_when_there_is_more() {
    let out = steward()
        .args(["who", "--policy"])
        .arg(pack_dir("crm"))
        .arg("--directory")
        .arg(example_file("crm"))
        .args([
            "--actor", "crm.Ada", "--action", "block", "--env", "CRM1", "--why", "--limit", "2", "--now", NOW,
        ])
        .assert()
        .success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(text.starts_with("whom `crm.Ada` may block in CRM1:"), "{text}");
    assert!(text.contains("more: --after "), "{text}");
    steward()
        .args(["who", "--policy"])
        .arg(pack_dir("crm"))
        .arg("--directory")
        .arg(example_file("crm"))
        .args(["--target", "crm.Nobody", "--action", "block", "--env", "CRM1"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("unknown user `crm.Nobody`"));
    steward()
        .args(["who", "--policy"])
        .arg(pack_dir("crm"))
        .arg("--directory")
        .arg(example_file("crm"))
        .args(["--target", "crm.Uma", "--action", "block", "--env", "CRM1", "--limit", "0"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("the limit is from 1 to 10000"));
}

/// Past its deadline a query stops and says how far it got: the service's
/// thread is freed when the caller's time is up.
#[test]
fn who_stops_at_its_deadline() {
    let set = steward::policy::PolicySet::load(&[pack_dir("erp")]).unwrap().set;
    let engine = Engine::new(set, generate(GenerateOptions { accounts: 200, seed: 5 }));
    let env = engine.directory().environments().first().unwrap().id.clone();
    let target = engine.directory().accounts_in(&env).next().unwrap().user.to_string();
    let mut asked = query("block", &env);
    asked.target = Some(target);
    let past = std::time::Instant::now().checked_sub(std::time::Duration::from_millis(1));
    let err = steward::analysis::who_until(&engine, &asked, past).unwrap_err();
    assert!(matches!(err, steward::analysis::WhoError::Timeout { examined: 0 }), "{err}");
    assert!(steward::analysis::who_until(&engine, &asked, None).is_ok());
}
