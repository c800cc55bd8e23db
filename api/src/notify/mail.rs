//! The e-mails to candidates, in French: what they say, and the interview as an iCalendar
//! attachment. Rendered when the event happens and kept in the outbox until delivered (then
//! wiped); the subject, which names no one, stays as the record of what was sent.

use chrono::{DateTime, Datelike, Timelike};
use chrono_tz::Tz;
use icalendar::{Calendar, Component, Event, EventLike, EventStatus, Property};
use jobtour_domain::application::ApplicationStatus;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// One e-mail, ready to send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
    /// The interview as an iCalendar file (`.ics`), to add or remove it in a calendar app.
    pub calendar: Option<String>,
}

/// Who is written to, about which position.
#[derive(Debug, Clone)]
pub struct Candidate<'a> {
    pub email: &'a str,
    pub first_name: &'a str,
    pub title: &'a str,
    pub employer: &'a str,
}

/// An interview: when and where.
#[derive(Debug, Clone)]
pub struct Interview {
    pub booking_id: Uuid,
    pub starts_at: DateTime<Tz>,
    pub ends_at: DateTime<Tz>,
    /// Venue, address and city, as known.
    pub place: String,
}

/// Why an interview was cancelled, as the candidate is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cancelled {
    ByCandidate,
    Withdrawn,
    SlotDeleted,
}

const SIGNATURE: &str = "À bientôt dans le bus de l'emploi !\nL'équipe Jobtour";

/// The application arrived: how to follow it.
pub fn received(c: &Candidate<'_>, link: &str) -> Mail {
    Mail {
        to: c.email.to_owned(),
        subject: format!("Candidature reçue : {}", c.title),
        text: format!(
            "Bonjour {first},\n\n\
             Nous avons bien reçu votre candidature au poste « {title} » chez {employer}.\n\n\
             Pour la suivre, réserver un entretien au passage du bus, la retirer, ou télécharger \
             et effacer vos données, ouvrez ce lien personnel (ne le transmettez à personne) :\n\
             {link}\n\n{SIGNATURE}\n",
            first = c.first_name,
            title = c.title,
            employer = c.employer,
        ),
        calendar: None,
    }
}

/// A seat is the candidate's: booked, or won from the waiting list.
pub fn booked(c: &Candidate<'_>, i: &Interview, from_line: bool) -> Mail {
    let when = when(&i.starts_at);
    let (subject, opening) = if from_line {
        (
            format!("Une place s'est libérée : entretien le {when}"),
            "Bonne nouvelle : une place s'est libérée et elle est pour vous. Votre entretien",
        )
    } else {
        (format!("Entretien confirmé le {when}"), "Votre entretien")
    };
    Mail {
        to: c.email.to_owned(),
        subject,
        text: format!(
            "Bonjour {first},\n\n\
             {opening} pour le poste « {title} » chez {employer} est confirmé le {when} \
             (jusqu'à {end}).\n\nLieu : {place}\n\n\
             Le fichier joint l'ajoute à votre agenda. Un empêchement ? Annulez depuis votre lien \
             personnel : la place ira à la personne suivante.\n\n{SIGNATURE}\n",
            first = c.first_name,
            title = c.title,
            employer = c.employer,
            end = hour(&i.ends_at),
            place = i.place,
        ),
        calendar: Some(calendar(c, i, EventStatus::Confirmed)),
    }
}

/// The interview will not take place.
pub fn cancelled(c: &Candidate<'_>, i: &Interview, why: Cancelled) -> Mail {
    let when = when(&i.starts_at);
    let reason = match why {
        Cancelled::ByCandidate => "Comme vous l'avez demandé, votre entretien",
        Cancelled::Withdrawn => "Votre candidature étant retirée, votre entretien",
        Cancelled::SlotDeleted => "L'employeur a dû supprimer ce créneau : votre entretien",
    };
    let again = match why {
        Cancelled::Withdrawn => "",
        _ => "Vous pouvez réserver un autre créneau depuis votre lien personnel.\n\n",
    };
    Mail {
        to: c.email.to_owned(),
        subject: format!("Entretien annulé : {when}"),
        text: format!(
            "Bonjour {first},\n\n\
             {reason} pour le poste « {title} » chez {employer}, prévu le {when}, est annulé.\n\n\
             {again}{SIGNATURE}\n",
            first = c.first_name,
            title = c.title,
            employer = c.employer,
        ),
        calendar: Some(calendar(c, i, EventStatus::Cancelled)),
    }
}

/// Whether the candidate is written to when its application moves to `to`.
pub fn tells(to: ApplicationStatus) -> bool {
    matches!(
        to,
        ApplicationStatus::Interview | ApplicationStatus::Offered | ApplicationStatus::Rejected
    )
}

/// The application moved to a stage the candidate is told about (`interview`, `offered`,
/// `rejected`); `None` for the others.
pub fn status(c: &Candidate<'_>, to: ApplicationStatus) -> Option<Mail> {
    let (subject, body) = match to {
        ApplicationStatus::Interview => (
            format!("Invitation à un entretien : {}", c.title),
            "{employer} souhaite vous rencontrer pour le poste « {title} ». Réservez dès maintenant \
             un créneau d'entretien à l'une des étapes du bus depuis votre lien personnel.",
        ),
        ApplicationStatus::Offered => (
            format!("Une proposition vous attend : {}", c.title),
            "Félicitations ! {employer} vous fait une proposition pour le poste « {title} ». \
             L'employeur vous contactera pour en convenir des détails.",
        ),
        ApplicationStatus::Rejected => (
            format!("Votre candidature : {}", c.title),
            "Nous vous remercions de l'intérêt porté au poste « {title} ». {employer} ne donnera \
             malheureusement pas suite à votre candidature. D'autres offres vous attendent sur \
             le site et dans le bus de l'emploi.",
        ),
        _ => return None,
    };
    let body = body.replace("{employer}", c.employer).replace("{title}", c.title);
    Some(Mail {
        to: c.email.to_owned(),
        subject,
        text: format!("Bonjour {},\n\n{body}\n\n{SIGNATURE}\n", c.first_name),
        calendar: None,
    })
}

/// The self-service link of an application, for the candidates' front-end. The token travels
/// in the fragment, which browsers do not send to servers (nor to their logs).
pub fn self_service_link(public_url: &str, application_id: Uuid, token: &str) -> String {
    format!("{public_url}/applications/{application_id}#token={token}")
}

/// The self-service link of an enquiry (the token in the fragment, as for an application).
pub fn enquiry_link(public_url: &str, enquiry_id: Uuid, token: &str) -> String {
    format!("{public_url}/enquiries/{enquiry_id}#token={token}")
}

const AGENCY_SIGNATURE: &str = "Les chargés de mission de l'agence de développement";

/// A company's enquiry arrived: when to expect an answer, and how to see, download or erase
/// what it sent.
pub fn enquiry_received(to: &str, name: &str, subject: &str, link: &str) -> Mail {
    Mail {
        to: to.to_owned(),
        subject: "Votre demande a bien été reçue".to_owned(),
        text: format!(
            "Bonjour {name},\n\n\
             Nous avons bien reçu votre demande ({subject}). Un chargé de mission vous répondra \
             rapidement.\n\n\
             Pour la relire, télécharger ou effacer vos données, ouvrez ce lien personnel (ne le \
             transmettez à personne) :\n{link}\n\n{AGENCY_SIGNATURE}\n"
        ),
        calendar: None,
    }
}

/// An enquiry was given to an organiser.
pub fn enquiry_assigned(to: &str, company: &str, subject: &str, enquiry_id: Uuid) -> Mail {
    Mail {
        to: to.to_owned(),
        subject: format!("Demande à traiter : {subject}"),
        text: format!(
            "Bonjour,\n\nLa demande de {company} ({subject}) vous a été confiée.\n\
             Référence : {enquiry_id}\n\nJobtour\n"
        ),
        calendar: None,
    }
}

/// What a subject says in French.
pub fn enquiry_subject(subject: &str) -> &'static str {
    match subject {
        "setting_up" => "implantation",
        "developing" => "développement",
        "recruiting" => "recrutement",
        "partnership" => "partenariat",
        _ => "autre demande",
    }
}

/// The interview as a calendar event with a stable UID, so that a cancellation replaces the
/// confirmation in the candidate's calendar.
fn calendar(c: &Candidate<'_>, i: &Interview, status: EventStatus) -> String {
    let mut event = Event::new();
    event
        .uid(&format!("booking-{}@jobtour", i.booking_id))
        .summary(&format!("Entretien : {} ({})", c.title, c.employer))
        .location(&i.place)
        .starts(i.starts_at.to_utc())
        .ends(i.ends_at.to_utc())
        .status(status)
        .add_property("SEQUENCE", if status == EventStatus::Cancelled { "1" } else { "0" });
    let mut calendar = Calendar::new();
    calendar
        .append_property(Property::new("METHOD", "PUBLISH"))
        .push(event.done());
    calendar.done().to_string()
}

const DAYS: [&str; 7] = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"];
const MONTHS: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];

/// `mardi 19 octobre 2027 à 9 h 30`, in the stop's time zone.
fn when(at: &DateTime<Tz>) -> String {
    let day = DAYS[at.weekday().num_days_from_monday() as usize];
    let month = MONTHS[at.month0() as usize];
    format!("{day} {} {month} {} à {}", at.day(), at.year(), hour(at))
}

fn hour(at: &DateTime<Tz>) -> String {
    format!("{} h {:02}", at.hour(), at.minute())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn candidate() -> Candidate<'static> {
        Candidate {
            email: "lea@example.org",
            first_name: "Léa",
            title: "Conseiller clientèle",
            employer: "Téléperformance",
        }
    }

    fn interview() -> Interview {
        let tz: Tz = "Europe/Paris".parse().expect("a zone");
        Interview {
            booking_id: Uuid::nil(),
            starts_at: tz.with_ymd_and_hms(2027, 10, 19, 9, 30, 0).single().expect("a time"),
            ends_at: tz.with_ymd_and_hms(2027, 10, 19, 9, 50, 0).single().expect("a time"),
            place: "Place Stanislas, Nancy".to_owned(),
        }
    }

    #[test]
    fn dates_read_in_french_in_the_stops_zone() {
        assert_eq!(when(&interview().starts_at), "mardi 19 octobre 2027 à 9 h 30");
    }

    #[test]
    fn a_booking_mail_carries_the_interview() {
        let mail = booked(&candidate(), &interview(), false);
        assert_eq!(mail.subject, "Entretien confirmé le mardi 19 octobre 2027 à 9 h 30");
        assert!(mail.text.contains("Place Stanislas") && mail.text.contains("9 h 50"));
        let ics = mail.calendar.expect("an invitation");
        assert!(ics.contains("UID:booking-00000000-0000-0000-0000-000000000000@jobtour"));
        assert!(ics.contains("DTSTART:20271019T073000Z") && ics.contains("STATUS:CONFIRMED"));
        let cancelled = cancelled(&candidate(), &interview(), Cancelled::SlotDeleted);
        assert!(cancelled.calendar.expect("a cancellation").contains("STATUS:CANCELLED"));
        assert!(
            booked(&candidate(), &interview(), true)
                .subject
                .starts_with("Une place s'est libérée")
        );
    }

    #[test]
    fn only_some_stages_are_mailed_and_subjects_name_no_one() {
        let c = candidate();
        for stage in ApplicationStatus::ALL {
            let mail = status(&c, stage);
            assert_eq!(mail.is_some(), tells(stage), "{stage:?}");
            if let Some(mail) = mail {
                assert!(!mail.subject.contains("Léa") && mail.text.contains("Bonjour Léa"));
            }
        }
        let mail = received(&c, "https://jobtour.fr/applications/x#token=jta_1");
        assert!(!mail.subject.contains("Léa") && mail.text.contains("#token=jta_1"));
    }
}
