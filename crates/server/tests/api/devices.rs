//! Signing in on another phone with a PIN, the lockout after wrong PINs, one-time activation codes, and the
//! member's list of phones, any of which they can revoke.

use axum::http::{Method, StatusCode};
use guihai_core::profile::{Edit, Field};
use guihai_core::roster::SignInPhone;
use guihai_core::sync::{Device, ErrorBody, Mutation, Op, PinSignIn, SessionResponse, SetPin};

use crate::{fresh_id, now_ms, Server, Session};

const PHONE_OF_M07: &str = "13900000007";

impl Server {
    async fn set_pin(&self, session: &Session, pin: &str) -> StatusCode {
        let body = SetPin {
            pin: pin.to_owned(),
            current: None,
        };
        self.send(Method::PUT, "/api/v1/me/pin", Some(&session.token), Some(&body))
            .await
            .status
    }

    async fn sign_in_with_pin(&self, phone: &str, pin: &str) -> (StatusCode, Option<SessionResponse>, ErrorBody) {
        let body = PinSignIn {
            phone: phone.to_owned(),
            pin: pin.to_owned(),
            client_id: fresh_id(),
        };
        let reply = self.send(Method::POST, "/api/v1/session/pin", None, Some(&body)).await;
        if reply.status == StatusCode::OK {
            (
                reply.status,
                Some(reply.json()),
                ErrorBody {
                    error: String::new(),
                    last_seq: None,
                    locked_until: None,
                },
            )
        } else {
            (reply.status, None, reply.json())
        }
    }

    async fn devices(&self, session: &Session) -> Vec<Device> {
        let reply = self.get("/api/v1/devices", Some(&session.token)).await;
        assert_eq!(reply.status, StatusCode::OK);
        reply.json()
    }
}

#[tokio::test]
async fn a_pin_set_after_activation_signs_in_on_another_phone() {
    let server = Server::start().await;
    let first = server.sign_in("GH-M07").await;
    assert_eq!(server.set_pin(&first, "12a456").await, StatusCode::BAD_REQUEST);
    assert_eq!(server.set_pin(&first, "246810").await, StatusCode::NO_CONTENT);

    let (status, second, _) = server.sign_in_with_pin(" 139-0000-0007 ", "246810").await;
    assert_eq!(status, StatusCode::OK, "the number as people type it");
    let second = second.unwrap();
    assert_eq!(second.me.id, first.me.id);
    assert!(second.pin_set);
    let (status, _, body) = server.sign_in_with_pin(PHONE_OF_M07, "000000").await;
    assert_eq!((status, body.error.as_str()), (StatusCode::UNAUTHORIZED, "bad_pin"));
    let (status, _, _) = server.sign_in_with_pin("13900000008", "246810").await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "another member's number with this PIN"
    );
}

/// The number a member signs in with, as their township administrator reads or sets it: status and number.
async fn sign_in_phone(
    server: &Server,
    admin: &Session,
    member: &Session,
    set: Option<&str>,
) -> (StatusCode, Option<String>) {
    let path = format!("/api/v1/people/{}/sign-in-phone", member.me.id);
    let reply = match set {
        None => server.get(&path, Some(&admin.token)).await,
        Some(number) => {
            let body = SignInPhone {
                phone: Some(number.to_owned()),
            };
            server.send(Method::POST, &path, Some(&admin.token), Some(&body)).await
        }
    };
    if reply.status != StatusCode::OK {
        return (reply.status, Some(reply.json::<ErrorBody>().error));
    }
    (reply.status, reply.json::<SignInPhone>().phone)
}

#[tokio::test]
async fn the_number_a_member_signs_in_with_is_theirs_alone_and_only_their_township_changes_it() {
    let server = Server::start().await;
    let member = server.sign_in("GH-M07").await;
    assert_eq!(server.set_pin(&member, "246810").await, StatusCode::NO_CONTENT);
    // 赵红梅 (GH-M07) is of 新安镇, whose administrator is GH-T01.
    let admin = server.sign_in("GH-T01").await;
    assert_eq!(
        sign_in_phone(&server, &admin, &member, None).await,
        (StatusCode::OK, Some(PHONE_OF_M07.into()))
    );

    // The member changes the number on their profile (from a stolen phone, say): sign-in does not follow it.
    let edit = Edit {
        base_version: 0,
        fields: [(Field::Phone, "13812345678".to_owned())].into(),
    };
    let mutation = Mutation {
        seq: 1,
        occurred_at: now_ms(),
        op: Op::EditProfile(edit),
    };
    assert_eq!(server.push(&member, vec![mutation]).await.status, StatusCode::OK);
    assert_eq!(
        server.sign_in_with_pin("13812345678", "246810").await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(server.sign_in_with_pin(PHONE_OF_M07, "246810").await.0, StatusCode::OK);

    // The township moves it when the member asks; a number someone else signs in with is refused.
    let taken = sign_in_phone(&server, &admin, &member, Some("139-0000-0001")).await;
    assert_eq!(taken, (StatusCode::CONFLICT, Some("phone_taken".into())));
    // Not a mobile number (a digit short, a landline): PIN sign-in could never use it.
    for bad in ["call me", "1381234567", "0571-82610388"] {
        let refused = sign_in_phone(&server, &admin, &member, Some(bad)).await;
        assert_eq!(refused, (StatusCode::BAD_REQUEST, Some("invalid".into())), "{bad}");
    }
    let moved = sign_in_phone(&server, &admin, &member, Some("+86 138 1234 5678")).await;
    assert_eq!(moved, (StatusCode::OK, Some("13812345678".into())));
    assert_eq!(
        server.sign_in_with_pin("138-1234-5678", "246810").await.0,
        StatusCode::OK
    );
    assert_eq!(
        server.sign_in_with_pin(PHONE_OF_M07, "246810").await.0,
        StatusCode::UNAUTHORIZED
    );

    // Only their own township: another's administrator, and the member themself, learn nothing.
    let other_admin = server.sign_in("GH-T02").await;
    assert_eq!(
        sign_in_phone(&server, &other_admin, &member, None).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        sign_in_phone(&server, &member, &member, Some("13900000099")).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn five_wrong_pins_close_pin_sign_in_for_a_while_and_each_one_more_for_longer() {
    let server = Server::start().await;
    let member = server.sign_in("GH-M07").await;
    server.set_pin(&member, "246810").await;
    for _ in 0..5 {
        assert_eq!(
            server.sign_in_with_pin(PHONE_OF_M07, "111111").await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    let (status, _, body) = server.sign_in_with_pin(PHONE_OF_M07, "246810").await;
    assert_eq!((status, body.error.as_str()), (StatusCode::TOO_MANY_REQUESTS, "locked"));
    let until = body.locked_until.unwrap();
    assert!(
        until > now_ms() + 29_000 && until <= now_ms() + 30_000,
        "30 s after the fifth"
    );

    // Once the time is up (moved here in the database), each wrong PIN closes it again, for twice as long.
    let time_is_up = async || {
        sqlx::query("UPDATE people SET pin_locked_until = ? WHERE pin_locked_until IS NOT NULL")
            .bind(now_ms() - 1)
            .execute(&server.state.db)
            .await
            .unwrap();
    };
    for (wrong, seconds) in [(6, 60), (7, 120), (8, 240), (9, 480), (10, 900), (11, 900)] {
        time_is_up().await;
        let (status, _, body) = server.sign_in_with_pin(PHONE_OF_M07, "111111").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "the {wrong}th is checked");
        let (_, _, body_after) = server.sign_in_with_pin(PHONE_OF_M07, "246810").await;
        assert_eq!(body_after.error, "locked");
        let until = body_after.locked_until.unwrap();
        let _ = body;
        assert!(
            until > now_ms() + (seconds - 1) * 1000 && until <= now_ms() + seconds * 1000,
            "closed {seconds} s after the {wrong}th"
        );
    }

    // The right PIN works once it is open again, and the count starts again.
    time_is_up().await;
    assert_eq!(server.sign_in_with_pin(PHONE_OF_M07, "246810").await.0, StatusCode::OK);
    assert_eq!(
        server
            .count("SELECT pin_failures FROM people WHERE pin_hash IS NOT NULL")
            .await,
        0
    );
}

#[tokio::test]
async fn an_activation_code_works_once_and_not_after_it_expires() {
    let server = Server::start().await;
    // Real codes (unlike the demo's) are one-time; a roster import makes them so.
    sqlx::query("UPDATE people SET activation_reusable = 0")
        .execute(&server.state.db)
        .await
        .unwrap();
    assert_eq!(server.sign_in_with("GH-M08", fresh_id()).await.status, StatusCode::OK);
    assert_eq!(
        server.sign_in_with("GH-M08", fresh_id()).await.status,
        StatusCode::UNAUTHORIZED
    );

    sqlx::query("UPDATE people SET activation_expires_at = ?")
        .bind(now_ms() - 1)
        .execute(&server.state.db)
        .await
        .unwrap();
    let reply = server.sign_in_with("GH-M09", fresh_id()).await;
    assert_eq!(
        (reply.status, reply.error().1.as_str()),
        (StatusCode::UNAUTHORIZED, "bad_code")
    );
}

#[tokio::test]
async fn a_member_lists_their_phones_and_revokes_one_which_is_then_told_so() {
    let server = Server::start().await;
    let lost = server.sign_in("GH-M07").await;
    let kept = server.sign_in("GH-M07").await;
    let stranger = server.sign_in("GH-M08").await;

    let devices = server.devices(&kept).await;
    assert_eq!(devices.len(), 2);
    assert_eq!(devices.iter().filter(|d| d.current).count(), 1);
    let lost_id = devices.iter().find(|d| !d.current).unwrap().id;
    assert!(server.devices(&stranger).await.iter().all(|d| d.id != lost_id));

    let path = format!("/api/v1/devices/{lost_id}");
    assert_eq!(
        server
            .send(Method::DELETE, &path, Some(&stranger.token), None::<&()>)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        server
            .send(Method::DELETE, &path, Some(&kept.token), None::<&()>)
            .await
            .status,
        StatusCode::NO_CONTENT
    );

    let reply = server.get("/api/v1/me", Some(&lost.token)).await;
    assert_eq!(
        (reply.status, reply.error().1.as_str()),
        (StatusCode::UNAUTHORIZED, "session_revoked")
    );
    let reply = server.get("/api/v1/me", Some("not-a-token")).await;
    assert_eq!(
        (reply.status, reply.error().1.as_str()),
        (StatusCode::UNAUTHORIZED, "unauthorized")
    );
    assert_eq!(server.devices(&kept).await.len(), 1);
}

#[tokio::test]
async fn the_township_administrator_lists_and_revokes_a_members_phone_and_nobody_else_may() {
    let server = Server::start().await;
    let member = server.sign_in("GH-M01").await; // 新安镇
    let admin = server.sign_in("GH-T01").await;
    let other = server.sign_in("GH-T02").await;
    let path = format!("/api/v1/people/{}/devices", member.me.id);
    assert_eq!(
        server.get(&path, Some(&other.token)).await.status,
        StatusCode::NOT_FOUND
    );
    let devices: Vec<Device> = server.get(&path, Some(&admin.token)).await.json();
    assert_eq!(devices.len(), 1);
    assert!(!devices[0].current, "not the administrator's own phone");
    let revoke = format!("/api/v1/devices/{}", devices[0].id);
    let refused = server
        .send(Method::DELETE, &revoke, Some(&other.token), None::<&()>)
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    let revoked = server
        .send(Method::DELETE, &revoke, Some(&admin.token), None::<&()>)
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    assert_eq!(
        server.get("/api/v1/me", Some(&member.token)).await.error(),
        (StatusCode::UNAUTHORIZED, "session_revoked".to_owned())
    );
}

#[tokio::test]
async fn revoking_a_lost_phone_can_forget_the_pin_whoever_saw_it_typed() {
    let server = Server::start().await;
    let kept = server.sign_in("GH-M07").await;
    assert_eq!(server.set_pin(&kept, "246810").await, StatusCode::NO_CONTENT);
    let (status, lost, _) = server.sign_in_with_pin(PHONE_OF_M07, "246810").await;
    assert_eq!(status, StatusCode::OK);
    let lost = lost.unwrap();
    let lost_id = server.devices(&kept).await.into_iter().find(|d| !d.current).unwrap().id;
    let reply = server
        .send(
            Method::DELETE,
            &format!("/api/v1/devices/{lost_id}?forget_pin=true"),
            Some(&kept.token),
            None::<&()>,
        )
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert_eq!(
        server.get("/api/v1/me", Some(&lost.token)).await.error(),
        (StatusCode::UNAUTHORIZED, "session_revoked".to_owned())
    );
    // The PIN seen on the lost phone signs in nowhere; the member sets a new one on the phone they kept.
    let (status, _, body) = server.sign_in_with_pin(PHONE_OF_M07, "246810").await;
    assert_eq!((status, body.error.as_str()), (StatusCode::UNAUTHORIZED, "bad_pin"));
    assert_eq!(server.set_pin(&kept, "135790").await, StatusCode::NO_CONTENT);
    assert_eq!(server.sign_in_with_pin(PHONE_OF_M07, "135790").await.0, StatusCode::OK);
}

#[tokio::test]
async fn one_number_given_to_two_members_at_once_goes_to_one_of_them() {
    let server = Server::start().await;
    let admin = server.sign_in("GH-T01").await;
    // Both of 新安镇 (GH-T01's township).
    let first = server.sign_in("GH-M01").await;
    let second = server.sign_in("GH-M04").await;
    let (a, b) = tokio::join!(
        sign_in_phone(&server, &admin, &first, Some("13812340000")),
        sign_in_phone(&server, &admin, &second, Some("138 1234 0000")),
    );
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT], "{a:?} {b:?}");
    let holders = server
        .count("SELECT count(*) FROM people WHERE sign_in_phone = '13812340000'")
        .await;
    assert_eq!(holders, 1);
}
