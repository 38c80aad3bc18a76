//! Which of the app's screens are the staff app's. Members download the member app only; the staff app (the
//! member app and the staff screens) answers the paths below. The server gives its page to a visit of one of
//! them, the service worker does so offline, and the member app leaves for it with a full page load.

/// The staff screens' path prefixes: an organisation's, a township's and a county's screens (with the
/// activities a secretary runs), a member card scanned at the door to record, and a notice's receipts.
pub const STAFF_PATHS: [&str; 5] = ["/org/", "/township/", "/county/", "/record/", "/receipts/"];

/// Where the staff app's files are, beside the member app's.
pub const STAFF_APP_DIR: &str = "staff";

/// Whether `path` (a URL's path) is one of the staff app's screens.
pub fn is_staff_path(path: &str) -> bool {
    STAFF_PATHS.iter().any(|prefix| path.starts_with(prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staff_screens_are_the_staff_apps() {
        for staff in [
            "/org/1f0a",
            "/org/1f0a/activities/2b/code",
            "/township/x",
            "/county/y",
            "/record/AQ",
            "/receipts/9",
        ] {
            assert!(is_staff_path(staff), "{staff}");
        }
        for member in [
            "/",
            "/q/AQ",
            "/notices/9",
            "/activities",
            "/organisation",
            "/orgs",
            "/scan",
        ] {
            assert!(!is_staff_path(member), "{member}");
        }
    }
}
