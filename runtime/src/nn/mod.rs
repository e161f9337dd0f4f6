//! Building models on candle.

pub mod backend;
pub mod dropout;
pub(crate) mod init;
pub mod layers;
pub mod model;
pub mod optim;
pub mod recipes;
pub mod rules;
pub mod shuffle;
