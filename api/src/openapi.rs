//! The OpenAPI document: generated from the routes (each registered through
//! `utoipa_actix_web`), served at `/api/v1/openapi.json`, written to `openapi.yaml`.

use crate::routes;
use actix_web::App;
use actix_web::dev::{ServiceFactory, ServiceRequest};
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ArrayItems, KnownFormat, ObjectBuilder, Schema, SchemaFormat, SchemaType, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Object, OpenApi, Ref, RefOr};
use utoipa::{Modify, OpenApi as _};
use utoipa_actix_web::{AppExt, scope};

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "jobtour",
        description = "A recruitment campaign on wheels: a bus tours a region's cities, partner employers \
            post positions, candidates apply and book interview slots at the stops.\n\n\
            Errors are RFC 9457 `application/problem+json` with a stable `code`. Lists take `limit` \
            (1–200, default 50) and an opaque `cursor`, and answer `{ items, next_cursor }`. Single \
            resources carry an `ETag`; PATCH and DELETE honour `If-Match` (412 when stale). What anyone \
            may read without signing in carries an `ETag` too (lists included) and answers `304` to \
            `If-None-Match`, with `Cache-Control: public, no-cache`. A candidate's writes (applying, \
            booking, waiting lists) are limited per client address and minute: `429` with `Retry-After`. \
            Problems are told in French when French is the best match of `Accept-Language` \
            (`fr-FR,fr;q=0.9,en;q=0.8`), in English otherwise, and say which in `Content-Language`; \
            their codes are the same in both.",
        license(name = "AGPL-3.0-or-later")
    ),
    servers((url = "/")),
    tags(
        (name = "auth", description = "Staff sign-in"),
        (name = "organisations", description = "Partner organisations"),
        (name = "users", description = "Staff users"),
        (name = "tours", description = "Bus tours, their partners and schedule"),
        (name = "stops", description = "Where the bus stops, when"),
        (name = "positions", description = "The job board: open positions at the stops"),
        (name = "applications", description = "Applying, candidate self-service and the hiring pipeline"),
        (name = "slots", description = "Interview slots at the stops, bookings and waiting lines"),
        (name = "check-in", description = "At the bus: QR check-in codes, scanning (offline queues too), walk-ins, live attendance"),
        (name = "webhooks", description = "Partners' subscriptions to events about their positions"),
        (name = "enquiries", description = "The development agency's enquiry form: companies setting up, developing, recruiting"),
        (name = "audit", description = "Who changed what"),
        (name = "operations", description = "Health and metrics"),
    ),
    components(schemas(crate::error::Problem, crate::error::ProblemField, crate::live::CheckinEvent)),
    modifiers(&Security)
)]
struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, doc: &mut OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A token from POST /api/v1/auth/login"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "candidate",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A candidate's access token, from the answer to POST /api/v1/positions/{id}/applications",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "enquirer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An enquiry's access token, from the answer to POST /api/v1/enquiries",
                    ))
                    .build(),
            ),
        );
    }
}

/// Mounts every route on `app` and returns it with the document those routes describe.
pub fn mount<T>(app: App<T>) -> (App<T>, OpenApi)
where
    T: ServiceFactory<ServiceRequest, Config = (), Error = actix_web::Error, InitError = ()>,
{
    let (app, doc) = app
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .service(scope::scope("/api/v1").configure(routes::api))
        .configure(routes::ops)
        .split_for_parts();
    (app, forbid_nul(with_problem_responses(doc)))
}

/// The document alone, as served.
pub fn document() -> OpenApi {
    mount(App::new()).1
}

/// The document as committed in `openapi.yaml`.
pub fn yaml() -> String {
    document().to_yaml().unwrap_or_default()
}

/// An inline string schema limited to `values`.
pub fn string_enum(values: &[&str]) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values.iter().copied()))
        .build()
}

/// Like [`string_enum`], or `null`.
pub fn string_enum_or_null(values: &[&str]) -> Object {
    let values = values
        .iter()
        .map(|v| serde_json::Value::from(*v))
        .chain([serde_json::Value::Null]);
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .enum_values(Some(values))
        .build()
}

/// The schemas of free text, written to say exactly what `jobtour_domain::text` accepts, so
/// that clients (and schemathesis) can tell valid input from invalid before sending it.
pub mod text {
    use jobtour_domain::organisation::MAX_SECTORS;
    use jobtour_domain::text::{Email, WebUrl};
    use utoipa::openapi::schema::{ArrayBuilder, KnownFormat, ObjectBuilder, SchemaFormat, SchemaType, Type};
    use utoipa::openapi::{Array, Object};

    /// No control characters (Unicode Cc) but tab, line feed and carriage return.
    const ANY: &str = r"[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]";
    /// Neither a control character nor white space.
    const VISIBLE: &str = r"[^\s\u0000-\u001F\u007F-\u009F]";

    fn string(nullable: bool) -> ObjectBuilder {
        let types = if nullable {
            SchemaType::from_iter([Type::String, Type::Null])
        } else {
            SchemaType::new(Type::String)
        };
        ObjectBuilder::new().schema_type(types)
    }

    fn bounded(max: usize, nullable: bool) -> Object {
        string(nullable)
            .min_length(Some(1))
            .max_length(Some(max))
            .pattern(Some(format!("^{ANY}*{VISIBLE}{ANY}*$")))
            .build()
    }

    /// A name, a title, a city: 1 to 200 characters, not blank.
    pub fn name() -> Object {
        bounded(200, false)
    }

    pub fn name_or_null() -> Object {
        bounded(200, true)
    }

    /// Long free text, up to 10 000 characters; may be blank (stored as null).
    pub fn long_or_null() -> Object {
        free_text_or_null(10_000)
    }

    /// A candidate's message to the employer, up to 5 000 characters.
    pub fn message_or_null() -> Object {
        free_text_or_null(5_000)
    }

    /// A staff note, up to 2 000 characters.
    pub fn note_or_null() -> Object {
        free_text_or_null(2_000)
    }

    fn free_text_or_null(max: usize) -> Object {
        string(true)
            .max_length(Some(max))
            .pattern(Some(format!("^{ANY}*$")))
            .build()
    }

    /// A business sector: 1 to 60 characters, not blank.
    pub fn sector_or_null() -> Object {
        bounded(60, true)
    }

    /// A postcode: 1 to 20 characters, not blank.
    pub fn postcode_or_null() -> Object {
        bounded(20, true)
    }

    /// A person's first or last name: 1 to 100 characters, not blank.
    pub fn person_name() -> Object {
        bounded(100, false)
    }

    fn email_schema(nullable: bool) -> Object {
        string(nullable)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Email)))
            .max_length(Some(Email::MAX_LEN))
            .build()
    }

    pub fn email() -> Object {
        email_schema(false)
    }

    pub fn email_or_null() -> Object {
        email_schema(true)
    }

    /// An `http://` or `https://` address.
    pub fn web_url_or_null() -> Object {
        string(true)
            .max_length(Some(WebUrl::MAX_LEN))
            .pattern(Some(format!(
                r"^https?://[^/?#:@\[\]\s\u0000-\u001F\u007F-\u009F]+(:[0-9]{{1,5}})?([/?#]{VISIBLE}*)?$"
            )))
            .build()
    }

    /// Business sectors: up to 20, each 1 to 60 characters.
    pub fn sectors() -> Array {
        ArrayBuilder::new()
            .items(bounded(60, false))
            .max_items(Some(MAX_SECTORS))
            .build()
    }
}

/// Whether anyone may call the operation without signing in.
fn anonymous(op: &Operation) -> bool {
    op.security.as_ref().is_none_or(|reqs| {
        reqs.iter()
            .any(|r| r == &utoipa::openapi::security::SecurityRequirement::default())
    })
}

/// A public read's conditional form: `If-None-Match` and its `304`.
fn not_modified(op: &mut Operation) {
    use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
    op.responses.responses.entry("304".to_owned()).or_insert_with(|| {
        ResponseBuilder::new()
            .description("Not modified: `If-None-Match` names the current `ETag`")
            .build()
            .into()
    });
    op.parameters.get_or_insert_with(Vec::new).push(
        ParameterBuilder::new()
            .name("If-None-Match")
            .parameter_in(ParameterIn::Header)
            .description(Some("`ETag`s the client holds; a match answers 304 without a body"))
            .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
            .build(),
    );
}

/// The route patterns that anyone may GET without signing in (the API's, not the probes'):
/// what [`crate::cache`] may keep.
pub fn anonymous_reads(doc: &OpenApi) -> std::collections::HashSet<String> {
    doc.paths
        .paths
        .iter()
        .filter(|(path, item)| path.starts_with("/api/") && item.get.as_ref().is_some_and(anonymous))
        .map(|(path, _)| path.clone())
        .collect()
}

/// Documents, on every operation, the problem answers the shared machinery can give: bad
/// input, authentication, missing resources, stale `If-Match`, oversize bodies, overload.
fn with_problem_responses(mut doc: OpenApi) -> OpenApi {
    for (path, item) in doc.paths.paths.iter_mut() {
        let api = path.starts_with("/api/");
        let has_id = path.contains('{');
        for (method, op) in operations(item) {
            let mut add = |code: &str, why: &str| {
                op.responses.responses.entry(code.to_owned()).or_insert_with(|| {
                    ResponseBuilder::new()
                        .description(why)
                        .content(
                            crate::error::PROBLEM_JSON,
                            ContentBuilder::new()
                                .schema(Some(Ref::from_schema_name("Problem")))
                                .build(),
                        )
                        .build()
                        .into()
                });
            };
            add("500", "Unexpected failure (logged; no details are sent)");
            if !api {
                continue;
            }
            add(
                "400",
                "Malformed request: bad JSON, unknown field, bad query or path parameter",
            );
            add("401", "Missing, invalid or expired bearer token");
            add("503", "The database is busy or unreachable; retry after `Retry-After`");
            if op.security.is_some() {
                add("403", "Not allowed for this caller");
            }
            if has_id {
                add("404", "No such resource (or not visible to this caller)");
            }
            if op.request_body.is_some() {
                add("413", "Body larger than 1 MiB");
                add("415", "Body is not JSON");
                add("422", "Invalid field values; see `errors`");
            }
            if matches!(method, "post" | "put" | "patch" | "delete") {
                add("409", "Conflicts with the current state (duplicate, still in use…)");
            }
            if matches!(method, "patch" | "delete") {
                add("412", "`If-Match` does not match the current `ETag`");
            }
            if crate::routes::listed(crate::limits::CANDIDATE_WRITES, method, path) {
                add(
                    "429",
                    "Too many applications and bookings from this address this minute; retry after `Retry-After` seconds",
                );
            }
            if method == "get" && anonymous(op) {
                not_modified(op);
            }
        }
    }
    doc
}

/// What the edge refuses in every string (`crate::edge`), said by the document: a string
/// schema with no pattern of its own (the free-text ones have theirs) gets one that excludes
/// NUL, so that clients and schemathesis know before sending.
fn forbid_nul(mut doc: OpenApi) -> OpenApi {
    if let Some(components) = doc.components.as_mut() {
        for schema in components.schemas.values_mut() {
            no_nul(schema);
        }
    }
    for item in doc.paths.paths.values_mut() {
        for (_, op) in operations(item) {
            for schema in op.parameters.iter_mut().flatten().filter_map(|p| p.schema.as_mut()) {
                no_nul(schema);
            }
            for content in op.request_body.iter_mut().flat_map(|b| b.content.values_mut()) {
                if let Some(schema) = content.schema.as_mut() {
                    no_nul(schema);
                }
            }
        }
    }
    doc
}

/// A JSON Schema pattern that any text without NUL matches.
pub const NO_NUL: &str = r"^[^\u0000]*$";

fn no_nul(schema: &mut RefOr<Schema>) {
    let RefOr::T(schema) = schema else {
        return;
    };
    match schema {
        Schema::Object(o) => {
            let string = match &o.schema_type {
                SchemaType::Type(t) => *t == Type::String,
                SchemaType::Array(types) => types.contains(&Type::String),
                SchemaType::AnyValue => false,
            };
            let typed = matches!(
                o.format,
                Some(SchemaFormat::KnownFormat(
                    KnownFormat::Uuid | KnownFormat::Date | KnownFormat::DateTime
                ))
            );
            if string && !typed && o.pattern.is_none() && o.enum_values.is_none() {
                o.pattern = Some(NO_NUL.to_owned());
            }
            o.properties.values_mut().for_each(no_nul);
        }
        Schema::Array(a) => {
            if let ArrayItems::RefOrSchema(items) = &mut a.items {
                no_nul(items);
            }
        }
        Schema::OneOf(x) => x.items.iter_mut().for_each(no_nul),
        Schema::AllOf(x) => x.items.iter_mut().for_each(no_nul),
        Schema::AnyOf(x) => x.items.iter_mut().for_each(no_nul),
        _ => {}
    }
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = (&'static str, &mut Operation)> {
    [
        ("get", item.get.as_mut()),
        ("post", item.post.as_mut()),
        ("put", item.put.as_mut()),
        ("patch", item.patch.as_mut()),
        ("delete", item.delete.as_mut()),
    ]
    .into_iter()
    .filter_map(|(m, op)| op.map(|op| (m, op)))
}
