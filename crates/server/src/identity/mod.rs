//! Who is asking and what is theirs: sign-in and sessions (`auth`), the member's phones (`devices`), their own
//! record (`me`) and profile (`profile`), and the role checks every staff endpoint makes (`roles`).

pub mod auth;
pub mod devices;
pub mod me;
pub mod profile;
pub mod roles;

use crate::routes::Routes;

/// The area's endpoints, but sign-in (`auth::sign_in_routes`), which the router limits on its own.
pub fn routes() -> Routes {
    Routes::new()
        .merge(auth::routes())
        .merge(devices::routes())
        .merge(me::routes())
}
