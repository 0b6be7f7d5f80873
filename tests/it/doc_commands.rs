//! The documentation cannot drift: every `lagc` command in the fenced `sh` and `console`
//! blocks of README.md and docs/language.md runs here with the release binary, from a
//! copy of the repository's `examples/` and `tests/data/` (so outputs land in a scratch
//! folder, with the same relative paths as at the repository root).
//!
//! Rules: `cargo run --release -- ARGS` stands for `lagc ARGS`; a `\` at the end of a line
//! continues the command, `# ...` is a comment. In a `console` block commands start with
//! `$ `, and the lines up to the next command are its expected output (stdout, then
//! stderr, each line compared without trailing spaces). A block marked `exit=N` after its
//! language (```` ```console exit=1 ````) expects status N; other blocks expect 0.

use std::path::Path;
use std::process::Command;

/// One documented command.
#[derive(Debug)]
struct DocCommand {
    /// Where it is written (file:line).
    at: String,
    args: Vec<String>,
    exit: i32,
    expected: Option<Vec<String>>,
}

/// The fenced blocks of `text` whose language is `sh` or `console`: (first line number,
/// info string, lines).
fn blocks(text: &str) -> Vec<(usize, String, Vec<String>)> {
    let mut out = vec![];
    let mut open: Option<(usize, String, Vec<String>)> = None;
    for (k, line) in text.lines().enumerate() {
        match (open.take(), line.strip_prefix("```")) {
            (None, Some(info)) => open = Some((k + 2, info.trim().to_string(), vec![])),
            (Some(b), Some(_)) => {
                let lang = b.1.split_whitespace().next().unwrap_or("");
                if lang == "sh" || lang == "console" {
                    out.push(b);
                }
            }
            (Some(mut b), None) => {
                b.2.push(line.to_string());
                open = Some(b);
            }
            (None, None) => {}
        }
    }
    out
}

/// The arguments of a command line, if it runs lagc.
fn lagc_args(line: &str) -> Option<Vec<String>> {
    let line = line.split(" #").next().unwrap_or("").trim();
    let rest = line
        .strip_prefix("cargo run --release -- ")
        .or_else(|| line.strip_prefix("lagc "))?;
    Some(rest.split_whitespace().map(str::to_string).collect())
}

/// The commands of one documentation file.
fn commands(file: &str) -> Vec<DocCommand> {
    let text = std::fs::read_to_string(file).unwrap();
    let mut out = vec![];
    for (first, info, lines) in blocks(&text) {
        let exit = info
            .split_whitespace()
            .find_map(|w| w.strip_prefix("exit="))
            .map_or(0, |n| n.parse().expect("exit=N"));
        let console = info.starts_with("console");
        let mut k = 0;
        while k < lines.len() {
            let at = format!("{file}:{}", first + k);
            let mut line = lines[k].clone();
            if console {
                let Some(cmd) = line.strip_prefix("$ ") else {
                    k += 1;
                    continue;
                };
                line = cmd.to_string();
            }
            while line.trim_end().ends_with('\\') && k + 1 < lines.len() {
                line = line.trim_end().trim_end_matches('\\').to_string();
                k += 1;
                line.push(' ');
                line.push_str(lines[k].trim());
            }
            k += 1;
            let mut expected = None;
            if console {
                let mut want = vec![];
                while k < lines.len() && !lines[k].starts_with("$ ") {
                    want.push(lines[k].trim_end().to_string());
                    k += 1;
                }
                expected = Some(want);
            }
            if let Some(args) = lagc_args(&line) {
                out.push(DocCommand {
                    at,
                    args,
                    exit,
                    expected,
                });
            }
        }
    }
    out
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// The blocks are found (the harness would pass vacuously otherwise).
#[test]
fn the_docs_have_commands() {
    let readme = commands("README.md");
    let lang = commands("docs/language.md");
    assert!(readme.len() >= 7, "{readme:?}");
    assert!(lang.len() >= 7, "{lang:?}");
    assert!(lang.iter().any(|c| c.exit == 1 && c.expected.is_some()));
}

#[test]
fn every_documented_command_runs_as_documented() {
    let root = tempfile::tempdir().unwrap();
    copy_dir(Path::new("examples"), &root.path().join("examples"));
    copy_dir(Path::new("tests/data"), &root.path().join("tests/data"));
    let mut failures = vec![];
    for c in commands("README.md")
        .into_iter()
        .chain(commands("docs/language.md"))
    {
        let o = Command::new(env!("CARGO_BIN_EXE_lagc"))
            .args(&c.args)
            .current_dir(root.path())
            .output()
            .unwrap();
        let (out, err) = (
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr),
        );
        if o.status.code() != Some(c.exit) {
            failures.push(format!(
                "{}: lagc {}: exit {:?}, documented {}\n{err}",
                c.at,
                c.args.join(" "),
                o.status.code(),
                c.exit
            ));
            continue;
        }
        if let Some(want) = &c.expected {
            let got: Vec<String> = out
                .lines()
                .chain(err.lines())
                .map(|l| l.trim_end().to_string())
                .collect();
            if &got != want {
                failures.push(format!(
                    "{}: lagc {}: printed\n{}\ndocumented\n{}",
                    c.at,
                    c.args.join(" "),
                    got.join("\n"),
                    want.join("\n")
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
