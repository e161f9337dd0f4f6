//! Shared code of the runnable examples, so the tests can assert what they print.
#![warn(missing_docs)]

pub mod lock_story;
pub mod story;
pub mod train;
