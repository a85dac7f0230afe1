//! Every validation error of the directory format: the rendered message is
//! snapshot, and the line and column are pinned.

use steward::policy::report::render_human;

use crate::support::first_diagnostic;

const BASE: &str = "environments:\n  - { id: A, license: \"1\", kind: production }\n";

fn check(name: &str, text: &str, code: &str, line: u64, column: u64) {
    let (sources, diagnostics) =
        steward::directory::yaml::parse("dir.yaml", text, &steward::policy::declare::standard())
            .expect_err("an error");
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
    "environments:\n  - { id: A, license: \"1\", kind: test, idp_active: maybe }\n", "attribute", 2, 40
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
    "attribute",
    4,
    23
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
    let (_, diagnostics) =
        steward::directory::yaml::parse("dir.yaml", &text, &steward::policy::declare::standard())
            .unwrap_err();
    let codes: Vec<&str> = diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(codes, ["unknown-environment", "unknown-value", "space-type"]);
}

error!(
    space_type_on_another_kind,
    format!("{BASE}assets:\n  - {{ id: a1, kind: app, env: A, space_type: shared }}\n"),
    "space-type",
    4,
    46
);
error!(
    empty_email,
    format!(
        "{BASE}users:\n  - {{ id: u, home: A, accounts: [{{ env: A, status: active, email: \"\" }}] }}\n"
    ),
    "invalid-email",
    4,
    67
);
error!(
    email_with_spaces,
    format!(
        "{BASE}users:\n  - {{ id: u, home: A, accounts: [{{ env: A, status: active, email: \" x@y \" }}] }}\n"
    ),
    "invalid-email",
    4,
    67
);
error!(empty_user_id, format!("{BASE}users:\n  - {{ id: \"\", home: A }}\n"), "invalid-id", 4, 11);
error!(blank_user_id, format!("{BASE}users:\n  - {{ id: \"   \", home: A }}\n"), "invalid-id", 4, 11);
error!(missing_key, "environments:\n  - { id: A, kind: test }\n", "missing-key", 2, 5);
error!(
    list_written_as_one_value,
    format!(
        "{BASE}users:\n  - id: u\n    home: A\n    accounts:\n      - env: A\n        status: active\n        roles: admin\n"
    ),
    "invalid-yaml",
    9,
    16
);
error!(indentation_slip, format!("{BASE}users:\n  - id: u\n     home: A\n"), "invalid-yaml", 5, 10);
error!(empty_file, "# the directory, to be written\n", "empty-directory", 1, 1);

/// The codes of every problem of `text`, in order.
fn codes(text: &str) -> Vec<&'static str> {
    match steward::directory::yaml::parse("dir.yaml", text, &steward::policy::declare::standard()) {
        Ok(_) => Vec::new(),
        Err((_, diagnostics)) => diagnostics.iter().map(|d| d.code).collect(),
    }
}

#[test]
fn two_empty_emails_are_two_empty_emails_not_a_duplicate() {
    let text = format!(
        "{BASE}users:\n  - {{ id: a, home: A, accounts: [{{ env: A, status: active, email: \"\" }}] }}\n  - {{ id: b, home: A, accounts: [{{ env: A, status: active, email: \"\" }}] }}\n"
    );
    assert_eq!(codes(&text), ["invalid-email", "invalid-email"]);
}

#[test]
fn an_address_with_spaces_around_it_is_not_the_address() {
    let text = format!(
        "{BASE}users:\n  - {{ id: a, home: A, accounts: [{{ env: A, status: active, email: x@y }}] }}\n  - {{ id: b, home: A, accounts: [{{ env: A, status: active, email: \" x@y \" }}] }}\n"
    );
    assert_eq!(codes(&text), ["invalid-email"]);
    let (sources, diagnostics) =
        steward::directory::yaml::parse("dir.yaml", &text, &steward::policy::declare::standard())
            .unwrap_err();
    let first = first_diagnostic(&sources, &diagnostics);
    assert_eq!(first["line"], 5, "{first}");
}

#[test]
fn empty_and_blank_ids_are_refused_where_written() {
    let text = format!(
        "{BASE}users:\n  - {{ id: \"\", home: A }}\n  - {{ id: \"   \", home: A }}\nassets:\n  - {{ id: \"\", kind: app, env: A }}\n"
    );
    let (sources, diagnostics) =
        steward::directory::yaml::parse("dir.yaml", &text, &steward::policy::declare::standard())
            .unwrap_err();
    let places: Vec<(&str, String)> =
        diagnostics.iter().map(|d| (d.code, d.span.map(|s| sources.locate(s)).unwrap_or_default())).collect();
    assert_eq!(
        places,
        [
            ("invalid-id", "dir.yaml:4:11".to_owned()),
            ("invalid-id", "dir.yaml:5:11".to_owned()),
            ("invalid-id", "dir.yaml:7:11".to_owned())
        ]
    );
}

#[test]
fn an_unknown_status_or_kind_hides_none_of_the_account_s_other_problems() {
    let text = format!(
        "{BASE}users:\n  - {{ id: u, home: A, accounts: [{{ env: A, status: actve, kind: gest, email: \"\", invited_until: soon }}] }}\n"
    );
    assert_eq!(codes(&text), ["unknown-value", "unknown-value", "invalid-date", "invalid-email"]);
}

/// One wrong value is one error: the environment is still known, and the
/// accounts in it are not "in unknown environment".
#[test]
fn a_wrong_environment_kind_is_one_error_not_one_per_account() {
    let users: String = (0..6)
        .map(|i| format!("  - {{ id: u{i}, home: A, accounts: [{{ env: A, status: active }}] }}\n"))
        .collect();
    let text = format!(
        "environments:\n  - {{ id: A, license: \"1\", kind: prod }}\nusers:\n{users}assets:\n  - {{ id: x, kind: app, env: A, owner: u0 }}\n"
    );
    assert_eq!(codes(&text), ["unknown-value"]);
}

/// Neither an account with a problem of its own nor an asset with one
/// makes what names it wrong too.
#[test]
fn what_names_an_entry_with_a_problem_is_not_reported_again() {
    let text = format!(
        "{BASE}users:\n  - {{ id: u, home: A, accounts: [{{ env: A, status: actve }}] }}\nassets:\n  - {{ id: s, kind: spaec, env: A }}\n  - {{ id: x, kind: app, env: A, owner: u, space: s }}\nreferences:\n  - {{ table: journal, env: A, user: u, rows: 1 }}\n"
    );
    assert_eq!(codes(&text), ["unknown-value", "unknown-value"]);
}

#[test]
fn every_unknown_key_is_reported_and_a_misspelt_key_is_not_also_missing() {
    let text = "environments:\n  - { id: A, licence: \"1\", kind: test }\nusers:\n  - id: u\n    home: A\n    acounts: []\n  - { id: v, hoem: A, colour: red }\n";
    let (sources, diagnostics) =
        steward::directory::yaml::parse("dir.yaml", text, &steward::policy::declare::standard()).unwrap_err();
    let found: Vec<(&str, String, String)> = diagnostics
        .iter()
        .map(|d| (d.code, d.message.clone(), d.span.map(|s| sources.locate(s)).unwrap_or_default()))
        .collect();
    let expected = [
        ("unknown-key", "unknown key `licence`", "dir.yaml:2:14"),
        ("unknown-key", "unknown key `acounts`", "dir.yaml:6:5"),
        ("unknown-key", "unknown key `hoem`", "dir.yaml:7:14"),
        ("unknown-key", "unknown key `colour`", "dir.yaml:7:23"),
    ];
    let expected: Vec<(&str, String, String)> =
        expected.iter().map(|(c, m, at)| (*c, (*m).to_owned(), (*at).to_owned())).collect();
    assert_eq!(found, expected);
    assert!(
        diagnostics[2].help.as_deref().unwrap().starts_with("did you mean `home`?"),
        "{:?}",
        diagnostics[2]
    );
}

#[test]
fn a_file_without_a_directory_in_it_is_refused() {
    for text in ["", "\n# nothing yet\n", "---\n", "{}\n"] {
        assert_eq!(codes(text), ["empty-directory"], "{text:?}");
    }
    assert_eq!(codes("environments: []\n"), Vec::<&str>::new());
}

/// The parser's limits grow with the file, but aliases keep fixed ones:
/// a few hundred bytes cannot expand into billions of nodes.
#[test]
fn an_alias_bomb_is_refused() {
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..9 {
        let p = i - 1;
        text.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    text.push_str("environments: *a8\n");
    let found = codes(&text);
    assert_eq!(found, ["invalid-yaml"]);
}

/// Addresses are one per environment in ASCII case only, as the engine and
/// the store's unique index compare them: `FÄY@x` and `fäy@x` are two
/// addresses (G6), so what an apply leaves is imported again.
#[test]
fn g6_addresses_differ_outside_ascii_case_as_the_store_compares_them() {
    let text = format!(
        "{BASE}users:\n  - {{ id: a, home: A, accounts: [{{ env: A, status: active, email: fäy@x.example }}] }}\n  - {{ id: b, home: A, accounts: [{{ env: A, status: active, email: FÄY@x.example }}] }}\n"
    );
    assert!(
        steward::directory::yaml::parse("dir.yaml", &text, &steward::policy::declare::standard()).is_ok()
    );
    let text = text.replace("FÄY@x", "fäY@X");
    assert_eq!(codes(&text), ["duplicate-email"]);
}

/// An id, a name or an address with a control character (a newline, an
/// escape, a reordering mark) is refused where it is written: printed in a
/// table or the audit log it could forge lines (#15).
#[test]
fn control_characters_in_ids_names_and_addresses_are_refused() {
    let text = format!(
        "{BASE}users:\n  - {{ id: \"a\\nforged\", home: A, accounts: [{{ env: A, status: active }}] }}\n  - {{ id: b, home: A, accounts: [{{ env: A, status: active, name: \"B\\u001b[2K\", email: \"b\\u202e@x.example\" }}] }}\n"
    );
    assert_eq!(codes(&text), ["invalid-id", "invalid-email", "invalid-name"]);
}

/// A reference counting more rows than SQLite's integers hold is refused,
/// not stored as another number (#15).
#[test]
fn a_row_count_too_large_to_store_is_refused() {
    let text = format!(
        "{BASE}users:\n  - {{ id: a, home: A, accounts: [{{ env: A, status: active }}] }}\nreferences:\n  - {{ table: t, env: A, user: a, rows: 9223372036854775808 }}\n"
    );
    assert_eq!(codes(&text), ["invalid-value"]);
}

/// A generated directory large enough to be read on two cores (over 1 MiB).
fn large_yaml() -> String {
    use steward::directory::generate::{GenerateOptions, generate};
    let text = steward::directory::export::to_yaml(
        &generate(GenerateOptions { accounts: 3_000, seed: 7 }),
        &steward::policy::declare::standard(),
    )
    .unwrap();
    assert!(text.len() > 1 << 20, "{} bytes", text.len());
    text
}

/// A large file read in two parts at once is the directory the whole file
/// is (`---` first makes it read whole), and an error in its second part is
/// placed in the file as written (#15).
#[test]
fn a_large_file_read_in_two_parts_is_the_file_read_whole() {
    let text = large_yaml();
    let parts = steward::directory::yaml::parse("g.yaml", &text, &steward::policy::declare::standard())
        .unwrap()
        .into_parts();
    let whole = steward::directory::yaml::parse(
        "g.yaml",
        &format!("---\n{text}"),
        &steward::policy::declare::standard(),
    )
    .unwrap()
    .into_parts();
    assert_eq!(parts, whole);

    let at = text.rfind("kind: app").unwrap();
    let broken = format!("{}kind: ap{}", &text[..at], &text[at + "kind: app".len()..]);
    let line = broken[..at].matches('\n').count() as u64 + 1;
    let (sources, diagnostics) =
        steward::directory::yaml::parse("g.yaml", &broken, &steward::policy::declare::standard())
            .unwrap_err();
    let first = first_diagnostic(&sources, &diagnostics);
    assert_eq!(
        (first["code"].as_str(), first["line"].as_u64()),
        (Some("unknown-value"), Some(line)),
        "{first}"
    );
    // Read whole, one line lower for the `---`: the same place.
    let (sources, diagnostics) = steward::directory::yaml::parse(
        "g.yaml",
        &format!("---\n{broken}"),
        &steward::policy::declare::standard(),
    )
    .unwrap_err();
    let whole = first_diagnostic(&sources, &diagnostics);
    assert_eq!(
        (whole["line"].as_u64(), whole["column"].as_u64()),
        (Some(line + 1), first["column"].as_u64())
    );
}

/// An alias in one part to an anchor in the other cannot be read apart:
/// the whole file is read instead, and means what it says.
#[test]
fn an_alias_across_the_parts_of_a_large_file_is_read_whole() {
    let text = large_yaml();
    let env = "  license: \"";
    let at = text.find(env).unwrap() + env.len();
    let anchored = format!("{}&lic {}", &text[..at - 1], &text[at - 1..]);
    let last = anchored.rfind("license: \"").unwrap();
    let end = last + anchored[last..].find('\n').unwrap();
    let aliased = format!("{}license: *lic{}", &anchored[..last], &anchored[end..]);
    let parsed = steward::directory::yaml::parse("g.yaml", &aliased, &steward::policy::declare::standard());
    assert!(parsed.is_ok(), "{:?}", parsed.err().map(|(_, d)| d));
}
// A value with `: ` in it, unquoted: told to quote it, not to check the
// indentation.
error!(
    colon_in_a_value,
    "environments:\n  - id: A\n    license: \"1\"\n    kind: production\nusers:\n  - id: u\n    home: A\n    idp_subject: sub: 1\n",
    "invalid-yaml",
    8,
    21
);
