//! Human tables: a header row, columns as wide as their longest cell (so
//! that long ids still line up), two spaces between them. The header is
//! bold on a terminal, unless `NO_COLOR` is set (no-color.org) or the
//! terminal is `dumb`.

use std::io::IsTerminal as _;

/// A table of text cells, printed at once.
pub struct Table {
    header: Vec<&'static str>,
    /// Columns whose cells are numbers: aligned to the right.
    numeric: Vec<bool>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column names.
    pub fn new(header: &[&'static str]) -> Table {
        Table { header: header.to_vec(), numeric: vec![false; header.len()], rows: Vec::new() }
    }

    /// Aligns column `column` to the right.
    pub fn numeric(mut self, column: usize) -> Table {
        if let Some(right) = self.numeric.get_mut(column) {
            *right = true;
        }
        self
    }

    /// Adds a row; missing cells are empty, extra cells are dropped.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The table as text, one line per row, the header first; `bold`
    /// wraps the header in the terminal's bold.
    pub fn render(&self, bold: bool) -> String {
        let width = |i: usize| {
            let cells = self.rows.iter().filter_map(|r| r.get(i)).map(|c| c.chars().count());
            cells.chain(self.header.get(i).map(|h| h.chars().count())).max().unwrap_or(0)
        };
        let widths: Vec<usize> = (0..self.header.len()).map(width).collect();
        let line = |cells: &mut dyn Iterator<Item = &str>| {
            let mut text = String::new();
            for (i, (cell, width)) in cells.zip(&widths).enumerate() {
                let last = i + 1 == widths.len();
                let pad = width.saturating_sub(cell.chars().count());
                if i > 0 {
                    text.push_str("  ");
                }
                if self.numeric.get(i).copied().unwrap_or(false) {
                    text.push_str(&" ".repeat(pad));
                    text.push_str(cell);
                } else {
                    text.push_str(cell);
                    if !last {
                        text.push_str(&" ".repeat(pad));
                    }
                }
            }
            text.truncate(text.trim_end().len());
            text
        };
        let head = line(&mut self.header.iter().copied());
        let mut out = if bold { format!("\x1b[1m{head}\x1b[0m\n") } else { format!("{head}\n") };
        for row in &self.rows {
            let mut cells = (0..widths.len()).map(|i| row.get(i).map_or("", String::as_str));
            out.push_str(&line(&mut cells));
            out.push('\n');
        }
        out
    }

    /// Prints the table on standard output.
    pub fn print(&self) {
        out!("{}", self.render(colour()));
    }
}

/// Whether standard output takes the terminal's styles.
fn colour() -> bool {
    let no_colour = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let dumb = std::env::var_os("TERM").is_some_and(|t| t == "dumb");
    !no_colour && !dumb && std::io::stdout().is_terminal()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_as_wide_as_their_longest_cell() {
        let mut table = Table::new(&["user", "n", "name"]).numeric(1);
        table.row(vec!["12345.AVeryLongUserId".into(), "7".into(), "Ann".into()]);
        table.row(vec!["b".into(), "12".into()]);
        assert_eq!(
            table.render(false),
            "user                    n  name\n12345.AVeryLongUserId   7  Ann\nb                      12\n"
        );
        assert!(table.render(true).starts_with("\x1b[1muser"));
    }
}
