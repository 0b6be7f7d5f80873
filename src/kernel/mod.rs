//! kernel stage (to be written).
