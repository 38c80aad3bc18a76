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
