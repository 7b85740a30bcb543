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
//! **Sequential runs** ([`sequential`](super::sequential), for `--runs auto`). Every series gets
//! `min_runs` builds (3 by default); then, after that round and after every round up to
//! `max_runs` (10), the comparisons still open are looked at: 8 looks by default. At look `k`
//! each open comparison's interval (read round by round, below) is at the level `1 − sₖ·0.05/m`,
//! where `m` is the number of comparisons in the family, fixed when the run starts, and the
//! look's share `sₖ` is ¾ at the first look, 15% at the last and the remaining 10% evenly over
//! the looks between (1.67% each of the 6). The shares sum to 1.
//! - **Read round by round.** A run builds every series once a round, in shuffled order, so a
//!   report's comparison is read as pairs: for each round in which both series built, the
//!   difference `ln cᵢ − ln rᵢ`, and the interval is the one-sample t interval of their mean, on
//!   `k − 1` degrees of freedom for `k` such rounds, exponentiated. What a round does to both
//!   series alike (a slower network or disk for a minute) cancels, and the differences of
//!   independent rounds are independent and identically distributed whatever the two series'
//!   variances, so the interval's level is exact rather than only at least attained, as Hsu's
//!   is. Rounds are not small: over the comparisons of the committed reports with at least 5
//!   rounds, the round-by-round standard deviation was a median 0.71 of the two series' pooled
//!   one in cold builds (a quarter of them under 0.48), 0.78 incremental and 0.95 warm. A round
//!   where either build failed is left out of that comparison. The gate's family compares with
//!   another run's builds, which share no rounds, so it keeps Welch's standard error with Hsu's
//!   degrees of freedom; so do the folders of `--runs auto` runs made before rounds were paired
//!   (meta.json's `stopping` has no `paired_by_round`), which are read again as they ran.
//! - A comparison is **settled** by the same readings as above: faster, slower or same in a
//!   report; under the gate a **regression** when its interval lies wholly above
//!   `1 + time threshold` and **clearly not one** when it lies wholly at or below it. A settled
//!   comparison is never read again. A series stops getting builds once every comparison it takes
//!   part in is settled, so a baseline goes on while any comparison needs it; after `max_runs`
//!   everything stops, and what is still open is **unsettled** (inconclusive). A settled verdict
//!   is printed with the level of the look that read it: in a family of nine, 99.58% at the
//!   first look, 99.99% between, 99.91% at the last.
//! - **The family** of a `--runs auto` run is one scenario on one host: its variant-against-
//!   baseline comparisons in every cache mode it measures, fixed from meta.json before any build,
//!   so that a report of several scenarios, or of one folder of several, reads the same levels
//!   as each scenario's own. With `--baseline`, each series against the baseline's same series
//!   is a second family, under the gate's rules, with a 5% of its own; a series runs while a
//!   comparison of either family needs it.
//! - **The gate's intervals are one-sided at heart.** A regression verdict is false only when the
//!   true ratio is at or below `1 + time threshold` and the interval's low end lies above it, so
//!   above the truth; a "clearly not one" verdict only when the true ratio is above it and the high
//!   end lies at or below it, so below the truth. Whatever the true ratio, one end alone can make
//!   the verdict false, so each end may miss with the look's whole share: the gate's interval is
//!   two-sided at the level `1 − 2·sₖ·0.05/m`, and the chance of any false gate verdict over all
//!   looks and series stays at most 5%. A report's *same* can be false through either end, so its
//!   intervals keep `1 − sₖ·0.05/m`.
//! - **Reading a family again, later.** Any family may be read again from the rows (a report
//!   after the run, `compare` against a baseline): a comparison is read at a look only while both
//!   its series still ran that round, so every interval read is the one its look's run counts fix
//!   in advance, never one at counts the data chose; a comparison whose series stopped for another
//!   family's sake is simply not read again (left unsettled).
//! - **Why the error rate holds over all the looks.** A false verdict of any of these kinds
//!   needs the interval read at some look to miss the true ratio. Each of the at most `m · K`
//!   intervals (`K` looks) misses with probability at most its `sₖ·0.05/m`: at a look, the runs
//!   read are the first `n` rounds of each series, `n` set by the look (a stopped series is simply
//!   not read again), and both intervals keep their level at any run counts. By the union bound
//!   (Bonferroni over looks and comparisons) the chance of any miss is at most
//!   `Σₖ m · sₖ · 0.05/m = 0.05`, whatever the correlation between looks: exactly valid, and
//!   conservative, since the looks at growing samples are strongly correlated.
//! - **Why so much at the first look.** With 3 rounds the interval has 2 degrees of freedom,
//!   where the t quantile grows as `1/√α`: in a family of nine it is 13.4 with all of `0.05/9`,
//!   15.4 with ¾ of it, and 37.9 with an even eighth, which would keep even a twofold change from
//!   settling at 3 runs. With 10 runs (9 degrees of freedom) the quantile moves little: 3.6 with
//!   all of it, 4.9 with 15%, 5.0 with an eighth, which is why the last look keeps 15% (a 1.2×
//!   change that `--runs 10` settles mostly settles by the last look too).
//! - **Simulated** (seeded, in the normal test suite, 4,000 families a case) with log-time noise
//!   taken from the committed reports: the standard deviation of `ln(build seconds)` of a
//!   series, median over each mode's 31 series, is 0.053 cold, 0.088 incremental and 0.142 warm
//!   (lower quartile cold 0.028), of which a round gives both series of a comparison alike 50%
//!   of the variance cold, 39% incremental and 10% warm (from the medians above). Under no
//!   difference, some false verdict came in 4.1% of report families of nine (3 variants × 3
//!   modes, each mode's noise; 4.2% with builds independent), 4.0% of families of one, none of
//!   9-series gate families (against a saved baseline of 10 runs too; 0.08% with one series at a
//!   true 1.10, the gate's threshold) and 2.0% of single gate comparisons at a true 1.10: the
//!   exact interval spends the 5% that Hsu's left unspent (0.15% of families of nine before
//!   rounds were paired). A twofold difference settled at 3 runs in 100% of single comparisons
//!   with cold noise, 99.7% with incremental noise and 78% with warm noise (a fixed `--runs 3`
//!   settles 86% there), and for all nine comparisons of a family in 99.5% of families at the
//!   quieter cold noise (84% were the builds independent) but only 39% at the median cold noise
//!   (88% of its comparisons); a fixed `--runs 3` reaches 26% there, so the limit is the 2
//!   degrees of freedom at 3 runs, not the looks. A 1.2× change with cold noise settled at 3
//!   runs in 74% of single comparisons (50% were the builds independent) and 14% of a family of
//!   nine's, and by 10 runs in 100% and 99.98% (a fixed `--runs 10`: 100% and 99.99%). Builds
//!   spent, against 10 for every series: 30% for a twofold change alone, 33% in a family of nine
//!   at cold noise, 40% for a 1.2× change alone (54% were the builds independent), and 53 to 63%
//!   when nothing changed. The 5% noise band is narrower than 3 to 10 runs usually show, so an
//!   unchanged comparison seldom settles as same; it is stopped instead once even 10 runs could
//!   not settle it (below). Under the gate against a saved baseline of 10 runs, 40% of nine
//!   unchanged cold series settle as clearly not a regression by 10 runs (a fixed `--runs 10`
//!   interval lies at or below 1.10 for 78%), and 99.5% at the quieter cold noise, with 81% of
//!   the builds.
//! - **Stopped when even `max_runs` could not settle it.** From 4 degrees of freedom on, a
//!   comparison whose last-look interval, projected to `max_runs` runs a side (its standard error
//!   shrinking as `√(n / max_runs)`) around the observed difference moved one standard error the
//!   helpful way, would still settle nothing, is stopped and left unsettled ("10 runs could not
//!   settle it"). A verdict never read cannot be false, so this leaves the error rate as it was;
//!   the one standard error of optimism keeps it from cutting short what more runs would likely
//!   settle. It is what brings an unchanged family's builds from 99-100% of `--runs 10`'s to
//!   about half. Under the gate, a comparison is stopped the same way once even `max_runs`
//!   could not make it a **regression** ("10 runs could not make it a regression"), though
//!   "clearly not one" might still come: the gate's answer for it, no regression, is then known,
//!   and that answer is all a nightly job needs. Against a saved baseline of 10 runs, one cold
//!   comparison under the default 10% threshold, an unchanged series then gets 42% of
//!   `--runs 10`'s builds (69% without this stop), and the regressions caught are the same with
//!   or without it. What `--runs auto` does lose against a fixed `--runs 10` is power, from
//!   spreading the 5% over the looks: a 1.15x slow-down is caught in 21% of runs (52% with
//!   `--runs 10`), 1.2x in 76% (97%), 1.3x in 100% (100%, with 38% of the builds); at quiet cold
//!   noise 1.15x in 73% (95%). A nightly gate that must catch slow-downs just above its
//!   threshold should keep a fixed `--runs 10`.
//! - The figures are printed by
//!   `cargo test --lib sequential::tests::figures -- --ignored --nocapture`, other designs (the
//!   first and last looks' shares, each reading with and without round effects) weighed by
//!   `sequential::tests::designs`, and what `--runs auto` would have built on the data of
//!   `--runs 10` folders by `stopping::retrospective` (see docs/statistics.md).
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

/// [`METHOD_NAME`] for a `--runs auto` run's comparisons, read round by round.
pub const SEQUENTIAL_PAIRED_METHOD_NAME: &str = "ratio of geometric means; t interval of the per-round differences of log time, rounds - 1 degrees of freedom; sequential looks, Bonferroni over looks and comparisons";

/// [`METHOD_NAME`] for a `--runs auto` run made before rounds were paired.
pub const SEQUENTIAL_METHOD_NAME: &str = "ratio of geometric means; t interval on log time with Welch's standard error and min(n1, n2) - 1 degrees of freedom; sequential looks, Bonferroni over looks and comparisons";

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

/// What precedes `contrast`'s adjusted p-value: [`adjustment_label`] for a fixed run's family,
/// "adjusted for 3 comparisons and the look's share" for one read at a sequential look (whose
/// level is not the family's fixed one); `None` when nothing is adjusted.
pub fn adjustment_label_of(contrast: &Contrast) -> Option<String> {
    let fixed = simultaneous_level(contrast.family_size);
    if (contrast.confidence - fixed).abs() < 1e-12 {
        return adjustment_label(contrast.family_size);
    }
    Some(match contrast.family_size {
        0 | 1 => "adjusted for the look's share of 5%".to_string(),
        m => format!("adjusted for {m} comparisons and the look's share of 5%"),
    })
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

/// How a sequential run's looks keep the family's error rate, in one sentence for reports:
/// `design`'s looks and their shares, in a family of `family_size`.
pub fn sequential_sentence(
    design: &super::sequential::Design,
    family_sizes: &[usize],
    paired_by_round: bool,
) -> String {
    let (first, last) = (design.min_runs(), design.max_runs());
    let smallest = family_sizes.iter().copied().min().unwrap_or(1).max(1);
    let largest = family_sizes.iter().copied().max().unwrap_or(1).max(1);
    // Each scenario on each host is a family of its own; when they differ in size, m is named
    // rather than given the largest one's value, which would misstate the smaller families.
    let per_comparison = if smallest != largest {
        "5%/m".to_string()
    } else if largest == 1 {
        "5%".to_string()
    } else {
        format!("5%/{largest}")
    };
    let shares = match design.looks() {
        1 => format!("one look, after {first} runs, at the level 1 − {per_comparison}"),
        looks => {
            let between = if looks > 2 {
                format!(", {} at each between", share_percent(design.error_share(2)))
            } else {
                String::new()
            };
            format!(
                "{looks} looks, after {first} to {last} runs, each at the level 1 − its share of {per_comparison} ({} at the first, {} at the last{between})",
                share_percent(design.error_share(1)),
                share_percent(design.error_share(looks)),
            )
        }
    };
    let reading = if paired_by_round {
        " Each comparison is read round by round: its interval is the t interval of the differences of log time between the two series' builds of the same round, so what a round does to both cancels."
    } else {
        ""
    };
    let m = if smallest == largest {
        String::new()
    } else {
        format!(
            " Each scenario on each host is a family of its own: m, its number of comparisons, is {smallest} to {largest} here."
        )
    };
    format!(
        "Runs stopped as verdicts settled: {shares}; the shares sum to 1, so all verdicts, at whichever look they were read, hold together with probability at least 95% (Bonferroni over looks and comparisons), and each is printed with the level of its look.{m} A comparison that even {last} runs could not settle is stopped unsettled, which no false verdict can come of.{reading}"
    )
}

/// How a `--runs auto` run's gate was read, for `compare`'s foot: the current side's series were
/// looked at after every round against the baseline's, per scenario and host.
pub fn sequential_gate_sentence(design: &super::sequential::Design) -> String {
    format!(
        "The current side ran with --runs auto: each series' interval against the baseline is the one read at the look that settled it (or at its last look), after {} to {} runs, as the run's gate read it; per scenario and host the m gated series are one family, each look spends its share of 5%/m ({} at the first, {} at the last), and as a regression or clearly not one can each be false through one end of its interval only, each end may miss with that share, so the interval printed is two-sided at twice it. All gate verdicts hold together with probability at least 95%.",
        design.min_runs(),
        design.max_runs(),
        share_percent(design.error_share(1)),
        share_percent(design.error_share(design.looks())),
    )
}

/// A share as a percentage with up to two decimals: "75%", "1.67%".
fn share_percent(share: f64) -> String {
    let text = format!("{:.2}", share * 100.0);
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text}%")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sequential_sentence_names_the_looks_and_their_shares() {
        let design = super::super::sequential::Design::default();
        assert_eq!(
            sequential_sentence(&design, &[9], false),
            "Runs stopped as verdicts settled: 8 looks, after 3 to 10 runs, each at the level 1 − its share of 5%/9 (75% at the first, 15% at the last, 1.67% at each between); the shares sum to 1, so all verdicts, at whichever look they were read, hold together with probability at least 95% (Bonferroni over looks and comparisons), and each is printed with the level of its look. A comparison that even 10 runs could not settle is stopped unsettled, which no false verdict can come of."
        );
        let single = super::super::sequential::Design::new(4, 4).unwrap();
        assert!(
            sequential_sentence(&single, &[1], false).starts_with(
                "Runs stopped as verdicts settled: one look, after 4 runs, at the level 1 − 5%;"
            ),
            "{}",
            sequential_sentence(&single, &[1], false)
        );
        let two = super::super::sequential::Design::new(3, 4).unwrap();
        assert!(
            sequential_sentence(&two, &[2], false).contains("(75% at the first, 25% at the last);"),
            "{}",
            sequential_sentence(&two, &[2], false)
        );
        // A folder of several scenarios whose families differ names m, not the largest.
        assert!(
            sequential_sentence(&design, &[3, 9, 3], false).contains(
                "each at the level 1 − its share of 5%/m (75% at the first, 15% at the last, 1.67% at each between); the shares sum to 1, so all verdicts, at whichever look they were read, hold together with probability at least 95% (Bonferroni over looks and comparisons), and each is printed with the level of its look. Each scenario on each host is a family of its own: m, its number of comparisons, is 3 to 9 here. A comparison"
            ),
            "{}",
            sequential_sentence(&design, &[3, 9, 3], false)
        );
        assert!(
            sequential_sentence(&design, &[9], true).ends_with(
                "Each comparison is read round by round: its interval is the t interval of the differences of log time between the two series' builds of the same round, so what a round does to both cancels."
            )
        );
    }

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
