//! Reloading without stopping: a new policy set is loaded and validated
//! beside the one serving, and swapped in only when it is valid. Requests in
//! flight keep the snapshot they started with.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use arc_swap::{ArcSwap, ArcSwapOption};

use super::error::{self, ServeError};
use super::log::{Notice, Notify};
use crate::Engine;
use crate::policy::PolicySet;

/// What serves at one moment: an engine and where it came from.
#[derive(Debug)]
pub struct Snapshot {
    /// The engine.
    pub engine: Engine,
    /// When it was loaded.
    pub loaded_at: jiff::Timestamp,
}

/// Loads new policy sets into the service; cheap to clone.
#[derive(Clone)]
pub struct Reloader {
    current: Arc<ArcSwap<Snapshot>>,
    policies: Arc<[PathBuf]>,
    directory: Arc<Path>,
    notify: Notify,
    /// One reload at a time: two at once would race to swap.
    lock: Arc<tokio::sync::Mutex<()>>,
    /// Why the last reload was refused; none once a reload is taken.
    refused: Arc<ArcSwapOption<String>>,
}

impl std::fmt::Debug for Reloader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reloader")
            .field("policies", &self.policies)
            .field("directory", &self.directory)
            .finish()
    }
}

/// What a reload re-reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The policy files only; the directory in memory is kept.
    Policies,
    /// The policy files and the directory file.
    Everything,
}

impl Reloader {
    /// A reloader of `policies` (and `directory`) into `current`.
    pub fn new(
        current: Arc<ArcSwap<Snapshot>>,
        policies: &[PathBuf],
        directory: &Path,
        notify: Notify,
    ) -> Self {
        Reloader {
            current,
            policies: policies.into(),
            directory: directory.into(),
            notify,
            lock: Arc::new(tokio::sync::Mutex::new(())),
            refused: Arc::new(ArcSwapOption::empty()),
        }
    }

    /// Why the last reload was refused, with its cause, while no reload
    /// has been taken since: the set serving is older than the files.
    pub fn refused(&self) -> Option<Arc<String>> {
        self.refused.load_full()
    }

    /// Loads and validates, then swaps; an invalid set (or directory) is
    /// refused and the old snapshot keeps serving. Gives the digest served
    /// afterwards, or why the reload was refused.
    pub async fn reload(&self, scope: Scope, cause: &'static str) -> Result<String, String> {
        let _one = self.lock.lock().await;
        let this = self.clone();
        let loaded = tokio::task::spawn_blocking(move || this.load(scope))
            .await
            .unwrap_or_else(|e| Err(format!("the reload failed: {e}")));
        match loaded {
            Ok(engine) => {
                let digest = engine.policies().digest().to_owned();
                self.current.store(Arc::new(Snapshot { engine, loaded_at: jiff::Timestamp::now() }));
                self.refused.store(None);
                (self.notify)(&Notice::Reloaded { cause, digest: digest.clone() });
                Ok(digest)
            }
            Err(message) => {
                self.refused
                    .store(Some(Arc::new(format!("the last reload ({cause}) was refused: {message}"))));
                (self.notify)(&Notice::ReloadRefused { cause, message: message.clone() });
                Err(message)
            }
        }
    }

    fn load(&self, scope: Scope) -> Result<Engine, String> {
        let set = PolicySet::load(&self.policies).map_err(|e| error::policy_line(&e))?.set;
        // A set for another schema reads the directory again: it is
        // validated (and its attributes typed) for the schema it is decided by.
        let same_schema = **self.current.load().engine.policies().schema() == **set.schema();
        let scope = if same_schema { scope } else { Scope::Everything };
        let engine = match scope {
            // The directory in memory and its graph, shared, not copied.
            Scope::Policies => self.current.load().engine.with_policies(set),
            Scope::Everything => {
                let directory =
                    crate::directory::load(&self.directory, set.schema()).map_err(|e| match &e {
                        crate::directory::Error::Invalid { sources, diagnostics, .. } => {
                            error::diagnostics_line(sources, diagnostics)
                        }
                        _ => error::chain(&e),
                    })?;
                Engine::new(set, directory)
            }
        };
        // Built before the swap, off the request threads, not by the first
        // request after it (at once when it is shared).
        let _ = engine.graph();
        Ok(engine)
    }

    /// Reloads the policy set when a policy file changes. Changes are
    /// gathered for a moment first: an editor's save is several events.
    /// The watcher lives as long as the returned guard.
    pub fn watch(&self) -> Result<Watch, ServeError> {
        use notify::Watcher as _;
        let (events, mut changed) = tokio::sync::mpsc::unbounded_channel::<()>();
        // The watcher gives absolute paths: a relative policy path
        // (`--policy policies/crm`) is compared absolute too.
        let policies: Arc<[PathBuf]> =
            self.policies.iter().map(|p| std::path::absolute(p).unwrap_or_else(|_| p.clone())).collect();
        let watched = policies.clone();
        let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
            if let Ok(event) = event
                && !event.kind.is_access()
                && event.paths.iter().any(|p| is_policy_path(p, &policies))
            {
                let _ = events.send(());
            }
        })
        .map_err(ServeError::Watch)?;
        for path in watched.iter() {
            // A file is watched through its folder: editors replace files
            // by renaming, which a watch on the file itself would lose.
            let (watched, mode) = if path.is_dir() {
                (path.clone(), notify::RecursiveMode::Recursive)
            } else {
                let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
                (parent.to_path_buf(), notify::RecursiveMode::NonRecursive)
            };
            watcher.watch(&watched, mode).map_err(ServeError::Watch)?;
        }
        let this = self.clone();
        tokio::spawn(async move {
            while changed.recv().await.is_some() {
                tokio::time::sleep(Duration::from_millis(200)).await;
                while changed.try_recv().is_ok() {}
                let _ = this.reload(Scope::Policies, "file change").await;
            }
        });
        Ok(Watch { _watcher: watcher })
    }
}

/// Keeps the policy files watched while it lives.
pub struct Watch {
    _watcher: notify::RecommendedWatcher,
}

impl std::fmt::Debug for Watch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Watch")
    }
}

/// Whether a changed path belongs to the policy set: one of its files, or
/// a `.policy` file in one of its folders.
fn is_policy_path(changed: &Path, policies: &[PathBuf]) -> bool {
    let name = |p: &Path| p.file_name().map(ToOwned::to_owned);
    policies.iter().any(|p| {
        if p.is_dir() {
            changed.starts_with(p) && changed.extension().is_some_and(|e| e == "policy")
        } else {
            name(changed) == name(p)
        }
    })
}
