//! The layers keep to their places: a test that reads the sources and fails,
//! naming the file and line, when a lower layer reaches up (the network,
//! storage, sync and domain code must never draw on a terminal) or when two
//! top-level modules import each other.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Modules that must not know about terminals or the UI.
const NO_UI: &[&str] = &["text", "api", "domain", "store", "sync", "server"];
/// What those must not name.
const UI: &[&str] = &["ratatui", "crossterm", "crate::tui"];

/// Every `.rs` file under `dir`.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("read the source folder") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The top-level module a source file belongs to (`src/sync/engine.rs` →
/// `sync`, `src/text.rs` → `text`).
fn module_of(src: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(src).expect("under src");
    let first = relative
        .components()
        .next()
        .expect("a component")
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_owned()
}

/// The lines of `file` that are code, with their numbers: comments left out.
fn code_lines(file: &Path) -> Vec<(usize, String)> {
    let text = std::fs::read_to_string(file).expect("read a source file");
    text.lines()
        .enumerate()
        .map(|(i, line)| (i + 1, line.trim().to_owned()))
        .filter(|(_, line)| !line.starts_with("//"))
        .collect()
}

#[test]
fn network_storage_sync_and_domain_code_never_reach_the_terminal() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = Vec::new();
    for file in sources(&src) {
        if !NO_UI.contains(&module_of(&src, &file).as_str()) {
            continue;
        }
        for (number, line) in code_lines(&file) {
            if let Some(ui) = UI.iter().find(|ui| line.contains(*ui)) {
                found.push(format!("{}:{number}: names {ui}", file.display()));
            }
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn no_two_top_level_modules_import_each_other() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    // module → (module it names → the first place it does).
    let mut uses: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let modules: BTreeSet<String> = sources(&src)
        .iter()
        .map(|f| module_of(&src, f))
        .filter(|m| !matches!(m.as_str(), "lib" | "main"))
        .collect();
    for file in sources(&src) {
        let from = module_of(&src, &file);
        for (number, line) in code_lines(&file) {
            for to in &modules {
                if *to != from && line.contains(&format!("crate::{to}")) {
                    uses.entry(from.clone())
                        .or_default()
                        .entry(to.clone())
                        .or_insert_with(|| format!("{}:{number}", file.display()));
                }
            }
        }
    }
    let mut cycles = Vec::new();
    for (a, targets) in &uses {
        for (b, at) in targets {
            if a < b
                && let Some(back) = uses.get(b).and_then(|t| t.get(a))
            {
                cycles.push(format!("{a} and {b} import each other: {at} and {back}"));
            }
        }
    }
    assert!(cycles.is_empty(), "{}", cycles.join("\n"));
}
