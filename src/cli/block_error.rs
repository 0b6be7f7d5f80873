//! Why a block failed, before the caller places it: at the block in `lagc run`, or as a
//! plain message for `lagc simulate`.

use super::Failure;
use crate::diagnostics::Diagnostic;

/// Why a block failed: a message to place at the block, or an already rendered failure.
pub(super) enum BlockError {
    /// A message (without `error: `) and notes; the caller adds the location.
    Plain(String, Vec<String>),
    /// A complete failure (for example a CSV error rendered against the CSV file).
    Done(Failure),
    /// A diagnostic located in the `.lag` file (rendered by the caller, who has it).
    Source(Diagnostic),
}

impl BlockError {
    /// A plain message without notes.
    pub(super) fn new(msg: impl Into<String>) -> BlockError {
        BlockError::Plain(msg.into(), vec![])
    }

    /// The failure without a source location (for `lagc simulate`).
    pub(super) fn plain_failure(self) -> Failure {
        match self {
            BlockError::Done(f) => f,
            BlockError::Source(d) => Failure::user(format!("error: {}\n", d.message)),
            BlockError::Plain(m, notes) => {
                let mut s = format!("error: {m}\n");
                for n in notes {
                    s.push_str(&format!("  note: {n}\n"));
                }
                Failure::user(s)
            }
        }
    }
}

impl From<Failure> for BlockError {
    fn from(f: Failure) -> BlockError {
        BlockError::Done(f)
    }
}
