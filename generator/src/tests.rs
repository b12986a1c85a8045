//! Shape and determinism of the generated data (the defect counts are checked end to end against
//! Silver's quality report in the core crate's tests).

use super::*;

fn generate_into(dir: &Path, seed: u64, scale: f64) -> Manifest {
    let config = GenerateConfig {
        scale,
        seed,
        as_of: GenerateConfig::default_as_of(),
        rates: DefectRates::default(),
        churn: ChurnSignal::default(),
        out_dir: dir.to_path_buf(),
    };
    generate(&config).expect("generation succeeds")
}

fn read_rows(path: &Path) -> Vec<csv::StringRecord> {
    csv::Reader::from_path(path)
        .expect("readable csv")
        .records()
        .collect::<Result<_, _>>()
        .expect("well-formed csv")
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let (a, b, c) = (
        tempfile::tempdir().expect("tmp"),
        tempfile::tempdir().expect("tmp"),
        tempfile::tempdir().expect("tmp"),
    );
    let ma = generate_into(a.path(), 7, 0.01);
    let mb = generate_into(b.path(), 7, 0.01);
    generate_into(c.path(), 8, 0.01);
    assert_eq!(ma, mb);
    for f in ["clients.csv", "achats.csv"] {
        let fa = std::fs::read(a.path().join(f)).expect("file");
        assert_eq!(fa, std::fs::read(b.path().join(f)).expect("file"));
        assert_ne!(fa, std::fs::read(c.path().join(f)).expect("file"));
    }
}

#[test]
fn row_counts_follow_scale_and_defects() {
    let dir = tempfile::tempdir().expect("tmp");
    let m = generate_into(dir.path(), 1, 0.01);
    let clients = read_rows(&dir.path().join("clients.csv"));
    let achats = read_rows(&dir.path().join("achats.csv"));
    // Rows that defects add: duplicates, newer versions, and (clients) rows with a bad id.
    let added_clients = m.defect(Defect::C1) + m.defect(Defect::C2) + m.defect(Defect::C8);
    let added_achats = m.defect(Defect::A1) + m.defect(Defect::A2);
    assert_eq!(clients.len() as u64, 1_000 + added_clients);
    assert_eq!(achats.len() as u64, 10_000 + added_achats);
    assert_eq!(m.files["clients.csv"], clients.len() as u64);
    assert_eq!(m.files["achats.csv"], achats.len() as u64);
    // Every defect was injected at the default rate of 0.2 %.
    for d in Defect::CLIENTS {
        assert_eq!(m.defect(d), 2, "{d}");
    }
    for d in Defect::ACHATS {
        assert_eq!(m.defect(d), 20, "{d}");
    }
}

#[test]
fn realistic_shape() {
    let dir = tempfile::tempdir().expect("tmp");
    generate_into(dir.path(), 3, 0.05);
    let achats = read_rows(&dir.path().join("achats.csv"));
    let mut per_client: BTreeMap<&str, f64> = BTreeMap::new();
    let mut countries = std::collections::BTreeSet::new();
    for r in &achats {
        // Clean rows only: canonical amounts below the aberrant threshold.
        let Ok(amount) = r[3].parse::<f64>() else {
            continue;
        };
        if !(1.0..=5_000.0).contains(&amount) {
            continue;
        }
        *per_client.entry(&r[1]).or_default() += amount;
    }
    for r in read_rows(&dir.path().join("clients.csv")) {
        countries.insert(r[4].to_string());
    }
    let mut ca: Vec<f64> = per_client.values().copied().collect();
    ca.sort_by(f64::total_cmp);
    let n = ca.len() as f64;
    let total: f64 = ca.iter().sum();
    let gini: f64 = ca
        .iter()
        .enumerate()
        .map(|(i, x)| (2.0 * (i as f64 + 1.0) - n - 1.0) * x)
        .sum::<f64>()
        / (n * total);
    assert!((0.6..=0.75).contains(&gini), "buyer Gini {gini}");
    let canonical: Vec<_> = reference::countries().into_iter().map(|c| c.pays).collect();
    assert!(canonical.iter().all(|c| countries.contains(c)));
}

#[test]
fn ids_follow_time_and_nothing_is_left_beside_the_files() {
    let dir = tempfile::tempdir().expect("tmp");
    let m = generate_into(dir.path(), 5, 0.02);
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("listing")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["achats.csv", "clients.csv", MANIFEST_FILE]);

    // The first 20 000 rows are the drawn purchases (the added ones come after): ids 1, 2, …
    // in file order, and timestamps that no defect rewrote never go back in time.
    let achats = read_rows(&dir.path().join("achats.csv"));
    let drawn = &achats[..20_000];
    for (i, r) in drawn.iter().enumerate() {
        // A13 rows carry an unreadable id instead.
        if let Ok(id) = r[0].parse::<u64>() {
            assert_eq!(id, i as u64 + 1);
        }
    }
    let out_of_order = drawn
        .windows(2)
        .filter(|w| w[0][2].len() == 19 && w[1][2].len() == 19 && w[1][2] < w[0][2])
        .count() as u64;
    // Only defect rows (A7, A9, A14 rewrite the timestamp in canonical or other forms) can break
    // the order, each at most twice (against its neighbours).
    let rewritten = m.defect(Defect::A7) + m.defect(Defect::A9) + m.defect(Defect::A14);
    assert!(
        out_of_order <= 2 * rewritten,
        "{out_of_order} descents for {rewritten} rewritten timestamps"
    );
}

#[test]
fn the_smallest_scale_still_has_every_file_and_exact_counts() {
    let dir = tempfile::tempdir().expect("tmp");
    let m = generate_into(dir.path(), 2, 1e-6);
    let clients = read_rows(&dir.path().join("clients.csv"));
    let achats = read_rows(&dir.path().join("achats.csv"));
    assert_eq!(m.files["clients.csv"], clients.len() as u64);
    assert_eq!(m.files["achats.csv"], achats.len() as u64);
    // 10 clients and 100 purchases at least; at 0.2 % no defect rounds up to a row.
    assert_eq!((clients.len(), achats.len()), (10, 100));
    assert!(m.defects.values().all(|n| *n == 0));
}

#[test]
fn a_scale_past_the_limit_is_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    let config = GenerateConfig {
        scale: MAX_SCALE * 2.0,
        seed: 1,
        as_of: GenerateConfig::default_as_of(),
        rates: DefectRates::default(),
        churn: ChurnSignal::default(),
        out_dir: dir.path().to_path_buf(),
    };
    assert!(matches!(
        generate(&config),
        Err(GenerateError::ScaleTooLarge(_))
    ));
}
