//! syntax stage (to be written).
