//! Text -> AST. pest types stop here: the rest of the compiler sees only [`ast`].

pub mod ast;
mod parse;

pub use parse::{parse, MAX_NESTING};
