//! D: deleting users and their assets in the analytics SaaS (seeds/004),
//! with `policies/analytics` over `examples/analytics.yaml`: Leo is leaving
//! and owns a space, an app, a data connection, a reload schedule, an API
//! key, an alert and a notification.

use steward::apply::{ApplyError, ApplyOptions, apply};

use super::*;

const OLIVIA: &str = "acme.Olivia";

/// The codes of the warnings of `verdict`'s impact.
fn warnings(verdict: &steward::Verdict) -> Vec<&str> {
    verdict.impact.as_ref().unwrap().warnings.iter().map(|w| w.code.as_str()).collect()
}

/// The plan to delete Leo, by Olivia.
fn delete_leo(analytics: &steward::Engine) -> steward::plan::Plan {
    plan(analytics, OLIVIA, Some("delete"), list(&["acme.Leo"]), Some("acme"))
}

#[test]
fn d1_deleting_frees_an_entitlement_and_a_pending_users_invitation_is_voided() {
    let analytics = shipped("analytics");
    assert_eq!(count(analytics.directory(), "acme"), 5);
    let gone = after(
        &analytics,
        "analytics",
        &plan(&analytics, OLIVIA, Some("delete"), list(&["acme.Anders"]), Some("acme")),
    );
    assert_eq!(count(gone.directory(), "acme"), 4);
    let pending = decide(&analytics, &ask(OLIVIA, "delete", "acme.Pia", "acme-lab"));
    assert_eq!(warnings(&pending), ["pending_invitation_voided"]);
    let voided = after(
        &analytics,
        "analytics",
        &plan(&analytics, OLIVIA, Some("delete"), list(&["acme.Pia"]), Some("acme-lab")),
    );
    assert!(voided.directory().account("acme.Pia", "acme-lab").is_none(), "the record is removed");
    assert!(voided.decide(&ask("acme.Pia", "register", "acme.Pia", "acme-lab")).is_err(), "the link is void");
}

#[test]
fn d2_anonymous_users_are_not_members_and_cannot_be_deleted() {
    let analytics = shipped("analytics");
    for action in ["delete", "block"] {
        let verdict = assert_denied(
            &analytics,
            &ask(OLIVIA, action, "acme.anonymous", "acme"),
            &["anonymous_users_are_not_members"],
        );
        assert!(
            verdict.report.reasons[0]
                .contains("turn off anonymous access to the app or reset its access code")
        );
        assert!(warnings(&verdict).contains(&"anonymous_not_member"), "{action}");
    }
    let members = &analytics.licenses().licenses(analytics.directory());
    assert!(members.iter().all(|l| !l.users.contains(&"acme.anonymous".to_owned())), "never counted");
}

#[test]
fn d3_a_deleted_users_assets_need_a_new_owner_or_their_reloads_fail() {
    let analytics = shipped("analytics");
    let impact = decide(&analytics, &ask(OLIVIA, "delete", "acme.Leo", "acme")).impact.unwrap();
    let reassign: Vec<_> = impact.reassign.iter().map(|r| r.asset.as_str()).collect();
    assert_eq!(reassign, ["app-forecast", "dc-warehouse", "reload-nightly", "space-leo", "space-sales"]);
    let pipeline = impact.at_risk.iter().find(|r| r.asset == "app-pipeline").unwrap();
    assert!(pipeline.path.contains(&"dc-warehouse".to_owned()), "Uma's app uses Leo's data connection");
    let mut store = store(&analytics);
    let refused = apply(&mut store, pack("analytics"), &delete_leo(&analytics), &ApplyOptions::default());
    let Err(ApplyError::MissingOwner { assets }) = refused else { panic!("{refused:?}") };
    assert_eq!(assets.len(), 5);
    assert!(store.load().unwrap().account("acme.Leo", "acme").is_some(), "nothing was applied");
}

#[test]
fn d4_everything_identifying_the_user_is_removed_and_the_session_invalidated() {
    let analytics = leaver();
    let impact = decide(&analytics, &ask(OLIVIA, "delete", "acme.Leo", "acme")).impact.unwrap();
    assert!(impact.remove.contains(&"session-leo".to_owned()));
    let after = applied(&analytics, "analytics", &delete_leo(&analytics), LEAVER_OWNERS).load().unwrap();
    assert!(after.asset("session-leo").is_none(), "the session is invalidated");
    assert!(
        after
            .accounts()
            .iter()
            .all(|a| a.name != "Leo Leaver" && a.email.as_deref() != Some("leo@acme.example"))
    );
    assert!(after.assets().iter().all(|a| a.owner.as_deref() != Some("acme.Leo")), "nothing points at Leo");
}

#[test]
fn d4_a_user_deleted_from_their_only_environment_keeps_no_identifying_data() {
    // The user record goes with the last account, IdP subject and all.
    let analytics = shipped("analytics");
    let after = applied(&analytics, "analytics", &delete_leo(&analytics), LEAVER_OWNERS).load().unwrap();
    assert!(after.accounts_of("acme.Leo").next().is_none());
    assert!(after.user("acme.Leo").is_none(), "the IdP subject `idp|1004` would still identify Leo");
}

#[test]
fn d5_with_an_identity_provider_a_deleted_user_can_come_back() {
    let analytics = shipped("analytics");
    let idp = decide(&analytics, &ask(OLIVIA, "delete", "acme.Leo", "acme"));
    assert!(warnings(&idp).contains(&"idp_recreates_user"), "{:?}", warnings(&idp));
    let message =
        &idp.impact.unwrap().warnings.into_iter().find(|w| w.code == "idp_recreates_user").unwrap().message;
    assert!(message.to_lowercase().contains("identity provider"), "{message}");
    let invitations = decide(&analytics, &ask(OLIVIA, "delete", "acme.Pia", "acme-lab"));
    assert!(!warnings(&invitations).contains(&"idp_recreates_user"), "no IdP in the lab tenant");
}

#[test]
fn d6_deletion_revokes_keys_reassigns_reload_schedules_and_is_audited() {
    let analytics = shipped("analytics");
    let plan = delete_leo(&analytics);
    let store = applied(&analytics, "analytics", &plan, LEAVER_OWNERS);
    let after = store.load().unwrap();
    assert!(after.account("acme.Leo", "acme").is_none());
    assert!(after.asset("key-leo").is_none(), "the API key is revoked");
    assert_eq!(
        after.asset("reload-nightly").unwrap().owner.as_deref(),
        Some("acme.Uma"),
        "scheduled reloads go on"
    );
    assert!(after.asset("alert-revenue").is_none() && after.asset("note-weekly").is_none());
    assert_eq!(count(&after, "acme"), 4, "the entitlement is freed");
    let audit: Vec<_> =
        store.audit(None).unwrap().into_iter().map(|e| (e.change.target, e.change.outcome)).collect();
    assert!(audit.contains(&("key-leo".to_owned(), "revoked".to_owned())), "{audit:?}");
    assert!(audit.contains(&("acme.Leo".to_owned(), "delete".to_owned())), "{audit:?}");
    assert_eq!(audit.len(), 10, "with the user removed with his last account (D4)");
}

#[test]
fn d7_ownership_is_reassigned_before_deleting_by_whom_the_space_type_allows() {
    let analytics = shipped("analytics");
    let reassign = |actor: &str, asset: &str, to: &str| {
        let mut request = steward::policy::Request::new(actor, "reassign", "acme");
        request.asset = Some(asset.into());
        request.to = Some(to.into());
        request.now = Some(NOW.parse().unwrap());
        request
    };
    assert_allowed(&analytics, &reassign(OLIVIA, "space-leo", "acme.Uma"), &["main_admins_reassign"]);
    assert_allowed(
        &analytics,
        &reassign("acme.Anders", "app-forecast", "acme.Uma"),
        &["analytics_admins_reassign_in_shared_and_managed_spaces"],
    );
    assert_denied(&analytics, &reassign("acme.Anders", "dc-warehouse", "acme.Uma"), &["default-deny"]);
    assert_allowed(
        &analytics,
        &reassign("acme.Dana", "dc-warehouse", "acme.Uma"),
        &["data_admins_reassign_in_data_spaces"],
    );
    assert_denied(&analytics, &reassign("acme.Dana", "space-leo", "acme.Uma"), &["default-deny"]);
    assert_denied(&analytics, &reassign(OLIVIA, "space-leo", "acme.Bea"), &["new_owner_is_active"]);
    // Deleting applies the reassignments first, each decided for the actor.
    let to_bea: Vec<_> =
        LEAVER_OWNERS.iter().map(|&(a, o)| if a == "space-leo" { (a, "acme.Bea") } else { (a, o) }).collect();
    let options = ApplyOptions {
        reassign: to_bea.iter().map(|(a, o)| ((*a).into(), (*o).into())).collect(),
        ..ApplyOptions::default()
    };
    let refused = apply(&mut store(&analytics), pack("analytics"), &delete_leo(&analytics), &options);
    assert!(
        matches!(&refused, Err(ApplyError::Plan(steward::plan::PlanError::Reassign(problems)))
            if problems.iter().any(|p| p.contains("space-leo"))),
        "{refused:?}"
    );
}

#[test]
fn d8_only_main_administrators_delete_one_at_a_time_never_themselves() {
    let analytics = shipped("analytics");
    assert_allowed(&analytics, &ask(OLIVIA, "delete", "acme.Uma", "acme"), &["main_admins_delete"]);
    for admin in ["acme.Anders", "acme.Dana"] {
        assert_denied(&analytics, &ask(admin, "delete", "acme.Uma", "acme"), &["default-deny"]);
    }
    let bulk = steward::policy::Request {
        bulk: true,
        batch_size: Some(2),
        ..ask(OLIVIA, "delete", "acme.Uma", "acme")
    };
    assert_denied(&analytics, &bulk, &["delete_one_at_a_time"]);
    let me = decide(&analytics, &ask(OLIVIA, "delete", OLIVIA, "acme"));
    assert!(rules(&me).contains(&"no_self_delete") && !me.allowed());
    assert_eq!(me.report.reasons[0], "nobody can delete themselves");
}
