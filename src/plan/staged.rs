//! An engine and the mutations staged on it, applied only when a decision
//! needs the directory they leave. The changes of a walk's last item, and
//! those of a gateway write's only change, are then never applied to a
//! copy of the whole directory that nobody reads: applying them to a
//! directory another engine shares copies it (see [`Engine::mutate`]).

use crate::Engine;
use crate::directory::mutation::Mutation;

/// An engine and the mutations not yet applied to it.
pub(crate) struct Staged {
    engine: Engine,
    staged: Vec<Mutation>,
}

impl Staged {
    /// `engine`, nothing staged.
    pub(crate) fn new(engine: Engine) -> Staged {
        Staged { engine, staged: Vec::new() }
    }

    /// Stages `mutations` after those staged already.
    pub(crate) fn stage(&mut self, mutations: &[Mutation]) {
        self.staged.extend_from_slice(mutations);
    }

    /// The engine after every mutation staged. The first application to a
    /// shared directory copies it; later ones change that copy in place.
    pub(crate) fn engine(&mut self) -> &Engine {
        if !self.staged.is_empty() {
            let staged = std::mem::take(&mut self.staged);
            self.engine.mutate(&staged);
        }
        &self.engine
    }

    /// The engine after every mutation staged, given up.
    pub(crate) fn into_engine(mut self) -> Engine {
        self.engine();
        self.engine
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::PolicySet;

    fn engine() -> Engine {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let policies = PolicySet::load(&[root.join("policies/erp")]).unwrap().set;
        let path = root.join("examples/erp.yaml");
        Engine::new(policies, crate::directory::load(&path, &crate::policy::declare::standard()).unwrap())
    }

    /// A change of the first account's status, its user and environment.
    fn block(engine: &Engine) -> (Mutation, String, String) {
        let a = &engine.directory().accounts()[0];
        let (user, env) = (a.user.to_string(), a.env.to_string());
        let status = if a.status == "blocked" { "active" } else { "blocked" };
        (Mutation::SetStatus { user: user.clone(), env: env.clone(), status: status.into() }, user, env)
    }

    fn status(engine: &Engine, user: &str, env: &str) -> String {
        engine.directory().account(user, env).unwrap().status.to_string()
    }

    #[test]
    fn staged_mutations_are_applied_when_the_engine_is_asked_for() {
        let start = engine();
        let (mutation, user, env) = block(&start);
        let before = status(&start, &user, &env);
        let mut staged = Staged::new(start.shared());
        staged.stage(std::slice::from_ref(&mutation));
        let after = status(staged.engine(), &user, &env);
        assert_ne!(after, before);
        // The directory was shared: the change went to a copy.
        assert_eq!(status(&start, &user, &env), before);
        assert_eq!(status(&staged.into_engine(), &user, &env), after);
    }

    #[test]
    fn a_directory_nobody_shares_is_changed_where_it_lies_and_a_shared_one_is_copied() {
        let mut alone = engine();
        let (mutation, ..) = block(&alone);
        let list = alone.directory().accounts().as_ptr();
        alone.mutate(std::slice::from_ref(&mutation));
        assert!(std::ptr::eq(list, alone.directory().accounts().as_ptr()));
        let other = alone.shared();
        alone.mutate(std::slice::from_ref(&mutation));
        assert!(!std::ptr::eq(other.directory().accounts().as_ptr(), alone.directory().accounts().as_ptr()));
    }
}
