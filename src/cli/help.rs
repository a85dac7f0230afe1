//! What each subcommand's `--help` ends with: its exit codes, as the
//! README's command table gives them (a test holds the two together), and
//! examples that work from a checkout of the repository.

/// The exit codes of every command, at the end of `steward --help`.
pub const STEWARD: &str = "\
Exit codes:
  0  ok, or allowed
  1  failure, and usage errors
  2  denied
  3  invalid policy, directory or request

Each command's --help says what its codes mean for it.";

/// `steward check`.
pub const CHECK: &str = "\
Exit codes:
  0  valid (warnings are printed)
  1  unreadable, or no policies named
  3  invalid

Examples:
  steward check policies/erp
  steward check policies/crm --directory examples/crm.yaml";

/// `steward fmt`.
pub const FMT: &str = "\
Exit codes:
  0  formatted, or nothing to change
  1  would change (--check, --diff), or cannot read or write
  3  syntax error (nothing is written)

Examples:
  steward fmt --check policies
  steward fmt --diff policies/erp
  steward fmt - < policies/crm/superusers.policy";

/// `steward test`.
pub const TEST: &str = "\
Exit codes:
  0  passed
  1  a case failed, none ran, or unreadable
  3  invalid pack or test file

Examples:
  steward test policies/erp policies/crm policies/analytics
  steward test --format json policies/crm";

/// `steward decide`.
pub const DECIDE: &str = "\
Exit codes:
  0  allowed
  1  unreadable, or not given
  2  denied
  3  invalid policy, directory or request

Examples:
  steward decide --policy policies/crm --directory examples/crm.yaml \\
    --actor crm.Ada --action block --target crm.Sam --env CRM1 \\
    --confirm --reason left
  steward decide --policy policies/erp --directory examples/erp.yaml \\
    --actor 12345.Admin --action delete --target 12345.JJansen --env O12345AA \\
    --format json";

/// `steward who`.
pub const WHO: &str = "\
Exit codes:
  0  the answer (maybe nobody)
  1  unreadable, or not given
  3  invalid policy, directory or query

Examples:
  steward who --policy policies/erp --directory examples/erp.yaml \\
    --action delete --target 12345.JJansen --env O12345AA
  steward who --policy policies/crm --directory examples/crm.yaml \\
    --actor crm.Ada --action block --env CRM1 --confirm --reason left --why";

/// `steward diff`.
pub const DIFF: &str = "\
Every actor and target account of each environment is compared, for each action on
accounts (or --action) and request shape (or --request-shape); accounts that no rule
of either set tells apart are decided once, so the answer is exact and fast.

Exit codes:
  0  no answer changes (requests only decided by other rules are listed)
  1  unreadable, or not given
  2  some answer changes
  3  invalid policy set, directory or query

Examples:
  steward diff --base policies/erp --policy changed/erp --directory examples/erp.yaml
  steward diff --base main/policies/crm --policy policies/crm --directory crm.db \\
    --action delete --request-shape bulk,confirm,reason=left --format json
  steward diff --plan leavers.json --policy changed/erp --directory erp.db";

/// `steward replay`.
pub const REPLAY: &str = "\
Each line of the log is decided again at the clock it was decided at, over the directory
as it is now; a line that is not a decision of `steward serve` is an error (every such
line named, nothing decided).

Exit codes:
  0  no answer changes
  1  unreadable, or not given
  2  some answer changes, or a logged request can no longer be decided
  3  not a decision log, or an invalid policy set or directory

Examples:
  steward replay decisions.jsonl --policy changed/crm --directory crm.db
  steward replay decisions.jsonl --policy changed/crm --directory crm.db --format json";

/// `steward review`.
pub const REVIEW: &str = "\
Every action on accounts the schema declares is a power: removals first, then status moves,
then invitations renewed, then the rest. Each account is listed with the number of accounts of
its environment it may do the action to and the rules that allow it; accounts that no rule
tells apart are decided once, so the review is exact and fast.

Exit codes:
  0  the review
  1  unreadable, not given, or cannot write
  3  invalid policy set, directory or query

Examples:
  steward review --policy policies/erp --directory examples/erp.yaml --now 2026-12-01
  steward review --policy policies/crm --directory examples/crm.yaml \\
    --format html -o review.html";

/// `steward impact`.
pub const IMPACT: &str = "\
Exit codes:
  0  the impact
  1  unreadable, or not given
  3  invalid policy, directory or request

Examples:
  steward impact --policy policies/analytics \\
    --directory examples/analytics.yaml \\
    --actor acme.Olivia --target acme.Leo --env acme
  steward impact --policy policies/analytics \\
    --directory examples/analytics.yaml \\
    --actor acme.Olivia --target acme.Leo --env acme \\
    --format dot | dot -Tsvg > impact.svg";

/// `steward plan`.
pub const PLAN: &str = "\
Exit codes:
  0  every item can be done
  1  unreadable, not given, or the plan cannot be written
  2  some items are denied
  3  invalid inputs, or a selector fails on some accounts

Examples:
  steward plan --policy policies/erp --directory examples/erp.yaml \\
    --actor 12345.Admin --trigger leavers --reason \"employment ended\"
  steward plan --policy policies/erp --directory erp.db \\
    --actor 12345.Admin --trigger leavers --reason \"employment ended\" \\
    -o plan.json
  steward plan show plan.json";

/// `steward apply`.
pub const APPLY: &str = "\
Exit codes:
  0  applied
  1  not confirmed, unreadable, not given, or the store failed
  3  stale, incomplete or invalid plan (nothing is changed)

Examples:
  steward apply plan.json --policy policies/erp --directory erp.db --confirm";

/// `steward audit`.
pub const AUDIT: &str = "\
Exit codes:
  0  listed, or verified intact
  1  tampered (verify), or no directory given (list)
  3  unreadable database, key or anchor

Examples:
  steward audit --directory erp.db --user 12345.JJansen
  steward audit verify --directory erp.db \\
    --public-key audit.pub --anchor anchor.jsonl";

/// `steward keygen`.
pub const KEYGEN: &str = "\
Exit codes:
  0  written (the public key is printed)
  1  the file exists, or cannot be written

Examples:
  steward keygen -o audit.key > audit.pub";

/// `steward import`.
pub const IMPORT: &str = "\
Exit codes:
  0  imported
  1  a database in the way (no --replace or --append), no --env for --format scim, or unreadable
  3  invalid directory file or SCIM list, or SCIM flags the schema does not fit

Examples:
  steward import examples/erp.yaml -o erp.db
  steward import examples/erp.yaml -o erp.db --replace
  steward import --format scim examples/scim/users.json examples/scim/groups.json --env SAAS -o saas.db";

/// `steward export`.
pub const EXPORT: &str = "\
Exit codes:
  0  written
  1  unreadable, or cannot write
  3  invalid directory

Examples:
  steward export examples/crm.yaml
  steward export erp.db -o erp.yaml";

/// `steward show`.
pub const SHOW: &str = "\
Exit codes:
  0  shown
  1  unreadable, or not given
  3  invalid directory, or no such user

Examples:
  steward show --directory examples/analytics.yaml acme.Leo
  steward show --directory examples/erp.yaml";

/// `steward licenses`.
pub const LICENSES: &str = "\
Exit codes:
  0  counted
  1  unreadable, or not given
  3  invalid directory

Examples:
  steward licenses --directory examples/analytics.yaml --users";

/// `steward sync`.
pub const SYNC: &str = "\
Exit codes:
  0  reported, or applied
  1  unreadable, not given, or the store failed
  3  invalid directory, or --apply on a file that is not a database

Examples:
  steward sync --directory examples/erp.yaml
  steward sync --directory erp.db --apply";

/// `steward users`.
pub const USERS: &str = "\
Exit codes:
  0  the accounts found (maybe none)
  1  unreadable, or not given
  3  invalid directory, selector or environment

Examples:
  steward users --directory examples/crm.yaml --search ada
  steward users --directory examples/erp.yaml \\
    --where 'target.user has employment_end'";

/// `steward gen`.
pub const GEN: &str = "\
Exit codes:
  0  written
  1  cannot write, or a database in the way

Examples:
  steward gen --accounts 1000000 -o big.db";

/// `steward serve`.
pub const SERVE: &str = "\
Endpoints: POST /v1/decide, /v1/decide/batch, /v1/impact, /v1/plan, /v1/who; GET /v1/policies, /v1/health \
(no token asked). Every failure is JSON: {\"error\": {\"code\", \"message\"}}.

Signals: SIGHUP reopens the decision log, then re-reads the policies and the directory (an \
invalid set is refused and the one serving keeps serving); SIGTERM or Ctrl-C stops accepting \
connections and lets the calls in flight finish.

Connections: past --max-connections, callers wait in the listen backlog until one closes; a \
connection whose request head is slower than --header-timeout-ms, or idle longer than \
--idle-timeout-ms, is closed.

See docs/http.md.

Exit codes:
  0  after a graceful shutdown (SIGTERM, Ctrl-C)
  1  other failure
  3  invalid policy, directory or address at start

Examples:
  STEWARD_TOKEN=s3cret steward serve --policy policies/crm \\
    --directory examples/crm.yaml
  steward serve --listen 127.0.0.1:0 --decision-log decisions.jsonl";

/// `steward gateway`.
pub const GATEWAY: &str = "\
Endpoints: /scim/v2/Users, /scim/v2/Groups, /scim/v2/Bulk are decided (DELETE as the deleting \
action, active as the deactivating and activating ones, e-mail and name as the editing ones, POST \
as gateway.actions.create, Group membership as gateway.actions.add_role/remove_role); every GET \
passes through; other writes are refused. A refusal is a SCIM error (403, the rules and their \
reasons) and nothing is forwarded. A deletion the policy turns into a deactivation (P3) is sent as \
PATCH active=false and answered with the header `Steward-Fallback`.

Writes: decided under the database's write lock, forwarded, and written to the directory and the \
audit log in one transaction after the service provider answered success; its failure or timeout \
(--upstream-timeout-ms) writes nothing.

See docs/scim.md.

Exit codes:
  0  after a graceful shutdown (SIGTERM, Ctrl-C)
  1  other failure
  3  invalid policy, directory, configuration or address at start

Examples:
  STEWARD_TOKEN=s3cret steward gateway --policy policies/analytics --directory saas.db \\
    --env SAAS --actor entra --upstream http://127.0.0.1:8000/scim/v2
  steward gateway --listen 127.0.0.1:0 --decision-log scim-decisions.jsonl";

/// `steward completions`.
pub const COMPLETIONS: &str = "\
Exit codes:
  0  the script
  1  unknown shell (a usage error)

Examples:
  steward completions bash > ~/.local/share/bash-completion/completions/steward
  steward completions zsh > ~/.zfunc/_steward";

/// `steward man`.
pub const MAN: &str = "\
Exit codes:
  0  printed, or written
  1  cannot write

Examples:
  steward man | man -l -
  steward man -o ~/.local/share/man/man1";
