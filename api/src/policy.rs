//! The one authorisation table: may this actor do this to this object?
//!
//! Every handler asks here before touching data; `tests/tests/api/matrix.rs` walks the table
//! (endpoint × role × own/other object). A refusal is 401 for an anonymous caller, 404 for
//! an object the caller may not even know about, 403 otherwise. Lists are scoped here too
//! ([`organisation_scope`], [`position_scope`]): what a caller may not read, it does not list.

use crate::auth::{Actor, Staff};
use crate::error::ApiError;
use jobtour_domain::user::Role;
use uuid::Uuid;

/// What the actor wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Read,
    Create,
    Update,
    Delete,
    /// The candidate takes an application back.
    Withdraw,
    /// Delete what others depend on (a slot with bookings, cancelling them).
    ForceDelete,
    /// Take away everything held about a candidate (GDPR Art. 15 and 20).
    Export,
    /// Check a candidate in outside the stop's hours.
    Override,
}

/// What it wants to do it to. Collections stand for "list" (Read) and "create" (Create).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Object {
    Organisations,
    Organisation {
        id: Uuid,
    },
    Users,
    User {
        id: Uuid,
        organisation_id: Option<Uuid>,
    },
    Tours,
    /// A tour and everything under it (stops, partners, schedule, calendar, map).
    Tour {
        public: bool,
    },
    /// A tour's campaign figures (a partner sees its own organisation's rows).
    TourStats {
        public: bool,
    },
    /// The job board (Read).
    Positions,
    /// A position: `public` when anyone with a link may read it (not a draft, and its tour
    /// published or completed).
    Position {
        organisation_id: Uuid,
        public: bool,
    },
    /// The hiring pipeline (Read; a partner sees its own positions' applications).
    Applications,
    /// An application to a position of `organisation_id`.
    Application {
        id: Uuid,
        organisation_id: Uuid,
    },
    /// An interview slot of `organisation_id`; `public` when its tour is.
    Slot {
        organisation_id: Uuid,
        public: bool,
    },
    /// Who booked a slot (the candidates' names only for its employer and organisers, see
    /// [`sees_candidates`]).
    SlotBookings {
        public: bool,
    },
    /// A seat in a slot, or a place in its line, for the caller's own application.
    Seat,
    /// The desk at a stop: its check-ins, walk-ins and attendance (organisers, and the staff of
    /// the employers that take part in the tour: `takes_part`). `public` as for its tour.
    StopDesk {
        takes_part: bool,
        public: bool,
    },
    /// Club memberships and mergers (organisers; anyone reads the members of a club as part of
    /// the organisation directory).
    Memberships,
    /// The development agency's enquiries (anyone sends one; organisers list and count them).
    Enquiries,
    /// One enquiry: organisers, and its enquirer (read, export, erase).
    Enquiry {
        id: Uuid,
    },
    /// The audit log (organisers).
    Audit,
    /// An organisation's webhooks (Read: list, Create).
    Webhooks {
        organisation_id: Uuid,
    },
    /// One webhook of `organisation_id` (Read: its deliveries, Delete).
    Webhook {
        organisation_id: Uuid,
    },
}

/// Why an action is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denial {
    /// Log in first (401).
    Unauthenticated,
    /// The object is invisible to this actor (404).
    Hidden,
    /// Visible, but not the actor's to change (403).
    Forbidden,
}

/// The decision, as data: `Ok(())` or why not.
pub fn decide(actor: &Actor, action: Action, object: Object) -> Result<(), Denial> {
    use Action::*;
    use Object::*;
    // What anyone may read: the partner directory, published tours, the job board.
    if action == Read
        && matches!(
            object,
            Organisations
                | Organisation { .. }
                | Tours
                | Tour { public: true }
                | Positions
                | Position { public: true, .. }
                | Slot { public: true, .. }
        )
    {
        return Ok(());
    }
    // Anyone may write to the development agency.
    if action == Create && object == Enquiries {
        return Ok(());
    }
    // What does not exist for the caller: an unpublished tour (but for organisers), a draft
    // position (but for its employer).
    let hidden = match object {
        Tour { public: false }
        | TourStats { public: false }
        | Slot { public: false, .. }
        | SlotBookings { public: false }
        | StopDesk { public: false, .. } => !is_organiser(actor),
        Position {
            organisation_id,
            public: false,
        } => !is_organiser(actor) && !is_partner_of(actor, organisation_id),
        _ => false,
    };
    if hidden {
        return Err(Denial::Hidden);
    }
    let staff = match actor {
        Actor::Anonymous => return Err(Denial::Unauthenticated),
        Actor::Candidate { application_id } => return candidate(*application_id, action, object),
        Actor::Enquirer { enquiry_id } => return enquirer(*enquiry_id, action, object),
        Actor::Staff(staff) => staff,
    };
    // Only the candidate withdraws an application.
    if action == Withdraw {
        return match object {
            Application { organisation_id, .. } if !may_see_applications_of(staff, organisation_id) => {
                Err(Denial::Hidden)
            }
            _ => Err(Denial::Forbidden),
        };
    }
    // Staff do not book for candidates.
    if object == Seat {
        return Err(Denial::Forbidden);
    }
    if staff.role == Role::Organiser {
        return Ok(());
    }
    let own_org = |org: Option<Uuid>| org.is_some() && org == staff.organisation_id;
    match (action, object) {
        (Update, Organisation { id }) if own_org(Some(id)) => Ok(()),
        // Partners see the users of their own organisation (the list is scoped, see `organisation_scope`).
        (Read, Users) => Ok(()),
        (Read, User { organisation_id, .. }) if own_org(organisation_id) => Ok(()),
        (Read, User { .. }) => Err(Denial::Hidden),
        // …and change only their own login (e-mail, password), never their role.
        (Update, User { id, .. }) if id == staff.user_id => Ok(()),
        (Update | Delete, User { organisation_id, .. }) if !own_org(organisation_id) => Err(Denial::Hidden),
        // A partner posts and edits its own organisation's positions…
        (Read | Create | Update | Delete, Position { organisation_id, .. }) if own_org(Some(organisation_id)) => Ok(()),
        // …reads and moves the applications to them, never another organisation's…
        (Read, Applications) => Ok(()),
        (Read | Update, Application { organisation_id, .. }) if own_org(Some(organisation_id)) => Ok(()),
        (_, Application { organisation_id, .. }) if !own_org(Some(organisation_id)) => Err(Denial::Hidden),
        // …and sees its own rows of a published tour's figures…
        (Read, TourStats { public: true }) => Ok(()),
        // …and runs its own interview slots (but for deleting booked ones), seeing who booked
        // any slot of a published tour (the names, its own slots' only).
        (Create | Update | Delete, Slot { organisation_id, .. }) if own_org(Some(organisation_id)) => Ok(()),
        (Read, SlotBookings { public: true }) => Ok(()),
        // …and works the desk at the stops of a tour it takes part in (but for letting someone
        // in outside the stop's hours).
        (Read | Create, StopDesk { takes_part: true, .. }) => Ok(()),
        // Webhooks tell a partner about its own positions: its own to add, read and remove;
        // another organisation's do not exist for it.
        (Read | Create, Webhooks { organisation_id }) if own_org(Some(organisation_id)) => Ok(()),
        (Read | Delete, Webhook { organisation_id }) if own_org(Some(organisation_id)) => Ok(()),
        (_, Webhook { organisation_id }) if !own_org(Some(organisation_id)) => Err(Denial::Hidden),
        _ => Err(Denial::Forbidden),
    }
}

/// A candidate's token opens its own application (to read or withdraw it) and nothing more;
/// for everything else the candidate is a member of the public.
fn candidate(own: Uuid, action: Action, object: Object) -> Result<(), Denial> {
    match object {
        Object::Seat => Ok(()),
        // The candidate reads, withdraws, exports and erases its own application.
        Object::Application { id, .. }
            if id == own
                && matches!(
                    action,
                    Action::Read | Action::Withdraw | Action::Export | Action::Delete
                ) =>
        {
            Ok(())
        }
        Object::Application { id, .. } if id != own => Err(Denial::Hidden),
        _ => Err(Denial::Forbidden),
    }
}

/// An enquiry's token opens that enquiry (to read, export or erase it) and nothing more.
fn enquirer(own: Uuid, action: Action, object: Object) -> Result<(), Denial> {
    match object {
        Object::Enquiry { id } if id == own && matches!(action, Action::Read | Action::Export | Action::Delete) => {
            Ok(())
        }
        Object::Enquiry { id } if id != own => Err(Denial::Hidden),
        _ => Err(Denial::Forbidden),
    }
}

/// Whether the caller sees the names of the candidates booked in a slot of `organisation_id`:
/// organisers and that employer's staff.
pub fn sees_candidates(actor: &Actor, organisation_id: Uuid) -> bool {
    is_organiser(actor) || is_partner_of(actor, organisation_id)
}

fn may_see_applications_of(staff: &Staff, organisation_id: Uuid) -> bool {
    staff.role == Role::Organiser || staff.organisation_id == Some(organisation_id)
}

fn is_partner_of(actor: &Actor, organisation_id: Uuid) -> bool {
    matches!(actor, Actor::Staff(Staff { role: Role::Partner, organisation_id: Some(own), .. }) if *own == organisation_id)
}

fn is_organiser(actor: &Actor) -> bool {
    matches!(
        actor,
        Actor::Staff(Staff {
            role: Role::Organiser,
            ..
        })
    )
}

/// [`decide`] as the API error handlers return.
pub fn may(actor: &Actor, action: Action, object: Object) -> Result<(), ApiError> {
    decide(actor, action, object).map_err(|denial| match denial {
        Denial::Unauthenticated => ApiError::unauthenticated(),
        Denial::Hidden => ApiError::not_found(object_name(object)),
        Denial::Forbidden => ApiError::forbidden(format!("you may not {} this {}", verb(action), object_name(object))),
    })
}

/// What a staff member may list of users, applications and figures: everything (`None`) or
/// one organisation's.
pub fn organisation_scope(staff: &Staff) -> Option<Uuid> {
    match staff.role {
        Role::Organiser => None,
        // A partner without an organisation cannot exist (CHECK constraint); nil matches nobody.
        Role::Partner => Some(staff.organisation_id.unwrap_or(Uuid::nil())),
    }
}

/// Which positions a caller may list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PositionScope {
    /// Every position (organisers).
    All,
    /// The public board: open positions of published tours, before their closing day.
    Board,
    /// The board, and every position of this organisation (its partners).
    BoardAndOwn(Uuid),
}

pub fn position_scope(actor: &Actor) -> PositionScope {
    match actor {
        Actor::Staff(Staff {
            role: Role::Organiser, ..
        }) => PositionScope::All,
        Actor::Staff(Staff {
            organisation_id: Some(own),
            ..
        }) => PositionScope::BoardAndOwn(*own),
        _ => PositionScope::Board,
    }
}

fn object_name(object: Object) -> &'static str {
    match object {
        Object::Organisations | Object::Organisation { .. } => "organisation",
        Object::Users | Object::User { .. } => "user",
        Object::Tours | Object::Tour { .. } | Object::TourStats { .. } => "tour",
        Object::Positions | Object::Position { .. } => "position",
        Object::Applications | Object::Application { .. } => "application",
        Object::Slot { .. } | Object::SlotBookings { .. } => "slot",
        Object::Seat => "booking",
        Object::StopDesk { .. } => "stop",
        Object::Memberships => "membership",
        Object::Enquiries | Object::Enquiry { .. } => "enquiry",
        Object::Audit => "audit log",
        Object::Webhooks { .. } | Object::Webhook { .. } => "webhook",
    }
}

fn verb(action: Action) -> &'static str {
    match action {
        Action::Read => "read",
        Action::Create => "create",
        Action::Update => "change",
        Action::Delete => "delete",
        Action::Withdraw => "withdraw",
        Action::ForceDelete => "force-delete",
        Action::Export => "export",
        Action::Override => "override the hours of",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn staff(role: Role, org: Option<Uuid>) -> (Actor, Uuid) {
        let id = Uuid::now_v7();
        (
            Actor::Staff(Staff {
                user_id: id,
                session_id: Uuid::now_v7(),
                role,
                organisation_id: org,
            }),
            id,
        )
    }

    #[test]
    fn partners_change_only_their_own_organisation() {
        let (own, other) = (Uuid::now_v7(), Uuid::now_v7());
        let (partner, _) = staff(Role::Partner, Some(own));
        assert_eq!(
            decide(&partner, Action::Update, Object::Organisation { id: own }),
            Ok(())
        );
        assert_eq!(
            decide(&partner, Action::Update, Object::Organisation { id: other }),
            Err(Denial::Forbidden)
        );
        assert_eq!(
            decide(&partner, Action::Delete, Object::Organisation { id: own }),
            Err(Denial::Forbidden)
        );
        assert_eq!(
            decide(&partner, Action::Create, Object::Organisations),
            Err(Denial::Forbidden)
        );
    }

    #[test]
    fn only_organisers_manage_users() {
        let org = Uuid::now_v7();
        let (partner, me) = staff(Role::Partner, Some(org));
        let (organiser, _) = staff(Role::Organiser, None);
        assert_eq!(decide(&partner, Action::Create, Object::Users), Err(Denial::Forbidden));
        assert_eq!(decide(&organiser, Action::Create, Object::Users), Ok(()));
        let colleague = Object::User {
            id: Uuid::now_v7(),
            organisation_id: Some(org),
        };
        let stranger = Object::User {
            id: Uuid::now_v7(),
            organisation_id: Some(Uuid::now_v7()),
        };
        assert_eq!(decide(&partner, Action::Read, colleague), Ok(()));
        assert_eq!(decide(&partner, Action::Update, colleague), Err(Denial::Forbidden));
        assert_eq!(decide(&partner, Action::Read, stranger), Err(Denial::Hidden));
        assert_eq!(
            decide(
                &partner,
                Action::Update,
                Object::User {
                    id: me,
                    organisation_id: Some(org)
                }
            ),
            Ok(())
        );
    }

    #[test]
    fn unpublished_tours_are_invisible_to_all_but_organisers() {
        let (partner, _) = staff(Role::Partner, Some(Uuid::now_v7()));
        let (organiser, _) = staff(Role::Organiser, None);
        for actor in [Actor::Anonymous, partner] {
            assert_eq!(
                decide(&actor, Action::Read, Object::Tour { public: false }),
                Err(Denial::Hidden)
            );
            assert_eq!(
                decide(&actor, Action::Update, Object::Tour { public: false }),
                Err(Denial::Hidden)
            );
            assert_eq!(decide(&actor, Action::Read, Object::Tour { public: true }), Ok(()));
        }
        assert_eq!(
            decide(&partner, Action::Update, Object::Tour { public: true }),
            Err(Denial::Forbidden)
        );
        assert_eq!(
            decide(&Actor::Anonymous, Action::Create, Object::Tours),
            Err(Denial::Unauthenticated)
        );
        assert_eq!(decide(&organiser, Action::Read, Object::Tour { public: false }), Ok(()));
    }

    #[test]
    fn anonymous_reads_the_directory_only() {
        let a = Actor::Anonymous;
        assert_eq!(decide(&a, Action::Read, Object::Organisations), Ok(()));
        assert_eq!(
            decide(&a, Action::Update, Object::Organisation { id: Uuid::nil() }),
            Err(Denial::Unauthenticated)
        );
        assert_eq!(decide(&a, Action::Read, Object::Users), Err(Denial::Unauthenticated));
    }

    #[test]
    fn a_candidate_opens_its_own_application_only() {
        let own = Uuid::now_v7();
        let org = Uuid::now_v7();
        let candidate = Actor::Candidate { application_id: own };
        let mine = Object::Application {
            id: own,
            organisation_id: org,
        };
        let other = Object::Application {
            id: Uuid::now_v7(),
            organisation_id: org,
        };
        assert_eq!(decide(&candidate, Action::Read, mine), Ok(()));
        assert_eq!(decide(&candidate, Action::Withdraw, mine), Ok(()));
        assert_eq!(decide(&candidate, Action::Update, mine), Err(Denial::Forbidden));
        assert_eq!(decide(&candidate, Action::Read, other), Err(Denial::Hidden));
        assert_eq!(
            decide(&candidate, Action::Read, Object::Applications),
            Err(Denial::Forbidden)
        );
        assert_eq!(decide(&candidate, Action::Read, Object::Positions), Ok(()));
        assert_eq!(
            decide(&candidate, Action::Create, Object::Tours),
            Err(Denial::Forbidden)
        );
        assert_eq!(position_scope(&candidate), PositionScope::Board);
    }

    #[test]
    fn partners_post_and_hire_for_their_own_organisation() {
        let (own, other) = (Uuid::now_v7(), Uuid::now_v7());
        let (partner, _) = staff(Role::Partner, Some(own));
        let (organiser, _) = staff(Role::Organiser, None);
        let position = |organisation_id, public| Object::Position {
            organisation_id,
            public,
        };
        assert_eq!(decide(&partner, Action::Create, position(own, true)), Ok(()));
        assert_eq!(
            decide(&partner, Action::Create, position(other, true)),
            Err(Denial::Forbidden)
        );
        assert_eq!(decide(&partner, Action::Read, position(own, false)), Ok(()));
        assert_eq!(
            decide(&partner, Action::Read, position(other, false)),
            Err(Denial::Hidden)
        );
        assert_eq!(
            decide(&partner, Action::Update, position(other, true)),
            Err(Denial::Forbidden)
        );
        assert_eq!(
            decide(&Actor::Anonymous, Action::Read, position(other, false)),
            Err(Denial::Hidden)
        );
        assert_eq!(decide(&Actor::Anonymous, Action::Read, position(other, true)), Ok(()));
        let application = |organisation_id| Object::Application {
            id: Uuid::now_v7(),
            organisation_id,
        };
        assert_eq!(decide(&partner, Action::Update, application(own)), Ok(()));
        assert_eq!(
            decide(&partner, Action::Update, application(other)),
            Err(Denial::Hidden)
        );
        assert_eq!(
            decide(&partner, Action::Withdraw, application(own)),
            Err(Denial::Forbidden)
        );
        assert_eq!(
            decide(&organiser, Action::Withdraw, application(own)),
            Err(Denial::Forbidden)
        );
        assert_eq!(decide(&organiser, Action::Update, application(other)), Ok(()));
        assert_eq!(position_scope(&partner), PositionScope::BoardAndOwn(own));
        assert_eq!(position_scope(&organiser), PositionScope::All);
        assert_eq!(position_scope(&Actor::Anonymous), PositionScope::Board);
    }

    #[test]
    fn figures_are_for_staff() {
        let (partner, _) = staff(Role::Partner, Some(Uuid::now_v7()));
        let (organiser, _) = staff(Role::Organiser, None);
        let stats = |public| Object::TourStats { public };
        assert_eq!(
            decide(&Actor::Anonymous, Action::Read, stats(true)),
            Err(Denial::Unauthenticated)
        );
        assert_eq!(decide(&partner, Action::Read, stats(true)), Ok(()));
        assert_eq!(decide(&partner, Action::Read, stats(false)), Err(Denial::Hidden));
        assert_eq!(decide(&organiser, Action::Read, stats(false)), Ok(()));
    }

    #[test]
    fn employers_run_their_slots_and_candidates_take_the_seats() {
        let (own, other) = (Uuid::now_v7(), Uuid::now_v7());
        let (partner, _) = staff(Role::Partner, Some(own));
        let (organiser, _) = staff(Role::Organiser, None);
        let candidate = Actor::Candidate {
            application_id: Uuid::now_v7(),
        };
        let slot = |organisation_id, public| Object::Slot {
            organisation_id,
            public,
        };
        assert_eq!(decide(&Actor::Anonymous, Action::Read, slot(other, true)), Ok(()));
        assert_eq!(
            decide(&Actor::Anonymous, Action::Read, slot(other, false)),
            Err(Denial::Hidden)
        );
        assert_eq!(decide(&partner, Action::Update, slot(own, true)), Ok(()));
        assert_eq!(
            decide(&partner, Action::Update, slot(other, true)),
            Err(Denial::Forbidden)
        );
        assert_eq!(
            decide(&partner, Action::ForceDelete, slot(own, true)),
            Err(Denial::Forbidden)
        );
        assert_eq!(decide(&organiser, Action::ForceDelete, slot(other, true)), Ok(()));
        assert_eq!(decide(&candidate, Action::Update, Object::Seat), Ok(()));
        assert_eq!(decide(&partner, Action::Update, Object::Seat), Err(Denial::Forbidden));
        assert_eq!(decide(&organiser, Action::Update, Object::Seat), Err(Denial::Forbidden));
        assert_eq!(
            decide(&Actor::Anonymous, Action::Update, Object::Seat),
            Err(Denial::Unauthenticated)
        );
        assert_eq!(
            decide(&partner, Action::Read, Object::SlotBookings { public: true }),
            Ok(())
        );
        assert_eq!(
            decide(&candidate, Action::Read, Object::SlotBookings { public: true }),
            Err(Denial::Forbidden)
        );
        assert!(sees_candidates(&partner, own) && !sees_candidates(&partner, other));
        assert!(sees_candidates(&organiser, other) && !sees_candidates(&candidate, other));
    }

    #[test]
    fn the_desk_at_a_stop_is_for_the_tour_staff() {
        let (partner, _) = staff(Role::Partner, Some(Uuid::now_v7()));
        let (organiser, _) = staff(Role::Organiser, None);
        let candidate = Actor::Candidate {
            application_id: Uuid::now_v7(),
        };
        let desk = |takes_part, public| Object::StopDesk { takes_part, public };
        assert_eq!(decide(&partner, Action::Create, desk(true, true)), Ok(()));
        assert_eq!(decide(&partner, Action::Read, desk(true, true)), Ok(()));
        assert_eq!(
            decide(&partner, Action::Create, desk(false, true)),
            Err(Denial::Forbidden)
        );
        assert_eq!(decide(&partner, Action::Read, desk(true, false)), Err(Denial::Hidden));
        assert_eq!(
            decide(&partner, Action::Override, desk(true, true)),
            Err(Denial::Forbidden)
        );
        assert_eq!(decide(&organiser, Action::Override, desk(false, false)), Ok(()));
        assert_eq!(
            decide(&candidate, Action::Read, desk(true, true)),
            Err(Denial::Forbidden)
        );
        assert_eq!(
            decide(&Actor::Anonymous, Action::Create, desk(true, true)),
            Err(Denial::Unauthenticated)
        );
    }

    #[test]
    fn partners_keep_their_own_webhooks() {
        let (own, other) = (Uuid::now_v7(), Uuid::now_v7());
        let (partner, _) = staff(Role::Partner, Some(own));
        let (organiser, _) = staff(Role::Organiser, None);
        let candidate = Actor::Candidate {
            application_id: Uuid::now_v7(),
        };
        let hooks = |organisation_id| Object::Webhooks { organisation_id };
        let hook = |organisation_id| Object::Webhook { organisation_id };
        assert_eq!(decide(&partner, Action::Create, hooks(own)), Ok(()));
        assert_eq!(decide(&partner, Action::Read, hooks(own)), Ok(()));
        assert_eq!(decide(&partner, Action::Create, hooks(other)), Err(Denial::Forbidden));
        assert_eq!(decide(&partner, Action::Delete, hook(own)), Ok(()));
        assert_eq!(decide(&partner, Action::Read, hook(other)), Err(Denial::Hidden));
        assert_eq!(decide(&partner, Action::Delete, hook(other)), Err(Denial::Hidden));
        assert_eq!(decide(&organiser, Action::Delete, hook(other)), Ok(()));
        assert_eq!(decide(&candidate, Action::Read, hooks(own)), Err(Denial::Forbidden));
        assert_eq!(
            decide(&Actor::Anonymous, Action::Read, hooks(own)),
            Err(Denial::Unauthenticated)
        );
    }
}
