//! `steward review`: the access review, who holds which power over how
//! many accounts in each environment, for people, as JSON, CSV, or one
//! self-contained HTML page an auditor can open.

use std::fmt::Write as _;
use std::path::PathBuf;

use super::{Context, Exit, output};
use crate::analysis::review::{NotReviewed, OneByOne};
use crate::analysis::{Holder, Over, Review, ReviewError, ReviewQuery, Shape, review};

/// Who holds which power over how many accounts (or assets).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The policy set and the directory.
    #[command(flatten)]
    pub inputs: output::Inputs,
    /// Review this environment only (repeat for more; default: all).
    #[arg(long = "env")]
    pub envs: Vec<String>,
    /// How every request is asked: `single` or `bulk`, `confirm`, `reason=TEXT`, joined by
    /// commas (default: single, confirmed, with the reason "access review").
    #[arg(long = "request-shape", value_parser = Shape::parse)]
    pub shape: Option<Shape>,
    /// The clock every request is decided at (default: now).
    #[arg(long)]
    pub now: Option<output::Now>,
    /// How to write the review.
    #[arg(long, value_enum, default_value_t)]
    pub format: ReviewFormat,
    /// Write the review to this file instead of standard output.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

/// How the review is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ReviewFormat {
    /// Text for people.
    #[default]
    Human,
    /// JSON, as documented in docs/json.md.
    Json,
    /// One row per environment, power and holder (RFC 4180).
    Csv,
    /// One self-contained HTML page.
    Html,
}

/// What the review was made of: the digests an auditor files with it.
struct Inputs {
    policy_digest: String,
    directory_digest: String,
}

/// Exit 0 with the review, 1 when an input is unreadable or the output
/// cannot be written, 3 when the policy set, the directory or the query
/// is invalid.
pub fn run(args: Args, ctx: &Context) -> Exit {
    let errors = ctx.errors;
    let now = match output::now(ctx, args.now) {
        Ok(now) => now,
        Err(exit) => return exit,
    };
    let (policies, directory) = match output::load_both(ctx, &args.inputs) {
        Ok(both) => both,
        Err(exit) => return exit,
    };
    let engine = crate::Engine::new(policies, directory);
    let query =
        ReviewQuery { envs: args.envs, shape: args.shape.unwrap_or_else(ReviewQuery::default_shape), now };
    // The directory file is hashed beside the review: a database of a
    // million accounts is a gigabyte to read.
    let path = ctx.config.directory_or(args.inputs.directory.as_deref());
    let (answer, digest) = std::thread::scope(|scope| {
        let digest = scope.spawn(|| path.as_deref().map(crate::digest::sha256_file));
        let answer = review(&engine, &query);
        (answer, digest.join())
    });
    let answer = match answer {
        Ok(answer) => answer,
        Err(ReviewError::Request(e)) => return output::request_error(errors, &e, engine.directory()),
        Err(e) => {
            output::message(errors, &e.to_string());
            return Exit::Failure;
        }
    };
    let directory_digest = match digest {
        Ok(Some(Ok(digest))) => digest,
        Ok(Some(Err(e))) => {
            output::message(errors, &format!("cannot read the directory to digest it: {e}"));
            return Exit::Failure;
        }
        _ => String::new(),
    };
    let inputs = Inputs { policy_digest: engine.policies().digest().to_owned(), directory_digest };
    let mut sink = match &args.output {
        Some(path) => match Output::file(path) {
            Ok(sink) => sink,
            Err(e) => {
                output::message(errors, &format!("cannot write `{}`: {e}", path.display()));
                return Exit::Failure;
            }
        },
        None => Output::stdout(),
    };
    match args.format {
        ReviewFormat::Human => human(&answer, &mut sink),
        ReviewFormat::Json => json(&answer, &inputs, &mut sink),
        ReviewFormat::Csv => csv(&answer, &mut sink),
        ReviewFormat::Html => html(&answer, &inputs, &mut sink),
    }
    if let Err(e) = sink.finish() {
        let path = args.output.as_deref().unwrap_or(std::path::Path::new("-"));
        output::message(errors, &format!("cannot write `{}`: {e}", path.display()));
        return Exit::Failure;
    }
    Exit::Ok
}

/// Where the review goes, in pieces of about a megabyte (a review of a
/// million accounts is hundreds of them): standard output, or a temporary
/// file in the folder of the one asked, renamed over it once complete, so
/// that a failure leaves the old file or the new one, never half.
struct Output {
    buffer: String,
    file: Option<(tempfile::NamedTempFile, PathBuf)>,
    failure: Option<std::io::Error>,
}

impl Output {
    fn stdout() -> Output {
        Output { buffer: String::new(), file: None, failure: None }
    }

    fn file(path: &std::path::Path) -> std::io::Result<Output> {
        let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
        // Said of the folder, not of the temporary file's name in it.
        if !dir.is_dir() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("the folder `{}` does not exist", dir.display()),
            ));
        }
        let temp = tempfile::NamedTempFile::new_in(dir)?;
        Ok(Output { buffer: String::new(), file: Some((temp, path.to_path_buf())), failure: None })
    }

    fn flush(&mut self) {
        match &mut self.file {
            None => out!("{}", self.buffer),
            Some((temp, _)) => {
                if self.failure.is_none()
                    && let Err(e) = std::io::Write::write_all(temp, self.buffer.as_bytes())
                {
                    self.failure = Some(e);
                }
            }
        }
        self.buffer.clear();
    }

    fn finish(mut self) -> std::io::Result<()> {
        self.flush();
        if let Some(e) = self.failure.take() {
            return Err(e);
        }
        let Some((temp, path)) = self.file.take() else { return Ok(()) };
        temp.as_file().sync_all()?;
        temp.persist(path).map_err(|e| e.error)?;
        Ok(())
    }
}

impl Output {
    fn push(&mut self, text: &str) {
        let _ = std::fmt::Write::write_str(self, text);
    }
}

impl std::fmt::Write for Output {
    fn write_str(&mut self, text: &str) -> std::fmt::Result {
        self.buffer.push_str(text);
        if self.buffer.len() >= 1 << 20 {
            self.flush();
        }
        Ok(())
    }
}

/// Per environment, per power, the holders by how many accounts; the
/// powers nobody holds on one line.
fn human(answer: &Review, out: &mut Output) {
    let plural = output::plural;
    let _ = writeln!(out, "access review at {} ({}):", format_args!("{:.0}", answer.now), answer.shape);
    for env in &answer.environments {
        let _ = writeln!(out, "\n{} ({}):", env.env, plural(env.accounts as usize, "account"));
        for power in env.powers.iter().filter(|p| !p.holders.is_empty()) {
            let _ = writeln!(out, "  {} ({}):", power.action, power.kind.describe());
            for holder in &power.holders {
                let over = plural(holder.over.count() as usize, holder.over.noun());
                let _ = writeln!(out, "    {:<24} {over:>14}  {}", holder.user, holder.rules.join(", "));
            }
        }
        let nobody: Vec<&str> =
            env.powers.iter().filter(|p| p.holders.is_empty()).map(|p| p.action.as_str()).collect();
        if !nobody.is_empty() {
            let _ = writeln!(out, "  held by nobody: {}", nobody.join(", "));
        }
    }
    let _ = writeln!(out);
    for OneByOne { action, why } in &answer.one_by_one {
        let _ = writeln!(out, "note: `{action}` was decided pair by pair: its rules have {why}");
    }
    for NotReviewed { action, why } in &answer.not_reviewed {
        let _ = writeln!(out, "note: `{action}` is not reviewed: it {why}");
    }
    let _ = writeln!(out, "{}", summary(answer));
}

/// The last line of the human form, and the HTML page's summary.
fn summary(answer: &Review) -> String {
    let plural = output::plural;
    format!(
        "{} of {} in {} over {}; {} of {} hold no power (not listed); {} answered in {}",
        plural(answer.holdings(), "holding"),
        plural(answer.actions.len(), "power"),
        plural(answer.environments.len(), "environment"),
        plural(answer.accounts as usize, "account"),
        answer.without_power,
        plural(answer.accounts as usize, "account"),
        plural(answer.requests as usize, "request"),
        plural(answer.decisions as usize, "decision"),
    )
}

/// Pretty JSON, each holder on a line of its own: a review of a million
/// accounts lists millions of holders.
fn json(answer: &Review, inputs: &Inputs, out: &mut Output) {
    #[derive(serde::Serialize)]
    struct Head<'a> {
        policy_digest: &'a str,
        directory_digest: &'a str,
        now: jiff::Timestamp,
        shape: &'a Shape,
        actions: &'a [String],
        accounts: u64,
        without_power: u64,
        requests: u64,
        decisions: u64,
        one_by_one: &'a [OneByOne],
        not_reviewed: &'a [NotReviewed],
    }
    let head = Head {
        policy_digest: &inputs.policy_digest,
        directory_digest: &inputs.directory_digest,
        now: answer.now,
        shape: &answer.shape,
        actions: &answer.actions,
        accounts: answer.accounts,
        without_power: answer.without_power,
        requests: answer.requests,
        decisions: answer.decisions,
        one_by_one: &answer.one_by_one,
        not_reviewed: &answer.not_reviewed,
    };
    let text = serde_json::to_string_pretty(&head).unwrap_or_default();
    // The head's closing brace gives way to the environments.
    let _ = write!(
        out,
        "{},\n  \"environments\": [",
        text.trim_end().strip_suffix('}').unwrap_or(&text).trim_end()
    );
    for (e, env) in answer.environments.iter().enumerate() {
        let _ = write!(
            out,
            "{}\n    {{\n      \"env\": {},\n      \"accounts\": {},\n      \"without_power\": {},\n      \"powers\": [",
            if e == 0 { "" } else { "," },
            quoted(&env.env),
            env.accounts,
            env.without_power
        );
        for (p, power) in env.powers.iter().enumerate() {
            let kind = serde_json::to_string(&power.kind).unwrap_or_default();
            let _ = write!(
                out,
                "{}\n        {{\n          \"action\": {},\n          \"kind\": {kind},\n          \"holders\": [",
                if p == 0 { "" } else { "," },
                quoted(&power.action)
            );
            for (h, holder) in power.holders.iter().enumerate() {
                let line = serde_json::to_string(holder).unwrap_or_default();
                let _ = write!(out, "{}\n            {line}", if h == 0 { "" } else { "," });
            }
            out.push(if power.holders.is_empty() { "]\n        }" } else { "\n          ]\n        }" });
        }
        out.push(if env.powers.is_empty() { "]\n    }" } else { "\n      ]\n    }" });
    }
    out.push(if answer.environments.is_empty() { "]\n}\n" } else { "\n  ]\n}\n" });
}

fn quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_default()
}

/// One row per (environment, power, holder), a header first; fields quoted
/// as RFC 4180 says (when they hold a comma, a quote or a line break),
/// lines ended by CRLF; the rules joined by `;`.
fn csv(answer: &Review, out: &mut Output) {
    // Accounts for an action on accounts, assets for one on assets: the
    // other column empty.
    out.push("env,action,actor,accounts,assets,rules\r\n");
    for env in &answer.environments {
        for power in &env.powers {
            for Holder { user, over, rules } in &power.holders {
                let fields = [env.env.as_str(), power.action.as_str(), user.as_str()];
                for field in fields {
                    let _ = write!(out, "{},", csv_field(field));
                }
                let (accounts, assets) = match over {
                    Over::Accounts(n) => (n.to_string(), String::new()),
                    Over::Assets(n) => (String::new(), n.to_string()),
                };
                let _ = write!(out, "{accounts},{assets},{}\r\n", csv_field(&rules.join(";")));
            }
        }
    }
}

/// A CSV field, quoted when it must be, its quotes doubled.
pub fn csv_field(field: &str) -> String {
    if field.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_owned()
    }
}

/// Text safe in HTML content and in quoted attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The page's style: inline, nothing fetched.
const STYLE: &str = "\
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#1b1b1b}\
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ccc}\
dl{display:grid;grid-template-columns:max-content auto;gap:.2em 1em}dt{font-weight:600}\
code{font-family:ui-monospace,monospace;word-break:break-all}\
table{border-collapse:collapse;margin:.5em 0 1.5em}th,td{border:1px solid #ddd;padding:.25em .6em;text-align:left}\
th{background:#f3f3f3}td.n{text-align:right;font-variant-numeric:tabular-nums}\
tr.removes td.power{color:#a00;font-weight:600}tr.status td.power{color:#a50}\
.note{color:#555}";

/// One self-contained page: inline style, no script, every text escaped;
/// privileged powers first, a table per environment.
fn html(answer: &Review, inputs: &Inputs, out: &mut Output) {
    let e = escape_html;
    out.push("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    let _ = writeln!(out, "<title>Access review at {}</title>", e(&format!("{:.0}", answer.now)));
    let _ = writeln!(out, "<style>{STYLE}</style>\n</head>\n<body>\n<h1>Access review</h1>");
    out.push("<dl>\n");
    let rows = [
        ("Decided at", format!("{:.0}", answer.now)),
        ("Requests asked", answer.shape.to_string()),
        ("Policy set (SHA-256)", inputs.policy_digest.clone()),
        ("Directory file (SHA-256)", inputs.directory_digest.clone()),
        ("Summary", summary(answer)),
    ];
    for (term, value) in rows {
        let _ = writeln!(out, "<dt>{}</dt><dd><code>{}</code></dd>", e(term), e(&value));
    }
    out.push("</dl>\n");
    for OneByOne { action, why } in &answer.one_by_one {
        let _ = writeln!(
            out,
            "<p class=\"note\">{} was decided pair by pair: its rules have {}.</p>",
            e(action),
            e(why)
        );
    }
    for NotReviewed { action, why } in &answer.not_reviewed {
        let _ = writeln!(out, "<p class=\"note\">{} is not reviewed: it {}.</p>", e(action), e(why));
    }
    for env in &answer.environments {
        let _ = writeln!(
            out,
            "<section>\n<h2>{}</h2>\n<p>{} accounts; {} hold no power (not listed).</p>",
            e(&env.env),
            env.accounts,
            env.without_power
        );
        out.push(
            "<table>\n<thead><tr><th>power</th><th>kind</th><th>holder</th><th>over</th><th>granted by</th></tr></thead>\n<tbody>\n",
        );
        for power in &env.powers {
            let kind = serde_json::to_value(power.kind).ok();
            let class = kind.as_ref().and_then(|k| k.as_str()).unwrap_or("other");
            for holder in &power.holders {
                let _ = writeln!(
                    out,
                    "<tr class=\"{class}\"><td class=\"power\">{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
                    e(&power.action),
                    e(power.kind.describe()),
                    e(&holder.user),
                    output::plural(holder.over.count() as usize, holder.over.noun()),
                    e(&holder.rules.join(", "))
                );
            }
        }
        out.push("</tbody>\n</table>\n");
        let nobody: Vec<String> =
            env.powers.iter().filter(|p| p.holders.is_empty()).map(|p| e(&p.action)).collect();
        if !nobody.is_empty() {
            let _ = writeln!(out, "<p>Held by nobody: {}.</p>", nobody.join(", "));
        }
        out.push("</section>\n");
    }
    out.push("</body>\n</html>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escapes_what_could_open_a_tag_or_end_an_attribute() {
        assert_eq!(
            escape_html("<script>\"a\" & 'b'</script>"),
            "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/script&gt;"
        );
    }

    #[test]
    fn csv_fields_are_quoted_only_when_they_must_be() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
    }
}
