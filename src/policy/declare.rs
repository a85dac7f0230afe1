//! `schema` blocks to a [`Schema`]: every declaration checked (each name
//! declared once, every status and kind an action names declared, each
//! effect one its subject can have), every mistake a located diagnostic.
//! A set without a `schema` block is written for steward's standard schema
//! (`schema/standard.policy`), itself compiled here.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use super::ast::{
    self, DeclBody, EffectExpr, Ident, Item, SchemaBlock, SettingExpr, SettingValue, Takes, TypeExpr,
};
use crate::diagnostic::{Diagnostic, did_you_mean};
use crate::schema::{
    AccountKindDecl, ActionDecl, AssetKindDecl, AttrType, AttributeDecl, Counting, Effect, Entity,
    EnvKindDecl, Literal, Schema, Setting, StatusDecl, Subject, ValueKind, ValueOption,
};
use crate::source::{Sources, Span};

/// The text of the standard schema, shipped inside the binary.
pub const STANDARD_TEXT: &str = include_str!("../../schema/standard.policy");

/// The one name `extends` takes.
const STANDARD: &str = "standard";

/// The standard schema, compiled once per process.
pub fn standard() -> Arc<Schema> {
    static STANDARD_SCHEMA: OnceLock<Arc<Schema>> = OnceLock::new();
    STANDARD_SCHEMA.get_or_init(|| Arc::new(compile_standard().unwrap_or_default())).clone()
}

/// Compiles the shipped text; a test holds it to compiling without a finding.
fn compile_standard() -> Result<Schema, Vec<Diagnostic>> {
    let mut sources = Sources::new();
    let id = sources.add("standard.policy", STANDARD_TEXT);
    let file = super::parse::parse_file(&sources, id)?;
    let blocks: Vec<&SchemaBlock> = schema_blocks(std::slice::from_ref(&file));
    let mut declarer = Declarer::new(Schema::default());
    for block in blocks {
        declarer.block(block);
    }
    declarer.finish()
}

/// The schema blocks of parsed files, in order.
pub fn schema_blocks(files: &[ast::File]) -> Vec<&SchemaBlock> {
    files
        .iter()
        .flat_map(|f| &f.items)
        .filter_map(|item| match item {
            Item::Schema(block) => Some(block),
            _ => None,
        })
        .collect()
}

/// The schema a set's blocks declare (the standard one when there are
/// none), or the diagnostics that make it invalid.
pub fn declare(blocks: &[&SchemaBlock]) -> (Arc<Schema>, Vec<Diagnostic>) {
    if blocks.is_empty() {
        return (standard(), Vec::new());
    }
    let extends = blocks.iter().find_map(|b| b.base.as_ref());
    let mut diagnostics = Vec::new();
    if let Some(base) = extends
        && base.name != STANDARD
    {
        let mut d =
            Diagnostic::error("unknown-schema", format!("there is no schema `{}` to extend", base.name))
                .at(base.span, "not a schema steward ships");
        d = d.with_help("`schema extends standard { ... }` adds to the standard schema");
        diagnostics.push(d);
    }
    // One way or the other for the whole set: a block of its own beside one
    // that extends would silently become an extension.
    if let (Some(base), Some(own)) = (extends, blocks.iter().find(|b| b.base.is_none())) {
        let start = own.span.start as usize;
        diagnostics.push(
            Diagnostic::error(
                "mixed-schema",
                "one block extends the standard schema and another declares a schema of its own",
            )
            .at(Span::new(own.span.file, start, start + "schema".len()), "a schema of its own")
            .with_related(base.span, "extends the standard schema")
            .with_help("write `schema extends standard` on every block, or on none"),
        );
    }
    let base = if extends.is_some() { (*standard()).clone() } else { Schema::default() };
    let mut declarer = Declarer::new(base);
    declarer.diagnostics = diagnostics;
    for block in blocks {
        declarer.block(block);
    }
    if extends.is_none() {
        declarer.require_basics(blocks);
    }
    match declarer.finish() {
        Ok(schema) => (Arc::new(schema), Vec::new()),
        Err(diagnostics) => (standard(), diagnostics),
    }
}

/// Where each name was first declared, per namespace.
#[derive(Default)]
struct Seen {
    env_kinds: HashMap<String, Span>,
    statuses: HashMap<String, Span>,
    account_kinds: HashMap<String, Span>,
    asset_kinds: HashMap<String, Span>,
    actions: HashMap<String, Span>,
    attributes: HashMap<(Entity, String), Span>,
}

struct Declarer {
    schema: Schema,
    /// The names the schema extended already has, per namespace: a set, so
    /// that a schema of tens of thousands of names is checked in linear time.
    inherited: std::collections::HashSet<(u8, String)>,
    seen: Seen,
    /// Actions as written, checked once every status and kind is known.
    actions: Vec<ast::ActionDecl>,
    /// `identity provider when ...` as written (and where), checked once
    /// every attribute is known.
    identity_provider: Option<Vec<ast::EnvTest>>,
    diagnostics: Vec<Diagnostic>,
}

impl Declarer {
    fn new(schema: Schema) -> Self {
        let mut inherited = std::collections::HashSet::new();
        let names = [
            (Namespace::EnvKind, schema.env_kinds.iter().map(|k| k.name.clone()).collect::<Vec<_>>()),
            (Namespace::Status, schema.statuses.iter().map(|k| k.name.clone()).collect()),
            (Namespace::AccountKind, schema.account_kinds.iter().map(|k| k.name.clone()).collect()),
            (Namespace::AssetKind, schema.asset_kinds.iter().map(|k| k.name.clone()).collect()),
            (Namespace::Action, schema.actions.iter().map(|k| k.name.clone()).collect()),
        ];
        for (namespace, list) in names {
            inherited.extend(list.into_iter().map(|n| (namespace as u8, n)));
        }
        Declarer {
            schema,
            inherited,
            seen: Seen::default(),
            actions: Vec::new(),
            identity_provider: None,
            diagnostics: Vec::new(),
        }
    }

    fn block(&mut self, block: &SchemaBlock) {
        for decl in &block.declarations {
            match &decl.body {
                DeclBody::EnvKind { name, live } => {
                    if self.unique("the environment kind", name, Namespace::EnvKind) {
                        self.schema.env_kinds.push(EnvKindDecl { name: name.name.clone(), live: *live });
                    }
                }
                DeclBody::Status { name, flags } => self.status(name, flags),
                DeclBody::AccountKind { name, nonmember, counting } => {
                    self.account_kind(name, *nonmember, counting.as_ref());
                }
                DeclBody::AssetKind { name, contains, types } => self.asset_kind(name, *contains, types),
                DeclBody::Action(action) => {
                    if self.unique("the action", &action.name, Namespace::Action) {
                        self.actions.push(action.clone());
                    }
                }
                DeclBody::Attribute { entity, name, ty, optional, default } => {
                    self.attribute(entity, name, ty, *optional, default.as_ref())
                }
                DeclBody::IdentityProvider { tests } => {
                    if self.identity_provider.is_some() || !self.schema.identity_provider.is_empty() {
                        self.diagnostics.push(
                            Diagnostic::error(
                                "duplicate-declaration",
                                "`identity provider` is declared twice",
                            )
                            .at(decl.span, "declared again")
                            .with_help(
                                "say in one declaration when an environment uses an identity provider",
                            ),
                        );
                    } else {
                        self.identity_provider = Some(tests.clone());
                    }
                }
                DeclBody::OpenAttrs { entity } => match Entity::parse(&entity.name) {
                    Some(on) if !self.schema.open.contains(&on) => self.schema.open.push(on),
                    Some(_) => {}
                    None => {
                        let names = Entity::ALL.map(Entity::as_str);
                        self.diagnostics.push(unknown(
                            "unknown-entity",
                            "entity",
                            entity,
                            names.iter().copied(),
                        ));
                    }
                },
            }
        }
    }

    fn finish(mut self) -> Result<Schema, Vec<Diagnostic>> {
        if let Some(tests) = self.identity_provider.take() {
            self.identity_provider(&tests);
        }
        let actions = std::mem::take(&mut self.actions);
        for action in &actions {
            if let Some(decl) = self.action(action) {
                self.schema.actions.push(decl);
            }
        }
        if self.diagnostics.iter().any(Diagnostic::is_error) {
            Err(self.diagnostics)
        } else {
            Ok(self.schema)
        }
    }

    /// A schema of its own declares what every directory needs.
    fn require_basics(&mut self, blocks: &[&SchemaBlock]) {
        let Some(first) = blocks.first() else { return };
        let start = first.span.start as usize;
        let head = Span::new(first.span.file, start, start + "schema".len());
        for (missing, what, example) in [
            (self.schema.env_kinds.is_empty(), "environment kind", "environment kind production live"),
            (self.schema.statuses.is_empty(), "account status", "status active counts login"),
            (self.schema.account_kinds.is_empty(), "account kind", "account kind normal"),
        ] {
            if missing {
                self.diagnostics.push(
                    Diagnostic::error("incomplete-schema", format!("the schema declares no {what}"))
                        .at(head, "declared here")
                        .with_help(format!(
                            "declare one, for example `{example}`, or write `schema extends standard {{ ... }}`"
                        )),
                );
            }
        }
    }

    /// Whether `name` is new in its namespace (the standard schema's names
    /// count when extending it); a duplicate is reported.
    fn unique(&mut self, what: &str, name: &Ident, namespace: Namespace) -> bool {
        let inherited = self.inherited.contains(&(namespace as u8, name.name.clone()));
        let seen = match namespace {
            Namespace::EnvKind => &mut self.seen.env_kinds,
            Namespace::Status => &mut self.seen.statuses,
            Namespace::AccountKind => &mut self.seen.account_kinds,
            Namespace::AssetKind => &mut self.seen.asset_kinds,
            Namespace::Action => &mut self.seen.actions,
        };
        if let Some(first) = seen.get(&name.name) {
            let first = *first;
            self.diagnostics.push(
                Diagnostic::error(
                    "duplicate-declaration",
                    format!("{what} `{}` is declared twice", name.name),
                )
                .at(name.span, "declared again")
                .with_related(first, "first declared here"),
            );
            return false;
        }
        if inherited {
            self.diagnostics.push(
                Diagnostic::error(
                    "duplicate-declaration",
                    format!("{what} `{}` is declared by the standard schema already", name.name),
                )
                .at(name.span, "declared again")
                .with_help("a schema that extends `standard` adds names; it does not redeclare them"),
            );
            return false;
        }
        seen.insert(name.name.clone(), name.span);
        true
    }

    fn status(&mut self, name: &Ident, flags: &[Ident]) {
        if !self.unique("the status", name, Namespace::Status) {
            return;
        }
        let has = |flag: &str| flags.iter().any(|f| f.name == flag);
        self.schema.statuses.push(StatusDecl {
            name: name.name.clone(),
            counts: has("counts"),
            login: has("login"),
            expires: has("expires"),
        });
    }

    fn account_kind(&mut self, name: &Ident, nonmember: bool, counting: Option<&Ident>) {
        if !self.unique("the account kind", name, Namespace::AccountKind) {
            return;
        }
        let counting = match counting.map(|c| c.name.as_str()) {
            Some("home") => Counting::Home,
            Some("never") => Counting::Never,
            _ => Counting::Own,
        };
        self.schema.account_kinds.push(AccountKindDecl {
            name: name.name.clone(),
            member: !nonmember,
            counting,
        });
    }

    fn asset_kind(&mut self, name: &Ident, contains: bool, types: &[Ident]) {
        if !self.unique("the asset kind", name, Namespace::AssetKind) {
            return;
        }
        let mut names: Vec<String> = Vec::new();
        for t in types {
            if names.contains(&t.name) {
                self.diagnostics.push(
                    Diagnostic::error(
                        "duplicate-declaration",
                        format!("the type `{}` is named twice", t.name),
                    )
                    .at(t.span, "named again"),
                );
            } else {
                names.push(t.name.clone());
            }
        }
        self.schema.asset_kinds.push(AssetKindDecl { name: name.name.clone(), contains, types: names });
    }

    fn attribute(
        &mut self,
        entity: &Ident,
        name: &Ident,
        ty: &TypeExpr,
        optional: bool,
        default: Option<&(SettingValue, Span)>,
    ) {
        let Some(on) = Entity::parse(&entity.name) else {
            let names = Entity::ALL.map(Entity::as_str);
            self.diagnostics.push(unknown("unknown-entity", "entity", entity, names.iter().copied()));
            return;
        };
        let ty = match ty {
            TypeExpr::Named(t) => match AttrType::parse(&t.name) {
                Some(ty) => ty,
                None => {
                    let mut d = unknown("unknown-type", "type", t, AttrType::KEYWORDS.iter().copied());
                    if d.help.is_none() {
                        d = d.with_help(format!(
                            "the types are {} and `one of \"a\", \"b\"`",
                            AttrType::KEYWORDS.join(", ")
                        ));
                    }
                    self.diagnostics.push(d);
                    return;
                }
            },
            TypeExpr::OneOf(values) => AttrType::OneOf(values.iter().map(|v| v.value.clone()).collect()),
        };
        // A declared attribute reads by its name (`target.user.tier`): it
        // may not hide one the entity always has.
        let kind = super::schema::entity_kind(on);
        if super::schema::attribute(kind, &name.name).is_some() || name.name == "attrs" {
            self.diagnostics.push(
                Diagnostic::error(
                    "duplicate-declaration",
                    format!("`{}.{}` is a built-in attribute already", entity.name, name.name),
                )
                .at(name.span, "declared again")
                .with_help("give the declared attribute another name"),
            );
            return;
        }
        let default = match default {
            None => None,
            Some((value, span)) => {
                let literal = literal(value);
                match literal {
                    Some(l) if l.fits(&ty) && !optional => Some(l),
                    _ => {
                        let why = if optional {
                            "an optional attribute has no default: leave out `?` or the default".to_owned()
                        } else {
                            format!("the default must be {}", ty.describe())
                        };
                        self.diagnostics.push(
                            Diagnostic::error(
                                "invalid-default",
                                format!("`{}.{}` cannot default so", entity.name, name.name),
                            )
                            .at(*span, "this default")
                            .with_help(why),
                        );
                        return;
                    }
                }
            }
        };
        let key = (on, name.name.clone());
        if let Some(first) = self.seen.attributes.get(&key) {
            self.diagnostics.push(
                Diagnostic::error(
                    "duplicate-declaration",
                    format!("the attribute `{}.{}` is declared twice", entity.name, name.name),
                )
                .at(name.span, "declared again")
                .with_related(*first, "first declared here"),
            );
            return;
        }
        self.seen.attributes.insert(key, name.span);
        self.schema.attributes.push(AttributeDecl {
            entity: on,
            name: name.name.clone(),
            ty,
            optional,
            default,
        });
    }

    /// `identity provider when ...`: each test a declared attribute of the
    /// environment and a value of its type (a bare one a boolean).
    fn identity_provider(&mut self, tests: &[ast::EnvTest]) {
        let mut out = Vec::new();
        for (name, value) in tests {
            let Some(decl) = self.schema.attribute(Entity::Environment, &name.name) else {
                let names: Vec<&str> =
                    self.schema.attributes_of(Entity::Environment).map(|a| a.name.as_str()).collect();
                self.diagnostics.push(unknown(
                    "unknown-attribute",
                    "environment attribute",
                    name,
                    names.iter().copied(),
                ));
                continue;
            };
            let literal = match value {
                Some((v, _)) => literal(v),
                None => Some(Literal::Bool(true)),
            };
            match literal {
                Some(l) if l.fits(&decl.ty) => out.push((decl.name.clone(), l)),
                _ => {
                    let span = value.as_ref().map_or(name.span, |(_, s)| *s);
                    let help = match value {
                        None => format!(
                            "`environment.{}` is {}: compare it, `== VALUE`",
                            name.name,
                            decl.ty.describe()
                        ),
                        Some(_) => format!("write {}", decl.ty.describe()),
                    };
                    self.diagnostics.push(
                        Diagnostic::error(
                            "type-mismatch",
                            format!("`environment.{}` cannot be so", name.name),
                        )
                        .at(span, "this test")
                        .with_help(help),
                    );
                }
            }
        }
        if out.len() == tests.len() {
            self.schema.identity_provider = out;
        }
    }

    fn known_status(&mut self, status: &Ident) -> bool {
        if self.seen.statuses.contains_key(&status.name)
            || self.inherited.contains(&(Namespace::Status as u8, status.name.clone()))
        {
            return true;
        }
        let names: Vec<&str> = self.schema.statuses.iter().map(|s| s.name.as_str()).collect();
        self.diagnostics.push(unknown("unknown-status", "status", status, names.iter().copied()));
        false
    }

    fn action(&mut self, action: &ast::ActionDecl) -> Option<ActionDecl> {
        let subject = match action.subject.name.as_str() {
            "account" => Subject::Account,
            "user" => Subject::User,
            "addresses" => Subject::Addresses,
            _ => Subject::Asset,
        };
        let mut ok = true;
        for status in &action.from {
            ok &= self.known_status(status);
        }
        if !action.from.is_empty() && subject != Subject::Account {
            ok = false;
            self.diagnostics.push(self.misplaced(&action.name, "`from`", "`on account`", subject));
        }
        let value = match &action.takes {
            None => ValueKind::None,
            Some(Takes::Kind(kind)) => match kind.name.as_str() {
                "email" => ValueKind::Email,
                "name" => ValueKind::Name,
                _ => ValueKind::Text,
            },
            Some(Takes::OneOf(options)) => {
                let mut out: Vec<ValueOption> = Vec::new();
                for option in options {
                    if out.iter().any(|o| o.name == option.name.name) {
                        ok = false;
                        self.diagnostics.push(
                            Diagnostic::error(
                                "duplicate-declaration",
                                format!("the option `{}` is named twice", option.name.name),
                            )
                            .at(option.name.span, "named again"),
                        );
                        continue;
                    }
                    let settings = self.settings(&option.settings, &ValueKind::None, subject);
                    ok &= settings.is_some();
                    out.push(ValueOption {
                        name: option.name.name.clone(),
                        settings: settings.unwrap_or_default(),
                    });
                }
                ValueKind::OneOf(out)
            }
        };
        let effect = match &action.effect {
            None => None,
            Some(EffectExpr::Move(to)) => {
                ok &= self.known_status(to);
                ok &= self.needs_subject(&action.name, "`->`", subject, &[Subject::Account]);
                Some(Effect::Move(to.name.clone()))
            }
            Some(EffectExpr::Removes(_)) => {
                ok &= self.needs_subject(&action.name, "`removes`", subject, &[Subject::Account]);
                Some(Effect::Remove)
            }
            Some(EffectExpr::Creates(status)) => {
                ok &= self.known_status(status);
                ok &= self.needs_subject(
                    &action.name,
                    "`creates`",
                    subject,
                    &[Subject::Addresses, Subject::User],
                );
                Some(Effect::Create(status.name.clone()))
            }
            Some(EffectExpr::Renews(span)) => {
                ok &= self.needs_subject(&action.name, "`renews`", subject, &[Subject::Account]);
                let expiring =
                    !action.from.is_empty() && action.from.iter().all(|s| self.schema.expires(&s.name));
                if !expiring && ok {
                    ok = false;
                    self.diagnostics.push(
                        Diagnostic::error(
                            "invalid-effect",
                            format!(
                                "`{}` renews an invitation, but not from a status that expires",
                                action.name.name
                            ),
                        )
                        .at(*span, "renews what?")
                        .with_help(
                            "write `from STATUS` with statuses declared `expires`, such as `from pending`",
                        ),
                    );
                }
                Some(Effect::Renew)
            }
            Some(EffectExpr::Sets(settings)) => {
                ok &= self.needs_subject(&action.name, "`sets`", subject, &[Subject::Account]);
                let settings = self.settings(settings, &value, subject);
                ok &= settings.is_some();
                Some(Effect::Set(settings.unwrap_or_default()))
            }
        };
        if matches!(effect, Some(Effect::Remove))
            && let ValueKind::OneOf(options) = &value
            && options.iter().any(|o| !o.settings.is_empty())
        {
            ok = false;
            self.diagnostics.push(
                Diagnostic::error(
                    "invalid-setting",
                    format!("`{}` removes the account: its options have nothing to set", action.name.name),
                )
                .at(action.name.span, "removes")
                .with_help("leave the settings out of the options, or give the action another effect"),
            );
        }
        let (noun, done) = match &action.shown {
            Some((noun, done)) => (noun.value.clone(), done.value.clone()),
            None => default_words(subject, effect.as_ref()),
        };
        ok.then(|| ActionDecl {
            name: action.name.name.clone(),
            subject,
            from: names(&action.from),
            value,
            effect,
            noun,
            done,
        })
    }

    fn needs_subject(&mut self, action: &Ident, what: &str, subject: Subject, allowed: &[Subject]) -> bool {
        if allowed.contains(&subject) {
            return true;
        }
        let on: Vec<String> = allowed.iter().map(|s| format!("`on {}`", s.as_str())).collect();
        let d = self.misplaced(action, what, &on.join(" or "), subject);
        self.diagnostics.push(d);
        false
    }

    fn misplaced(&self, action: &Ident, what: &str, allowed: &str, subject: Subject) -> Diagnostic {
        Diagnostic::error(
            "invalid-effect",
            format!("`{}` acts on {}: {what} is for an action {allowed}", action.name, subject.as_str()),
        )
        .at(action.span, format!("declared `on {}`", subject.as_str()))
    }

    /// The settings as the schema holds them; `None` after a reported mistake.
    fn settings(
        &mut self,
        settings: &[SettingExpr],
        value: &ValueKind,
        subject: Subject,
    ) -> Option<Vec<Setting>> {
        let mut out = Vec::new();
        let mut ok = true;
        for setting in settings {
            let field = setting.field.name.as_str();
            let (entity, attribute) = match field.split_once('.') {
                Some(("user", name)) => (Entity::User, name),
                Some(_) => (Entity::Account, ""),
                None => (Entity::Account, field),
            };
            let parsed = match (field, &setting.value) {
                ("email", SettingValue::Value) if *value == ValueKind::Email => Ok(Setting::Email),
                ("name", SettingValue::Value) if matches!(value, ValueKind::Name | ValueKind::Text) => {
                    Ok(Setting::Name)
                }
                ("email", _) => Err("`email = value`, with `takes email`".to_owned()),
                ("name", _) => Err("`name = value`, with `takes name` or `takes text`".to_owned()),
                ("kind", SettingValue::Name(kind)) => {
                    let declared = self.seen.account_kinds.contains_key(&kind.name)
                        || self.inherited.contains(&(Namespace::AccountKind as u8, kind.name.clone()));
                    if !declared {
                        let names: Vec<&str> =
                            self.schema.account_kinds.iter().map(|k| k.name.as_str()).collect();
                        self.diagnostics.push(unknown(
                            "unknown-account-kind",
                            "account kind",
                            kind,
                            names.iter().copied(),
                        ));
                        ok = false;
                        continue;
                    }
                    Ok(Setting::Kind(kind.name.clone()))
                }
                ("kind", _) => Err("`kind = KIND`, an account kind".to_owned()),
                _ => match self.schema.attribute(entity, attribute) {
                    None => {
                        ok = false;
                        self.diagnostics.push(self.unknown_field(setting));
                        continue;
                    }
                    Some(decl) => match literal(&setting.value) {
                        Some(l) if l.fits(&decl.ty) => {
                            Ok(Setting::Attr { entity, name: decl.name.clone(), value: l })
                        }
                        _ if decl.ty == AttrType::Boolean => Err("`true` or `false`".to_owned()),
                        _ => Err(decl.ty.describe()),
                    },
                },
            };
            match parsed {
                Ok(s) => out.push(s),
                Err(expected) => {
                    ok = false;
                    self.diagnostics.push(
                        Diagnostic::error("invalid-setting", format!("`{field}` cannot be set so"))
                            .at(setting.span, "this setting")
                            .with_help(format!("write {expected}")),
                    );
                }
            }
        }
        let _ = subject;
        ok.then_some(out)
    }

    /// A setting of a field that is neither the account's own nor a
    /// declared attribute of the account or its user.
    fn unknown_field(&self, setting: &SettingExpr) -> Diagnostic {
        let field = setting.field.name.as_str();
        let mut declared: Vec<String> =
            self.schema.attributes_of(Entity::Account).map(|a| a.name.clone()).collect();
        declared.extend(self.schema.attributes_of(Entity::User).map(|a| format!("user.{}", a.name)));
        let fields = ["email", "name", "kind"].into_iter().chain(declared.iter().map(String::as_str));
        let d = Diagnostic::error("unknown-field", format!("an action cannot set `{field}`"))
            .at(setting.field.span, "not a field an action sets");
        match did_you_mean(field, fields) {
            Some(s) => d.with_help(format!("did you mean `{s}`?")),
            None if declared.is_empty() => d.with_help(
                "an action sets email, name, kind and the attributes the schema declares of the account \
                 (`NAME`) or its user (`user.NAME`); it declares none",
            ),
            None => d.with_help(format!(
                "an action sets email, name, kind and the attributes the schema declares of the account \
                 (`NAME`) or its user (`user.NAME`): {}",
                declared.join(", ")
            )),
        }
    }
}

/// A setting's value or a default as a constant of the schema; `None` for
/// `value` and bare names, which are no constants.
fn literal(value: &SettingValue) -> Option<Literal> {
    match value {
        SettingValue::Bool(b) => Some(Literal::Bool(*b)),
        SettingValue::Int(i) => Some(Literal::Int(*i)),
        SettingValue::Str(s) => Some(Literal::Str(s.clone())),
        SettingValue::Value | SettingValue::Name(_) => None,
    }
}

#[derive(Clone, Copy)]
enum Namespace {
    EnvKind,
    Status,
    AccountKind,
    AssetKind,
    Action,
}

fn names(list: &[Ident]) -> Vec<String> {
    list.iter().map(|i| i.name.clone()).collect()
}

/// How a plan's summary reads when the declaration does not say.
fn default_words(subject: Subject, effect: Option<&Effect>) -> (String, String) {
    let noun = match subject {
        Subject::Account => "account",
        Subject::User => "user",
        Subject::Addresses => "invitation",
        Subject::Asset => "asset",
    };
    let done = match effect {
        Some(Effect::Move(to)) => format!("moved to {to}"),
        Some(Effect::Remove) => "removed".to_owned(),
        Some(Effect::Create(_)) => "created".to_owned(),
        Some(Effect::Renew) => "renewed".to_owned(),
        Some(Effect::Set(_)) => "changed".to_owned(),
        None => "acted on".to_owned(),
    };
    (noun.to_owned(), done)
}

/// An unknown name of a namespace, with the closest declared one.
pub(crate) fn unknown<'a>(
    code: &'static str,
    what: &str,
    name: &Ident,
    candidates: impl Iterator<Item = &'a str> + Clone,
) -> Diagnostic {
    let article = if what.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
    let d = Diagnostic::error(code, format!("unknown {what} `{}`", name.name))
        .at(name.span, format!("not {article} {what}"));
    match did_you_mean(&name.name, candidates.clone()) {
        Some(s) => d.with_help(format!("did you mean `{s}`?")),
        None => {
            let all: Vec<&str> = candidates.collect();
            if all.is_empty() {
                d.with_help(format!("the schema declares no {what}"))
            } else {
                let plural = if what.ends_with('s') { "es" } else { "s" };
                d.with_help(format!("the {what}{plural} are: {}", all.join(", ")))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standard_schema_compiles_without_a_finding() {
        let schema = compile_standard().unwrap();
        assert_eq!(schema.action_names().count(), 23);
        assert_eq!(schema.action_id("invite"), Some(0));
        assert!(schema.counts("active") && !schema.counts("blocked") && schema.expires("pending"));
        assert_eq!(schema.counting("guest"), Counting::Home);
        assert_eq!(schema.asset_kind("space").map(|k| k.types.len()), Some(4));
    }
}
