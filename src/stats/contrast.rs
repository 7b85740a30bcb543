//! The one contrast every comparison uses: a variant against its baseline in a report, the
//! current run against a saved baseline in `compare`, one night against the night before in
//! `history`.
//!
//! - The effect is the ratio of geometric means of build time, current over reference: below 1
//!   the current builds faster. Build-time effects are multiplicative, and on `ln(seconds)` a
//!   ratio becomes a difference whose noise is roughly symmetric.
//! - Its interval is Welch's t interval of the difference of mean log times, exponentiated, so it
//!   does not assume equal variances (a cached build is far less noisy than a cold one).
//! - The outcome is read off that same interval, so the point estimate, the interval and the
//!   verdict can never disagree: `same` when the whole interval lies inside the noise band
//!   `[1/(1+t), 1+t]`; otherwise `faster` or `slower` when it excludes 1; otherwise
//!   `inconclusive`.
//! - Across the comparisons of one report (or one `compare`), Holm's step-down adjustment keeps
//!   the chance of any false `faster` or `slower` at 5%. Each interval is widened to at least
//!   its Holm step's level, `1 - alpha / (hypotheses left)`, and further where needed so that
//!   excluding 1 is exactly Holm's decision (`1 - alpha * p / p_holm`).

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

use super::Interval;
use super::significance::{LogDifference, log_difference};

/// Family-wise error rate of the verdicts of one report or one `compare`.
pub const FAMILY_ERROR_RATE: f64 = 0.05;

/// What a contrast concludes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The interval lies below 1 (and not wholly inside the noise band): the current builds
    /// faster.
    Faster,
    /// The interval lies above 1 (and not wholly inside the noise band): the current builds
    /// slower.
    Slower,
    /// The whole interval lies inside the noise band: no change that matters.
    Same,
    /// The interval holds 1 and reaches outside the noise band: the runs cannot tell.
    Inconclusive,
}

impl Outcome {
    /// The name used in files.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Faster => "faster",
            Outcome::Slower => "slower",
            Outcome::Same => "same",
            Outcome::Inconclusive => "inconclusive",
        }
    }
}

/// One reference sample of build times against one current sample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contrast {
    /// Geometric mean of the current times over that of the reference: below 1 is faster.
    pub time_ratio: f64,
    /// Interval of `time_ratio` at `confidence`.
    pub interval: Interval,
    /// Confidence level of `interval` after Holm's adjustment (0.95 for a single contrast).
    pub confidence: f64,
    /// Welch's two-sided p-value for equal geometric means, before adjustment.
    pub p_value: f64,
    /// The p-value after Holm's adjustment across the family.
    pub adjusted_p_value: f64,
    /// Welch–Satterthwaite degrees of freedom.
    pub degrees_of_freedom: f64,
    /// How many contrasts the adjustment was made over.
    pub family_size: usize,
    /// The half-width of the noise band used, as a fraction (0.05 = 5%).
    pub noise_threshold: f64,
    /// The verdict.
    pub outcome: Outcome,
}

impl Contrast {
    /// Reference over current: above 1 the current builds faster ("2.0× faster").
    pub fn speedup(&self) -> f64 {
        1.0 / self.time_ratio
    }

    /// The interval of [`Contrast::speedup`].
    pub fn speedup_interval(&self) -> Interval {
        Interval {
            low: 1.0 / self.interval.high,
            high: 1.0 / self.interval.low,
        }
    }
}

/// `current` against `reference` alone (a family of one).
///
/// `None` when either side has fewer than 2 runs or a time that is not finite and positive.
pub fn contrast(reference: &[f64], current: &[f64], noise_threshold: f64) -> Option<Contrast> {
    contrast_family(&[(reference, current)], noise_threshold)
        .into_iter()
        .next()
        .flatten()
}

/// Each `(reference, current)` pair, with Holm's adjustment across the pairs that have a
/// contrast. The result has one entry per pair, `None` where a side has too few runs.
pub fn contrast_family(pairs: &[(&[f64], &[f64])], noise_threshold: f64) -> Vec<Option<Contrast>> {
    let differences: Vec<Option<LogDifference>> = pairs
        .iter()
        .map(|(reference, current)| log_difference(reference, current))
        .collect();
    let p_values: Vec<f64> = differences.iter().flatten().map(|d| d.p_value).collect();
    let mut steps = holm_steps(&p_values).into_iter();
    let family_size = p_values.len();
    differences
        .into_iter()
        .map(|difference| {
            let difference = difference?;
            let (adjusted_p_value, hypotheses_left) = steps.next()?;
            Some(from_difference(
                &difference,
                adjusted_p_value,
                hypotheses_left,
                family_size,
                noise_threshold,
            ))
        })
        .collect()
}

fn from_difference(
    difference: &LogDifference,
    adjusted_p_value: f64,
    hypotheses_left: usize,
    family_size: usize,
    noise_threshold: f64,
) -> Contrast {
    // The interval's error rate g: an interval at level 1 - g excludes 1 iff p < g. The Holm
    // step's own rate, alpha / (hypotheses left), keeps every interval at least as wide as
    // Holm's step makes it, which is what a `same` verdict needs; taking alpha * p / p_holm
    // where that is smaller makes excluding 1 exactly Holm's decision (p < alpha * p / p_holm
    // iff p_holm < alpha), so the verdict can never disagree with the adjusted p-value.
    let step_rate = FAMILY_ERROR_RATE / hypotheses_left.max(1) as f64;
    let error_rate = if adjusted_p_value > 0.0 && difference.p_value > 0.0 {
        (FAMILY_ERROR_RATE * difference.p_value / adjusted_p_value).min(step_rate)
    } else {
        step_rate
    };
    let confidence = 1.0 - error_rate;
    let half_width = if difference.standard_error == 0.0 {
        0.0
    } else {
        StudentsT::new(0.0, 1.0, difference.degrees_of_freedom)
            .map(|t| t.inverse_cdf(1.0 - error_rate / 2.0) * difference.standard_error)
            .unwrap_or(f64::INFINITY)
    };
    let interval = Interval {
        low: (difference.mean_difference - half_width).exp(),
        high: (difference.mean_difference + half_width).exp(),
    };
    Contrast {
        time_ratio: difference.mean_difference.exp(),
        interval,
        confidence,
        p_value: difference.p_value,
        adjusted_p_value,
        degrees_of_freedom: difference.degrees_of_freedom,
        family_size,
        noise_threshold,
        outcome: outcome(&interval, noise_threshold),
    }
}

/// The verdict an interval of a time ratio gives.
pub fn outcome(interval: &Interval, noise_threshold: f64) -> Outcome {
    let band_high = 1.0 + noise_threshold;
    let band_low = 1.0 / band_high;
    if interval.low >= band_low && interval.high <= band_high {
        Outcome::Same
    } else if interval.high < 1.0 {
        Outcome::Faster
    } else if interval.low > 1.0 {
        Outcome::Slower
    } else {
        Outcome::Inconclusive
    }
}

/// Holm's step-down adjusted p-values, in the order given: sorted ascending, the i-th (from 0)
/// of m is multiplied by m - i, made non-decreasing, and capped at 1.
pub fn holm(p_values: &[f64]) -> Vec<f64> {
    holm_steps(p_values).into_iter().map(|(p, _)| p).collect()
}

/// Each p-value's Holm-adjusted value and the number of hypotheses left at its step (m - i).
fn holm_steps(p_values: &[f64]) -> Vec<(f64, usize)> {
    let m = p_values.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p_values[a].total_cmp(&p_values[b]));
    let mut steps = vec![(0.0, 0); m];
    let mut running_max: f64 = 0.0;
    for (rank, &index) in order.iter().enumerate() {
        let left = m - rank;
        let scaled = (p_values[index] * left as f64).min(1.0);
        running_max = running_max.max(scaled);
        steps[index] = (running_max, left);
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::DEFAULT_NOISE_THRESHOLD;

    fn close(actual: f64, expected: f64, relative: f64) -> bool {
        (actual - expected).abs() <= relative * expected.abs()
    }

    // Reference values from scipy 1.17.1 / numpy 2.4 / statsmodels 0.15.0:
    //   r = scipy.stats.ttest_ind(np.log(current), np.log(reference), equal_var=False)
    //   ci = r.confidence_interval(0.95); np.exp(ci.low), np.exp(ci.high)
    //   np.exp(np.mean(np.log(current)) - np.mean(np.log(reference)))
    //   statsmodels.stats.multitest.multipletests(p, method="holm")[1]

    fn assert_contrast(
        reference: &[f64],
        current: &[f64],
        ratio: f64,
        low: f64,
        high: f64,
        p: f64,
        outcome: Outcome,
    ) {
        let c = contrast(reference, current, DEFAULT_NOISE_THRESHOLD).unwrap();
        assert!(
            close(c.time_ratio, ratio, 1e-12),
            "ratio {} vs {ratio}",
            c.time_ratio
        );
        assert!(
            close(c.interval.low, low, 1e-8),
            "low {} vs {low}",
            c.interval.low
        );
        assert!(
            close(c.interval.high, high, 1e-8),
            "high {} vs {high}",
            c.interval.high
        );
        assert!(close(c.p_value, p, 1e-6), "p {} vs {p}", c.p_value);
        assert_eq!(c.confidence, 0.95);
        assert_eq!(c.outcome, outcome);
    }

    #[test]
    fn ten_times_faster() {
        assert_contrast(
            &[100.0, 101.0, 99.0],
            &[10.0, 10.5, 9.8],
            0.10096083539488328,
            0.09314634627274467,
            0.1094309191021408,
            2.4490675585191337e-05,
            Outcome::Faster,
        );
    }

    #[test]
    fn twice_as_slow() {
        assert_contrast(
            &[10.0, 10.2, 9.9],
            &[20.0, 20.5, 19.7],
            1.9998844588959952,
            1.9184137140697959,
            2.0848150842546658,
            2.520755615201118e-06,
            Outcome::Slower,
        );
    }

    #[test]
    fn overlapping_noise_is_inconclusive() {
        assert_contrast(
            &[10.0, 14.0, 9.0, 12.5],
            &[11.0, 9.5, 13.0],
            0.9886283831147236,
            0.6968164436668398,
            1.40264497025466,
            0.9361414802669519,
            Outcome::Inconclusive,
        );
    }

    #[test]
    fn a_tight_three_percent_change_is_the_same_within_the_band() {
        // Significant (p = 0.0025), but the whole interval lies within 5%.
        assert_contrast(
            &[20.0, 20.4, 19.8, 20.2, 19.9, 20.1],
            &[20.5, 20.9, 20.3, 20.7, 20.4, 20.6],
            1.024919313336131,
            1.011012989169294,
            1.0390169167979968,
            0.002461630603347352,
            Outcome::Same,
        );
        let strict = contrast(
            &[20.0, 20.4, 19.8, 20.2, 19.9, 20.1],
            &[20.5, 20.9, 20.3, 20.7, 20.4, 20.6],
            0.01,
        )
        .unwrap();
        assert_eq!(
            strict.outcome,
            Outcome::Slower,
            "a 1% band does not hold it"
        );
    }

    #[test]
    fn holm_matches_statsmodels() {
        let adjusted = holm(&[0.01, 0.04, 0.03, 0.005]);
        for (actual, expected) in adjusted.iter().zip([0.03, 0.06, 0.06, 0.02]) {
            assert!(close(*actual, expected, 1e-12), "{adjusted:?}");
        }
        assert_eq!(holm(&[]), Vec::<f64>::new());
        assert_eq!(holm(&[0.7, 0.9]), [1.0, 1.0], "capped at 1");
    }

    #[test]
    fn a_family_widens_each_interval_to_holm_s_decision() {
        let tight_reference = [10.0, 10.2, 9.9];
        let slower = [20.0, 20.5, 19.7];
        let noisy_reference = [10.0, 14.0, 9.0, 12.5];
        let noisy = [11.0, 9.5, 13.0];
        let family = contrast_family(
            &[
                (&tight_reference, &slower),
                (&noisy_reference, &noisy),
                (&[1.0], &[1.0, 2.0]),
            ],
            DEFAULT_NOISE_THRESHOLD,
        );
        assert!(family[2].is_none(), "one run is too few");
        let (first, second) = (family[0].as_ref().unwrap(), family[1].as_ref().unwrap());
        assert_eq!((first.family_size, second.family_size), (2, 2));
        // Smallest p times 2; the other times 1, kept non-decreasing.
        assert!(close(
            first.adjusted_p_value,
            2.0 * 2.520755615201118e-06,
            1e-6
        ));
        assert!(close(second.adjusted_p_value, 0.9361414802669519, 1e-6));
        // The first is Holm's first step (alpha / 2); the second its last (alpha / 1).
        assert!(close(first.confidence, 0.975, 1e-12));
        assert!(close(second.confidence, 0.95, 1e-12));
        // scipy: ttest_ind(...).confidence_interval(0.975), exponentiated.
        let alone = contrast(&tight_reference, &slower, DEFAULT_NOISE_THRESHOLD).unwrap();
        assert!(
            first.interval.low < alone.interval.low && first.interval.high > alone.interval.high
        );
        assert_eq!(first.outcome, Outcome::Slower);
    }

    #[test]
    fn the_outcome_follows_the_interval_alone() {
        let at = |low, high| outcome(&Interval { low, high }, 0.05);
        assert_eq!(at(0.96, 1.04), Outcome::Same);
        assert_eq!(at(0.90, 0.99), Outcome::Faster);
        assert_eq!(at(1.01, 1.20), Outcome::Slower);
        assert_eq!(at(0.90, 1.10), Outcome::Inconclusive);
        assert_eq!(at(1.0, 1.0), Outcome::Same);
    }

    #[test]
    fn swapping_the_sides_inverts_the_ratio_and_the_interval() {
        let a = [10.0, 14.0, 9.0, 12.5];
        let b = [11.0, 9.5, 13.0];
        let forward = contrast(&a, &b, 0.05).unwrap();
        let backward = contrast(&b, &a, 0.05).unwrap();
        assert!(close(backward.time_ratio, 1.0 / forward.time_ratio, 1e-12));
        assert!(close(
            backward.interval.low,
            1.0 / forward.interval.high,
            1e-9
        ));
        assert!(close(
            backward.interval.high,
            1.0 / forward.interval.low,
            1e-9
        ));
        assert!(close(forward.speedup(), 1.0 / forward.time_ratio, 1e-12));
    }
}
