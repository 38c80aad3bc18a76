//! Notices (通知): what the county, a township or a host organisation tells its members. A notice reaches every
//! member it is for in their next sync and is read offline; the phone then reports it read (`Op::ReadNotice`),
//! and the author sees who has read it and who has not.
//!
//! Who a notice of an organisation is for: a county's, every member whose home township is in the county; a
//! township's, every member whose home it is; a host organisation's, every member there now.

use serde::{Deserialize, Serialize};

use crate::Id;

/// A notice's title, at most this many characters.
pub const MAX_TITLE_CHARS: usize = 60;
/// A notice's text, at most this many characters: about a page.
pub const MAX_BODY_CHARS: usize = 2_000;

/// A notice as its members' phones keep it (`Record::Notice`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub id: Id,
    /// The organisation that sent it, and its name as the member knows it.
    pub org_id: Id,
    pub org_name: String,
    pub title: String,
    pub body: String,
    pub published_at: i64,
}

/// That the member read a notice, on any of their phones (`Record::NoticeRead`, theirs alone).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeRead {
    pub notice_id: Id,
    /// When it was read, by the phone's clock.
    pub read_at: i64,
}

/// A notice as its author writes it (`POST /api/v1/orgs/{id}/notices`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewNotice {
    pub title: String,
    pub body: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NoticeError {
    #[error("a title must be given, at most 60 characters")]
    Title,
    #[error("a text must be given, at most 2,000 characters")]
    Body,
}

impl NewNotice {
    /// The notice, trimmed, if it can be sent.
    pub fn checked(&self) -> Result<NewNotice, NoticeError> {
        let fits = |text: &str, max: usize| !text.is_empty() && text.chars().count() <= max;
        let (title, body) = (self.title.trim(), self.body.trim());
        if !fits(title, MAX_TITLE_CHARS) {
            return Err(NoticeError::Title);
        }
        if !fits(body, MAX_BODY_CHARS) {
            return Err(NoticeError::Body);
        }
        Ok(NewNotice {
            title: title.to_owned(),
            body: body.to_owned(),
        })
    }
}

/// A notice its author's organisation sent, with how many it is for and how many have read it
/// (`GET /api/v1/orgs/{id}/notices`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentNotice {
    pub notice: Notice,
    pub members: u32,
    pub read: u32,
}

/// Who has read a notice and who has not (`GET /api/v1/notices/{id}/receipts`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipts {
    pub notice: Notice,
    /// Read, the latest first.
    pub read: Vec<Reader>,
    /// Not read yet, by name.
    pub unread: Vec<Reader>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reader {
    pub person_id: Id,
    pub name: String,
    pub read_at: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notice_needs_a_title_and_a_text_that_fit() {
        let notice = |title: &str, body: &str| NewNotice {
            title: title.into(),
            body: body.into(),
        };
        let kept = notice("  十二月主题党日  ", "  12 月 6 日晚 7 点线上学习。 ")
            .checked()
            .unwrap();
        assert_eq!(
            (kept.title.as_str(), kept.body.as_str()),
            ("十二月主题党日", "12 月 6 日晚 7 点线上学习。")
        );
        assert_eq!(notice(" ", "x").checked(), Err(NoticeError::Title));
        assert_eq!(notice(&"题".repeat(61), "x").checked(), Err(NoticeError::Title));
        assert!(notice(&"题".repeat(60), &"文".repeat(2_000)).checked().is_ok());
        assert_eq!(notice("t", "").checked(), Err(NoticeError::Body));
        assert_eq!(notice("t", &"文".repeat(2_001)).checked(), Err(NoticeError::Body));
    }
}
