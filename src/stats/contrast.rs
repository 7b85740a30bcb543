//! The one contrast every comparison uses: a variant against its baseline in a report, the
//! current run against a saved baseline in `compare`, one night against the night before in
//! `history`. What it computes and why, and what its levels promise, is said once, in
//! [`method`](super::method); this module computes it.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

use super::Interval;
use super::method::per_interval_error_rate;
use super::significance::{LogDifference, MIN_RUNS_FOR_CONTRAST, Side, log_difference};

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

/// Why two samples get no interval and no verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum NoContrast {
    /// A side has fewer than 2 successful runs: its noise cannot be estimated.
    TooFewRuns {
        /// Successful runs of the reference side.
        reference_runs: usize,
        /// Successful runs of the current side.
        current_runs: usize,
    },
    /// Every run of each side took exactly the same time: there is no noise to measure.
    NoNoise,
    /// A build time is not a finite number of seconds above 0 (results readers refuse such
    /// rows, so only a caller's bug gets here).
    UnusableTime,
}

impl NoContrast {
    /// The name used in files (`summary.csv`'s `verdict`, `history.csv`'s `change`).
    pub fn as_str(self) -> &'static str {
        match self {
            NoContrast::TooFewRuns { .. } => "too_few_runs",
            NoContrast::NoNoise => "no_noise",
            NoContrast::UnusableTime => "unusable_time",
        }
    }

    /// A few words for a table cell: "too few runs to tell".
    pub fn short(self) -> &'static str {
        match self {
            NoContrast::TooFewRuns { .. } => "too few runs to tell",
            NoContrast::NoNoise => "identical times, noise unknown",
            NoContrast::UnusableTime => "unusable times",
        }
    }
}

impl std::fmt::Display for NoContrast {
    /// The reason as a clause: "too few runs (1 against 3; 2 a side are needed)".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NoContrast::TooFewRuns {
                reference_runs,
                current_runs,
            } => write!(
                f,
                "too few runs ({reference_runs} against {current_runs}; {MIN_RUNS_FOR_CONTRAST} a side are needed)"
            ),
            NoContrast::NoNoise => write!(
                f,
                "both sides' times are identical, so their noise cannot be estimated"
            ),
            NoContrast::UnusableTime => {
                write!(f, "a build time is not a finite number of seconds above 0")
            }
        }
    }
}

/// One reference sample of build times against one current sample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contrast {
    /// Geometric mean of the current times over that of the reference: below 1 is faster.
    pub time_ratio: f64,
    /// Interval of `time_ratio` at `confidence`, simultaneous with the family's other intervals.
    pub interval: Interval,
    /// Level of `interval`: `1 - 0.05 / family_size`, the same for the whole family; at a
    /// [sequential](super::sequential) look, `1 -` the look's share of `0.05 / family_size`.
    pub confidence: f64,
    /// Two-sided p-value for equal geometric means on `degrees_of_freedom`, before adjustment.
    pub p_value: f64,
    /// Bonferroni's adjusted p-value, `min(1, family_size * p_value)` (at a sequential look,
    /// `min(1, p_value * 0.05 / (1 - confidence))`): below 0.05 exactly when `interval` excludes 1.
    pub adjusted_p_value: f64,
    /// Hsu's degrees of freedom used for the interval and the p-value, `min(n₁, n₂) - 1`.
    pub degrees_of_freedom: f64,
    /// How many contrasts the family holds (those with an interval).
    pub family_size: usize,
    /// The half-width of the noise band used, as a fraction (0.05 = 5%).
    pub noise_threshold: f64,
    /// The verdict.
    pub outcome: Outcome,
    /// The side whose times were all identical, which was given the other side's variance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constant_side: Option<Side>,
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

/// `current` against `reference` alone (a family of one, at the 95% level).
pub fn contrast(
    reference: &[f64],
    current: &[f64],
    noise_threshold: f64,
) -> Result<Contrast, NoContrast> {
    contrast_family(&[(reference, current)], noise_threshold)
        .into_iter()
        .next()
        .unwrap_or(Err(NoContrast::UnusableTime))
}

/// Each `(reference, current)` pair, as one family: every pair that gets an interval gets it at
/// the same Bonferroni level, `1 - 0.05 / m` over the `m` such pairs. The result has one entry
/// per pair, in the order given; an entry depends on its own pair and on `m` alone, so the order
/// of the pairs changes nothing.
pub fn contrast_family(
    pairs: &[(&[f64], &[f64])],
    noise_threshold: f64,
) -> Vec<Result<Contrast, NoContrast>> {
    let differences: Vec<Result<LogDifference, NoContrast>> = pairs
        .iter()
        .map(|(reference, current)| log_difference(reference, current))
        .collect();
    let family_size = differences.iter().filter(|d| d.is_ok()).count();
    differences
        .into_iter()
        .map(|difference| {
            Ok(contrast_at(
                &difference?,
                family_size,
                per_interval_error_rate(family_size),
                family_size.max(1) as f64,
                noise_threshold,
            ))
        })
        .collect()
}

/// The contrast of `difference` with an interval that may miss with probability `error_rate`,
/// as one of a family of `family_size`. [`contrast_family`] gives each of `m` intervals `0.05 / m`;
/// a [sequential](super::sequential) look gives it its share of that (see
/// [`method`](super::method)). The adjusted p-value is `p · p_multiplier`, capped at 1, where
/// `p_multiplier` is `0.05 / error_rate` (`m` for a family's Bonferroni level, given exactly), so
/// that it is below 0.05 exactly when the interval excludes 1.
pub(crate) fn contrast_at(
    difference: &LogDifference,
    family_size: usize,
    error_rate: f64,
    p_multiplier: f64,
    noise_threshold: f64,
) -> Contrast {
    let confidence = 1.0 - error_rate;
    let half_width =
        t_quantile(difference.degrees_of_freedom, error_rate) * difference.standard_error;
    let interval = Interval {
        low: (difference.mean_difference - half_width).exp(),
        high: (difference.mean_difference + half_width).exp(),
    };
    Contrast {
        time_ratio: difference.mean_difference.exp(),
        interval,
        confidence,
        p_value: difference.p_value,
        adjusted_p_value: (difference.p_value * p_multiplier).min(1.0),
        degrees_of_freedom: difference.degrees_of_freedom,
        family_size,
        noise_threshold,
        outcome: outcome(&interval, noise_threshold),
        constant_side: difference.constant_side,
    }
}

/// The two-sided critical value of Student's t: `P(|T| > q) = error_rate` on
/// `degrees_of_freedom`. Infinite (an interval that claims nothing) should statrs refuse the
/// degrees of freedom, which are at least 1.
pub(super) fn t_quantile(degrees_of_freedom: f64, error_rate: f64) -> f64 {
    StudentsT::new(0.0, 1.0, degrees_of_freedom)
        .map(|t| t.inverse_cdf(1.0 - error_rate / 2.0))
        .unwrap_or(f64::INFINITY)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run_options::DEFAULT_NOISE_THRESHOLD;

    fn close(actual: f64, expected: f64, relative: f64) -> bool {
        (actual - expected).abs() <= relative * expected.abs()
    }

    // Reference values from scipy 1.17.1 / numpy 2.4.6, for a family of m:
    //   lr, lc = np.log(reference), np.log(current); d = lc.mean() - lr.mean()
    //   se = np.sqrt(lr.var(ddof=1) / len(lr) + lc.var(ddof=1) / len(lc))
    //   df = min(len(lr), len(lc)) - 1; q = scipy.stats.t.ppf(1 - 0.05 / (2 * m), df)
    //   np.exp(d), np.exp(d - q * se), np.exp(d + q * se)
    //   p = 2 * scipy.stats.t.sf(abs(d / se), df); min(1, m * p)

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
        assert_eq!(c.adjusted_p_value, c.p_value, "a family of one");
        assert_eq!((c.confidence, c.family_size), (0.95, 1));
        assert_eq!(
            c.degrees_of_freedom,
            (reference.len().min(current.len()) - 1) as f64
        );
        assert_eq!(c.outcome, outcome);
    }

    #[test]
    fn ten_times_faster() {
        assert_contrast(
            &[100.0, 101.0, 99.0],
            &[10.0, 10.5, 9.8],
            0.10096083539488328,
            0.09212862567619856,
            0.1106397735646034,
            8.608799207572918e-05,
            Outcome::Faster,
        );
    }

    #[test]
    fn twice_as_slow() {
        assert_contrast(
            &[10.0, 10.2, 9.9],
            &[20.0, 20.5, 19.7],
            1.9998844588959952,
            1.8785786463267184,
            2.1290233745359717,
            0.00043999669375341177,
            Outcome::Slower,
        );
    }

    #[test]
    fn overlapping_noise_is_inconclusive() {
        assert_contrast(
            &[10.0, 14.0, 9.0, 12.5],
            &[11.0, 9.5, 13.0],
            0.9886283831147236,
            0.551344544907411,
            1.7727319312902023,
            0.940519726822456,
            Outcome::Inconclusive,
        );
    }

    #[test]
    fn a_tight_three_percent_change_is_the_same_within_the_band() {
        // Significant (p = 0.010), but the whole interval lies within 5%.
        assert_contrast(
            &[20.0, 20.4, 19.8, 20.2, 19.9, 20.1],
            &[20.5, 20.9, 20.3, 20.7, 20.4, 20.6],
            1.024919313336131,
            1.0088938175927569,
            1.0411993616492035,
            0.010172247414462217,
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
    fn a_family_puts_every_interval_at_one_bonferroni_level() {
        let tight_reference = [10.0, 10.2, 9.9];
        let slower = [20.0, 20.5, 19.7];
        let noisy_reference = [10.0, 14.0, 9.0, 12.5];
        let noisy = [11.0, 9.5, 13.0];
        let family = contrast_family(
            &[
                (&tight_reference, &slower),
                (&noisy_reference, &noisy),
                (&[1.0], &[1.0, 2.0]),
                (&[3.0, 3.0], &[3.0, 3.0, 3.0]),
            ],
            DEFAULT_NOISE_THRESHOLD,
        );
        assert_eq!(
            family[2],
            Err(NoContrast::TooFewRuns {
                reference_runs: 1,
                current_runs: 2
            })
        );
        assert_eq!(family[3], Err(NoContrast::NoNoise));
        let (first, second) = (family[0].as_ref().unwrap(), family[1].as_ref().unwrap());
        assert_eq!(
            (first.family_size, second.family_size),
            (2, 2),
            "only contrasts with an interval count"
        );
        assert!(close(first.confidence, 0.975, 1e-15) && first.confidence == second.confidence);
        // scipy, m = 2 (see above).
        assert!(close(first.interval.low, 1.8273089404715415, 1e-8));
        assert!(close(first.interval.high, 2.1887584306907826, 1e-8));
        assert!(close(first.adjusted_p_value, 0.0008799933875068235, 1e-6));
        assert!(close(second.interval.low, 0.4258661727439248, 1e-8));
        assert!(close(second.interval.high, 2.29505450879692, 1e-8));
        assert_eq!(second.adjusted_p_value, 1.0, "capped at 1");
        assert_eq!(first.outcome, Outcome::Slower);
    }

    #[test]
    fn the_interval_excludes_1_exactly_when_the_adjusted_p_value_is_below_5_percent() {
        // Effects on both sides of the threshold, in families of 1 to 9.
        for m in 1..=9 {
            for shift in [1.0, 1.02, 1.05, 1.08, 1.1, 1.15, 1.2, 1.3, 1.5, 2.0] {
                let reference = [10.0, 10.6, 9.7, 10.3];
                let current = [10.0 * shift, 10.4 * shift, 9.8 * shift];
                let pairs: Vec<(&[f64], &[f64])> = vec![(&reference, &current); m];
                let c = contrast_family(&pairs, 0.0)[0].clone().unwrap();
                let excludes_one = c.interval.low > 1.0 || c.interval.high < 1.0;
                assert_eq!(
                    excludes_one,
                    c.adjusted_p_value < 0.05,
                    "m {m} shift {shift}"
                );
            }
        }
    }

    #[test]
    fn the_listing_order_of_a_family_changes_no_interval_level_or_verdict() {
        // Ties included: the same samples twice give the same p-value, which a step-down
        // procedure would have to rank.
        let samples: [&[f64]; 5] = [
            &[10.0, 10.2, 9.9],
            &[20.0, 20.5, 19.7],
            &[10.0, 14.0, 9.0, 12.5],
            &[11.0, 9.5, 13.0],
            &[10.1, 10.4, 9.8, 10.0],
        ];
        let pairs: Vec<(&[f64], &[f64])> = vec![
            (samples[0], samples[1]),
            (samples[2], samples[3]),
            (samples[0], samples[4]),
            (samples[0], samples[4]),
            (samples[2], samples[1]),
            (samples[3], &[1.0]),
        ];
        let forward = contrast_family(&pairs, DEFAULT_NOISE_THRESHOLD);
        let mut order: Vec<usize> = (0..pairs.len()).collect();
        // Every rotation and the reversal.
        for rotation in 0..pairs.len() {
            order.rotate_left(1);
            for reversed in [false, true] {
                let mut permuted = order.clone();
                if reversed {
                    permuted.reverse();
                }
                let listed: Vec<(&[f64], &[f64])> = permuted.iter().map(|&i| pairs[i]).collect();
                let results = contrast_family(&listed, DEFAULT_NOISE_THRESHOLD);
                for (position, &index) in permuted.iter().enumerate() {
                    assert_eq!(
                        results[position], forward[index],
                        "rotation {rotation}, reversed {reversed}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_constant_side_is_stated_on_the_contrast() {
        let c = contrast(&[1.0, 2.0, 3.0, 4.0], &[2.0, 2.0, 2.0], 0.05).unwrap();
        assert_eq!(c.constant_side, Some(Side::Current));
        assert!(c.interval.low < c.time_ratio && c.time_ratio < c.interval.high);
        assert_eq!(
            contrast(&[2.0, 2.0], &[3.0, 3.0], 0.05),
            Err(NoContrast::NoNoise),
            "no zero-width interval with p = 0"
        );
    }

    #[test]
    fn the_reasons_read_as_sentences() {
        let too_few = NoContrast::TooFewRuns {
            reference_runs: 1,
            current_runs: 3,
        };
        assert_eq!(
            too_few.to_string(),
            "too few runs (1 against 3; 2 a side are needed)"
        );
        assert_eq!(
            NoContrast::NoNoise.to_string(),
            "both sides' times are identical, so their noise cannot be estimated"
        );
        assert_eq!(too_few.as_str(), "too_few_runs");
        assert_eq!(
            serde_json::to_value(too_few).unwrap(),
            serde_json::json!({"reason": "too_few_runs", "reference_runs": 1, "current_runs": 3})
        );
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
