//! G: guest users across customers in the ERP (seeds/003), with
//! `policies/erp` over `examples/erp.yaml`: the provider has license 12345
//! (production `O12345AA`, test `O12345TT`), the customer license 98765
//! (`O98765AA`); Bertine Williams is a guest there.

use steward::plan::{Target, Targets};
use steward::policy::Request;
use steward::sync::sync;

use super::*;

const ADMIN: &str = "12345.Admin";
const CUSTOMER: &str = "98765.Admin";
const HOME: &str = "O12345AA";
const AWAY: &str = "O98765AA";
const BERTINE: &str = "12345.BWilliams";

/// The users who count toward `license`.
fn counting(engine: &steward::Engine, license: &str) -> Vec<String> {
    let licenses = engine.licenses().licenses(engine.directory());
    licenses.into_iter().find(|l| l.license == license).unwrap().users
}

/// A plan of the customer's administrator on `user` in the customer's
/// environment, with `value`.
fn at_customer(erp: &steward::Engine, action: &str, user: &str, value: Option<&str>) -> steward::plan::Plan {
    let target = Target { user: user.into(), env: Some(AWAY.into()), value: value.map(Into::into) };
    plan(erp, CUSTOMER, Some(action), Targets::List(vec![target]), None)
}

/// An edit of `field` (`edit_email`, `edit_name`) to `value`.
fn edit(actor: &str, field: &str, target: &str, env: &str, value: &str) -> Request {
    Request { value: Some(value.into()), ..ask(actor, field, target, env) }
}

#[test]
fn g1_a_guest_counts_toward_the_providers_license_not_the_customers() {
    let erp = shipped("erp");
    assert!(counting(&erp, "12345").contains(&BERTINE.to_owned()));
    assert_eq!(counting(&erp, "98765"), [CUSTOMER]);
    let license = decide(&erp, &ask(CUSTOMER, "block", BERTINE, AWAY)).impact.unwrap().license.unwrap();
    assert_eq!(license.license, "12345", "blocking her at the customer touches only the provider's license");
    assert_eq!(license.before, license.after, "she still works at home");
}

#[test]
fn g2_user_ids_keep_their_home_prefix_in_customer_environments() {
    let erp = shipped("erp");
    let directory = erp.directory();
    for account in directory.accounts() {
        let home = &directory.user(&account.user).unwrap().home;
        let license = &directory.environment(home).unwrap().license;
        assert!(account.user.starts_with(&format!("{license}.")), "{} in {}", account.user, account.env);
    }
    let added = after(&erp, "erp", &at_customer(&erp, "add_guest", "12345.Gwen", None));
    assert!(added.directory().account("12345.Gwen", AWAY).is_some(), "added under her own id");
}

#[test]
fn g3_a_guest_converted_to_a_normal_user_with_portal_access_counts_toward_the_customer() {
    let erp = shipped("erp");
    assert_allowed(
        &erp,
        &ask(CUSTOMER, "convert_to_normal", BERTINE, AWAY),
        &["administrators_maintain_users"],
    );
    let plan = at_customer(&erp, "convert_to_normal", BERTINE, None);
    let customer = plan.summary.licenses.iter().find(|l| l.license == "98765").unwrap();
    assert_eq!((customer.before, customer.after), (1, 2));
    let converted = after(&erp, "erp", &plan);
    let account = converted.directory().account(BERTINE, AWAY).unwrap();
    assert_eq!((account.kind.as_str(), crate::support::flag(&account.attrs, "portal")), ("normal", true));
}

#[test]
fn g4_the_provider_activates_the_guest_license_and_the_customer_adds_the_user() {
    let erp = shipped("erp");
    assert_allowed(
        &erp,
        &ask(ADMIN, "activate_guest_license", "12345.Gwen", HOME),
        &["administrators_activate_guest_license"],
    );
    assert!(
        erp.decide(&ask(CUSTOMER, "activate_guest_license", "12345.Gwen", HOME)).is_err(),
        "not the customer's"
    );
    assert_denied(&erp, &ask(CUSTOMER, "add_guest", "12345.Fresh", AWAY), &["guests_need_a_guest_license"]);
    let added = after(&erp, "erp", &at_customer(&erp, "add_guest", "12345.Gwen", None));
    let gwen = added.directory().account("12345.Gwen", AWAY).unwrap();
    assert!(gwen.roles.is_empty(), "the customer decides the rights");
    assert_allowed(
        &added,
        &ask(CUSTOMER, "assign_role", "12345.Gwen", AWAY),
        &["administrators_maintain_users"],
    );
}

#[test]
fn g5_names_and_addresses_come_from_the_home_production_environment_only() {
    let renamed = example("erp").replace(
        "name: Bertine Williams, email: b.williams@accountant.example, roles",
        "name: Bertine Jansen, email: b.jansen@accountant.example, roles",
    );
    let in_test = "  - id: 12345.Tess\n    home: O12345TT\n    guest_license: true\n    accounts:\n      \
                   - { env: O12345TT, status: active, name: Tess Renamed }\n      \
                   - { env: O98765AA, status: active, kind: guest, name: Tess }\n";
    let directory = parse(&with_users(&renamed, in_test));
    let changes: Vec<_> = sync(&directory, &steward::policy::declare::standard())
        .changes
        .into_iter()
        .map(|c| (c.user, c.env, c.field, c.to))
        .collect();
    assert_eq!(
        changes,
        [
            (BERTINE.to_owned(), AWAY.to_owned(), "name", Some("Bertine Jansen".to_owned())),
            (BERTINE.to_owned(), AWAY.to_owned(), "email", Some("b.jansen@accountant.example".to_owned())),
        ],
        "nothing from Tess's test environment"
    );
    assert_denied(
        &shipped("erp"),
        &edit(CUSTOMER, "edit_name", BERTINE, AWAY, "B. W."),
        &["guest_name_at_home"],
    );
}

#[test]
fn g6_addresses_are_unique_in_an_environment_and_the_sync_waits_for_a_conflict() {
    let erp = shipped("erp");
    assert_denied(
        &erp,
        &edit(ADMIN, "edit_email", BERTINE, HOME, "anne@provider.example"),
        &["email-in-use"],
    );
    assert_allowed(
        &erp,
        &edit(ADMIN, "edit_email", BERTINE, HOME, "bertine@provider.example"),
        &["administrators_maintain_users"],
    );
    // Carla at the customer already holds Bertine's new address.
    let text = example("erp")
        .replace("email: b.williams@accountant.example, roles", "email: carla@customer.example, roles");
    let report = sync(&parse(&text), &steward::policy::declare::standard());
    assert!(report.changes.iter().all(|c| c.field != "email"));
    let conflict = &report.conflicts[0];
    assert_eq!(
        (conflict.user.as_str(), conflict.env.as_str(), conflict.held_by.as_str()),
        (BERTINE, AWAY, CUSTOMER)
    );
}

#[test]
fn g7_a_guests_email_is_changed_only_in_the_home_environment() {
    let erp = shipped("erp");
    let value = "bertine@accountant.example";
    let verdict =
        assert_denied(&erp, &edit(CUSTOMER, "edit_email", BERTINE, AWAY, value), &["guest_email_at_home"]);
    assert_eq!(verdict.report.reasons, ["a guest's e-mail can only be changed in their home environment"]);
    assert_allowed(
        &erp,
        &edit(ADMIN, "edit_email", BERTINE, HOME, value),
        &["administrators_maintain_users"],
    );
}

#[test]
fn g8_the_guest_license_password_is_changed_only_under_the_home_license() {
    let erp = shipped("erp");
    assert_denied(
        &erp,
        &ask(BERTINE, "change_password", BERTINE, AWAY),
        &["guest_password_under_home_license"],
    );
    assert_allowed(
        &erp,
        &ask(BERTINE, "change_password", BERTINE, HOME),
        &["users_change_their_own_password"],
    );
}

#[test]
fn g9_the_guest_license_needs_home_production_and_desktop_access() {
    let with_desk = example("erp").replace(
        "  - id: 12345.JJansen\n    home: O12345AA\n",
        "  - id: 12345.JJansen\n    home: O12345AA\n    desktop_access: true\n",
    );
    let erp = over("erp", &with_desk);
    let activate = |target: &str, env: &str| ask(ADMIN, "activate_guest_license", target, env);
    assert_denied(&erp, &activate("12345.JJansen", "O12345TT"), &["guest_license_at_home_production"]);
    assert_allowed(&erp, &activate("12345.JJansen", HOME), &["administrators_activate_guest_license"]);
    assert_denied(&erp, &activate("12345.Fresh", HOME), &["guest_license_needs_desktop_access"]);
    let licensed = after(
        &erp,
        "erp",
        &plan(&erp, ADMIN, Some("activate_guest_license"), list(&["12345.JJansen"]), Some(HOME)),
    );
    assert!(crate::support::flag(
        &licensed.directory().user("12345.JJansen").unwrap().attrs,
        "guest_license"
    ));
    // Without desktop access at home, a guest has no access at the customer.
    let login =
        Request { method: Some("password".into()), ..ask("12345.NoDesk", "login", "12345.NoDesk", AWAY) };
    assert_denied(&erp, &login, &["guests_need_desktop_access_at_home"]);
}

#[test]
fn g10_a_guest_is_added_as_a_system_or_a_normal_user_and_only_once() {
    let erp = shipped("erp");
    let system = after(&erp, "erp", &at_customer(&erp, "add_guest", "12345.Gwen", None));
    assert_eq!(system.directory().account("12345.Gwen", AWAY).unwrap().kind, "guest");
    let normal = after(&erp, "erp", &at_customer(&erp, "add_guest", "12345.Gwen", Some("normal")));
    let account = normal.directory().account("12345.Gwen", AWAY).unwrap();
    assert_eq!(
        (account.kind.as_str(), crate::support::flag(&account.attrs, "portal")),
        ("normal", true),
        "linked to a person for the portal"
    );
    assert_denied(&erp, &ask(CUSTOMER, "add_guest", BERTINE, AWAY), &["already-member"]);
    let converted = after(&system, "erp", &at_customer(&system, "convert_to_normal", "12345.Gwen", None));
    assert_eq!(converted.directory().account("12345.Gwen", AWAY).unwrap().kind, "normal");
}

#[test]
fn g11_guest_users_cannot_log_in_through_single_sign_on() {
    let erp = shipped("erp");
    let login = |env: &str, method: &str| Request {
        method: Some(method.into()),
        ..ask(BERTINE, "login", BERTINE, env)
    };
    let verdict = assert_denied(&erp, &login(AWAY, "sso"), &["no_sso_for_guests"]);
    assert_eq!(verdict.report.reasons, ["guest users cannot log in through single sign-on"]);
    assert_allowed(&erp, &login(AWAY, "password"), &["active_users_log_in"]);
    assert_allowed(&erp, &login(HOME, "sso"), &["active_users_log_in"]);
}

#[test]
fn g12_a_converted_guest_counts_toward_the_customers_portal_license() {
    let erp = shipped("erp");
    assert!(!counting(&erp, "98765").contains(&BERTINE.to_owned()), "as a guest she counts at home only");
    let converted = after(&erp, "erp", &at_customer(&erp, "convert_to_normal", BERTINE, None));
    assert!(crate::support::flag(&converted.directory().account(BERTINE, AWAY).unwrap().attrs, "portal"));
    assert!(counting(&converted, "98765").contains(&BERTINE.to_owned()));
    assert!(counting(&converted, "12345").contains(&BERTINE.to_owned()), "and at home, where she works too");
}
