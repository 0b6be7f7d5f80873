//! cli stage (to be written).
