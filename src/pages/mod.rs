//! Every screen of the app, a module for each thing people do with it: a member signs in, checks in, reports,
//! reads their certificate; staff run their organisation, township or county. Pages read and write through
//! `crate::store` and `crate::sync`, never storage of their own.

pub mod activities;
pub mod card;
pub mod certificate;
pub mod checkin;
pub mod checkins;
pub mod county;
pub mod devices;
pub mod home;
pub mod notices;
pub mod org;
pub mod pin;
pub mod profile;
pub mod report;
pub mod roster;
pub mod scan;
pub mod signin;
pub mod signout;
pub mod township;
