//! Output files that are never torn and never destroyed.
//!
//! A regular output file is written under a temporary name unique to this process and
//! write, `.lagc-PID-N.NAME` beside the target (same folder, same extension), then
//! flushed, synced to disk and renamed over the target in one atomic step ([`Staged`],
//! [`OutputFile`]). A reader, or another lagc writing the same target at the same
//! time, therefore sees either the old file or a new whole one. A temporary that is
//! dropped without being committed is removed; only a killed process leaves one.
//!
//! The target is resolved first: a symlink is followed (the link stays, the file it
//! points to is replaced), and a target that exists but is not a regular file (a
//! device such as `/dev/null`, a FIFO) is written to directly, never replaced.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Most symlinks followed when resolving a target (as the kernel's own limit).
const MAX_LINKS: usize = 40;

/// Where bytes for `target` are written before they become it.
#[derive(Debug)]
pub struct Staged {
    /// The resolved target (symlinks followed).
    target: PathBuf,
    /// The temporary, `None` when the target is written directly (not a regular file).
    tmp: Option<PathBuf>,
}

impl Staged {
    /// Resolves `path` and picks a fresh temporary name beside it (none for a target
    /// that exists and is not a regular file).
    pub fn new(path: &Path) -> io::Result<Staged> {
        let target = resolve(path)?;
        let special = std::fs::metadata(&target).is_ok_and(|m| !m.is_file());
        let tmp = (!special).then(|| temporary_name(&target));
        Ok(Staged { target, tmp })
    }

    /// The path to write: the temporary, or the target itself when it is special.
    pub fn path(&self) -> &Path {
        self.tmp.as_deref().unwrap_or(&self.target)
    }

    /// Moves the written temporary over the target (syncing the folder afterwards);
    /// nothing to do for a special target.
    pub fn commit(mut self) -> io::Result<()> {
        let Some(tmp) = self.tmp.take() else {
            return Ok(());
        };
        if let Err(e) = std::fs::rename(&tmp, &self.target) {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        if let Some(dir) = self.target.parent() {
            let dir = if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            };
            // Best effort: some file systems cannot sync a folder.
            let _ = File::open(dir).and_then(|d| d.sync_all());
        }
        Ok(())
    }
}

impl Drop for Staged {
    /// An uncommitted temporary is removed.
    fn drop(&mut self) {
        if let Some(tmp) = &self.tmp {
            let _ = std::fs::remove_file(tmp);
        }
    }
}

/// An open output file: written through its temporary, made the target by
/// [`OutputFile::commit`].
#[derive(Debug)]
pub struct OutputFile {
    file: File,
    staged: Staged,
}

impl OutputFile {
    /// Creates the temporary of `path` (or opens a special target for writing).
    pub fn create(path: &Path) -> io::Result<OutputFile> {
        let staged = Staged::new(path)?;
        let file = match &staged.tmp {
            Some(tmp) => OpenOptions::new().write(true).create_new(true).open(tmp)?,
            None => OpenOptions::new().write(true).open(&staged.target)?,
        };
        Ok(OutputFile { file, staged })
    }

    /// Syncs the bytes to disk and renames the temporary over the target.
    pub fn commit(mut self) -> io::Result<()> {
        self.file.flush()?;
        if self.staged.tmp.is_some() {
            self.file.sync_all()?;
        }
        drop(self.file);
        self.staged.commit()
    }
}

impl Write for OutputFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// Writes `bytes` to `path` atomically (module docs).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut f = OutputFile::create(path)?;
    f.write_all(bytes)?;
    f.commit()
}

/// `path` with symlinks followed (relative links against the link's folder).
fn resolve(path: &Path) -> io::Result<PathBuf> {
    let mut p = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let to = std::fs::read_link(&p)?;
                p = match p.parent() {
                    Some(dir) if to.is_relative() => dir.join(to),
                    _ => to,
                };
            }
            _ => return Ok(p),
        }
    }
    Err(io::Error::other(format!(
        "{}: more than {MAX_LINKS} levels of symbolic links",
        path.display()
    )))
}

/// `.lagc-PID-N.NAME` beside `target`: unique per process and call, and ending like the
/// target (so a plot backend still sees the extension).
fn temporary_name(target: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    target.with_file_name(format!(".lagc-{}-{n}.{name}", std::process::id()))
}

/// `path` without `.` components and with `x/..` pairs removed, lexically (no file is
/// looked at, so a symlink followed by `..` is not resolved): how two spellings of one
/// output path are recognised as one.
pub fn lexical_normal(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out: Vec<Component> = vec![];
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if matches!(out.last(), Some(Component::Normal(_))) => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out.iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_atomically_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.csv");
        std::fs::write(&p, "old").unwrap();
        let mut f = OutputFile::create(&p).unwrap();
        f.write_all(b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "old");
        f.commit().unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_dropped_file_leaves_the_target_alone() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.csv");
        std::fs::write(&p, "old").unwrap();
        let mut f = OutputFile::create(&p).unwrap();
        f.write_all(b"half").unwrap();
        drop(f);
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
