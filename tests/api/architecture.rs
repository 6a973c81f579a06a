//! The shape of the code: no module of `persistence` or of the API's
//! routes depends on another that depends back on it (directly or through
//! others). Shared rows and lookups live in the module that owns them;
//! sagas that span aggregates (`persistence::departures`) sit above them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The sibling modules each file of `dir` refers to: `use crate::x…`,
/// `use crate::{x, …}` and `crate::x::` paths (for persistence), or
/// `super::x` (for routes).
fn dependencies(dir: &str, prefix: &str) -> BTreeMap<String, BTreeSet<String>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let files: Vec<_> = std::fs::read_dir(&root)
        .expect("source folder")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .collect();
    let modules: BTreeSet<String> = files
        .iter()
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .filter(|m| m != "lib" && m != "mod")
        .collect();
    let mut graph = BTreeMap::new();
    for file in &files {
        let name = file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !modules.contains(&name) {
            continue;
        }
        let text = std::fs::read_to_string(file).expect("read");
        // Only the code before the unit tests counts.
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        let mut uses = BTreeSet::new();
        for (at, _) in code.match_indices(prefix) {
            let rest = &code[at + prefix.len()..];
            let names: Vec<&str> = if let Some(group) = rest.strip_prefix('{') {
                group
                    .split('}')
                    .next()
                    .unwrap_or_default()
                    .split(',')
                    .map(|n| n.trim().split("::").next().unwrap_or_default().trim())
                    .collect()
            } else {
                vec![rest
                    .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .next()
                    .unwrap_or_default()]
            };
            for n in names {
                if modules.contains(n) && n != name {
                    uses.insert(n.to_owned());
                }
            }
        }
        graph.insert(name, uses);
    }
    graph
}

/// A cycle through `start`, if any (depth-first).
fn cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        graph: &BTreeMap<String, BTreeSet<String>>,
        node: &str,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == node) {
            let mut found = path[at..].to_vec();
            found.push(node.to_owned());
            return Some(found);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(found) = visit(graph, next, path, done) {
                return Some(found);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|start| visit(graph, start, &mut Vec::new(), &mut done))
}

#[test]
fn persistence_modules_form_no_cycle() {
    let graph = dependencies("persistence/src", "crate::");
    assert!(graph.len() > 15, "the scan found the modules: {graph:?}");
    assert!(
        graph.values().any(|uses| !uses.is_empty()),
        "the scan sees dependencies"
    );
    assert_eq!(cycle(&graph), None, "{graph:#?}");
}

#[test]
fn route_modules_do_not_import_each_other() {
    let graph = dependencies("api/src/routes", "super::");
    assert!(graph.len() > 10, "the scan found the modules: {graph:?}");
    let crossing: Vec<(&String, &BTreeSet<String>)> =
        graph.iter().filter(|(_, uses)| !uses.is_empty()).collect();
    assert!(crossing.is_empty(), "{crossing:#?}");
}

#[test]
fn the_cycle_finder_finds_cycles() {
    let mut graph = BTreeMap::new();
    graph.insert("a".to_owned(), BTreeSet::from(["b".to_owned()]));
    graph.insert("b".to_owned(), BTreeSet::from(["a".to_owned()]));
    assert_eq!(
        cycle(&graph),
        Some(vec!["a".to_owned(), "b".to_owned(), "a".to_owned()])
    );
    graph.insert("b".to_owned(), BTreeSet::new());
    assert_eq!(cycle(&graph), None);
}

/// Every schema in the OpenAPI document is named after its Rust type alone,
/// so two types of one name in different modules would silently replace
/// each other there: each name is declared once in the API crate.
#[test]
fn schema_names_are_unique() {
    fn sources(dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).expect("source folder").flatten() {
            let path = entry.path();
            if path.is_dir() {
                sources(&path, out);
            } else if path.extension().is_some_and(|x| x == "rs") {
                out.push(std::fs::read_to_string(&path).expect("read"));
            }
        }
    }
    let mut files = Vec::new();
    sources(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("api/src"),
        &mut files,
    );
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for text in &files {
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let line = line.trim();
            let macro_name = ["mirror_enum!(", "page_type!("]
                .iter()
                .find_map(|m| line.strip_prefix(m));
            let name = if let Some(rest) = macro_name {
                rest.split(|c: char| !c.is_alphanumeric()).next()
            } else if line.starts_with("#[derive(") && line.contains("ToSchema") {
                lines[i + 1..]
                    .iter()
                    .map(|l| l.trim())
                    .find(|l| l.starts_with("pub struct ") || l.starts_with("pub enum "))
                    .and_then(|l| l.split_whitespace().nth(2))
                    .map(|n| n.trim_end_matches(|c: char| !c.is_alphanumeric()))
            } else {
                None
            };
            if let Some(name) = name.filter(|n| !n.is_empty() && *n != "$name" && *n != "$api") {
                *seen.entry(name.to_owned()).or_default() += 1;
            }
        }
    }
    assert!(
        seen.len() > 50,
        "the scan finds the schema types ({})",
        seen.len()
    );
    let twice: Vec<&String> = seen
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(k, _)| k)
        .collect();
    assert!(
        twice.is_empty(),
        "schema names declared more than once: {twice:?}"
    );
}
