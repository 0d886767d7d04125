//! The titles-and-tools table: every occupation's alternate titles and tools as the knowledge
//! documents list them, interned, with an inverted index from each word to the names that hold
//! it. `skillmap index` writes it beside each commit (`names-<token>.bin`); occupation ranking
//! reads it once per index generation and then finds the occupations whose titles or tools name a
//! query without reading stored documents.

use std::collections::BTreeMap;

use foldhash::{HashMap, HashSet};
use serde::{Deserialize, Serialize};

use crate::domain::framework::Knowledge;
use crate::index::analyzer;
use crate::index::sidecar::Sidecar;
use crate::numbering::Numbering;

/// The file: `names-<token>.bin`.
pub const FILE: Sidecar = Sidecar {
    prefix: "names-",
    magic: b"SKMNAM01",
    what: "the titles-and-tools table",
};

/// Writes the table of the index's newest commit beside it (when a reader sees that commit) and
/// removes those of other commits; for runs that write no mapper tables, which write it with
/// theirs otherwise ([`crate::map::prebuilt::write`]).
pub fn write(
    index: &tantivy::Index,
    fields: &crate::index::schema::Fields,
    dir: &std::path::Path,
) -> crate::error::Result<()> {
    let Some((searcher, token)) = crate::index::sidecar::newest(index)? else {
        return Ok(());
    };
    let knowledge = crate::index::knowledge::all(&searcher, fields)?;
    FILE.write(dir, &token, &Names::build(&knowledge))
}

/// A tool without a kind.
const NO_KIND: u32 = u32::MAX;

/// Every occupation's titles and tools, and which names hold each word. Flat: strings in one
/// blob, lists as offsets into one array, both stored as raw bytes, so that reading the table of
/// a large collection is a few copies rather than millions of allocations.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Names {
    /// The occupations with knowledge, by code; their numbers index `titles` and `tools`.
    socs: Strings,
    /// Every distinct title, tool name and tool kind.
    names: Strings,
    /// Each word (a stemmed query term) of any name, sorted.
    words: Strings,
    /// Per word: the names that hold it (ascending).
    holders: Lists,
    /// Per occupation: its titles, in the order its merged knowledge lists them.
    titles: Lists,
    /// Per occupation: its tools as name, kind (or [`NO_KIND`]) pairs, in its merged knowledge's
    /// order.
    tools: Lists,
    /// Per name: the occupations that have it as a title, a tool or a tool's kind (ascending).
    users: Lists,
}

/// Strings in one blob: string `i` is `text[ends[i - 1]..ends[i]]`.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Strings {
    text: String,
    ends: U32s,
}

impl Strings {
    fn push(&mut self, s: &str) {
        self.text.push_str(s);
        self.ends.0.push(self.text.len() as u32);
    }

    fn len(&self) -> usize {
        self.ends.0.len()
    }

    fn get(&self, i: usize) -> &str {
        let start = if i == 0 {
            0
        } else {
            self.ends.0[i - 1] as usize
        };
        &self.text[start..self.ends.0[i] as usize]
    }

    /// Do the offsets rise within the text, on character boundaries?
    fn sound(&self) -> bool {
        let mut start = 0;
        self.ends.0.iter().all(|&e| {
            let ok = start <= e as usize
                && self.text.is_char_boundary(e as usize)
                && e as usize <= self.text.len();
            start = e as usize;
            ok
        })
    }
}

/// Lists of numbers in one array: list `i` is `items[ends[i - 1]..ends[i]]`.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Lists {
    items: U32s,
    ends: U32s,
}

impl Lists {
    fn from_lists<'a>(lists: impl IntoIterator<Item = &'a [u32]>) -> Lists {
        let mut out = Lists::default();
        for l in lists {
            out.items.0.extend_from_slice(l);
            out.ends.0.push(out.items.0.len() as u32);
        }
        out
    }

    fn len(&self) -> usize {
        self.ends.0.len()
    }

    fn get(&self, i: usize) -> &[u32] {
        let start = if i == 0 {
            0
        } else {
            self.ends.0[i - 1] as usize
        };
        &self.items.0[start..self.ends.0[i] as usize]
    }

    /// Do the offsets rise within the items, and is every item below `bound` (or `NO_KIND`
    /// where `kinds` allows it)?
    fn sound(&self, bound: u32, kinds: bool) -> bool {
        let mut start = 0;
        let ends_ok = self.ends.0.iter().all(|&e| {
            let ok = start <= e && e as usize <= self.items.0.len();
            start = e;
            ok
        });
        ends_ok
            && self
                .items
                .0
                .iter()
                .all(|&x| x < bound || (kinds && x == NO_KIND))
    }
}

/// Numbers stored as little-endian bytes (one copy to read, where postcard's numbers would be
/// decoded one by one).
#[derive(Debug, Default)]
struct U32s(Vec<u32>);

impl Serialize for U32s {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let bytes: Vec<u8> = self.0.iter().flat_map(|x| x.to_le_bytes()).collect();
        s.serialize_bytes(&bytes)
    }
}

impl<'de> Deserialize<'de> for U32s {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<U32s, D::Error> {
        struct Visit;
        impl serde::de::Visitor<'_> for Visit {
            type Value = U32s;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("bytes, four per number")
            }
            fn visit_bytes<E: serde::de::Error>(self, b: &[u8]) -> Result<U32s, E> {
                if !b.len().is_multiple_of(4) {
                    return Err(E::custom("a length that is not a multiple of four"));
                }
                Ok(U32s(
                    b.chunks_exact(4)
                        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                        .collect(),
                ))
            }
        }
        d.deserialize_bytes(Visit)
    }
}

/// An occupation whose titles or tools name a query.
#[derive(Debug, Clone, PartialEq)]
pub struct Named<'a> {
    pub soc: &'a str,
    /// Its titles that hold every word, in its knowledge's order.
    pub titles: Vec<&'a str>,
    /// Its tools whose name or kind holds every word, in its knowledge's order (names).
    pub tools: Vec<&'a str>,
    /// How many of its tools are of the kinds of those tools (0 when they have no kind).
    pub kin: usize,
}

impl Names {
    /// The table of `knowledge` (as [`super::knowledge::all`] merges it).
    pub fn build<'a>(knowledge: &'a BTreeMap<String, Knowledge>) -> Names {
        let mut numbering: Numbering<&'a str> = Numbering::default();
        let mut intern = |name: &'a str| numbering.number(name);
        let mut socs = Strings::default();
        let mut titles = Lists::default();
        let mut tools = Lists::default();
        for (soc, k) in knowledge {
            socs.push(soc);
            titles.items.0.extend(k.titles.iter().map(|t| intern(t)));
            titles.ends.0.push(titles.items.0.len() as u32);
            for t in &k.tools {
                let kind = if t.category.is_empty() {
                    NO_KIND
                } else {
                    intern(&t.category)
                };
                let name = intern(&t.name);
                tools.items.0.extend([name, kind]);
            }
            tools.ends.0.push(tools.items.0.len() as u32);
        }
        let names = numbering.into_values();
        let mut words: HashMap<String, Vec<u32>> = HashMap::default();
        for (id, name) in names.iter().enumerate() {
            let mut terms = analyzer::query_terms(name);
            terms.sort();
            terms.dedup();
            for t in terms {
                words.entry(t).or_default().push(id as u32);
            }
        }
        let mut words: Vec<(String, Vec<u32>)> = words.into_iter().collect();
        words.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let mut word_strings = Strings::default();
        for (w, _) in &words {
            word_strings.push(w);
        }
        let mut name_strings = Strings::default();
        for n in &names {
            name_strings.push(n);
        }
        let users = users(names.len(), &titles, &tools);
        Names {
            socs,
            names: name_strings,
            words: word_strings,
            holders: Lists::from_lists(words.iter().map(|w| &w.1[..])),
            titles,
            tools,
            users,
        }
    }

    /// The table written for the commit with `token`, when its file is there and sound.
    pub fn read(dir: &std::path::Path, token: &str) -> Option<Names> {
        let table: Names = FILE.read(dir, token)?;
        // A file that decodes yet does not hold together is not used.
        let (n, o) = (table.names.len() as u32, table.socs.len());
        let sound = table.socs.sound()
            && table.names.sound()
            && table.words.sound()
            && table.holders.len() == table.words.len()
            && table.holders.sound(n, false)
            && table.titles.len() == o
            && table.titles.sound(n, false)
            && table.tools.len() == o
            && table.tools.sound(n, true)
            && (0..o).all(|i| {
                // Pairs of a name (always one) and a kind (or none).
                let pairs = table.tools.get(i);
                pairs.len().is_multiple_of(2) && pairs.chunks_exact(2).all(|p| p[0] < n)
            })
            && table.users.len() == n as usize
            && table.users.sound(o as u32, false);
        sound.then_some(table)
    }

    /// How many occupations the table holds.
    pub fn len(&self) -> usize {
        self.socs.len()
    }

    /// Whether the table holds no occupation.
    pub fn is_empty(&self) -> bool {
        self.socs.len() == 0
    }

    /// The names that hold `word`, ascending.
    fn holders_of(&self, word: &str) -> Option<&[u32]> {
        let (mut lo, mut hi) = (0, self.words.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            match self.words.get(mid).cmp(word) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(self.holders.get(mid)),
            }
        }
        None
    }

    /// The occupations whose titles or tools hold every one of `words` (stemmed query terms),
    /// by code: a title holds them when its terms include them all, a tool when its name's or
    /// its kind's terms do.
    pub fn named(&self, words: &[String]) -> Vec<Named<'_>> {
        let mut held: Option<Vec<u32>> = None;
        for w in words {
            let Some(list) = self.holders_of(w) else {
                return Vec::new();
            };
            held = Some(match held {
                None => list.to_vec(),
                Some(h) => h
                    .into_iter()
                    .filter(|x| list.binary_search(x).is_ok())
                    .collect(),
            });
        }
        let held: HashSet<u32> = held.unwrap_or_default().into_iter().collect();
        if held.is_empty() {
            return Vec::new();
        }
        let mut occupations: Vec<u32> = held
            .iter()
            .flat_map(|&n| self.users.get(n as usize).iter().copied())
            .collect();
        occupations.sort_unstable();
        occupations.dedup();
        let name = |id: u32| self.names.get(id as usize);
        occupations
            .into_iter()
            .filter_map(|o| {
                let o = o as usize;
                let titles: Vec<&str> = self
                    .titles
                    .get(o)
                    .iter()
                    .filter(|t| held.contains(t))
                    .map(|&t| name(t))
                    .collect();
                let all_tools = self.tools.get(o).chunks_exact(2);
                let tools: Vec<&[u32]> = all_tools
                    .clone()
                    .filter(|t| held.contains(&t[0]) || held.contains(&t[1]))
                    .collect();
                if titles.is_empty() && tools.is_empty() {
                    return None;
                }
                let kinds: HashSet<u32> = tools
                    .iter()
                    .map(|t| t[1])
                    .filter(|&k| k != NO_KIND)
                    .collect();
                let kin = if kinds.is_empty() {
                    0
                } else {
                    all_tools.filter(|t| kinds.contains(&t[1])).count()
                };
                Some(Named {
                    soc: self.socs.get(o),
                    titles,
                    tools: tools.iter().map(|t| name(t[0])).collect(),
                    kin,
                })
            })
            .collect()
    }
}

/// Per name: the occupations that have it as a title, a tool or a tool's kind (ascending), by a
/// counting pass and a filling pass.
fn users(names: usize, titles: &Lists, tools: &Lists) -> Lists {
    let uses = |o: usize| {
        titles
            .get(o)
            .iter()
            .copied()
            .chain(tools.get(o).iter().copied().filter(|&k| k != NO_KIND))
    };
    // An occupation names a name once in its list however often it uses it.
    let mut last = vec![u32::MAX; names];
    let mut counts = vec![0u32; names];
    for o in 0..titles.len() {
        for n in uses(o) {
            if last[n as usize] != o as u32 {
                last[n as usize] = o as u32;
                counts[n as usize] += 1;
            }
        }
    }
    let mut ends = Vec::with_capacity(names);
    let mut total = 0;
    for c in &counts {
        total += c;
        ends.push(total);
    }
    let mut next: Vec<u32> = ends.iter().zip(&counts).map(|(e, c)| e - c).collect();
    let mut items = vec![0u32; total as usize];
    last.fill(u32::MAX);
    for o in 0..titles.len() {
        for n in uses(o) {
            if last[n as usize] != o as u32 {
                last[n as usize] = o as u32;
                items[next[n as usize] as usize] = o as u32;
                next[n as usize] += 1;
            }
        }
    }
    Lists {
        items: U32s(items),
        ends: U32s(ends),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::framework::Tool;

    fn tool(name: &str, kind: &str) -> Tool {
        Tool {
            name: name.into(),
            category: kind.into(),
        }
    }

    fn knowledge() -> BTreeMap<String, Knowledge> {
        let mut k = BTreeMap::new();
        k.insert(
            "11-1011.00".to_string(),
            Knowledge {
                titles: vec!["Chief Executive Officer".into(), "CEO".into()],
                tools: vec![
                    tool("Microsoft Excel", "Spreadsheet software"),
                    tool("SAP", "Enterprise resource planning ERP software"),
                    tool("Desk", ""),
                ],
            },
        );
        k.insert(
            "15-1252.00".to_string(),
            Knowledge {
                titles: vec!["Software Developer".into(), "Python Developer".into()],
                tools: vec![
                    tool(
                        "Python",
                        "Object or component oriented development software",
                    ),
                    tool("Java", "Object or component oriented development software"),
                    tool("C++", "Object or component oriented development software"),
                    tool("Microsoft Excel", "Spreadsheet software"),
                ],
            },
        );
        k
    }

    fn named(table: &Names, query: &str) -> Vec<(String, Vec<String>, Vec<String>, usize)> {
        let mut words = analyzer::query_terms(query);
        words.sort();
        words.dedup();
        table
            .named(&words)
            .into_iter()
            .map(|n| {
                let own = |v: Vec<&str>| v.into_iter().map(str::to_string).collect();
                (n.soc.to_string(), own(n.titles), own(n.tools), n.kin)
            })
            .collect()
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn titles_tools_and_kinds_that_hold_every_word_name_their_occupations() {
        let table = Names::build(&knowledge());
        assert_eq!(table.len(), 2);
        // A title and a tool; the tool's kin are its three development tools.
        assert_eq!(
            named(&table, "Python"),
            vec![(
                "15-1252.00".into(),
                strings(&["Python Developer"]),
                strings(&["Python"]),
                3
            )]
        );
        // A tool of both, by its name.
        assert_eq!(
            named(&table, "excel"),
            vec![
                (
                    "11-1011.00".into(),
                    vec![],
                    strings(&["Microsoft Excel"]),
                    1
                ),
                (
                    "15-1252.00".into(),
                    vec![],
                    strings(&["Microsoft Excel"]),
                    1
                ),
            ]
        );
        // Kinds hold words too (stemmed: "software" in every kind but the desk's).
        assert_eq!(
            named(&table, "software"),
            vec![
                (
                    "11-1011.00".into(),
                    vec![],
                    strings(&["Microsoft Excel", "SAP"]),
                    2
                ),
                (
                    "15-1252.00".into(),
                    strings(&["Software Developer"]),
                    strings(&["Python", "Java", "C++", "Microsoft Excel"]),
                    4
                ),
            ]
        );
        // Words spread over two names name nothing; an unknown word names nothing.
        assert_eq!(named(&table, "chief developer"), vec![]);
        assert_eq!(named(&table, "python welder"), vec![]);
        assert_eq!(
            named(&table, "desk"),
            vec![("11-1011.00".into(), vec![], strings(&["Desk"]), 0)]
        );
    }

    #[test]
    fn the_table_reads_back_as_written_and_an_unsound_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let table = Names::build(&knowledge());
        FILE.write(dir.path(), "t", &table).unwrap();
        let back = Names::read(dir.path(), "t").expect("a whole file reads");
        for q in ["python", "excel", "software", "ceo", "microsoft excel"] {
            assert_eq!(named(&back, q), named(&table, q), "{q}");
        }
        assert!(!named(&back, "ceo").is_empty());
        // Ids out of range (a file that decodes but does not hold together) are refused: a
        // title, a tool's name without a name, an offset past the end.
        let mut broken = Names::build(&knowledge());
        broken.titles.items.0[0] = 999;
        FILE.write(dir.path(), "u", &broken).unwrap();
        assert!(Names::read(dir.path(), "u").is_none());
        let mut broken = Names::build(&knowledge());
        broken.tools.items.0[0] = NO_KIND;
        FILE.write(dir.path(), "u", &broken).unwrap();
        assert!(Names::read(dir.path(), "u").is_none());
        let mut broken = Names::build(&knowledge());
        let last = broken.users.ends.0.len() - 1;
        broken.users.ends.0[last] += 1;
        FILE.write(dir.path(), "u", &broken).unwrap();
        assert!(Names::read(dir.path(), "u").is_none());
        // Writing one commit's table removes the others'.
        assert!(!FILE.path(dir.path(), "t").exists());
        assert!(Names::read(dir.path(), "missing").is_none());
    }
}
