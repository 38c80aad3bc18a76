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
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActivityKind {
    /// 组织生活 / 三会一课
    OrganisationLife,
    Study,
    Volunteer,
    Training,
    #[default]
    Other,
}

impl ActivityKind {
    pub const ALL: [ActivityKind; 5] = [
        ActivityKind::OrganisationLife,
        ActivityKind::Study,
        ActivityKind::Volunteer,
        ActivityKind::Training,
        ActivityKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ActivityKind::OrganisationLife => "organisation_life",
            ActivityKind::Study => "study",
            ActivityKind::Volunteer => "volunteer",
            ActivityKind::Training => "training",
            ActivityKind::Other => "other",
        }
    }

    pub fn parse(text: &str) -> Option<ActivityKind> {
        ActivityKind::ALL.into_iter().find(|kind| kind.as_str() == text)
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
}

/// Why an activity cannot be published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ActivityError {
    #[error("the title is empty or longer than 60 characters")]
    Title,
    #[error("the place is longer than 120 characters")]
    Place,
    #[error("the activity must end after it starts, within 14 days")]
    Window,
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
        Ok(NewActivity { title, place, ..self })
    }
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
    }
}
