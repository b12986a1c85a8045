//! The defects of the data contract (section 2) that the generator injects, and their rates.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use crate::GenerateError;

/// One injected defect. The ids are the contract's; the `*_invalide` / `*_inconnu` /
/// `*_hors_catalogue` variants split a contract id where Silver reports two different outcomes
/// (a fixed value versus a validity failure).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Defect {
    C1,
    C2,
    C3,
    C4,
    C5,
    C5Invalide,
    C6,
    C6Inconnu,
    C7,
    C8,
    A1,
    A2,
    A3,
    A4,
    A5,
    A6,
    A7,
    A8,
    A9,
    A10,
    A11,
    A12,
    A12HorsCatalogue,
    A13,
    A14,
}

impl Defect {
    pub const CLIENTS: [Defect; 10] = [
        Defect::C1,
        Defect::C2,
        Defect::C3,
        Defect::C4,
        Defect::C5,
        Defect::C5Invalide,
        Defect::C6,
        Defect::C6Inconnu,
        Defect::C7,
        Defect::C8,
    ];

    pub const ACHATS: [Defect; 15] = [
        Defect::A1,
        Defect::A2,
        Defect::A3,
        Defect::A4,
        Defect::A5,
        Defect::A6,
        Defect::A7,
        Defect::A8,
        Defect::A9,
        Defect::A10,
        Defect::A11,
        Defect::A12,
        Defect::A12HorsCatalogue,
        Defect::A13,
        Defect::A14,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Defect::C1 => "C1",
            Defect::C2 => "C2",
            Defect::C3 => "C3",
            Defect::C4 => "C4",
            Defect::C5 => "C5",
            Defect::C5Invalide => "C5_invalide",
            Defect::C6 => "C6",
            Defect::C6Inconnu => "C6_inconnu",
            Defect::C7 => "C7",
            Defect::C8 => "C8",
            Defect::A1 => "A1",
            Defect::A2 => "A2",
            Defect::A3 => "A3",
            Defect::A4 => "A4",
            Defect::A5 => "A5",
            Defect::A6 => "A6",
            Defect::A7 => "A7",
            Defect::A8 => "A8",
            Defect::A9 => "A9",
            Defect::A10 => "A10",
            Defect::A11 => "A11",
            Defect::A12 => "A12",
            Defect::A12HorsCatalogue => "A12_hors_catalogue",
            Defect::A13 => "A13",
            Defect::A14 => "A14",
        }
    }

    /// Defects that add a row to the file rather than alter an existing one.
    pub fn adds_a_row(self) -> bool {
        matches!(
            self,
            Defect::C1 | Defect::C2 | Defect::C8 | Defect::A1 | Defect::A2
        )
    }
}

impl fmt::Display for Defect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl FromStr for Defect {
    type Err = GenerateError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Defect::CLIENTS
            .into_iter()
            .chain(Defect::ACHATS)
            .find(|d| d.id().eq_ignore_ascii_case(s))
            .ok_or_else(|| GenerateError::UnknownDefect(s.to_string()))
    }
}

/// Share of an entity's rows that each defect touches.
#[derive(Debug, Clone, PartialEq)]
pub struct DefectRates {
    pub default: f64,
    pub overrides: BTreeMap<Defect, f64>,
}

/// Each defect touches 0.2 % of its entity's rows by default: about 200 rows per defect at SF 1,
/// 2 % of rows in all for clients and 3 % for purchases.
pub const DEFAULT_DEFECT_RATE: f64 = 0.002;

impl Default for DefectRates {
    fn default() -> Self {
        Self {
            default: DEFAULT_DEFECT_RATE,
            overrides: BTreeMap::new(),
        }
    }
}

impl DefectRates {
    pub fn rate(&self, defect: Defect) -> f64 {
        self.overrides.get(&defect).copied().unwrap_or(self.default)
    }

    /// Parses `ID=RATE`, e.g. `A4=0.01`.
    pub fn set_from_str(&mut self, spec: &str) -> Result<(), GenerateError> {
        let bad = || GenerateError::BadDefectRate(spec.to_string());
        let (id, rate) = spec.split_once('=').ok_or_else(bad)?;
        let rate: f64 = rate.trim().parse().map_err(|_| bad())?;
        if !(0.0..=0.05).contains(&rate) {
            return Err(bad());
        }
        self.overrides.insert(id.trim().parse()?, rate);
        Ok(())
    }

    /// Sum of the rates of one entity's defects.
    pub fn total(&self, defects: &[Defect]) -> f64 {
        defects.iter().map(|d| self.rate(*d)).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip() {
        for d in Defect::CLIENTS.into_iter().chain(Defect::ACHATS) {
            assert_eq!(d.id().parse::<Defect>().ok(), Some(d));
        }
        assert!("Z9".parse::<Defect>().is_err());
    }

    #[test]
    fn rate_overrides() {
        let mut rates = DefectRates::default();
        rates.set_from_str("a4=0.01").expect("valid spec");
        assert_eq!(rates.rate(Defect::A4), 0.01);
        assert_eq!(rates.rate(Defect::A5), DEFAULT_DEFECT_RATE);
        assert!(rates.set_from_str("A4").is_err());
        assert!(rates.set_from_str("A4=0.5").is_err());
        assert!(rates.set_from_str("A99=0.01").is_err());
    }
}
