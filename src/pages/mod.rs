//! Every screen of the app, a module for each thing people do with it: a member signs in, checks in, reports,
//! reads their certificate; staff run their organisation, township or county. Pages read and write through
//! `crate::store` and `crate::sync`, never storage of their own.
//!
//! Members download the member app only: the staff screens (the organisation's, the township's, the county's,
//! running activities, sending notices) are in the `staff` build, a second app the server and the service
//! worker give to the staff paths (core's `screens`). The staff app has every member screen too, so a staff
//! member moves on inside it.

pub mod activities;
pub mod card;
pub mod certificate;
#[cfg(feature = "staff")]
pub mod charts;
pub mod checkin;
pub mod checkins;
#[cfg(feature = "staff")]
pub mod county;
#[cfg(feature = "staff")]
pub mod county_tree;
pub mod devices;
pub mod home;
pub mod notices;
#[cfg(feature = "staff")]
pub mod org;
pub mod pin;
pub mod profile;
pub mod report;
#[cfg(feature = "staff")]
pub mod roster;
pub mod scan;
#[cfg(feature = "staff")]
pub mod send_notices;
pub mod signin;
pub mod signout;
#[cfg(feature = "staff")]
pub mod township;
#[cfg(feature = "staff")]
pub mod township_member;
#[cfg(feature = "staff")]
pub mod township_summary;
