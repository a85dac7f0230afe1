//! Every validation error of the directory format: the rendered message is
//! snapshot, and the line and column are pinned.

use steward::policy::report::render_human;

use crate::support::first_diagnostic;

const BASE: &str = "environments:\n  - { id: A, license: \"1\", kind: production }\n";

fn check(name: &str, text: &str, code: &str, line: u64, column: u64) {
    let (sources, diagnostics) = steward::directory::yaml::parse("dir.yaml", text).expect_err("an error");
    let first = first_diagnostic(&sources, &diagnostics);
    let rendered = render_human(&sources, &diagnostics);
    assert_eq!(
        (first["code"].as_str().unwrap(), first["line"].as_u64().unwrap(), first["column"].as_u64().unwrap()),
        (code, line, column),
        "\n{rendered}"
    );
    insta::assert_snapshot!(name, rendered);
}

macro_rules! error {
    ($name:ident, $text:expr, $code:expr, $line:expr, $col:expr) => {
        #[test]
        fn $name() {
            check(stringify!($name), &$text, $code, $line, $col);
        }
    };
}

error!(malformed_yaml, "environments:\n  - { id: A, license: 1\n", "invalid-yaml", 2, 5);
error!(unknown_key, "environments:\n  - { id: A, licence: \"1\", kind: test }\n", "unknown-key", 2, 14);
error!(
    wrong_type,
    "environments:\n  - { id: A, license: \"1\", kind: test, idp_active: maybe }\n", "invalid-yaml", 2, 52
);
error!(duplicate_id, format!("{BASE}  - {{ id: A, license: \"2\", kind: test }}\n"), "duplicate-id", 3, 11);
error!(
    duplicate_account,
    format!(
        "{BASE}users:\n  - {{ id: u, home: A, accounts: [{{ env: A, status: active }}, {{ env: A, status: blocked }}] }}\n"
    ),
    "duplicate-account",
    4,
    69
);
error!(
    unknown_environment,
    format!("{BASE}users:\n  - {{ id: u, home: B }}\n"),
    "unknown-environment",
    4,
    20
);
error!(
    unknown_status,
    format!("{BASE}users:\n  - {{ id: u, home: A, accounts: [{{ env: A, status: disabled }}] }}\n"),
    "unknown-value",
    4,
    52
);
error!(
    owner_without_account,
    format!(
        "{BASE}users:\n  - {{ id: u, home: A }}\nassets:\n  - {{ id: x, kind: app, env: A, owner: u }}\n"
    ),
    "owner-without-account",
    6,
    40
);
error!(
    unknown_asset,
    format!("{BASE}assets:\n  - {{ id: x, kind: app, env: A, uses: [dc-warehous] }}\n"),
    "unknown-asset",
    4,
    40
);
error!(
    not_a_space,
    format!(
        "{BASE}assets:\n  - {{ id: x, kind: app, env: A }}\n  - {{ id: y, kind: app, env: A, space: x }}\n"
    ),
    "not-a-space",
    5,
    40
);
error!(
    cross_environment,
    format!(
        "{BASE}  - {{ id: B, license: \"1\", kind: test }}\nassets:\n  - {{ id: x, kind: app, env: A }}\n  - {{ id: y, kind: app, env: B, uses: [x] }}\n"
    ),
    "cross-environment",
    6,
    40
);
error!(
    cycle,
    format!(
        "{BASE}assets:\n  - {{ id: x, kind: app, env: A, uses: [y] }}\n  - {{ id: y, kind: app, env: A, uses: [x] }}\n"
    ),
    "cycle",
    4,
    11
);
error!(
    space_without_type,
    format!("{BASE}assets:\n  - {{ id: s, kind: space, env: A }}\n"),
    "space-type",
    4,
    11
);
error!(
    duplicate_email_g6,
    format!(
        "{BASE}users:\n  - {{ id: a, home: A, accounts: [{{ env: A, status: active, email: x@y.example }}] }}\n  - {{ id: b, home: A, accounts: [{{ env: A, status: active, email: X@y.example }}] }}\n"
    ),
    "duplicate-email",
    5,
    67
);
error!(
    invitation_not_pending,
    format!(
        "{BASE}users:\n  - {{ id: u, home: A, accounts: [{{ env: A, status: active, invited_until: 2026-12-01T00:00:00Z }}] }}\n"
    ),
    "invitation-not-pending",
    4,
    75
);
error!(
    invalid_date,
    format!("{BASE}users:\n  - {{ id: u, home: A, employment_end: 2026-02-30 }}\n"),
    "invalid-date",
    4,
    39
);
error!(
    reference_without_account,
    format!(
        "{BASE}users:\n  - {{ id: u, home: A }}\nreferences:\n  - {{ table: journal_entries, env: A, user: u, rows: 3 }}\n"
    ),
    "reference-without-account",
    6,
    45
);

#[test]
fn every_problem_of_a_file_is_reported_at_once() {
    let text = format!(
        "{BASE}users:\n  - {{ id: u, home: B }}\n  - {{ id: v, home: A, accounts: [{{ env: A, status: actve }}] }}\nassets:\n  - {{ id: s, kind: space, env: A }}\n"
    );
    let (_, diagnostics) = steward::directory::yaml::parse("dir.yaml", &text).unwrap_err();
    let codes: Vec<&str> = diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(codes, ["unknown-environment", "unknown-value", "space-type"]);
}
