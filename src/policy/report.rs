//! Rendering diagnostics: for people, the source line with the span
//! underlined (miette); for editors and CI, one JSON object per diagnostic.
//! Directory files reuse the same rendering.

use std::fmt;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteSpanContents, SourceSpan};
use serde::Serialize;

use crate::diagnostic::{Diagnostic, Severity};
use crate::source::{SourceFile, Sources, Span};

/// Renders diagnostics for a terminal: `error[code]`, the message, the
/// source excerpt under its `file:line:col` with the span underlined, the
/// label and the help.
/// Deterministic (no colour, fixed width) so that output can be snapshot.
///
/// Each diagnostic shows only the lines around its places, and a long line
/// only a window around them: the work per diagnostic does not grow with
/// the file, and no column is too wide to underline.
pub fn render_human(sources: &Sources, diagnostics: &[Diagnostic]) -> String {
    let handler = GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor()).with_width(100);
    let mut out = String::new();
    for diagnostic in diagnostics {
        let shown = Shown::new(sources, diagnostic);
        if handler.render_report(&mut out, &shown).is_err() {
            out.push_str(&diagnostic.message);
        }
        // Places in other files, or far from the first, cannot share the
        // excerpt: name them.
        for (span, label) in &shown.notes {
            out.push_str(&format!("  note: {label}: {}\n", sources.locate(*span)));
        }
        out.push('\n');
    }
    out
}

/// One diagnostic as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JsonDiagnostic {
    /// `error` or `warning`.
    pub severity: Severity,
    /// The stable code.
    pub code: &'static str,
    /// The message.
    pub message: String,
    /// The file, when the diagnostic has a place.
    pub file: Option<String>,
    /// 1-based line of the start.
    pub line: Option<usize>,
    /// 1-based column of the start.
    pub column: Option<usize>,
    /// 1-based line of the end.
    pub end_line: Option<usize>,
    /// 1-based column of the end.
    pub end_column: Option<usize>,
    /// The label under the span.
    pub label: Option<String>,
    /// Advice.
    pub help: Option<String>,
}

/// Diagnostics as JSON objects, one per line.
pub fn render_json(sources: &Sources, diagnostics: &[Diagnostic]) -> String {
    diagnostics
        .iter()
        .map(|d| {
            let file = d.span.and_then(|s| sources.get(s.file));
            let start = d.span.zip(file).map(|(s, f)| f.line_col(s.start as usize));
            let end = d.span.zip(file).map(|(s, f)| f.line_col(s.end as usize));
            let json = JsonDiagnostic {
                severity: d.severity,
                code: d.code,
                message: d.message.clone(),
                file: file.map(|f| f.name.clone()),
                line: start.map(|p| p.0),
                column: start.map(|p| p.1),
                end_line: end.map(|p| p.0),
                end_column: end.map(|p| p.1),
                label: d.label.clone(),
                help: d.help.clone(),
            };
            let mut line = serde_json::to_string(&json).unwrap_or_default();
            line.push('\n');
            line
        })
        .collect()
}

/// A diagnostic as miette sees it: its labels point into an [`Excerpt`].
struct Shown<'a> {
    diagnostic: &'a Diagnostic,
    source: Option<Excerpt>,
    labels: Vec<LabeledSpan>,
    /// Related places not in the excerpt.
    notes: Vec<(Span, &'a str)>,
}

/// Lines of context shown around a place (miette shows one; the spare line
/// keeps the context it asks for inside the excerpt).
const CONTEXT_LINES: usize = 2;
/// Related places farther than this many lines from the diagnostic's own
/// are named in a note rather than shown.
const NEAR_LINES: usize = 40;
/// Lines longer than this (bytes) are cut to a window around their places.
const LONG_LINE: usize = 240;
/// Bytes kept on each side of the places on a cut line.
const WINDOW: usize = 80;
/// What marks the cut ends of a line.
const CUT: &str = "…";

impl<'a> Shown<'a> {
    fn new(sources: &Sources, diagnostic: &'a Diagnostic) -> Self {
        let all_notes = diagnostic.related.iter().map(|(s, l)| (*s, l.as_str())).collect();
        let Some((span, file)) = diagnostic.span.and_then(|s| Some((s, sources.get(s.file)?))) else {
            return Shown { diagnostic, source: None, labels: Vec::new(), notes: all_notes };
        };
        let mut places = vec![(span, diagnostic.label.clone(), true)];
        let mut notes = Vec::new();
        let home = file.line_index(span.start as usize);
        for (related, label) in &diagnostic.related {
            let near = file.line_index(related.start as usize).abs_diff(home) <= NEAR_LINES;
            if related.file == span.file && near {
                places.push((*related, Some(label.clone()), false));
            } else {
                notes.push((*related, label.as_str()));
            }
        }
        let spans: Vec<Span> = places.iter().map(|(s, _, _)| *s).collect();
        let excerpt = Excerpt::new(file, &spans, span);
        let labels = places
            .into_iter()
            .map(|(s, label, primary)| {
                let local = excerpt.local_span(file, s);
                if primary {
                    LabeledSpan::new_primary_with_span(label, local)
                } else {
                    LabeledSpan::new_with_span(label, local)
                }
            })
            .collect();
        Shown { diagnostic, source: Some(excerpt), labels, notes }
    }
}

/// The part of a file a diagnostic shows: whole lines around its places,
/// each long line cut to a window around the places on it. Miette reads
/// only this, in its own offsets; line numbers and the header's column are
/// those of the file.
struct Excerpt {
    name: String,
    text: String,
    /// The file's 0-based line of the excerpt's first line.
    first_line: usize,
    /// One per line of the excerpt.
    lines: Vec<ExcerptLine>,
    /// The primary place's start in the excerpt, and its 0-based line and
    /// column (in characters) in the file.
    primary: (usize, usize, usize),
}

/// How one line of the file sits in the excerpt.
struct ExcerptLine {
    /// Where its text ends, before the break.
    body_end: usize,
    /// The part of the line kept (all of it unless it is long).
    kept: std::ops::Range<usize>,
    /// Where the line starts in the excerpt.
    local: usize,
    /// Bytes of the cut mark before the kept part.
    before: usize,
    /// Bytes of the cut mark after it.
    after: usize,
}

impl Excerpt {
    fn new(file: &SourceFile, spans: &[Span], primary: Span) -> Excerpt {
        let lines_of = |s: &Span| {
            let start = s.start as usize;
            (file.line_index(start), file.line_index((s.end as usize).max(start + 1) - 1))
        };
        let first = spans.iter().map(|s| lines_of(s).0).min().unwrap_or(0).saturating_sub(CONTEXT_LINES);
        let last = (spans.iter().map(|s| lines_of(s).1).max().unwrap_or(0) + CONTEXT_LINES)
            .min(file.line_count().saturating_sub(1));
        let mut excerpt = Excerpt {
            name: file.name.clone(),
            text: String::new(),
            first_line: first,
            lines: Vec::new(),
            primary: (0, 0, 0),
        };
        for line in first..=last {
            let Some(bounds) = file.line_bounds(line) else { break };
            excerpt.push_line(file, bounds, spans);
        }
        let (line, column) = file.line_col(primary.start as usize);
        excerpt.primary = (excerpt.local(file, primary.start as usize), line - 1, column - 1);
        excerpt
    }

    fn push_line(&mut self, file: &SourceFile, bounds: std::ops::Range<usize>, spans: &[Span]) {
        let text = &*file.text;
        let line = text.get(bounds.clone()).unwrap_or("");
        let body_end = bounds.start + line.trim_end_matches(['\n', '\r']).len();
        let mut kept = bounds.start..body_end;
        if body_end - bounds.start > LONG_LINE {
            let on_line = spans
                .iter()
                .filter(|s| (s.start as usize) <= body_end && (s.end as usize) >= bounds.start)
                .map(|s| ((s.start as usize).max(bounds.start), (s.end as usize).min(body_end)));
            let (from, to) = on_line
                .fold(None, |acc: Option<(usize, usize)>, (a, b)| match acc {
                    None => Some((a, b)),
                    Some((x, y)) => Some((x.min(a), y.max(b))),
                })
                .unwrap_or((bounds.start, bounds.start));
            let to = to.min(from + LONG_LINE);
            let mut start = from.saturating_sub(WINDOW).max(bounds.start);
            while !text.is_char_boundary(start) {
                start -= 1;
            }
            let mut end = (to + WINDOW).min(body_end);
            while !text.is_char_boundary(end) {
                end += 1;
            }
            kept = start..end;
        }
        let before = if kept.start > bounds.start { CUT.len() } else { 0 };
        let after = if kept.end < body_end { CUT.len() } else { 0 };
        let local = self.text.len();
        if before > 0 {
            self.text.push_str(CUT);
        }
        self.text.push_str(text.get(kept.clone()).unwrap_or(""));
        if after > 0 {
            self.text.push_str(CUT);
        }
        self.text.push_str(text.get(body_end..bounds.end).unwrap_or(""));
        self.lines.push(ExcerptLine { body_end, kept, local, before, after });
    }

    /// Where byte `offset` of the file is in the excerpt (clamped to what
    /// it keeps).
    fn local(&self, file: &SourceFile, offset: usize) -> usize {
        let index = file.line_index(offset).saturating_sub(self.first_line);
        let Some(line) = self.lines.get(index).or(self.lines.last()) else { return 0 };
        let kept = line.local + line.before;
        if offset < line.kept.start {
            kept
        } else if offset <= line.kept.end {
            kept + (offset - line.kept.start)
        } else if offset < line.body_end {
            kept + (line.kept.end - line.kept.start)
        } else {
            // The line break is kept whole.
            kept + (line.kept.end - line.kept.start) + line.after + (offset - line.body_end)
        }
    }

    fn local_span(&self, file: &SourceFile, span: Span) -> SourceSpan {
        let start = self.local(file, span.start as usize);
        let end = self.local(file, span.end as usize).max(start);
        SourceSpan::new(start.into(), end - start)
    }
}

impl miette::SourceCode for Excerpt {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        let contents = self.text.read_span(span, context_lines_before, context_lines_after)?;
        let (mut line, mut column) = (contents.line() + self.first_line, contents.column());
        if context_lines_before == 0 && span.offset() == self.primary.0 {
            // The header: where the diagnostic is in the file.
            (line, column) = (self.primary.1, self.primary.2);
        }
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            contents.data(),
            *contents.span(),
            line,
            column,
            contents.line_count() + self.first_line,
        )))
    }
}

impl fmt::Debug for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diagnostic.message)
    }
}

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diagnostic.message)
    }
}

impl std::error::Error for Shown<'_> {}

impl miette::Diagnostic for Shown<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        let kind = match self.diagnostic.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        Some(Box::new(format!("{kind}[{}]", self.diagnostic.code)))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diagnostic.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.diagnostic.help.as_ref().map(|h| Box::new(h.clone()) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.labels.is_empty() { None } else { Some(Box::new(self.labels.clone().into_iter())) }
    }
}
