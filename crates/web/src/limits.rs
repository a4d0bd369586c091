//! Caps on how many of something one key may hold at once: connections per client address,
//! live streams per user. A slot is given back when its holder is dropped.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard};

/// At most `max` slots per key (0: no limit).
pub struct PerKey<K> {
    max: usize,
    counts: Mutex<HashMap<K, usize>>,
}

impl<K: Hash + Eq + Clone> PerKey<K> {
    pub fn new(max: usize) -> Arc<Self> {
        Arc::new(Self {
            max,
            counts: Mutex::new(HashMap::new()),
        })
    }

    fn counts(&self) -> MutexGuard<'_, HashMap<K, usize>> {
        // A panic while holding the map leaves counts that are still counts.
        self.counts.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A slot for `key`, or `None` when the key already holds `max`.
    pub fn acquire(self: &Arc<Self>, key: K) -> Option<Slot<K>> {
        let mut counts = self.counts();
        let n = counts.entry(key.clone()).or_insert(0);
        if self.max > 0 && *n >= self.max {
            return None;
        }
        *n += 1;
        Some(Slot {
            owner: self.clone(),
            key,
        })
    }

    /// How many slots `key` holds now.
    #[cfg(test)]
    fn held(&self, key: &K) -> usize {
        self.counts().get(key).copied().unwrap_or(0)
    }
}

/// One held slot; dropping it frees it.
pub struct Slot<K: Hash + Eq + Clone> {
    owner: Arc<PerKey<K>>,
    key: K,
}

impl<K: Hash + Eq + Clone> Drop for Slot<K> {
    fn drop(&mut self) {
        let mut counts = self.owner.counts();
        if let Some(n) = counts.get_mut(&self.key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                counts.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_capped_per_key_and_given_back() {
        let cap = PerKey::new(2);
        let a1 = cap.acquire("a");
        let a2 = cap.acquire("a");
        assert!(a1.is_some() && a2.is_some());
        assert!(cap.acquire("a").is_none());
        assert!(cap.acquire("b").is_some());
        drop(a1);
        assert_eq!(cap.held(&"a"), 1);
        assert!(cap.acquire("a").is_some());
        let unlimited = PerKey::new(0);
        let held: Vec<_> = (0..100).filter_map(|_| unlimited.acquire(1)).collect();
        assert_eq!(held.len(), 100);
    }
}
