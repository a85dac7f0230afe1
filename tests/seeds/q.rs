//! Q: tenant users and invitations in the analytics SaaS (seeds/002), with
//! `policies/analytics` over `examples/analytics.yaml`: the tenant `acme`
//! has an active identity provider, `acme-lab` uses invitations.

use steward::plan::Targets;
use steward::policy::Request;
use steward::policy::request::split_emails;

use super::*;

const OLIVIA: &str = "acme.Olivia";
const LAB: &str = "acme-lab";

/// An invitation of `emails` by `actor` in `env`.
fn invite(actor: &str, env: &str, emails: &str) -> Request {
    let mut request = Request::new(actor, "invite", env);
    request.emails = split_emails(emails);
    request.now = Some(NOW.parse().unwrap());
    request
}

#[test]
fn q1_the_tenant_keeps_its_first_tenant_administrator() {
    let analytics = shipped("analytics");
    // Olivia created acme-lab and is its only tenant administrator.
    for action in ["block", "remove_role"] {
        assert_denied(&analytics, &ask(OLIVIA, action, OLIVIA, LAB), &["last_tenant_admin_stays"]);
    }
    // Once another administrator joins, the first may step down.
    let two =
        example("analytics").replace("roles: [analytics_admin]", "roles: [analytics_admin, tenant_admin]");
    let two = over("analytics", &two);
    assert_allowed(&two, &ask("acme.Anders", "remove_role", OLIVIA, "acme"), &["tenant_admins_manage_users"]);
}

#[test]
fn q2_users_join_through_an_identity_provider_or_invitations_never_both() {
    let analytics = shipped("analytics");
    assert_denied(&analytics, &invite(OLIVIA, "acme", "new@acme.example"), &["invitations-or-idp"]);
    assert_allowed(&analytics, &invite(OLIVIA, LAB, "new@acme.example"), &["tenant_admins_invite"]);
    // While switching to the IdP, invitations stay available until it is active.
    let switching = over("analytics", &example("analytics").replace("idp_active: true", "idp_active: false"));
    assert_allowed(&switching, &invite(OLIVIA, "acme", "new@acme.example"), &["tenant_admins_invite"]);
}

#[test]
fn q3_tenant_admins_invite_many_addresses_whose_links_expire_or_are_revoked() {
    let analytics = shipped("analytics");
    let many = invite(OLIVIA, LAB, "ann@acme.example, bob@acme.example cy@acme.example");
    assert_allowed(&analytics, &many, &["tenant_admins_invite"]);
    // Pia holds no administrator role: no permit matches her.
    let pia = decide(&analytics, &invite("acme.Pia", LAB, "x@acme.example")).report;
    assert_eq!((pia.decision.as_str(), pia.rules[0].id.as_str()), ("deny", "default-deny"));
    let invitation =
        plan(&analytics, OLIVIA, Some("invite"), Targets::Emails(many.emails.clone()), Some(LAB));
    let invited = after(&analytics, "analytics", &invitation);
    for email in &many.emails {
        let account = invited.directory().account(email, LAB).unwrap();
        assert_eq!(account.status, "pending", "{email}");
        assert!(account.invited_until.unwrap() > NOW.parse().unwrap(), "{email} shows its expiry");
    }
    // Pia's link works until 2026-12-01, and not after.
    assert_allowed(&analytics, &ask("acme.Pia", "register", "acme.Pia", LAB), &["invitees_register"]);
    let late = Request {
        now: Some("2026-12-02T00:00:00Z".parse().unwrap()),
        ..ask("acme.Pia", "register", "acme.Pia", LAB)
    };
    assert_denied(&analytics, &late, &["status-transition"]);
    // A revoked invitation no longer works, even before it expires.
    let revoke = plan(&analytics, OLIVIA, Some("revoke_invitation"), list(&["acme.Pia"]), Some(LAB));
    let revoked = after(&analytics, "analytics", &revoke);
    assert!(revoked.decide(&ask("acme.Pia", "register", "acme.Pia", LAB)).is_err(), "no account to register");
}

#[test]
fn q4_statuses_move_active_to_disabled_and_back_and_pending_to_active() {
    let analytics = shipped("analytics");
    let by = ["tenant_admins_manage_users"];
    assert_allowed(&analytics, &ask(OLIVIA, "unblock", "acme.Bea", "acme"), &by);
    assert_allowed(&analytics, &ask("acme.Pia", "register", "acme.Pia", LAB), &["invitees_register"]);
    assert_denied(&analytics, &ask(OLIVIA, "unblock", "acme.Leo", "acme"), &["status-transition"]);
    assert_denied(&analytics, &ask("acme.Bea", "register", "acme.Bea", "acme"), &["status-transition"]);
    let verdict = assert_allowed(&analytics, &ask(OLIVIA, "block", "acme.Leo", "acme"), &by);
    let impact = verdict.impact.unwrap();
    assert_eq!(impact.disable, ["alert-revenue"]);
    let seats = impact.license.unwrap();
    assert_eq!(seats.after, seats.before - 1, "a disabled user loses their seat");
    let blocked = after(
        &analytics,
        "analytics",
        &plan(&analytics, OLIVIA, Some("block"), list(&["acme.Leo"]), Some("acme")),
    );
    assert_eq!(blocked.directory().account("acme.Leo", "acme").unwrap().status, "blocked");
    assert!(blocked.directory().asset("alert-revenue").unwrap().disabled);
}

#[test]
fn q5_users_are_told_apart_by_their_identity_provider_subject() {
    let dir = tempfile::tempdir().unwrap();
    let namesake = "  - id: acme.Leo2\n    home: acme\n    idp_subject: \"idp|2004\"\n    accounts:\n      \
                    - { env: acme, status: active, name: Leo Leaver, email: leo.two@acme.example }\n";
    let yaml = file(dir.path(), "acme.yaml", &with_users(&example("analytics"), namesake));
    let find = |text: &str| {
        search_users(&yaml, text)
            .iter()
            .map(|r| {
                (
                    r["user"].as_str().unwrap().to_owned(),
                    r["attrs"]["idp_subject"].as_str().unwrap().to_owned(),
                )
            })
            .collect::<Vec<_>>()
    };
    let both = find("Leo Leaver");
    assert_eq!(both.len(), 2, "two users share the name");
    assert_eq!(find("idp|2004"), [("acme.Leo2".to_owned(), "idp|2004".to_owned())]);
    assert_eq!(find("leo.two@acme.example"), find("idp|2004"));
}

#[test]
fn q6_roles_activation_deactivation_and_deletion_per_user() {
    let analytics = shipped("analytics");
    for action in ["assign_role", "remove_role", "block"] {
        assert_allowed(&analytics, &ask(OLIVIA, action, "acme.Uma", "acme"), &["tenant_admins_manage_users"]);
        assert_denied(&analytics, &ask("acme.Uma", action, "acme.Leo", "acme"), &["default-deny"]);
    }
    assert_allowed(&analytics, &ask(OLIVIA, "unblock", "acme.Bea", "acme"), &["tenant_admins_manage_users"]);
    assert_allowed(&analytics, &ask(OLIVIA, "delete", "acme.Uma", "acme"), &["main_admins_delete"]);
}

#[test]
fn q7_active_and_pending_users_are_deleted_one_at_a_time_never_oneself() {
    let analytics = shipped("analytics");
    let active =
        assert_allowed(&analytics, &ask(OLIVIA, "delete", "acme.Uma", "acme"), &["main_admins_delete"]);
    let seats = active.impact.unwrap().license.unwrap();
    assert_eq!(seats.after, seats.before - 1, "the assignment is freed");
    let pending =
        assert_allowed(&analytics, &ask(OLIVIA, "delete", "acme.Pia", LAB), &["main_admins_delete"]);
    let warnings: Vec<_> = pending.impact.unwrap().warnings.into_iter().map(|w| w.code).collect();
    assert_eq!(warnings, ["pending_invitation_voided"]);
    assert_denied(
        &analytics,
        &ask(OLIVIA, "delete", OLIVIA, "acme"),
        &["no_self_delete", "last_tenant_admin_stays"],
    );
    let two = plan(&analytics, OLIVIA, Some("delete"), list(&["acme.Uma", "acme.Leo"]), Some("acme"));
    assert!(
        two.items.iter().all(|i| i.outcome == "denied" && i.rules == ["delete_one_at_a_time"]),
        "{:#?}",
        two.items
    );
}

#[test]
fn q8_deleting_removes_the_users_data_ends_the_session_and_is_audited() {
    let analytics = leaver();
    let verdict =
        assert_allowed(&analytics, &ask(OLIVIA, "delete", "acme.Leo", "acme"), &["main_admins_delete"]);
    let impact = verdict.impact.unwrap();
    assert_eq!(impact.revoke, ["key-leo"]);
    assert_eq!(impact.remove, ["alert-revenue", "note-weekly", "session-leo"]);
    assert!(impact.warnings.iter().any(|w| w.code == "idp_recreates_user"));
    let plan = plan(&analytics, OLIVIA, Some("delete"), list(&["acme.Leo"]), Some("acme"));
    let store = applied(&analytics, "analytics", &plan, LEAVER_OWNERS);
    let after = store.load().unwrap();
    assert!(after.account("acme.Leo", "acme").is_none());
    assert!(after.user("acme.Leo").is_none(), "nothing left to carry the address or the name");
    for gone in ["session-leo", "key-leo", "alert-revenue", "note-weekly"] {
        assert!(after.asset(gone).is_none(), "{gone}");
    }
    assert_eq!(after.asset("space-sales").unwrap().owner.as_deref(), Some(OLIVIA), "content kept, new owner");
    let audit = store.audit(None).unwrap();
    assert!(audit.iter().any(|e| e.change.target == "acme.Leo" && e.change.outcome == "delete"));
}
