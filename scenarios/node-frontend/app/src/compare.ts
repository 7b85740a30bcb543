// Comparing a variant with the baseline.
export interface Measurement {
  variant: string;
  buildSeconds: number;
  imageBytes: number;
}

export function speedup(baseline: Measurement, variant: Measurement): number {
  return baseline.buildSeconds / variant.buildSeconds;
}
