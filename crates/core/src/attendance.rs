//! An activity's attendance as its organisation's secretary sees it: who came and when, each one's flag, the
//! organisation's own members apart from visiting ones, and how many of those expected came.

use serde::{Deserialize, Serialize};

use crate::checkin::CheckInFlag;
use crate::domain::Activity;
use crate::Id;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attendance {
    pub activity: Activity,
    /// The organisation's members now: those expected.
    pub expected: u32,
    /// Who checked in, in the order they scanned.
    pub came: Vec<Attendee>,
    /// The organisation's members who have not come (yet): those the secretary may record by hand.
    #[serde(default)]
    pub missing: Vec<Missing>,
}

/// An expected member who has not come.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Missing {
    pub member_id: Id,
    pub name: String,
}

/// How an attendance was recorded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum How {
    /// The member scanned the activity's code.
    #[default]
    OwnScan,
    /// The secretary scanned the member's card.
    Card,
    /// The secretary entered it by hand, with a reason.
    ByHand,
}

impl How {
    pub fn as_str(self) -> &'static str {
        match self {
            How::OwnScan => "own_scan",
            How::Card => "card",
            How::ByHand => "by_hand",
        }
    }
}

/// Longest reason for an attendance entered by hand, in characters.
pub const MAX_REASON_CHARS: usize = 200;

/// The reason for an attendance entered by hand, trimmed, if it is one: not empty, not too long.
pub fn check_reason(reason: &str) -> Option<&str> {
    let reason = reason.trim();
    (!reason.is_empty() && reason.chars().count() <= MAX_REASON_CHARS).then_some(reason)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attendee {
    pub member_id: Id,
    pub name: String,
    pub home_org: String,
    /// A member of another organisation.
    pub visitor: bool,
    /// Device time of the scan, and server time of receipt (Unix milliseconds).
    pub scanned_at: i64,
    pub received_at: i64,
    pub flag: Option<CheckInFlag>,
    #[serde(default)]
    pub how: How,
    /// Why it was entered by hand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Attendance {
    /// How many of the organisation's own members came.
    pub fn members_came(&self) -> usize {
        self.came.iter().filter(|attendee| !attendee.visitor).count()
    }

    pub fn visitors(&self) -> usize {
        self.came.len() - self.members_came()
    }
}
