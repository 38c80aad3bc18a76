//! An activity's attendance as its organisation's secretary sees it: who came and when, each one's flag, the
//! organisation's own members apart from visiting ones, and how many of those expected came.

use serde::{Deserialize, Serialize};

use crate::checkin::CheckInFlag;
use crate::domain::{Activity, VolunteerTeam};
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
    /// The minutes (会议记录) the secretary wrote.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minutes: Option<String>,
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

/// Longest minutes of one activity, in characters.
pub const MAX_MINUTES_CHARS: usize = 10_000;

/// Minutes as kept: trimmed, empty meaning none; `None` when too long.
pub fn check_minutes(text: &str) -> Option<&str> {
    let text = text.trim();
    (text.chars().count() <= MAX_MINUTES_CHARS).then_some(text)
}

/// An organisation's volunteer service in one year (`GET /api/v1/orgs/{id}/volunteer-hours?year=`): each
/// team's hours and each member's, in tenths of an hour, most first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolunteerHours {
    pub year: i32,
    pub teams: Vec<TeamHours>,
    pub members: Vec<MemberHours>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamHours {
    /// `None`: volunteer service without a team.
    pub team: Option<VolunteerTeam>,
    pub hours_tenths: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberHours {
    pub member_id: Id,
    pub name: String,
    pub hours_tenths: u32,
}

/// Tenths of an hour as people read them: "2", "2.5".
pub fn hours_text(tenths: u32) -> String {
    match tenths % 10 {
        0 => (tenths / 10).to_string(),
        rest => format!("{}.{rest}", tenths / 10),
    }
}

/// Hours as typed ("2", "2.5", "2.50"), in tenths; `None` when not a number of hours up to 100 with at most one
/// significant decimal.
pub fn parse_hours(text: &str) -> Option<u16> {
    let text = text.trim();
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let fraction = fraction.trim_end_matches('0');
    let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || whole.len() > 3 || !digits(whole) || fraction.len() > 1 || !digits(fraction) {
        return None;
    }
    let tenths = whole.parse::<u16>().ok()? * 10 + fraction.parse::<u16>().unwrap_or(0);
    (tenths <= crate::domain::MAX_HOURS_TENTHS).then_some(tenths)
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
    /// Volunteer service: the hours credited, in tenths of an hour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours_tenths: Option<u16>,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_are_typed_and_shown_in_tenths() {
        for (typed, tenths) in [
            ("2", Some(20)),
            ("2.5", Some(25)),
            (" 2.50 ", Some(25)),
            ("0.5", Some(5)),
            ("100", Some(1000)),
        ] {
            assert_eq!(parse_hours(typed), tenths, "{typed}");
        }
        for bad in ["", ".5", "2.25", "-1", "1e2", "100.1", "两", "2,5", "99999"] {
            assert_eq!(parse_hours(bad), None, "{bad}");
        }
        assert_eq!(
            (hours_text(25), hours_text(20), hours_text(0)),
            ("2.5".into(), "2".into(), "0".into())
        );
    }

    #[test]
    fn reasons_and_minutes_are_trimmed_and_bounded() {
        assert_eq!(check_reason("  没有手机 "), Some("没有手机"));
        assert_eq!(check_reason("   "), None);
        assert_eq!(check_reason(&"字".repeat(MAX_REASON_CHARS + 1)), None);
        assert_eq!(check_minutes("  记录 "), Some("记录"));
        assert_eq!(check_minutes(""), Some(""));
        assert_eq!(check_minutes(&"字".repeat(MAX_MINUTES_CHARS + 1)), None);
    }
}
