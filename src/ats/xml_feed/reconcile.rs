//! Reconciliation of one poll against the previous one: which references are new, changed,
//! unchanged, and which left the feed. Pure: the caller streams jobs in and acts on the answer.

use std::collections::{HashMap, HashSet};

use super::job::ContentHash;

/// How one job of the current feed relates to the previous snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Not in the previous snapshot: create a project.
    New,
    /// In it with another hash: update the project.
    Changed,
    /// Same hash: no suite call.
    Unchanged,
    /// The reference already appeared earlier in this feed: ignore this occurrence.
    Duplicate,
}

/// Classifies jobs one at a time. Memory: the previous snapshot (borrowed) plus the set of
/// references seen in this feed.
#[derive(Debug)]
pub struct Reconciler<'a> {
    previous: &'a HashMap<String, ContentHash>,
    seen_previous: HashSet<&'a str>,
    seen_new: HashSet<String>,
}

impl<'a> Reconciler<'a> {
    pub fn new(previous: &'a HashMap<String, ContentHash>) -> Self {
        Self {
            previous,
            seen_previous: HashSet::new(),
            seen_new: HashSet::new(),
        }
    }

    pub fn classify(&mut self, reference: &str, hash: ContentHash) -> Change {
        match self.previous.get_key_value(reference) {
            Some((key, old)) => {
                if !self.seen_previous.insert(key.as_str()) {
                    Change::Duplicate
                } else if *old == hash {
                    Change::Unchanged
                } else {
                    Change::Changed
                }
            }
            None if self.seen_new.insert(reference.to_owned()) => Change::New,
            None => Change::Duplicate,
        }
    }

    /// A job that is still in the feed but could not be read (a per-job error that names its
    /// reference): it must be neither updated nor archived.
    pub fn keep(&mut self, reference: &str) {
        if let Some((key, _)) = self.previous.get_key_value(reference) {
            self.seen_previous.insert(key.as_str());
        }
    }

    /// References of the previous snapshot absent from this feed (to archive), sorted.
    pub fn removed(&self) -> Vec<String> {
        let mut removed: Vec<String> = self
            .previous
            .keys()
            .filter(|reference| !self.seen_previous.contains(reference.as_str()))
            .cloned()
            .collect();
        removed.sort_unstable();
        removed
    }
}

/// The outcome of a whole poll.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reconciliation {
    pub new: Vec<String>,
    pub changed: Vec<String>,
    pub unchanged: Vec<String>,
    pub duplicates: Vec<String>,
    pub removed: Vec<String>,
}

/// Classifies a whole feed given as `(reference, hash)` pairs.
pub fn reconcile(
    previous: &HashMap<String, ContentHash>,
    current: impl IntoIterator<Item = (String, ContentHash)>,
) -> Reconciliation {
    let mut reconciler = Reconciler::new(previous);
    let mut outcome = Reconciliation::default();
    for (reference, hash) in current {
        let bucket = match reconciler.classify(&reference, hash) {
            Change::New => &mut outcome.new,
            Change::Changed => &mut outcome.changed,
            Change::Unchanged => &mut outcome.unchanged,
            Change::Duplicate => &mut outcome.duplicates,
        };
        bucket.push(reference);
    }
    outcome.removed = reconciler.removed();
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(n: u8) -> ContentHash {
        ContentHash([n; 32])
    }

    #[test]
    fn classifies_new_changed_unchanged_duplicate_and_removed() {
        let previous: HashMap<String, ContentHash> = [("a", 1), ("b", 2), ("c", 3)]
            .map(|(r, h)| (r.to_owned(), hash(h)))
            .into();
        let current = [("a", 1), ("b", 9), ("d", 4), ("d", 4), ("a", 1)]
            .map(|(r, h)| (r.to_owned(), hash(h)));
        let outcome = reconcile(&previous, current);
        assert_eq!(outcome.unchanged, ["a"]);
        assert_eq!(outcome.changed, ["b"]);
        assert_eq!(outcome.new, ["d"]);
        assert_eq!(outcome.duplicates, ["d", "a"]);
        assert_eq!(outcome.removed, ["c"]);
    }

    #[test]
    fn a_kept_reference_is_not_removed() {
        let previous: HashMap<String, ContentHash> = [("a".to_owned(), hash(1))].into();
        let mut reconciler = Reconciler::new(&previous);
        reconciler.keep("a");
        assert!(reconciler.removed().is_empty());
    }
}
