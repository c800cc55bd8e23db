//! Places and distances: coordinates, great-circle distance, whether the bus makes it in time.

use crate::error::Invalid;

/// Mean Earth radius, km.
const EARTH_RADIUS_KM: f64 = 6371.0088;

/// A validated position in decimal degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LatLon {
    lat: f64,
    lon: f64,
}

impl LatLon {
    pub fn latitude(raw: f64) -> Result<f64, Invalid> {
        if raw.is_finite() && (-90.0..=90.0).contains(&raw) {
            Ok(raw)
        } else {
            Err(Invalid::new("out_of_range", "must be between -90 and 90"))
        }
    }

    pub fn longitude(raw: f64) -> Result<f64, Invalid> {
        if raw.is_finite() && (-180.0..=180.0).contains(&raw) {
            Ok(raw)
        } else {
            Err(Invalid::new("out_of_range", "must be between -180 and 180"))
        }
    }

    pub fn new(lat: f64, lon: f64) -> Result<Self, Invalid> {
        Ok(Self {
            lat: Self::latitude(lat)?,
            lon: Self::longitude(lon)?,
        })
    }

    /// Great-circle distance (haversine), km.
    pub fn distance_km(self, other: Self) -> f64 {
        let (φ1, φ2) = (self.lat.to_radians(), other.lat.to_radians());
        let dφ = (other.lat - self.lat).to_radians();
        let dλ = (other.lon - self.lon).to_radians();
        let a = (dφ / 2.0).sin().powi(2) + φ1.cos() * φ2.cos() * (dλ / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_KM * a.sqrt().min(1.0).asin()
    }
}

/// How the bus travels: road distance is the great-circle distance times `road_factor`,
/// covered at `speed_kmh`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Travel {
    pub road_factor: f64,
    pub speed_kmh: f64,
}

impl Travel {
    pub const DEFAULT: Self = Self {
        road_factor: 1.3,
        speed_kmh: 60.0,
    };

    pub fn new(road_factor: f64, speed_kmh: f64) -> Result<Self, (&'static str, Invalid)> {
        if !(road_factor.is_finite() && (1.0..=5.0).contains(&road_factor)) {
            return Err(("road_factor", Invalid::new("out_of_range", "must be between 1 and 5")));
        }
        if !(speed_kmh.is_finite() && (1.0..=200.0).contains(&speed_kmh)) {
            return Err(("speed_kmh", Invalid::new("out_of_range", "must be between 1 and 200")));
        }
        Ok(Self { road_factor, speed_kmh })
    }

    /// Whole minutes of driving between two places, rounded up.
    pub fn required_minutes(self, from: LatLon, to: LatLon) -> i64 {
        let hours = from.distance_km(to) * self.road_factor / self.speed_kmh;
        (hours * 60.0).ceil() as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const METZ: (f64, f64) = (49.1193, 6.1757);
    const NANCY: (f64, f64) = (48.6921, 6.1844);

    #[test]
    fn metz_to_nancy_is_about_47_km() {
        let d = LatLon::new(METZ.0, METZ.1)
            .unwrap()
            .distance_km(LatLon::new(NANCY.0, NANCY.1).unwrap());
        assert!((46.0..49.0).contains(&d), "{d}");
        let minutes = Travel::DEFAULT.required_minutes(
            LatLon::new(METZ.0, METZ.1).unwrap(),
            LatLon::new(NANCY.0, NANCY.1).unwrap(),
        );
        assert_eq!(minutes, 62);
    }

    #[test]
    fn coordinates_are_checked() {
        assert!(LatLon::new(91.0, 0.0).is_err());
        assert!(LatLon::new(0.0, -180.5).is_err());
        assert!(LatLon::new(f64::NAN, 0.0).is_err());
        assert!(Travel::new(0.5, 60.0).is_err() && Travel::new(1.3, 0.0).is_err());
    }

    proptest! {
        #[test]
        fn distance_is_a_symmetric_bounded_measure(a in (-90.0f64..=90.0, -180.0f64..=180.0), b in (-90.0f64..=90.0, -180.0f64..=180.0)) {
            let (a, b) = (LatLon::new(a.0, a.1).unwrap(), LatLon::new(b.0, b.1).unwrap());
            let d = a.distance_km(b);
            prop_assert!((0.0..=std::f64::consts::PI * EARTH_RADIUS_KM + 1e-6).contains(&d));
            prop_assert!((d - b.distance_km(a)).abs() < 1e-6);
            prop_assert!(a.distance_km(a) < 1e-9);
        }
    }
}
