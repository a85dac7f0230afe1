//! Text to syntax tree: the pest grammar in `grammar/policy.pest`, one
//! `parse_<rule>` function per grammar rule, and syntax errors turned into
//! [`Diagnostic`]s that speak of the language, never of grammar rules.
//! Nothing deeper than [`MAX_NESTING`] gets through: brackets are counted
//! before pest runs (it recurses once per bracket), levels while the tree
//! is built, and `and`/`or` chains and `not` runs are built in loops.

use std::ops::ControlFlow;

use jiff::Timestamp;
use jiff::civil::Date;
use pest::Parser as _;
use pest::iterators::Pair;

use super::ast::{
    ActionDecl, BinaryOp, Comment, DeclBody, Declaration, Effect, EffectExpr, Expr, ExprKind, File, Ident,
    Item, Lifecycle, LifecycleEntry, Literal, MAX_NESTING, Path, Rule as RuleDef, SchemaBlock, SettingExpr,
    SettingValue, StrLit, Takes, Trigger, TypeExpr, ValueOptionExpr,
};
use crate::diagnostic::{Diagnostic, did_you_mean};
use crate::source::{FileId, Sources, Span};

mod grammar {
    #![allow(missing_docs)]
    #[derive(pest_derive::Parser)]
    #[grammar = "../grammar/policy.pest"]
    pub struct PolicyParser;
}

use grammar::{PolicyParser, Rule};

/// Parses one file of `sources` into its syntax tree, comments kept.
pub fn parse_file(sources: &Sources, file: FileId) -> Result<File, Vec<Diagnostic>> {
    let text = source_text(sources, file)?;
    check_brackets(file, text)?;
    let mut pairs = PolicyParser::parse(Rule::file, text).map_err(|e| vec![syntax_error(file, text, &e)])?;
    let ctx = Ctx { file };
    let mut items = Vec::new();
    let mut errors = Vec::new();
    for pair in pairs.next().into_iter().flat_map(Pair::into_inner) {
        let parsed = match pair.as_rule() {
            Rule::rule_def => ctx.parse_rule_def(pair).map(Item::Rule),
            Rule::lifecycle_def => ctx.parse_lifecycle_def(pair).map(Item::Lifecycle),
            Rule::trigger_def => ctx.parse_trigger_def(pair).map(Item::Trigger),
            Rule::schema_def => ctx.parse_schema_def(pair).map(Item::Schema),
            _ => continue,
        };
        match parsed {
            Ok(item) => items.push(item),
            Err(mut e) => errors.append(&mut e),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut parsed = File { items, trailing_comments: Vec::new() };
    attach_comments(&mut parsed, scan_comments(file, text));
    Ok(parsed)
}

/// Parses a lone expression (the `--where` selectors of `plan` and `users`).
pub fn parse_expr(sources: &Sources, file: FileId) -> Result<Expr, Vec<Diagnostic>> {
    let text = source_text(sources, file)?;
    check_brackets(file, text)?;
    let mut pairs =
        PolicyParser::parse(Rule::expr_only, text).map_err(|e| vec![syntax_error(file, text, &e)])?;
    let ctx = Ctx { file };
    let expr = pairs
        .next()
        .and_then(|p| p.into_inner().find(|p| p.as_rule() == Rule::expr))
        .ok_or_else(|| vec![Diagnostic::error("syntax", "expected an expression")])?;
    ctx.parse_expr(expr, 1)
}

fn source_text(sources: &Sources, file: FileId) -> Result<&str, Vec<Diagnostic>> {
    sources
        .get(file)
        .map(|f| &*f.text)
        .ok_or_else(|| vec![Diagnostic::error("internal", "the policy file to parse is not loaded")])
}

type Parsed<T> = Result<T, Vec<Diagnostic>>;

/// What every parse function needs: the file spans point into.
struct Ctx {
    file: FileId,
}

impl Ctx {
    fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        let s = pair.as_span();
        Span::new(self.file, s.start(), s.end())
    }

    fn ident(&self, pair: &Pair<'_, Rule>) -> Ident {
        Ident { name: pair.as_str().to_owned(), span: self.span(pair) }
    }

    fn parse_rule_def(&self, pair: Pair<'_, Rule>) -> Parsed<RuleDef> {
        let span = self.span(&pair);
        let mut name = None;
        let mut effect = None;
        let mut actions = Vec::new();
        let mut condition = None;
        let mut because = None;
        for inner in pair.into_inner() {
            match inner.as_rule() {
                Rule::name => name = Some(self.ident(&inner)),
                Rule::effect => effect = Some(self.parse_effect(&inner)),
                Rule::action_list => actions = inner.into_inner().map(|a| self.ident(&a)).collect(),
                Rule::when_clause => condition = Some(self.parse_when_clause(inner)?),
                Rule::because_clause => because = Some(self.parse_because_clause(inner)?),
                _ => {}
            }
        }
        let (Some(name), Some((effect, effect_span))) = (name, effect) else {
            return Err(vec![malformed(span)]);
        };
        Ok(RuleDef {
            comments: Vec::new(),
            name,
            effect,
            effect_span,
            actions,
            condition,
            because,
            body_comments: Vec::new(),
            span,
        })
    }

    fn parse_effect(&self, pair: &Pair<'_, Rule>) -> (Effect, Span) {
        let effect = if pair.as_str() == "forbid" { Effect::Forbid } else { Effect::Permit };
        (effect, self.span(pair))
    }

    fn parse_when_clause(&self, pair: Pair<'_, Rule>) -> Parsed<Expr> {
        let span = self.span(&pair);
        let expr =
            pair.into_inner().find(|p| p.as_rule() == Rule::expr).ok_or_else(|| vec![malformed(span)])?;
        self.parse_expr(expr, 1)
    }

    fn parse_because_clause(&self, pair: Pair<'_, Rule>) -> Parsed<StrLit> {
        let span = self.span(&pair);
        let string =
            pair.into_inner().find(|p| p.as_rule() == Rule::string).ok_or_else(|| vec![malformed(span)])?;
        self.parse_string(&string)
    }

    fn parse_lifecycle_def(&self, pair: Pair<'_, Rule>) -> Parsed<Lifecycle> {
        let span = self.span(&pair);
        let mut action = None;
        let mut entries = Vec::new();
        for inner in pair.into_inner() {
            match inner.as_rule() {
                Rule::action => action = Some(self.ident(&inner)),
                Rule::referenced_entry => entries.push(self.parse_referenced_entry(inner)?),
                Rule::owns_entry => entries.push(self.parse_owns_entry(inner)?),
                Rule::orphan_entry => {
                    let span = self.span(&inner);
                    let consequence = inner
                        .into_inner()
                        .find(|p| p.as_rule() == Rule::consequence)
                        .map(|p| self.ident(&p))
                        .ok_or_else(|| vec![malformed(span)])?;
                    entries.push(LifecycleEntry::Orphan { comments: Vec::new(), consequence, span });
                }
                _ => {}
            }
        }
        let action = action.ok_or_else(|| vec![malformed(span)])?;
        Ok(Lifecycle { comments: Vec::new(), action, entries, body_comments: Vec::new(), span })
    }

    fn parse_referenced_entry(&self, pair: Pair<'_, Rule>) -> Parsed<LifecycleEntry> {
        let span = self.span(&pair);
        let fallback = pair
            .into_inner()
            .find(|p| p.as_rule() == Rule::action)
            .map(|p| self.ident(&p))
            .ok_or_else(|| vec![malformed(span)])?;
        Ok(LifecycleEntry::Referenced { comments: Vec::new(), fallback, span })
    }

    fn parse_owns_entry(&self, pair: Pair<'_, Rule>) -> Parsed<LifecycleEntry> {
        // The entry ends with its last part: pest's span also covers the
        // comments it skipped looking for an optional `to`, and those belong
        // to what follows.
        let end = pair.clone().into_inner().last().map_or(pair.as_span().end(), |p| p.as_span().end());
        let span = Span::new(self.file, pair.as_span().start(), end);
        let mut kinds = Vec::new();
        let mut consequence = None;
        let mut to = None;
        for inner in pair.into_inner() {
            match inner.as_rule() {
                Rule::asset_kind => kinds.push(self.ident(&inner)),
                Rule::consequence => consequence = Some(self.ident(&inner)),
                Rule::default_owner => {
                    let owner_span = self.span(&inner);
                    let expr = inner
                        .into_inner()
                        .find(|p| p.as_rule() == Rule::expr)
                        .ok_or_else(|| vec![malformed(owner_span)])?;
                    to = Some(self.parse_expr(expr, 1)?);
                }
                _ => {}
            }
        }
        let consequence = consequence.ok_or_else(|| vec![malformed(span)])?;
        Ok(LifecycleEntry::Owns { comments: Vec::new(), kinds, consequence, to, span })
    }

    fn parse_schema_def(&self, pair: Pair<'_, Rule>) -> Parsed<SchemaBlock> {
        let span = self.span(&pair);
        let mut base = None;
        let mut declarations = Vec::new();
        for inner in pair.into_inner() {
            match inner.as_rule() {
                Rule::schema_base => {
                    base = inner.into_inner().find(|p| p.as_rule() == Rule::name).map(|p| self.ident(&p));
                }
                Rule::declaration => {
                    // Ends with its last token: pest's span also covers the
                    // comments it skipped looking for an optional clause,
                    // and those belong to what follows.
                    let start = inner.as_span().start();
                    let end = inner
                        .clone()
                        .into_inner()
                        .flatten()
                        .filter(|p| p.clone().into_inner().next().is_none())
                        .map(|p| p.as_span().end())
                        .max();
                    let decl_span = Span::new(self.file, start, end.unwrap_or(inner.as_span().end()));
                    let body = inner.into_inner().next().ok_or_else(|| vec![malformed(decl_span)])?;
                    let body = self.parse_declaration(body)?;
                    declarations.push(Declaration { comments: Vec::new(), body, span: decl_span });
                }
                _ => {}
            }
        }
        Ok(SchemaBlock { comments: Vec::new(), base, declarations, body_comments: Vec::new(), span })
    }

    fn parse_declaration(&self, pair: Pair<'_, Rule>) -> Parsed<DeclBody> {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        let mut names = Vec::new();
        let mut flags = Vec::new();
        let mut counting = None;
        let mut contains = false;
        let mut nonmember = false;
        let mut live = false;
        let mut entity = None;
        let mut ty = None;
        let mut optional = false;
        let mut open = false;
        let mut tests = Vec::new();
        let mut default = None;
        let mut action = ActionDecl {
            name: Ident { name: String::new(), span },
            subject: Ident { name: String::new(), span },
            from: Vec::new(),
            takes: None,
            effect: None,
            shown: None,
        };
        for inner in pair.into_inner() {
            match inner.as_rule() {
                Rule::name => names.push(self.ident(&inner)),
                Rule::status_flag => flags.push(self.ident(&inner)),
                Rule::counting => counting = Some(self.ident(&inner)),
                Rule::contains_flag => contains = true,
                Rule::nonmember_flag => nonmember = true,
                Rule::live_flag => live = true,
                Rule::action => action.name = self.ident(&inner),
                Rule::subject => action.subject = self.ident(&inner),
                Rule::from_clause => {
                    action.from = inner
                        .into_inner()
                        .filter(|p| p.as_rule() == Rule::name)
                        .map(|p| self.ident(&p))
                        .collect();
                }
                Rule::takes_clause => action.takes = Some(self.parse_takes(inner)?),
                Rule::move_effect => {
                    let to = inner
                        .into_inner()
                        .next()
                        .map(|p| self.ident(&p))
                        .ok_or_else(|| vec![malformed(span)])?;
                    action.effect = Some(EffectExpr::Move(to));
                }
                Rule::removes_effect => action.effect = Some(EffectExpr::Removes(self.span(&inner))),
                Rule::renews_effect => action.effect = Some(EffectExpr::Renews(self.span(&inner))),
                Rule::creates_effect => {
                    let status = inner
                        .into_inner()
                        .find(|p| p.as_rule() == Rule::name)
                        .map(|p| self.ident(&p))
                        .ok_or_else(|| vec![malformed(span)])?;
                    action.effect = Some(EffectExpr::Creates(status));
                }
                Rule::sets_effect => {
                    let settings = inner
                        .into_inner()
                        .filter(|p| p.as_rule() == Rule::setting)
                        .map(|p| self.parse_setting(p))
                        .collect::<Parsed<Vec<_>>>()?;
                    action.effect = Some(EffectExpr::Sets(settings));
                }
                Rule::shown_clause => {
                    let strings = inner
                        .into_inner()
                        .filter(|p| p.as_rule() == Rule::string)
                        .map(|p| self.parse_string(&p))
                        .collect::<Parsed<Vec<_>>>()?;
                    let mut strings = strings.into_iter();
                    if let (Some(noun), Some(done)) = (strings.next(), strings.next()) {
                        action.shown = Some((noun, done));
                    }
                }
                Rule::attr_entity => entity = Some(self.ident(&inner)),
                Rule::attr_type => ty = Some(self.parse_attr_type(inner)?),
                Rule::optional_mark => optional = true,
                Rule::open_mark => open = true,
                Rule::env_test => {
                    let at = self.span(&inner);
                    let mut parts = inner.into_inner().filter(|p| p.as_rule() != Rule::kw_environment);
                    let name = parts.next().map(|p| self.ident(&p)).ok_or_else(|| vec![malformed(at)])?;
                    let value = match parts.next().and_then(|p| p.into_inner().next()) {
                        Some(v) => Some((self.setting_value(&v)?, self.span(&v))),
                        None => None,
                    };
                    tests.push((name, value));
                }
                Rule::attr_default => {
                    let at = self.span(&inner);
                    let v = inner.into_inner().next().ok_or_else(|| vec![malformed(at)])?;
                    default = Some((self.setting_value(&v)?, at));
                }
                _ => {}
            }
        }
        let mut names = names.into_iter();
        let name = names.next();
        Ok(match (rule, name) {
            (Rule::env_kind_decl, Some(name)) => DeclBody::EnvKind { name, live },
            (Rule::status_decl, Some(name)) => DeclBody::Status { name, flags },
            (Rule::account_kind_decl, Some(name)) => DeclBody::AccountKind { name, nonmember, counting },
            (Rule::asset_kind_decl, Some(name)) => {
                DeclBody::AssetKind { name, contains, types: names.collect() }
            }
            (Rule::action_decl, None) => DeclBody::Action(action),
            (Rule::action_decl, Some(first)) => {
                // `from` and `creates`/`->` names are inside their clauses;
                // a bare name here cannot happen, but keep it honest.
                return Err(vec![malformed(first.span)]);
            }
            (Rule::idp_decl, _) => DeclBody::IdentityProvider { tests },
            (Rule::attribute_decl, None) if open => {
                let Some(entity) = entity else { return Err(vec![malformed(span)]) };
                DeclBody::OpenAttrs { entity }
            }
            (Rule::attribute_decl, Some(name)) => {
                let (Some(entity), Some(ty)) = (entity, ty) else { return Err(vec![malformed(span)]) };
                DeclBody::Attribute { entity, name, ty, optional, default }
            }
            _ => return Err(vec![malformed(span)]),
        })
    }

    fn parse_takes(&self, pair: Pair<'_, Rule>) -> Parsed<Takes> {
        let span = self.span(&pair);
        let inner = pair.into_inner().find(|p| matches!(p.as_rule(), Rule::value_kind | Rule::value_options));
        match inner {
            Some(p) if p.as_rule() == Rule::value_kind => Ok(Takes::Kind(self.ident(&p))),
            Some(p) => {
                let mut options = Vec::new();
                for option in p.into_inner().filter(|p| p.as_rule() == Rule::value_option) {
                    let option_span = self.span(&option);
                    let mut parts = option.into_inner();
                    let name =
                        parts.next().map(|p| self.ident(&p)).ok_or_else(|| vec![malformed(option_span)])?;
                    let settings = parts
                        .filter(|p| p.as_rule() == Rule::setting)
                        .map(|p| self.parse_setting(p))
                        .collect::<Parsed<Vec<_>>>()?;
                    options.push(ValueOptionExpr { name, settings });
                }
                Ok(Takes::OneOf(options))
            }
            None => Err(vec![malformed(span)]),
        }
    }

    fn parse_setting(&self, pair: Pair<'_, Rule>) -> Parsed<SettingExpr> {
        let span = self.span(&pair);
        let mut field = None;
        let mut value = None;
        for inner in pair.into_inner() {
            match inner.as_rule() {
                Rule::setting_field => field = Some(self.ident(&inner)),
                Rule::setting_value => {
                    let v = inner.into_inner().next().ok_or_else(|| vec![malformed(span)])?;
                    value = Some(self.setting_value(&v)?);
                }
                _ => {}
            }
        }
        let (Some(field), Some(value)) = (field, value) else { return Err(vec![malformed(span)]) };
        Ok(SettingExpr { field, value, span })
    }

    /// A setting's value, or an attribute's default.
    fn setting_value(&self, v: &Pair<'_, Rule>) -> Parsed<SettingValue> {
        Ok(match v.as_rule() {
            Rule::boolean => SettingValue::Bool(v.as_str() == "true"),
            Rule::kw_value => SettingValue::Value,
            Rule::integer => SettingValue::Int(self.parse_integer(v)?),
            Rule::string => SettingValue::Str(self.parse_string(v)?.value),
            _ => SettingValue::Name(self.ident(v)),
        })
    }

    fn parse_attr_type(&self, pair: Pair<'_, Rule>) -> Parsed<TypeExpr> {
        let span = self.span(&pair);
        let inner = pair.into_inner().next().ok_or_else(|| vec![malformed(span)])?;
        if inner.as_rule() == Rule::type_name {
            return Ok(TypeExpr::Named(self.ident(&inner)));
        }
        let strings = inner
            .into_inner()
            .filter(|p| p.as_rule() == Rule::string)
            .map(|p| self.parse_string(&p))
            .collect::<Parsed<Vec<_>>>()?;
        Ok(TypeExpr::OneOf(strings))
    }

    fn parse_trigger_def(&self, pair: Pair<'_, Rule>) -> Parsed<Trigger> {
        let span = self.span(&pair);
        let mut name = None;
        let mut action = None;
        let mut condition = None;
        let mut because = None;
        for inner in pair.into_inner() {
            match inner.as_rule() {
                Rule::name => name = Some(self.ident(&inner)),
                Rule::action => action = Some(self.ident(&inner)),
                Rule::expr => condition = Some(self.parse_expr(inner, 1)?),
                Rule::because_clause => because = Some(self.parse_because_clause(inner)?),
                _ => {}
            }
        }
        let (Some(name), Some(action), Some(condition)) = (name, action, condition) else {
            return Err(vec![malformed(span)]);
        };
        Ok(Trigger {
            comments: Vec::new(),
            name,
            action,
            condition,
            because,
            body_comments: Vec::new(),
            span,
        })
    }

    /// An `or` chain of `and` chains of units (`and` binds tighter), each
    /// chain one node however long: `depth` is the level of the node this
    /// returns, and a chain's operands sit one level deeper.
    fn parse_expr(&self, pair: Pair<'_, Rule>, depth: usize) -> Parsed<Expr> {
        self.nest(depth, &pair)?;
        let inner: Vec<Pair<'_, Rule>> = pair.into_inner().collect();
        let groups: Vec<&[Pair<'_, Rule>]> = inner.split(|p| p.as_rule() == Rule::op_or).collect();
        let group_depth = if groups.len() > 1 { depth + 1 } else { depth };
        let mut alternatives = Vec::with_capacity(groups.len());
        let several = groups.len() > 1;
        for group in groups {
            let units: Vec<&[Pair<'_, Rule>]> = group.split(|p| p.as_rule() == Rule::op_and).collect();
            let unit_depth = if units.len() > 1 { group_depth + 1 } else { group_depth };
            let mut operands = Vec::with_capacity(units.len());
            for unit in &units {
                let operand = self.parse_unit(unit, unit_depth)?;
                // `a and (b and c)` is `a and b and c`: one chain.
                match operand.kind {
                    ExprKind::And(inner) if units.len() > 1 => operands.extend(inner),
                    kind => operands.push(Expr { kind, span: operand.span }),
                }
            }
            let alternative = chain(operands, ExprKind::And)?;
            match alternative.kind {
                ExprKind::Or(inner) if several => alternatives.extend(inner),
                kind => alternatives.push(Expr { kind, span: alternative.span }),
            }
        }
        chain(alternatives, ExprKind::Or)
    }

    /// `not not ... comparison`: the `not`s are counted here, one level
    /// each, rather than parsed recursively.
    fn parse_unit(&self, unit: &[Pair<'_, Rule>], depth: usize) -> Parsed<Expr> {
        let Some((comparison, nots)) = unit.split_last() else {
            return Err(vec![Diagnostic::error("internal", "the parser met an empty operand")]);
        };
        for (level, not) in nots.iter().enumerate() {
            self.nest(depth + level, not)?;
        }
        let mut expr = self.parse_comparison(comparison.clone(), depth + nots.len())?;
        for not in nots.iter().rev() {
            let span = self.span(not).to(expr.span);
            expr = Expr { kind: ExprKind::Not(Box::new(expr)), span };
        }
        Ok(expr)
    }

    /// Refuses a node at `depth` past [`MAX_NESTING`], pointing at where
    /// it starts.
    fn nest(&self, depth: usize, pair: &Pair<'_, Rule>) -> Parsed<()> {
        if depth <= MAX_NESTING {
            return Ok(());
        }
        let start = pair.as_span().start();
        let len = found_len(pair.as_str()).max(1).min(pair.as_str().len());
        Err(vec![crate::policy::ast::nesting_too_deep(Span::new(self.file, start, start + len))])
    }

    fn parse_comparison(&self, pair: Pair<'_, Rule>, depth: usize) -> Parsed<Expr> {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let lhs = inner.next().ok_or_else(|| vec![malformed(span)])?;
        let Some(tail) = inner.next() else {
            return self.parse_operand(lhs, depth);
        };
        self.nest(depth, &lhs)?;
        let lhs = self.parse_operand(lhs, depth + 1)?;
        let kind = match tail.as_rule() {
            Rule::has_role => {
                let tail_span = self.span(&tail);
                let role = tail
                    .into_inner()
                    .find(|p| !matches!(p.as_rule(), Rule::kw_has | Rule::kw_role))
                    .ok_or_else(|| vec![malformed(tail_span)])?;
                ExprKind::HasRole {
                    subject: Box::new(lhs),
                    role: Box::new(self.parse_operand(role, depth + 1)?),
                }
            }
            Rule::has_attr => {
                let tail_span = self.span(&tail);
                let attr = tail
                    .into_inner()
                    .find(|p| p.as_rule() == Rule::attribute)
                    .ok_or_else(|| vec![malformed(tail_span)])?;
                ExprKind::HasAttr { subject: Box::new(lhs), attr: self.ident(&attr) }
            }
            Rule::cmp_op => {
                let op = match tail.as_str() {
                    "==" => BinaryOp::Eq,
                    "!=" => BinaryOp::Ne,
                    "<" => BinaryOp::Lt,
                    "<=" => BinaryOp::Le,
                    ">" => BinaryOp::Gt,
                    ">=" => BinaryOp::Ge,
                    "in" => BinaryOp::In,
                    _ => BinaryOp::Contains,
                };
                let rhs = inner.next().ok_or_else(|| vec![malformed(span)])?;
                let rhs = self.parse_operand(rhs, depth + 1)?;
                ExprKind::Binary { op, lhs: Box::new(lhs), rhs: Box::new(rhs) }
            }
            _ => return Err(vec![malformed(span)]),
        };
        Ok(Expr { kind, span })
    }

    /// An operand at `depth`; a parenthesised expression is no node of its
    /// own, its brackets are bounded by [`check_brackets`].
    fn parse_operand(&self, pair: Pair<'_, Rule>, depth: usize) -> Parsed<Expr> {
        if pair.as_rule() == Rule::expr {
            return self.parse_expr(pair, depth);
        }
        self.nest(depth, &pair)?;
        let span = self.span(&pair);
        let kind = match pair.as_rule() {
            Rule::string => ExprKind::Literal(Literal::Str(self.parse_string(&pair)?.value)),
            Rule::integer => ExprKind::Literal(Literal::Int(self.parse_integer(&pair)?)),
            Rule::boolean => ExprKind::Literal(Literal::Bool(pair.as_str() == "true")),
            Rule::date => ExprKind::Literal(Literal::Date(self.parse_date(&pair)?)),
            Rule::datetime => ExprKind::Literal(Literal::DateTime(self.parse_datetime(&pair)?)),
            Rule::list => ExprKind::List(self.parse_list(pair, depth + 1)?),
            Rule::count => self.parse_count(pair, depth + 1)?,
            Rule::path => ExprKind::Path(self.parse_path(pair)?),
            _ => return Err(vec![malformed(span)]),
        };
        Ok(Expr { kind, span })
    }

    fn parse_list(&self, pair: Pair<'_, Rule>, depth: usize) -> Parsed<Vec<Expr>> {
        pair.into_inner().filter(|p| p.as_rule() == Rule::expr).map(|p| self.parse_expr(p, depth)).collect()
    }

    fn parse_count(&self, pair: Pair<'_, Rule>, depth: usize) -> Parsed<ExprKind> {
        let condition = match pair.into_inner().find(|p| p.as_rule() == Rule::expr) {
            Some(expr) => Some(Box::new(self.parse_expr(expr, depth)?)),
            None => None,
        };
        Ok(ExprKind::Count { condition })
    }

    fn parse_path(&self, pair: Pair<'_, Rule>) -> Parsed<Path> {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let root = inner.next().map(|p| self.ident(&p)).ok_or_else(|| vec![malformed(span)])?;
        let segments = inner.map(|p| self.ident(&p)).collect();
        Ok(Path { root, segments })
    }

    fn parse_string(&self, pair: &Pair<'_, Rule>) -> Parsed<StrLit> {
        let span = self.span(pair);
        let body = pair.clone().into_inner().next().map_or("", |p| p.as_str());
        let mut value = String::with_capacity(body.len());
        let mut chars = body.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                value.push(c);
                continue;
            }
            match chars.next() {
                Some('"') => value.push('"'),
                Some('\\') => value.push('\\'),
                Some('n') => value.push('\n'),
                Some('t') => value.push('\t'),
                other => {
                    let found = other.map_or_else(String::new, |c| c.to_string());
                    return Err(vec![
                        Diagnostic::error(
                            "invalid-escape",
                            format!("unknown escape `\\{found}` in a string"),
                        )
                        .at(span, "in this string")
                        .with_help("the escapes are `\\\"`, `\\\\`, `\\n` and `\\t`"),
                    ]);
                }
            }
        }
        Ok(StrLit { value, span })
    }

    fn parse_integer(&self, pair: &Pair<'_, Rule>) -> Parsed<i64> {
        pair.as_str().parse().map_err(|_| {
            vec![
                Diagnostic::error("integer-overflow", format!("the number `{}` is too large", pair.as_str()))
                    .at(self.span(pair), "does not fit in 64 bits")
                    .with_help("integers range from -9223372036854775808 to 9223372036854775807"),
            ]
        })
    }

    fn parse_date(&self, pair: &Pair<'_, Rule>) -> Parsed<Date> {
        pair.as_str().parse().map_err(|e: jiff::Error| {
            vec![
                Diagnostic::error("invalid-date", format!("`{}` is not a valid date", pair.as_str()))
                    .at(self.span(pair), e.to_string())
                    .with_help("dates are written YYYY-MM-DD, for example 2026-10-31"),
            ]
        })
    }

    fn parse_datetime(&self, pair: &Pair<'_, Rule>) -> Parsed<Timestamp> {
        pair.as_str().parse().map_err(|e: jiff::Error| {
            vec![
                Diagnostic::error("invalid-date", format!("`{}` is not a valid date-time", pair.as_str()))
                    .at(self.span(pair), e.to_string())
                    .with_help("date-times are RFC 3339 with an offset, for example 2026-10-31T23:00:00Z"),
            ]
        })
    }
}

/// One operand as itself, two or more as the chain `make` builds.
fn chain(mut operands: Vec<Expr>, make: fn(Vec<Expr>) -> ExprKind) -> Parsed<Expr> {
    match (operands.first(), operands.last()) {
        (Some(first), Some(last)) if operands.len() > 1 => {
            let span = first.span.to(last.span);
            Ok(Expr { kind: make(operands), span })
        }
        _ => {
            operands.pop().ok_or_else(|| vec![Diagnostic::error("internal", "the parser met an empty chain")])
        }
    }
}

/// Refuses brackets (`(`, `[`, `count(`) nested deeper than
/// [`MAX_NESTING`] before pest sees the text: pest recurses once per
/// bracket, and the parse functions here once per level. Strings and
/// comments are skipped as the grammar reads them.
fn check_brackets(file: FileId, text: &str) -> Parsed<()> {
    let mut depth = 0usize;
    let mut result = Ok(());
    outside_strings(text, |lexeme| {
        match lexeme {
            Lexeme::Byte(i, b'(' | b'[') => {
                depth += 1;
                if depth > MAX_NESTING {
                    result = Err(vec![crate::policy::ast::nesting_too_deep(Span::new(file, i, i + 1))]);
                    return ControlFlow::Break(());
                }
            }
            Lexeme::Byte(_, b')' | b']') => depth = depth.saturating_sub(1),
            Lexeme::Byte(..) | Lexeme::Comment(..) => {}
        }
        ControlFlow::Continue(())
    });
    result
}

/// What the text holds outside string literals, as the grammar reads it.
enum Lexeme {
    /// A byte of code, at its offset.
    Byte(usize, u8),
    /// A `// ...` comment, from its slashes to the end of its line.
    Comment(usize, usize),
}

/// Visits the bytes and comments of `text` outside string literals, in
/// order, until `visit` breaks.
fn outside_strings(text: &str, mut visit: impl FnMut(Lexeme) -> ControlFlow<()>) {
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut in_string = false;
    while let Some(&b) = bytes.get(i) {
        if in_string {
            match b {
                b'\\' => i += 1,
                b'"' | b'\n' => in_string = false,
                _ => {}
            }
        } else if b == b'"' {
            in_string = true;
        } else if b == b'/' && bytes.get(i + 1) == Some(&b'/') {
            let end = text.get(i..).and_then(|rest| rest.find('\n')).map_or(text.len(), |n| i + n);
            if visit(Lexeme::Comment(i, end)).is_break() {
                return;
            }
            i = end;
            continue;
        } else if visit(Lexeme::Byte(i, b)).is_break() {
            return;
        }
        i += 1;
    }
}

/// A pair that does not have the shape the grammar promises. The grammar
/// makes this unreachable; it is reported rather than panicking.
fn malformed(span: Span) -> Diagnostic {
    Diagnostic::error("internal", "the parser met a construct it does not know").at(span, "here")
}

// ---------------------------------------------------------------------------
// Comments: the grammar skips them; a scan of the text finds them again and
// attaches each to the item or lifecycle entry it precedes, so `fmt` keeps
// them.

/// Every `// ...` comment of `text`, outside string literals.
fn scan_comments(file: FileId, text: &str) -> Vec<Comment> {
    let mut comments = Vec::new();
    outside_strings(text, |lexeme| {
        if let Lexeme::Comment(start, end) = lexeme {
            let body = text.get(start + 2..end).unwrap_or("").trim_end();
            let blank_before = blank_line_before(text, start);
            comments.push(Comment { text: body.to_owned(), blank_before, span: Span::new(file, start, end) });
        }
        ControlFlow::Continue(())
    });
    comments
}

/// Whether an empty line stands between byte `at` and the text before it.
fn blank_line_before(text: &str, at: usize) -> bool {
    let before = text.get(..at).unwrap_or("").trim_end_matches([' ', '\t']);
    let Some(previous) = before.strip_suffix('\n') else { return false };
    let previous = previous.trim_end_matches([' ', '\t', '\r']);
    !previous.trim().is_empty() && previous.ends_with('\n')
}

fn attach_comments(file: &mut File, comments: Vec<Comment>) {
    for comment in comments {
        let at = comment.span.start;
        let owner = file.items.iter_mut().find(|item| item.span().end > at);
        match owner {
            None => file.trailing_comments.push(comment),
            Some(item) if item.span().start > at => leading_comments(item).push(comment),
            Some(Item::Lifecycle(block)) => match block.entries.iter_mut().find(|e| e.span().end > at) {
                Some(
                    LifecycleEntry::Referenced { comments, .. }
                    | LifecycleEntry::Owns { comments, .. }
                    | LifecycleEntry::Orphan { comments, .. },
                ) => comments.push(comment),
                None => block.body_comments.push(comment),
            },
            Some(Item::Rule(rule)) => rule.body_comments.push(comment),
            Some(Item::Trigger(trigger)) => trigger.body_comments.push(comment),
            Some(Item::Schema(block)) => match block.declarations.iter_mut().find(|d| d.span.end > at) {
                Some(decl) => decl.comments.push(comment),
                None => block.body_comments.push(comment),
            },
        }
    }
}

fn leading_comments(item: &mut Item) -> &mut Vec<Comment> {
    match item {
        Item::Rule(r) => &mut r.comments,
        Item::Lifecycle(l) => &mut l.comments,
        Item::Trigger(t) => &mut t.comments,
        Item::Schema(s) => &mut s.comments,
    }
}

// ---------------------------------------------------------------------------
// Syntax errors: what pest expected, said in the language's words, with help
// for the slips policy authors make most.

fn syntax_error(file: FileId, text: &str, error: &pest::error::Error<Rule>) -> Diagnostic {
    let pos = match error.location {
        pest::error::InputLocation::Pos(p) => p,
        pest::error::InputLocation::Span((s, _)) => s,
    };
    let rest = text.get(pos..).unwrap_or("");
    let found = describe_found(rest);
    let token_len = found_len(rest);
    let span = Span::new(file, pos, pos + token_len);
    if let Some(diagnostic) = known_slip(rest, span, text, pos) {
        return diagnostic;
    }
    let open = open_brace(text, pos);
    let expected = match &error.variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } => {
            expected_words(positives, open.is_some() && closes_at(text, pos))
        }
        pest::error::ErrorVariant::CustomError { message } => message.clone(),
    };
    if let Some(diagnostic) = open.and_then(|open| unclosed(file, text, open, span, &expected)) {
        return diagnostic;
    }
    // Between items only an item can start: a misspelt keyword is named.
    if open.is_none() {
        const ITEMS: [&str; 4] = ["rule", "lifecycle", "trigger", "schema"];
        let word = rest.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).next().unwrap_or("");
        let d = Diagnostic::error(
            "syntax",
            format!("expected `rule`, `lifecycle`, `trigger` or `schema`, found {found}"),
        )
        .at(span, "not the start of an item");
        return match did_you_mean(word, ITEMS) {
            Some(item) if !word.is_empty() => d.with_help(format!("did you mean `{item}`?")),
            _ => d.with_help("a policy file is a list of `rule`, `lifecycle`, `trigger` and `schema` blocks"),
        };
    }
    let diagnostic = Diagnostic::error("syntax", format!("expected {expected}, found {found}"))
        .at(span, format!("expected {expected}"));
    if let Some(help) = role_help(text, pos) {
        return diagnostic.with_help(help);
    }
    if rest.trim().is_empty() {
        return diagnostic
            .with_help("is a `{` left open? every rule, lifecycle block and trigger ends with `}`");
    }
    diagnostic
}

/// Recognises the common slips and explains them.
fn known_slip(rest: &str, span: Span, text: &str, pos: usize) -> Option<Diagnostic> {
    let slip = |code: &'static str, message: &str, label: &str, help: &str| {
        Some(
            Diagnostic::error(code, message.to_owned()).at(span, label.to_owned()).with_help(help.to_owned()),
        )
    };
    if rest.starts_with("&&") {
        return slip("syntax", "`&&` is not an operator", "use `and`", "write `a and b`");
    }
    if rest.starts_with("||") {
        return slip("syntax", "`||` is not an operator", "use `or`", "write `a or b`");
    }
    if rest.starts_with('!') && !rest.starts_with("!=") {
        return slip("syntax", "`!` is not an operator", "use `not`", "write `not a`");
    }
    if rest.starts_with('=') && !rest.starts_with("==") {
        return slip(
            "syntax",
            "`=` is not a comparison",
            "use `==`",
            "compare with `==`; steward has no assignment",
        );
    }
    if rest.starts_with('\'') {
        return slip(
            "syntax",
            "strings are written in double quotes",
            "single quote",
            "write \"text\", not 'text'",
        );
    }
    if rest.starts_with('"') && !rest.get(1..).unwrap_or("").lines().next().unwrap_or("").contains('"') {
        return slip(
            "unterminated-string",
            "this string is not closed",
            "no closing `\"`",
            "close the string with `\"` on the same line",
        );
    }
    let word: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
    if is_keyword(&word) && expects_name_here(text, pos) {
        return slip(
            "reserved-word",
            &format!("`{word}` is a reserved word and cannot be used as a name"),
            "reserved word",
            "choose another name, for example by adding a prefix",
        );
    }
    None
}

/// The `{` of the item still open at `pos`, if one is. Items do not nest:
/// it is the last `{` before `pos` that no `}` closes.
fn open_brace(text: &str, pos: usize) -> Option<usize> {
    let mut open = Vec::new();
    outside_strings(text, |lexeme| {
        match lexeme {
            Lexeme::Byte(i, _) | Lexeme::Comment(i, _) if i >= pos => return ControlFlow::Break(()),
            Lexeme::Byte(i, b'{') => open.push(i),
            Lexeme::Byte(_, b'}') => {
                open.pop();
            }
            Lexeme::Byte(..) | Lexeme::Comment(..) => {}
        }
        ControlFlow::Continue(())
    });
    open.last().copied()
}

/// Whether a `}` at `pos` would be read: the text before `pos` with a `}`
/// after it parses past `pos`. Pest names the rules it tried, and a `}` is
/// no rule of its own, so its errors never list it.
fn closes_at(text: &str, pos: usize) -> bool {
    let Some(before) = text.get(..pos) else { return false };
    match PolicyParser::parse(Rule::file, &format!("{before}}}")) {
        Ok(_) => true,
        Err(e) => match e.location {
            pest::error::InputLocation::Pos(p) | pest::error::InputLocation::Span((p, _)) => p > pos,
        },
    }
}

/// A rule, lifecycle block or trigger still open where the next one
/// starts: said of its `{`, with the place of the next item and what was
/// expected there.
fn unclosed(file: FileId, text: &str, open: usize, next: Span, expected: &str) -> Option<Diagnostic> {
    let rest = text.get(next.start as usize..)?;
    let keyword = rest.get(..found_len(rest))?;
    if !matches!(keyword, "rule" | "lifecycle" | "trigger") {
        return None;
    }
    let head = text.get(..open)?;
    let mut words = head.split_whitespace().rev();
    let name = words.next()?;
    let item = match words.next()? {
        "rule" => "rule",
        "lifecycle" => "lifecycle block",
        "trigger" => "trigger",
        _ => return None,
    };
    let line = head.matches('\n').count() + 1;
    Some(
        Diagnostic::error(
            "unclosed-block",
            format!("the {item} `{name}` opened at line {line} is not closed"),
        )
        .at(Span::new(file, open, open + 1), "this `{` is not closed")
        .with_related(next, format!("expected {expected}, found `{keyword}`"))
        .with_help(format!("end the {item} `{name}` with `}}` before the next `{keyword}`")),
    )
}

/// Help for roles tested as attributes: `actor.role == "x"` (`role` is a
/// keyword) and `actor has roles "x"` both mean `actor has role "x"`.
fn role_help(text: &str, pos: usize) -> Option<String> {
    let before = text.get(..pos)?;
    let rest = text.get(pos..)?;
    let token =
        |s: &str| s.get(..found_len(s)).filter(|t| t.starts_with('"')).unwrap_or("\"...\"").to_owned();
    if rest.get(..found_len(rest)) == Some("role")
        && let Some(subject) = before.strip_suffix('.')
    {
        let subject = trailing(subject, |c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
        let after = rest.get("role".len()..)?.trim_start();
        let value = token(after.strip_prefix("==").unwrap_or("").trim_start());
        return (!subject.is_empty())
            .then(|| format!("roles are tested with `has role`: `{subject} has role {value}`"));
    }
    let before = before.trim_end();
    let word = trailing(before, |c| c.is_ascii_alphanumeric() || c == '_');
    let has = before.get(..before.len() - word.len())?.trim_end().strip_suffix("has")?;
    let subject = trailing(has.trim_end(), |c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
    let slip = word != "role" && did_you_mean(word, ["role"]).is_some();
    (slip && has.ends_with(char::is_whitespace) && !subject.is_empty())
        .then(|| format!("did you mean `has role`? `{subject} has role {}`", token(rest)))
}

/// The end of `text` made of the characters `keep` accepts.
fn trailing(text: &str, keep: impl Fn(char) -> bool) -> &str {
    let start = text.char_indices().rev().take_while(|(_, c)| keep(*c)).last().map_or(text.len(), |(i, _)| i);
    text.get(start..).unwrap_or("")
}

/// Whether the token before `pos` is one after which a name is expected.
fn expects_name_here(text: &str, pos: usize) -> bool {
    let before = text.get(..pos).unwrap_or("").trim_end();
    ["rule", "trigger", "lifecycle"].iter().any(|kw| before.ends_with(kw))
}

fn is_keyword(word: &str) -> bool {
    matches!(
        word,
        "rule"
            | "lifecycle"
            | "trigger"
            | "permit"
            | "forbid"
            | "when"
            | "because"
            | "referenced"
            | "fallback"
            | "owns"
            | "and"
            | "or"
            | "not"
            | "in"
            | "contains"
            | "has"
            | "role"
            | "true"
            | "false"
            | "count"
            | "accounts"
            | "where"
    )
}

fn describe_found(rest: &str) -> String {
    match rest.chars().next() {
        None => "the end of the file".to_owned(),
        Some(_) => {
            let token = rest.get(..found_len(rest)).unwrap_or("");
            format!("`{token}`")
        }
    }
}

/// The length of the token at the start of `rest`, for the underline.
fn found_len(rest: &str) -> usize {
    let Some(first) = rest.chars().next() else {
        return 0;
    };
    if first.is_ascii_alphanumeric() || first == '_' {
        rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(rest.len())
    } else if first == '"' {
        rest.get(1..).and_then(|r| r.find(['"', '\n'])).map_or(rest.len(), |n| n + 2).min(rest.len())
    } else {
        let ops = ["==", "!=", "<=", ">=", "->", "&&", "||"];
        if ops.iter().any(|op| rest.starts_with(op)) { 2 } else { first.len_utf8() }
    }
}

/// What pest expected, in words; `closes` puts the `}` it cannot name
/// first.
fn expected_words(positives: &[Rule], closes: bool) -> String {
    let mut words: Vec<&'static str> = positives.iter().filter_map(|r| rule_words(*r)).collect();
    words.sort_unstable();
    words.dedup();
    if closes {
        words.insert(0, "`}`");
    }
    match words.as_slice() {
        [] => "something else".to_owned(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// The grammar's rules in the words of the language reference.
fn rule_words(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::EOI => "the end of the file",
        Rule::rule_def | Rule::kw_rule => "`rule`",
        Rule::lifecycle_def | Rule::kw_lifecycle => "`lifecycle`",
        Rule::trigger_def | Rule::kw_trigger => "`trigger`",
        Rule::schema_def | Rule::kw_schema => "`schema`",
        Rule::schema_base | Rule::kw_extends => "`extends`",
        Rule::declaration => {
            "a declaration (`environment kind`, `status`, `account kind`, `asset kind`, `action` or `attribute`)"
        }
        Rule::env_kind_decl | Rule::kw_environment => "`environment`",
        Rule::live_flag => "`live`",
        Rule::status_decl | Rule::kw_status => "`status`",
        Rule::status_flag => "`counts`, `login` or `expires`",
        Rule::account_kind_decl | Rule::kw_account => "`account`",
        Rule::asset_kind_decl | Rule::kw_asset => "`asset`",
        Rule::kw_kind => "`kind`",
        Rule::kw_counts => "`counts`",
        Rule::counting => "`own`, `home` or `never`",
        Rule::contains_flag => "`contains`",
        Rule::nonmember_flag => "`nonmember`",
        Rule::kw_types => "`types`",
        Rule::action_decl | Rule::kw_action => "`action`",
        Rule::kw_on => "`on`",
        Rule::subject => "what the action acts on (`account`, `user`, `addresses` or `asset`)",
        Rule::from_clause | Rule::kw_from => "`from`",
        Rule::takes_clause | Rule::kw_takes => "`takes`",
        Rule::value_kind => "`email`, `name`, `text` or `one of`",
        Rule::value_options | Rule::kw_one => "`one of`",
        Rule::kw_of => "`of`",
        Rule::value_option => "an option",
        Rule::move_effect => "`->`",
        Rule::removes_effect => "`removes`",
        Rule::creates_effect | Rule::kw_creates => "`creates`",
        Rule::renews_effect => "`renews`",
        Rule::sets_effect | Rule::kw_sets => "`sets`",
        Rule::setting | Rule::setting_field | Rule::field_part => "a field",
        Rule::setting_value | Rule::kw_value => "a value",
        Rule::shown_clause | Rule::kw_as => "`as`",
        Rule::attribute_decl | Rule::kw_attribute => "`attribute`",
        Rule::attr_entity => "`account`, `user`, `environment` or `asset`",
        Rule::attr_type | Rule::type_name | Rule::string_options => "a type",
        Rule::optional_mark => "`?`",
        Rule::name => "a name",
        Rule::effect | Rule::kw_permit | Rule::kw_forbid => "`permit` or `forbid`",
        Rule::action | Rule::action_list => "an action name",
        Rule::when_clause | Rule::kw_when => "`when`",
        Rule::because_clause | Rule::kw_because => "`because`",
        Rule::referenced_entry | Rule::kw_referenced => "`referenced`",
        Rule::owns_entry | Rule::kw_owns => "`owns`",
        Rule::kw_fallback => "`fallback`",
        Rule::asset_kind => "an asset kind",
        Rule::consequence => "a consequence (`reassign`, `revoke`, `remove` or `disable`)",
        Rule::default_owner | Rule::kw_to => "`to`",
        Rule::expr | Rule::expr_only | Rule::comparison | Rule::op_not | Rule::kw_not => "an expression",
        Rule::op_or | Rule::kw_or => "`or`",
        Rule::op_and | Rule::kw_and => "`and`",
        Rule::cmp_op | Rule::kw_in | Rule::kw_contains => "an operator",
        Rule::has_role | Rule::has_attr | Rule::kw_has => "`has`",
        Rule::kw_role => "`role`",
        Rule::count | Rule::kw_count => "`count`",
        Rule::kw_accounts => "`accounts`",
        Rule::kw_where => "`where`",
        Rule::list => "a list",
        Rule::path | Rule::root => "an attribute path",
        Rule::attribute => "an attribute name",
        Rule::string | Rule::string_body => "a string",
        Rule::integer => "a number",
        Rule::date | Rule::datetime => "a date",
        Rule::boolean | Rule::kw_true | Rule::kw_false => "`true` or `false`",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<File, Vec<Diagnostic>> {
        let mut sources = Sources::new();
        let id = sources.add("test.policy", text);
        parse_file(&sources, id)
    }

    fn expr(text: &str) -> Expr {
        let mut sources = Sources::new();
        let id = sources.add("expr", text);
        parse_expr(&sources, id).unwrap()
    }

    #[test]
    fn parses_a_rule_with_every_clause() {
        let file = parse(
            r#"rule r { permit block, delete when actor has role "superuser" because "only superusers" }"#,
        )
        .unwrap();
        let [Item::Rule(rule)] = file.items.as_slice() else { panic!("one rule expected") };
        assert_eq!(rule.name.name, "r");
        assert_eq!(rule.effect, Effect::Permit);
        assert_eq!(rule.actions.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(), ["block", "delete"]);
        assert!(matches!(rule.condition.as_ref().unwrap().kind, ExprKind::HasRole { .. }));
        assert_eq!(rule.because.as_ref().unwrap().value, "only superusers");
    }

    #[test]
    fn and_binds_tighter_than_or_and_not_tighter_than_and() {
        let e = expr("not a or b and c");
        let ExprKind::Or(operands) = e.kind else { panic!("or at the top") };
        assert!(matches!(operands[0].kind, ExprKind::Not(_)));
        assert!(matches!(&operands[1].kind, ExprKind::And(items) if items.len() == 2));
    }

    #[test]
    fn comparisons_are_not_associative() {
        let mut sources = Sources::new();
        let id = sources.add("expr", "a == b == c");
        assert!(parse_expr(&sources, id).is_err());
    }

    #[test]
    fn literals_of_every_type() {
        let e = expr(r#"[1, -2, "x\"y", true, 2026-10-31, 2026-10-31T23:00:00Z]"#);
        let ExprKind::List(items) = e.kind else { panic!("a list") };
        let kinds: Vec<_> = items.into_iter().map(|e| e.kind).collect();
        assert_eq!(kinds[0], ExprKind::Literal(Literal::Int(1)));
        assert_eq!(kinds[1], ExprKind::Literal(Literal::Int(-2)));
        assert_eq!(kinds[2], ExprKind::Literal(Literal::Str("x\"y".into())));
        assert_eq!(kinds[3], ExprKind::Literal(Literal::Bool(true)));
        assert!(matches!(kinds[4], ExprKind::Literal(Literal::Date(_))));
        assert!(matches!(kinds[5], ExprKind::Literal(Literal::DateTime(_))));
    }

    #[test]
    fn lifecycle_and_trigger() {
        let file = parse(
            "lifecycle delete {\n  referenced -> fallback block\n  owns api_key, alert -> revoke\n}\n\
             trigger leavers { block when target.user has employment_end because \"left\" }",
        )
        .unwrap();
        let [Item::Lifecycle(l), Item::Trigger(t)] = file.items.as_slice() else { panic!("two items") };
        assert_eq!(l.entries.len(), 2);
        assert_eq!(t.action.name, "block");
        assert!(matches!(t.condition.kind, ExprKind::HasAttr { .. }));
    }

    #[test]
    fn count_with_and_without_condition() {
        assert!(matches!(expr("count(accounts)").kind, ExprKind::Count { condition: None }));
        let e = expr(r#"count(accounts where account has role "x") <= 1"#);
        let ExprKind::Binary { op: BinaryOp::Le, lhs, .. } = e.kind else { panic!("a comparison") };
        assert!(matches!(lhs.kind, ExprKind::Count { condition: Some(_) }));
    }

    #[test]
    fn comments_are_attached_to_what_follows() {
        let file = parse(
            "// about r\nrule r { // inside\n permit block }\nlifecycle delete {\n // entry\n referenced -> fallback block\n}\n// the end\n",
        )
        .unwrap();
        let [Item::Rule(r), Item::Lifecycle(l)] = file.items.as_slice() else { panic!("two items") };
        assert_eq!(r.comments[0].text, " about r");
        assert_eq!(r.body_comments[0].text, " inside");
        let LifecycleEntry::Referenced { comments, .. } = &l.entries[0] else { panic!("referenced") };
        assert_eq!(comments[0].text, " entry");
        assert_eq!(file.trailing_comments[0].text, " the end");
    }

    #[test]
    fn slips_get_specific_help() {
        let err = parse("rule r { permit block when actor.user = target.user }").unwrap_err();
        assert_eq!(err[0].message, "`=` is not a comparison");
        let err = parse("rule r { permit block when a && b }").unwrap_err();
        assert_eq!(err[0].message, "`&&` is not an operator");
        let err = parse("rule when { permit block }").unwrap_err();
        assert_eq!(err[0].code, "reserved-word");
    }

    #[test]
    fn errors_name_what_was_expected_in_words() {
        let err = parse("rule r { permit }").unwrap_err();
        assert_eq!(err[0].message, "expected an action name, found `}`");
        let err = parse("rule r { permit block").unwrap_err();
        assert!(err[0].message.contains("found the end of the file"), "{}", err[0].message);
    }

    #[test]
    fn invalid_dates_and_overflow_are_reported() {
        let err = parse("rule r { permit block when request.now > 2026-13-01 }").unwrap_err();
        assert_eq!(err[0].code, "invalid-date");
        let err =
            parse("rule r { permit block when request.batch_size > 99999999999999999999 }").unwrap_err();
        assert_eq!(err[0].code, "integer-overflow");
    }
}
