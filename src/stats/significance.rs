//! Whether two samples of build times differ: Welch's t-test on the logarithms of the times.
//!
//! Why this test:
//!
//! - Build-time effects are multiplicative: a change makes a build "2x faster", not "30 s
//!   faster" regardless of its length, and run-to-run noise scales with the build's length too.
//!   On `ln(seconds)` a ratio becomes a difference and the noise becomes roughly symmetric, so
//!   the test compares geometric means, consistently with the speed-up (a ratio) that reports
//!   show.
//! - Welch's form does not assume equal variances: a cached build is far less noisy than a cold
//!   one.
//! - The obvious distribution-free alternative, the Mann–Whitney U test, cannot work at the run
//!   counts used here: with 3 runs per side its smallest possible two-sided exact p-value is
//!   `2 / C(6, 3) = 0.1`, and 3 is stagebench's default run count, so it could never call even a
//!   10x difference significant at the 0.05 level.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

/// Name of the test, as reports print it.
const TEST_NAME: &str = "Welch's t-test on log build time";

/// Result of a two-sample significance test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignificanceTest {
    /// Which test was run: `"Welch's t-test on log build time"`.
    pub name: String,
    /// The t statistic, positive when the first sample's log mean is the larger. When both
    /// samples are constant and differ it is `±f64::MAX` (standing for an infinity, which JSON
    /// cannot carry).
    pub statistic: f64,
    /// Welch–Satterthwaite degrees of freedom (`n1 + n2 - 2` when both samples are constant,
    /// where the formula is 0 / 0).
    pub degrees_of_freedom: f64,
    /// Two-sided p-value, in `[0, 1]`.
    pub p_value: f64,
}

/// Welch's unequal-variance t-test on `ln(a)` against `ln(b)`.
///
/// Returns `None` when either sample has fewer than 2 values (no variance can be estimated) or
/// any value is not finite or not positive (no logarithm).
///
/// When both samples are constant the t statistic is 0 / 0 or x / 0: equal log means then give
/// `t = 0`, `p = 1`; different ones give `t = ±f64::MAX` (sign of `mean(ln a) - mean(ln b)`),
/// `p = 0`. Both use `n1 + n2 - 2` degrees of freedom.
pub fn welch_log_test(a: &[f64], b: &[f64]) -> Option<SignificanceTest> {
    let (n_a, mean_a, variance_a) = log_moments(a)?;
    let (n_b, mean_b, variance_b) = log_moments(b)?;
    // Squared standard errors of the two log means.
    let error_a = variance_a / n_a;
    let error_b = variance_b / n_b;
    let error_sum = error_a + error_b;
    let mean_difference = mean_a - mean_b;
    let test = |statistic: f64, degrees_of_freedom: f64, p_value: f64| SignificanceTest {
        name: TEST_NAME.to_string(),
        statistic,
        degrees_of_freedom,
        p_value,
    };
    if error_sum == 0.0 {
        let pooled_degrees = n_a + n_b - 2.0;
        return Some(if mean_difference == 0.0 {
            test(0.0, pooled_degrees, 1.0)
        } else {
            test(f64::MAX.copysign(mean_difference), pooled_degrees, 0.0)
        });
    }
    let statistic = mean_difference / error_sum.sqrt();
    // Welch–Satterthwaite, written with the shares of the error sum so that tiny variances cannot
    // underflow to 0 / 0: (ea + eb)^2 / (ea^2/(na-1) + eb^2/(nb-1)).
    let share_a = error_a / error_sum;
    let share_b = error_b / error_sum;
    let degrees_of_freedom =
        1.0 / (share_a * share_a / (n_a - 1.0) + share_b * share_b / (n_b - 1.0));
    let distribution = StudentsT::new(0.0, 1.0, degrees_of_freedom).ok()?;
    let p_value = (2.0 * distribution.sf(statistic.abs())).clamp(0.0, 1.0);
    Some(test(statistic, degrees_of_freedom, p_value))
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

    fn assert_matches(a: &[f64], b: &[f64], statistic: f64, degrees_of_freedom: f64, p: f64) {
        let test = welch_log_test(a, b).unwrap();
        assert_eq!(test.name, "Welch's t-test on log build time");
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
        // a = [1, e^2], b = [e, e^3], so ln a = [0, 2] and ln b = [1, 3]: log means 1 and 2, log variances 2 and 2, squared errors 1 and 1, t = -1 / sqrt(2),
        // df = 4 / (1 + 1) = 2, p = 2 * P(T_2 > 1 / sqrt 2) = 1 - (1/sqrt2) / sqrt(2 + 1/2)
        // = 1 - 1 / sqrt(5) (the t_2 CDF is 1/2 + t / (2 sqrt(2 + t^2))); scipy agrees (0.5527864045000421).
        let e = std::f64::consts::E;
        let test = welch_log_test(&[1.0, e * e], &[e, e * e * e]).unwrap();
        assert!(close(test.statistic, -1.0 / 2.0_f64.sqrt(), 1e-12));
        assert!(close(test.degrees_of_freedom, 2.0, 1e-12));
        assert!(close(test.p_value, 1.0 - 1.0 / 5.0_f64.sqrt(), 1e-9));
    }

    #[test]
    fn constant_samples() {
        let equal = welch_log_test(&[3.0, 3.0, 3.0], &[3.0, 3.0]).unwrap();
        assert_eq!(
            (equal.statistic, equal.degrees_of_freedom, equal.p_value),
            (0.0, 3.0, 1.0)
        );
        let slower = welch_log_test(&[2.0, 2.0], &[3.0, 3.0]).unwrap();
        assert_eq!(
            (slower.statistic, slower.degrees_of_freedom, slower.p_value),
            (-f64::MAX, 2.0, 0.0)
        );
        let faster = welch_log_test(&[3.0, 3.0], &[2.0, 2.0]).unwrap();
        assert_eq!(faster.statistic, f64::MAX);
        // Unlike an infinity (which serde_json writes as null), f64::MAX survives a JSON round trip.
        let json = serde_json::to_string(&faster).unwrap();
        assert_eq!(
            serde_json::from_str::<SignificanceTest>(&json).unwrap(),
            faster
        );
    }

    #[test]
    fn one_constant_sample_takes_the_other_samples_degrees_of_freedom() {
        // Welch–Satterthwaite with one variance 0 reduces to n - 1 of the other sample.
        let test = welch_log_test(&[2.0, 2.0, 2.0], &[1.0, 2.0, 3.0, 4.0]).unwrap();
        assert!(close(test.degrees_of_freedom, 3.0, 1e-12));
    }

    #[test]
    fn unusable_input_gives_no_test() {
        assert_eq!(welch_log_test(&[1.0], &[1.0, 2.0]), None);
        assert_eq!(welch_log_test(&[1.0, 2.0], &[]), None);
        assert_eq!(welch_log_test(&[1.0, 0.0], &[1.0, 2.0]), None);
        assert_eq!(welch_log_test(&[1.0, 2.0], &[-1.0, 2.0]), None);
        assert_eq!(welch_log_test(&[1.0, f64::NAN], &[1.0, 2.0]), None);
        assert_eq!(welch_log_test(&[1.0, 2.0], &[f64::INFINITY, 2.0]), None);
    }

    proptest! {
        #[test]
        fn p_value_is_a_probability(
            a in prop::collection::vec(1e-3..1e5_f64, 2..20),
            b in prop::collection::vec(1e-3..1e5_f64, 2..20),
        ) {
            let test = welch_log_test(&a, &b).unwrap();
            prop_assert!((0.0..=1.0).contains(&test.p_value));
            prop_assert!(test.degrees_of_freedom >= 1.0);
        }

        #[test]
        fn swapping_samples_negates_t_and_keeps_p(
            a in prop::collection::vec(1e-3..1e5_f64, 2..20),
            b in prop::collection::vec(1e-3..1e5_f64, 2..20),
        ) {
            let forward = welch_log_test(&a, &b).unwrap();
            let backward = welch_log_test(&b, &a).unwrap();
            prop_assert_eq!(forward.statistic, -backward.statistic);
            prop_assert_eq!(forward.p_value, backward.p_value);
        }
    }
}
