//! The authorization model in the three languages, and the extra rules that
//! grow it to 100 and 1,000 rules.
//!
//! The model is read from `bench/policies/model.policy`,
//! `bench/cedar/model.cedar` and `bench/rego/model.rego`. Extra rules are
//! generated once and rendered into each language from the same description,
//! so the three sets stay equivalent. Most extra rules govern actions the
//! workload never asks about (as a real large set would: rules for every
//! action and team role); one in ten governs a workload action but needs a
//! role nobody in the directory holds. Either way no extra rule changes a
//! decision: they only cost evaluation time, and indexing by action is what
//! keeps that cost away.

/// The model, steward's language.
pub const STEWARD: &str = include_str!("../policies/model.policy");
/// The model, Cedar.
pub const CEDAR: &str = include_str!("../cedar/model.cedar");
/// The model, Rego.
pub const REGO: &str = include_str!("../rego/model.rego");

/// Rules in the steward model (the size the table calls "model").
pub const MODEL_RULES: usize = 6;

/// The actions the workload asks about.
pub const WORKLOAD_ACTIONS: [&str; 5] = ["block", "unblock", "delete", "edit_email", "edit_name"];

/// Actions on an account that the workload never asks about.
const OTHER_ACTIONS: [&str; 13] = [
    "edit_rights",
    "assign_role",
    "remove_role",
    "activate_guest_license",
    "add_guest",
    "convert_to_normal",
    "login",
    "change_password",
    "merge",
    "change_code",
    "link_person",
    "add_system_user",
    "authorize",
];

/// One generated rule.
#[derive(Debug, Clone)]
struct Extra {
    name: String,
    permit: bool,
    action: &'static str,
    role: String,
    shape: usize,
}

fn extras(count: usize) -> Vec<Extra> {
    (0..count)
        .map(|k| Extra {
            name: format!("extra_{k}"),
            permit: k % 3 != 0,
            action: if k % 10 == 0 {
                WORKLOAD_ACTIONS[(k / 10) % WORKLOAD_ACTIONS.len()]
            } else {
                OTHER_ACTIONS[k % OTHER_ACTIONS.len()]
            },
            role: format!("team_{k}"),
            shape: k % 4,
        })
        .collect()
}

/// One policy set in the three languages.
pub struct Texts {
    /// steward rules in the set.
    pub rules: usize,
    /// steward's policy text.
    pub steward: String,
    /// Cedar's policy text.
    pub cedar: String,
    /// Rego's module text.
    pub rego: String,
}

/// The model plus `total - MODEL_RULES` extra rules.
pub fn texts(total: usize) -> Texts {
    let mut steward = STEWARD.to_owned();
    let mut cedar = CEDAR.to_owned();
    let mut rego = REGO.to_owned();
    for e in extras(total.saturating_sub(MODEL_RULES)) {
        let (sw, ce, re) = render(&e);
        steward.push_str(&sw);
        cedar.push_str(&ce);
        rego.push_str(&re);
    }
    Texts { rules: total.max(MODEL_RULES), steward, cedar, rego }
}

fn render(e: &Extra) -> (String, String, String) {
    let Extra { name, permit, action, role, shape } = e;
    let (sw_cond, ce_cond, re_cond) = match shape {
        0 => (
            format!("actor has role \"{role}\""),
            format!("principal.roles.contains(\"{role}\")"),
            format!("\"{role}\" in actor.roles"),
        ),
        1 => (
            format!("actor has role \"{role}\" and target.status == \"active\""),
            format!("principal.roles.contains(\"{role}\") && resource.status == \"active\""),
            format!("\"{role}\" in actor.roles\n\ttarget.status == \"active\""),
        ),
        2 => (
            format!("target has role \"{role}\" and not request.bulk"),
            format!("resource.roles.contains(\"{role}\") && !context.bulk"),
            format!("\"{role}\" in target.roles\n\tnot input.bulk"),
        ),
        _ => (
            format!("actor has role \"{role}\" and target.kind != \"guest\""),
            format!("principal.roles.contains(\"{role}\") && resource.kind != \"guest\""),
            format!("\"{role}\" in actor.roles\n\ttarget.kind != \"guest\""),
        ),
    };
    let effect = if *permit { "permit" } else { "forbid" };
    let set = if *permit { "permits" } else { "forbids" };
    (
        format!("\nrule {name} {{\n  {effect} {action}\n  when {sw_cond}\n}}\n"),
        format!(
            "\n@id(\"{name}\")\n{effect} (principal, action == Action::\"{action}\", resource)\nwhen {{ {ce_cond} }};\n"
        ),
        format!("\n{set} contains \"{name}\" if {{\n\tinput.action == \"{action}\"\n\t{re_cond}\n}}\n"),
    )
}
