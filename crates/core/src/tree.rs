//! The county's tree of organisations, as its administrator manages it: adding a host organisation in a city
//! (a contact point, a branch, ...), changing an organisation's name and details, and closing a host
//! organisation with its members moved to another. The server checks every request with these rules; the
//! county's screen offers only what they allow.

use serde::{Deserialize, Serialize};

use crate::domain::OrgKind;
use crate::Id;

/// The longest name, city, address or contact an organisation may have, in characters.
pub const MAX_DETAIL_CHARS: usize = 100;

/// What people read of an organisation: its name, and for a host organisation where to find it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgDetails {
    pub name: String,
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub contact: Option<String>,
}

/// A host organisation the county sets up (`POST /api/v1/orgs/{county}/tree`), under another of its host
/// organisations or directly under the county, with its secretary named by their phone number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewOrg {
    pub kind: OrgKind,
    #[serde(default)]
    pub parent_id: Option<Id>,
    #[serde(flatten)]
    pub details: OrgDetails,
    #[serde(default)]
    pub secretary_phone: Option<String>,
}

/// The secretary the county appoints to a host organisation (`POST /api/v1/orgs/{id}/secretary`), by the
/// number they sign in with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appoint {
    pub phone: String,
}

/// Closing a host organisation (`POST /api/v1/orgs/{id}/close`): where its members go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CloseOrg {
    pub move_to: Id,
}

/// What closing did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClosedOrg {
    /// Members whose stay moved to the other organisation.
    pub moved: u32,
    /// Reports waiting for the closed organisation's secretary, now waiting for the other's.
    pub reports_moved: u32,
    /// Activities not yet over, cancelled (their codes are refused from now on).
    pub activities_cancelled: u32,
}

/// Why a change to the tree cannot be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TreeError {
    #[error("a name is needed, at most {MAX_DETAIL_CHARS} characters")]
    Name,
    #[error("a host organisation needs its city")]
    City,
    #[error("the city, address and contact are at most {MAX_DETAIL_CHARS} characters each")]
    TooLong,
    #[error("the county adds host organisations only")]
    Kind,
}

impl OrgDetails {
    /// The details trimmed, empty ones left out, or why they cannot be an organisation of `kind`'s.
    pub fn checked(self, kind: OrgKind) -> Result<OrgDetails, TreeError> {
        let name = self.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > MAX_DETAIL_CHARS {
            return Err(TreeError::Name);
        }
        let optional = |text: Option<String>| -> Result<Option<String>, TreeError> {
            let text = text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
            match text {
                Some(t) if t.chars().count() > MAX_DETAIL_CHARS => Err(TreeError::TooLong),
                text => Ok(text),
            }
        };
        let city = optional(self.city)?;
        if kind.is_host_side() && city.is_none() {
            return Err(TreeError::City);
        }
        Ok(OrgDetails {
            name,
            city,
            address: optional(self.address)?,
            contact: optional(self.contact)?,
        })
    }
}

impl NewOrg {
    /// The request with its details checked, or why the county cannot add it.
    pub fn checked(self) -> Result<NewOrg, TreeError> {
        if !self.kind.is_host_side() {
            return Err(TreeError::Kind);
        }
        let secretary_phone = self
            .secretary_phone
            .map(|phone| phone.trim().to_owned())
            .filter(|phone| !phone.is_empty());
        Ok(NewOrg {
            details: self.details.checked(self.kind)?,
            secretary_phone,
            ..self
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn details(name: &str, city: Option<&str>) -> OrgDetails {
        OrgDetails {
            name: name.to_owned(),
            city: city.map(str::to_owned),
            address: Some("  ".to_owned()),
            contact: None,
        }
    }

    #[test]
    fn details_are_trimmed_and_empty_ones_dropped() {
        let checked = details("  东莞长安联络点 ", Some(" 东莞 "))
            .checked(OrgKind::ContactPoint)
            .unwrap();
        assert_eq!(checked.name, "东莞长安联络点");
        assert_eq!(checked.city.as_deref(), Some("东莞"));
        assert_eq!(checked.address, None, "blank is none");
    }

    #[test]
    fn a_host_organisation_needs_a_name_and_a_city_a_township_no_city() {
        assert_eq!(
            details(" ", Some("东莞")).checked(OrgKind::Branch),
            Err(TreeError::Name)
        );
        assert_eq!(
            details("联络点", None).checked(OrgKind::ContactPoint),
            Err(TreeError::City)
        );
        assert!(details("新安镇", None).checked(OrgKind::Township).is_ok());
        let long = "长".repeat(MAX_DETAIL_CHARS + 1);
        assert_eq!(
            details(&long, Some("东莞")).checked(OrgKind::Branch),
            Err(TreeError::Name)
        );
        assert!(details(&"长".repeat(MAX_DETAIL_CHARS), Some("东莞"))
            .checked(OrgKind::Branch)
            .is_ok());
        assert_eq!(
            details("联络点", Some(&long)).checked(OrgKind::Branch),
            Err(TreeError::TooLong)
        );
    }

    #[test]
    fn the_county_adds_host_organisations_only() {
        for kind in OrgKind::ALL {
            let new = NewOrg {
                kind,
                parent_id: None,
                details: details("新组织", Some("东莞")),
                secretary_phone: Some(" ".to_owned()),
            };
            match new.checked() {
                Ok(checked) => {
                    assert!(kind.is_host_side());
                    assert_eq!(checked.secretary_phone, None);
                }
                Err(error) => {
                    assert!(!kind.is_host_side());
                    assert_eq!(error, TreeError::Kind);
                }
            }
        }
    }

    #[test]
    fn a_new_organisation_reads_as_a_flat_json_object() {
        let json = r#"{"kind":"contact_point","name":"长安联络点","city":"东莞","secretary_phone":"13800000001"}"#;
        let new: NewOrg = serde_json::from_str(json).unwrap();
        assert_eq!(new.kind, OrgKind::ContactPoint);
        assert_eq!(new.details.name, "长安联络点");
        assert_eq!(new.parent_id, None);
    }
}
