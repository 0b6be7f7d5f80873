//! backend stage (to be written).
