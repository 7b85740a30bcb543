//! Descriptive statistics of one sample of measurements (usually build times in seconds).
//!
//! Every statistic is computed from a sorted copy of the input, so a summary depends only on the
//! values and not on the order the runs happened in: summing in a fixed order keeps even the
//! floating-point rounding of the mean identical under any permutation.

use serde::{Deserialize, Serialize};

use statrs::distribution::{Binomial, DiscreteCDF};

use super::{CONFIDENCE, Interval};

/// Tukey's fence multiplier: values further than this many interquartile ranges outside the
/// quartiles are flagged as outliers.
const TUKEY_FENCE_IQRS: f64 = 1.5;

/// Fewest values for which outliers are flagged: with 3 or fewer the quartiles are made from the
/// same two or three values they would judge, so nothing could sensibly be called an outlier.
const MIN_VALUES_FOR_OUTLIERS: usize = 4;

/// Descriptive statistics of one sample, in the sample's own unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleSummary {
    /// Number of values.
    pub n: usize,
    /// Arithmetic mean.
    pub mean: f64,
    /// Median (mean of the two middle values when `n` is even).
    pub median: f64,
    /// Sample standard deviation (denominator `n - 1`); 0 when `n == 1`.
    pub stddev: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Coefficient of variation, `stddev / mean`; 0 when `mean == 0`.
    pub cv: f64,
    /// Distribution-free confidence interval of the median, between two order statistics,
    /// covering it with probability at least 95% (see [`median_interval`]); `None` below
    /// [`MIN_RUNS_FOR_INTERVAL`](super::MIN_RUNS_FOR_INTERVAL) runs, where no pair of order
    /// statistics covers 95%.
    pub median_interval: Option<Interval>,
    /// The exact coverage of `median_interval` (for example 0.96875 with 6 runs).
    #[serde(default)]
    pub median_interval_coverage: Option<f64>,
    /// Values outside Tukey's fences `[Q1 - 1.5 IQR, Q3 + 1.5 IQR]` (quartiles by linear
    /// interpolation: R's type 7, numpy's default), in ascending order; always empty when
    /// `n < 4`.
    pub outliers: Vec<f64>,
}

/// Summarises `values`, which callers must give as finite numbers.
///
/// Returns `None` for an empty slice or when any value is NaN or infinite: such a value is a
/// measuring bug upstream, and silently dropping it would hide that.
pub fn summarize(values: &[f64]) -> Option<SampleSummary> {
    let sorted = sorted_finite(values)?;
    let n = sorted.len();
    let min = *sorted.first()?;
    let max = *sorted.last()?;
    let median = median_of_sorted(&sorted)?;
    let n_f64 = n as f64;
    let mean = sorted.iter().sum::<f64>() / n_f64;
    let stddev = if n > 1 {
        // Two passes (mean first, then squared deviations) rather than the one-pass sum of
        // squares, which loses every significant digit when the spread is tiny next to the mean
        // (warm rebuilds: 0.05 s +- 0.001 s).
        let squared_deviations: f64 = sorted.iter().map(|x| (x - mean) * (x - mean)).sum();
        (squared_deviations / (n_f64 - 1.0)).sqrt()
    } else {
        0.0
    };
    let cv = if mean == 0.0 { 0.0 } else { stddev / mean };
    Some(SampleSummary {
        n,
        mean,
        median,
        stddev,
        min,
        max,
        cv,
        median_interval: median_interval(&sorted).map(|(interval, _)| interval),
        median_interval_coverage: median_interval(&sorted).map(|(_, coverage)| coverage),
        outliers: tukey_outliers(&sorted),
    })
}

/// The distribution-free interval of the median of an ascending sample: the narrowest pair of
/// order statistics `[x(k), x(n+1-k)]` whose coverage, `1 - 2 P(B <= k - 1)` with
/// `B ~ Binomial(n, 1/2)`, is at least [`CONFIDENCE`], with that coverage. It assumes nothing
/// about the distribution of build times. `None` when even `[min, max]` covers less (n <= 5).
pub fn median_interval(sorted: &[f64]) -> Option<(Interval, f64)> {
    let n = sorted.len();
    let binomial = Binomial::new(0.5, u64::try_from(n).ok()?).ok()?;
    let coverage = |k: usize| 1.0 - 2.0 * binomial.cdf(k as u64 - 1);
    let k = (1..=n / 2)
        .take_while(|&k| coverage(k) >= CONFIDENCE)
        .last()?;
    Some((
        Interval {
            low: *sorted.get(k - 1)?,
            high: *sorted.get(n - k)?,
        },
        coverage(k),
    ))
}

/// Median of `values` (mean of the two middle values when their number is even).
///
/// Returns `None` for an empty slice or when any value is NaN or infinite.
pub fn median(values: &[f64]) -> Option<f64> {
    median_of_sorted(&sorted_finite(values)?)
}

/// An ascending copy of `values`, or `None` when it is empty or holds a non-finite value.
pub(super) fn sorted_finite(values: &[f64]) -> Option<Vec<f64>> {
    if values.is_empty() || !values.iter().all(|x| x.is_finite()) {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_unstable_by(f64::total_cmp);
    Some(sorted)
}

/// Median of an ascending slice; `None` when it is empty.
pub(super) fn median_of_sorted(sorted: &[f64]) -> Option<f64> {
    let n = sorted.len();
    let upper = *sorted.get(n / 2)?;
    if n % 2 == 1 {
        Some(upper)
    } else {
        let lower = *sorted.get(n / 2 - 1)?;
        // `midpoint` neither overflows nor loses the last bit of tiny values, unlike `(a + b) / 2`
        // and `a / 2 + b / 2` respectively.
        Some(lower.midpoint(upper))
    }
}

/// The `p` quantile (0 <= p <= 1) of an ascending slice by linear interpolation between order
/// statistics: R's type 7, numpy's default `linear` method. `None` when the slice is empty.
fn quantile_type7(sorted: &[f64], p: f64) -> Option<f64> {
    let last_index = sorted.len().checked_sub(1)?;
    let position = last_index as f64 * p;
    let below = position.floor() as usize;
    let fraction = position - below as f64;
    let low = *sorted.get(below)?;
    match sorted.get(below + 1) {
        Some(&high) if fraction > 0.0 => Some(low + fraction * (high - low)),
        _ => Some(low),
    }
}

/// Values of an ascending slice strictly outside Tukey's fences, in ascending order.
fn tukey_outliers(sorted: &[f64]) -> Vec<f64> {
    if sorted.len() < MIN_VALUES_FOR_OUTLIERS {
        return Vec::new();
    }
    let (Some(q1), Some(q3)) = (quantile_type7(sorted, 0.25), quantile_type7(sorted, 0.75)) else {
        return Vec::new();
    };
    let iqr = q3 - q1;
    let low_fence = q1 - TUKEY_FENCE_IQRS * iqr;
    let high_fence = q3 + TUKEY_FENCE_IQRS * iqr;
    sorted
        .iter()
        .copied()
        .filter(|&x| x < low_fence || x > high_fence)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn close(actual: f64, expected: f64, tolerance: f64) -> bool {
        (actual - expected).abs() <= tolerance
    }

    #[test]
    fn hand_computed_summary_of_four_values() {
        // By hand: mean = 10/4 = 2.5; median = (2 + 3) / 2 = 2.5;
        // squared deviations 2.25 + 0.25 + 0.25 + 2.25 = 5, stddev = sqrt(5 / 3);
        // cv = sqrt(5 / 3) / 2.5.
        let summary = summarize(&[4.0, 1.0, 3.0, 2.0]).unwrap();
        assert_eq!(summary.n, 4);
        assert_eq!(summary.mean, 2.5);
        assert_eq!(summary.median, 2.5);
        assert!(close(summary.stddev, (5.0_f64 / 3.0).sqrt(), 1e-15));
        assert_eq!(summary.min, 1.0);
        assert_eq!(summary.max, 4.0);
        assert!(close(summary.cv, (5.0_f64 / 3.0).sqrt() / 2.5, 1e-15));
        assert!(
            summary.median_interval.is_none(),
            "4 runs cannot make a 95% interval of the median"
        );
        assert!(summary.outliers.is_empty());
    }

    #[test]
    fn reference_values_from_numpy() {
        // numpy 2.4.6:
        //   x = np.array([12.1, 11.8, 12.5, 30.2, 12.0, 11.9, 12.3, 5.0])
        //   x.mean(), np.median(x), x.std(ddof=1), x.std(ddof=1) / x.mean()
        //   q1, q3 = np.percentile(x, [25, 75])   # 11.875, 12.35 -> fences 11.1625, 13.0625
        let values = [12.1, 11.8, 12.5, 30.2, 12.0, 11.9, 12.3, 5.0];
        let summary = summarize(&values).unwrap();
        assert!(close(summary.mean, 13.475, 1e-12));
        assert!(close(summary.median, 12.05, 1e-12));
        assert!(close(summary.stddev, 7.203520964480792, 1e-12));
        assert!(close(summary.cv, 0.5345841161024707, 1e-12));
        assert!(close(
            quantile_type7(&sorted_finite(&values).unwrap(), 0.25).unwrap(),
            11.875,
            1e-12
        ));
        assert!(close(
            quantile_type7(&sorted_finite(&values).unwrap(), 0.75).unwrap(),
            12.35,
            1e-12
        ));
        assert_eq!(summary.outliers, [5.0, 30.2]);
    }

    #[test]
    fn outliers_are_flagged_only_from_four_values() {
        assert!(summarize(&[1.0, 1.0, 100.0]).unwrap().outliers.is_empty());
        // By hand for [1, 1, 1, 100]: Q1 = 1 (position 0.75 between 1 and 1), Q3 = 1 + 0.25 * 99
        // = 25.75, IQR = 24.75, high fence = 25.75 + 37.125 = 62.875 < 100.
        assert_eq!(
            summarize(&[1.0, 1.0, 1.0, 100.0]).unwrap().outliers,
            [100.0]
        );
    }

    #[test]
    fn a_value_on_a_fence_is_not_an_outlier() {
        // By hand for [0, 1, 2, 3, 7.5]: Q1 = 1, Q3 = 3, IQR = 2, high fence = 3 + 3 = 6 < 7.5;
        // for [0, 1, 2, 3, 6] the high fence is 6 and 6 sits on it.
        assert_eq!(
            summarize(&[0.0, 1.0, 2.0, 3.0, 7.5]).unwrap().outliers,
            [7.5]
        );
        assert!(
            summarize(&[0.0, 1.0, 2.0, 3.0, 6.0])
                .unwrap()
                .outliers
                .is_empty()
        );
    }

    #[test]
    fn one_value_has_zero_spread_and_no_interval() {
        let summary = summarize(&[7.25]).unwrap();
        assert_eq!(
            summary,
            SampleSummary {
                n: 1,
                mean: 7.25,
                median: 7.25,
                stddev: 0.0,
                min: 7.25,
                max: 7.25,
                cv: 0.0,
                median_interval: None,
                median_interval_coverage: None,
                outliers: Vec::new(),
            }
        );
    }

    #[test]
    fn the_median_interval_is_the_order_statistics_scipy_gives() {
        // scipy 1.17.1: scipy.stats.quantile_test(x, q=np.median(x), p=0.5)
        //   .confidence_interval(0.95) on x = 1..n gives (nan, nan) for n = 5, (1, 6) for 6,
        //   (2, 9) for 10, (6, 15) for 20 and (71, 97) for 167; coverage
        //   1 - 2 * binom.cdf(k - 1, n, 0.5) = 0.96875, 0.978515625, 0.9586105346679688.
        let ranks = |n: usize| -> Vec<f64> { (1..=n).map(|i| i as f64).collect() };
        assert_eq!(median_interval(&ranks(5)), None);
        for (n, low, high, coverage) in [
            (6, 1.0, 6.0, 0.96875),
            (10, 2.0, 9.0, 0.978515625),
            (20, 6.0, 15.0, 0.9586105346679688),
            (167, 71.0, 97.0, 0.9560976146419883),
        ] {
            let (interval, actual) = median_interval(&ranks(n)).unwrap();
            assert_eq!((interval.low, interval.high), (low, high), "n = {n}");
            assert!(close(actual, coverage, 1e-12), "n = {n}: {actual}");
        }
        assert_eq!(super::super::MIN_RUNS_FOR_INTERVAL, 6);
    }

    #[test]
    fn the_median_interval_covers_the_true_median_as_often_as_it_says() {
        // Seeded simulation on a skewed distribution (exponential, true median ln 2): for a
        // continuous distribution the coverage of [x(k), x(n+1-k)] is exactly the binomial sum
        // the summary states, whatever the distribution, so the observed rate must match it
        // within Monte-Carlo error (4 standard errors over these five checks) and stay at or
        // above the printed 95% by that allowance.
        const REPLICATES: usize = 4000;
        let mut rng = fastrand::Rng::with_seed(6);
        let true_median = std::f64::consts::LN_2;
        for n in 6..=10 {
            let mut covered = 0;
            let mut stated = 0.0;
            for _ in 0..REPLICATES {
                let values: Vec<f64> = (0..n).map(|_| -(1.0 - rng.f64()).ln()).collect();
                let summary = summarize(&values).unwrap();
                let interval = summary.median_interval.unwrap();
                stated = summary.median_interval_coverage.unwrap();
                covered += usize::from(interval.low <= true_median && true_median <= interval.high);
            }
            let observed = covered as f64 / REPLICATES as f64;
            let allowance = 4.0 * (stated * (1.0 - stated) / REPLICATES as f64).sqrt();
            assert!(
                (observed - stated).abs() <= allowance && observed >= 0.95 - allowance,
                "n = {n}: covered {observed:.4}, stated {stated:.4}, allowance {allowance:.4}"
            );
        }
    }

    #[test]
    fn zero_mean_gives_zero_cv() {
        assert_eq!(summarize(&[-1.0, 1.0]).unwrap().cv, 0.0);
    }

    #[test]
    fn empty_or_non_finite_input_has_no_summary() {
        assert_eq!(summarize(&[]), None);
        assert_eq!(summarize(&[1.0, f64::NAN]), None);
        assert_eq!(summarize(&[1.0, f64::INFINITY]), None);
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[f64::NEG_INFINITY]), None);
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[f64::MAX, f64::MAX]), Some(f64::MAX));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn min_le_median_le_max(values in prop::collection::vec(-1e6..1e6_f64, 1..30)) {
            let summary = summarize(&values).unwrap();
            prop_assert!(summary.min <= summary.median && summary.median <= summary.max);
            prop_assert_eq!(median(&values), Some(summary.median));
        }

        #[test]
        fn summary_is_invariant_under_permutation(
            (values, shuffled) in prop::collection::vec(0.01..1e4_f64, 1..30)
                .prop_flat_map(|v| (Just(v.clone()), Just(v).prop_shuffle()))
        ) {
            // Exact equality, interval included: everything is computed from a sorted copy.
            prop_assert_eq!(summarize(&values), summarize(&shuffled));
        }
    }
}
