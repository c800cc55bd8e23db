//! `/users`: staff accounts. Organisers manage them; a partner sees its organisation's users
//! and changes only its own e-mail and password.

use crate::auth::{self, SignedIn};
use crate::db::Db;
use crate::entities::user::Model;
use crate::error::{ApiError, ApiResult, Violation, violation};
use crate::http::{self, Page, PageRequest};
use crate::openapi::{string_enum, text};
use crate::policy::{self, Action, Object};
use crate::repo;
use crate::state::AppState;
use actix_web::web::{Data, Json, Path, Query};
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post};
use chrono::{DateTime, Utc};
use jobtour_domain::Fields;
use jobtour_domain::text::{Email, Password};
use jobtour_domain::user::{Membership, Role};
use sea_orm::ConnectionTrait;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

fn role_schema() -> utoipa::openapi::Object {
    string_enum(&Role::ALL.map(Role::as_str))
}

/// A staff user. The password is never returned.
#[derive(Debug, Serialize, ToSchema)]
pub struct User {
    pub id: Uuid,
    #[schema(example = "claire.martin@example.org")]
    pub email: String,
    #[schema(schema_with = role_schema)]
    pub role: String,
    /// The organisation a partner acts for.
    pub organisation_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Model> for User {
    fn from(m: Model) -> Self {
        Self {
            id: m.id,
            email: m.email,
            role: m.role,
            organisation_id: m.organisation_id,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// A new staff user.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    #[schema(schema_with = text::email, example = "claire.martin@example.org")]
    pub email: String,
    /// 10 to 1024 characters.
    #[schema(example = "a long passphrase", min_length = 10, max_length = 1024)]
    pub password: String,
    #[schema(schema_with = role_schema)]
    pub role: String,
    /// Required for a partner.
    pub organisation_id: Option<Uuid>,
}

/// Changes to a user. Partners may change only their own `email` and `password`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    #[serde(default, deserialize_with = "http::nullable")]
    #[schema(schema_with = text::email, required = false)]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "http::nullable")]
    #[schema(value_type = String, min_length = 10, max_length = 1024)]
    pub password: Option<Option<String>>,
    #[serde(default, deserialize_with = "http::nullable")]
    #[schema(schema_with = role_schema, required = false)]
    pub role: Option<Option<String>>,
    #[serde(default, deserialize_with = "http::nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub organisation_id: Option<Option<Uuid>>,
}

/// Filters and paging for the list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    #[param(schema_with = role_schema)]
    pub role: Option<String>,
    pub organisation_id: Option<Uuid>,
}

/// Lists users in creation order; a partner sees only its organisation's.
#[utoipa::path(operation_id = "listUsers", tag = "users", params(UserQuery), security(("bearer" = [])), responses(
    (status = 200, description = "One page of users", body = Page<User>),
))]
#[get("/users")]
pub async fn list(signed_in: SignedIn, state: Data<AppState>, query: Query<UserQuery>) -> ApiResult<Json<Page<User>>> {
    policy::may(&signed_in.actor(), Action::Read, Object::Users)?;
    let staff = &signed_in.0;
    let q = query.into_inner();
    let page = PageRequest::<Uuid>::parse(q.limit, q.cursor.as_deref())?;
    http::query_choice("role", q.role.as_deref(), Role::parse)?;
    let organisation_id = match (policy::organisation_scope(staff), q.organisation_id) {
        (Some(own), Some(asked)) if own != asked => {
            return Ok(Json(Page {
                items: vec![],
                next_cursor: None,
            }));
        }
        (Some(own), _) => Some(own),
        (None, asked) => asked,
    };
    let filter = repo::users::Filter {
        role: q.role,
        organisation_id,
    };
    let rows = repo::users::list(state.db.conn(), &filter, &page).await?;
    Ok(Json(http::page_of(rows, page.limit, |m| m.id, User::from)))
}

/// Creates a staff user (organisers only). 409 `email_taken` if the e-mail is in use.
#[utoipa::path(operation_id = "createUser", tag = "users", request_body = NewUser, security(("bearer" = [])), responses(
    (status = 201, description = "Created", body = User, headers(("Location" = String), ("ETag" = String))),
))]
#[post("/users")]
pub async fn create(signed_in: SignedIn, state: Data<AppState>, body: Json<NewUser>) -> ApiResult<HttpResponse> {
    let actor = signed_in.actor();
    policy::may(&actor, Action::Create, Object::Users)?;
    let model = create_user(&state.db, body.into_inner()).await?;
    let version = model.version;
    Ok(http::created(
        format!("/api/v1/users/{}", model.id),
        &User::from(model),
        version,
    ))
}

/// Checks and stores a new user; shared by the API and `jobtour user create`.
pub async fn create_user(db: &Db, new: NewUser) -> ApiResult<Model> {
    let mut f = Fields::default();
    let email = f.take("email", Email::parse(&new.email));
    let password = f.take("password", Password::parse(&new.password));
    let membership = f
        .take("role", Role::parse(&new.role))
        .and_then(|role| f.take("organisation_id", Membership::new(role, new.organisation_id)));
    let (email, password, membership) = f.finish(|| Some((email?, password?, membership?)))?;
    // Hash before the transaction: the write lock is not held during the slow part.
    let password_hash = auth::hash_password(password).await?;
    let tx = db.begin().await?;
    ensure_organisation(&tx, membership.organisation_id()).await?;
    let model = repo::users::insert(
        &tx,
        repo::users::NewUser {
            email: email.into_inner(),
            password_hash,
            role: membership.role().as_str().to_owned(),
            organisation_id: membership.organisation_id(),
        },
    )
    .await
    .map_err(email_taken)?;
    tx.commit().await?;
    Ok(model)
}

/// One user.
#[utoipa::path(operation_id = "getUser", tag = "users", params(("id" = Uuid, Path)), security(("bearer" = [])), responses(
    (status = 200, description = "The user", body = User, headers(("ETag" = String))),
))]
#[get("/users/{id}")]
pub async fn get(signed_in: SignedIn, state: Data<AppState>, id: Path<Uuid>) -> ApiResult<HttpResponse> {
    let actor = signed_in.actor();
    actor.staff()?;
    let model = repo::users::find(state.db.conn(), id.into_inner())
        .await?
        .ok_or_else(|| ApiError::not_found("user"))?;
    policy::may(&actor, Action::Read, object(&model))?;
    let version = model.version;
    Ok(http::ok_with_etag(&User::from(model), version))
}

/// Changes a user. Changing the password signs out the user's other sessions. Honours `If-Match`.
#[utoipa::path(operation_id = "updateUser", tag = "users", params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "ETag from a previous read")),
    request_body = UserPatch, security(("bearer" = [])), responses(
    (status = 200, description = "The changed user", body = User, headers(("ETag" = String))),
))]
#[patch("/users/{id}")]
pub async fn update(
    signed_in: SignedIn,
    state: Data<AppState>,
    req: HttpRequest,
    id: Path<Uuid>,
    body: Json<UserPatch>,
) -> ApiResult<HttpResponse> {
    let actor = signed_in.actor();
    let staff = *actor.staff()?;
    let id = id.into_inner();
    let patch = body.into_inner();
    // Refuse cheaply before the slow password hash…
    let seen = repo::users::find(state.db.conn(), id)
        .await?
        .ok_or_else(|| ApiError::not_found("user"))?;
    policy::may(&actor, Action::Update, object(&seen))?;
    let password_hash = match http::patch_present(patch.password, "password")? {
        Some(raw) => {
            let password = Password::parse(&raw).map_err(|e| ApiError::invalid_field("password", e.code, e.message))?;
            Some(auth::hash_password(password).await?)
        }
        None => None,
    };

    // …then decide on the locked, current row.
    let tx = state.db.begin().await?;
    let current = repo::users::find_for_update(&tx, id)
        .await?
        .ok_or_else(|| ApiError::not_found("user"))?;
    policy::may(&actor, Action::Update, object(&current))?;
    let mut f = Fields::default();
    let email = f.take_opt("email", http::patch_present(patch.email, "email")?, |e| {
        Email::parse(&e)
    });
    let role = f.take_opt("role", http::patch_present(patch.role, "role")?, |r| Role::parse(&r));
    let current_role = Role::parse(&current.role).map_err(|e| ApiError::internal(e.message))?;
    let new_role = role.flatten().unwrap_or(current_role);
    let new_org = patch.organisation_id.unwrap_or(current.organisation_id);
    let membership = f.take("organisation_id", Membership::new(new_role, new_org));
    let (email, membership) = f.finish(|| Some((email?, membership?)))?;
    // A bad body is a 422 whatever the version; only a valid change can be stale.
    http::check_if_match(&req, current.version)?;

    let changes_membership =
        membership.role() != current_role || membership.organisation_id() != current.organisation_id;
    if changes_membership && staff.role != Role::Organiser {
        return Err(ApiError::forbidden(
            "only an organiser may change a role or an organisation",
        ));
    }
    if changes_membership {
        ensure_organisation(&tx, membership.organisation_id()).await?;
    }
    let password_changed = password_hash.is_some();
    let changes = repo::users::Changes {
        email: email.map(Email::into_inner),
        password_hash,
        role: Some(membership.role().as_str().to_owned()),
        organisation_id: Some(membership.organisation_id()),
    };
    let model = repo::users::update(&tx, id, current.version, changes)
        .await
        .map_err(email_taken)?
        .ok_or_else(ApiError::precondition_failed)?;
    if password_changed {
        let keep = (staff.user_id == model.id).then_some(staff.session_id);
        repo::sessions::revoke_all(&tx, model.id, keep).await?;
    }
    tx.commit().await?;
    let version = model.version;
    Ok(http::ok_with_etag(&User::from(model), version))
}

/// Removes a user and signs out its sessions (organisers only; not oneself). Honours `If-Match`.
#[utoipa::path(operation_id = "deleteUser", tag = "users", params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "ETag from a previous read")),
    security(("bearer" = [])), responses((status = 204, description = "Deleted")))]
#[delete("/users/{id}")]
pub async fn delete(
    signed_in: SignedIn,
    state: Data<AppState>,
    req: HttpRequest,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let actor = signed_in.actor();
    let staff = *actor.staff()?;
    let tx = state.db.begin().await?;
    let current = repo::users::find_for_update(&tx, id.into_inner())
        .await?
        .ok_or_else(|| ApiError::not_found("user"))?;
    policy::may(&actor, Action::Delete, object(&current))?;
    if current.id == staff.user_id {
        return Err(ApiError::conflict(
            "cannot_delete_self",
            "you cannot delete your own account",
        ));
    }
    let in_use = "this user still owns data: remove it first";
    http::delete_versioned(tx, &req, current.version, in_use, async |tx| {
        repo::users::delete(tx, current.id, current.version).await
    })
    .await
}

fn object(m: &Model) -> Object {
    Object::User {
        id: m.id,
        organisation_id: m.organisation_id,
    }
}

async fn ensure_organisation(db: &impl ConnectionTrait, id: Option<Uuid>) -> ApiResult<()> {
    match id {
        Some(id) => crate::routes::organisations::ensure_exists(db, id, "organisation_id").await,
        None => Ok(()),
    }
}

fn email_taken(err: sea_orm::DbErr) -> ApiError {
    match violation(&err) {
        Some(Violation::Unique) => ApiError::conflict("email_taken", "a user with this e-mail already exists"),
        _ => err.into(),
    }
}
