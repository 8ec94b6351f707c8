//! Architecture rules, enforced by reading `src/`:
//! - `unsafe` is allowed only in the x86-64 SIMD kernel modules (AVX2 and AVX-512);
//! - the arrows point one way, cli -> gui -> engine: `engine` imports neither
//!   `gui`, `cli` nor egui, and `gui` does not import `cli`.

use std::path::{Path, PathBuf};

/// File names (in any folder, so that moving the kernel folder keeps them)
/// that may use `unsafe`.
const ALLOWED: [&str; 2] = ["simd_avx2.rs", "simd_avx512.rs"];

fn is_allowed(rel: &str) -> bool {
    ALLOWED
        .iter()
        .any(|name| rel.ends_with(&format!("/kernel/{name}")))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// True if `line` uses the keyword `unsafe` outside a `//` comment.
fn uses_unsafe(line: &str) -> bool {
    let code = line.split("//").next().unwrap_or("");
    code.match_indices("unsafe").any(|(i, _)| {
        let before = code[..i].chars().next_back();
        let after = code[i + "unsafe".len()..].chars().next();
        let ident = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
        !ident(before) && !ident(after)
    })
}

#[test]
fn unsafe_only_in_the_simd_module() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    assert!(files.len() > 10, "found the sources");
    let mut offenders = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(root).expect("under root");
        let rel = rel.to_string_lossy().replace('\\', "/");
        let text = std::fs::read_to_string(file).expect("read");
        for (i, line) in text.lines().enumerate() {
            if !is_allowed(&rel) && (uses_unsafe(line) || line.contains("allow(unsafe_code")) {
                offenders.push(format!("{rel}:{}: {}", i + 1, line.trim()));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "unsafe outside the kernel modules {ALLOWED:?}:\n{}",
        offenders.join("\n")
    );
    let kernel_files: Vec<_> = files
        .iter()
        .filter(|f| is_allowed(&f.to_string_lossy().replace('\\', "/")))
        .collect();
    assert_eq!(kernel_files.len(), ALLOWED.len(), "{kernel_files:?}");
    for file in kernel_files {
        let text = std::fs::read_to_string(file).expect("read");
        let lines: Vec<&str> = text.lines().collect();
        let mut blocks = 0;
        for (i, line) in lines.iter().enumerate() {
            if line.contains("unsafe {") {
                blocks += 1;
                // The SAFETY comment ends right above the block's line.
                let above = lines[..i]
                    .iter()
                    .rev()
                    .take_while(|l| l.trim_start().starts_with("//"))
                    .any(|l| l.trim_start().starts_with("// SAFETY:"));
                assert!(
                    above,
                    "{}:{}: unsafe block without a SAFETY comment",
                    file.display(),
                    i + 1
                );
            }
        }
        assert!(blocks > 0, "{}: no unsafe block found", file.display());
    }
}

#[test]
fn the_scanner_sees_unsafe() {
    assert!(uses_unsafe("    unsafe { f() }"));
    assert!(uses_unsafe("unsafe fn f() {}"));
    assert!(!uses_unsafe("// unsafe in a comment"));
    assert!(!uses_unsafe("let unsafe_code = 1;"));
    assert!(!uses_unsafe("fn not_unsafe() {}"));
}

#[test]
fn the_crate_denies_unsafe_code() {
    let manifest =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
            .expect("read Cargo.toml");
    assert!(manifest.contains("unsafe_code = \"deny\""), "lint level");
}

/// The code of `line` without a trailing `//` comment.
fn code_of(line: &str) -> &str {
    line.split("//").next().unwrap_or("")
}

/// `file:line: text` for every code line of a file under `src/<layer>/` that
/// names one of `forbidden`.
fn layer_offences(layer: &str, forbidden: &[&str]) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src").join(layer), &mut files);
    assert!(!files.is_empty(), "found src/{layer}");
    let mut offences = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(root).expect("under root");
        let rel = rel.to_string_lossy().replace('\\', "/");
        let text = std::fs::read_to_string(file).expect("read");
        for (i, line) in text.lines().enumerate() {
            let code = code_of(line);
            if forbidden.iter().any(|f| code.contains(f)) {
                offences.push(format!("{rel}:{}: {}", i + 1, line.trim()));
            }
        }
    }
    offences
}

#[test]
fn engine_imports_neither_gui_nor_cli_nor_egui() {
    let offences = layer_offences(
        "engine",
        &[
            "crate::gui",
            "crate::cli",
            "egui",
            "eframe",
            "parlab::gui",
            "parlab::cli",
        ],
    );
    assert!(
        offences.is_empty(),
        "the engine must not depend on the window or the command line:\n{}",
        offences.join("\n")
    );
}

#[test]
fn gui_does_not_import_cli() {
    let offences = layer_offences("gui", &["crate::cli", "parlab::cli"]);
    assert!(
        offences.is_empty(),
        "the gui receives a typed plan from the cli, never the other way:\n{}",
        offences.join("\n")
    );
}

#[test]
fn the_layer_scanner_sees_imports() {
    assert_eq!(
        code_of("use crate::gui::app; // gui"),
        "use crate::gui::app; "
    );
    assert_eq!(code_of("// use crate::cli::Cli;"), "");
}
