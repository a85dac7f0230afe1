//! What a policy author sees for each kind of mistake: snapshots of the
//! rendered diagnostic, and the exact line and column it points at.

use steward::policy::report::render_human;
use steward::policy::{PolicySet, Sources};

use crate::support::first_diagnostic;

/// Loads `text` as `mistake.policy` and returns (rendered, first code, line, column).
fn diagnose(text: &str) -> (String, String, usize, usize) {
    let mut sources = Sources::new();
    sources.add("mistake.policy", text);
    let (sources, diagnostics) = match PolicySet::from_sources(sources.clone()) {
        Ok(loaded) => (loaded.set.sources().clone(), loaded.warnings),
        Err(e) => {
            let (s, d) = e.diagnostics().expect("a diagnostic");
            (s.clone(), d.to_vec())
        }
    };
    assert!(!diagnostics.is_empty(), "no diagnostic for {text:?}");
    let json = first_diagnostic(&sources, &diagnostics);
    (
        render_human(&sources, &diagnostics),
        json["code"].as_str().unwrap().to_owned(),
        json["line"].as_u64().unwrap() as usize,
        json["column"].as_u64().unwrap() as usize,
    )
}

macro_rules! mistake {
    ($name:ident, $text:expr, $code:expr, $line:expr, $col:expr) => {
        #[test]
        fn $name() {
            let (rendered, code, line, col) = diagnose($text);
            assert_eq!((code.as_str(), line, col), ($code, $line, $col), "\n{rendered}");
            insta::assert_snapshot!(stringify!($name), rendered);
        }
    };
}

mistake!(missing_closing_brace, "rule r {\n  permit block\n", "syntax", 3, 1);
// A rule left open is said of its `{`, with where the next rule starts
// and `}` among what was expected there.
mistake!(
    unclosed_rule_before_the_next,
    "rule r {\n  permit block\n  when actor has role \"superuser\"\n\nrule s {\n  forbid delete\n}\n",
    "unclosed-block",
    1,
    8
);
// C4 "only superusers": roles are tested with `has role`, whichever way
// the author reached for them.
mistake!(
    role_as_an_attribute,
    "rule r {\n  permit block\n  when actor.role == \"superuser\"\n}\n",
    "syntax",
    3,
    14
);
mistake!(has_roles, "rule r {\n  permit block\n  when actor has roles \"superuser\"\n}\n", "syntax", 3, 24);
mistake!(
    roles_compared_with_one_role,
    "rule r {\n  permit block\n  when target.roles != \"superuser\"\n}\n",
    "type-mismatch",
    3,
    8
);
mistake!(missing_action, "rule r {\n  permit\n}\n", "syntax", 3, 1);
mistake!(single_equals, "rule r {\n  permit block\n  when actor.user = target.user\n}\n", "syntax", 3, 19);
mistake!(ampersands, "rule r { permit block when a && b }", "syntax", 1, 30);
mistake!(pipes, "rule r { permit block when a || b }", "syntax", 1, 30);
mistake!(bang_for_not, "rule r { permit block when !request.bulk }", "syntax", 1, 28);
mistake!(single_quotes, "rule r { permit block because 'no' }", "syntax", 1, 31);
mistake!(unterminated_string, "rule r { permit block because \"no }\n", "unterminated-string", 1, 31);
mistake!(keyword_as_name, "rule when { permit block }", "reserved-word", 1, 6);
mistake!(missing_comma_between_actions, "rule r { permit block delete }", "syntax", 1, 23);
mistake!(
    invalid_date,
    "rule r { permit block when target.user.employment_end < 2026-02-30 }",
    "invalid-date",
    1,
    57
);
mistake!(
    integer_overflow,
    "rule r { permit block when request.batch_size > 99999999999999999999 }",
    "integer-overflow",
    1,
    49
);
mistake!(chained_comparison, "rule r { permit block when request.batch_size == 1 == 1 }", "syntax", 1, 52);
mistake!(unknown_action, "rule r {\n  permit delet\n}\n", "unknown-action", 2, 10);
mistake!(
    unknown_attribute,
    "rule r { permit block when target.stauts == \"active\" }",
    "unknown-attribute",
    1,
    35
);
mistake!(unknown_root, "rule r { permit block when tagret.status == \"active\" }", "unknown-root", 1, 28);
mistake!(
    unknown_status,
    "rule r { permit block when target.status == \"disabled\" }",
    "unknown-value",
    1,
    45
);
mistake!(
    string_compared_with_integer,
    "rule r { permit block when request.batch_size == \"3\" }",
    "type-mismatch",
    1,
    28
);
mistake!(ordering_strings, "rule r { permit block when target.name < \"m\" }", "type-mismatch", 1, 28);
mistake!(
    target_in_invite,
    "rule r { permit invite when target.status == \"active\" }",
    "root-not-available",
    1,
    29
);
mistake!(
    account_outside_count,
    "rule r { permit block when account.status == \"active\" }",
    "root-not-available",
    1,
    28
);
mistake!(
    has_role_on_environment,
    "rule r { permit block when environment has role \"x\" }",
    "type-mismatch",
    1,
    28
);
mistake!(not_a_condition, "rule r { permit block when target.status }", "not-a-condition", 1, 28);
mistake!(
    duplicate_rule_name,
    "rule r { permit block }\nrule r { forbid delete because \"no\" }\n",
    "duplicate-name",
    2,
    6
);
mistake!(
    duplicate_lifecycle,
    "lifecycle delete { owns app -> reassign }\nlifecycle delete { owns api_key -> revoke }\n",
    "duplicate-lifecycle",
    2,
    11
);
mistake!(
    unknown_asset_kind,
    "lifecycle delete {\n  owns spaces -> reassign\n}\n",
    "unknown-asset-kind",
    2,
    8
);
mistake!(unknown_consequence, "lifecycle delete {\n  owns space -> keep\n}\n", "unknown-consequence", 2, 17);
mistake!(
    fallback_not_on_account,
    "lifecycle delete {\n  referenced -> fallback invite\n}\n",
    "not-an-account-action",
    2,
    26
);
mistake!(never_matches, "rule r { permit block when false }", "never-matches", 1, 28);
mistake!(
    unreachable_permit,
    "rule p { permit block }\nrule f { forbid block because \"never\" }\n",
    "unreachable-permit",
    1,
    1
);

mistake!(
    nesting_too_deep,
    &format!("rule r {{\n  permit block\n  when {}actor.portal\n}}\n", "not ".repeat(128)),
    "nesting-too-deep",
    3,
    520
);
mistake!(
    brackets_too_deep,
    &format!("rule r {{ permit block when {}true{} }}", "(".repeat(200), ")".repeat(200)),
    "nesting-too-deep",
    1,
    156
);

#[test]
fn not_utf8() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("latin1.policy");
    std::fs::write(&path, b"rule r {\n  permit block because \"caf\xe9\"\n}\n").unwrap();
    let err = PolicySet::load(&[path]).unwrap_err();
    let (sources, diagnostics) = err.diagnostics().unwrap();
    let json = first_diagnostic(sources, diagnostics);
    assert_eq!(
        (json["code"].as_str(), json["line"].as_u64(), json["column"].as_u64()),
        (Some("invalid-utf8"), Some(2), Some(28))
    );
    let rendered = render_human(sources, diagnostics).replace(&dir.path().display().to_string(), "[dir]");
    insta::assert_snapshot!("not_utf8", rendered);
}

#[test]
fn a_duplicate_in_another_file_names_where_the_first_is() {
    let mut sources = Sources::new();
    sources.add("a.policy", "rule r { permit block }\n");
    sources.add("b.policy", "rule r { forbid delete }\n");
    let err = PolicySet::from_sources(sources).unwrap_err();
    let (sources, diagnostics) = err.diagnostics().unwrap();
    let text = render_human(sources, diagnostics);
    assert!(text.contains("b.policy:1:6"), "{text}");
    assert!(text.contains("note: first used here: a.policy:1:6"), "{text}");
}

// #16: mistakes in a pack's own schema, each located at the name at fault.
const SCHEMA_HEAD: &str = "schema {\n  environment kind production live\n  status active counts login\n  status frozen counts\n  account kind user\n";
mistake!(
    schema_unknown_status_in_from,
    &format!("{SCHEMA_HEAD}  action freeze on account from activ -> frozen\n}}\n"),
    "unknown-status",
    6,
    33
);
mistake!(
    schema_move_to_an_undeclared_status,
    &format!("{SCHEMA_HEAD}  action freeze on account from active -> frozn\n}}\n"),
    "unknown-status",
    6,
    43
);
mistake!(
    schema_duplicate_action,
    &format!("{SCHEMA_HEAD}  action freeze on account -> frozen\n  action freeze on account -> active\n}}\n"),
    "duplicate-declaration",
    7,
    10
);
mistake!(
    schema_attribute_of_an_unknown_type,
    &format!("{SCHEMA_HEAD}  attribute user.contract_end: dat\n}}\n"),
    "unknown-type",
    6,
    32
);
mistake!(
    schema_undeclared_attribute_in_a_rule,
    &format!(
        "{SCHEMA_HEAD}  attribute user.contract_end: date?\n  action freeze on account -> frozen\n}}\n\
         rule r {{\n  permit freeze\n  when target.user.attrs.contract_ned < request.now\n}}\n"
    ),
    "unknown-attribute",
    11,
    26
);
mistake!(
    schema_a_date_compared_with_a_string,
    &format!(
        "{SCHEMA_HEAD}  attribute user.contract_end: date?\n  action freeze on account -> frozen\n}}\n\
         rule r {{\n  permit freeze\n  when target.user.attrs.contract_end == \"soon\"\n}}\n"
    ),
    "type-mismatch",
    11,
    8
);
mistake!(
    schema_a_status_the_schema_does_not_declare,
    &format!(
        "{SCHEMA_HEAD}  action freeze on account -> frozen\n}}\nrule r {{\n  permit freeze\n  when target.status == \"blocked\"\n}}\n"
    ),
    "unknown-value",
    10,
    25
);
mistake!(
    schema_an_action_the_schema_does_not_declare,
    &format!("{SCHEMA_HEAD}  action freeze on account -> frozen\n}}\nrule r {{ permit delete }}\n"),
    "unknown-action",
    8,
    17
);
mistake!(
    schema_an_effect_its_subject_cannot_have,
    &format!("{SCHEMA_HEAD}  action freeze on asset -> frozen\n}}\n"),
    "invalid-effect",
    6,
    10
);
mistake!(schema_without_a_status, "schema {\n  account kind user\n}\n", "incomplete-schema", 1, 1);
mistake!(
    schema_extends_an_unknown_one,
    "schema extends standrd {\n  status frozen counts\n}\n",
    "unknown-schema",
    1,
    16
);
mistake!(
    schema_redeclares_a_standard_name,
    "schema extends standard {\n  status active counts login\n}\n",
    "duplicate-declaration",
    2,
    10
);
mistake!(
    schema_reassign_without_the_action,
    &format!(
        "{SCHEMA_HEAD}  asset kind record\n  action delete on account removes\n}}\nlifecycle delete {{\n  owns record -> reassign\n}}\n"
    ),
    "reassign-undeclared",
    10,
    8
);
mistake!(
    schema_mixes_its_own_with_an_extension,
    "schema extends standard {\n  asset kind report\n}\nschema {\n  environment kind main live\n  status on counts login\n  account kind staff\n}\n",
    "mixed-schema",
    4,
    1
);
mistake!(
    schema_options_of_a_removal_set_nothing,
    &format!("{SCHEMA_HEAD}  action kill on account takes one of bot {{ kind = user }} removes\n}}\n"),
    "invalid-setting",
    6,
    10
);
// #16: `sets` names a declared attribute of the account or its user, of
// its type (G3 portal access, G4 guest license); a declared attribute may
// not take the name of a built-in one; a default and the identity
// provider's tests are of the attribute's type (Q2).
mistake!(
    schema_sets_an_undeclared_attribute,
    &format!(
        "{SCHEMA_HEAD}  attribute account.vip: boolean = false\n  action promote on account sets vipp = true\n}}\n"
    ),
    "unknown-field",
    7,
    34
);
mistake!(
    schema_sets_an_attribute_a_value_of_another_type,
    &format!(
        "{SCHEMA_HEAD}  attribute account.seats: integer = 0\n  action grant on account sets seats = true\n}}\n"
    ),
    "invalid-setting",
    7,
    32
);
mistake!(
    schema_declares_a_built_in_attribute,
    &format!("{SCHEMA_HEAD}  attribute account.status: string\n}}\n"),
    "duplicate-declaration",
    6,
    21
);
mistake!(
    schema_default_of_another_type,
    &format!("{SCHEMA_HEAD}  attribute account.seats: integer = \"many\"\n}}\n"),
    "invalid-default",
    6,
    36
);
mistake!(
    schema_identity_provider_on_an_undeclared_attribute,
    &format!(
        "{SCHEMA_HEAD}  attribute environment.sso: boolean = false\n  identity provider when environment.ssso\n}}\n"
    ),
    "unknown-attribute",
    7,
    38
);
mistake!(
    contradiction,
    "rule r {\n  permit block\n  when request.batch_size > 10 and target.status == \"active\" and request.batch_size < 5\n}\n",
    "contradiction",
    3,
    8
);
mistake!(forbid_without_because, "rule no_blocks {\n  forbid block\n}\n", "forbid-without-because", 1, 6);
mistake!(
    shadowed_permit,
    "rule helpdesk_blocks {\n  permit block\n  when actor has role \"helpdesk\" and target has role \"administrator\"\n}\n\nrule administrators_stay {\n  forbid block, delete\n  when target has role \"administrator\"\n  because \"administrators are blocked by administrators\"\n}\n",
    "shadowed-permit",
    1,
    1
);
// A misspelt item keyword between items is named, with the closest one.
mistake!(misspelt_item_keyword, "rul r {\n  permit block\n}\n", "syntax", 1, 1);
