//! The reference tables shared with Silver (`sql/reference/*.csv`): countries and the catalogue.
//!
//! They are compiled into the generator so that the rows it writes and the tables Silver maps them
//! with can never drift apart.

/// `sql/reference/pays.csv`: `code_iso,pays,nom_anglais`.
pub const PAYS_CSV: &str = include_str!("../../sql/reference/pays.csv");
/// `sql/reference/produits.csv`: `produit,categorie,prix_reference`.
pub const PRODUITS_CSV: &str = include_str!("../../sql/reference/produits.csv");

#[derive(Debug, Clone)]
pub struct Country {
    pub code_iso: String,
    /// Canonical French name, the value Silver keeps.
    pub pays: String,
    pub nom_anglais: String,
}

#[derive(Debug, Clone)]
pub struct Product {
    pub produit: String,
    pub categorie: String,
    pub prix_reference: f64,
}

fn data_lines(csv: &str) -> impl Iterator<Item = Vec<&str>> {
    csv.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split(',').collect())
}

/// The countries, in the reference file's order. The embedded file is checked by the tests.
pub fn countries() -> Vec<Country> {
    data_lines(PAYS_CSV)
        .filter_map(|f| match f.as_slice() {
            [code, pays, anglais] => Some(Country {
                code_iso: code.to_string(),
                pays: pays.to_string(),
                nom_anglais: anglais.to_string(),
            }),
            _ => None,
        })
        .collect()
}

/// The catalogue, in the reference file's order.
pub fn products() -> Vec<Product> {
    data_lines(PRODUITS_CSV)
        .filter_map(|f| match f.as_slice() {
            [produit, categorie, prix] => Some(Product {
                produit: produit.to_string(),
                categorie: categorie.to_string(),
                prix_reference: prix.parse().ok()?,
            }),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_files_parse_completely() {
        let countries = countries();
        assert_eq!(countries.len(), PAYS_CSV.lines().count() - 1);
        assert!((10..=15).contains(&countries.len()));
        let products = products();
        assert_eq!(products.len(), PRODUITS_CSV.lines().count() - 1);
        assert!((30..=60).contains(&products.len()));
        assert!(products.iter().all(|p| p.prix_reference >= 1.0));
    }

    #[test]
    fn product_names_are_unique_ignoring_case() {
        let mut names: Vec<String> = products()
            .iter()
            .map(|p| p.produit.to_lowercase())
            .collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), products().len());
    }
}
