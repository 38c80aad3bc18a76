//! Reporting to a host organisation (报到), moving on and going home: the member's journey as the phone, the
//! secretary and the township see it. The transitions live here so the server and the tests share one
//! definition of what may follow what.
//!
//! A report is sent from the phone (offline, through the outbox) after scanning an organisation's signed code.
//! The secretary accepts it, which makes the organisation the member's current one and opens a stop on the
//! certificate, or refuses it with a reason. A stop closes when the secretary writes the evaluation (after the
//! member said they are leaving, or on the secretary's own word), when the member reports elsewhere saying they
//! left, or when the home township registers their return.

use serde::{Deserialize, Serialize};

use crate::situation::Situation;

use crate::certificate::{Attended, Evaluation, Grade, Review, Stop};
use crate::domain::{ActivityKind, OrgRef};
use crate::Id;

/// Longest refusal reason or evaluation text, in characters.
pub const MAX_TEXT_CHARS: usize = 500;
/// Days without a sync, a check-in or a report after which a member counts as out of contact (失联), unless the
/// server is configured otherwise.
pub const DEFAULT_LOST_AFTER_DAYS: u32 = 90;

/// Where a report stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ReportState {
    /// Sent, waiting for the secretary.
    Pending,
    /// The member is at the organisation; `stop_id` is the stop it opened.
    Accepted {
        stop_id: Id,
        at: i64,
    },
    Refused {
        reason: String,
        at: i64,
    },
}

impl ReportState {
    pub fn as_str(&self) -> &'static str {
        match self {
            ReportState::Pending => "pending",
            ReportState::Accepted { .. } => "accepted",
            ReportState::Refused { .. } => "refused",
        }
    }
}

/// A member's report, as their phones hold it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub id: Id,
    pub org: OrgRef,
    /// When the server received it (Unix ms).
    pub received_at: i64,
    pub state: ReportState,
}

/// The secretary's answer to a pending report (`POST /api/v1/reports/{id}/decision`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    Accept,
    Refuse { reason: String },
}

/// Why a step of the journey cannot be taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum JourneyError {
    #[error("the report was already decided")]
    AlreadyDecided,
    #[error("the stop is already closed")]
    StopClosed,
    #[error("the stop already has its evaluation")]
    AlreadyEvaluated,
    #[error("a reason or evaluation must be given, at most 500 characters")]
    Text,
}

/// The text of a refusal or an evaluation, trimmed, or why not.
pub fn checked_text(text: &str) -> Result<String, JourneyError> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > MAX_TEXT_CHARS {
        return Err(JourneyError::Text);
    }
    Ok(text.to_owned())
}

impl Decision {
    /// What the report becomes: only a pending report can be decided. `stop_id` is the stop acceptance opens.
    pub fn apply(&self, state: &ReportState, stop_id: Id, at: i64) -> Result<ReportState, JourneyError> {
        if *state != ReportState::Pending {
            return Err(JourneyError::AlreadyDecided);
        }
        Ok(match self {
            Decision::Accept => ReportState::Accepted { stop_id, at },
            Decision::Refuse { reason } => ReportState::Refused {
                reason: checked_text(reason)?,
                at,
            },
        })
    }
}

/// A stop as the journey sees it: open, open with the member's notice that they are leaving, or closed, with
/// or without its evaluation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StopState {
    pub left_at: Option<i64>,
    pub leaving_at: Option<i64>,
    pub evaluated: bool,
}

impl StopState {
    pub const OPEN: StopState = StopState {
        left_at: None,
        leaving_at: None,
        evaluated: false,
    };

    /// The member says they are leaving. Saying it twice keeps the first notice.
    pub fn member_leaving(&self, at: i64) -> Result<StopState, JourneyError> {
        if self.left_at.is_some() {
            return Err(JourneyError::StopClosed);
        }
        Ok(StopState {
            leaving_at: self.leaving_at.or(Some(at)),
            ..self.clone()
        })
    }

    /// The stop ends without an evaluation (the member reported elsewhere, or went home); the secretary may
    /// still write one later. Closing a closed stop changes nothing.
    pub fn close(&self, at: i64) -> StopState {
        StopState {
            left_at: self.left_at.or(Some(self.leaving_at.unwrap_or(at))),
            ..self.clone()
        }
    }

    /// The secretary writes the evaluation, which closes the stop if it is still open: on the day the member
    /// said they were leaving, or now.
    pub fn evaluate(&self, at: i64) -> Result<StopState, JourneyError> {
        if self.evaluated {
            return Err(JourneyError::AlreadyEvaluated);
        }
        Ok(StopState {
            evaluated: true,
            ..self.close(at)
        })
    }
}

/// What the secretary writes when a member leaves (`POST /api/v1/stops/{id}/evaluation`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewEvaluation {
    pub grade: Grade,
    pub text: String,
}

impl NewEvaluation {
    pub fn checked(&self, written_at: i64) -> Result<Evaluation, JourneyError> {
        Ok(Evaluation {
            grade: self.grade,
            text: checked_text(&self.text)?,
            written_at,
        })
    }
}

/// How a member was reached outside the app (联系方式).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactWay {
    Phone,
    Visit,
    Family,
    Other,
}

impl ContactWay {
    pub const ALL: [ContactWay; 4] = [
        ContactWay::Phone,
        ContactWay::Visit,
        ContactWay::Family,
        ContactWay::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ContactWay::Phone => "phone",
            ContactWay::Visit => "visit",
            ContactWay::Family => "family",
            ContactWay::Other => "other",
        }
    }

    pub fn parse(text: &str) -> Option<ContactWay> {
        ContactWay::ALL.into_iter().find(|way| way.as_str() == text)
    }
}

/// A contact made outside the app (a phone call, a visit, through the family), as the member's township or
/// host secretary records it (`POST /api/v1/people/{id}/contacts`): it counts as hearing from the member, so an
/// out-of-contact flag clears until the next period of silence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewContact {
    pub way: ContactWay,
    pub note: String,
    /// When the contact was made (Unix ms).
    pub contacted_at: i64,
}

/// How far a recorded contact may lie ahead of the server's clock (a phone's clock a little fast).
const CONTACT_AHEAD_MS: i64 = 5 * 60 * 1000;
/// How far back a contact may be recorded: a year, as a quarterly report might catch up on.
const CONTACT_BACK_MS: i64 = 366 * 24 * 60 * 60 * 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ContactError {
    #[error("a note must be given, at most 500 characters")]
    Note,
    #[error("the contact's time is in the future or more than a year ago")]
    When,
}

impl NewContact {
    /// The contact, its note trimmed, if it can be recorded at `now`.
    pub fn checked(&self, now: i64) -> Result<NewContact, ContactError> {
        let note = checked_text(&self.note).map_err(|_| ContactError::Note)?;
        if self.contacted_at > now + CONTACT_AHEAD_MS || self.contacted_at < now - CONTACT_BACK_MS {
            return Err(ContactError::When);
        }
        Ok(NewContact { note, ..self.clone() })
    }
}

/// A contact recorded outside the app, with who recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedContact {
    pub way: ContactWay,
    pub note: String,
    pub contacted_at: i64,
    pub recorded_by: String,
}

/// One member on an organisation's roster, for its secretary or (home side) its township. A township's list
/// holds thousands, so what a member has not (no stop, nothing attended) is left out of the JSON, not sent as null.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RosterEntry {
    pub person_id: Id,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    pub home_org: String,
    /// Where the member is now (流向), if anywhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_org: Option<OrgRef>,
    /// The stop this roster is about: at the secretary's organisation, or the member's open one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_id: Option<Id>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arrived_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leaving_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub left_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluation: Option<Evaluation>,
    /// What the member attended during that stop, by kind (from the server's check-in log).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attended: Vec<(ActivityKind, u32)>,
    /// Last sync, check-in or report (Unix ms); `None` if the member has never been heard from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_contact: Option<i64>,
    /// Out of contact (失联): nothing heard for the configured number of days.
    pub lost: bool,
    /// Where the member stands (core's `situation`).
    #[serde(default = "newcomer")]
    pub situation: Situation,
    /// The last contact recorded outside the app, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded_contact: Option<RecordedContact>,
}

fn newcomer() -> Situation {
    Situation::Newcomer
}

/// Whether a member last heard from at `last_contact` is out of contact at `now`.
pub fn is_lost(last_contact: Option<i64>, now: i64, lost_after_days: u32) -> bool {
    const DAY_MS: i64 = 24 * 60 * 60 * 1000;
    last_contact.is_none_or(|at| now - at >= i64::from(lost_after_days) * DAY_MS)
}

/// A report waiting for a secretary (`GET /api/v1/orgs/{id}/reports`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingReport {
    pub id: Id,
    pub person_id: Id,
    pub name: String,
    pub phone: Option<String>,
    pub home_org: String,
    /// Where the member was before, if they were anywhere.
    pub previous_org: Option<String>,
    pub received_at: i64,
}

/// What an organisation's secretary sees: reports waiting, members here now, and members who left.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgOverview {
    pub org: OrgRef,
    pub pending: Vec<PendingReport>,
    pub members: Vec<RosterEntry>,
    pub departed: Vec<RosterEntry>,
}

/// One organisation in the county's tree, with what its administrator needs at a glance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgSummary {
    pub org: OrgRef,
    pub parent_id: Option<Id>,
    pub address: Option<String>,
    pub contact: Option<String>,
    /// Home side: members whose home it is. Host side: members there now.
    pub members: u32,
    /// Of those, out of contact (失联).
    pub lost: u32,
    /// Host side: reports waiting for its secretary.
    pub pending: u32,
    /// Home side: of its members, those at a host organisation now. Host side: as `members`.
    pub reported: u32,
    /// Over the last 12 months (`ATTENDED_LISTED_FOR_MS`), of activities that ended and were not cancelled:
    /// how many the organisation held,
    pub activities: u32,
    /// how many times its members came to one held by the organisation they are at, and how many times they
    /// were expected to (each member at each of those activities),
    pub attended: u32,
    pub expected: u32,
    /// and volunteer hours in tenths: home side, credited to its members; host side, at its activities.
    pub hours_tenths: u32,
}

impl OrgSummary {
    /// Attended of expected, in whole percent; `None` when nobody was expected.
    pub fn attendance_percent(&self) -> Option<u32> {
        percent(self.attended, self.expected)
    }
}

fn percent(part: u32, whole: u32) -> Option<u32> {
    (whole > 0).then(|| u32::try_from(u64::from(part) * 100 / u64::from(whole)).unwrap_or(100))
}

/// The county's figures: its townships' members added up (every member has one home), the host organisations'
/// activities, and everyone's attendance and hours.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CountyTotals {
    pub members: u32,
    pub reported: u32,
    pub lost: u32,
    pub activities: u32,
    pub attended: u32,
    pub expected: u32,
    pub hours_tenths: u32,
}

impl CountyTotals {
    pub fn of(orgs: &[OrgSummary]) -> CountyTotals {
        let mut totals = CountyTotals::default();
        for org in orgs {
            if org.org.kind.is_host_side() {
                totals.activities += org.activities;
            } else {
                totals.members += org.members;
                totals.reported += org.reported;
                totals.lost += org.lost;
                totals.attended += org.attended;
                totals.expected += org.expected;
                totals.hours_tenths += org.hours_tenths;
            }
        }
        totals
    }

    pub fn attendance_percent(&self) -> Option<u32> {
        percent(self.attended, self.expected)
    }
}

/// A county's organisations (`GET /api/v1/orgs/{id}/tree`): its townships and the host organisations it set
/// up in the cities, each with its parent, so the screen can nest them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgTree {
    pub county: OrgRef,
    pub orgs: Vec<OrgSummary>,
}

/// One member as their township (or county) sees them (`GET /api/v1/people/{id}`): the list's entry, every stop
/// with its evaluation (the latest first), the township's reviews by year, and what they attended in the last 12
/// months (the latest first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberDetail {
    pub entry: RosterEntry,
    pub stops: Vec<Stop>,
    pub reviews: Vec<Review>,
    pub attended: Vec<Attended>,
}

/// How far back a member's page lists what they attended.
pub const ATTENDED_LISTED_FOR_MS: i64 = 365 * 24 * 3_600_000;

/// An organisation code's revocation: codes of `org_id` signed to be valid before `valid_since` (Unix seconds)
/// were withdrawn when the secretary rotated it. Every phone holds these, to refuse a torn-down poster offline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgCodeSince {
    pub org_id: Id,
    pub valid_since: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_contact_needs_a_note_and_a_time_from_the_last_year_up_to_now() {
        let now = 1_800_000_000_000;
        let contact = |note: &str, contacted_at: i64| NewContact {
            way: ContactWay::Phone,
            note: note.into(),
            contacted_at,
        };
        let kept = contact("  电话联系上了，在上海  ", now).checked(now).unwrap();
        assert_eq!(kept.note, "电话联系上了，在上海");
        assert_eq!(contact("   ", now).checked(now), Err(ContactError::Note));
        assert_eq!(contact(&"长".repeat(501), now).checked(now), Err(ContactError::Note));
        assert!(contact(&"长".repeat(500), now).checked(now).is_ok());
        assert!(contact("a", now + CONTACT_AHEAD_MS).checked(now).is_ok());
        assert_eq!(
            contact("a", now + CONTACT_AHEAD_MS + 1).checked(now),
            Err(ContactError::When)
        );
        assert!(contact("a", now - CONTACT_BACK_MS).checked(now).is_ok());
        assert_eq!(
            contact("a", now - CONTACT_BACK_MS - 1).checked(now),
            Err(ContactError::When)
        );
        for way in ContactWay::ALL {
            assert_eq!(ContactWay::parse(way.as_str()), Some(way));
        }
    }

    fn id(n: u8) -> Id {
        Id::new_v7(1_700_000_000_000, [n; 10])
    }

    #[test]
    fn a_report_is_decided_once() {
        let accepted = Decision::Accept.apply(&ReportState::Pending, id(1), 5).unwrap();
        assert_eq!(accepted, ReportState::Accepted { stop_id: id(1), at: 5 });
        let refuse = Decision::Refuse {
            reason: "  不在本地务工  ".into(),
        };
        assert_eq!(
            refuse.apply(&ReportState::Pending, id(1), 6).unwrap(),
            ReportState::Refused {
                reason: "不在本地务工".into(),
                at: 6
            }
        );
        assert_eq!(refuse.apply(&accepted, id(1), 7), Err(JourneyError::AlreadyDecided));
        assert_eq!(
            Decision::Accept.apply(&accepted, id(1), 7),
            Err(JourneyError::AlreadyDecided)
        );
        let refused = refuse.apply(&ReportState::Pending, id(1), 6).unwrap();
        assert_eq!(
            Decision::Accept.apply(&refused, id(1), 7),
            Err(JourneyError::AlreadyDecided)
        );
        let empty = Decision::Refuse { reason: "   ".into() };
        assert_eq!(empty.apply(&ReportState::Pending, id(1), 6), Err(JourneyError::Text));
    }

    #[test]
    fn leaving_then_evaluation_closes_on_the_day_the_member_said() {
        let leaving = StopState::OPEN.member_leaving(100).unwrap();
        assert_eq!(
            leaving.member_leaving(150).unwrap().leaving_at,
            Some(100),
            "the first notice stands"
        );
        let closed = leaving.evaluate(200).unwrap();
        assert_eq!((closed.left_at, closed.evaluated), (Some(100), true));
        assert_eq!(closed.evaluate(300), Err(JourneyError::AlreadyEvaluated));
        assert_eq!(closed.member_leaving(300), Err(JourneyError::StopClosed));
    }

    #[test]
    fn the_secretary_may_close_at_once_or_evaluate_a_stop_closed_otherwise() {
        let closed = StopState::OPEN.evaluate(50).unwrap();
        assert_eq!(closed.left_at, Some(50));
        // Gone home (or reported elsewhere) first: the stop keeps that day, and the evaluation can follow.
        let returned = StopState::OPEN.close(70);
        assert_eq!(
            returned.close(90).left_at,
            Some(70),
            "closing twice keeps the first day"
        );
        let evaluated = returned.evaluate(90).unwrap();
        assert_eq!((evaluated.left_at, evaluated.evaluated), (Some(70), true));
    }

    #[test]
    fn lost_contact_counts_whole_days_and_never_heard_from_is_lost() {
        let day = 24 * 60 * 60 * 1000;
        assert!(!is_lost(Some(0), 89 * day, 90));
        assert!(is_lost(Some(0), 90 * day, 90));
        assert!(is_lost(None, 0, 90));
        assert!(!is_lost(Some(0), 10 * day, 30));
    }

    #[test]
    fn evaluation_text_is_required_and_bounded() {
        let ok = NewEvaluation {
            grade: Grade::Excellent,
            text: " 表现突出 ".into(),
        };
        assert_eq!(ok.checked(9).unwrap().text, "表现突出");
        let long = NewEvaluation {
            grade: Grade::Qualified,
            text: "好".repeat(MAX_TEXT_CHARS + 1),
        };
        assert_eq!(long.checked(9), Err(JourneyError::Text));
    }
}
