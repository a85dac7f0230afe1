//! `steward plan --targets FILE`: the targets as people write them. A list
//! of user ids, one a line, or a CSV with a `user` column and optional `env`
//! and `value` columns: headers in any case, cells separated by `,` or `;`
//! (what a spreadsheet saves), a cell in double quotes holding either (`""`
//! for a quote), blank lines and `#` comments skipped. Every
//! row is checked against the directory before anything is planned, so a
//! misspelt user or environment names its file, line and column.

use std::borrow::Cow;
use std::path::Path;

use crate::diagnostic::did_you_mean;
use crate::directory::Directory;
use crate::plan::Target;

/// Why a targets file cannot be planned: where, what, and the closest name
/// when one was misspelt.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("{message}")]
pub struct TargetsError {
    message: String,
    #[help]
    help: Option<String>,
}

/// The targets of `path`, each checked against `directory`. A row without
/// environment, when `--env` is not given either, is the user's only
/// account; a user with several is an error that lists them.
pub fn read(path: &Path, directory: &Directory, env: Option<&str>) -> Result<Vec<Target>, TargetsError> {
    let shown = path.display();
    let text = std::fs::read_to_string(path)
        .map_err(|e| TargetsError { message: format!("cannot read `{shown}`: {e}"), help: None })?;
    let mut rows = text
        .lines()
        .enumerate()
        .map(|(i, line)| (i + 1, line.trim_start_matches('\u{feff}')))
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
    let Some((first_line, first)) = rows.next() else {
        return Err(TargetsError { message: format!("`{shown}` names no target"), help: None });
    };
    let unclosed = |n: usize, column: usize| TargetsError {
        message: format!("`{shown}` line {n}, column {column}: a quote that is not closed"),
        help: Some("a cell in double quotes ends with one; write a quote inside it as `\"\"`".into()),
    };
    let header: Vec<String> = cells(first)
        .map_err(|column| unclosed(first_line, column))?
        .into_iter()
        .map(|(_, h)| h.to_lowercase())
        .collect();
    let column = |name: &str| header.iter().position(|h| h == name);
    let check = Check { path, directory, env };
    let Some(user_col) = column("user") else {
        // A plain list: the first line is a user id too.
        return std::iter::once((first_line, first))
            .chain(rows)
            .map(|(n, line)| {
                let text = line.trim();
                let at = Cell { line: n, column: column_of(line, text), text: Cow::Borrowed(text) };
                check.target(at, None, None)
            })
            .collect();
    };
    let (env_col, value_col) = (column("env"), column("value"));
    rows.map(|(n, line)| {
        let row: Vec<Cell<'_>> = cells(line)
            .map_err(|column| unclosed(n, column))?
            .into_iter()
            .map(|(column, text)| Cell { line: n, column, text })
            .collect();
        // A cell past the header's is a value split by a separator it holds:
        // said, never dropped.
        if let Some(extra) = row.get(header.len()) {
            return Err(check.error(
                extra,
                format!("{} cells, but the header names {}", row.len(), header.len()),
                Some("put a value that holds `,` or `;` in double quotes: `\"Smith, John\"`".into()),
            ));
        }
        let cell = |col: Option<usize>| col.and_then(|c| row.get(c)).filter(|c| !c.text.is_empty()).cloned();
        let user = cell(Some(user_col)).ok_or_else(|| TargetsError {
            message: format!("`{shown}` line {n}: no `user` value"),
            help: None,
        })?;
        check.target(user, cell(env_col), cell(value_col).map(|c| c.text.into_owned()))
    })
    .collect()
}

/// One cell of the file, where it starts (1-based, in characters).
#[derive(Debug, Clone)]
struct Cell<'a> {
    line: usize,
    column: usize,
    text: Cow<'a, str>,
}

/// The cells of a line, trimmed, each with its column: separated by `,` or
/// `;`, a cell in double quotes taken whole (`""` a quote). `Err` is the
/// column of a quote that is not closed.
fn cells(line: &str) -> Result<Vec<(usize, Cow<'_, str>)>, usize> {
    let mut out = Vec::new();
    let mut rest = line;
    loop {
        let start = rest.trim_start();
        let column = column_of(line, start);
        if let Some(quoted) = start.strip_prefix('"') {
            let mut text = String::new();
            let mut chars = quoted.char_indices().peekable();
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                match c {
                    '"' if chars.peek().is_some_and(|(_, next)| *next == '"') => {
                        chars.next();
                        text.push('"');
                    }
                    '"' => {
                        end = Some(i + 1);
                        break;
                    }
                    c => text.push(c),
                }
            }
            let after = end.and_then(|e| quoted.get(e..)).ok_or(column)?;
            // What follows the closing quote up to the separator is blank.
            let next = after.find([',', ';']);
            let tail = next.map_or(after, |at| after.get(..at).unwrap_or(""));
            if !tail.trim().is_empty() {
                return Err(column);
            }
            out.push((column, Cow::Owned(text)));
            match next.and_then(|at| after.get(at + 1..)) {
                Some(more) => rest = more,
                None => return Ok(out),
            }
        } else {
            let next = start.find([',', ';']);
            let cell = next.map_or(start, |at| start.get(..at).unwrap_or("")).trim();
            out.push((column_of(line, cell), Cow::Borrowed(cell)));
            match next.and_then(|at| start.get(at + 1..)) {
                Some(more) => rest = more,
                None => return Ok(out),
            }
        }
    }
}

/// The 1-based column of `part`, a slice of `line`.
fn column_of(line: &str, part: &str) -> usize {
    let offset = (part.as_ptr() as usize).saturating_sub(line.as_ptr() as usize);
    line.get(..offset).map_or(0, |before| before.chars().count()) + 1
}

/// What each row is checked against.
struct Check<'a> {
    path: &'a Path,
    directory: &'a Directory,
    env: Option<&'a str>,
}

impl Check<'_> {
    fn target(
        &self,
        user: Cell<'_>,
        env: Option<Cell<'_>>,
        value: Option<String>,
    ) -> Result<Target, TargetsError> {
        let directory = self.directory;
        if directory.user(&user.text).is_none() {
            let ids = directory.users().iter().map(|u| u.id.as_str());
            return Err(self.error(
                &user,
                format!("unknown user `{}`", user.text),
                suggestion(&user.text, ids),
            ));
        }
        let env = match env {
            Some(env) if directory.environment(&env.text).is_none() => {
                let ids = directory.environments().iter().map(|e| e.id.as_str());
                let message = format!("unknown environment `{}`", env.text);
                return Err(self.error(&env, message, suggestion(&env.text, ids)));
            }
            Some(env) => Some(env.text.into_owned()),
            None if self.env.is_some() => None,
            None => Some(self.only_account(&user)?),
        };
        Ok(Target { user: user.text.into_owned(), env, value })
    }

    /// The environment of the user's one account.
    fn only_account(&self, user: &Cell<'_>) -> Result<String, TargetsError> {
        let envs: Vec<&str> = self.directory.accounts_of(&user.text).map(|a| a.env.as_str()).collect();
        match envs.as_slice() {
            [only] => Ok((*only).to_owned()),
            [] => Err(self.error(user, format!("`{}` has no account", user.text), None)),
            several => {
                let listed: Vec<String> = several.iter().map(|e| format!("`{e}`")).collect();
                Err(self.error(
                    user,
                    format!("`{}` has accounts in {}: which one?", user.text, listed.join(", ")),
                    Some("give it in an `env` column, or the environment of all rows with --env".into()),
                ))
            }
        }
    }

    fn error(&self, at: &Cell<'_>, what: String, help: Option<String>) -> TargetsError {
        let message = format!("`{}` line {}, column {}: {what}", self.path.display(), at.line, at.column);
        TargetsError { message, help }
    }
}

fn suggestion<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<String> {
    did_you_mean(name, candidates).map(|s| format!("did you mean `{s}`?"))
}
