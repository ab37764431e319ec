//! # unlockdesk-core
//!
//! The domain of UnlockDesk, free of IO: the case workflow as a pure state machine
//! ([`workflow`]), identity-document rules ([`identity`]), masking ([`masking`]), the
//! role permission matrix ([`permissions`]), the form rules ([`form`]), and the use-case
//! surface: one trait, [`api::Counter`], with its data ([`dto`]), implemented locally by
//! [`service::Service`] over small ports ([`ports`]) for the store, the clock, id generation
//! and the PDF renderer ([`print::Renderer`]).
//!
//! The crate boundary enforces the dependency rule: no tauri, rusqlite, printpdf or file IO here.

pub mod api;
pub mod appointments;
pub mod auditor;
pub mod authorizations;
pub mod copy;
pub mod demo;
pub mod dto;
pub mod error;
pub mod form;
pub mod identity;
pub mod masking;
#[cfg(test)]
mod memory;
#[macro_use]
pub mod model;
pub mod normalize;
pub mod operator;
pub mod passwords;
pub mod permissions;
pub mod ports;
pub mod print;
pub mod retention;
pub mod service;
pub mod workflow;

pub use api::Counter;
pub use error::{CoreError, CoreResult, ErrorCode, FieldError};
pub use model::*;
