//! Whether two samples of build times differ: Welch's t-test on the logarithms of the times,
//! the basis of the [contrast](super::contrast).
//!
//! Why this test:
//!
//! - Build-time effects are multiplicative: a change makes a build "2x faster", not "30 s
//!   faster" regardless of its length, and run-to-run noise scales with the build's length too.
//!   On `ln(seconds)` a ratio becomes a difference and the noise becomes roughly symmetric, so
//!   the test compares geometric means, and the effect reports show is their ratio.
//! - Welch's form does not assume equal variances: a cached build is far less noisy than a cold
//!   one.
//! - The obvious distribution-free alternative, the Mann–Whitney U test, cannot work at the run
//!   counts used here: with 3 runs per side its smallest possible two-sided exact p-value is
//!   `2 / C(6, 3) = 0.1`, and 3 is stagebench's default run count, so it could never call even a
//!   10x difference significant at the 0.05 level.

use statrs::distribution::{ContinuousCDF, StudentsT};

/// Welch's comparison of the mean log times of two samples: what the contrast is built on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogDifference {
    /// `mean(ln current) - mean(ln reference)`.
    pub mean_difference: f64,
    /// Standard error of that difference (unequal variances).
    pub standard_error: f64,
    /// Welch–Satterthwaite degrees of freedom (`n1 + n2 - 2` when both samples are constant,
    /// where the formula is 0 / 0).
    pub degrees_of_freedom: f64,
    /// The t statistic, `mean_difference / standard_error`; `±f64::MAX` when both samples are
    /// constant and differ (an infinity, which JSON cannot carry).
    pub statistic: f64,
    /// Two-sided p-value for equal mean log times, in `[0, 1]`.
    pub p_value: f64,
}

/// Welch's unequal-variance t-test of `ln(current)` against `ln(reference)`.
///
/// Returns `None` when either sample has fewer than 2 values (no variance can be estimated) or
/// any value is not finite or not positive (no logarithm).
///
/// When both samples are constant the t statistic is 0 / 0 or x / 0: equal log means then give
/// `t = 0`, `p = 1`; different ones give `t = ±f64::MAX`, `p = 0`. Both use `n1 + n2 - 2`
/// degrees of freedom.
pub fn log_difference(reference: &[f64], current: &[f64]) -> Option<LogDifference> {
    let (n_r, mean_r, variance_r) = log_moments(reference)?;
    let (n_c, mean_c, variance_c) = log_moments(current)?;
    // Squared standard errors of the two log means.
    let error_r = variance_r / n_r;
    let error_c = variance_c / n_c;
    let error_sum = error_r + error_c;
    let mean_difference = mean_c - mean_r;
    if error_sum == 0.0 {
        let pooled = n_r + n_c - 2.0;
        let (statistic, p_value) = if mean_difference == 0.0 {
            (0.0, 1.0)
        } else {
            (f64::MAX.copysign(mean_difference), 0.0)
        };
        return Some(LogDifference {
            mean_difference,
            standard_error: 0.0,
            degrees_of_freedom: pooled,
            statistic,
            p_value,
        });
    }
    let standard_error = error_sum.sqrt();
    let statistic = mean_difference / standard_error;
    // Welch–Satterthwaite, written with the shares of the error sum so that tiny variances cannot
    // underflow to 0 / 0: (er + ec)^2 / (er^2/(nr-1) + ec^2/(nc-1)).
    let share_r = error_r / error_sum;
    let share_c = error_c / error_sum;
    let degrees_of_freedom =
        1.0 / (share_r * share_r / (n_r - 1.0) + share_c * share_c / (n_c - 1.0));
    let distribution = StudentsT::new(0.0, 1.0, degrees_of_freedom).ok()?;
    let p_value = (2.0 * distribution.sf(statistic.abs())).clamp(0.0, 1.0);
    Some(LogDifference {
        mean_difference,
        standard_error,
        degrees_of_freedom,
        statistic,
        p_value,
    })
}

/// Count (as f64), mean and sample variance (denominator `n - 1`) of `ln(values)`; `None` when
/// there are fewer than 2 values or a value is not finite and positive.
fn log_moments(values: &[f64]) -> Option<(f64, f64, f64)> {
    if values.len() < 2 || !values.iter().all(|&x| x.is_finite() && x > 0.0) {
        return None;
    }
    let n = values.len() as f64;
    let mean = values.iter().map(|x| x.ln()).sum::<f64>() / n;
    // Two passes: the one-pass formula cancels catastrophically for nearly constant samples.
    let variance = values
        .iter()
        .map(|x| (x.ln() - mean) * (x.ln() - mean))
        .sum::<f64>()
        / (n - 1.0);
    Some((n, mean, variance))
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
        assert!(
            close(test.degrees_of_freedom, degrees_of_freedom, 1e-9),
            "df {} vs {degrees_of_freedom}",
            test.degrees_of_freedom
        );
        assert!(close(test.p_value, p, 1e-6), "p {} vs {p}", test.p_value);
    }

    // Reference values from scipy 1.17.1 / numpy 2.4.6:
    //   r = scipy.stats.ttest_ind(np.log(a), np.log(b), equal_var=False)
    //   r.statistic, r.df, r.pvalue

    #[test]
    fn ten_times_faster_with_three_runs_each() {
        assert_matches(
            &[100.0, 101.0, 99.0],
            &[10.0, 10.5, 9.8],
            107.77069131572627,
            2.3159651703587327,
            2.4490675585191337e-05,
        );
    }

    #[test]
    fn overlapping_noisy_samples() {
        assert_matches(
            &[10.0, 14.0, 9.0, 12.5],
            &[11.0, 9.5, 13.0],
            0.08426700533995254,
            4.956843832141367,
            0.9361414802669519,
        );
    }

    #[test]
    fn unequal_sizes_and_spreads() {
        assert_matches(
            &[5.2, 5.0, 5.1, 5.3, 4.9],
            &[6.0, 7.5],
            -2.441282850068058,
            1.0310937059791419,
            0.24141715803489044,
        );
    }

    #[test]
    fn by_hand_two_values_each() {
        // current = [1, e^2], reference = [e, e^3], so ln current = [0, 2] and ln reference =
        // [1, 3]: log means 1 and 2, log variances 2 and 2, squared errors 1 and 1,
        // t = -1 / sqrt(2), df = 4 / (1 + 1) = 2, p = 2 * P(T_2 > 1 / sqrt 2) = 1 - 1 / sqrt(5)
        // (the t_2 CDF is 1/2 + t / (2 sqrt(2 + t^2))); scipy agrees (0.5527864045000421).
        let e = std::f64::consts::E;
        let test = log_difference(&[e, e * e * e], &[1.0, e * e]).unwrap();
        assert!(close(test.statistic, -1.0 / 2.0_f64.sqrt(), 1e-12));
        assert!(close(test.mean_difference, -1.0, 1e-12));
        assert!(close(test.standard_error, 2.0_f64.sqrt(), 1e-12));
        assert!(close(test.degrees_of_freedom, 2.0, 1e-12));
        assert!(close(test.p_value, 1.0 - 1.0 / 5.0_f64.sqrt(), 1e-9));
    }

    #[test]
    fn constant_samples() {
        let equal = log_difference(&[3.0, 3.0], &[3.0, 3.0, 3.0]).unwrap();
        assert_eq!(
            (equal.statistic, equal.degrees_of_freedom, equal.p_value),
            (0.0, 3.0, 1.0)
        );
        let slower = log_difference(&[2.0, 2.0], &[3.0, 3.0]).unwrap();
        assert_eq!(
            (slower.statistic, slower.degrees_of_freedom, slower.p_value),
            (f64::MAX, 2.0, 0.0)
        );
        assert_eq!(slower.standard_error, 0.0);
    }

    #[test]
    fn one_constant_sample_takes_the_other_samples_degrees_of_freedom() {
        // Welch–Satterthwaite with one variance 0 reduces to n - 1 of the other sample.
        let test = log_difference(&[1.0, 2.0, 3.0, 4.0], &[2.0, 2.0, 2.0]).unwrap();
        assert!(close(test.degrees_of_freedom, 3.0, 1e-12));
    }

    #[test]
    fn unusable_input_gives_no_test() {
        assert_eq!(log_difference(&[1.0], &[1.0, 2.0]), None);
        assert_eq!(log_difference(&[1.0, 2.0], &[]), None);
        assert_eq!(log_difference(&[1.0, 0.0], &[1.0, 2.0]), None);
        assert_eq!(log_difference(&[1.0, 2.0], &[-1.0, 2.0]), None);
        assert_eq!(log_difference(&[1.0, f64::NAN], &[1.0, 2.0]), None);
        assert_eq!(log_difference(&[1.0, 2.0], &[f64::INFINITY, 2.0]), None);
    }

    proptest! {
        #[test]
        fn p_value_is_a_probability(
            a in prop::collection::vec(1e-3..1e5_f64, 2..20),
            b in prop::collection::vec(1e-3..1e5_f64, 2..20),
        ) {
            let test = log_difference(&a, &b).unwrap();
            prop_assert!((0.0..=1.0).contains(&test.p_value));
            prop_assert!(test.degrees_of_freedom >= 1.0);
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
