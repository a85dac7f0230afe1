//! `steward plan --targets FILE`: the targets as people write them. A list
//! of user ids, one a line, or a CSV with a `user` column and optional `env`
//! and `value` columns: headers in any case, cells separated by `,` or `;`
//! (what a spreadsheet saves), blank lines and `#` comments skipped. Every
//! row is checked against the directory before anything is planned, so a
//! misspelt user or environment names its file, line and column.

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
    let header: Vec<String> = cells(first).map(|(_, h)| h.to_lowercase()).collect();
    let column = |name: &str| header.iter().position(|h| h == name);
    let check = Check { path, directory, env };
    let Some(user_col) = column("user") else {
        // A plain list: the first line is a user id too.
        return std::iter::once((first_line, first))
            .chain(rows)
            .map(|(n, line)| {
                let at = Cell { line: n, column: column_of(line, line.trim()), text: line.trim() };
                check.target(at, None, None)
            })
            .collect();
    };
    let (env_col, value_col) = (column("env"), column("value"));
    rows.map(|(n, line)| {
        let row: Vec<Cell<'_>> = cells(line).map(|(col, text)| Cell { line: n, column: col, text }).collect();
        let cell = |col: Option<usize>| col.and_then(|c| row.get(c)).copied().filter(|c| !c.text.is_empty());
        let user = cell(Some(user_col)).ok_or_else(|| TargetsError {
            message: format!("`{shown}` line {n}: no `user` value"),
            help: None,
        })?;
        check.target(user, cell(env_col), cell(value_col).map(|c| c.text.to_owned()))
    })
    .collect()
}

/// One cell of the file, where it starts (1-based, in characters).
#[derive(Debug, Clone, Copy)]
struct Cell<'a> {
    line: usize,
    column: usize,
    text: &'a str,
}

/// The cells of a line, trimmed, each with its column.
fn cells(line: &str) -> impl Iterator<Item = (usize, &str)> {
    line.split([',', ';']).map(move |cell| (column_of(line, cell.trim()), cell.trim()))
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
        if directory.user(user.text).is_none() {
            let ids = directory.users().iter().map(|u| u.id.as_str());
            return Err(self.error(
                user,
                format!("unknown user `{}`", user.text),
                suggestion(user.text, ids),
            ));
        }
        let env = match env {
            Some(env) if directory.environment(env.text).is_none() => {
                let ids = directory.environments().iter().map(|e| e.id.as_str());
                let message = format!("unknown environment `{}`", env.text);
                return Err(self.error(env, message, suggestion(env.text, ids)));
            }
            Some(env) => Some(env.text.to_owned()),
            None if self.env.is_some() => None,
            None => Some(self.only_account(user)?),
        };
        Ok(Target { user: user.text.to_owned(), env, value })
    }

    /// The environment of the user's one account.
    fn only_account(&self, user: Cell<'_>) -> Result<String, TargetsError> {
        let envs: Vec<&str> = self.directory.accounts_of(user.text).map(|a| a.env.as_str()).collect();
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

    fn error(&self, at: Cell<'_>, what: String, help: Option<String>) -> TargetsError {
        let message = format!("`{}` line {}, column {}: {what}", self.path.display(), at.line, at.column);
        TargetsError { message, help }
    }
}

fn suggestion<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<String> {
    did_you_mean(name, candidates).map(|s| format!("did you mean `{s}`?"))
}
