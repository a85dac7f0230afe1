//! What a decision says: allowed or denied, every rule that decided it, the
//! reasons, and the runtime errors met on the way. [`Decision`] is
//! allocation-free in the common case; [`DecisionReport`] is its JSON form.

use serde::Serialize;
use smallvec::SmallVec;

use super::ast::Effect;
use super::eval::EvalError;

/// A rule that took part in a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RuleRef {
    /// A rule of the policy set, by index.
    Policy(u32),
    /// A built-in rule.
    Builtin(Builtin),
}

/// Rules steward applies whatever the policy says, named like policy rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Builtin {
    /// No permit matched: deny by default.
    DefaultDeny,
    /// The account's status does not allow this move (Q4, Q3).
    StatusTransition,
    /// Invitations and an active identity provider exclude each other (Q2).
    InvitationsOrIdp,
    /// The target already has an account in the environment (G10).
    AlreadyMember,
    /// The e-mail address belongs to another account of the environment (G6).
    EmailInUse,
}

/// The id of the lifecycle's built-in rule: an allowed change that records
/// still refer to, turned into a deny with the block's fallback (P3).
pub const REFERENCED: &str = "referenced";

/// The id a plan item gives when its selector or trigger cannot be
/// evaluated on the account (outcome `error`).
pub const SELECTOR_ERROR: &str = "selector-error";

/// The id a plan item gives when its request is invalid (an unknown user,
/// a value the action does not take): denied without a rule deciding it.
pub const INVALID_REQUEST: &str = "invalid-request";

impl Builtin {
    /// Every built-in rule of a policy decision.
    pub const ALL: [Builtin; 5] = [
        Builtin::DefaultDeny,
        Builtin::StatusTransition,
        Builtin::InvitationsOrIdp,
        Builtin::AlreadyMember,
        Builtin::EmailInUse,
    ];

    /// The id a decision names it by.
    pub const fn id(self) -> &'static str {
        match self {
            Builtin::DefaultDeny => "default-deny",
            Builtin::StatusTransition => "status-transition",
            Builtin::InvitationsOrIdp => "invitations-or-idp",
            Builtin::AlreadyMember => "already-member",
            Builtin::EmailInUse => "email-in-use",
        }
    }
}

/// Why a built-in rule denied, kept as data and put into words only when a
/// decision is reported: a denial allocates nothing.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum BuiltinReason {
    /// The target's status does not allow the move (Q4).
    Status {
        /// The target's status (inline: a denial allocates nothing).
        status: compact_str::CompactString,
    },
    /// The invitation expired (Q3).
    Expired(jiff::Timestamp),
    /// The environment's identity provider is active (Q2).
    IdpActive,
    /// Anything else, already in words (rare denials).
    Text(String),
}

impl BuiltinReason {
    /// The reason in words, for `request`.
    pub(crate) fn render(&self, request: &super::Request, schema: &crate::schema::Schema) -> String {
        let who = request.target.as_deref().unwrap_or_default();
        match self {
            BuiltinReason::Status { status } => {
                let action = schema.action(&request.action);
                let wanted = action.map(|a| a.from.join(" or ")).unwrap_or_default();
                let verb = action.map_or("acted on", |a| a.done.as_str());
                let article = if wanted.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
                format!("only {article} {wanted} account can be {verb}; `{who}` is {status}")
            }
            BuiltinReason::Expired(until) => format!("the invitation of `{who}` expired at {until}"),
            BuiltinReason::IdpActive => format!(
                "`{}` uses an active identity provider: users join through it, not by invitation",
                request.env
            ),
            BuiltinReason::Text(text) => text.clone(),
        }
    }
}

/// The outcome of one request.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub(crate) allowed: bool,
    pub(crate) rules: SmallVec<[RuleRef; 4]>,
    /// Built-in reasons (only built-in rules add them; policy rules have
    /// their `because` in the set).
    pub(crate) builtin_reasons: SmallVec<[BuiltinReason; 1]>,
    pub(crate) errors: SmallVec<[(RuleRef, EvalError); 1]>,
}

impl Decision {
    /// Whether the action is allowed.
    pub fn allowed(&self) -> bool {
        self.allowed
    }

    /// The rules that decided: the matching permits when allowed, the
    /// matching forbids (or a built-in rule) when denied.
    pub fn rules(&self) -> &[RuleRef] {
        &self.rules
    }

    /// Runtime errors met in conditions, with the rule they happened in.
    pub fn errors(&self) -> &[(RuleRef, EvalError)] {
        &self.errors
    }
}

/// A decision as JSON (`steward decide --format json`, `POST /v1/decide`).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct DecisionReport {
    /// `allow` or `deny`.
    pub decision: String,
    /// The deciding rules.
    pub rules: Vec<RuleReport>,
    /// The `because` texts of the deciding forbids, and built-in reasons.
    pub reasons: Vec<String>,
    /// Runtime errors, as text.
    pub errors: Vec<String>,
}

/// One deciding rule in a [`DecisionReport`].
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct RuleReport {
    /// The rule's name, or a built-in id.
    pub id: String,
    /// `permit` or `forbid`.
    pub effect: String,
    /// `file:line`, or `built-in`.
    pub source: String,
}

impl RuleReport {
    pub(crate) fn builtin(builtin: Builtin) -> Self {
        RuleReport {
            id: builtin.id().to_owned(),
            effect: Effect::Forbid.as_str().to_owned(),
            source: "built-in".into(),
        }
    }
}
