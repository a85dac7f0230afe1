//! Rendering diagnostics: for people, the source line with the span
//! underlined (miette); for editors and CI, one JSON object per diagnostic.
//! Directory files reuse the same rendering.

use std::fmt;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan};
use serde::Serialize;

use super::diagnostic::{Diagnostic, Severity};
use super::source::Sources;

/// Renders diagnostics for a terminal: `error[code]`, the message, the
/// source excerpt under its `file:line:col` with the span underlined, the
/// label and the help.
/// Deterministic (no colour, fixed width) so that output can be snapshot.
pub fn render_human(sources: &Sources, diagnostics: &[Diagnostic]) -> String {
    let handler = GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor()).with_width(100);
    let mut out = String::new();
    for diagnostic in diagnostics {
        let shown = Shown::new(sources, diagnostic);
        if handler.render_report(&mut out, &shown).is_err() {
            out.push_str(&diagnostic.message);
        }
        // Places in other files cannot share the excerpt: name them.
        for (span, label) in &diagnostic.related {
            if Some(span.file) != diagnostic.span.map(|s| s.file) {
                out.push_str(&format!("  note: {label}: {}\n", sources.locate(*span)));
            }
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

/// A diagnostic as miette sees it.
struct Shown<'a> {
    diagnostic: &'a Diagnostic,
    source: Option<NamedSource<String>>,
    labels: Vec<LabeledSpan>,
}

impl<'a> Shown<'a> {
    fn new(sources: &Sources, diagnostic: &'a Diagnostic) -> Self {
        let file = diagnostic.span.and_then(|s| sources.get(s.file));
        let mut labels = Vec::new();
        if let Some(span) = diagnostic.span {
            labels.push(LabeledSpan::new_primary_with_span(diagnostic.label.clone(), to_miette(span)));
        }
        for (span, label) in &diagnostic.related {
            if Some(span.file) == diagnostic.span.map(|s| s.file) {
                labels.push(LabeledSpan::new_with_span(Some(label.clone()), to_miette(*span)));
            }
        }
        let source = file.map(|f| NamedSource::new(f.name.clone(), f.text.to_string()));
        Shown { diagnostic, source, labels }
    }
}

fn to_miette(span: super::source::Span) -> SourceSpan {
    let len = (span.end.saturating_sub(span.start)) as usize;
    SourceSpan::new((span.start as usize).into(), len)
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
