//! Number formatting shared by the text formats, so a median reads the same everywhere.

use crate::results::RunCost;
use crate::stats::method::{self, Family};
use crate::stats::{Comparison, Contrast, Interval, Outcome, SampleSummary};

/// Seconds with three significant digits (`0.045 s`, `3.79 s`, `14.3 s`, `812 s`).
pub fn seconds(value: f64) -> String {
    format!("{} s", significant(value))
}

/// A number with three significant digits, without an exponent.
pub fn significant(value: f64) -> String {
    let magnitude = value.abs();
    let decimals = if magnitude >= 100.0 {
        0
    } else if magnitude >= 10.0 {
        1
    } else if magnitude >= 1.0 {
        2
    } else if magnitude >= 0.1 {
        3
    } else if magnitude >= 0.01 {
        4
    } else {
        5
    };
    format!("{value:.decimals$}")
}

/// Image size in decimal units as `docker images` shows them, three significant digits
/// (`4.47 MB`, `612 MB`, `1.02 GB`).
pub fn bytes(value: u64) -> String {
    let megabytes = value as f64 / 1e6;
    if megabytes >= 1000.0 {
        format!("{} GB", significant(megabytes / 1000.0))
    } else {
        format!("{} MB", significant(megabytes))
    }
}

/// `14.1–14.6 s`, the 95% interval of a median.
pub fn seconds_interval(interval: &Interval) -> String {
    format!(
        "{}–{} s",
        significant(interval.low),
        significant(interval.high)
    )
}

/// A ratio such as `10.3×`.
pub fn ratio(value: f64) -> String {
    format!("{}×", significant(value))
}

/// The median of a sample with its interval; below 6 runs, where no interval of the median
/// covers 95%, the range of the runs, called what it is.
pub fn median_with_interval(summary: &SampleSummary) -> (String, String) {
    let spread = match (&summary.median_interval, summary.n) {
        (Some(interval), _) => format!("95% CI {}", seconds_interval(interval)),
        (None, 1) => "1 run".to_string(),
        (None, n) => format!(
            "range of {n} runs {}",
            seconds_interval(&Interval {
                low: summary.min,
                high: summary.max,
            })
        ),
    };
    (seconds(summary.median), spread)
}

/// "10.3× faster" / "1.09× slower" for a speed-up (baseline time / variant time).
pub fn speedup_phrase(speedup: f64) -> String {
    if speedup == 1.0 {
        "equally fast".to_string()
    } else if speedup > 1.0 {
        format!("{} faster", ratio(speedup))
    } else {
        format!("{} slower", ratio(1.0 / speedup))
    }
}

/// A contrast's interval, labelled with its level, in the direction [`speedup_phrase`] states
/// the speed-up: a slow-down interval is the reciprocal of the speed-up interval, so "1.15×
/// slower (95% CI 0.77×–1.55×)" reads as a range of slow-downs.
pub fn speedup_interval_phrase(contrast: &Contrast) -> String {
    let interval = contrast.speedup_interval();
    let (low, high) = if contrast.speedup() >= 1.0 {
        (interval.low, interval.high)
    } else {
        (1.0 / interval.high, 1.0 / interval.low)
    };
    format!(
        "{} {}–{}",
        method::interval_label(contrast),
        ratio(low),
        ratio(high)
    )
}

/// A fraction as people write a percentage: "5%", "12.5%", "0.25%".
pub fn percent(level: f64) -> String {
    let text = format!("{:.2}", level * 100.0);
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text}%")
}

/// How a comparison reads in a table cell, and whether it is a finding (faster or slower) or not
/// (same, inconclusive, too few runs), which reports set apart.
pub fn comparison_phrase(comparison: &Comparison) -> (String, bool) {
    let base = format!(
        "{} than {}",
        speedup_phrase(comparison.speedup()),
        comparison.baseline
    );
    match &comparison.contrast {
        Err(reason) => (format!("{base}: {}", reason.short()), false),
        Ok(contrast) => match contrast.outcome {
            Outcome::Faster | Outcome::Slower => (base, true),
            Outcome::Same => (
                format!("{base}: same within {}", percent(contrast.noise_threshold)),
                false,
            ),
            Outcome::Inconclusive => (format!("{base}: inconclusive"), false),
        },
    }
}

/// The contrast in words: "faster, p = 0.0002; Bonferroni-adjusted over 6 comparisons:
/// p = 0.0012".
pub fn outcome_phrase(contrast: &Contrast) -> String {
    let outcome = match contrast.outcome {
        Outcome::Faster | Outcome::Slower | Outcome::Inconclusive => {
            contrast.outcome.as_str().to_string()
        }
        Outcome::Same => format!("same within {}", percent(contrast.noise_threshold)),
    };
    let adjustment = method::adjustment_label_of(contrast)
        .map(|label| format!("; {label}: {}", p_value(contrast.adjusted_p_value)))
        .unwrap_or_default();
    format!("{outcome}, {}{adjustment}", p_value(contrast.p_value))
}

/// The method's paragraph (from [`method`]) for the foot of a table, for a family of
/// `family_size` contrasts with an interval.
pub fn method_note(noise_threshold: f64, family: Family, family_size: usize) -> String {
    method::method_paragraph(&percent(noise_threshold), family, family_size)
}

/// "p = 0.0123", or "p < 0.0001" where four decimals would print zero.
pub fn p_value(p: f64) -> String {
    if p < 0.0001 {
        "p < 0.0001".to_string()
    } else {
        format!("p = {p:.4}")
    }
}

/// "1.6× smaller" / "1.2× larger" for a size ratio (baseline bytes / variant bytes); a
/// difference that a ratio would print as "1.00×" reads as a percentage ("0.41% smaller").
pub fn size_phrase(size_ratio: f64) -> String {
    let variant_share = 1.0 / size_ratio;
    if (variant_share - 1.0).abs() < 0.005 {
        let text = significant((1.0 - variant_share).abs() * 100.0);
        return if variant_share <= 1.0 {
            format!("{text}% smaller")
        } else {
            format!("{text}% larger")
        };
    }
    if size_ratio >= 1.0 {
        format!("{} smaller", ratio(size_ratio))
    } else {
        format!("{} larger", ratio(1.0 / size_ratio))
    }
}

/// A wall time for people: "48.2 s", "19 min 46 s", "1 h 05 min".
pub fn duration(seconds: f64) -> String {
    if seconds < 60.0 {
        return format!("{} s", significant(seconds));
    }
    let whole = seconds.round() as u64;
    if whole < 3600 {
        format!("{} min {} s", whole / 60, whole % 60)
    } else {
        format!("{} h {:02} min", whole / 3600, (whole % 3600 + 30) / 60)
    }
}

/// Where a scenario's wall time went, in one sentence (see [`RunCost`]); parts that took no
/// time are left out.
pub fn cost_sentence(cost: &RunCost) -> String {
    let mut parts = vec![format!(
        "{} of measured builds",
        duration(cost.measured_build_seconds)
    )];
    if cost.prebuild_seconds > 0.0 {
        parts.push(format!("{} of prebuilds", duration(cost.prebuild_seconds)));
    }
    if cost.prune_seconds > 0.0 {
        parts.push(format!("{} of cache prunes", duration(cost.prune_seconds)));
    }
    if cost.ci_previous_job_seconds > 0.0 {
        parts.push(format!(
            "{} of CI previous jobs' builds",
            duration(cost.ci_previous_job_seconds)
        ));
    }
    if cost.registry_seconds > 0.0 {
        parts.push(format!(
            "{} of registry pushes and pulls",
            duration(cost.registry_seconds)
        ));
    }
    if cost.analysis_seconds > 0.0 {
        parts.push(format!(
            "{} of image analysis",
            duration(cost.analysis_seconds)
        ));
    }
    let mut sentence = format!(
        "{} of wall time for {}",
        duration(cost.wall_seconds),
        join_and(&parts)
    );
    match cost.priming_builds {
        0 => sentence.push_str(", with no priming builds"),
        n => sentence.push_str(&format!(
            ", plus {n} priming build{} ({})",
            if n == 1 { "" } else { "s" },
            duration(cost.priming_build_seconds)
        )),
    }
    match cost.discarded_cold_builds {
        0 => {}
        n => sentence.push_str(&format!(
            ", and {n} cold attempt{} served from build cache, thrown away ({})",
            if n == 1 { "" } else { "s" },
            duration(cost.discarded_cold_seconds)
        )),
    }
    if let Some(ratio) = cost.overhead_ratio() {
        // Name what the ratio divides by: the parts `overhead_ratio` counts, the ones that took
        // no time left out as in the list above.
        let mut counted = vec![
            "the builds".to_string(),
            "prebuilds".to_string(),
            "prunes".to_string(),
        ];
        if cost.ci_previous_job_seconds > 0.0 {
            counted.push("previous jobs".to_string());
        }
        if cost.registry_seconds > 0.0 {
            counted.push("registry transfers".to_string());
        }
        if cost.analysis_seconds > 0.0 {
            counted.push("analyses".to_string());
        }
        sentence.push_str(&format!(": {ratio:.2}× the time of {}", join_and(&counted)));
    }
    sentence
}

/// "a", "a and b", "a, b and c".
pub fn join_and(parts: &[String]) -> String {
    match parts {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_costs_read_as_people_say_them() {
        assert_eq!(duration(48.23), "48.2 s");
        assert_eq!(duration(1186.4), "19 min 46 s");
        assert_eq!(duration(3930.0), "1 h 06 min");
        let cost = RunCost {
            wall_seconds: 110.0,
            measured_build_seconds: 90.0,
            prebuild_seconds: 8.0,
            prune_seconds: 2.0,
            priming_build_seconds: 0.0,
            priming_builds: 0,
            analysis_seconds: 0.0,
            ..RunCost::default()
        };
        assert_eq!(
            cost_sentence(&cost),
            "1 min 50 s of wall time for 1 min 30 s of measured builds, 8.00 s of prebuilds and 2.00 s of cache prunes, with no priming builds: 1.10× the time of the builds, prebuilds and prunes"
        );
        let analysed = RunCost {
            wall_seconds: 115.0,
            analysis_seconds: 5.0,
            ..cost
        };
        assert_eq!(
            cost_sentence(&analysed),
            "1 min 55 s of wall time for 1 min 30 s of measured builds, 8.00 s of prebuilds, 2.00 s of cache prunes and 5.00 s of image analysis, with no priming builds: 1.10× the time of the builds, prebuilds, prunes and analyses"
        );
        let ci = RunCost {
            wall_seconds: 50.0,
            ci_previous_job_seconds: 1.25,
            registry_seconds: 0.5,
            ..analysed
        };
        assert_eq!(
            cost_sentence(&ci),
            "50.0 s of wall time for 1 min 30 s of measured builds, 8.00 s of prebuilds, 2.00 s of cache prunes, 1.25 s of CI previous jobs' builds, 0.500 s of registry pushes and pulls and 5.00 s of image analysis, with no priming builds: 0.47× the time of the builds, prebuilds, prunes, previous jobs, registry transfers and analyses"
        );
        let warm_only = RunCost {
            wall_seconds: 12.0,
            measured_build_seconds: 10.0,
            priming_build_seconds: 1.5,
            priming_builds: 2,
            ..RunCost::default()
        };
        assert_eq!(
            cost_sentence(&warm_only),
            "12.0 s of wall time for 10.0 s of measured builds, plus 2 priming builds (1.50 s): 1.20× the time of the builds, prebuilds and prunes"
        );
        let redone = RunCost {
            wall_seconds: 12.3,
            discarded_cold_builds: 1,
            discarded_cold_seconds: 0.25,
            ..warm_only
        };
        assert_eq!(
            cost_sentence(&redone),
            "12.3 s of wall time for 10.0 s of measured builds, plus 2 priming builds (1.50 s), and 1 cold attempt served from build cache, thrown away (0.250 s): 1.23× the time of the builds, prebuilds and prunes"
        );
    }

    #[test]
    fn three_significant_digits() {
        assert_eq!(seconds(0.04512), "0.0451 s");
        assert_eq!(seconds(3.786), "3.79 s");
        assert_eq!(seconds(14.31), "14.3 s");
        assert_eq!(seconds(812.4), "812 s");
        assert_eq!(bytes(4_472_832), "4.47 MB");
        assert_eq!(bytes(612_000_000), "612 MB");
        assert_eq!(bytes(1_020_000_000), "1.02 GB");
        assert_eq!(speedup_phrase(10.0), "10.0× faster");
        assert_eq!(speedup_phrase(0.5), "2.00× slower");
        assert_eq!(size_phrase(1.6), "1.60× smaller");
        assert_eq!(size_phrase(1000.0 / 996.0), "0.400% smaller");
        assert_eq!(size_phrase(1000.0 / 1003.0), "0.300% larger");
        assert_eq!(p_value(0.00001), "p < 0.0001");
        assert_eq!(p_value(0.5), "p = 0.5000");
    }

    #[test]
    fn fractions_read_as_percentages() {
        assert_eq!(percent(0.05), "5%");
        assert_eq!(percent(0.125), "12.5%");
        assert!(method_note(0.05, Family::Report, 2).contains("within 5% either way"));
    }

    fn contrast(time_ratio: f64, family_size: usize) -> Contrast {
        let family = vec![(&[1.0, 1.1, 0.9][..], &[1.0, 1.2, 0.8][..]); family_size];
        Contrast {
            time_ratio,
            interval: Interval {
                low: 0.8,
                high: 2.0,
            },
            ..crate::stats::contrast_family(&family, 0.05)[0]
                .clone()
                .unwrap()
        }
    }

    #[test]
    fn a_slow_down_interval_is_stated_as_slow_downs_with_its_level() {
        assert_eq!(
            speedup_interval_phrase(&contrast(1.25, 1)),
            "95% CI 0.800×–2.00×"
        );
        assert_eq!(
            speedup_interval_phrase(&contrast(0.9, 2)),
            "97.5% simultaneous CI 0.500×–1.25×"
        );
    }
}
