//! The people, organisations and activities of DOMAIN.md, as the phone and the server both see them.

use serde::{Deserialize, Serialize};

use crate::Id;

/// Where an organisation sits: the home side (county, township) or the host side in a city.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrgKind {
    County,
    Township,
    MobileCommittee,
    GeneralBranch,
    Branch,
    ContactPoint,
}

impl OrgKind {
    pub const ALL: [OrgKind; 6] = [
        OrgKind::County,
        OrgKind::Township,
        OrgKind::MobileCommittee,
        OrgKind::GeneralBranch,
        OrgKind::Branch,
        OrgKind::ContactPoint,
    ];

    pub fn is_host_side(self) -> bool {
        !matches!(self, OrgKind::County | OrgKind::Township)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            OrgKind::County => "county",
            OrgKind::Township => "township",
            OrgKind::MobileCommittee => "mobile_committee",
            OrgKind::GeneralBranch => "general_branch",
            OrgKind::Branch => "branch",
            OrgKind::ContactPoint => "contact_point",
        }
    }

    pub fn parse(text: &str) -> Option<OrgKind> {
        OrgKind::ALL.into_iter().find(|kind| kind.as_str() == text)
    }
}

/// An organisation as far as a phone needs to show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgRef {
    pub id: Id,
    pub name: String,
    pub kind: OrgKind,
    pub city: Option<String>,
}

/// What a person may do; one person may hold several roles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum Role {
    Member,
    Secretary { org_id: Id },
    TownshipAdmin { org_id: Id },
    CountyAdmin { org_id: Id },
}

/// The signed-in person: their own record as the server last sent it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub id: Id,
    pub name: String,
    pub home_org: OrgRef,
    pub current_org: Option<OrgRef>,
    pub certificate_no: Option<String>,
    pub roles: Vec<Role>,
    /// When their township registered them as back home, since they were last accepted anywhere (Unix ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub returned_home_at: Option<i64>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActivityKind {
    /// 支部党员大会
    BranchAssembly,
    /// 支委会
    BranchCommittee,
    /// 党小组会
    PartyGroup,
    /// 党课
    PartyLecture,
    /// 主题党日
    ThemeDay,
    /// 组织生活会
    OrganisationLife,
    Study,
    Training,
    /// 志愿服务, by one of the organisation's teams (`VolunteerTeam`).
    Volunteer,
    #[default]
    Other,
}

impl ActivityKind {
    /// In the order a secretary chooses from: 三会一课 first.
    pub const ALL: [ActivityKind; 10] = [
        ActivityKind::BranchAssembly,
        ActivityKind::BranchCommittee,
        ActivityKind::PartyGroup,
        ActivityKind::PartyLecture,
        ActivityKind::ThemeDay,
        ActivityKind::OrganisationLife,
        ActivityKind::Study,
        ActivityKind::Training,
        ActivityKind::Volunteer,
        ActivityKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ActivityKind::BranchAssembly => "branch_assembly",
            ActivityKind::BranchCommittee => "branch_committee",
            ActivityKind::PartyGroup => "party_group",
            ActivityKind::PartyLecture => "party_lecture",
            ActivityKind::ThemeDay => "theme_day",
            ActivityKind::OrganisationLife => "organisation_life",
            ActivityKind::Study => "study",
            ActivityKind::Training => "training",
            ActivityKind::Volunteer => "volunteer",
            ActivityKind::Other => "other",
        }
    }

    pub fn parse(text: &str) -> Option<ActivityKind> {
        ActivityKind::ALL.into_iter().find(|kind| kind.as_str() == text)
    }
}

/// The volunteer teams a host organisation runs (志愿服务队).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VolunteerTeam {
    /// 绿化
    Greening,
    /// 保洁
    Cleaning,
    /// 治安巡逻
    Patrol,
    /// 家政服务
    Household,
}

impl VolunteerTeam {
    pub const ALL: [VolunteerTeam; 4] = [
        VolunteerTeam::Greening,
        VolunteerTeam::Cleaning,
        VolunteerTeam::Patrol,
        VolunteerTeam::Household,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            VolunteerTeam::Greening => "greening",
            VolunteerTeam::Cleaning => "cleaning",
            VolunteerTeam::Patrol => "patrol",
            VolunteerTeam::Household => "household",
        }
    }

    pub fn parse(text: &str) -> Option<VolunteerTeam> {
        VolunteerTeam::ALL.into_iter().find(|team| team.as_str() == text)
    }
}

/// An activity published by a host organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activity {
    pub id: Id,
    pub org_id: Id,
    pub title: String,
    pub kind: ActivityKind,
    /// Unix milliseconds.
    pub starts_at: i64,
    pub ends_at: i64,
    pub place: Option<String>,
    /// The team that serves, for volunteer service only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<VolunteerTeam>,
    /// What members should know: what to bring, the agenda.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// Whether members of other organisations may check in too (a branch assembly is for its own members).
    #[serde(default = "open")]
    pub open_to_visitors: bool,
    /// For volunteer service: the hours credited to each attendee, in tenths of an hour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours_tenths: Option<u16>,
}

impl Activity {
    /// `NewActivity::checked`, keeping the id (an activity a secretary's phone made or edits, from its outbox).
    pub fn checked(self) -> Result<Activity, ActivityError> {
        let id = self.id;
        let new = NewActivity {
            org_id: self.org_id,
            title: self.title,
            kind: self.kind,
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            place: self.place,
            team: self.team,
            notes: self.notes,
            open_to_visitors: self.open_to_visitors,
            hours_tenths: self.hours_tenths,
        }
        .checked()?;
        Ok(new.with_id(id))
    }
}

/// The longest an activity may run: a study day or a volunteer week, not an open-ended code.
pub const MAX_ACTIVITY_MS: i64 = 14 * 24 * 60 * 60 * 1000;

/// An activity as its organisation's secretary publishes it (`POST /api/v1/activities`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewActivity {
    pub org_id: Id,
    pub title: String,
    pub kind: ActivityKind,
    pub starts_at: i64,
    pub ends_at: i64,
    pub place: Option<String>,
    #[serde(default)]
    pub team: Option<VolunteerTeam>,
    #[serde(default)]
    pub notes: Option<String>,
    /// Whether members of other organisations may check in too (a branch assembly is for its own members).
    #[serde(default = "open")]
    pub open_to_visitors: bool,
    /// For volunteer service: the hours credited to each attendee, in tenths of an hour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours_tenths: Option<u16>,
}

/// The most hours one volunteer activity credits each attendee, in tenths of an hour.
pub const MAX_HOURS_TENTHS: u16 = 1_000;

/// The longest notes an activity carries, in characters.
pub const MAX_NOTES_CHARS: usize = 1_000;

/// Why an activity cannot be published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ActivityError {
    #[error("the title is empty or longer than 60 characters")]
    Title,
    #[error("the place is longer than 120 characters")]
    Place,
    #[error("the activity must end after it starts, within 14 days")]
    Window,
    #[error("a team serves volunteer service only")]
    Team,
    #[error("the notes are longer than 1000 characters")]
    Notes,
    #[error("hours are credited for volunteer service only, at most 100")]
    Hours,
}

impl ActivityError {
    /// Stable key for messages.
    pub fn key(self) -> &'static str {
        match self {
            ActivityError::Title => "title",
            ActivityError::Place => "place",
            ActivityError::Window => "window",
            ActivityError::Team => "team",
            ActivityError::Notes => "notes",
            ActivityError::Hours => "hours",
        }
    }
}

impl NewActivity {
    /// The activity as it will be stored (title and place trimmed, an empty place left out), or why not.
    pub fn checked(self) -> Result<NewActivity, ActivityError> {
        let title = self.title.trim().to_owned();
        if title.is_empty() || title.chars().count() > 60 || title.chars().any(char::is_control) {
            return Err(ActivityError::Title);
        }
        let place = self.place.map(|p| p.trim().to_owned()).filter(|p| !p.is_empty());
        if place.as_ref().is_some_and(|p| p.chars().count() > 120) {
            return Err(ActivityError::Place);
        }
        if self.ends_at <= self.starts_at || self.ends_at - self.starts_at > MAX_ACTIVITY_MS {
            return Err(ActivityError::Window);
        }
        if self.team.is_some() && self.kind != ActivityKind::Volunteer {
            return Err(ActivityError::Team);
        }
        if self
            .hours_tenths
            .is_some_and(|h| self.kind != ActivityKind::Volunteer || h > MAX_HOURS_TENTHS)
        {
            return Err(ActivityError::Hours);
        }
        let notes = self.notes.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
        if notes.as_ref().is_some_and(|n| n.chars().count() > MAX_NOTES_CHARS) {
            return Err(ActivityError::Notes);
        }
        Ok(NewActivity {
            title,
            place,
            notes,
            ..self
        })
    }

    /// The activity under `id`.
    pub fn with_id(self, id: Id) -> Activity {
        Activity {
            id,
            org_id: self.org_id,
            title: self.title,
            kind: self.kind,
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            place: self.place,
            team: self.team,
            notes: self.notes,
            open_to_visitors: self.open_to_visitors,
            hours_tenths: self.hours_tenths,
        }
    }
}

fn open() -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn activity(title: &str, place: Option<&str>, hours: i64) -> NewActivity {
        NewActivity {
            org_id: Id::new_v7(1_700_000_000_000, [1; 10]),
            title: title.to_owned(),
            kind: ActivityKind::Study,
            starts_at: 1_700_000_000_000,
            ends_at: 1_700_000_000_000 + hours * 3_600_000,
            place: place.map(str::to_owned),
            team: None,
            notes: None,
            open_to_visitors: true,
            hours_tenths: None,
        }
    }

    #[test]
    fn a_new_activity_is_trimmed_and_checked() {
        let ok = activity("  主题党日  ", Some("  "), 2).checked().unwrap();
        assert_eq!((ok.title.as_str(), ok.place), ("主题党日", None));
        assert_eq!(activity(" ", None, 2).checked(), Err(ActivityError::Title));
        assert_eq!(activity(&"学".repeat(61), None, 2).checked(), Err(ActivityError::Title));
        assert_eq!(
            activity("学习", Some(&"路".repeat(121)), 2).checked(),
            Err(ActivityError::Place)
        );
        assert_eq!(activity("学习", None, 0).checked(), Err(ActivityError::Window));
        assert_eq!(
            activity("学习", None, 14 * 24 + 1).checked(),
            Err(ActivityError::Window)
        );
        assert!(activity("学习", None, 14 * 24).checked().is_ok());
        let greening = NewActivity {
            team: Some(VolunteerTeam::Greening),
            notes: Some("  带上手套  ".into()),
            ..activity("植树", None, 3)
        };
        assert_eq!(
            greening.clone().checked(),
            Err(ActivityError::Team),
            "a study has no team"
        );
        let volunteer = NewActivity {
            kind: ActivityKind::Volunteer,
            ..greening
        };
        assert_eq!(volunteer.clone().checked().unwrap().notes.as_deref(), Some("带上手套"));
        let long = NewActivity {
            notes: Some("注".repeat(MAX_NOTES_CHARS + 1)),
            ..volunteer
        };
        assert_eq!(long.checked(), Err(ActivityError::Notes));
        let credited = |kind, hours| NewActivity {
            kind,
            hours_tenths: Some(hours),
            ..activity("植树", None, 3)
        };
        assert!(credited(ActivityKind::Volunteer, MAX_HOURS_TENTHS).checked().is_ok());
        assert_eq!(
            credited(ActivityKind::Volunteer, MAX_HOURS_TENTHS + 1).checked(),
            Err(ActivityError::Hours)
        );
        assert_eq!(
            credited(ActivityKind::Study, 10).checked(),
            Err(ActivityError::Hours),
            "hours for volunteering only"
        );
    }
}
