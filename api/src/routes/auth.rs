//! `/auth/login`, `/auth/logout`, `/me`: staff sign-in with e-mail and password.

use crate::auth::{self, SignedIn};
use crate::error::{ApiError, ApiResult};
use crate::repo;
use crate::routes::users::User;
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::web::{Data, Json};
use actix_web::{HttpRequest, HttpResponse, get, post};
use chrono::{DateTime, TimeDelta, Utc};
use jobtour_domain::text::{Email, Password};
use jobtour_domain::throttle::ThrottlePolicy;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// E-mail and password.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    #[schema(example = "organiser@jobtour.example", max_length = 254)]
    pub email: String,
    #[schema(example = "a long passphrase", max_length = 1024)]
    pub password: String,
}

/// A bearer token for `Authorization: Bearer <token>`, and who it belongs to.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoginAnswer {
    /// Shown once; store it like a password.
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub user: User,
}

/// Signs a staff user in. Repeated failures for one account, or from one address, are
/// answered 429 with `Retry-After` for a while.
#[utoipa::path(operation_id = "login", tag = "auth", request_body = Credentials, responses(
    (status = 200, description = "Signed in", body = LoginAnswer),
    (status = 401, description = "Wrong e-mail or password", body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 429, description = "Too many failed attempts", body = crate::error::Problem, content_type = "application/problem+json",
        headers(("Retry-After" = u64, description = "Seconds to wait"))),
))]
#[post("/auth/login")]
pub async fn login(state: Data<AppState>, req: HttpRequest, body: Json<Credentials>) -> ApiResult<Json<LoginAnswer>> {
    let Credentials { email, password } = body.into_inner();
    let email = Email::parse(&email)
        .map(Email::into_inner)
        .unwrap_or_else(|_| email.trim().to_lowercase());
    let account_key = format!("account:{email}");
    let address_key = format!(
        "address:{}",
        crate::limits::client_address(
            req.peer_addr().map(|a| a.ip()),
            req.headers(),
            &state.settings.trusted_proxies
        )
        .map(|ip| ip.to_string())
        .unwrap_or_default()
    );
    let now = repo::now();

    for key in [&account_key, &address_key] {
        if let Some(left) = repo::throttle::get(state.db.conn(), key)
            .await?
            .and_then(|s| s.locked_for(now))
        {
            return Err(ApiError::too_many_attempts(seconds(left)));
        }
    }

    let user = repo::users::find_by_email(state.db.conn(), &email).await?;
    // An over-long password is wrong without being hashed (hashing cost is bounded).
    let plausible = Password::parse(&password).is_ok();
    let verified = plausible && auth::verify_password(password, user.as_ref().map(|u| u.password_hash.clone())).await?;

    let tx = state.db.begin().await?;
    let Some(user) = user.filter(|_| verified) else {
        let account = repo::throttle::record_failure(&tx, &account_key, ThrottlePolicy::ACCOUNT, now).await?;
        let address = repo::throttle::record_failure(&tx, &address_key, ThrottlePolicy::ADDRESS, now).await?;
        tx.commit().await?;
        tracing::warn!(
            locked = account.locked_until.is_some() || address.locked_until.is_some(),
            "failed login"
        );
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "wrong e-mail or password",
        ));
    };
    repo::throttle::clear(&tx, &account_key).await?;
    let (token, hash) = auth::new_token();
    let expires_at = now + TimeDelta::minutes(i64::from(state.settings.token_ttl_minutes));
    repo::sessions::insert(&tx, user.id, hash, expires_at).await?;
    tx.commit().await?;
    Ok(Json(LoginAnswer {
        token,
        expires_at,
        user: User::from(user),
    }))
}

/// Revokes the token used for this request.
#[utoipa::path(operation_id = "logout", tag = "auth", security(("bearer" = [])), responses((status = 204, description = "Signed out")))]
#[post("/auth/logout")]
pub async fn logout(signed_in: SignedIn, state: Data<AppState>) -> ApiResult<HttpResponse> {
    let actor = signed_in.actor();
    let staff = actor.staff()?;
    repo::sessions::revoke(state.db.conn(), staff.session_id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The signed-in user.
#[utoipa::path(operation_id = "getMe", tag = "auth", security(("bearer" = [])), responses((status = 200, description = "The caller", body = User)))]
#[get("/me")]
pub async fn me(signed_in: SignedIn, state: Data<AppState>) -> ApiResult<Json<User>> {
    let actor = signed_in.actor();
    let staff = actor.staff()?;
    let user = repo::users::find(state.db.conn(), staff.user_id)
        .await?
        .ok_or_else(ApiError::unauthenticated)?;
    Ok(Json(User::from(user)))
}

fn seconds(left: TimeDelta) -> u64 {
    u64::try_from(left.num_seconds()).unwrap_or(0) + 1
}
