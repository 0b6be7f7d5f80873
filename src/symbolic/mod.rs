//! symbolic stage (to be written).
