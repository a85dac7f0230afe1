# The benchmark's authorization model in Rego, equivalent to
# bench/policies/model.policy. Data: accounts[env][user] (user, env, status,
# kind, roles), users[id] (home, guest_license). Input: actor, target, env,
# action, bulk. Every steward rule is one rule here, adding its name to
# `permits` or `forbids`; allowed iff a permit matched and no forbid did.
package steward

import rego.v1

default allow := false

allow if {
	count(forbids) == 0
	count(permits) > 0
}

actor := data.accounts[input.env][input.actor]

target := data.accounts[input.env][input.target]

permits contains "admins_manage_accounts" if {
	input.action in {"block", "unblock", "delete"}
	some role in ["superuser", "administrator"]
	role in actor.roles
}

forbids contains "no_self_delete" if {
	input.action == "delete"
	actor.user == target.user
}

forbids contains "superusers_only_in_bulk" if {
	input.action in {"block", "delete"}
	"superuser" in target.roles
	not input.bulk
}

permits contains "administrators_edit_users" if {
	input.action in {"edit_email", "edit_name"}
	"administrator" in actor.roles
}

forbids contains "guest_email_at_home" if {
	input.action == "edit_email"
	data.users[target.user].guest_license
	input.env != data.users[target.user].home
}

forbids contains "last_admin_stays" if {
	input.action in {"block", "delete"}
	"administrator" in target.roles
	target.status == "active"
	count([1 | some a in data.accounts[input.env]; a.status == "active"; "administrator" in a.roles]) <= 1
}

# steward's built-in status transitions, written out.
forbids contains "status_transition_block" if {
	input.action == "block"
	target.status != "active"
}

forbids contains "status_transition_unblock" if {
	input.action == "unblock"
	target.status != "blocked"
}
