//! The integration tests, one module per concern, in one binary.

pub mod candle;
pub mod coordinates;
pub mod golden;
pub mod kernel_setting;
pub mod lock;
pub mod model;
pub mod parity;
pub mod resume;
pub mod rules;
pub mod seed_story;
pub mod statistics;
pub mod tensor_parallel;
pub mod train;
pub mod ui;
