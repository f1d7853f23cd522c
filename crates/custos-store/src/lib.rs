//! The Store trait (being written).
