//! What problems say to people, in English or in French: the one catalogue. A problem's `code`
//! (and each field's) is the same in every language; its `title`, `detail` and field `message`
//! follow the request's `Accept-Language` (French when French is the best match, q-values
//! honoured; English otherwise), and the answer says which in `Content-Language`.
//!
//! The English texts are written where the problem arises, with its particulars ("no such
//! tour", "must be at most 200 characters"); the French ones are here, one per code, and take
//! the particulars that matter (numbers, a list of choices) from the English text.

use actix_web::Error;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::ACCEPT_LANGUAGE;
use actix_web::middleware::Next;

/// The languages problems are told in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Fr,
}

impl Lang {
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
        }
    }
}

/// The best of English and French for an `Accept-Language` header (RFC 9110 §12.5.4): each
/// range's quality (`q`, 1 when absent), a range matching a language or a subtag of it (`fr`,
/// `fr-CA`), `*` for languages not named otherwise. French only when it is strictly preferred;
/// English on a tie, without the header, or when it cannot be read.
pub fn negotiate(header: Option<&str>) -> Lang {
    let Some(header) = header else {
        return Lang::En;
    };
    let (mut fr, mut en, mut any): (Option<f32>, Option<f32>, Option<f32>) = (None, None, None);
    for range in header.split(',') {
        let mut parts = range.split(';');
        let tag = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let mut q = 1.0f32;
        for param in parts {
            if let Some(v) = param
                .trim()
                .strip_prefix("q=")
                .or_else(|| param.trim().strip_prefix("Q="))
            {
                q = v
                    .trim()
                    .parse::<f32>()
                    .ok()
                    .filter(|q| (0.0..=1.0).contains(q))
                    .unwrap_or(0.0);
            }
        }
        let primary = tag.split('-').next().unwrap_or("");
        let slot = match primary {
            "fr" => &mut fr,
            "en" => &mut en,
            "*" => &mut any,
            _ => continue,
        };
        *slot = Some(slot.map_or(q, |old: f32| old.max(q)));
    }
    let fr = fr.or(any).unwrap_or(0.0);
    let en = en.or(any).unwrap_or(0.0);
    if fr > en { Lang::Fr } else { Lang::En }
}

tokio::task_local! {
    static LANG: Lang;
}

/// The language of the request being answered (English outside a request).
pub fn current() -> Lang {
    LANG.try_with(|l| *l).unwrap_or(Lang::En)
}

/// Middleware: answers the request in its language. Problems rendered inside it (by a handler,
/// an extractor or an inner middleware, which answer theirs with `req.error_response`) read it
/// through [`current`].
pub async fn language(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let lang = negotiate(req.headers().get(ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()));
    LANG.scope(lang, next.call(req)).await
}

/// A problem's title: the status's reason phrase.
pub fn title(status: StatusCode, lang: Lang) -> String {
    let english = status.canonical_reason().unwrap_or("Error");
    match lang {
        Lang::En => english.to_owned(),
        Lang::Fr => title_fr(status).unwrap_or(english).to_owned(),
    }
}

fn title_fr(status: StatusCode) -> Option<&'static str> {
    Some(match status.as_u16() {
        400 => "Requête incorrecte",
        401 => "Authentification requise",
        403 => "Accès refusé",
        404 => "Introuvable",
        405 => "Méthode non autorisée",
        408 => "Délai de requête dépassé",
        409 => "Conflit",
        412 => "Précondition non remplie",
        413 => "Requête trop volumineuse",
        415 => "Type de contenu non pris en charge",
        422 => "Contenu invalide",
        429 => "Trop de requêtes",
        500 => "Erreur interne",
        503 => "Service indisponible",
        _ => return None,
    })
}

/// A problem's detail in `lang`; `english` is the detail as written where it arose.
pub fn detail(code: &str, english: &str, lang: Lang) -> String {
    match lang {
        Lang::En => english.to_owned(),
        Lang::Fr => problem_fr(code).map_or_else(|| english.to_owned(), |t| fill(t, english)),
    }
}

/// A field's message in `lang`; `english` is the message as written where it arose.
pub fn field_message(code: &str, english: &str, lang: Lang) -> String {
    match lang {
        Lang::En => english.to_owned(),
        Lang::Fr => field_fr(code, english).map_or_else(|| english.to_owned(), |t| fill(t, english)),
    }
}

/// The French detail of each problem code. `{0}`, `{1}`: the numbers of the English text, in
/// order; `{list}`: what follows its last ": ".
pub fn problem_fr(code: &str) -> Option<&'static str> {
    Some(match code {
        "malformed_json" => "Le corps de la requête n'est pas du JSON valide.",
        "unknown_field" => "Le corps de la requête contient un champ inconnu.",
        "invalid_body" => "Le corps de la requête n'a pas la forme attendue.",
        "invalid_path" => "Un paramètre du chemin est invalide.",
        "invalid_query" => "Un paramètre de la requête est invalide.",
        "invalid_cursor" => "Ce curseur n'est pas celui d'une page de cette liste.",
        "invalid_header" => "Un en-tête de la requête est invalide.",
        "unauthenticated" => "Connectez-vous et envoyez le jeton dans `Authorization: Bearer <jeton>`.",
        "invalid_token" => "Ce jeton est inconnu, expiré ou révoqué : connectez-vous à nouveau.",
        "invalid_credentials" => "Adresse e-mail ou mot de passe incorrect.",
        "forbidden" => "Votre rôle ne permet pas cette action.",
        "not_found" => "Cette ressource n'existe pas, ou vous ne pouvez pas la voir.",
        "route_not_found" => "Aucune route ne correspond à cette adresse.",
        "method_not_allowed" => "Cette ressource n'accepte pas cette méthode (voir l'en-tête Allow).",
        "already_exists" => "Cette ressource existe déjà.",
        "conflict" => "La requête entre en conflit avec l'état actuel des données.",
        "email_taken" => "Un compte utilise déjà cette adresse e-mail.",
        "in_use" => "D'autres données en dépendent : elle ne peut pas être supprimée.",
        "cannot_delete_self" => "Vous ne pouvez pas supprimer votre propre compte.",
        "invalid_transition" => "Ce changement de statut n'est pas permis depuis le statut actuel (voir `allowed`).",
        "stop_overlap" => "Le bus est déjà à une autre étape à ce moment-là.",
        "stops_outside_tour" => {
            "{0} étape(s) sortiraient des dates de la tournée : déplacez-les ou supprimez-les d'abord."
        }
        "slots_outside_stop" => {
            "{0} créneau(x) sortiraient des horaires de l'étape : déplacez-les ou supprimez-les d'abord."
        }
        "precondition_failed" => {
            "La ressource a changé depuis votre lecture (If-Match ne correspond plus à son ETag) : relisez-la."
        }
        "payload_too_large" => "Le corps de la requête est trop volumineux.",
        "unsupported_media_type" => "Envoyez le corps en JSON (`Content-Type: application/json`).",
        "duplicate_application" => "Une candidature avec cette adresse e-mail existe déjà pour ce poste.",
        "position_not_open" => "Ce poste ne prend pas de candidatures.",
        "position_filled" => "Tous les postes à pourvoir sont pourvus : augmentez leur nombre pour recruter encore.",
        "openings_below_filled" => "Le nombre de postes ne peut pas descendre sous le nombre de recrutements.",
        "idempotency_key_in_flight" => {
            "Une requête avec cette Idempotency-Key est en cours : réessayez dans un instant."
        }
        "idempotency_key_reused" => "Cette Idempotency-Key a déjà servi pour une autre requête.",
        "slot_overlap" => "L'employeur a déjà un créneau à ce moment-là.",
        "capacity_below_booked" => "La capacité ne peut pas descendre sous le nombre de places réservées.",
        "slot_has_bookings" => "Ce créneau a des réservations : annulez-les d'abord.",
        "slot_full" => "Ce créneau est complet : inscrivez-vous sur la liste d'attente.",
        "slot_available" => "Ce créneau a encore des places : réservez-en une.",
        "already_booked" => "Cette candidature a déjà un entretien réservé (voir `slot_id`).",
        "already_waiting" => "Cette candidature attend déjà une place (voir `slot_id`).",
        "application_not_active" => "Cette candidature n'est plus active.",
        "tour_cancelled" => "La tournée est annulée.",
        "slot_started" => "Ce créneau a déjà commencé.",
        "wrong_employer" => "Ce créneau est celui d'un autre employeur.",
        "wrong_tour" => "Cela appartient à une autre tournée.",
        "not_a_club" => "Cette organisation n'est pas un club : seul un club a des membres et fusionne.",
        "organisation_merged" => "Cette organisation a fusionné dans un autre club : elle ne change plus.",
        "own_member" => "Un club n'est pas membre de lui-même.",
        "merge_into_itself" => "Un club fusionné ne peut pas être celui qui les reçoit.",
        "stop_not_open" => {
            "L'étape n'enregistre pas d'arrivées à cette heure : d'une heure avant l'arrivée du bus à son départ (un organisateur peut forcer)."
        }
        "invalid_ticket" => "Ce ticket de flux est inconnu, expiré ou déjà utilisé : demandez-en un autre.",
        "validation_failed" => "{0} champ(s) invalide(s) : voir `errors`.",
        "invalid_reference" => "Une référence de la requête désigne une ressource qui n'existe pas.",
        "constraint_violated" => "La requête enfreint une règle des données.",
        "too_many_attempts" => "Trop de tentatives échouées : réessayez dans {0} s.",
        "too_many_requests" => "Trop de candidatures et de réservations depuis cette adresse : réessayez dans {1} s.",
        "internal_error" => "Une erreur est survenue de notre côté ; elle a été enregistrée.",
        "database_busy" => "Le service est très sollicité : réessayez dans un instant (voir Retry-After).",
        "database_unavailable" => "La base de données est injoignable : réessayez dans un instant.",
        _ => return None,
    })
}

/// The French message of each field code (see [`problem_fr`] for the placeholders). A code used
/// for several things takes its wording from the English text.
pub fn field_fr(code: &str, english: &str) -> Option<&'static str> {
    let has_number = english.chars().any(|c| c.is_ascii_digit());
    Some(match code {
        "required" => "est obligatoire",
        "not_nullable" => "peut être omis, mais pas mis à null",
        "blank" => "doit contenir au moins un caractère visible",
        "too_long" if english.contains("days") => "une tournée dure au plus {0} jours",
        "too_long" => "doit compter au plus {0} caractères",
        "too_short" if english.contains("characters") => "doit compter au moins {0} caractères",
        "too_short" if english.contains("event") => "nommez au moins un événement",
        "too_short" => "trop court : il ne reste la place d'aucun créneau",
        "too_many" if has_number => "au plus {0}",
        "too_many" => "trop d'éléments",
        "out_of_range" => "doit être compris entre {0} et {1}",
        "invalid_characters" => "ne doit pas contenir de caractères de contrôle",
        "invalid_choice" => "doit être l'une de ces valeurs : {list}",
        "invalid_email" => "doit être une adresse e-mail comme nom@exemple.fr",
        "invalid_phone" => "doit être un numéro français (06 12 34 56 78) ou international (+33 6 12 34 56 78)",
        "invalid_timezone" => "doit être un fuseau horaire IANA comme Europe/Paris",
        "invalid_url" => "doit être une adresse http:// ou https:// avec un hôte, sans identifiants ni fragment",
        "private_address" => {
            "désigne une adresse de réseau privé : les webhooks n'appellent que des adresses publiques"
        }
        "in_future" => "ne doit pas être dans le futur",
        "before_stop_day" => "ne doit pas précéder le jour de l'étape",
        "not_an_organiser" => "doit être l'identifiant d'un organisateur",
        "not_at_stop" => "doit être un des postes proposés à cette étape",
        "consent_required" => "doit valoir true : la personne accepte la politique de confidentialité",
        "before_start" => "ne doit pas précéder starts_on",
        "not_after_start" => "doit être après starts_at",
        "not_after_arrival" => "doit être après arrives_at",
        "below_minimum" => "ne doit pas être inférieur à salary_min",
        "without_salary" => "demande salary_min ou salary_max",
        "required_for_partner" => "un partenaire agit pour une organisation : donnez son identifiant",
        "invalid_initial_status" => "un nouveau poste est draft ou open",
        "not_found" => "désigne une ressource qui n'existe pas",
        "not_a_tour_partner" => "l'employeur ne participe pas à cette tournée",
        "not_a_stop_of_the_tour" => "n'est pas une étape de la tournée du poste",
        "not_a_stop_of_the_position" => "doit être l'une des étapes où l'employeur rencontre les candidats",
        "not_at_this_stop" => "doit être l'un des postes de l'employeur présentés à cette étape",
        "outside_tour" => "l'étape doit se tenir pendant les dates de la tournée",
        "outside_stop" => "le créneau doit se tenir entre l'arrivée et le départ de l'étape",
        "tour_finished" => "la tournée est terminée ou annulée : elle ne prend plus de postes",
        "invalid_code" => "n'est pas un code de passage de cette campagne, ou il est abîmé",
        _ => return None,
    })
}

/// `template` with `{0}`, `{1}`… replaced by the numbers of `english` and `{list}` by what
/// follows its last ": ".
fn fill(template: &str, english: &str) -> String {
    let mut out = template.to_owned();
    if out.contains("{list}") {
        let list = english.rsplit_once(": ").map_or(english, |(_, l)| l);
        out = out.replace("{list}", list);
    }
    if out.contains('{') {
        for (i, n) in numbers(english).iter().enumerate() {
            out = out.replace(&format!("{{{i}}}"), n);
        }
    }
    out
}

/// The integers written in `text`, in order (a sign kept when it starts one).
fn numbers(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let negative = bytes[i] == b'-' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit);
        if bytes[i].is_ascii_digit() || negative {
            let start = i;
            i += 1;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            found.push(&text[start..i]);
        } else {
            i += 1;
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn french_only_when_it_is_the_best_match() {
        for (header, lang) in [
            (None, Lang::En),
            (Some("fr"), Lang::Fr),
            (Some("fr-FR,fr;q=0.9,en;q=0.8"), Lang::Fr),
            (Some("fr-CA"), Lang::Fr),
            (Some("FR-fr"), Lang::Fr),
            (Some("en-US,en;q=0.9,fr;q=0.8"), Lang::En),
            (Some("en;q=0.5, fr;q=0.7"), Lang::Fr),
            (Some("de-DE, fr;q=0.5"), Lang::Fr),
            (Some("de-DE, en;q=0.3, fr;q=0.2"), Lang::En),
            (Some("fr;q=0"), Lang::En),
            (Some("*"), Lang::En),
            (Some("*;q=0.5, fr"), Lang::Fr),
            (Some("fr;q=0.8, en;q=0.8"), Lang::En),
            (Some("fr;q=abc"), Lang::En),
            (Some("de"), Lang::En),
            (Some(""), Lang::En),
        ] {
            assert_eq!(negotiate(header), lang, "{header:?}");
        }
    }

    #[test]
    fn numbers_and_lists_carry_over() {
        for (code, english, french) in [
            (
                "out_of_range",
                "must be between -90 and 90",
                "doit être compris entre -90 et 90",
            ),
            (
                "too_long",
                "must be at most 200 characters",
                "doit compter au plus 200 caractères",
            ),
            (
                "too_long",
                "a tour lasts at most 60 days",
                "une tournée dure au plus 60 jours",
            ),
            (
                "invalid_choice",
                "must be one of: cdi, cdd, interim",
                "doit être l'une de ces valeurs : cdi, cdd, interim",
            ),
        ] {
            assert_eq!(field_message(code, english, Lang::Fr), french);
            assert_eq!(field_message(code, english, Lang::En), english);
        }
        assert_eq!(
            detail(
                "too_many_requests",
                "at most 30 applications and bookings a minute from one address: try again in 12 s",
                Lang::Fr
            ),
            "Trop de candidatures et de réservations depuis cette adresse : réessayez dans 12 s."
        );
        assert_eq!(detail("not_found", "no such tour", Lang::En), "no such tour");
    }

    /// Every code written in the sources, found by the shapes that write them: a problem code
    /// after a `StatusCode::…,` or as the first argument of `conflict`/`bad_request`; a field
    /// code as the first argument of `Invalid::new` or the second of `invalid_field`.
    fn codes_in_sources() -> (BTreeSet<String>, BTreeSet<String>) {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let mut text = String::new();
        let mut dirs = vec![root.join("api/src"), root.join("domain/src")];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("messages.rs") {
                    text.push_str(&std::fs::read_to_string(&path).unwrap());
                }
            }
        }
        let literal_after = |text: &str, at: usize| -> Option<String> {
            let rest = text[at..].trim_start();
            let rest = rest.strip_prefix('"')?;
            let end = rest.find('"')?;
            let code = &rest[..end];
            (!code.is_empty() && code.chars().all(|c| c.is_ascii_lowercase() || c == '_')).then(|| code.to_owned())
        };
        let after_each = |needle: &str, skip_arg: bool| -> BTreeSet<String> {
            let mut found = BTreeSet::new();
            for (i, _) in text.match_indices(needle) {
                let mut at = i + needle.len();
                if skip_arg {
                    // Past the first argument (`field`, `&name`, `format!(…)`): the next comma
                    // at depth zero.
                    let mut depth = 0;
                    for (j, c) in text[at..].char_indices() {
                        match c {
                            '(' | '[' => depth += 1,
                            ')' | ']' => depth -= 1,
                            ',' if depth == 0 => {
                                at += j + 1;
                                break;
                            }
                            _ => {}
                        }
                    }
                }
                found.extend(literal_after(&text, at));
            }
            found
        };
        let mut problems = BTreeSet::new();
        for (i, _) in text.match_indices("StatusCode::") {
            let rest = &text[i + "StatusCode::".len()..];
            let name_len = rest.find(|c: char| !(c.is_ascii_uppercase() || c == '_')).unwrap_or(0);
            if name_len > 0 && rest[name_len..].starts_with(',') {
                problems.extend(literal_after(rest, name_len + 1));
            }
        }
        problems.extend(after_each("conflict(", false));
        problems.extend(after_each("bad_request(", false));
        let mut fields = after_each("Invalid::new(", false);
        fields.extend(after_each("invalid_field(", true));
        (problems, fields)
    }

    #[test]
    fn every_code_has_french() {
        let (problems, fields) = codes_in_sources();
        assert!(problems.len() >= 50, "the scan finds the problem codes: {problems:?}");
        assert!(fields.len() >= 25, "the scan finds the field codes: {fields:?}");
        let missing: Vec<_> = problems.iter().filter(|c| problem_fr(c).is_none()).collect();
        assert!(missing.is_empty(), "problem codes without French: {missing:?}");
        let missing: Vec<_> = fields.iter().filter(|c| field_fr(c, "").is_none()).collect();
        assert!(missing.is_empty(), "field codes without French: {missing:?}");
        for status in [400, 401, 403, 404, 405, 408, 409, 412, 413, 415, 422, 429, 500, 503] {
            assert!(title_fr(StatusCode::from_u16(status).unwrap()).is_some(), "{status}");
        }
    }
}
