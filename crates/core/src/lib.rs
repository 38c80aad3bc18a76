//! Guihai's pure core, shared by the phone app and the server: the domain, the sync protocol, the QR code
//! format and the client's sync engine.
//!
//! Architecture invariant: nothing here does I/O or knows about browsers, HTTP frameworks or databases. Time
//! and randomness are passed in, so every function is deterministic and testable natively.

pub mod attendance;
pub mod certificate;
pub mod checkin;
pub mod domain;
pub mod engine;
pub mod flow;
pub mod id;
pub mod listing;
pub mod notice;
pub mod outbox;
pub mod profile;
pub mod qr;
pub mod report;
pub mod roster;
pub mod screens;
pub mod situation;
pub mod sync;
pub mod tree;

pub use id::Id;
