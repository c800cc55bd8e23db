//! Abuse limits: the writes a candidate can make without a staff account (applying, booking,
//! waiting lists) are counted per client address and minute, across every instance (the count
//! lives in the database), and refused beyond `JOBTOUR_ANON_WRITES_PER_MINUTE` with a 429
//! problem and `Retry-After`. The client address is the peer's, or, when the peer is one of
//! `JOBTOUR_TRUSTED_PROXIES`, the one those proxies put in `X-Forwarded-For`.

use crate::error::ApiError;
use crate::repo;
use crate::state::AppState;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::HeaderMap;
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{Error, web};
use ipnet::IpNet;
use jobtour_domain::throttle::MinuteWindow;
use std::net::IpAddr;

/// The writes a candidate (or a company writing to the agency) makes, by method and route
/// pattern.
pub const CANDIDATE_WRITES: &[(&str, &str)] = &[
    ("POST", "/api/v1/positions/{id}/applications"),
    ("PUT", "/api/v1/slots/{id}/booking"),
    ("DELETE", "/api/v1/slots/{id}/booking"),
    ("PUT", "/api/v1/slots/{id}/waitlist"),
    ("DELETE", "/api/v1/slots/{id}/waitlist"),
    ("POST", "/api/v1/enquiries"),
];

/// The header the trusted proxies write.
pub const X_FORWARDED_FOR: &str = "x-forwarded-for";

/// Middleware: counts a candidate's write and refuses it past the limit.
pub async fn anonymous_writes(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return next.call(req).await.map(ServiceResponse::map_into_left_body);
    };
    let limit = state.settings.anon_writes_per_minute;
    if limit == 0 || !is_candidate_write(&req) {
        return next.call(req).await.map(ServiceResponse::map_into_left_body);
    }
    let peer = req.peer_addr().map(|a| a.ip());
    let address = client_address(peer, req.headers(), &state.settings.trusted_proxies)
        .map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
    let window = MinuteWindow::at(repo::now());
    let refusal = match repo::throttle::count_write(state.db.conn(), &format!("writes:{address}"), window.start).await {
        Ok(n) if n > i64::from(limit) => Some(too_many_writes(limit, window.seconds_left)),
        Ok(_) => None,
        Err(e) => Some(ApiError::from(e)),
    };
    match refusal {
        Some(problem) => Ok(req.error_response(problem).map_into_right_body()),
        None => next.call(req).await.map(ServiceResponse::map_into_left_body),
    }
}

fn too_many_writes(limit: u32, retry_after: u64) -> ApiError {
    let mut e = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_requests",
        format!("at most {limit} applications and bookings a minute from one address: try again in {retry_after} s"),
    );
    e.set_retry_after(retry_after);
    e
}

/// A write of the list made without a staff token (none, or a candidate's). Reads leave at
/// the first test, before the route is looked up.
fn is_candidate_write(req: &ServiceRequest) -> bool {
    let method = req.method();
    if method == Method::GET || method == Method::HEAD || method == Method::OPTIONS {
        return false;
    }
    crate::http::route_pattern(req.request())
        .is_some_and(|pattern| crate::routes::listed(CANDIDATE_WRITES, method.as_str(), &pattern))
        && !crate::auth::claims_staff(req.headers())
}

/// The client's address: the peer's, unless the peer is a trusted proxy; then the nearest
/// address in `X-Forwarded-For` (read from the right) that is not itself a trusted proxy.
pub fn client_address(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &[IpNet]) -> Option<IpAddr> {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    let peer = peer?;
    if !is_trusted(&peer) {
        return Some(peer);
    }
    let parts: Vec<&str> = headers
        .get_all(X_FORWARDED_FOR)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    for part in parts.into_iter().rev() {
        match part.trim().parse::<IpAddr>() {
            Ok(ip) if is_trusted(&ip) => {}
            Ok(ip) => return Some(ip),
            Err(_) => break,
        }
    }
    Some(peer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{self, HeaderValue};

    fn xff(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::HeaderName::from_static(X_FORWARDED_FOR),
            HeaderValue::from_str(value).unwrap(),
        );
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_for_is_believed_only_from_a_trusted_proxy() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let headers = xff("203.0.113.7");
        // An untrusted peer cannot choose its address.
        assert_eq!(
            client_address(Some(ip("198.51.100.1")), &headers, &trusted),
            Some(ip("198.51.100.1"))
        );
        assert_eq!(
            client_address(Some(ip("10.0.0.2")), &headers, &trusted),
            Some(ip("203.0.113.7"))
        );
        // A client that writes its own header gets it extended by the proxy: the rightmost
        // untrusted address is the one the proxy saw.
        assert_eq!(
            client_address(Some(ip("10.0.0.2")), &xff("1.2.3.4, 203.0.113.7, 10.0.0.9"), &trusted),
            Some(ip("203.0.113.7"))
        );
        // No header: the proxy itself.
        assert_eq!(
            client_address(Some(ip("10.0.0.2")), &HeaderMap::new(), &trusted),
            Some(ip("10.0.0.2"))
        );
    }
}
