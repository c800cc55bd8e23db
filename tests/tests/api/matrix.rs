//! The authorisation matrix: every endpoint × every role × own/other object. Later resources
//! add their rows here.

use crate::common::{TestApp, both, expect_json};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

both!(authorisation_matrix);

#[derive(Debug, Clone, Copy)]
enum Who {
    Anonymous,
    Organiser,
    /// A partner of organisation A.
    Partner,
    /// The candidate who made application `own_application`.
    Candidate,
}

/// The objects the matrix acts on: organisation A (the partner's own) and B (another), a
/// colleague of the partner in A, a stranger in B, and the partner itself.
struct World {
    own_org: String,
    other_org: String,
    colleague: String,
    stranger: String,
    me: String,
    partner_token: String,
    draft_tour: String,
    public_tour: String,
    draft_stop: String,
    public_stop: String,
    /// Positions of A and B on the public tour: one open each, one draft each.
    own_position: String,
    own_draft_position: String,
    other_position: String,
    other_draft_position: String,
    /// Applications to A's and B's open positions, and the token of A's.
    own_application: String,
    other_application: String,
    candidate_token: String,
    /// Interview slots at the public stop: A's and B's; and A's at the draft tour's stop.
    own_slot: String,
    other_slot: String,
    draft_slot: String,
    /// Webhooks of A and B (on an event the matrix never causes).
    own_hook: String,
    other_hook: String,
    /// An enquiry to the development agency.
    enquiry: String,
}

async fn world(app: &TestApp) -> World {
    let a = app.create_organisation("Organisation A").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let b = app.create_organisation("Organisation B").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (me, partner_token) = app.partner_of(&a).await;
    let (colleague, _) = app.partner_of(&a).await;
    let (stranger, _) = app.partner_of(&b).await;
    let id = |v: &Value| v["id"].as_str().unwrap().to_owned();
    let draft = crate::tours::tour(app).await;
    let public = crate::tours::tour(app).await;
    let stop = |t: &Value| {
        let path = format!("/api/v1/tours/{}/stops", crate::tours::id(t));
        let body = crate::tours::stop_body(
            "Metz",
            49.1193,
            6.1757,
            "2027-10-19T09:00:00+02:00",
            "2027-10-19T17:00:00+02:00",
        );
        async move { expect_json(app.post(&path, Some(&app.organiser), &body).await, StatusCode::CREATED).await }
    };
    let (draft_stop, public_stop) = (stop(&draft).await, stop(&public).await);
    let res = app
        .patch(
            &format!("/api/v1/tours/{}", id(&public)),
            Some(&app.organiser),
            &json!({ "status": "published" }),
        )
        .await;
    expect_json(res, StatusCode::OK).await;
    for org in [&a, &b] {
        crate::positions::join(app, &id(&public), org).await;
    }
    let position = |org: &str, status: &str| {
        let body = json!({ "tour_id": id(&public), "organisation_id": org, "title": "Conseiller", "contract_type": "cdi",
                           "city": "Metz", "status": status });
        async move {
            id(&expect_json(
                app.post("/api/v1/positions", Some(&app.organiser), &body).await,
                StatusCode::CREATED,
            )
            .await)
        }
    };
    let (own_position, own_draft_position) = (position(&a, "open").await, position(&a, "draft").await);
    let (other_position, other_draft_position) = (position(&b, "open").await, position(&b, "draft").await);
    let own = crate::applications::apply_with(
        app,
        &own_position,
        &crate::applications::application_body("own@matrix.example"),
    )
    .await;
    let other_application = crate::applications::apply(app, &other_position, "other@matrix.example").await;
    crate::positions::join(app, &id(&draft), &a).await;
    let slot = |stop: &Value, org: &str, hour: u32| {
        let body = json!({ "organisation_id": org, "starts_at": format!("2027-10-19T{hour:02}:00:00+02:00"),
                           "ends_at": format!("2027-10-19T{hour:02}:20:00+02:00") });
        let path = format!("/api/v1/stops/{}/slots", id(stop));
        async move { id(&expect_json(app.post(&path, Some(&app.organiser), &body).await, StatusCode::CREATED).await) }
    };
    let (own_slot, other_slot) = (slot(&public_stop, &a, 10).await, slot(&public_stop, &b, 10).await);
    let draft_slot = slot(&draft_stop, &a, 10).await;
    let hook = |org: &str| {
        let path = format!("/api/v1/organisations/{org}/webhooks");
        let body = json!({ "url": "https://93.184.215.14/hooks", "events": ["position.filled"] });
        async move { id(&expect_json(app.post(&path, Some(&app.organiser), &body).await, StatusCode::CREATED).await) }
    };
    let (own_hook, other_hook) = (hook(&a).await, hook(&b).await);
    let enquiry = id(&expect_json(
        app.post("/api/v1/enquiries", None, &enquiry_body("first@matrix.example"))
            .await,
        StatusCode::CREATED,
    )
    .await);
    World {
        enquiry,
        own_hook,
        other_hook,
        own_slot,
        other_slot,
        draft_slot,
        own_position,
        own_draft_position,
        other_position,
        other_draft_position,
        own_application: id(&own),
        other_application,
        candidate_token: own["access_token"].as_str().unwrap().to_owned(),
        own_org: a,
        other_org: b,
        colleague: id(&colleague),
        stranger: id(&stranger),
        me: id(&me),
        partner_token,
        draft_tour: id(&draft),
        public_tour: id(&public),
        draft_stop: id(&draft_stop),
        public_stop: id(&public_stop),
    }
}

fn enquiry_body(email: &str) -> Value {
    json!({ "name": "Claire Martin", "email": email, "company": "Martin SAS", "subject": "other",
            "message": "Bonjour", "consent": true })
}

async fn authorisation_matrix(app: TestApp) {
    use Who::*;
    let w = world(&app).await;
    let org_body = json!({ "name": "New", "kind": "other" });
    let new_user = |n: &str| json!({ "email": format!("{n}@matrix.example"), "password": "long enough password", "role": "organiser" });
    let rename = json!({ "description": "changed" });
    let tour_body = json!({ "name": "Another tour", "starts_on": "2027-11-01", "ends_on": "2027-11-02", "organiser_organisation_id": w.other_org });
    let stop_body = crate::tours::stop_body(
        "Nancy",
        48.6921,
        6.1844,
        "2027-10-20T09:00:00+02:00",
        "2027-10-20T17:00:00+02:00",
    );
    let notes = json!({ "notes": "x" });
    let position_body =
        json!({ "tour_id": w.public_tour, "title": "Technicien", "contract_type": "cdd", "city": "Nancy" });
    let mut other_position_body = position_body.clone();
    other_position_body["organisation_id"] = json!(w.other_org);
    let openings = json!({ "openings": 3 });
    let screening = json!({ "status": "screening" });
    let apply_body = |n: &str| crate::applications::application_body(&format!("{n}@apply.matrix.example"));
    let slot_body = |org: &str, hour: u32| {
        json!({ "organisation_id": org, "starts_at": format!("2027-10-19T{hour:02}:00:00+02:00"),
                                                   "ends_at": format!("2027-10-19T{hour:02}:20:00+02:00") })
    };
    let capacity = json!({ "capacity": 2 });
    let hook_body = json!({ "url": "https://93.184.215.14/matrix", "events": ["position.filled"] });
    let scan = json!({ "code": "JT1.made.up" });
    let walk_in = json!({ "first_name": "Yanis", "last_name": "Benali", "email": "walk-in@matrix.example",
                          "position_id": w.own_position, "consent": true });
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    let in_progress = json!({ "status": "in_progress" });
    let merger = json!({ "from": [uuid::Uuid::now_v7(), uuid::Uuid::now_v7()], "into": { "name": "Club" },
                         "effective_on": "2016-03-30" });
    let (get, post, put, patch, delete) = (Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE);
    let (ok, created, gone, unauth, forbidden, hidden) = (
        StatusCode::OK,
        StatusCode::CREATED,
        StatusCode::NO_CONTENT,
        StatusCode::UNAUTHORIZED,
        StatusCode::FORBIDDEN,
        StatusCode::NOT_FOUND,
    );

    // (who, method, path, body, expected status)
    #[rustfmt::skip]
    let rows: Vec<(Who, Method, String, Option<Value>, StatusCode)> = vec![
        // organisations: a public directory
        (Anonymous, get.clone(), "/api/v1/organisations".into(), None, ok),
        (Partner, get.clone(), "/api/v1/organisations".into(), None, ok),
        (Organiser, get.clone(), "/api/v1/organisations".into(), None, ok),
        (Anonymous, get.clone(), format!("/api/v1/organisations/{}", w.other_org), None, ok),
        (Anonymous, post.clone(), "/api/v1/organisations".into(), Some(org_body.clone()), unauth),
        (Partner, post.clone(), "/api/v1/organisations".into(), Some(org_body.clone()), forbidden),
        (Organiser, post.clone(), "/api/v1/organisations".into(), Some(org_body.clone()), created),
        (Anonymous, patch.clone(), format!("/api/v1/organisations/{}", w.own_org), Some(rename.clone()), unauth),
        (Partner, patch.clone(), format!("/api/v1/organisations/{}", w.own_org), Some(rename.clone()), ok),
        (Partner, patch.clone(), format!("/api/v1/organisations/{}", w.other_org), Some(rename.clone()), forbidden),
        (Organiser, patch.clone(), format!("/api/v1/organisations/{}", w.other_org), Some(rename.clone()), ok),
        (Anonymous, delete.clone(), format!("/api/v1/organisations/{}", w.other_org), None, unauth),
        (Partner, delete.clone(), format!("/api/v1/organisations/{}", w.own_org), None, forbidden),
        (Partner, delete.clone(), format!("/api/v1/organisations/{}", w.other_org), None, forbidden),
        // clubs: organisers manage memberships and mergers; anyone reads a club's members (A is
        // not a club: 409 past the authorisation; the merger of two made-up clubs: 422)
        (Anonymous, get.clone(), format!("/api/v1/organisations/{}/members", w.own_org), None, StatusCode::CONFLICT),
        (Anonymous, put.clone(), format!("/api/v1/organisations/{}/members/{}", w.own_org, w.other_org), None, unauth),
        (Candidate, put.clone(), format!("/api/v1/organisations/{}/members/{}", w.own_org, w.other_org), None, forbidden),
        (Partner, put.clone(), format!("/api/v1/organisations/{}/members/{}", w.own_org, w.other_org), None, forbidden),
        (Organiser, put.clone(), format!("/api/v1/organisations/{}/members/{}", w.own_org, w.other_org), None, StatusCode::CONFLICT),
        (Anonymous, delete.clone(), format!("/api/v1/organisations/{}/members/{}", w.own_org, w.other_org), None, unauth),
        (Partner, delete.clone(), format!("/api/v1/organisations/{}/members/{}", w.own_org, w.other_org), None, forbidden),
        (Organiser, delete.clone(), format!("/api/v1/organisations/{}/members/{}", w.own_org, w.other_org), None, StatusCode::CONFLICT),
        (Anonymous, post.clone(), "/api/v1/organisations/merge".into(), Some(merger.clone()), unauth),
        (Candidate, post.clone(), "/api/v1/organisations/merge".into(), Some(merger.clone()), forbidden),
        (Partner, post.clone(), "/api/v1/organisations/merge".into(), Some(merger.clone()), forbidden),
        (Organiser, post.clone(), "/api/v1/organisations/merge".into(), Some(merger.clone()), unprocessable),
        // users: organisers manage them; a partner sees its colleagues and edits only itself
        (Anonymous, get.clone(), "/api/v1/users".into(), None, unauth),
        (Partner, get.clone(), "/api/v1/users".into(), None, ok),
        (Organiser, get.clone(), "/api/v1/users".into(), None, ok),
        (Anonymous, post.clone(), "/api/v1/users".into(), Some(new_user("anon")), unauth),
        (Partner, post.clone(), "/api/v1/users".into(), Some(new_user("partner")), forbidden),
        (Organiser, post.clone(), "/api/v1/users".into(), Some(new_user("organiser")), created),
        (Anonymous, get.clone(), format!("/api/v1/users/{}", w.colleague), None, unauth),
        (Partner, get.clone(), format!("/api/v1/users/{}", w.colleague), None, ok),
        (Partner, get.clone(), format!("/api/v1/users/{}", w.stranger), None, hidden),
        (Organiser, get.clone(), format!("/api/v1/users/{}", w.stranger), None, ok),
        (Partner, patch.clone(), format!("/api/v1/users/{}", w.me), Some(json!({ "email": "me-again@matrix.example" })), ok),
        (Partner, patch.clone(), format!("/api/v1/users/{}", w.me), Some(json!({ "role": "organiser" })), forbidden),
        (Partner, patch.clone(), format!("/api/v1/users/{}", w.me), Some(json!({ "organisation_id": w.other_org })), forbidden),
        (Partner, patch.clone(), format!("/api/v1/users/{}", w.colleague), Some(json!({ "email": "x@matrix.example" })), forbidden),
        (Partner, patch.clone(), format!("/api/v1/users/{}", w.stranger), Some(json!({ "email": "y@matrix.example" })), hidden),
        (Anonymous, patch.clone(), format!("/api/v1/users/{}", w.stranger), Some(json!({ "email": "z@matrix.example" })), unauth),
        (Partner, delete.clone(), format!("/api/v1/users/{}", w.colleague), None, forbidden),
        (Partner, delete.clone(), format!("/api/v1/users/{}", w.stranger), None, hidden),
        (Anonymous, delete.clone(), format!("/api/v1/users/{}", w.stranger), None, unauth),
        (Organiser, delete.clone(), format!("/api/v1/users/{}", w.stranger), None, gone),
        // tours: organisers plan; everyone reads published ones; drafts do not exist for others
        (Anonymous, get.clone(), "/api/v1/tours".into(), None, ok),
        (Partner, get.clone(), "/api/v1/tours".into(), None, ok),
        (Anonymous, post.clone(), "/api/v1/tours".into(), Some(tour_body.clone()), unauth),
        (Partner, post.clone(), "/api/v1/tours".into(), Some(tour_body.clone()), forbidden),
        (Organiser, post.clone(), "/api/v1/tours".into(), Some(tour_body.clone()), created),
        (Anonymous, get.clone(), format!("/api/v1/tours/{}", w.draft_tour), None, hidden),
        (Partner, get.clone(), format!("/api/v1/tours/{}", w.draft_tour), None, hidden),
        (Organiser, get.clone(), format!("/api/v1/tours/{}", w.draft_tour), None, ok),
        (Anonymous, get.clone(), format!("/api/v1/tours/{}", w.public_tour), None, ok),
        (Partner, get.clone(), format!("/api/v1/tours/{}", w.public_tour), None, ok),
        (Anonymous, patch.clone(), format!("/api/v1/tours/{}", w.public_tour), Some(rename.clone()), unauth),
        (Partner, patch.clone(), format!("/api/v1/tours/{}", w.public_tour), Some(rename.clone()), forbidden),
        (Partner, patch.clone(), format!("/api/v1/tours/{}", w.draft_tour), Some(rename.clone()), hidden),
        (Organiser, patch.clone(), format!("/api/v1/tours/{}", w.public_tour), Some(rename.clone()), ok),
        (Anonymous, delete.clone(), format!("/api/v1/tours/{}", w.public_tour), None, unauth),
        (Partner, delete.clone(), format!("/api/v1/tours/{}", w.public_tour), None, forbidden),
        (Partner, delete.clone(), format!("/api/v1/tours/{}", w.draft_tour), None, hidden),
        // …and everything under a tour follows it
        (Anonymous, get.clone(), format!("/api/v1/tours/{}/stops", w.draft_tour), None, hidden),
        (Anonymous, get.clone(), format!("/api/v1/tours/{}/stops", w.public_tour), None, ok),
        (Anonymous, post.clone(), format!("/api/v1/tours/{}/stops", w.public_tour), Some(stop_body.clone()), unauth),
        (Partner, post.clone(), format!("/api/v1/tours/{}/stops", w.public_tour), Some(stop_body.clone()), forbidden),
        (Partner, post.clone(), format!("/api/v1/tours/{}/stops", w.draft_tour), Some(stop_body.clone()), hidden),
        (Organiser, post.clone(), format!("/api/v1/tours/{}/stops", w.public_tour), Some(stop_body.clone()), created),
        (Anonymous, get.clone(), format!("/api/v1/stops/{}", w.draft_stop), None, hidden),
        (Partner, get.clone(), format!("/api/v1/stops/{}", w.draft_stop), None, hidden),
        (Organiser, get.clone(), format!("/api/v1/stops/{}", w.draft_stop), None, ok),
        (Anonymous, get.clone(), format!("/api/v1/stops/{}", w.public_stop), None, ok),
        (Anonymous, patch.clone(), format!("/api/v1/stops/{}", w.public_stop), Some(notes.clone()), unauth),
        (Partner, patch.clone(), format!("/api/v1/stops/{}", w.public_stop), Some(notes.clone()), forbidden),
        (Partner, patch.clone(), format!("/api/v1/stops/{}", w.draft_stop), Some(notes.clone()), hidden),
        (Organiser, patch.clone(), format!("/api/v1/stops/{}", w.public_stop), Some(notes.clone()), ok),
        (Partner, delete.clone(), format!("/api/v1/stops/{}", w.public_stop), None, forbidden),
        (Anonymous, delete.clone(), format!("/api/v1/stops/{}", w.draft_stop), None, unauth),
        // (The draft stop has an interview slot: a stop with slots stays.)
        (Organiser, delete.clone(), format!("/api/v1/stops/{}", w.draft_stop), None, StatusCode::CONFLICT),
        (Anonymous, get.clone(), format!("/api/v1/tours/{}/schedule", w.draft_tour), None, hidden),
        (Anonymous, get.clone(), format!("/api/v1/tours/{}/schedule", w.public_tour), None, ok),
        (Partner, get.clone(), format!("/api/v1/tours/{}/calendar.ics", w.draft_tour), None, hidden),
        (Anonymous, get.clone(), format!("/api/v1/tours/{}/calendar.ics", w.public_tour), None, ok),
        (Anonymous, get.clone(), format!("/api/v1/tours/{}/route.geojson", w.draft_tour), None, hidden),
        (Partner, get.clone(), format!("/api/v1/tours/{}/route.geojson", w.public_tour), None, ok),
        (Anonymous, get.clone(), format!("/api/v1/tours/{}/partners", w.draft_tour), None, hidden),
        (Anonymous, get.clone(), format!("/api/v1/tours/{}/partners", w.public_tour), None, ok),
        (Anonymous, put.clone(), format!("/api/v1/tours/{}/partners/{}", w.public_tour, w.own_org), None, unauth),
        (Partner, put.clone(), format!("/api/v1/tours/{}/partners/{}", w.public_tour, w.own_org), None, forbidden),
        (Partner, put.clone(), format!("/api/v1/tours/{}/partners/{}", w.draft_tour, w.own_org), None, hidden),
        // (A takes part already: the world posts its positions there.)
        (Organiser, put.clone(), format!("/api/v1/tours/{}/partners/{}", w.public_tour, w.own_org), None, ok),
        (Organiser, put.clone(), format!("/api/v1/tours/{}/partners/{}", w.draft_tour, w.other_org), None, created),
        (Partner, delete.clone(), format!("/api/v1/tours/{}/partners/{}", w.public_tour, w.own_org), None, forbidden),
        (Anonymous, delete.clone(), format!("/api/v1/tours/{}/partners/{}", w.public_tour, w.own_org), None, unauth),
        // positions: the board is public; employers post and edit their own; drafts are theirs alone
        (Anonymous, get.clone(), "/api/v1/positions".into(), None, ok),
        (Candidate, get.clone(), "/api/v1/positions".into(), None, ok),
        (Anonymous, get.clone(), format!("/api/v1/positions/{}", w.other_position), None, ok),
        (Anonymous, get.clone(), format!("/api/v1/positions/{}", w.own_draft_position), None, hidden),
        (Partner, get.clone(), format!("/api/v1/positions/{}", w.own_draft_position), None, ok),
        (Partner, get.clone(), format!("/api/v1/positions/{}", w.other_draft_position), None, hidden),
        (Organiser, get.clone(), format!("/api/v1/positions/{}", w.other_draft_position), None, ok),
        (Anonymous, post.clone(), "/api/v1/positions".into(), Some(position_body.clone()), unauth),
        (Candidate, post.clone(), "/api/v1/positions".into(), Some(position_body.clone()), forbidden),
        (Partner, post.clone(), "/api/v1/positions".into(), Some(position_body.clone()), created),
        (Partner, post.clone(), "/api/v1/positions".into(), Some(other_position_body.clone()), forbidden),
        (Organiser, post.clone(), "/api/v1/positions".into(), Some(other_position_body.clone()), created),
        (Anonymous, patch.clone(), format!("/api/v1/positions/{}", w.own_position), Some(openings.clone()), unauth),
        (Candidate, patch.clone(), format!("/api/v1/positions/{}", w.own_position), Some(openings.clone()), forbidden),
        (Partner, patch.clone(), format!("/api/v1/positions/{}", w.own_position), Some(openings.clone()), ok),
        (Partner, patch.clone(), format!("/api/v1/positions/{}", w.own_draft_position), Some(openings.clone()), ok),
        (Partner, patch.clone(), format!("/api/v1/positions/{}", w.other_position), Some(openings.clone()), forbidden),
        (Partner, patch.clone(), format!("/api/v1/positions/{}", w.other_draft_position), Some(openings.clone()), hidden),
        (Organiser, patch.clone(), format!("/api/v1/positions/{}", w.other_position), Some(openings.clone()), ok),
        (Anonymous, delete.clone(), format!("/api/v1/positions/{}", w.own_draft_position), None, unauth),
        (Partner, delete.clone(), format!("/api/v1/positions/{}", w.other_position), None, forbidden),
        (Partner, delete.clone(), format!("/api/v1/positions/{}", w.other_draft_position), None, hidden),
        (Partner, delete.clone(), format!("/api/v1/positions/{}", w.own_draft_position), None, gone),
        (Organiser, delete.clone(), format!("/api/v1/positions/{}", w.other_draft_position), None, gone),
        // interview slots: the employer runs its own; the public reads them for published tours
        (Anonymous, get.clone(), format!("/api/v1/stops/{}/slots", w.public_stop), None, ok),
        (Anonymous, get.clone(), format!("/api/v1/stops/{}/slots", w.draft_stop), None, hidden),
        (Organiser, get.clone(), format!("/api/v1/stops/{}/slots", w.draft_stop), None, ok),
        (Anonymous, get.clone(), format!("/api/v1/slots/{}", w.other_slot), None, ok),
        (Partner, get.clone(), format!("/api/v1/slots/{}", w.draft_slot), None, hidden),
        (Organiser, get.clone(), format!("/api/v1/slots/{}", w.draft_slot), None, ok),
        (Anonymous, post.clone(), format!("/api/v1/stops/{}/slots", w.public_stop), Some(slot_body(&w.own_org, 11)), unauth),
        (Candidate, post.clone(), format!("/api/v1/stops/{}/slots", w.public_stop), Some(slot_body(&w.own_org, 11)), forbidden),
        (Partner, post.clone(), format!("/api/v1/stops/{}/slots", w.public_stop), Some(slot_body(&w.own_org, 11)), created),
        (Partner, post.clone(), format!("/api/v1/stops/{}/slots", w.public_stop), Some(slot_body(&w.other_org, 12)), forbidden),
        (Partner, post.clone(), format!("/api/v1/stops/{}/slots", w.draft_stop), Some(slot_body(&w.own_org, 12)), hidden),
        (Organiser, post.clone(), format!("/api/v1/stops/{}/slots", w.public_stop), Some(slot_body(&w.other_org, 12)), created),
        (Anonymous, patch.clone(), format!("/api/v1/slots/{}", w.own_slot), Some(capacity.clone()), unauth),
        (Candidate, patch.clone(), format!("/api/v1/slots/{}", w.own_slot), Some(capacity.clone()), forbidden),
        (Partner, patch.clone(), format!("/api/v1/slots/{}", w.other_slot), Some(capacity.clone()), forbidden),
        (Partner, patch.clone(), format!("/api/v1/slots/{}", w.draft_slot), Some(capacity.clone()), hidden),
        (Partner, patch.clone(), format!("/api/v1/slots/{}", w.own_slot), Some(capacity.clone()), ok),
        (Organiser, patch.clone(), format!("/api/v1/slots/{}", w.other_slot), Some(capacity.clone()), ok),
        // seats: the candidate books and waits with its token; staff do not book for it
        (Anonymous, put.clone(), format!("/api/v1/slots/{}/booking", w.own_slot), None, unauth),
        (Partner, put.clone(), format!("/api/v1/slots/{}/booking", w.own_slot), None, forbidden),
        (Organiser, put.clone(), format!("/api/v1/slots/{}/booking", w.own_slot), None, forbidden),
        (Candidate, put.clone(), format!("/api/v1/slots/{}/booking", w.draft_slot), None, hidden),
        (Candidate, put.clone(), format!("/api/v1/slots/{}/booking", w.own_slot), None, created),
        (Anonymous, get.clone(), format!("/api/v1/slots/{}/bookings", w.own_slot), None, unauth),
        (Candidate, get.clone(), format!("/api/v1/slots/{}/bookings", w.own_slot), None, forbidden),
        (Partner, get.clone(), format!("/api/v1/slots/{}/bookings", w.other_slot), None, ok),
        (Partner, get.clone(), format!("/api/v1/slots/{}/bookings", w.draft_slot), None, hidden),
        (Organiser, get.clone(), format!("/api/v1/slots/{}/bookings", w.own_slot), None, ok),
        (Anonymous, delete.clone(), format!("/api/v1/slots/{}/booking", w.own_slot), None, unauth),
        (Partner, delete.clone(), format!("/api/v1/slots/{}/booking", w.own_slot), None, forbidden),
        (Candidate, delete.clone(), format!("/api/v1/slots/{}/booking", w.own_slot), None, gone),
        (Anonymous, put.clone(), format!("/api/v1/slots/{}/waitlist", w.own_slot), None, unauth),
        (Partner, put.clone(), format!("/api/v1/slots/{}/waitlist", w.own_slot), None, forbidden),
        (Anonymous, delete.clone(), format!("/api/v1/slots/{}/waitlist", w.own_slot), None, unauth),
        (Organiser, delete.clone(), format!("/api/v1/slots/{}/waitlist", w.own_slot), None, forbidden),
        (Anonymous, delete.clone(), format!("/api/v1/slots/{}", w.own_slot), None, unauth),
        (Partner, delete.clone(), format!("/api/v1/slots/{}", w.other_slot), None, forbidden),
        (Partner, delete.clone(), format!("/api/v1/slots/{}", w.own_slot), None, gone),
        (Organiser, delete.clone(), format!("/api/v1/slots/{}", w.draft_slot), None, gone),
        // check-in at the bus: the candidate's code for whoever may read the application; the desk
        // at a stop for organisers and the tour's employers (a made-up code then fails as 422, a
        // walk-in for a position not at the stop too: past the authorisation, both)
        (Anonymous, get.clone(), format!("/api/v1/applications/{}/checkin-code", w.own_application), None, unauth),
        (Candidate, get.clone(), format!("/api/v1/applications/{}/checkin-code", w.own_application), None, ok),
        (Candidate, get.clone(), format!("/api/v1/applications/{}/checkin-code", w.other_application), None, hidden),
        (Partner, get.clone(), format!("/api/v1/applications/{}/checkin-code", w.own_application), None, ok),
        (Partner, get.clone(), format!("/api/v1/applications/{}/checkin-code", w.other_application), None, hidden),
        (Organiser, get.clone(), format!("/api/v1/applications/{}/checkin-code", w.other_application), None, ok),
        (Anonymous, post.clone(), format!("/api/v1/stops/{}/checkins", w.public_stop), Some(scan.clone()), unauth),
        (Candidate, post.clone(), format!("/api/v1/stops/{}/checkins", w.public_stop), Some(scan.clone()), forbidden),
        (Partner, post.clone(), format!("/api/v1/stops/{}/checkins", w.draft_stop), Some(scan.clone()), hidden),
        (Partner, post.clone(), format!("/api/v1/stops/{}/checkins", w.public_stop), Some(scan.clone()), unprocessable),
        (Partner, post.clone(), format!("/api/v1/stops/{}/checkins?force=true", w.public_stop), Some(scan.clone()), forbidden),
        (Organiser, post.clone(), format!("/api/v1/stops/{}/checkins?force=true", w.draft_stop), Some(scan.clone()), unprocessable),
        (Anonymous, get.clone(), format!("/api/v1/stops/{}/checkins", w.public_stop), None, unauth),
        (Candidate, get.clone(), format!("/api/v1/stops/{}/checkins", w.public_stop), None, forbidden),
        (Partner, get.clone(), format!("/api/v1/stops/{}/checkins", w.draft_stop), None, hidden),
        (Partner, get.clone(), format!("/api/v1/stops/{}/checkins", w.public_stop), None, ok),
        (Organiser, get.clone(), format!("/api/v1/stops/{}/checkins", w.draft_stop), None, ok),
        (Anonymous, post.clone(), format!("/api/v1/stops/{}/walk-ins", w.public_stop), Some(walk_in.clone()), unauth),
        (Candidate, post.clone(), format!("/api/v1/stops/{}/walk-ins", w.public_stop), Some(walk_in.clone()), forbidden),
        (Partner, post.clone(), format!("/api/v1/stops/{}/walk-ins", w.draft_stop), Some(walk_in.clone()), hidden),
        (Partner, post.clone(), format!("/api/v1/stops/{}/walk-ins?force=true", w.public_stop), Some(walk_in.clone()), forbidden),
        (Organiser, post.clone(), format!("/api/v1/stops/{}/walk-ins?force=true", w.public_stop), Some(walk_in.clone()), unprocessable),
        (Anonymous, get.clone(), format!("/api/v1/stops/{}/attendance", w.public_stop), None, unauth),
        (Candidate, get.clone(), format!("/api/v1/stops/{}/attendance", w.public_stop), None, forbidden),
        (Partner, get.clone(), format!("/api/v1/stops/{}/attendance", w.draft_stop), None, hidden),
        (Partner, get.clone(), format!("/api/v1/stops/{}/attendance", w.public_stop), None, ok),
        (Organiser, get.clone(), format!("/api/v1/stops/{}/attendance", w.draft_stop), None, ok),
        (Anonymous, post.clone(), format!("/api/v1/stops/{}/attendance/ticket", w.public_stop), None, unauth),
        (Candidate, post.clone(), format!("/api/v1/stops/{}/attendance/ticket", w.public_stop), None, forbidden),
        (Partner, post.clone(), format!("/api/v1/stops/{}/attendance/ticket", w.draft_stop), None, hidden),
        (Partner, post.clone(), format!("/api/v1/stops/{}/attendance/ticket", w.public_stop), None, created),
        (Anonymous, get.clone(), format!("/api/v1/stops/{}/attendance/stream", w.public_stop), None, unauth),
        (Candidate, get.clone(), format!("/api/v1/stops/{}/attendance/stream", w.public_stop), None, forbidden),
        (Partner, get.clone(), format!("/api/v1/stops/{}/attendance/stream", w.draft_stop), None, hidden),
        (Partner, get.clone(), format!("/api/v1/stops/{}/attendance/stream", w.public_stop), None, ok),
        (Organiser, get.clone(), format!("/api/v1/stops/{}/attendance/stream", w.draft_stop), None, ok),
        // applications: anyone applies; the candidate opens its own; employers their own; organisers all
        (Anonymous, post.clone(), format!("/api/v1/positions/{}/applications", w.other_position), Some(apply_body("anon")), created),
        (Candidate, post.clone(), format!("/api/v1/positions/{}/applications", w.other_position), Some(apply_body("cand")), created),
        (Partner, post.clone(), format!("/api/v1/positions/{}/applications", w.other_position), Some(apply_body("partner")), created),
        (Anonymous, get.clone(), "/api/v1/applications".into(), None, unauth),
        (Candidate, get.clone(), "/api/v1/applications".into(), None, forbidden),
        (Partner, get.clone(), "/api/v1/applications".into(), None, ok),
        (Organiser, get.clone(), "/api/v1/applications".into(), None, ok),
        (Anonymous, get.clone(), format!("/api/v1/applications/{}", w.own_application), None, unauth),
        (Candidate, get.clone(), format!("/api/v1/applications/{}", w.own_application), None, ok),
        (Candidate, get.clone(), format!("/api/v1/applications/{}", w.other_application), None, hidden),
        (Partner, get.clone(), format!("/api/v1/applications/{}", w.own_application), None, ok),
        (Partner, get.clone(), format!("/api/v1/applications/{}", w.other_application), None, hidden),
        (Organiser, get.clone(), format!("/api/v1/applications/{}", w.other_application), None, ok),
        (Anonymous, patch.clone(), format!("/api/v1/applications/{}", w.own_application), Some(screening.clone()), unauth),
        (Candidate, patch.clone(), format!("/api/v1/applications/{}", w.own_application), Some(screening.clone()), forbidden),
        (Partner, patch.clone(), format!("/api/v1/applications/{}", w.other_application), Some(screening.clone()), hidden),
        (Partner, patch.clone(), format!("/api/v1/applications/{}", w.own_application), Some(screening.clone()), ok),
        (Organiser, patch.clone(), format!("/api/v1/applications/{}", w.other_application), Some(screening.clone()), ok),
        (Anonymous, post.clone(), format!("/api/v1/applications/{}/withdraw", w.own_application), None, unauth),
        (Partner, post.clone(), format!("/api/v1/applications/{}/withdraw", w.own_application), None, forbidden),
        (Partner, post.clone(), format!("/api/v1/applications/{}/withdraw", w.other_application), None, hidden),
        (Organiser, post.clone(), format!("/api/v1/applications/{}/withdraw", w.own_application), None, forbidden),
        (Candidate, post.clone(), format!("/api/v1/applications/{}/withdraw", w.other_application), None, hidden),
        (Candidate, post.clone(), format!("/api/v1/applications/{}/withdraw", w.own_application), None, ok),
        // campaign figures: staff only; a partner for published tours
        (Anonymous, get.clone(), format!("/api/v1/tours/{}/stats", w.public_tour), None, unauth),
        (Candidate, get.clone(), format!("/api/v1/tours/{}/stats", w.public_tour), None, forbidden),
        (Partner, get.clone(), format!("/api/v1/tours/{}/stats", w.public_tour), None, ok),
        (Partner, get.clone(), format!("/api/v1/tours/{}/stats", w.draft_tour), None, hidden),
        (Organiser, get.clone(), format!("/api/v1/tours/{}/stats", w.draft_tour), None, ok),
        // webhooks: an employer's own systems hear about its own positions
        (Anonymous, post.clone(), format!("/api/v1/organisations/{}/webhooks", w.own_org), Some(hook_body.clone()), unauth),
        (Candidate, post.clone(), format!("/api/v1/organisations/{}/webhooks", w.own_org), Some(hook_body.clone()), forbidden),
        (Partner, post.clone(), format!("/api/v1/organisations/{}/webhooks", w.own_org), Some(hook_body.clone()), created),
        (Partner, post.clone(), format!("/api/v1/organisations/{}/webhooks", w.other_org), Some(hook_body.clone()), forbidden),
        (Organiser, post.clone(), format!("/api/v1/organisations/{}/webhooks", w.other_org), Some(hook_body.clone()), created),
        (Anonymous, get.clone(), format!("/api/v1/organisations/{}/webhooks", w.own_org), None, unauth),
        (Candidate, get.clone(), format!("/api/v1/organisations/{}/webhooks", w.own_org), None, forbidden),
        (Partner, get.clone(), format!("/api/v1/organisations/{}/webhooks", w.own_org), None, ok),
        (Partner, get.clone(), format!("/api/v1/organisations/{}/webhooks", w.other_org), None, forbidden),
        (Organiser, get.clone(), format!("/api/v1/organisations/{}/webhooks", w.other_org), None, ok),
        (Anonymous, get.clone(), format!("/api/v1/webhooks/{}/deliveries", w.own_hook), None, unauth),
        (Candidate, get.clone(), format!("/api/v1/webhooks/{}/deliveries", w.own_hook), None, forbidden),
        (Partner, get.clone(), format!("/api/v1/webhooks/{}/deliveries", w.own_hook), None, ok),
        (Partner, get.clone(), format!("/api/v1/webhooks/{}/deliveries", w.other_hook), None, hidden),
        (Organiser, get.clone(), format!("/api/v1/webhooks/{}/deliveries", w.other_hook), None, ok),
        (Anonymous, delete.clone(), format!("/api/v1/webhooks/{}", w.own_hook), None, unauth),
        (Candidate, delete.clone(), format!("/api/v1/webhooks/{}", w.own_hook), None, forbidden),
        (Partner, delete.clone(), format!("/api/v1/webhooks/{}", w.other_hook), None, hidden),
        (Partner, delete.clone(), format!("/api/v1/webhooks/{}", w.own_hook), None, gone),
        (Organiser, delete.clone(), format!("/api/v1/webhooks/{}", w.other_hook), None, gone),
        // enquiries: anyone writes; organisers handle them (the enquirer's token: tests/tests/api/enquiries.rs)
        (Anonymous, post.clone(), "/api/v1/enquiries".into(), Some(enquiry_body("anon@matrix.example")), created),
        (Candidate, post.clone(), "/api/v1/enquiries".into(), Some(enquiry_body("cand@matrix.example")), created),
        (Anonymous, get.clone(), "/api/v1/enquiries".into(), None, unauth),
        (Candidate, get.clone(), "/api/v1/enquiries".into(), None, forbidden),
        (Partner, get.clone(), "/api/v1/enquiries".into(), None, forbidden),
        (Organiser, get.clone(), "/api/v1/enquiries".into(), None, ok),
        (Anonymous, get.clone(), "/api/v1/enquiries/stats".into(), None, unauth),
        (Partner, get.clone(), "/api/v1/enquiries/stats".into(), None, forbidden),
        (Organiser, get.clone(), "/api/v1/enquiries/stats".into(), None, ok),
        (Anonymous, get.clone(), format!("/api/v1/enquiries/{}", w.enquiry), None, unauth),
        (Candidate, get.clone(), format!("/api/v1/enquiries/{}", w.enquiry), None, forbidden),
        (Partner, get.clone(), format!("/api/v1/enquiries/{}", w.enquiry), None, forbidden),
        (Organiser, get.clone(), format!("/api/v1/enquiries/{}", w.enquiry), None, ok),
        (Anonymous, patch.clone(), format!("/api/v1/enquiries/{}", w.enquiry), Some(in_progress.clone()), unauth),
        (Partner, patch.clone(), format!("/api/v1/enquiries/{}", w.enquiry), Some(in_progress.clone()), forbidden),
        (Organiser, patch.clone(), format!("/api/v1/enquiries/{}", w.enquiry), Some(in_progress.clone()), ok),
        (Anonymous, get.clone(), format!("/api/v1/enquiries/{}/export", w.enquiry), None, unauth),
        (Partner, get.clone(), format!("/api/v1/enquiries/{}/export", w.enquiry), None, forbidden),
        (Organiser, get.clone(), format!("/api/v1/enquiries/{}/export", w.enquiry), None, ok),
        (Anonymous, delete.clone(), format!("/api/v1/enquiries/{}", w.enquiry), None, unauth),
        (Candidate, delete.clone(), format!("/api/v1/enquiries/{}", w.enquiry), None, forbidden),
        (Partner, delete.clone(), format!("/api/v1/enquiries/{}", w.enquiry), None, forbidden),
        (Organiser, delete.clone(), format!("/api/v1/enquiries/{}", w.enquiry), None, gone),
        // the audit log: organisers
        (Anonymous, get.clone(), "/api/v1/audit".into(), None, unauth),
        (Candidate, get.clone(), "/api/v1/audit".into(), None, forbidden),
        (Partner, get.clone(), "/api/v1/audit".into(), None, forbidden),
        (Organiser, get.clone(), "/api/v1/audit".into(), None, ok),
        // data rights: the candidate (or an organiser) exports and erases; employers do not
        (Anonymous, get.clone(), format!("/api/v1/applications/{}/export", w.own_application), None, unauth),
        (Candidate, get.clone(), format!("/api/v1/applications/{}/export", w.own_application), None, ok),
        (Candidate, get.clone(), format!("/api/v1/applications/{}/export", w.other_application), None, hidden),
        (Partner, get.clone(), format!("/api/v1/applications/{}/export", w.own_application), None, forbidden),
        (Partner, get.clone(), format!("/api/v1/applications/{}/export", w.other_application), None, hidden),
        (Organiser, get.clone(), format!("/api/v1/applications/{}/export", w.other_application), None, ok),
        (Anonymous, delete.clone(), format!("/api/v1/applications/{}", w.own_application), None, unauth),
        (Partner, delete.clone(), format!("/api/v1/applications/{}", w.own_application), None, forbidden),
        (Partner, delete.clone(), format!("/api/v1/applications/{}", w.other_application), None, hidden),
        (Candidate, delete.clone(), format!("/api/v1/applications/{}", w.other_application), None, hidden),
        // the caller
        (Anonymous, get.clone(), "/api/v1/me".into(), None, unauth),
        (Candidate, get.clone(), "/api/v1/me".into(), None, forbidden),
        (Partner, get.clone(), "/api/v1/me".into(), None, ok),
        (Anonymous, post.clone(), "/api/v1/auth/logout".into(), Some(json!({})), unauth),
        // (last: the erasures end the candidate's token and the other application)
        (Organiser, delete.clone(), format!("/api/v1/applications/{}", w.other_application), None, gone),
        (Candidate, delete.clone(), format!("/api/v1/applications/{}", w.own_application), None, gone),
    ];
    assert_every_operation_has_rows(&app, &rows).await;

    let mut failures = Vec::new();
    for (who, method, path, body, expected) in rows {
        let token = match who {
            Anonymous => None,
            Organiser => Some(app.organiser.as_str()),
            Partner => Some(w.partner_token.as_str()),
            Candidate => Some(w.candidate_token.as_str()),
        };
        let mut req = app.request(method.clone(), &path, token);
        if let Some(body) = &body {
            req = req.json(body);
        }
        let res = req.send().await.unwrap();
        if res.status() != expected {
            failures.push(format!(
                "{who:?} {method} {path}: expected {expected}, got {}",
                res.status()
            ));
        }
    }
    assert!(failures.is_empty(), "authorisation matrix:\n{}", failures.join("\n"));

    // What the partner lists is its own organisation's users only.
    let page = expect_json(
        app.get("/api/v1/users?limit=200", Some(&w.partner_token)).await,
        StatusCode::OK,
    )
    .await;
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert!(items.iter().all(|u| u["organisation_id"] == w.own_org.as_str()));
    let page = expect_json(
        app.get(
            &format!("/api/v1/users?organisation_id={}", w.other_org),
            Some(&w.partner_token),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert!(page["items"].as_array().unwrap().is_empty());
    // Refused writes changed nothing.
    let other = expect_json(
        app.get(&format!("/api/v1/organisations/{}", w.other_org), None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(other["description"], "changed", "only the organiser's PATCH applied");
    let me = expect_json(app.get("/api/v1/me", Some(&w.partner_token)).await, StatusCode::OK).await;
    assert_eq!(
        (me["role"].as_str(), me["organisation_id"].as_str()),
        (Some("partner"), Some(w.own_org.as_str()))
    );
}

/// Every operation of the API (but signing in, and the document itself) has rows in the
/// matrix: a new endpoint without them fails here.
async fn assert_every_operation_has_rows(app: &TestApp, rows: &[(Who, Method, String, Option<Value>, StatusCode)]) {
    let doc = expect_json(app.get("/api/v1/openapi.json", None).await, StatusCode::OK).await;
    let (mut missing, mut checked) = (Vec::new(), 0);
    for (template, item) in doc["paths"].as_object().unwrap() {
        if !template.starts_with("/api/v1/") || template == "/api/v1/auth/login" {
            continue;
        }
        for method in item.as_object().unwrap().keys() {
            let method = method.to_uppercase();
            checked += 1;
            let matches = |path: &str| {
                let (a, b): (Vec<&str>, Vec<&str>) = (template.split('/').collect(), path.split('/').collect());
                a.len() == b.len() && a.iter().zip(&b).all(|(t, p)| t.starts_with('{') || t == p)
            };
            if !rows
                .iter()
                .any(|(_, m, path, _, _)| m.as_str() == method && matches(path))
            {
                missing.push(format!("{method} {template}"));
            }
        }
    }
    assert!(checked >= 50, "only {checked} operations found");
    assert!(missing.is_empty(), "operations without rows in the matrix: {missing:?}");
}
