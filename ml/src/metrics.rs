//! Ranking metrics of a binary score: ROC-AUC and PR-AUC (average precision). A higher score
//! means "more likely positive".

/// Area under the ROC curve: the probability that a random positive scores above a random
/// negative, ties counting one half (the Mann–Whitney statistic). `None` when either class is
/// empty.
pub fn roc_auc(scores: &[f64], positives: &[bool]) -> Option<f64> {
    let n_pos = positives.iter().filter(|p| **p).count();
    let n_neg = positives.len() - n_pos;
    if n_pos == 0 || n_neg == 0 || scores.len() != positives.len() {
        return None;
    }
    // Average ranks (1-based) with ties sharing the mean of their ranks.
    let order = ascending(scores);
    let mut rank_sum_pos = 0.0;
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        let mean_rank = (i + j) as f64 / 2.0 + 1.0;
        rank_sum_pos += mean_rank * order[i..=j].iter().filter(|&&r| positives[r]).count() as f64;
        i = j + 1;
    }
    let (p, n) = (n_pos as f64, n_neg as f64);
    Some((rank_sum_pos - p * (p + 1.0) / 2.0) / (p * n))
}

/// Average precision (area under the precision-recall curve, step-wise): the mean, over the
/// positives, of the precision at the threshold that first includes them; tied scores enter
/// together. `None` when there is no positive.
pub fn average_precision(scores: &[f64], positives: &[bool]) -> Option<f64> {
    let n_pos = positives.iter().filter(|p| **p).count();
    if n_pos == 0 || scores.len() != positives.len() {
        return None;
    }
    let mut order = ascending(scores);
    order.reverse();
    let (mut seen, mut hits, mut sum) = (0usize, 0usize, 0.0);
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        let new_hits = order[i..=j].iter().filter(|&&r| positives[r]).count();
        seen += j - i + 1;
        hits += new_hits;
        sum += new_hits as f64 * hits as f64 / seen as f64;
        i = j + 1;
    }
    Some(sum / n_pos as f64)
}

/// Row indices by ascending score (NaN last), stable.
fn ascending(scores: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_inverted_and_uninformative_rankings() {
        let labels = [false, false, true, true];
        assert_eq!(roc_auc(&[0.1, 0.2, 0.8, 0.9], &labels), Some(1.0));
        assert_eq!(roc_auc(&[0.9, 0.8, 0.2, 0.1], &labels), Some(0.0));
        assert_eq!(roc_auc(&[0.5; 4], &labels), Some(0.5));
        assert_eq!(roc_auc(&[0.5; 2], &[true, true]), None);
    }

    #[test]
    fn roc_auc_by_hand() {
        // Positives score 0.35 and 0.8; negatives 0.1, 0.4, 0.8.
        // Pairs (pos, neg): 0.35 beats 0.1 only; 0.8 beats 0.1 and 0.4, ties 0.8.
        // (1 + 2 + 0.5) / (2 × 3) = 3.5 / 6.
        let scores = [0.1, 0.35, 0.4, 0.8, 0.8];
        let labels = [false, true, false, true, false];
        let auc = roc_auc(&scores, &labels).expect("both classes");
        assert!((auc - 3.5 / 6.0).abs() < 1e-12);
    }

    #[test]
    fn average_precision_by_hand() {
        // Descending: 0.9 (pos), 0.8 (neg), 0.7 (pos), 0.1 (neg).
        // Precision at each positive: 1/1 and 2/3; mean 5/6.
        let scores = [0.1, 0.7, 0.8, 0.9];
        let labels = [false, true, false, true];
        let ap = average_precision(&scores, &labels).expect("a positive");
        assert!((ap - 5.0 / 6.0).abs() < 1e-12);
        // All tied: the precision is the positive share, 1/2.
        assert_eq!(average_precision(&[0.3; 4], &labels), Some(0.5));
        assert_eq!(average_precision(&[0.3; 2], &[false, false]), None);
    }
}
