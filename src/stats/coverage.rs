//! Seeded simulation: every level the contrast prints is attained (see [`method`](super::method)).
//!
//! Log build times are drawn normal, the model the method's levels are stated for, with run
//! counts from 2 to 10 on each side, equal and unequal, and the current side's standard deviation
//! 1, 10 or 100 times the reference's. Each check allows for Monte-Carlo error: a proportion
//! estimated from `r` replicates has standard error `sqrt(p (1 - p) / r)` at its nominal `p`.

use super::contrast::{Contrast, NoContrast, Outcome, contrast_family};
use super::method::{FAMILY_ERROR_RATE, simultaneous_level};

/// One contrast's design: run counts, standard deviation of the log times and the true ratio of
/// geometric means.
#[derive(Debug, Clone, Copy)]
struct Design {
    reference_runs: usize,
    current_runs: usize,
    reference_sd: f64,
    current_sd: f64,
    true_ratio: f64,
}

/// Standard normal draws by Box–Muller from a seeded generator: the test needs nothing more, so
/// no distribution crate is added for it.
pub(super) fn standard_normal(rng: &mut fastrand::Rng) -> f64 {
    // 1 - f64() lies in (0, 1], so the logarithm is finite.
    let u = 1.0 - rng.f64();
    let v = rng.f64();
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

/// Build times whose logarithms are normal with mean `log_mean` and standard deviation `sd`.
pub(super) fn times(rng: &mut fastrand::Rng, runs: usize, log_mean: f64, sd: f64) -> Vec<f64> {
    (0..runs)
        .map(|_| (log_mean + sd * standard_normal(rng)).exp())
        .collect()
}

/// What `replicates` families of `designs` did: per contrast how often its interval held the true
/// ratio, how often all did at once, and how often any verdict was a false `faster`/`slower`.
struct Tally {
    replicates: usize,
    covered: Vec<usize>,
    all_covered: usize,
    any_false_direction: usize,
    level: f64,
}

fn simulate(designs: &[Design], replicates: usize, seed: u64) -> Tally {
    let mut rng = fastrand::Rng::with_seed(seed);
    // The reference's log mean is arbitrary (a 60-second build); only the ratio matters.
    let base = 60.0_f64.ln();
    let mut tally = Tally {
        replicates,
        covered: vec![0; designs.len()],
        all_covered: 0,
        any_false_direction: 0,
        level: simultaneous_level(designs.len()),
    };
    for _ in 0..replicates {
        let samples: Vec<(Vec<f64>, Vec<f64>)> = designs
            .iter()
            .map(|d| {
                (
                    times(&mut rng, d.reference_runs, base, d.reference_sd),
                    times(
                        &mut rng,
                        d.current_runs,
                        base + d.true_ratio.ln(),
                        d.current_sd,
                    ),
                )
            })
            .collect();
        let pairs: Vec<(&[f64], &[f64])> = samples
            .iter()
            .map(|(r, c)| (r.as_slice(), c.as_slice()))
            .collect();
        let contrasts: Vec<Result<Contrast, NoContrast>> = contrast_family(&pairs, 0.05);
        let mut all = true;
        let mut false_direction = false;
        for ((design, contrast), covered) in designs.iter().zip(&contrasts).zip(&mut tally.covered)
        {
            let contrast = contrast
                .as_ref()
                .expect("normal samples are never constant, and one side at most is made so");
            assert_eq!(contrast.confidence, tally.level);
            let holds = contrast.interval.low <= design.true_ratio
                && design.true_ratio <= contrast.interval.high;
            *covered += usize::from(holds);
            all &= holds;
            false_direction |= match contrast.outcome {
                Outcome::Faster => design.true_ratio >= 1.0,
                Outcome::Slower => design.true_ratio <= 1.0,
                Outcome::Same | Outcome::Inconclusive => false,
            };
        }
        tally.all_covered += usize::from(all);
        tally.any_false_direction += usize::from(false_direction);
    }
    tally
}

/// Monte-Carlo standard error of a proportion near `p` from `replicates` draws.
fn mc_error(p: f64, replicates: usize) -> f64 {
    (p * (1.0 - p) / replicates as f64).sqrt()
}

/// Per-interval checks allow 4 standard errors: there are a few hundred of them, and at 4 a
/// check whose true coverage is exactly nominal fails with probability 3e-5, so all pass unless
/// some interval really falls short (at 3, one of several hundred exact ones would fail about
/// half the time). Family checks, few, allow 3.
const PER_INTERVAL_ERRORS: f64 = 4.0;
const FAMILY_ERRORS: f64 = 3.0;

fn assert_each_interval_attains_its_level(tally: &Tally, designs: &[Design], what: &str) {
    let allowed = PER_INTERVAL_ERRORS * mc_error(tally.level, tally.replicates);
    for (design, covered) in designs.iter().zip(&tally.covered) {
        let coverage = *covered as f64 / tally.replicates as f64;
        assert!(
            coverage >= tally.level - allowed,
            "{what}: {design:?} covered {coverage:.4} against a printed {:.4} (Monte-Carlo allowance {allowed:.4}, {} replicates)",
            tally.level,
            tally.replicates
        );
    }
}

fn assert_the_family_holds(tally: &Tally, what: &str) {
    let nominal = 1.0 - FAMILY_ERROR_RATE;
    let allowed = FAMILY_ERRORS * mc_error(nominal, tally.replicates);
    let together = tally.all_covered as f64 / tally.replicates as f64;
    assert!(
        together >= nominal - allowed,
        "{what}: all intervals covered together {together:.4}, below 95% by more than the Monte-Carlo allowance {allowed:.4}"
    );
    // Under no effect this is the family-wise error of the verdicts; with effects, a verdict in
    // the wrong direction (or faster / slower where nothing changed) is one of its misses.
    let false_findings = tally.any_false_direction as f64 / tally.replicates as f64;
    assert!(
        false_findings <= FAMILY_ERROR_RATE + allowed,
        "{what}: some false faster or slower in {false_findings:.4} of families, above 5% by more than {allowed:.4}"
    );
}

/// Standard deviations of log time (0.05 is a 5% run-to-run noise): the current side 1, 10 or
/// 100 times the reference's, cycling with `index`.
fn spreads(index: usize) -> (f64, f64) {
    let reference_sd = 0.02;
    (reference_sd, reference_sd * [1.0, 10.0, 100.0][index % 3])
}

#[test]
fn a_single_interval_attains_95_percent_for_every_run_count_and_spread() {
    // 2 to 10 runs a side, every pair, each at three variance ratios: families of one.
    const REPLICATES: usize = 2000;
    for reference_runs in 2..=10 {
        for current_runs in 2..=10 {
            for ratio_index in 0..3 {
                let (reference_sd, current_sd) = spreads(ratio_index);
                let design = [Design {
                    reference_runs,
                    current_runs,
                    reference_sd,
                    current_sd,
                    true_ratio: 1.0,
                }];
                let seed = (reference_runs * 100 + current_runs * 10 + ratio_index) as u64;
                let tally = simulate(&design, REPLICATES, seed);
                assert_eq!(tally.level, 0.95);
                assert_each_interval_attains_its_level(&tally, &design, "family of one");
                assert_the_family_holds(&tally, "family of one");
            }
        }
    }
}

/// Nine families of nine contrasts, as a report of three variants in three cache modes: family
/// `i` holds every current run count from 2 to 10 against `i + 2` reference runs, so the nine
/// cover all 81 pairs of run counts, each at a variance ratio that cycles through 1, 10 and 100.
fn families_of_nine(true_ratio: impl Fn(usize) -> f64) -> Vec<Vec<Design>> {
    (0..9)
        .map(|i| {
            (0..9)
                .map(|j| {
                    let (reference_sd, current_sd) = spreads(i + j);
                    Design {
                        reference_runs: i + 2,
                        current_runs: j + 2,
                        reference_sd,
                        current_sd,
                        true_ratio: true_ratio(j),
                    }
                })
                .collect()
        })
        .collect()
}

#[test]
fn nine_simultaneous_intervals_attain_their_level_and_95_percent_together() {
    // 4000 replicates: at 99.44% the allowance is 0.47 points, below the 0.59 by which
    // Welch–Satterthwaite's degrees of freedom fall short with 3 runs against 3 and one side ten
    // times noisier.
    const REPLICATES: usize = 4000;
    // Null: nothing changed. Mixed: some contrasts twice as slow, some 3% faster (inside the
    // noise band), some 1.5× faster, the rest unchanged.
    let mixed = |j: usize| [1.0, 2.0, 1.0 / 1.03, 1.0, 1.0 / 1.5, 2.0, 1.0, 1.03, 1.0][j];
    for (seed, what, families) in [
        (9_000, "null family of nine", families_of_nine(|_| 1.0)),
        (9_100, "mixed family of nine", families_of_nine(mixed)),
    ] {
        for (index, designs) in families.iter().enumerate() {
            let tally = simulate(designs, REPLICATES, seed + index as u64);
            assert_eq!(super::method::level_percent(tally.level), "99.44%");
            assert_each_interval_attains_its_level(&tally, designs, what);
            assert_the_family_holds(&tally, what);
        }
    }
}

#[test]
fn a_constant_side_given_the_other_side_s_variance_keeps_the_level_when_it_is_no_noisier() {
    // The reference's runs all take exactly 60 s (no noise at all, the treatment's assumption
    // at its limit); the current side has 5% noise. Every pair of run counts, families of one.
    const REPLICATES: usize = 1000;
    for reference_runs in 2..=10 {
        for current_runs in 2..=10 {
            let design = [Design {
                reference_runs,
                current_runs,
                reference_sd: 0.0,
                current_sd: 0.05,
                true_ratio: 1.0,
            }];
            let seed = (20_000 + reference_runs * 10 + current_runs) as u64;
            let tally = simulate(&design, REPLICATES, seed);
            assert_each_interval_attains_its_level(&tally, &design, "constant reference");
            assert_the_family_holds(&tally, "constant reference");
        }
    }
}
