//! The layout the README describes, held by the source itself: no module of the binary or of
//! a crate reaches, through its `use`s and paths, back to itself, and the ipvsadm emulation
//! (`src/compat`) is a leaf that only the entry point uses.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The module a source file is, as a path from its crate's root: `src/lib.rs` is `[]`,
/// `src/a/mod.rs` and `src/a.rs` are `["a"]`, `src/a/b.rs` is `["a", "b"]`.
fn module_of(root: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(root).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib" | "main")) {
        parts.pop();
    }
    parts
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file before its tests (a `#[cfg(test)]` at the start of a line), without
/// its comment lines.
fn code(file: &Path) -> String {
    let text = std::fs::read_to_string(file).unwrap();
    let text = match text.find("\n#[cfg(test)]") {
        Some(at) => &text[..at],
        None => &text,
    };
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The paths a piece of code names from `crate::` or `super::`, braces expanded, relative to
/// the crate root.
fn named_paths(code: &str, here: &[String]) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    let bytes = code.as_bytes();
    for prefix in ["crate::", "super::"] {
        let mut from = 0;
        while let Some(at) = code[from..].find(prefix) {
            let start = from + at;
            from = start + prefix.len();
            let before = start.checked_sub(1).map(|i| bytes[i]);
            let boundary = !before.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':');
            if !boundary {
                continue;
            }
            // The module the prefix stands for (`super` of `a/b.rs` and of `a/mod.rs` alike is
            // the module above the file's own).
            let mut base: Vec<String> = if prefix == "crate::" {
                Vec::new()
            } else {
                let mut m = here.to_vec();
                m.pop();
                m
            };
            let mut rest = &code[from..];
            // More `super::`s go further up.
            while let Some(r) = rest.strip_prefix("super::") {
                base.pop();
                rest = r;
            }
            for path in expand(rest) {
                let mut full = base.clone();
                full.extend(path);
                found.push(full);
            }
        }
    }
    found
}

/// The paths at the start of `rest` (after `crate::`), with one level of braces expanded.
fn expand(rest: &str) -> Vec<Vec<String>> {
    let ident = |s: &str| -> (String, usize) {
        let n = s
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(s.len());
        (s[..n].to_string(), n)
    };
    let mut path = Vec::new();
    let mut s = rest;
    loop {
        if let Some(group) = s.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            return group[..end]
                .split(',')
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .map(|item| {
                    let mut p = path.clone();
                    for part in item.split("::") {
                        let (name, _) = ident(part.trim());
                        if name != "self" && !name.is_empty() {
                            p.push(name);
                        }
                    }
                    p
                })
                .collect();
        }
        let (name, n) = ident(s);
        if name.is_empty() {
            break;
        }
        path.push(name);
        s = &s[n..];
        match s.strip_prefix("::") {
            Some(r) => s = r,
            None => break,
        }
    }
    vec![path]
}

/// Each module's dependencies on the other modules of its crate.
fn graph(root: &Path) -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let mut files = Vec::new();
    sources(root, &mut files);
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| module_of(root, f)).collect();
    let mut graph = BTreeMap::new();
    for file in &files {
        let here = module_of(root, file);
        let mut deps = BTreeSet::new();
        for mut path in named_paths(&code(file), &here) {
            // The longest module the path names.
            while !path.is_empty() && !modules.contains(&path) {
                path.pop();
            }
            if path != here && !path.is_empty() {
                deps.insert(path);
            }
        }
        graph.insert(here, deps);
    }
    graph
}

fn cycle(graph: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>) -> Option<Vec<Vec<String>>> {
    fn visit(
        node: &Vec<String>,
        graph: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        stack: &mut Vec<Vec<String>>,
        done: &mut BTreeSet<Vec<String>>,
    ) -> Option<Vec<Vec<String>>> {
        if let Some(at) = stack.iter().position(|n| n == node) {
            let mut found = stack[at..].to_vec();
            found.push(node.clone());
            return Some(found);
        }
        if done.contains(node) {
            return None;
        }
        stack.push(node.clone());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, graph, stack, done) {
                return Some(c);
            }
        }
        stack.pop();
        done.insert(node.clone());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

fn roots() -> Vec<PathBuf> {
    let top = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut roots = vec![top.join("src")];
    for entry in std::fs::read_dir(top.join("crates")).unwrap() {
        roots.push(entry.unwrap().path().join("src"));
    }
    roots
}

#[test]
fn no_module_reaches_back_to_itself() {
    for root in roots() {
        let graph = graph(&root);
        assert!(graph.len() >= 4, "{}: {graph:?}", root.display());
        if let Some(c) = cycle(&graph) {
            let names: Vec<String> = c.iter().map(|m| m.join("::")).collect();
            panic!("{}: {}", root.display(), names.join(" → "));
        }
    }
}

#[test]
fn only_the_entry_point_uses_the_emulation() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let users: Vec<String> = graph(&root)
        .into_iter()
        .filter(|(module, deps)| {
            module.first().map(String::as_str) != Some("compat")
                && deps.iter().any(|d| d.first().map(String::as_str) == Some("compat"))
        })
        .map(|(module, _)| module.join("::"))
        .collect();
    // The crate root names it without `crate::`, as it declares it; nothing else may.
    assert!(users.is_empty(), "{users:?} use compat");
}

/// The checker finds what it looks for.
#[test]
fn the_checker_sees_paths_and_cycles() {
    let here = vec!["a".to_string(), "b".to_string()];
    let paths = named_paths(
        "use super::{c, d::E};\nuse crate::x::{self, Y};\nlet z = crate::q::r();",
        &here,
    );
    let s = |p: &[&str]| p.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert_eq!(
        paths,
        [
            s(&["x"]),
            s(&["x", "Y"]),
            s(&["q", "r"]),
            s(&["a", "c"]),
            s(&["a", "d", "E"]),
        ]
    );
    let mut g = BTreeMap::new();
    g.insert(s(&["a"]), BTreeSet::from([s(&["b"])]));
    g.insert(s(&["b"]), BTreeSet::from([s(&["a"])]));
    assert!(cycle(&g).is_some());
    g.insert(s(&["b"]), BTreeSet::new());
    assert!(cycle(&g).is_none());
}

/// `unsafe` stays where no well-kept crate covers a call (the C library's resolver for
/// ipvsadm's exact lookups, `getauxval`, what nix and socket2 lack), each block saying why.
#[test]
fn unsafe_blocks_are_few_and_each_says_why() {
    let mut blocks = Vec::new();
    for root in roots() {
        let mut files = Vec::new();
        sources(&root, &mut files);
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            let text = text.split("\n#[cfg(test)]").next().unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            for (i, line) in lines.iter().enumerate() {
                let code = line.split("//").next().unwrap_or_default();
                if code.contains("unsafe {") || code.contains("unsafe fn") {
                    // The comment above the block (or above the statement it is in).
                    let explained = lines[i.saturating_sub(4)..i]
                        .iter()
                        .any(|l| l.trim_start().starts_with("// SAFETY:"));
                    blocks.push((format!("{}:{}", file.display(), i + 1), explained));
                }
            }
        }
    }
    let unexplained: Vec<&String> = blocks.iter().filter(|(_, ok)| !ok).map(|(at, _)| at).collect();
    assert!(unexplained.is_empty(), "unsafe without a SAFETY comment: {unexplained:?}");
    assert!(
        (1..=8).contains(&blocks.len()),
        "{} unsafe blocks: {blocks:?}",
        blocks.len()
    );
}
