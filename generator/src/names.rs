//! Names, addresses and the textual variants that the defects write.

use chrono::{DateTime, NaiveTime};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::reference::Country;

/// A name as displayed (accents kept) and as used in an email address (ASCII, lower case).
#[derive(Debug, Clone, Copy)]
pub struct Name {
    pub display: &'static str,
    pub ascii: &'static str,
}

const fn n(display: &'static str, ascii: &'static str) -> Name {
    Name { display, ascii }
}

const FIRST_NAMES: [Name; 32] = [
    n("Jean", "jean"),
    n("Marie", "marie"),
    n("Lucas", "lucas"),
    n("Léa", "lea"),
    n("Hugo", "hugo"),
    n("Chloé", "chloe"),
    n("Louis", "louis"),
    n("Emma", "emma"),
    n("Gabriel", "gabriel"),
    n("Inès", "ines"),
    n("Arthur", "arthur"),
    n("Jade", "jade"),
    n("Jules", "jules"),
    n("Zoé", "zoe"),
    n("Raphaël", "raphael"),
    n("Camille", "camille"),
    n("Nathan", "nathan"),
    n("Manon", "manon"),
    n("Théo", "theo"),
    n("Sarah", "sarah"),
    n("Adam", "adam"),
    n("Élodie", "elodie"),
    n("Noah", "noah"),
    n("Anaïs", "anais"),
    n("Paul", "paul"),
    n("Lina", "lina"),
    n("Sacha", "sacha"),
    n("Nina", "nina"),
    n("Yanis", "yanis"),
    n("Clara", "clara"),
    n("Mathis", "mathis"),
    n("Aïcha", "aicha"),
];

const LAST_NAMES: [Name; 32] = [
    n("Martin", "martin"),
    n("Bernard", "bernard"),
    n("Dubois", "dubois"),
    n("Thomas", "thomas"),
    n("Robert", "robert"),
    n("Richard", "richard"),
    n("Petit", "petit"),
    n("Durand", "durand"),
    n("Leroy", "leroy"),
    n("Moreau", "moreau"),
    n("Simon", "simon"),
    n("Laurent", "laurent"),
    n("Lefèvre", "lefevre"),
    n("Michel", "michel"),
    n("Garcia", "garcia"),
    n("David", "david"),
    n("Bertrand", "bertrand"),
    n("Roux", "roux"),
    n("Vincent", "vincent"),
    n("Fournier", "fournier"),
    n("Morel", "morel"),
    n("Girard", "girard"),
    n("André", "andre"),
    n("Mercier", "mercier"),
    n("Dupont", "dupont"),
    n("Lambert", "lambert"),
    n("Bonnet", "bonnet"),
    n("François", "francois"),
    n("Martinez", "martinez"),
    n("Diallo", "diallo"),
    n("Nguyen", "nguyen"),
    n("Da Silva", "dasilva"),
];

pub const DOMAINS: [&str; 5] = [
    "exemple.fr",
    "mail.com",
    "courriel.fr",
    "webmail.net",
    "boite.org",
];

/// Products sold that are not (yet) in the catalogue (A12, hors catalogue).
pub const NEW_PRODUCTS: [&str; 5] = [
    "Trottinette électrique",
    "Drone",
    "Casque VR",
    "Friteuse sans huile",
    "Gourde isotherme",
];

pub fn pick(rng: &mut ChaCha8Rng) -> (Name, Name) {
    (
        FIRST_NAMES[rng.random_range(0..FIRST_NAMES.len())],
        LAST_NAMES[rng.random_range(0..LAST_NAMES.len())],
    )
}

/// C3: the same address with upper case and surrounding spaces; never equal to the original.
pub fn shout_email(rng: &mut ChaCha8Rng, email: &str) -> String {
    let upper = match rng.random_range(0..3) {
        0 => email.to_uppercase(),
        1 => {
            let mut chars = email.chars();
            chars
                .next()
                .map(|c| c.to_uppercase().collect::<String>() + chars.as_str())
                .unwrap_or_default()
        }
        _ => email.to_string(),
    };
    match rng.random_range(0..3) {
        0 => format!(" {upper} "),
        1 => format!("{upper}  "),
        _ if upper != email => upper,
        _ => format!("  {upper}"),
    }
}

/// C4: an address that stays invalid after trimming and lower-casing.
pub fn break_email(rng: &mut ChaCha8Rng, email: &str) -> String {
    match rng.random_range(0..3) {
        0 => email.replace('@', "."),
        1 => email.replacen('.', "", usize::MAX).replace('@', "@@"),
        _ => email.split('.').next().unwrap_or(email).to_string(),
    }
}

/// C6: ISO code in any case, surrounding spaces, or the English name; never the canonical text.
pub fn country_variant(rng: &mut ChaCha8Rng, country: &Country) -> String {
    let variant = match rng.random_range(0..5) {
        0 => country.code_iso.clone(),
        1 => country.code_iso.to_lowercase(),
        2 => format!("  {} ", country.pays),
        3 => country.nom_anglais.clone(),
        _ => country.pays.to_uppercase(),
    };
    if variant == country.pays {
        format!(" {variant}")
    } else {
        variant
    }
}

/// C7 / A12: surrounding and doubled inner spaces.
pub fn spread_spaces(rng: &mut ChaCha8Rng, text: &str) -> String {
    let spread = match rng.random_range(0..3) {
        0 => format!("  {text} "),
        1 => text.replace(' ', "   "),
        _ => format!(" {}", text.replace(' ', "  ")),
    };
    spread.pipe_nonequal(text)
}

/// A12: a catalogue name in another case, with extra spaces; never the catalogue spelling.
pub fn spread_case(rng: &mut ChaCha8Rng, produit: &str) -> String {
    let cased = match rng.random_range(0..3) {
        0 => produit.to_lowercase(),
        1 => produit.to_uppercase(),
        _ => produit.to_string(),
    };
    let spaced = if rng.random_bool(0.5) {
        spread_spaces(rng, &cased)
    } else {
        cased
    };
    spaced.pipe_nonequal(produit)
}

/// A3: the same amount as `12,50`, `12,50 €`, `€12.50` or ` 12.5 `.
pub fn amount_variant(rng: &mut ChaCha8Rng, cents: i64) -> String {
    let (euros, rest) = (cents / 100, cents % 100);
    match rng.random_range(0..4) {
        0 => format!("{euros},{rest:02}"),
        1 => format!("{euros},{rest:02} €"),
        2 => format!("€{euros}.{rest:02}"),
        _ if rest % 10 == 0 => format!(" {euros}.{} ", rest / 10),
        _ => format!(" {euros}.{rest:02} "),
    }
}

/// A7: the same time as `YYYY-MM-DDTHH:MM:SS`, `DD/MM/YYYY HH:MM`, `YYYY-MM-DD` or epoch seconds.
/// The two short forms drop the seconds, or the whole time of day, as such sources do.
pub fn timestamp_variant(rng: &mut ChaCha8Rng, at: i64) -> String {
    let t = DateTime::from_timestamp(at, 0)
        .map(|t| t.naive_utc())
        .unwrap_or_default();
    match rng.random_range(0..4) {
        0 => t.format("%Y-%m-%dT%H:%M:%S").to_string(),
        1 => t.format("%d/%m/%Y %H:%M").to_string(),
        2 => t
            .date()
            .and_time(NaiveTime::MIN)
            .format("%Y-%m-%d")
            .to_string(),
        _ => at.to_string(),
    }
}

trait NonEqual {
    fn pipe_nonequal(self, original: &str) -> String;
}

impl NonEqual for String {
    /// Makes sure a variant differs from the original text (adds a leading space otherwise).
    fn pipe_nonequal(self, original: &str) -> String {
        if self == original {
            format!(" {self}")
        } else {
            self
        }
    }
}
