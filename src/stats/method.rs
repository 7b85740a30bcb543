//! How stagebench compares build times, said once. Every report, `compare` and `history` takes
//! its wording from the functions here, and docs/statistics.md points here.
//!
//! **The effect** is the ratio of the geometric means of build time, current over reference (a
//! report's variant over its baseline, `compare`'s current side over its baseline, a history's
//! run over the run before). Build-time effects are multiplicative, and on `ln(seconds)` a ratio
//! becomes a difference whose noise is roughly symmetric.
//!
//! **The interval** of one contrast is a t interval of the difference of the mean log times,
//! exponentiated: Welch's standard error `sqrt(s₁²/n₁ + s₂²/n₂)`, which does not assume equal
//! variances (a cached build is far less noisy than a cold one), with Hsu's degrees of freedom
//! `min(n₁, n₂) − 1` rather than Welch–Satterthwaite's. For normal log times Hsu's choice covers
//! at least its nominal level whatever the ratio of the two variances and the two run counts;
//! Welch–Satterthwaite's does not at these sample sizes: with 6 runs against 2 its 95% interval
//! covered 89%, and with 3 against 3 and one side ten times noisier its 99.44% interval covered
//! 98.85%. The p-value uses the same degrees of freedom, so it agrees with the interval.
//!
//! **The family.** The contrasts made together are one family: a report's variant-against-
//! baseline comparisons, one `compare`'s series, one history's steps. In a family of `m`
//! contrasts that have an interval, every interval is at the same level `1 − 0.05/m`
//! (Bonferroni), so all `m` cover their true ratios together with probability at least 95%. Each
//! verdict is read off its own interval, so the verdicts are a family claim with error at most
//! 5%, and the ratio, the interval and the verdict can never disagree:
//! - **same** when the whole interval lies within the noise band `[1/(1+t), 1+t]`
//!   (`--noise-threshold`);
//! - otherwise **faster** or **slower** when it excludes 1;
//! - otherwise **inconclusive**.
//!
//! `compare`'s time regression (a `slower` interval wholly above `1 + time threshold`) is read off
//! the same intervals, so it is part of the same claim. The adjusted p-value is Bonferroni's,
//! `min(1, m·p)`: below 0.05 exactly when the interval excludes 1. The level depends on `m`
//! alone, never on the data or the order the contrasts are listed in. (Holm's step-down
//! procedure, used before, gave each interval its step's level, which is chosen from the data, so
//! the printed levels were not attained, and tied p-values took their step from list order.)
//!
//! **Samples the method cannot judge.** With fewer than 2 successful runs on a side there is no
//! variance, so no interval and no verdict. A side whose log times are all equal has no measured
//! noise: alone, it is given the other side's sample variance (its noise is assumed no smaller
//! than the other side shows), and the contrast records which side that was; when both sides are
//! so, there is no interval and no verdict (never a zero-width interval with p = 0). A contrast
//! without an interval is not counted in `m`. Callers get the reason as a
//! [`NoContrast`](super::NoContrast).
//!
//! **Why not the Mann–Whitney U test:** with 3 runs a side its smallest two-sided exact p-value
//! is `2 / C(6, 3) = 0.1`, so it could never call even a tenfold difference.
//!
//! **Tested** by seeded simulation in the normal test suite (`stats::coverage`): families with
//! and without true effects, equal and unequal run counts from 2 to 10, variance ratios up to 100;
//! each interval covers at least its printed level, all of a family's intervals together at
//! least 95%, and under no effect the chance of any false `faster` or `slower` is at most 5%,
//! each within Monte-Carlo error.
//!
//! The median's interval in tables is a different, per-cell statement: the distribution-free
//! interval of [`median_interval`](super::median_interval), covering each median with at least
//! 95%, and printed as "95% CI".

use super::Contrast;

/// The chance that any interval of a family misses its true ratio, at most.
pub const FAMILY_ERROR_RATE: f64 = 0.05;

/// The short name of the method, for a table's cell (`summary.csv`'s `test`).
pub const METHOD_NAME: &str = "ratio of geometric means; t interval on log time with Welch's standard error and min(n1, n2) - 1 degrees of freedom; Bonferroni-simultaneous across the family";

/// What a family is made of, in the words that name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// A report's variant-against-baseline comparisons.
    Report,
    /// One `compare`'s series.
    Compare,
    /// One history's steps from a run to the next.
    History,
}

impl Family {
    /// "of this report": what the intervals belong to.
    fn of_what(self) -> &'static str {
        match self {
            Family::Report => "of this report",
            Family::Compare => "of this comparison",
            Family::History => "of this history",
        }
    }
}

/// The chance each interval of a family of `family_size` may miss, `0.05 / m` (`0.05` for a
/// family of one or none).
pub fn per_interval_error_rate(family_size: usize) -> f64 {
    FAMILY_ERROR_RATE / family_size.max(1) as f64
}

/// The level of every interval of a family of `family_size`: `1 − 0.05 / m`.
pub fn simultaneous_level(family_size: usize) -> f64 {
    1.0 - per_interval_error_rate(family_size)
}

/// A level as a percentage, rounded down at the second decimal so that the figure printed is
/// never above the level attained: "95%", "97.5%", "99.44%", "99.16%" (for 99.1667%).
pub fn level_percent(level: f64) -> String {
    // The small nudge keeps 0.95 (stored as 0.94999...) from printing as 94.99%.
    let hundredths = (level * 10_000.0 + 1e-6).floor() / 100.0;
    let text = format!("{hundredths:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text}%")
}

/// How an interval is labelled where it is printed: "95% CI" in a family of one,
/// "99.44% simultaneous CI" in a larger one.
pub fn interval_label(contrast: &Contrast) -> String {
    let level = level_percent(contrast.confidence);
    if contrast.family_size > 1 {
        format!("{level} simultaneous CI")
    } else {
        format!("{level} CI")
    }
}

/// "Bonferroni-adjusted over 9 comparisons", which precedes an adjusted p-value; `None` in a
/// family of one, where nothing is adjusted.
pub fn adjustment_label(family_size: usize) -> Option<String> {
    (family_size > 1).then(|| format!("Bonferroni-adjusted over {family_size} comparisons"))
}

/// What the verdicts mean, with the noise band as a percentage ("5%").
pub fn outcomes_sentence(noise_percent: &str) -> String {
    format!(
        "Each verdict is read off its interval: faster or slower when it excludes 1, same when it lies wholly within {noise_percent} either way, inconclusive otherwise."
    )
}

/// The method in one paragraph, as reports print it under their tables: `family` and
/// `family_size` (the contrasts that have an interval) name what the levels hold for, and
/// `noise_percent` is the noise band as a percentage ("5%").
pub fn method_paragraph(noise_percent: &str, family: Family, family_size: usize) -> String {
    let of_what = family.of_what();
    let family_clause = match family_size {
        0 => "Intervals made together are one family: with m of them, each is at the level 1 − 5%/m (Bonferroni), so that all hold together with probability at least 95%.".to_string(),
        1 => format!("The one interval {of_what} is at the 95% level."),
        m => format!(
            "The {m} intervals {of_what} are one family: each is a {} simultaneous interval (Bonferroni, 1 − 5%/{m}), so {} hold together with probability at least 95%, and adjusted p-values are min(1, {m}·p).",
            level_percent(simultaneous_level(m)),
            if m == 2 { "both".to_string() } else { format!("all {m}") }
        ),
    };
    format!(
        "Build time is compared as the ratio of geometric means, with a t interval on log time: Welch's standard error and min(n₁, n₂) − 1 degrees of freedom, which keeps the interval's level whatever the two sides' noise and run counts. {family_clause} {} A side whose runs all took the same time is given the other side's variance; with both sides so, or fewer than 2 runs on a side, there is no interval and no verdict.",
        outcomes_sentence(noise_percent)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_print_rounded_down() {
        let printed: Vec<String> = [1, 2, 3, 6, 7, 9, 18]
            .into_iter()
            .map(|m| level_percent(simultaneous_level(m)))
            .collect();
        assert_eq!(
            printed,
            [
                "95%", "97.5%", "98.33%", "99.16%", "99.28%", "99.44%", "99.72%"
            ]
        );
    }

    #[test]
    fn the_paragraph_names_the_family_and_its_level() {
        let nine = method_paragraph("5%", Family::Report, 9);
        assert!(
            nine.contains("The 9 intervals of this report are one family: each is a 99.44% simultaneous interval (Bonferroni, 1 − 5%/9), so all 9 hold together"),
            "{nine}"
        );
        assert!(nine.contains("within 5% either way"), "{nine}");
        let one = method_paragraph("10%", Family::Compare, 1);
        assert!(
            one.contains("The one interval of this comparison is at the 95% level."),
            "{one}"
        );
        assert!(!one.contains("simultaneous"), "{one}");
    }
}
