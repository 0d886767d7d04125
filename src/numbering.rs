//! Numbers for repeated values: each distinct value gets the next number the first time it is
//! seen, so that a table holds the value once and refers to it by number (titles and tools that
//! thousands of occupations share).

use std::hash::Hash;

/// The distinct values seen so far, numbered in order of first sight.
#[derive(Debug)]
pub struct Numbering<K> {
    ids: foldhash::HashMap<K, u32>,
    values: Vec<K>,
}

impl<K> Default for Numbering<K> {
    fn default() -> Self {
        Numbering {
            ids: Default::default(),
            values: Vec::new(),
        }
    }
}

impl<K: Hash + Eq + Clone> Numbering<K> {
    /// The number of `value`: its old one, or the next one when it is new.
    pub fn number(&mut self, value: K) -> u32 {
        let next = self.values.len() as u32;
        *self.ids.entry(value).or_insert_with_key(|v| {
            self.values.push(v.clone());
            next
        })
    }

    /// The distinct values, each at its number.
    pub fn into_values(self) -> Vec<K> {
        self.values
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_numbered_in_order_of_first_sight() {
        let mut n = Numbering::default();
        let got: Vec<u32> = ["b", "a", "b", "c", "a"]
            .into_iter()
            .map(|v| n.number(v))
            .collect();
        assert_eq!(got, [0, 1, 0, 2, 1]);
        assert_eq!(n.into_values(), ["b", "a", "c"]);
    }
}
