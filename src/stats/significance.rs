//! The t statistic of two samples of build times on `ln(seconds)`: Welch's standard error with
//! Hsu's `min(n₁, n₂) − 1` degrees of freedom, the basis of the [contrast](super::contrast).
//! Why this test, and how its level is kept, is said once, in [`method`](super::method).

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

use super::contrast::NoContrast;

/// Fewest runs a side needs: with one, no variance can be estimated.
pub const MIN_RUNS_FOR_CONTRAST: usize = 2;

/// A side of a contrast.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// The reference (a report's baseline, `compare`'s baseline, a history's previous run).
    Reference,
    /// The side compared with it.
    Current,
}

/// The comparison of the mean log times of two samples: what the contrast is built on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogDifference {
    /// `mean(ln current) - mean(ln reference)`.
    pub mean_difference: f64,
    /// Welch's standard error of that difference, `sqrt(s_r²/n_r + s_c²/n_c)`, always above 0.
    pub standard_error: f64,
    /// Hsu's degrees of freedom, `min(n_r, n_c) - 1`.
    pub degrees_of_freedom: f64,
    /// The t statistic, `mean_difference / standard_error`.
    pub statistic: f64,
    /// Two-sided p-value for equal mean log times on `degrees_of_freedom`, in `[0, 1]`.
    pub p_value: f64,
    /// The side whose log times were all equal, given the other side's sample variance.
    pub constant_side: Option<Side>,
}

/// `ln(current)` against `ln(reference)`.
///
/// Fails when a time is not a finite number above 0 (no logarithm), when a side has fewer than
/// [`MIN_RUNS_FOR_CONTRAST`] runs, or when both sides are constant (no noise to measure). A
/// constant side alone takes the other side's sample variance.
pub fn log_difference(reference: &[f64], current: &[f64]) -> Result<LogDifference, NoContrast> {
    let usable = |values: &[f64]| values.iter().all(|&x| x.is_finite() && x > 0.0);
    if !usable(reference) || !usable(current) {
        return Err(NoContrast::UnusableTime);
    }
    if reference.len() < MIN_RUNS_FOR_CONTRAST || current.len() < MIN_RUNS_FOR_CONTRAST {
        return Err(NoContrast::TooFewRuns {
            reference_runs: reference.len(),
            current_runs: current.len(),
        });
    }
    let (n_r, mean_r, variance_r) = log_moments(reference);
    let (n_c, mean_c, variance_c) = log_moments(current);
    // Equal times are tested as such: the mean of several equal logarithms can differ from each
    // by rounding, which left 5 s three times with a variance of about 1e-32 instead of 0.
    let varies =
        |values: &[f64], variance: f64| variance > 0.0 && values.iter().any(|&x| x != values[0]);
    let (variance_r, variance_c, constant_side) =
        match (varies(reference, variance_r), varies(current, variance_c)) {
            (true, true) => (variance_r, variance_c, None),
            (true, false) => (variance_r, variance_r, Some(Side::Current)),
            (false, true) => (variance_c, variance_c, Some(Side::Reference)),
            (false, false) => return Err(NoContrast::NoNoise),
        };
    Ok(LogDifference::from_t(
        mean_c - mean_r,
        (variance_r / n_r + variance_c / n_c).sqrt(),
        hsu_degrees_of_freedom(reference.len(), current.len()),
        constant_side,
    ))
}

impl LogDifference {
    /// The t statistic and its two-sided p-value of `mean_difference` over `standard_error` on
    /// `degrees_of_freedom`.
    fn from_t(
        mean_difference: f64,
        standard_error: f64,
        degrees_of_freedom: f64,
        constant_side: Option<Side>,
    ) -> LogDifference {
        let statistic = mean_difference / standard_error;
        let p_value = StudentsT::new(0.0, 1.0, degrees_of_freedom)
            .map(|t| (2.0 * t.sf(statistic.abs())).clamp(0.0, 1.0))
            // df >= 1 always; should statrs refuse it anyway, claim nothing.
            .unwrap_or(1.0);
        LogDifference {
            mean_difference,
            standard_error,
            degrees_of_freedom,
            statistic,
            p_value,
            constant_side,
        }
    }
}

/// `ln(current)` against `ln(reference)` round by round: `reference[i]` and `current[i]` are
/// round `i + 1`'s build times (`None` where that round has none), and the contrast is the one-
/// sample t of the differences `ln cᵢ − ln rᵢ` over the rounds that have both, on `k − 1` degrees
/// of freedom for `k` such rounds. Whatever the two series' variances, and whatever a round does
/// to both of them alike (a slower network, a busier disk), the differences are independent and
/// identically distributed, so the t is exact; what a round shares cancels.
///
/// Fails when a time is not a finite number above 0, when fewer than
/// [`MIN_RUNS_FOR_CONTRAST`] rounds have both times (both counts are those rounds), or when every
/// difference is the same (no noise to measure).
pub fn paired_log_difference(
    reference: &[Option<f64>],
    current: &[Option<f64>],
) -> Result<LogDifference, NoContrast> {
    let usable =
        |values: &[Option<f64>]| values.iter().flatten().all(|&x| x.is_finite() && x > 0.0);
    if !usable(reference) || !usable(current) {
        return Err(NoContrast::UnusableTime);
    }
    let differences: Vec<f64> = reference
        .iter()
        .zip(current)
        .filter_map(|pair| match pair {
            (Some(r), Some(c)) => Some((c / r).ln()),
            _ => None,
        })
        .collect();
    if differences.len() < MIN_RUNS_FOR_CONTRAST {
        return Err(NoContrast::TooFewRuns {
            reference_runs: differences.len(),
            current_runs: differences.len(),
        });
    }
    let (n, mean_difference, variance) = moments(&differences, |d| d);
    // Equal ratios are tested as such, not by a variance left over from rounding: each ratio is
    // taken before its logarithm, and a spread below 1e-12 (far under a nanosecond's worth of
    // any build) counts as none.
    if variance.sqrt() <= 1e-12 {
        return Err(NoContrast::NoNoise);
    }
    Ok(LogDifference::from_t(
        mean_difference,
        (variance / n).sqrt(),
        n - 1.0,
        None,
    ))
}

/// Hsu's conservative degrees of freedom, `min(n_r, n_c) - 1`: at least the nominal coverage
/// for normal log times whatever the ratio of the two variances.
pub fn hsu_degrees_of_freedom(reference_runs: usize, current_runs: usize) -> f64 {
    (reference_runs.min(current_runs).max(MIN_RUNS_FOR_CONTRAST) - 1) as f64
}

/// Count (as f64), mean and sample variance (denominator `n - 1`) of `ln(values)`, for at least
/// two finite values above 0.
fn log_moments(values: &[f64]) -> (f64, f64, f64) {
    moments(values, f64::ln)
}

/// Count, mean and sample variance of `transform` applied to each of `values`.
fn moments(values: &[f64], transform: impl Fn(f64) -> f64) -> (f64, f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().map(|&x| transform(x)).sum::<f64>() / n;
    // Two passes: the one-pass formula cancels catastrophically for nearly constant samples.
    let variance = values
        .iter()
        .map(|&x| (transform(x) - mean) * (transform(x) - mean))
        .sum::<f64>()
        / (n - 1.0);
    (n, mean, variance)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn close(actual: f64, expected: f64, relative_tolerance: f64) -> bool {
        (actual - expected).abs() <= relative_tolerance * expected.abs()
    }

    /// `a` is the current sample, `b` the reference, as scipy's first and second arguments.
    fn assert_matches(a: &[f64], b: &[f64], statistic: f64, degrees_of_freedom: f64, p: f64) {
        let test = log_difference(b, a).unwrap();
        assert!(
            close(test.statistic, statistic, 1e-9),
            "t {} vs {statistic}",
            test.statistic
        );
        assert_eq!(test.degrees_of_freedom, degrees_of_freedom);
        assert!(close(test.p_value, p, 1e-6), "p {} vs {p}", test.p_value);
        assert_eq!(test.constant_side, None);
    }

    // Reference values from scipy 1.17.1 / numpy 2.4.6: Welch's statistic, Hsu's df:
    //   r = scipy.stats.ttest_ind(np.log(a), np.log(b), equal_var=False)
    //   df = min(len(a), len(b)) - 1
    //   r.statistic, df, 2 * scipy.stats.t.sf(abs(r.statistic), df)

    // By hand: d = ln(20/10), ln(23/11), ln(24/12); t = mean(d) / (sd(d) / sqrt(3)) on 2 degrees
    // of freedom, where P(|T| > t) = 1 - t / sqrt(t² + 2).
    #[test]
    fn paired_rounds_give_the_one_sample_t_of_the_differences() {
        let reference = [Some(10.0), Some(11.0), Some(12.0)];
        let current = [Some(20.0), Some(23.0), Some(24.0)];
        let test = paired_log_difference(&reference, &current).unwrap();
        assert!(close(test.mean_difference, 0.7079644347502231, 1e-12));
        assert!(close(test.standard_error, 0.014817254190277945, 1e-9));
        assert!(close(test.statistic, 47.779732037987195, 1e-9));
        assert_eq!(test.degrees_of_freedom, 2.0);
        assert!(close(test.p_value, 0.00043775119287581266, 1e-6));
        assert_eq!(test.constant_side, None);
        // A round without both times is left out, whichever side lacks it.
        let with_gaps = paired_log_difference(
            &[Some(10.0), None, Some(11.0), Some(7.0), Some(12.0)],
            &[Some(20.0), Some(5.0), Some(23.0), None, Some(24.0)],
        )
        .unwrap();
        assert_eq!(with_gaps, test);
    }

    #[test]
    fn what_a_round_does_to_both_sides_cancels() {
        // Rounds 2 and 3 ran 30% and 60% slower for both series alike: unpaired, that spread is
        // noise; round by round, only the small differences between the sides are.
        let reference = [10.0, 13.0, 16.0, 10.1];
        let current = [20.2, 25.8, 32.3, 20.0];
        let paired = paired_log_difference(&reference.map(Some), &current.map(Some)).unwrap();
        let unpaired = log_difference(&reference, &current).unwrap();
        assert!(close(
            paired.mean_difference,
            unpaired.mean_difference,
            1e-12
        ));
        assert!(
            paired.standard_error < unpaired.standard_error / 10.0,
            "paired {} unpaired {}",
            paired.standard_error,
            unpaired.standard_error
        );
    }

    #[test]
    fn paired_rounds_that_cannot_be_judged_say_why() {
        assert_eq!(
            paired_log_difference(&[Some(10.0), None], &[Some(20.0), Some(21.0)]),
            Err(NoContrast::TooFewRuns {
                reference_runs: 1,
                current_runs: 1
            })
        );
        assert_eq!(
            paired_log_difference(
                &[Some(5.0), Some(6.0), Some(7.0)],
                &[Some(10.0), Some(12.0), Some(14.0)]
            ),
            Err(NoContrast::NoNoise)
        );
        assert_eq!(
            paired_log_difference(&[Some(5.0), Some(0.0)], &[Some(10.0), Some(12.0)]),
            Err(NoContrast::UnusableTime)
        );
    }

    #[test]
    fn ten_times_faster_with_three_runs_each() {
        assert_matches(
            &[100.0, 101.0, 99.0],
            &[10.0, 10.5, 9.8],
            107.77069131572627,
            2.0,
            8.608799207572918e-05,
        );
    }

    #[test]
    fn overlapping_noisy_samples() {
        assert_matches(
            &[10.0, 14.0, 9.0, 12.5],
            &[11.0, 9.5, 13.0],
            0.08426700533995254,
            2.0,
            0.940519726822456,
        );
    }

    #[test]
    fn unequal_sizes_take_the_smaller_side_s_degrees_of_freedom() {
        assert_matches(
            &[5.2, 5.0, 5.1, 5.3, 4.9],
            &[6.0, 7.5],
            -2.441282850068058,
            1.0,
            0.24750024517931257,
        );
    }

    #[test]
    fn by_hand_two_values_each() {
        // current = [1, e^2], reference = [e, e^3], so ln current = [0, 2] and ln reference =
        // [1, 3]: log means 1 and 2, log variances 2 and 2, squared errors 1 and 1,
        // t = -1 / sqrt(2), df = min(2, 2) - 1 = 1 (Cauchy), p = 1 - (2 / pi) atan(1 / sqrt 2);
        // scipy agrees (0.6081734479693928).
        let e = std::f64::consts::E;
        let test = log_difference(&[e, e * e * e], &[1.0, e * e]).unwrap();
        assert!(close(test.statistic, -1.0 / 2.0_f64.sqrt(), 1e-12));
        assert!(close(test.mean_difference, -1.0, 1e-12));
        assert!(close(test.standard_error, 2.0_f64.sqrt(), 1e-12));
        assert_eq!(test.degrees_of_freedom, 1.0);
        let expected = 1.0 - 2.0 / std::f64::consts::PI * (1.0 / 2.0_f64.sqrt()).atan();
        assert!(close(test.p_value, expected, 1e-9));
    }

    #[test]
    fn both_sides_constant_give_no_test() {
        assert_eq!(
            log_difference(&[3.0, 3.0], &[3.0, 3.0, 3.0]),
            Err(NoContrast::NoNoise)
        );
        assert_eq!(
            log_difference(&[2.0, 2.0], &[3.0, 3.0]),
            Err(NoContrast::NoNoise),
            "different constants are not p = 0 either"
        );
        assert_eq!(
            log_difference(&[5.0, 5.0, 5.0], &[6.0, 6.0, 6.0]),
            Err(NoContrast::NoNoise),
            "equal times whose logarithms' mean rounds away from each"
        );
    }

    #[test]
    fn a_constant_side_takes_the_other_side_s_variance() {
        // scipy 1.17.1 / numpy 2.4.6:
        //   lr = np.log([1, 2, 3, 4]); lc = np.log([2, 2, 2]); v = np.var(lr, ddof=1)
        //   se = np.sqrt(v / 4 + v / 3); t = (lc.mean() - lr.mean()) / se
        //   se, t, 2 * scipy.stats.t.sf(abs(t), 2)
        let test = log_difference(&[1.0, 2.0, 3.0, 4.0], &[2.0, 2.0, 2.0]).unwrap();
        assert_eq!(test.constant_side, Some(Side::Current));
        assert!(close(test.standard_error, 0.45914934791276846, 1e-12));
        assert!(close(test.statistic, -0.22076972882100035, 1e-12));
        assert_eq!(test.degrees_of_freedom, 2.0);
        assert!(close(test.p_value, 0.8457602978714409, 1e-6));
        let swapped = log_difference(&[2.0, 2.0, 2.0], &[1.0, 2.0, 3.0, 4.0]).unwrap();
        assert_eq!(swapped.constant_side, Some(Side::Reference));
        assert_eq!(swapped.standard_error, test.standard_error);
    }

    #[test]
    fn unusable_input_gives_no_test_and_says_why() {
        assert_eq!(
            log_difference(&[1.0], &[1.0, 2.0]),
            Err(NoContrast::TooFewRuns {
                reference_runs: 1,
                current_runs: 2
            })
        );
        assert_eq!(
            log_difference(&[1.0, 2.0], &[]),
            Err(NoContrast::TooFewRuns {
                reference_runs: 2,
                current_runs: 0
            })
        );
        for (reference, current) in [
            (&[1.0, 0.0][..], &[1.0, 2.0][..]),
            (&[1.0, 2.0], &[-1.0, 2.0]),
            (&[1.0, f64::NAN], &[1.0, 2.0]),
            (&[1.0, 2.0], &[f64::INFINITY, 2.0]),
            (&[0.0], &[1.0, 2.0]),
        ] {
            assert_eq!(
                log_difference(reference, current),
                Err(NoContrast::UnusableTime),
                "{reference:?} {current:?}"
            );
        }
    }

    proptest! {
        #[test]
        fn p_value_is_a_probability(
            a in prop::collection::vec(1e-3..1e5_f64, 2..20),
            b in prop::collection::vec(1e-3..1e5_f64, 2..20),
        ) {
            let test = log_difference(&a, &b).unwrap();
            prop_assert!((0.0..=1.0).contains(&test.p_value));
            prop_assert_eq!(test.degrees_of_freedom, (a.len().min(b.len()) - 1) as f64);
        }

        #[test]
        fn swapping_samples_negates_t_and_keeps_p(
            a in prop::collection::vec(1e-3..1e5_f64, 2..20),
            b in prop::collection::vec(1e-3..1e5_f64, 2..20),
        ) {
            let forward = log_difference(&a, &b).unwrap();
            let backward = log_difference(&b, &a).unwrap();
            prop_assert_eq!(forward.statistic, -backward.statistic);
            prop_assert_eq!(forward.p_value, backward.p_value);
        }
    }
}
