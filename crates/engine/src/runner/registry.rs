//! The workflow versions a process knows, compiled, and which version new instances use.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use backroom_store::DefinitionRecord;
use sha2::{Digest, Sha256};

use crate::workflow::{Expr, Problems, StepKind, WaitSpec, Workflow, load};

/// Compiled workflow versions, by `(id, version)`.
#[derive(Default)]
pub(crate) struct Registry {
    versions: HashMap<(String, u32), Arc<Workflow>>,
    records: HashMap<(String, u32), DefinitionRecord>,
    /// For each event type, the newest active version of each workflow it triggers.
    by_trigger: HashMap<String, Vec<Arc<Workflow>>>,
    /// For each event type, the workflows whose `wait` steps correlate it, with the key
    /// expression (all known versions, since old versions finish their instances).
    by_wait: HashMap<String, Vec<(String, Expr)>>,
}

/// Reads a file a definition refers to, relative to the workflows directory.
pub(crate) fn resolver(dir: Option<PathBuf>) -> impl Fn(&str) -> Result<String, String> {
    move |relative: &str| {
        let Some(dir) = &dir else {
            return Err(format!(
                "{relative}: definitions saved through the API must define their tables inline (no workflows directory is configured)"
            ));
        };
        if relative.contains("..") || relative.starts_with('/') {
            return Err(format!("{relative}: only files inside the workflows directory can be referred to"));
        }
        std::fs::read_to_string(dir.join(relative)).map_err(|e| format!("{}: {e}", dir.join(relative).display()))
    }
}

/// Hex SHA-256 of a definition's text.
pub(crate) fn digest(source: &str) -> String {
    hex::encode(Sha256::digest(source.as_bytes()))
}

/// Compiles a stored definition.
pub(crate) fn compile(
    record: &DefinitionRecord,
    resolve: &dyn Fn(&str) -> Result<String, String>,
) -> Result<Workflow, Problems> {
    let name = format!("{}@v{}", record.workflow, record.version);
    let mut workflow = load(&name, &record.source, resolve)?;
    workflow.version = u32::try_from(record.version).unwrap_or(u32::MAX);
    Ok(workflow)
}

impl Registry {
    /// Adds the records not known yet (compiling them) and updates activations; returns the
    /// problems of records that do not compile any more.
    pub(crate) fn refresh(
        &mut self,
        records: Vec<DefinitionRecord>,
        resolve: &dyn Fn(&str) -> Result<String, String>,
    ) -> Vec<String> {
        let mut problems = Vec::new();
        for record in records {
            let key = (record.workflow.clone(), u32::try_from(record.version).unwrap_or(u32::MAX));
            if !self.versions.contains_key(&key) {
                match compile(&record, resolve) {
                    Ok(w) => {
                        self.versions.insert(key.clone(), Arc::new(w));
                    }
                    Err(p) => {
                        problems.push(format!("{}@v{}: {p}", record.workflow, record.version));
                        continue;
                    }
                }
            }
            self.records.insert(key, record);
        }
        self.index();
        problems
    }

    fn index(&mut self) {
        let mut newest: HashMap<&str, (u32, &Arc<Workflow>)> = HashMap::new();
        for ((id, version), record) in &self.records {
            if !record.active {
                continue;
            }
            let Some(w) = self.versions.get(&(id.clone(), *version)) else { continue };
            let entry = newest.entry(id.as_str()).or_insert((*version, w));
            if *version > entry.0 {
                *entry = (*version, w);
            }
        }
        let mut by_trigger: HashMap<String, Vec<Arc<Workflow>>> = HashMap::new();
        for (_, w) in newest.into_values() {
            by_trigger.entry(w.trigger.event.clone()).or_default().push(Arc::clone(w));
        }
        for list in by_trigger.values_mut() {
            list.sort_by(|a, b| a.id.cmp(&b.id));
        }
        self.by_trigger = by_trigger;
        let mut by_wait: HashMap<String, Vec<(String, Expr)>> = HashMap::new();
        for w in self.versions.values() {
            for step in &w.steps {
                if let StepKind::Wait(WaitSpec::Event { event, key: Some(key), .. }) = &step.kind {
                    let list = by_wait.entry(event.clone()).or_default();
                    if !list.iter().any(|(id, k)| *id == w.id && k.source() == key.source()) {
                        list.push((w.id.clone(), key.clone()));
                    }
                }
            }
        }
        self.by_wait = by_wait;
    }

    /// The workflows whose waits correlate an event type, with the key expression.
    pub(crate) fn correlated_by(&self, event_type: &str) -> &[(String, Expr)] {
        self.by_wait.get(event_type).map_or(&[], Vec::as_slice)
    }

    /// A version.
    pub(crate) fn get(&self, id: &str, version: u32) -> Option<Arc<Workflow>> {
        self.versions.get(&(id.to_owned(), version)).cloned()
    }

    /// The workflows an event type starts (newest active version of each).
    pub(crate) fn triggered_by(&self, event_type: &str) -> &[Arc<Workflow>] {
        self.by_trigger.get(event_type).map_or(&[], Vec::as_slice)
    }

    /// Whether any workflow is active (or has waits that correlate events).
    pub(crate) fn any_active(&self) -> bool {
        !self.by_trigger.is_empty() || !self.by_wait.is_empty()
    }
}
