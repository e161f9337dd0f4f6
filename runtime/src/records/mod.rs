//! Records of how parameters were made.

pub(crate) mod atomic;
pub mod checkpoint;
pub mod diff;
pub mod lock;
pub mod manifest;
pub mod provenance;
